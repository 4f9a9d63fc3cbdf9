"""Tests for the export shapes warehouses send, each imported with `ghl-fulfill import --dry-run`.

Each file in tests/data/exports/ goes through the real command, in-process and
without a token, so nothing is sent. The tests then read the results workbook:
the orders found, each row's status, the problems of damaged cells, the reasons
of ignored rows and the notes on the Summary sheet. make_fixtures.py in that
folder writes the workbooks and the text files whose encoding matters.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from importer.cli import main

EXPORTS = Path(__file__).parent / "data" / "exports"
TIMES = "\N{MULTIPLICATION SIGN}"
READY = "ready"
REJECTED = "rejected"
IGNORED = "ignored"


@dataclass(frozen=True)
class Results:
    """What one dry run returned and wrote into its results workbook."""

    exit_code: int
    summary: list[tuple[str, object]]  # (Field, Value) pairs of the Summary sheet, in order
    orders: dict[str, dict[str, object]]  # Orders sheet rows by order ID, in sheet order
    rows: dict[int, dict[str, object]]  # Rows sheet rows by input row number
    row_headers: tuple[str, ...]  # the Rows sheet's header: Row, Order Status, Problems, ...

    @property
    def notes(self) -> list[object]:
        return [value for label, value in self.summary if label == "Note"]

    def summary_value(self, label: str) -> object:
        return next(value for field, value in self.summary if field == label)

    def statuses(self) -> dict[str, object]:
        return {order_id: order["Status"] for order_id, order in self.orders.items()}

    def problems(self, row: int) -> str:
        return str(self.rows[row]["Problems"] or "")


ImportExport = Callable[[str], Results]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> ImportExport:
    """Return a function that imports an export once and gives every later test the same results."""
    folder = tmp_path_factory.mktemp("export_results")
    runs: dict[str, Results] = {}

    def run(name: str) -> Results:
        if name not in runs:
            runs[name] = dry_run(EXPORTS / name, folder)
        return runs[name]

    return run


def dry_run(path: Path, folder: Path) -> Results:
    """Run `ghl-fulfill import PATH --dry-run --results ...` and read the workbook it writes."""
    results_path = folder / f"{path.name}.results.xlsx"
    with isolated(folder):
        exit_code = main(["import", str(path), "--dry-run", "--results", str(results_path)])
    return read_results(exit_code, results_path)


@contextlib.contextmanager
def isolated(folder: Path) -> Iterator[None]:
    """Run without the developer's GHL_* variables or ghl-fulfill.toml, and undo main's logging.

    main adds its log handlers to the root logger on every call, so they are
    removed again after each run.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("GHL_TOKEN", "GHL_LOCATION_ID", "GHL_BASE_URL"):
            patch.delenv(variable, raising=False)
        patch.chdir(folder)
        try:
            yield
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)


def read_results(exit_code: int, path: Path) -> Results:
    workbook = openpyxl.load_workbook(path)
    try:
        # Column A contains the label and column B the value. The Summary's tables add columns.
        summary = [(str(row[0]), row[1]) for row in _data_rows(workbook["Summary"])]
        orders = {str(row["Order ID"]): row for row in _records(workbook["Orders"])}
        row_headers = tuple(str(cell.value) for cell in workbook["Rows"][1])
        rows = {int(str(row["Row"])): row for row in _records(workbook["Rows"])}
    finally:
        workbook.close()
    return Results(exit_code, summary, orders, rows, row_headers)


def _data_rows(sheet: Worksheet) -> Iterator[tuple[object, ...]]:
    yield from sheet.iter_rows(min_row=2, values_only=True)


def _records(sheet: Worksheet) -> list[dict[str, object]]:
    headers = [str(cell.value) for cell in sheet[1]]
    return [dict(zip(headers, values, strict=True)) for values in _data_rows(sheet)]


# --- the fixtures themselves ---------------------------------------------------------


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_fixtures", EXPORTS / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zip_members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def test_fixtures_match_generator(tmp_path: Path) -> None:
    """The committed binary fixtures are what make_fixtures.py writes today."""
    written = load_generator().write_fixtures(tmp_path)

    for fresh in written:
        committed = EXPORTS / fresh.name
        if zipfile.is_zipfile(fresh):
            # Deflate output depends on the zlib build, so the members are compared.
            assert zip_members(committed) == zip_members(fresh), fresh.name
        else:
            assert committed.read_bytes() == fresh.read_bytes(), fresh.name


# --- text encodings and delimiters -------------------------------------------------------

SEMICOLON_ORDERS = {
    "67504747652274a1e5395a8c": READY,
    "6750e3be0895d1ca59f34cac": READY,
    "67505658cd749e17a32a6a3a": READY,
}


def test_semicolon_cp1252_csv_read(imported: ImportExport) -> None:
    """A semicolon CSV in Windows-1252 gives every order, ready."""
    results = imported("semicolon_cp1252.csv")

    assert results.exit_code == 0
    assert results.statuses() == SEMICOLON_ORDERS


def test_semicolon_cp1252_names_decoded(imported: ImportExport) -> None:
    """Accented letters and the en dash of Windows-1252 reach the Rows sheet intact."""
    results = imported("semicolon_cp1252.csv")

    assert results.rows[2]["Ship To"] == "Zoë Brontë"
    assert results.rows[3]["City"] == "Málaga"
    assert results.rows[4]["Ship To"] == "François Lefèvre \N{EN DASH} Atelier"


def test_semicolon_cp1252_notes(imported: ImportExport) -> None:
    """The Summary notes that the file was read as Windows-1252 with semicolons."""
    notes = imported("semicolon_cp1252.csv").notes

    assert "columns are separated by semicolons" in notes
    assert any(str(note).startswith("read as Windows-1252") for note in notes)


def test_utf16_text_read(imported: ImportExport) -> None:
    """Excel's Unicode text (UTF-16 LE, BOM, tabs) gives every order, ready."""
    results = imported("unicode_text_utf16.txt")

    assert results.exit_code == 0
    assert results.statuses() == {
        "6750f3e78e6e783563f06d22": READY,
        "6750aaffa4573292f91eef1d": READY,
    }
    assert results.orders["6750aaffa4573292f91eef1d"]["Tracking Numbers"] == (
        "9400111899223197428497"
    )


def test_utf16_text_names_decoded(imported: ImportExport) -> None:
    """Letters outside Windows-1252 survive the UTF-16 file."""
    results = imported("unicode_text_utf16.txt")

    assert results.rows[2]["Ship To"] == "Łucja Wróbel"
    assert results.rows[3]["Ship To"] == "山田 太郎"


def test_utf16_text_notes(imported: ImportExport) -> None:
    """The Summary notes that the file was read as UTF-16 with tabs."""
    notes = imported("unicode_text_utf16.txt").notes

    assert "read as UTF-16 text" in notes
    assert "columns are separated by tabs" in notes


def test_bom_pipe_csv_read(imported: ImportExport) -> None:
    """A UTF-8 file with a BOM and pipes gives every order, ready, with the carrier named."""
    results = imported("bom_pipe.csv")

    assert results.exit_code == 0
    assert results.statuses() == {
        "67506d77cb7a4b927b18099b": READY,
        "6750c488f126d3aa8fc8dece": READY,
    }
    assert results.orders["67506d77cb7a4b927b18099b"]["Carriers"] == "UPS"


def test_bom_pipe_header_clean(imported: ImportExport) -> None:
    """The byte order mark is not part of the first header shown on the Rows sheet."""
    results = imported("bom_pipe.csv")

    assert results.row_headers[3] == "Order ID"


def test_bom_pipe_notes(imported: ImportExport) -> None:
    """The Summary notes that the columns are separated by pipes."""
    notes = imported("bom_pipe.csv").notes

    assert notes == ["columns are separated by pipes"]


def test_tsv_xls_read(imported: ImportExport) -> None:
    """Tab-separated text saved with an .xls name is read as text, every order ready."""
    results = imported("tab_text.xls")

    assert results.exit_code == 0
    assert results.statuses() == {
        "6750030b99012e4c792c16e3": READY,
        "67505d626ddaf722f10c069f": READY,
    }
    assert results.orders["67505d626ddaf722f10c069f"]["Tracking Numbers"] == "020194857213301"


def test_tsv_xls_notes(imported: ImportExport) -> None:
    """The Summary notes that the .xls file contains text and how its columns are separated."""
    notes = imported("tab_text.xls").notes

    assert (
        'read as CSV text because that is what the file contains, despite its name "tab_text.xls"'
        in notes
    )
    assert "columns are separated by tabs" in notes


def test_html_xls_read(imported: ImportExport) -> None:
    """An HTML table saved as .xls gives every order of its first table, ready."""
    results = imported("portal_html.xls")

    assert results.exit_code == 0
    assert results.statuses() == {
        "67501d95a4b0775deb82404f": READY,
        "6750fd0be2c528638393a931": READY,
    }
    assert results.orders["6750fd0be2c528638393a931"]["Carriers"] == "USPS"


def test_html_xls_cells_as_shown(imported: ImportExport) -> None:
    """A <br> becomes a line break and &amp; an ampersand, as a browser shows them."""
    results = imported("portal_html.xls")

    assert results.rows[3]["Carrier"] == "UPS\nGround"
    assert results.rows[4]["Carrier"] == "USPS Priority Mail & Insurance"


def test_html_xls_title_ignored(imported: ImportExport) -> None:
    """The title row above the header is ignored with its reason, noted on the Summary."""
    results = imported("portal_html.xls")

    assert results.rows[1]["Order Status"] == IGNORED
    assert results.problems(1) == "Above the header row"
    assert results.notes == [
        'read as the first table of a web page (HTML) in "portal_html.xls"',
        "1 row above the header row skipped (the header is on row 2)",
    ]


# --- rows that hold no shipment -------------------------------------------------------


def test_banner_rows_csv_read(imported: ImportExport) -> None:
    """Orders below two title rows are found, numbered from the header on row 3."""
    results = imported("banner_rows.csv")

    assert results.exit_code == 0
    assert results.statuses() == {
        "6750fbccfe78db0dd922e863": READY,
        "6750a072bfcc6ce7fbbd5273": READY,
    }
    assert results.orders["6750fbccfe78db0dd922e863"]["Input Rows"] == "4"


def test_banner_rows_ignored(imported: ImportExport) -> None:
    """Both title rows are ignored as above the header, and the Summary counts them."""
    results = imported("banner_rows.csv")

    assert results.rows[1]["Order Status"] == IGNORED
    assert results.rows[2]["Order Status"] == IGNORED
    assert results.problems(1) == "Above the header row"
    assert results.problems(2) == "Above the header row"
    assert "2 rows above the header row skipped (the header is on row 3)" in results.notes


def test_concatenated_csv_read(imported: ImportExport) -> None:
    """Two exports pasted together give the orders of both, each once."""
    results = imported("concatenated.csv")

    assert results.exit_code == 0
    assert results.statuses() == {
        "6750656f0f1ad35a70653c83": READY,
        "6750ef7a3eb051cd058a654d": READY,
        "6750812b1131cbfad1959a53": READY,
        "675057de84426de6f1cc81e4": READY,
    }


def test_repeated_header_ignored(imported: ImportExport) -> None:
    """The header repeated in the middle is ignored with its reason, not rejected."""
    results = imported("concatenated.csv")

    assert results.rows[4]["Order Status"] == IGNORED
    assert results.problems(4) == "Repeats the header row"
    assert "1 repeated header row skipped" in results.notes


def test_repeated_row_counted_once(imported: ImportExport) -> None:
    """A row present in both pasted exports is fulfilled once, with a warning."""
    results = imported("concatenated.csv")

    assert results.orders["6750ef7a3eb051cd058a654d"]["Items"] == f"HOODIE-GRY-L {TIMES} 1"
    assert results.problems(6) == "Warning: this row repeats row 3 exactly, so it was counted once"


def test_totals_row_csv_read(imported: ImportExport) -> None:
    """The orders above a totals row are found and none is rejected."""
    results = imported("totals_row.csv")

    assert results.exit_code == 0
    assert results.statuses() == {
        "6750129f56e3413d1c9341d6": READY,
        "67501571ca31c5200541fca4": READY,
        "675046bcb7620dfc799456b9": READY,
    }
    assert results.summary_value("Orders rejected") == 0


def test_totals_row_ignored(imported: ImportExport) -> None:
    """The totals row at the bottom is ignored with its reason, noted on the Summary."""
    results = imported("totals_row.csv")

    assert results.rows[5]["Order Status"] == IGNORED
    assert results.problems(5) == "Totals row"
    assert "1 totals row skipped" in results.notes


def test_blank_rows_csv_read(imported: ImportExport) -> None:
    """Orders between blank rows are found with their own row numbers."""
    results = imported("blank_rows.csv")

    assert results.exit_code == 0
    assert results.statuses() == {
        "6750327e713699d894ef5600": READY,
        "675044ed7ea44caf0991af67": READY,
        "67503f821f9f9abce21e7260": READY,
    }
    assert results.orders["67503f821f9f9abce21e7260"]["Input Rows"] == "6"


def test_blank_rows_ignored(imported: ImportExport) -> None:
    """Empty lines and lines of bare commas are ignored as blank rows and counted."""
    results = imported("blank_rows.csv")

    blank = [number for number, row in results.rows.items() if row["Order Status"] == IGNORED]
    assert blank == [3, 5, 7, 8]
    assert {results.problems(number) for number in blank} == {"Blank row"}
    assert "4 blank rows skipped" in results.notes


def test_trailing_empty_columns_dropped(imported: ImportExport) -> None:
    """Empty columns after the last header add no "Column F" to the Rows sheet."""
    results = imported("blank_rows.csv")

    assert results.row_headers == (
        "Row",
        "Order Status",
        "Problems",
        "Order ID",
        "Tracking Number",
        "Carrier",
        "SKU",
        "Qty",
    )


def test_quoted_cells_csv_read(imported: ImportExport) -> None:
    """Quoted cells with line breaks and commas keep each order on one row."""
    results = imported("quoted_cells.csv")

    assert results.exit_code == 0
    assert results.statuses() == {
        "6750328c5fc273853c40f834": READY,
        "6750c15554719596e1085ed7": READY,
    }
    assert results.orders["6750c15554719596e1085ed7"]["Input Rows"] == "3"


def test_quoted_cells_kept_whole(imported: ImportExport) -> None:
    """Line breaks, commas and doubled quotes inside quotes stay in their cell."""
    results = imported("quoted_cells.csv")

    assert results.rows[2]["Ship To"] == "12 Harbour Street\nUnit 4, Halifax"
    assert results.rows[2]["Gift Message"] == 'Happy birthday, Sam!\nLove, "Grandma"'
    assert results.rows[3]["Ship To"] == "88 Rue Principale, Québec"


def test_quoted_carrier_with_comma_named(imported: ImportExport) -> None:
    """A quoted service name with a comma in it still names its carrier."""
    results = imported("quoted_cells.csv")

    assert results.rows[2]["Carrier"] == "UPS Ground, Saturday Delivery"
    assert results.orders["6750328c5fc273853c40f834"]["Carriers"] == "UPS"


# --- cells a spreadsheet damaged ---------------------------------------------------------


def test_damaged_tracking_csv_read(imported: ImportExport) -> None:
    """Only the tracking numbers that lost digits reject their orders."""
    results = imported("damaged_tracking.csv")

    assert results.exit_code == 1
    assert results.statuses() == {
        "67502f01987ca126c4a3f09d": REJECTED,
        "675020391bbd6f5fafd29b6f": READY,
        "67505437c2a9a57c3aa1db21": REJECTED,
        "6750561aa331055a743c8df1": READY,
        "6750ac4e64f01487226e72dc": READY,
    }


def test_scientific_tracking_rejected(imported: ImportExport) -> None:
    """4.00123E+11 cannot be repaired, so its row names the column and the fix."""
    problems = imported("damaged_tracking.csv").problems(2)

    assert problems.startswith('Column "Tracking Number": ')
    assert "'4.00123E+11' lost its digits when a spreadsheet showed it as a number" in problems
    assert "re-export the file with this column formatted as text" in problems


def test_float_suffix_tracking_repaired(imported: ImportExport) -> None:
    """40012345671.0 is sent as 40012345671, with a warning on its row."""
    results = imported("damaged_tracking.csv")

    assert results.orders["675020391bbd6f5fafd29b6f"]["Tracking Numbers"] == "40012345671"
    assert results.problems(3) == (
        "Warning: Column \"Tracking Number\": '40012345671.0' was read as 40012345671: "
        "a spreadsheet had added '.0' to it"
    )


def test_lost_zeros_tracking_rejected(imported: ImportExport) -> None:
    """A Canada Post number without its leading zeros is rejected with the likely number."""
    problems = imported("damaged_tracking.csv").problems(4)

    assert "'73245199861209' looks like a Canada Post number that lost its leading zeros" in (
        problems
    )
    assert "(probably 0073245199861209)" in problems


def test_smart_quotes_tracking_repaired(imported: ImportExport) -> None:
    """Curly quotes around a tracking number are removed, with a warning that shows them."""
    results = imported("damaged_tracking.csv")

    assert results.orders["6750561aa331055a743c8df1"]["Tracking Numbers"] == "1Z4F29E80398127552"
    assert results.problems(5).startswith("Warning: ")
    assert "without its quote marks (\N{LEFT DOUBLE QUOTATION MARK} " in results.problems(5)


def test_nbsp_tracking_cleaned(imported: ImportExport) -> None:
    """A non-breaking space after a tracking number is dropped without a problem."""
    results = imported("damaged_tracking.csv")

    assert results.rows[6]["Tracking Number"] == "1Z4F29E80345671232\N{NO-BREAK SPACE}"
    assert results.orders["6750ac4e64f01487226e72dc"]["Tracking Numbers"] == "1Z4F29E80345671232"
    assert results.problems(6) == ""


@pytest.mark.parametrize(
    ("order_id", "qty"),
    [
        ("67507b917c7828131635c751", 1),  # "1"
        ("6750d6c9c2af4f71fc7865ec", 1),  # "1.0"
        ("6750b34867db276aa63565bf", 2),  # " 2 "
    ],
)
def test_whole_quantity_accepted(imported: ImportExport, order_id: str, qty: int) -> None:
    """A whole number, with ".0" or spaces around it, is the item's quantity."""
    order = imported("quantities.csv").orders[order_id]

    assert order["Status"] == READY
    assert order["Items"] == f"TEE-BLK-M {TIMES} {qty}"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (5, "Column \"Qty\": '1.5' is not a whole number of items"),
        (6, 'Column "Qty": the quantity must be at least 1, not -1'),
        (7, "Column \"Qty\": 'two' is not a whole number of items"),
    ],
)
def test_bad_quantity_rejected(imported: ImportExport, row: int, message: str) -> None:
    """A fraction, a negative number or a word rejects the order and names the cell."""
    results = imported("quantities.csv")

    assert results.rows[row]["Order Status"] == REJECTED
    assert results.problems(row) == message


def test_quantities_csv_exit_code(imported: ImportExport) -> None:
    """Rejected orders make the command exit with 1."""
    assert imported("quantities.csv").exit_code == 1


# --- workbooks -------------------------------------------------------------------------


def test_second_sheet_xlsx_read(imported: ImportExport) -> None:
    """The data sheet after a Notes sheet is the one imported."""
    results = imported("notes_sheet_first.xlsx")

    assert results.exit_code == 0
    assert results.statuses() == {
        "6750d42030bf835deac7b543": READY,
        "675033aecff694abbb01b563": READY,
    }
    assert results.summary_value("Sheet") == "Shipments"


def test_second_sheet_noted(imported: ImportExport) -> None:
    """The Summary names the sheet read and the Notes sheet that was not."""
    notes = imported("notes_sheet_first.xlsx").notes

    assert notes == ['sheet "Shipments" was read; the workbook also has "Notes"']


def test_banner_xlsx_read(imported: ImportExport) -> None:
    """Orders below a merged title row are found, numbered as Excel shows them."""
    results = imported("banner_row.xlsx")

    assert results.exit_code == 0
    assert results.statuses() == {
        "67505d426997c2595e912211": READY,
        "67506a44b78c08854a846842": READY,
    }
    assert results.orders["67505d426997c2595e912211"]["Input Rows"] == "3"


def test_banner_xlsx_row_ignored(imported: ImportExport) -> None:
    """The title row is ignored as above the header, noted on the Summary."""
    results = imported("banner_row.xlsx")

    assert results.rows[1]["Order Status"] == IGNORED
    assert results.problems(1) == "Above the header row"
    assert results.notes == ["1 row above the header row skipped (the header is on row 2)"]


MERGED_ORDER = "6750674c980fca8dee1dcce8"


def test_merged_order_xlsx_read(imported: ImportExport) -> None:
    """An order ID merged over three item rows gives one order of three items."""
    results = imported("merged_order_id.xlsx")

    assert results.exit_code == 0
    assert results.statuses() == {MERGED_ORDER: READY, "675041f4a5b5ad3cf5360ba9": READY}
    assert results.orders[MERGED_ORDER]["Items"] == (
        f"TEE-BLK-M {TIMES} 1\nTEE-BLK-L {TIMES} 1\nCAP-OLV {TIMES} 2"
    )
    assert results.orders[MERGED_ORDER]["Input Rows"] == "2-4"
    assert results.orders[MERGED_ORDER]["Tracking Numbers"] == "1Z6Y84X10355021478"


def test_merged_order_rows_filled(imported: ImportExport) -> None:
    """Each row under the merged cells shows the order ID and tracking number."""
    rows = imported("merged_order_id.xlsx").rows

    assert [rows[number]["Order ID"] for number in (2, 3, 4)] == [MERGED_ORDER] * 3
    assert rows[4]["Tracking Number"] == "1Z6Y84X10355021478"
    assert rows[4]["Order Status"] == READY


def test_numeric_tracking_xlsx_read(imported: ImportExport) -> None:
    """Number cells of 15 digits or fewer are imported, and damaged ones reject their order."""
    results = imported("numeric_tracking.xlsx")

    assert results.exit_code == 1
    assert list(results.orders) == [
        "67502dee64544f9664a371e5",
        "6750048e7d8f4f53f0b0d74b",
        "675087c3b5ce2126e3ca3947",
        "6750c17988120875edcb0c45",
        "675059047709f1a4422a9bfd",
    ]
    assert results.orders["67502dee64544f9664a371e5"]["Status"] == READY
    assert results.orders["6750048e7d8f4f53f0b0d74b"]["Status"] == READY
    assert results.orders["675087c3b5ce2126e3ca3947"]["Status"] == REJECTED
    assert results.orders["6750c17988120875edcb0c45"]["Status"] == REJECTED
    # Row 6 holds Canada Post 7324519986120917 as Excel stores it once typed,
    # 7324519986120910, because Excel keeps 15 significant digits.
    assert results.orders["675059047709f1a4422a9bfd"]["Status"] == REJECTED


def test_numeric_tracking_digits_kept(imported: ImportExport) -> None:
    """A 12- and a 15-digit number cell are sent with all their digits, without ".0"."""
    orders = imported("numeric_tracking.xlsx").orders

    assert orders["67502dee64544f9664a371e5"]["Tracking Numbers"] == "794612345670"
    assert orders["6750048e7d8f4f53f0b0d74b"]["Tracking Numbers"] == "612903147255182"


def test_numeric_tracking_rounded_rejected(imported: ImportExport) -> None:
    """A 22-digit USPS number that Excel rounded is rejected as having lost digits."""
    problems = imported("numeric_tracking.xlsx").problems(4)

    assert "lost its digits when a spreadsheet showed it as a number" in problems


def test_numeric_tracking_lost_zeros_rejected(imported: ImportExport) -> None:
    """A Canada Post number cell without its leading zeros is rejected with the likely number."""
    problems = imported("numeric_tracking.xlsx").problems(5)

    assert "looks like a Canada Post number that lost its leading zeros" in problems
    assert "(probably 0073245199861209)" in problems


def test_ods_read(imported: ImportExport) -> None:
    """An OpenDocument sheet gives every order, ready, with its sheet named."""
    results = imported("shipments.ods")

    assert results.exit_code == 0
    assert results.statuses() == {
        "6750c3698e3feb947e0fa5f9": READY,
        "6750b3e236a3305ae95cdff4": READY,
    }
    assert results.summary_value("Sheet") == "Shipments"


def test_ods_merged_order_filled(imported: ImportExport) -> None:
    """An order ID spanning two rows of an ODS sheet groups both items under it."""
    results = imported("shipments.ods")

    assert results.rows[3]["Order ID"] == "6750c3698e3feb947e0fa5f9"
    assert results.orders["6750c3698e3feb947e0fa5f9"]["Items"] == (
        f"FLEECE-GRN-M {TIMES} 1\nCAP-OLV {TIMES} 1"
    )


def test_ods_float_tracking_digits(imported: ImportExport) -> None:
    """A tracking number stored as an ODS float keeps its digits."""
    results = imported("shipments.ods")

    assert results.orders["6750b3e236a3305ae95cdff4"]["Tracking Numbers"] == "482077351906"
