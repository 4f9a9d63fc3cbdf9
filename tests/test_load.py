"""Tests for importer.load: reading CSV and Excel files into tables of text."""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from importer.errors import InputFileError, UsageError
from importer.load import HeaderScore, IgnoredRow, LoadOptions, SourceRow, Table, load_table
from importer.mapping import header_score, load_templates

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DATA = Path(__file__).parent / "data" / "load"


def write_bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def write_workbook(folder: Path, name: str, sheets: dict[str, list[list[object]]]) -> Path:
    """Save a workbook with one sheet per entry; each row list is appended in order."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(row)
    path = folder / name
    workbook.save(path)
    return path


def load_error(
    path: Path,
    options: LoadOptions | None = None,
    *,
    header_score: HeaderScore | None = None,
) -> InputFileError:
    with pytest.raises(InputFileError) as caught:
        load_table(path, options or LoadOptions(), header_score=header_score)
    return caught.value


def load_score() -> HeaderScore:
    """Rate header rows with the real column templates, as the pipeline does."""
    templates = load_templates()
    return lambda cells: header_score(cells, templates)


# --- CSV -----------------------------------------------------------------------


def test_csv_utf8_headers_and_rows(tmp_path: Path) -> None:
    """A plain UTF-8 CSV gives stripped headers and the data rows numbered from 2."""
    path = write_bytes(tmp_path, "orders.csv", b" Order ID ,Tracking\r\nA1,1Z999\r\nA2,1Z998\r\n")

    table = load_table(path)

    assert table.headers == ("Order ID", "Tracking")
    assert table.header_row == 1
    assert table.rows == (SourceRow(2, ("A1", "1Z999")), SourceRow(3, ("A2", "1Z998")))
    assert table.ignored == ()
    assert table.sheet is None
    assert table.notes == ()
    assert table.path == path


def test_csv_cells_kept_unstripped(tmp_path: Path) -> None:
    """CSV cells keep their surrounding spaces; a later stage trims them."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,Tracking\n A1 ,  1Z999\n")

    table = load_table(path)

    assert table.rows[0].cells == (" A1 ", "  1Z999")


def test_csv_utf8_bom_removed(tmp_path: Path) -> None:
    """A UTF-8 byte order mark does not end up in the first header."""
    path = write_bytes(tmp_path, "orders.csv", "Order ID,Name\nA1,Zoë\n".encode("utf-8-sig"))

    table = load_table(path)

    assert table.headers == ("Order ID", "Name")
    assert table.rows[0].cells == ("A1", "Zoë")
    assert table.notes == ()


def test_csv_windows_1252_fallback(tmp_path: Path) -> None:
    """A file that is not UTF-8 is read as Windows-1252 with a note naming the line."""
    data = "Order ID,Name\nA1,Café\n".encode("cp1252")
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path)

    assert table.rows[0].cells == ("A1", "Café")
    assert len(table.notes) == 1
    assert "Windows-1252" in table.notes[0]
    assert "line 2" in table.notes[0]


def test_csv_undecodable_bytes_rejected(tmp_path: Path) -> None:
    """Bytes that are neither UTF-8 nor Windows-1252 stop the file with the line number."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,Name\nA1,\x81\x8d\n")

    error = load_error(path)

    assert str(error).startswith(f"{path}: ")
    assert "neither UTF-8 nor Windows-1252" in str(error)
    assert "line 2" in str(error)
    assert isinstance(error.__cause__, UnicodeDecodeError)


def test_csv_utf16_tab_text(tmp_path: Path) -> None:
    """Excel's "Unicode Text" export (UTF-16 with BOM, tab-separated) is read."""
    data = "Order ID\tTracking\r\nA1\t1Z999\r\n".encode("utf-16")
    path = write_bytes(tmp_path, "orders.txt", data)

    table = load_table(path)

    assert table.headers == ("Order ID", "Tracking")
    assert table.rows[0].cells == ("A1", "1Z999")
    assert "read as UTF-16 text" in table.notes


@pytest.mark.parametrize(
    ("delimiter", "name"),
    [(";", "semicolons"), ("\t", "tabs"), ("|", "pipes")],
)
def test_csv_delimiter_detected(tmp_path: Path, delimiter: str, name: str) -> None:
    """Semicolon, tab and pipe separators are found from the header line."""
    text = delimiter.join(["Order ID", "Tracking", "Note"]) + "\n"
    text += delimiter.join(["A1", "1Z999", "a, b"]) + "\n"
    path = write_bytes(tmp_path, "orders.csv", text.encode())

    table = load_table(path)

    assert table.headers == ("Order ID", "Tracking", "Note")
    assert table.rows[0].cells == ("A1", "1Z999", "a, b")
    assert f"columns are separated by {name}" in table.notes


def test_csv_delimiter_inside_quotes_ignored(tmp_path: Path) -> None:
    """Semicolons inside a quoted header do not outvote the commas."""
    path = write_bytes(tmp_path, "orders.csv", b'"Order; ID",Tracking,Qty\nA1,1Z999,1\n')

    table = load_table(path)

    assert table.headers == ("Order; ID", "Tracking", "Qty")


def test_csv_single_column_read(tmp_path: Path) -> None:
    """A file with no separator at all is one column."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")

    table = load_table(path)

    assert table.headers == ("Order ID",)
    assert table.rows == (SourceRow(2, ("A1",)),)


def test_csv_excel_separator_line(tmp_path: Path) -> None:
    """Excel's "sep=;" first line sets the separator and is not a row."""
    path = write_bytes(tmp_path, "orders.csv", b"sep=;\r\nOrder ID;Tracking\r\nA1;1Z,999\r\n")

    table = load_table(path)

    assert table.headers == ("Order ID", "Tracking")
    assert table.header_row == 1
    assert table.rows == (SourceRow(2, ("A1", "1Z,999")),)


def test_csv_quoted_newline_is_one_row(tmp_path: Path) -> None:
    """A record spanning several lines is one row, numbered as a spreadsheet shows it."""
    data = (
        b'Order ID,Note,Tracking\r\nA1,"line one\r\nline two, with comma",1Z1\r\nA2,plain,1Z2\r\n'
    )
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path)

    assert table.rows[0] == SourceRow(2, ("A1", "line one\r\nline two, with comma", "1Z1"))
    assert table.rows[1] == SourceRow(3, ("A2", "plain", "1Z2"))


def test_csv_blank_rows_ignored(tmp_path: Path) -> None:
    """Blank and whitespace-only rows go to `ignored` with their row numbers."""
    data = b"\nOrder ID,Tracking\nA1,1Z1\n , \n\nA2,1Z2\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path)

    assert table.header_row == 2
    assert [row.number for row in table.rows] == [3, 6]
    assert [row.number for row in table.ignored] == [1, 4, 5]
    assert table.ignored[1].cells == (" ", " ")
    assert table.ignored[0].cells == ("", "")


def test_csv_short_rows_padded(tmp_path: Path) -> None:
    """Rows with fewer cells than headers get empty cells; trailing empty cells are dropped."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,Tracking,Qty,,\nA1\nA2,1Z2,1,,,\n")

    table = load_table(path)

    assert table.headers == ("Order ID", "Tracking", "Qty")
    assert table.rows[0].cells == ("A1", "", "")
    assert table.rows[1].cells == ("A2", "1Z2", "1")


def test_csv_empty_header_named_by_letter(tmp_path: Path) -> None:
    """An empty header cell becomes "Column <letter>" and a note names it when it has values."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,,Tracking\nA1,x,1Z1\n")

    table = load_table(path)

    assert table.headers == ("Order ID", "Column B", "Tracking")
    assert len(table.notes) == 1
    assert '"Column B"' in table.notes[0]
    assert "row 2" in table.notes[0]


def test_csv_values_beyond_headers_kept(tmp_path: Path) -> None:
    """Values to the right of the last header get a column of their own."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,Tracking\nA1,1Z1\nA2,1Z2,extra\n")

    table = load_table(path)

    assert table.headers == ("Order ID", "Tracking", "Column C")
    assert table.rows[0].cells == ("A1", "1Z1", "")
    assert table.rows[1].cells == ("A2", "1Z2", "extra")
    assert any("row 3" in note and "Column C" in note for note in table.notes)


def test_csv_stray_quote_tolerated(tmp_path: Path) -> None:
    """A quote inside an unquoted cell is kept as text, as Excel does."""
    path = write_bytes(tmp_path, "orders.csv", b'Order ID,Item\nA1,Poster 24" tube\n')

    table = load_table(path)

    assert table.rows[0].cells == ("A1", 'Poster 24" tube')


def test_csv_unclosed_quote_rejected(tmp_path: Path) -> None:
    """A quote that is never closed stops the file instead of swallowing the rest."""
    data = b'Order ID,Tracking\nA1,1Z1\nA2,"1Z2\nA3,1Z3\nA4,1Z4\n'
    path = write_bytes(tmp_path, "orders.csv", data)

    error = load_error(path)

    assert "never closed" in str(error)
    assert "row 3" in str(error)
    assert "line 3" in str(error)


def test_csv_too_many_columns_rejected(tmp_path: Path) -> None:
    """A row wider than a spreadsheet's 16,384 columns stops the file."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1" + b",x" * 16_384 + b"\n")

    error = load_error(path)

    assert "row 2 reaches column XFE (column 16,385)" in str(error)


def test_csv_header_only_is_empty_table(tmp_path: Path) -> None:
    """A header row without data rows is an empty table, not an error."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,Tracking\n\n")

    table = load_table(path)

    assert table.headers == ("Order ID", "Tracking")
    assert table.rows == ()
    assert table.ignored == (IgnoredRow(2, ("", ""), "blank row"),)


def test_csv_only_blank_lines_rejected(tmp_path: Path) -> None:
    """A file of blank lines raises an error stating it contains no rows."""
    path = write_bytes(tmp_path, "orders.csv", b"\r\n  \r\n,,\r\n")

    error = load_error(path)

    assert "contains no rows" in str(error)


def test_csv_html_page_rejected(tmp_path: Path) -> None:
    """A web page saved with a .csv name is reported as such."""
    path = write_bytes(tmp_path, "orders.csv", b"<!DOCTYPE html><html><table></table></html>")

    error = load_error(path)

    assert "web page or XML file" in str(error)


# --- Excel ---------------------------------------------------------------------


def test_xlsx_numbers_keep_digits(tmp_path: Path) -> None:
    """Numeric tracking numbers come back as plain digits, other numbers in short form."""
    rows: list[list[object]] = [
        ["Order ID", "Tracking", "Other"],
        ["A1", 400123456789, 1.5],
        ["A2", 1.23e15, 2.0**60],
        ["A3", 400123456789.0, -0.25],
    ]
    path = write_workbook(tmp_path, "orders.xlsx", {"Shipments": rows})

    table = load_table(path)

    assert table.rows[0].cells == ("A1", "400123456789", "1.5")
    assert table.rows[1].cells == ("A2", "1.23E+15", "1.15292150460685E+18")
    assert table.rows[2].cells == ("A3", "400123456789", "-0.25")


def test_xlsx_dates_bools_and_empty_cells(tmp_path: Path) -> None:
    """Dates, times, booleans and empty cells become text a spreadsheet would show."""
    rows: list[list[object]] = [
        ["Order ID", "Shipped", "Notify", "Note"],
        ["A1", datetime(2026, 11, 28), True, None],
        ["A2", datetime(2026, 11, 28, 15, 4, 5), False, "  text kept  "],
    ]
    path = write_workbook(tmp_path, "orders.xlsx", {"Shipments": rows})

    table = load_table(path)

    assert table.rows[0].cells == ("A1", "2026-11-28", "TRUE", "")
    assert table.rows[1].cells == ("A2", "2026-11-28 15:04:05", "FALSE", "  text kept  ")


def test_xlsx_real_sheet_row_numbers(tmp_path: Path) -> None:
    """Row numbers are the sheet's own, with blank rows kept in `ignored`."""
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet["A3"] = "Order ID"
    worksheet["B3"] = "Tracking"
    worksheet["A4"] = "A1"
    worksheet["B4"] = "1Z1"
    worksheet["A5"] = "   "
    worksheet["A7"] = "A2"
    worksheet["B7"] = "1Z2"
    path = tmp_path / "orders.xlsx"
    workbook.save(path)

    table = load_table(path)

    assert table.header_row == 3
    assert [row.number for row in table.rows] == [4, 7]
    assert [row.number for row in table.ignored] == [1, 2, 5, 6]
    assert table.sheet == "Sheet"
    assert table.notes == ("4 blank rows skipped",)


def test_xlsx_sheet_after_empty_sheet(tmp_path: Path) -> None:
    """The first sheet with a non-blank row is read and a note names the other sheets."""
    sheets: dict[str, list[list[object]]] = {
        "Cover": [],
        "Shipments": [["Order ID", "Tracking"], ["A1", "1Z1"]],
        "Notes": [["anything"]],
    }
    path = write_workbook(tmp_path, "orders.xlsx", sheets)

    table = load_table(path)

    assert table.sheet == "Shipments"
    assert table.rows == (SourceRow(2, ("A1", "1Z1")),)
    assert table.notes == (
        'sheet "Shipments" was read; the workbook also has "Cover" (empty) and "Notes"',
    )


def test_xlsx_header_only_is_empty_table(tmp_path: Path) -> None:
    """A sheet with only a header row is an empty table, not an error."""
    path = write_workbook(tmp_path, "orders.xlsx", {"Shipments": [["Order ID", "Tracking"]]})

    table = load_table(path)

    assert table.headers == ("Order ID", "Tracking")
    assert table.rows == ()


def test_xlsx_all_sheets_empty_rejected(tmp_path: Path) -> None:
    """A workbook whose sheets are all blank raises an error stating it has no rows."""
    path = write_workbook(tmp_path, "orders.xlsx", {"One": [], "Two": [[None, "  "]]})

    error = load_error(path)

    assert "contains no rows on any visible sheet" in str(error)


def test_xlsx_truncated_zip_rejected(tmp_path: Path) -> None:
    """A cut-off workbook is reported as unreadable, chained to the ZIP error."""
    good = write_workbook(tmp_path, "good.xlsx", {"Shipments": [["Order ID"], ["A1"]]})
    data = good.read_bytes()
    path = write_bytes(tmp_path, "orders.xlsx", data[: len(data) // 2])

    error = load_error(path)

    assert str(error).startswith(f"{path}: could not be read as an Excel workbook (")
    assert "save it again as .xlsx" in str(error)
    # The archive check runs before calamine, so zipfile is the first to see the damage.
    assert isinstance(error.__cause__, python_calamine.CalamineError | zipfile.BadZipFile)


def test_xlsx_zip_without_workbook_rejected(tmp_path: Path) -> None:
    """A ZIP archive that contains no workbook is reported as unreadable."""
    path = tmp_path / "orders.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("orders.csv", "Order ID\nA1\n")

    error = load_error(path)

    assert "could not be read as an Excel workbook" in str(error)
    assert error.__cause__ is not None


def test_xlsx_binary_not_zip_rejected(tmp_path: Path) -> None:
    """Binary data named .xlsx that is no ZIP archive is reported as unreadable."""
    path = write_bytes(tmp_path, "orders.xlsx", b"\x00\x01\x02garbage\x00")

    error = load_error(path)

    assert "could not be read as an Excel workbook (the file is not a ZIP archive)" in str(error)


def test_xlsx_ole2_password_protected(tmp_path: Path) -> None:
    """An .xlsx in an OLE2 container is taken for a password-protected workbook."""
    path = write_bytes(tmp_path, "orders.xlsx", OLE2_MAGIC + bytes(504))

    error = load_error(path)

    assert str(error) == (
        f"{path}: is password-protected (or a damaged legacy .xls renamed); "
        "remove the password in Excel or save it again as .xlsx"
    )


def test_xls_damaged_rejected(tmp_path: Path) -> None:
    """A damaged legacy .xls file is rejected with the reason and the way to convert it."""
    path = write_bytes(tmp_path, "orders.xls", OLE2_MAGIC + bytes(504))

    error = load_error(path)

    assert str(error).startswith(f"{path}: could not be read as a legacy Excel .xls workbook (")
    assert str(error).endswith("; open it in Excel and save it as .xlsx or CSV")


def test_ole2_unknown_extension_rejected(tmp_path: Path) -> None:
    """OLE2 content under another name names both possible causes."""
    path = write_bytes(tmp_path, "orders.dat", OLE2_MAGIC + bytes(504))

    error = load_error(path)

    assert "legacy Excel .xls file or a password-protected workbook" in str(error)


# --- recognizing the file --------------------------------------------------------


def test_unknown_extension_zip_read_as_workbook(tmp_path: Path) -> None:
    """A workbook under another name is read as a workbook, with a note."""
    good = write_workbook(tmp_path, "good.xlsx", {"Shipments": [["Order ID"], ["A1"]]})
    path = write_bytes(tmp_path, "orders.export", good.read_bytes())

    table = load_table(path)

    assert table.sheet == "Shipments"
    assert table.rows == (SourceRow(2, ("A1",)),)
    assert any("Excel workbook" in note and "orders.export" in note for note in table.notes)


def test_unknown_extension_text_read_as_csv(tmp_path: Path) -> None:
    """Text under another name is read as CSV without a note."""
    path = write_bytes(tmp_path, "orders.dat", b"Order ID,Tracking\nA1,1Z1\n")

    table = load_table(path)

    assert table.rows == (SourceRow(2, ("A1", "1Z1")),)
    assert table.notes == ()


def test_xlsx_name_with_text_read_as_csv(tmp_path: Path) -> None:
    """A CSV saved with an .xlsx name is read as CSV, with a note."""
    path = write_bytes(tmp_path, "orders.xlsx", b"Order ID,Tracking\nA1,1Z1\n")

    table = load_table(path)

    assert table.rows == (SourceRow(2, ("A1", "1Z1")),)
    assert any("CSV text" in note for note in table.notes)


def test_unknown_extension_binary_rejected(tmp_path: Path) -> None:
    """Binary data that is neither ZIP nor OLE2 is rejected as an unknown format."""
    path = write_bytes(tmp_path, "orders.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00")

    error = load_error(path)

    assert str(error).startswith(f"{path}: is not a CSV, Excel or OpenDocument file;")


def test_missing_file_rejected(tmp_path: Path) -> None:
    """A path that does not exist is reported as not found."""
    path = tmp_path / "missing.csv"

    error = load_error(path)

    assert str(error) == f"{path}: file not found; check the folder and the file name"
    assert isinstance(error.__cause__, FileNotFoundError)
    assert error.path == path


def test_folder_rejected(tmp_path: Path) -> None:
    """A folder is rejected with a hint to name a file inside it."""
    error = load_error(tmp_path)

    assert str(error).startswith(f"{tmp_path}: is a folder, not a file;")


def test_empty_file_rejected(tmp_path: Path) -> None:
    """A file of 0 bytes is reported as empty."""
    path = write_bytes(tmp_path, "orders.csv", b"")

    error = load_error(path)

    assert "the file is empty (0 bytes)" in str(error)


def test_table_is_frozen(tmp_path: Path) -> None:
    """Tables cannot be changed after loading, so stages can share them."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")
    table = load_table(path)

    assert isinstance(table, Table)
    with pytest.raises(AttributeError):
        table.headers = ()  # type: ignore[misc]


# --- options ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def score() -> HeaderScore:
    return load_score()


def test_forced_delimiter_used(tmp_path: Path) -> None:
    """A forced delimiter splits columns even where detection would not pick it."""
    path = write_bytes(tmp_path, "orders.txt", b"Order ID:Tracking\nA1:1Z1,2\n")

    table = load_table(path, LoadOptions(delimiter=":"))

    assert table.headers == ("Order ID", "Tracking")
    assert table.rows == (SourceRow(2, ("A1", "1Z1,2")),)
    assert 'columns are separated by ":"' in table.notes


def test_forced_delimiter_beats_separator_line(tmp_path: Path) -> None:
    """A forced delimiter wins over Excel's "sep=" line, which is still not a row."""
    path = write_bytes(tmp_path, "orders.csv", b"sep=;\nOrder ID|Tracking\nA1|1Z;1\n")

    table = load_table(path, LoadOptions(delimiter="|"))

    assert table.headers == ("Order ID", "Tracking")
    assert table.rows == (SourceRow(2, ("A1", "1Z;1")),)


@pytest.mark.parametrize("delimiter", ["", ";;", '"', "\n"])
def test_invalid_delimiter_rejected(tmp_path: Path, delimiter: str) -> None:
    """A delimiter that is not one usable character is a usage error naming the option."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")

    with pytest.raises(UsageError) as caught:
        load_table(path, LoadOptions(delimiter=delimiter))

    assert "--delimiter" in str(caught.value)


def test_forced_encoding_reads_utf16_without_bom(tmp_path: Path) -> None:
    """A forced encoding reads UTF-16 text that has no byte order mark."""
    path = write_bytes(tmp_path, "orders.csv", "Order ID,Name\nA1,Zoë\n".encode("utf-16-le"))

    table = load_table(path, LoadOptions(encoding="utf-16-le"))

    assert table.rows == (SourceRow(2, ("A1", "Zoë")),)
    assert "read as utf-16-le text, as set" in table.notes


def test_forced_encoding_beats_detection(tmp_path: Path) -> None:
    """Cyrillic Windows-1251 text reads right when its encoding is forced."""
    path = write_bytes(tmp_path, "orders.csv", "Order ID,Имя\nA1,Олег\n".encode("cp1251"))

    table = load_table(path, LoadOptions(encoding="cp1251"))

    assert table.headers == ("Order ID", "Имя")
    assert table.rows[0].cells == ("A1", "Олег")


def test_forced_utf8_drops_bom(tmp_path: Path) -> None:
    """A forced UTF-8 encoding still keeps the byte order mark out of the first header."""
    path = write_bytes(tmp_path, "orders.csv", "Order ID\nA1\n".encode("utf-8-sig"))

    table = load_table(path, LoadOptions(encoding="utf-8"))

    assert table.headers == ("Order ID",)


def test_forced_encoding_mismatch_rejected(tmp_path: Path) -> None:
    """Bytes invalid in the forced encoding stop the file with the line and the option."""
    path = write_bytes(tmp_path, "orders.csv", "Order ID,Name\nA1,Café\n".encode("cp1252"))

    error = load_error(path, LoadOptions(encoding="utf-8"))

    assert "could not be decoded as utf-8 (byte 0xE9 on line 2)" in str(error)
    assert "--encoding" in str(error)


@pytest.mark.parametrize("encoding", ["klingon-8", "base64", "rot13"])
def test_unknown_encoding_rejected(tmp_path: Path, encoding: str) -> None:
    """An encoding that is unknown or not a text encoding is a usage error naming the option."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")

    with pytest.raises(UsageError) as caught:
        load_table(path, LoadOptions(encoding=encoding))

    assert f'encoding "{encoding}" is not a known text encoding' in str(caught.value)
    assert "--encoding" in str(caught.value)


def test_forced_sheet_by_name(tmp_path: Path) -> None:
    """A sheet forced by name is read, whatever its case, even if it is not the first."""
    sheets: dict[str, list[list[object]]] = {
        "First": [["Order ID"], ["A1"]],
        "Returns": [["Order ID"], ["R1"]],
    }
    path = write_workbook(tmp_path, "orders.xlsx", sheets)

    table = load_table(path, LoadOptions(sheet="returns"))

    assert table.sheet == "Returns"
    assert table.rows == (SourceRow(2, ("R1",)),)


def test_forced_sheet_by_position(tmp_path: Path) -> None:
    """A sheet forced by position counts from 1."""
    sheets: dict[str, list[list[object]]] = {
        "First": [["Order ID"], ["A1"]],
        "Returns": [["Order ID"], ["R1"]],
    }
    path = write_workbook(tmp_path, "orders.xlsx", sheets)

    table = load_table(path, LoadOptions(sheet=2))

    assert table.sheet == "Returns"
    assert table.notes == ('sheet "Returns" was read; the workbook also has "First"',)


def test_forced_sheet_position_as_text(tmp_path: Path) -> None:
    """A sheet position given as text is a position when no sheet has that name."""
    sheets: dict[str, list[list[object]]] = {
        "First": [["Order ID"], ["A1"]],
        "Returns": [["Order ID"], ["R1"]],
    }
    path = write_workbook(tmp_path, "orders.xlsx", sheets)

    table = load_table(path, LoadOptions(sheet="2"))

    assert table.sheet == "Returns"


def test_sheet_option_on_csv_noted(tmp_path: Path) -> None:
    """A sheet set for a CSV file is not used, and a note states it."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")

    table = load_table(path, LoadOptions(sheet="Shipments"))

    assert table.rows == (SourceRow(2, ("A1",)),)
    assert any("the sheet setting does not apply" in note for note in table.notes)


def test_text_options_on_workbook_noted(tmp_path: Path) -> None:
    """A delimiter and encoding set for a workbook are not used, and notes state it."""
    path = write_workbook(tmp_path, "orders.xlsx", {"Shipments": [["Order ID"], ["A1"]]})

    table = load_table(path, LoadOptions(delimiter=";", encoding="cp1252"))

    assert table.rows == (SourceRow(2, ("A1",)),)
    assert "the delimiter setting does not apply to a workbook and was not used" in table.notes
    assert "the encoding setting does not apply to a workbook and was not used" in table.notes


@pytest.mark.parametrize(("sheet", "shown"), [("Missing", '"Missing"'), (3, "number 3")])
def test_forced_sheet_unknown_rejected(tmp_path: Path, sheet: str | int, shown: str) -> None:
    """An unknown sheet stops the file with the sheet names and the option to change."""
    sheets: dict[str, list[list[object]]] = {"First": [["Order ID"]], "Returns": [["Order ID"]]}
    path = write_workbook(tmp_path, "orders.xlsx", sheets)

    error = load_error(path, LoadOptions(sheet=sheet))

    assert f'has no sheet {shown}; its sheets are "First" and "Returns"' in str(error)
    assert "--sheet" in str(error)


def test_sheet_position_zero_rejected(tmp_path: Path) -> None:
    """Sheet position 0 is a usage error, because positions count from 1."""
    path = write_workbook(tmp_path, "orders.xlsx", {"First": [["Order ID"]]})

    with pytest.raises(UsageError):
        load_table(path, LoadOptions(sheet=0))


def test_forced_header_row_used(tmp_path: Path) -> None:
    """A forced header row is the header; non-blank rows above it are ignored with a reason."""
    path = write_bytes(tmp_path, "orders.csv", b"Export\n\nOrder ID,Tracking\nA1,1Z1\n")

    table = load_table(path, LoadOptions(header_row=3))

    assert table.header_row == 3
    assert table.headers == ("Order ID", "Tracking")
    assert table.ignored == (
        IgnoredRow(1, ("Export", ""), "above the header row"),
        IgnoredRow(2, ("", ""), "blank row"),
    )


def test_forced_header_row_beats_detection(tmp_path: Path, score: HeaderScore) -> None:
    """A forced header row wins over a row that scores higher."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,Tracking\nOrder,Tracking Code\nA1,1Z1\n")

    table = load_table(path, LoadOptions(header_row=2), header_score=score)

    assert table.headers == ("Order", "Tracking Code")


def test_forced_header_row_blank_rejected(tmp_path: Path) -> None:
    """A forced header row that is blank stops the file with the option to change."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\n\nA1\n")

    error = load_error(path, LoadOptions(header_row=2))

    assert "the header row is set to row 2, but that row is blank" in str(error)
    assert "--header-row" in str(error)


def test_forced_header_row_past_end_rejected(tmp_path: Path) -> None:
    """A forced header row after the last row stops the file naming the last row."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")

    error = load_error(path, LoadOptions(header_row=9))

    assert "the header row is set to row 9, but the last row is 2" in str(error)


def test_header_row_zero_rejected(tmp_path: Path) -> None:
    """Header row 0 is a usage error, because rows count from 1."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")

    with pytest.raises(UsageError):
        load_table(path, LoadOptions(header_row=0))


def test_file_over_size_limit_rejected(tmp_path: Path) -> None:
    """A file over max_file_bytes stops before reading, naming its size, the limit and the key."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\n" + b"A1\n" * 400_000)

    error = load_error(path, LoadOptions(max_file_bytes=1024 * 1024))

    assert "is 1.1 MB, more than the limit of 1.0 MB" in str(error)
    assert "max_file_mb in ghl-fulfill.toml" in str(error)


def test_file_at_size_limit_read(tmp_path: Path) -> None:
    """A file exactly at the limit is read."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")

    table = load_table(path, LoadOptions(max_file_bytes=12))

    assert table.rows == (SourceRow(2, ("A1",)),)


# --- finding the header ------------------------------------------------------------


def test_header_below_title_rows(tmp_path: Path, score: HeaderScore) -> None:
    """Title rows above the header are skipped when a lower row names two fields."""
    data = b"Shipments export,\nCreated 2026-12-01,\nOrder ID,Tracking Number\nA1,1Z1\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path, header_score=score)

    assert table.header_row == 3
    assert table.headers == ("Order ID", "Tracking Number")
    assert table.rows == (SourceRow(4, ("A1", "1Z1")),)
    assert [row.reason for row in table.ignored] == ["above the header row"] * 2
    assert "2 rows above the header row skipped (the header is on row 3)" in table.notes


def test_header_needs_two_fields(tmp_path: Path, score: HeaderScore) -> None:
    """A row naming one field loses to a later row naming two."""
    data = b"Tracking,\nOrder ID,Tracking Number\nA1,1Z1\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path, header_score=score)

    assert table.header_row == 2


def test_header_first_of_equal_scores(tmp_path: Path, score: HeaderScore) -> None:
    """Of two rows with the same best score, the first is the header."""
    data = b"Order ID,Tracking Number\nOrder #,Tracking #\nA1,1Z1\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path, header_score=score)

    assert table.header_row == 1
    assert table.rows[0].cells == ("Order #", "Tracking #")


def test_header_falls_back_to_first_row(tmp_path: Path, score: HeaderScore) -> None:
    """Without a row naming two fields, the first non-blank row is the header as before."""
    data = b"\nReport,\nRef,Code\nA1,1Z1\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path, header_score=score)

    assert table.header_row == 2
    assert table.headers == ("Report", "Column B")


def test_header_search_stops_after_30_rows(tmp_path: Path, score: HeaderScore) -> None:
    """A header below the first 30 non-blank rows is not searched for."""
    data = b"".join(b"title %d\n\n" % number for number in range(30))
    data += b"Order ID,Tracking Number\nA1,1Z1\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path, header_score=score)

    assert table.header_row == 1


def test_header_on_30th_row_found(tmp_path: Path, score: HeaderScore) -> None:
    """The 30th non-blank row is still searched."""
    data = b"".join(b"title %d\n" % number for number in range(29))
    data += b"Order ID,Tracking Number\nA1,1Z1\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path, header_score=score)

    assert table.header_row == 30


def test_title_row_cells_kept_whole(tmp_path: Path, score: HeaderScore) -> None:
    """A banner wider than the data keeps all its cells in `ignored`."""
    data = b"Export,of,all,shipments\nOrder ID,Tracking Number\nA1,1Z1\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path, header_score=score)

    assert table.headers == ("Order ID", "Tracking Number")
    assert table.ignored[0].cells == ("Export", "of", "all", "shipments")


# --- ignored rows ------------------------------------------------------------------


def test_repeated_header_rows_ignored(tmp_path: Path) -> None:
    """Header rows repeated by concatenated exports are ignored, however they are written."""
    data = (
        b"Order ID,Tracking Number\nA1,1Z1\n"
        b"Order ID,Tracking Number\nA2,1Z2\n"
        b"order_id , TRACKING-NUMBER\nA3,1Z3\n"
    )
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path)

    assert [row.number for row in table.rows] == [2, 4, 6]
    assert [row.number for row in table.ignored] == [3, 5]
    assert {row.reason for row in table.ignored} == {"repeats the header row"}
    assert "2 repeated header rows skipped" in table.notes


def test_partial_header_repeat_is_data(tmp_path: Path) -> None:
    """A row that repeats only some header cells stays a data row."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,Tracking Number\nOrder ID,1Z1\n")

    table = load_table(path)

    assert table.rows == (SourceRow(2, ("Order ID", "1Z1")),)


@pytest.mark.parametrize("label", ["Total", "TOTALS", "Grand Total:", "sum", "Count :"])
def test_totals_row_at_end_ignored(tmp_path: Path, label: str) -> None:
    """A row labelled like a total after the last data row is ignored as a totals row."""
    data = f"Order ID,Tracking,Qty\nA1,1Z1,2\nA2,1Z2,1\n\n,{label},3\n".encode()
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path)

    assert [row.number for row in table.rows] == [2, 3]
    assert table.ignored[-1] == IgnoredRow(5, ("", label, "3"), "totals row")
    assert "1 totals row skipped" in table.notes


def test_totals_rows_stacked_at_end_ignored(tmp_path: Path) -> None:
    """Several totals rows at the end are all ignored."""
    data = b"Order ID,Qty\nA1,2\nTotal,2\nCount,1\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path)

    assert [row.number for row in table.rows] == [2]
    assert "2 totals rows skipped" in table.notes


def test_totals_label_mid_file_is_data(tmp_path: Path) -> None:
    """A totals label followed by more data rows stays a data row."""
    data = b"Order ID,Qty\nA1,2\nTotal,2\nA2,1\n"
    path = write_bytes(tmp_path, "orders.csv", data)

    table = load_table(path)

    assert [row.number for row in table.rows] == [2, 3, 4]


def test_totals_like_word_is_data(tmp_path: Path) -> None:
    """A last row that only starts like a totals label stays a data row."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,Qty\nA1,2\nTotally-1,1\n")

    table = load_table(path)

    assert [row.number for row in table.rows] == [2, 3]


def test_blank_rows_counted_in_notes(tmp_path: Path) -> None:
    """Blank rows carry their reason and are counted in a note."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n\n")

    table = load_table(path)

    assert table.ignored == (IgnoredRow(3, ("",), "blank row"),)
    assert table.notes == ("1 blank row skipped",)


# --- workbooks: sheets and merged cells ----------------------------------------------


def test_sheet_with_header_preferred(tmp_path: Path, score: HeaderScore) -> None:
    """The first sheet whose header names two fields is read, not an earlier summary sheet."""
    sheets: dict[str, list[list[object]]] = {
        "Cover": [],
        "Summary": [["Shipments", 3]],
        "Shipments": [["Order ID", "Tracking Number"], ["A1", "1Z1"]],
        "Notes": [["anything"]],
    }
    path = write_workbook(tmp_path, "orders.xlsx", sheets)

    table = load_table(path, header_score=score)

    assert table.sheet == "Shipments"
    assert table.notes == (
        'sheet "Shipments" was read; the workbook also has "Cover" (empty), "Summary" and "Notes"',
    )


def test_sheet_without_header_falls_back(tmp_path: Path, score: HeaderScore) -> None:
    """When no sheet has a header, the first sheet that is not blank is read."""
    sheets: dict[str, list[list[object]]] = {
        "Cover": [],
        "Summary": [["Shipments", 3]],
        "Other": [["Ref"]],
    }
    path = write_workbook(tmp_path, "orders.xlsx", sheets)

    table = load_table(path, header_score=score)

    assert table.sheet == "Summary"


def test_xlsx_merged_order_id_filled(tmp_path: Path) -> None:
    """An order ID merged over its item rows is on every one of those rows."""
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    for row in [["Order ID", "SKU", "Qty"], ["A1", "TEE", 1], [None, "CAP", 2], [None, "MUG", 1]]:
        worksheet.append(row)
    worksheet.append(["A2", "TEE", 5])
    worksheet.merge_cells("A2:A4")
    path = tmp_path / "orders.xlsx"
    workbook.save(path)

    table = load_table(path)

    assert table.rows == (
        SourceRow(2, ("A1", "TEE", "1")),
        SourceRow(3, ("A1", "CAP", "2")),
        SourceRow(4, ("A1", "MUG", "1")),
        SourceRow(5, ("A2", "TEE", "5")),
    )


def test_xlsx_merged_title_filled_within_data(tmp_path: Path, score: HeaderScore) -> None:
    """A title merged across whole rows fills only the columns the sheet uses."""
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet["A1"] = "Shipments"
    worksheet.merge_cells("A1:Z1")
    worksheet.append(["Order ID", "Tracking Number"])
    worksheet.append(["A1", "1Z1"])
    path = tmp_path / "orders.xlsx"
    workbook.save(path)

    table = load_table(path, header_score=score)

    assert table.header_row == 2
    assert table.ignored == (IgnoredRow(1, ("Shipments", "Shipments"), "above the header row"),)


def test_xlsx_lock_file_noted(tmp_path: Path) -> None:
    """Excel's lock file beside a workbook adds a note, not an error."""
    path = write_workbook(tmp_path, "orders.xlsx", {"Shipments": [["Order ID"], ["A1"]]})
    write_bytes(tmp_path, "~$orders.xlsx", b"\x05user")

    table = load_table(path)

    assert table.rows == (SourceRow(2, ("A1",)),)
    assert any('lock file "~$orders.xlsx"' in note for note in table.notes)


# --- OpenDocument, legacy XLS and HTML -------------------------------------------------

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods_cell(value: object) -> str:
    """Write one table cell as LibreOffice stores it: a typed value and its shown text.

    Text starting with "<table:" is written as it is, for spans and repeats.
    """
    if isinstance(value, str) and value.startswith("<table:"):
        return value
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, float | int):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    if isinstance(value, datetime):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value:%d/%m/%Y}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
    )


def ods_row(row: list[object]) -> str:
    if len(row) == 1 and isinstance(row[0], str) and row[0].startswith("<table:table-row"):
        return row[0]
    return "<table:table-row>" + "".join(ods_cell(value) for value in row) + "</table:table-row>"


def write_ods(folder: Path, name: str, sheets: dict[str, list[list[object]]]) -> Path:
    """Build an OpenDocument spreadsheet by hand: a ZIP whose first member is "mimetype"."""
    tables = "".join(
        f'<table:table table:name="{title}">'
        + "".join(ods_row(row) for row in rows)
        + "</table:table>"
        for title, rows in sheets.items()
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NAMESPACES} '
        f'office:version="1.2"><office:body><office:spreadsheet>{tables}'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        f'manifest:media-type="{ODS_MIMETYPE}"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_ods_cells_as_text(tmp_path: Path) -> None:
    """An OpenDocument sheet is read with the same cell rules as XLSX."""
    rows: list[list[object]] = [
        [None],
        ["Order ID", "Tracking", "Shipped", "Weight"],
        ["A1", 400123456789, datetime(2026, 11, 28), 1.5],
    ]
    path = write_ods(tmp_path, "orders.ods", {"Shipments": rows})

    table = load_table(path)

    assert table.sheet == "Shipments"
    assert table.header_row == 2
    assert table.rows == (SourceRow(3, ("A1", "400123456789", "2026-11-28", "1.5")),)
    assert table.notes == ("1 blank row skipped",)


def test_ods_merged_cells_filled(tmp_path: Path) -> None:
    """Merged cells of an OpenDocument sheet are filled, counting repeated rows and cells."""
    spanned = (
        '<table:table-cell office:value-type="string" table:number-rows-spanned="2">'
        "<text:p>A1</text:p></table:table-cell>"
    )
    rows: list[list[object]] = [
        ["Note", "Ref", "Order ID", "SKU"],
        ['<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>'],
        ['<table:table-cell table:number-columns-repeated="2"/>', spanned, "TEE"],
        [None, None, "<table:covered-table-cell/>", "CAP"],
        [None, None, "A2", "MUG"],
    ]
    path = write_ods(tmp_path, "orders.ods", {"Shipments": rows})

    table = load_table(path)

    assert table.rows == (
        SourceRow(4, ("", "", "A1", "TEE")),
        SourceRow(5, ("", "", "A1", "CAP")),
        SourceRow(6, ("", "", "A2", "MUG")),
    )


def test_ods_sheet_with_header_preferred(tmp_path: Path, score: HeaderScore) -> None:
    """OpenDocument workbooks choose their sheet like XLSX workbooks."""
    sheets: dict[str, list[list[object]]] = {
        "Summary": [["Shipments", 1]],
        "Shipments": [["Order ID", "Tracking Number"], ["A1", "1Z1"]],
    }
    path = write_ods(tmp_path, "orders.ods", sheets)

    table = load_table(path, header_score=score)

    assert table.sheet == "Shipments"


def test_ods_renamed_read_with_note(tmp_path: Path) -> None:
    """An OpenDocument file under another name is read from its content, with a note."""
    good = write_ods(tmp_path, "good.ods", {"Shipments": [["Order ID"], ["A1"]]})
    path = write_bytes(tmp_path, "orders.xlsx", good.read_bytes())

    table = load_table(path)

    assert table.rows == (SourceRow(2, ("A1",)),)
    assert any("OpenDocument spreadsheet" in note for note in table.notes)


def test_ods_damaged_rejected(tmp_path: Path) -> None:
    """A cut-off OpenDocument file is reported as unreadable, chained to calamine's error."""
    good = write_ods(tmp_path, "good.ods", {"Shipments": [["Order ID"], ["A1"]]})
    data = good.read_bytes()
    path = write_bytes(tmp_path, "orders.ods", data[: len(data) // 2])

    error = load_error(path)

    assert "could not be read as an OpenDocument spreadsheet" in str(error)
    # The archive check runs before calamine, so zipfile is the first to see the damage.
    assert isinstance(error.__cause__, python_calamine.CalamineError | zipfile.BadZipFile)


def biff_record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def biff_bof(substream: int) -> bytes:
    """Begin a BIFF8 substream: 0x0005 for the workbook globals, 0x0010 for a worksheet."""
    return biff_record(0x0809, struct.pack("<HHHHII", 0x0600, substream, 0x0DBB, 0x07CC, 0, 6))


def biff_workbook(title: str, rows: list[list[object]], merges: list[tuple[int, ...]]) -> bytes:
    """Build the "Workbook" stream of a one-sheet BIFF8 (Excel 97-2003) file.

    Text goes through the shared string table (SST and LABELSST records) and
    numbers are NUMBER records. `merges` contains (first row, last row, first
    column, last column) counted from 0, as the MERGEDCELLS record stores them.
    """
    strings: list[str] = []
    cells = b""
    for row_index, row in enumerate(rows):
        for column, value in enumerate(row):
            if isinstance(value, str):
                if value not in strings:
                    strings.append(value)
                label = struct.pack("<HHHI", row_index, column, 0, strings.index(value))
                cells += biff_record(0x00FD, label)
            elif isinstance(value, int | float):
                cells += biff_record(0x0203, struct.pack("<HHHd", row_index, column, 0, value))

    width = max(len(row) for row in rows)
    sheet = biff_bof(0x0010) + biff_record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
    sheet += cells
    sheet += biff_record(
        0x00E5,
        struct.pack("<H", len(merges)) + b"".join(struct.pack("<HHHH", *merge) for merge in merges),
    )
    sheet += biff_record(0x000A)

    table = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(text), 0) + text.encode("latin-1") for text in strings
    )
    name = title.encode("latin-1")

    def workbook_globals(sheet_offset: int) -> bytes:
        sheet_entry = struct.pack("<IBBBB", sheet_offset, 0, 0, len(name), 0) + name
        return (
            biff_bof(0x0005)
            + biff_record(0x0085, sheet_entry)
            + biff_record(0x00FC, table)
            + biff_record(0x000A)
        )

    return workbook_globals(len(workbook_globals(0))) + sheet


def compound_file(stream: bytes) -> bytes:
    """Wrap a "Workbook" stream in an OLE2 compound file with 512-byte sectors.

    Sector 0 is the FAT, sector 1 the directory, and the stream follows. The
    stream is padded to 4096 bytes, so it lives in normal sectors and no mini
    stream is needed.
    """
    end_of_chain, free, fat_sector, no_entry = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    stream = stream.ljust(max(4096, -(-len(stream) // 512) * 512), b"\x00")
    sectors = len(stream) // 512
    fat = [fat_sector, end_of_chain]
    fat += [3 + index for index in range(sectors - 1)] + [end_of_chain]
    fat += [free] * (128 - len(fat))

    header = OLE2_MAGIC + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
    header += struct.pack("<9I", 0, 1, 1, 0, 4096, end_of_chain, 0, end_of_chain, 0)
    header += struct.pack("<109I", 0, *([free] * 108))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le") if name else b""
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1 if name else 0)
            + struct.pack("<III", no_entry, no_entry, child)
            + bytes(36)
            + struct.pack("<IQ", start, size)
        )

    directory = entry("Root Entry", 5, 1, end_of_chain, 0)
    directory += entry("Workbook", 2, no_entry, 2, len(stream))
    directory += entry("", 0, no_entry, 0, 0) * 2
    return header + struct.pack("<128I", *fat) + directory + stream


def test_xls_cells_and_merges(tmp_path: Path) -> None:
    """A legacy .xls sheet is read with the XLSX cell rules and merged order IDs filled."""
    rows: list[list[object]] = [
        ["Order ID", "SKU", "Qty", "Tracking"],
        ["A1", "TEE", 1, 400123456789],
        [None, "CAP", 2.5, None],
        ["A2", "MUG", 3, "1Z2"],
    ]
    data = compound_file(biff_workbook("Shipments", rows, [(1, 2, 0, 0), (1, 2, 3, 3)]))
    path = write_bytes(tmp_path, "orders.xls", data)

    table = load_table(path)

    assert table.sheet == "Shipments"
    assert table.rows == (
        SourceRow(2, ("A1", "TEE", "1", "400123456789")),
        SourceRow(3, ("A1", "CAP", "2.5", "400123456789")),
        SourceRow(4, ("A2", "MUG", "3", "1Z2")),
    )
    assert table.notes == ()


def test_xls_renamed_read_with_note(tmp_path: Path) -> None:
    """A legacy .xls workbook saved with an .xlsx name is read from its content, with a note."""
    data = compound_file(biff_workbook("Shipments", [["Order ID"], ["A1"]], []))
    path = write_bytes(tmp_path, "orders.xlsx", data)

    table = load_table(path)

    assert table.rows == (SourceRow(2, ("A1",)),)
    assert any("legacy Excel .xls workbook" in note for note in table.notes)


def test_xls_web_page_read_as_table(tmp_path: Path) -> None:
    """A portal's .xls that is really a web page gives the rows of its first table."""
    path = DATA / "portal_export.xls"

    table = load_table(path, header_score=load_score())

    assert table.header_row == 2
    assert table.headers == ("Order ID", "Tracking Number", "Carrier")
    assert table.rows == (
        SourceRow(3, ("65a1b2c3d4e5f60718293a4b", "1Z999AA1 0123456784", "UPS")),
        SourceRow(
            4, ("65a1b2c3d4e5f60718293a4c", "9400 1000 0000 0000 0000 00", "USPS\nGround & more")
        ),
    )
    assert table.ignored == (
        IgnoredRow(1, ("Shipments 2026-12-01", "", ""), "above the header row"),
    )
    assert any("web page (HTML)" in note for note in table.notes)


def test_html_without_table_rejected(tmp_path: Path) -> None:
    """A web page with no table rows is still reported as a web page."""
    path = write_bytes(tmp_path, "orders.xls", b"<html><body><p>Session expired</p></body></html>")

    error = load_error(path)

    assert "is a web page or XML file without a table of shipments" in str(error)


def test_xls_text_read_as_csv(tmp_path: Path) -> None:
    """A tab-separated export named .xls is read as text, with a note."""
    path = write_bytes(tmp_path, "orders.xls", b"Order ID\tTracking\nA1\t1Z1\n")

    table = load_table(path)

    assert table.rows == (SourceRow(2, ("A1", "1Z1")),)
    assert any("CSV text" in note for note in table.notes)
    assert "columns are separated by tabs" in table.notes


# --- a file still being written -------------------------------------------------------


def test_file_growing_while_read_rejected(tmp_path: Path) -> None:
    """A file that grows while it is read stops with a message to try again."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")

    def append_while_reading(cells: Sequence[str]) -> int:
        with path.open("ab") as stream:
            stream.write(b"A2\n")
        return 0

    with pytest.raises(InputFileError) as caught:
        load_table(path, header_score=append_while_reading)

    assert "is still being written (it changed while it was read)" in str(caught.value)
    assert "try again when the export has finished" in str(caught.value)


def test_file_touched_while_read_rejected(tmp_path: Path) -> None:
    """A file rewritten with the same size while it is read is caught by its modification time."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1\n")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))

    def rewrite_while_reading(cells: Sequence[str]) -> int:
        path.write_bytes(b"Order ID\nA2\n")
        return 0

    error = load_error(path, header_score=rewrite_while_reading)

    assert "is still being written" in str(error)


# --- CSV quotes at the end of the file ---------------------------------------------------


@pytest.mark.parametrize("ending", [b'A2,"TEE\n', b'A2,"TEE', b'A2,"TEE ""XL""\n'])
def test_csv_unclosed_quote_on_last_line_rejected(tmp_path: Path, ending: bytes) -> None:
    """A quote opened on the last line and never closed stops the file."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,SKU\nA1,CAP\n" + ending)

    error = load_error(path)

    assert "a quoted cell on row 3 (line 3) is never closed" in str(error)


@pytest.mark.parametrize(
    "ending",
    [b'A2,"TEE ""XL"""\n', b'A2,Poster 24" tube\n', b'A2,"line\nbreak",Poster 24" tube\n'],
)
def test_csv_closed_quotes_on_last_record_read(tmp_path: Path, ending: bytes) -> None:
    """Doubled quotes and a stray quote in an unquoted cell on the last record are text."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,SKU\nA1,CAP\n" + ending)

    table = load_table(path)

    assert table.rows[-1].number == 3


def test_semicolon_header_below_comma_title(tmp_path: Path) -> None:
    """A title line with a comma above a semicolon header does not decide the delimiter."""
    path = write_bytes(
        tmp_path,
        "export.csv",
        b"Shipments export, December 1\n\nOrder ID;Tracking Number;Carrier\n"
        b"6afb2607207fe629c6a23c3a;1Z999AA10123456784;UPS\n",
    )
    table = load_table(path, header_score=load_score())
    assert table.headers == ("Order ID", "Tracking Number", "Carrier")
    assert table.header_row == 3


def test_delimiter_from_later_lines_without_scorer(tmp_path: Path) -> None:
    """Without a header scorer, the line split into the most cells decides the delimiter."""
    path = write_bytes(tmp_path, "export.csv", b"Shipments\na;b;c\n1;2;3\n")
    table = load_table(path)
    assert "semicolons" in " ".join(table.notes)


def test_hidden_sheet_not_read(tmp_path: Path) -> None:
    """A hidden sheet before the visible one is not imported, and a note says so."""
    path = tmp_path / "orders.xlsx"
    workbook = openpyxl.Workbook()
    last_week = workbook.active
    assert last_week is not None
    last_week.title = "Last week"
    last_week.append(["Order ID", "Tracking Number"])
    last_week.append(["6afb2607207fe629c6a23c3a", "1Z999AA10123456784"])
    last_week.sheet_state = "hidden"
    today = workbook.create_sheet("Today")
    today.append(["Order ID", "Tracking Number"])
    today.append(["6afb2607207fe629c6a23c3b", "1Z999AA10123456785"])
    workbook.save(path)

    table = load_table(path, header_score=load_score())

    assert table.sheet == "Today"
    assert any("hidden, not read" in note for note in table.notes)


def test_two_sheets_with_headers_rejected(tmp_path: Path) -> None:
    """Two visible sheets with shipment columns stop the file until --sheet picks one."""
    header = ["Order ID", "Tracking Number"]
    path = write_workbook(
        tmp_path,
        "orders.xlsx",
        {
            "Nov": [header, ["6afb2607207fe629c6a23c3a", "1Z999AA10123456784"]],
            "Dec": [header, ["6afb2607207fe629c6a23c3b", "1Z999AA10123456785"]],
        },
    )

    error = load_error(path, header_score=load_score())

    assert 'the sheets "Nov" and "Dec" have shipment columns' in str(error)
    assert "--sheet" in str(error)


def test_html_row_span_rejected(tmp_path: Path) -> None:
    """An HTML table with a cell spanning rows is refused rather than read shifted."""
    path = write_bytes(
        tmp_path,
        "portal.xls",
        b"<html><body><table><tr><th>Order ID</th><th>Tracking Number</th></tr>"
        b'<tr><td rowspan="2">6afb2607207fe629c6a23c3a</td><td>1Z999AA10123456784</td></tr>'
        b"<tr><td>1Z999AA10123456785</td></tr></table></body></html>",
    )
    error = load_error(path, header_score=load_score())
    assert "cells spanning several rows" in str(error)


def test_formula_without_value_shown(tmp_path: Path) -> None:
    """A formula saved without its value reads as the formula, not as an empty cell."""
    path = write_workbook(
        tmp_path,
        "orders.xlsx",
        {"Shipments": [["Order ID", "Qty"], ["6afb2607207fe629c6a23c3a", "=1+1"]]},
    )
    table = load_table(path)
    assert table.rows[0].cells == ("6afb2607207fe629c6a23c3a", "=1+1")
    assert any("formula without a saved value" in note for note in table.notes)


def test_formula_note_names_cell(tmp_path: Path) -> None:
    """The note about formulas without values names each cell, so the user can find it."""
    path = write_workbook(
        tmp_path,
        "orders.xlsx",
        {"Shipments": [["Order ID", "Qty"], ["6afb2607207fe629c6a23c3a", "=1+1"]]},
    )
    table = load_table(path)
    assert any("(B2)" in note for note in table.notes)


def test_error_value_shown(tmp_path: Path) -> None:
    """An error value such as #DIV/0! reads as that error, not as an empty cell."""
    path = tmp_path / "orders.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Order ID", "Qty"])
    sheet.append(["6afb2607207fe629c6a23c3a", None])
    sheet["B2"].value = "#DIV/0!"
    sheet["B2"].data_type = "e"
    workbook.save(path)

    table = load_table(path)

    assert table.rows[0].cells == ("6afb2607207fe629c6a23c3a", "#DIV/0!")


def test_cut_off_last_line_rejected(tmp_path: Path) -> None:
    """A short last line without a line break is an export cut off part way."""
    path = write_bytes(
        tmp_path,
        "export.csv",
        b"Order ID,Tracking Number,Carrier\n6afb2607207fe629c6a23c3a,1Z999AA10123456784,UPS\n"
        b"6afb2607207fe629c6a23c3b,92055924",
    )
    error = load_error(path)
    assert "the export looks cut off" in str(error)


def test_last_line_without_break_accepted(tmp_path: Path) -> None:
    """A complete last line without a line break is read as usual."""
    path = write_bytes(
        tmp_path,
        "export.csv",
        b"Order ID,Tracking Number\n6afb2607207fe629c6a23c3a,1Z999AA10123456784",
    )
    table = load_table(path)
    assert table.rows[0].cells == ("6afb2607207fe629c6a23c3a", "1Z999AA10123456784")


def test_legend_row_loses_to_fuller_header(tmp_path: Path) -> None:
    """A legend naming the fields above the real header does not become the header."""
    path = write_bytes(
        tmp_path,
        "export.csv",
        b"Order ID,Tracking Number,Carrier,SKU,Qty\n"
        b"Order - Number,Ship To - Name,Shipment - Carrier,Shipment - Tracking Number,"
        b"Item - SKU,Item - Qty\n"
        b"6afb2607207fe629c6a23c3a,Dana,UPS,1Z999AA10123456784,TEE,1\n",
    )
    table = load_table(path, header_score=load_score())
    assert table.header_row == 2


def test_many_sheets_note_stays_short(tmp_path: Path) -> None:
    """A workbook of many empty sheets names ten of them, then counts the rest."""
    sheets: dict[str, list[list[object]]] = {f"Empty {index}": [] for index in range(30)}
    sheets["Shipments"] = [["Order ID", "Tracking Number"], ["6afb2607207fe629c6a23c3a", "1Z1"]]
    path = write_workbook(tmp_path, "many.xlsx", sheets)
    table = load_table(path, header_score=load_score())
    assert table.notes[0].endswith("and 20 more sheets")


def test_utf16_without_mark_suggests_encoding(tmp_path: Path) -> None:
    """UTF-16 text without a byte order mark gets the --encoding that reads it."""
    path = tmp_path / "orders.csv"
    path.write_bytes("Order ID,Tracking Number\n6afb2607207fe629c6a23c3a,1Z1\n".encode("utf-16-le"))
    error = load_error(path, header_score=load_score())
    assert "--encoding utf-16-le" in str(error)


def test_utf16_big_endian_without_mark_named(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes("Order ID,Tracking Number\n6afb2607207fe629c6a23c3a,1Z1\n".encode("utf-16-be"))
    error = load_error(path, header_score=load_score())
    assert "--encoding utf-16-be" in str(error)
