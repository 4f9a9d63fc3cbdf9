"""Hostile files and careless sizes: each load limit stops a file with one clear message."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import pytest
from defusedxml import DefusedXmlException

from importer.config import load_settings
from importer.errors import ConfigError, InputFileError
from importer.load import LoadOptions, load_table
from importer.load.archive import sheet_targets
from importer.load.formulas import mark_formula_cells
from importer.load.records import RawRow
from tests.workbook_parts import (
    BILLION_LAUGHS,
    PASSWD_ENTITY,
    WORKBOOK,
    inline_cell,
    ods_bytes,
    ods_cell,
    ods_row,
    shared_strings_xml,
    sheet_xml,
    xlsx_bytes,
)

HEADER_ROW = (
    '<row r="1">' + inline_cell("A1", "Order ID") + inline_cell("B1", "Tracking") + "</row>"
)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def load_error(path: Path, options: LoadOptions | None = None) -> str:
    with pytest.raises(InputFileError) as caught:
        load_table(path, options or LoadOptions())
    return str(caught.value)


def zeros_member(size: int) -> dict[str, bytes]:
    return {"xl/media/image1.bin": bytes(size)}


# --- the ZIP archive ----------------------------------------------------------------


def test_zip_bomb_stopped_by_ratio(tmp_path: Path) -> None:
    """A member of 50 MB of zeros packed into 50 KB is stopped before it is unpacked."""
    path = write(
        tmp_path, "bomb.xlsx", xlsx_bytes(sheet_xml(HEADER_ROW), extra=zeros_member(50 * 2**20))
    )

    started = time.perf_counter()
    message = load_error(path)

    assert message.startswith(f"{path}: ")
    assert 'its part "xl/media/image1.bin" unpacks to' in message
    assert "more than the limit of 100 times" in message
    assert "max_compression_ratio in ghl-fulfill.toml" in message
    assert time.perf_counter() - started < 2


def test_zip_over_uncompressed_limit(tmp_path: Path) -> None:
    """Members that do not compress at all still count toward max_uncompressed_mb."""
    noise = {"xl/media/image1.bin": bytes(range(256)) * 8192}  # 2 MB that packs poorly
    path = write(tmp_path, "big.xlsx", xlsx_bytes(sheet_xml(HEADER_ROW), extra=noise))
    options = LoadOptions(max_uncompressed_bytes=2**20, max_compression_ratio=10**6)

    message = load_error(path, options)

    assert "unpacks to more than" in message
    assert "the limit of 1.0 MB" in message
    assert "max_uncompressed_mb in ghl-fulfill.toml" in message


def test_zip_declared_size_lie_stopped(tmp_path: Path) -> None:
    """A member that declares 1,000 bytes but contains 50 MB stops after 1,000 bytes."""
    data = bytearray(xlsx_bytes(sheet_xml(HEADER_ROW), extra=zeros_member(50 * 2**20)))
    _declare_size(data, b"xl/media/image1.bin", 1000)
    path = write(tmp_path, "liar.xlsx", bytes(data))

    started = time.perf_counter()
    message = load_error(path)

    assert "could not be read as an Excel workbook" in message
    assert "CRC" in message
    assert time.perf_counter() - started < 2


def _declare_size(data: bytearray, name: bytes, size: int) -> None:
    """Overwrite the uncompressed size of a member in its local and central headers."""
    local = data.index(b"PK\x03\x04")
    while data[local + 30 : local + 30 + len(name)] != name:
        local = data.index(b"PK\x03\x04", local + 4)
    struct.pack_into("<I", data, local + 22, size)
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, size)


# --- XML with a DTD ---------------------------------------------------------------------


def test_billion_laughs_in_sheet_rejected(tmp_path: Path) -> None:
    """Entity declarations in the worksheet stop the file before any XML reader sees it."""
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    path = write(tmp_path, "laughs.xlsx", xlsx_bytes(sheet_xml(rows, BILLION_LAUGHS)))

    message = load_error(path)

    assert (
        'its part "xl/worksheets/sheet1.xml" contains an XML document type declaration' in message
    )
    assert "lol" not in message.replace("laughs.xlsx", "")


def test_billion_laughs_in_shared_strings_rejected(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    shared = shared_strings_xml(["&lol9;"], BILLION_LAUGHS)
    path = write(tmp_path, "laughs.xlsx", xlsx_bytes(sheet_xml(rows), shared))

    message = load_error(path)

    assert 'its part "xl/sharedStrings.xml" contains an XML document type declaration' in message


def test_external_entity_not_read(tmp_path: Path) -> None:
    """An entity pointing at /etc/passwd is rejected, and nothing of that file is shown."""
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    shared = shared_strings_xml(["&passwd;"], PASSWD_ENTITY)
    path = write(tmp_path, "entity.xlsx", xlsx_bytes(sheet_xml(rows), shared))

    message = load_error(path)

    assert "document type declaration" in message
    assert "root:" not in message


def test_utf16_part_with_doctype_rejected(tmp_path: Path) -> None:
    """A part in UTF-16, where the letters of <!DOCTYPE are apart, is rejected all the same."""
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    core = ('<?xml version="1.0" encoding="UTF-16"?>' + PASSWD_ENTITY + "<x/>").encode("utf-16")
    extra = {"docProps/core.xml": core}
    path = write(tmp_path, "wide.xlsx", xlsx_bytes(sheet_xml(rows), extra=extra))

    message = load_error(path)

    assert 'its part "docProps/core.xml" is XML in UTF-16 or UTF-32' in message


def test_billion_laughs_in_ods_rejected(tmp_path: Path) -> None:
    rows = ods_row(ods_cell("&lol9;"))
    path = write(tmp_path, "laughs.ods", ods_bytes(rows, BILLION_LAUGHS))

    message = load_error(path)

    assert 'its part "content.xml" contains an XML document type declaration' in message


def test_formula_reader_rejects_entities() -> None:
    """The XML reader behind formula cells is defusedxml, whatever reaches it."""
    sheet = sheet_xml('<row r="1"><c r="A1"><f>&lol9;</f></c></row>', BILLION_LAUGHS)
    archive = zipfile.ZipFile(io.BytesIO(xlsx_bytes(sheet)))

    with pytest.raises(DefusedXmlException):
        mark_formula_cells(archive, "Shipments", [RawRow(1, ("",))])


def test_sheet_targets_ignore_entity_workbook() -> None:
    """A workbook.xml with an external entity gives no sheets instead of reading the entity."""
    workbook = WORKBOOK.replace("?>", "?>" + PASSWD_ENTITY, 1).replace(
        'name="Shipments"', 'name="&passwd;"'
    )
    archive = zipfile.ZipFile(io.BytesIO(xlsx_bytes(sheet_xml(""), workbook=workbook)))

    targets = sheet_targets(archive)

    assert targets == {}


# --- rows, columns and cells ---------------------------------------------------------


def test_xlsx_2000_columns_rejected(tmp_path: Path) -> None:
    cells = "".join(inline_cell(_letters(column) + "2", "x") for column in range(1, 2001))
    path = write(
        tmp_path, "wide.xlsx", xlsx_bytes(sheet_xml(HEADER_ROW + f'<row r="2">{cells}</row>'))
    )

    message = load_error(path)

    assert 'sheet "Shipments", row 2 reaches column BXX (column 2,000)' in message
    assert "limit of 1,000 columns" in message
    assert "max_columns in ghl-fulfill.toml" in message


def test_xlsx_cells_without_references_measured(tmp_path: Path) -> None:
    """Cells without an r attribute are counted by position, as the workbook reader places them."""
    cells = '<c t="inlineStr"><is><t>x</t></is></c>' * 2000
    path = write(tmp_path, "wide.xlsx", xlsx_bytes(sheet_xml(f"<row>{cells}</row>")))

    message = load_error(path)

    assert 'sheet "Shipments", row 1 reaches column BXX (column 2,000)' in message


def test_csv_2000_columns_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.csv", b"Order ID,Tracking\nA1" + b",x" * 1999 + b"\n")

    message = load_error(path)

    assert "row 2 reaches column BXX (column 2,000)" in message
    assert "max_columns" in message


def test_xlsx_far_cell_stopped_before_reader(tmp_path: Path) -> None:
    """A cell at XFD1048576 would make the reader allocate 17 billion cells; it is stopped first."""
    rows = HEADER_ROW + '<row r="1048576">' + inline_cell("XFD1048576", "x") + "</row>"
    path = write(tmp_path, "far.xlsx", xlsx_bytes(sheet_xml(rows)))

    message = load_error(path)

    assert 'sheet "Shipments" has 1,048,576 rows, more than the limit of 1,000,000 rows' in message
    assert "max_rows in ghl-fulfill.toml" in message


def test_xlsx_sheet_cells_limit(tmp_path: Path) -> None:
    """A cell at ALL999999 is within the row and column limits, but its grid is a billion cells."""
    rows = HEADER_ROW + '<row r="999999">' + inline_cell("ALL999999", "x") + "</row>"
    path = write(tmp_path, "far.xlsx", xlsx_bytes(sheet_xml(rows)))

    message = load_error(path)

    assert 'sheet "Shipments" spans 999,999 rows by 1,000 columns' in message
    assert "more than the limit of 20,000,000 cells" in message
    assert "max_sheet_cells in ghl-fulfill.toml" in message


def test_ods_repeated_rows_rejected(tmp_path: Path) -> None:
    rows = ods_row(ods_cell("Order ID")) + ods_row(ods_cell("A1"), repeated=1_000_000)
    path = write(tmp_path, "tall.ods", ods_bytes(rows))

    message = load_error(path)

    assert 'sheet "Shipments" has 1,000,001 rows' in message


def test_ods_far_column_rejected(tmp_path: Path) -> None:
    rows = ods_row(ods_cell("Order ID") + ods_cell(None, repeated=5000) + ods_cell("x"))
    path = write(tmp_path, "wide.ods", ods_bytes(rows))

    message = load_error(path)

    assert 'sheet "Shipments", row 1 reaches column GJJ (column 5,002)' in message


def test_csv_long_cell_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", b"Order ID,Tracking,Note\nA1,1Z1," + b"n" * 40_000 + b"\n")

    message = load_error(path)

    assert "row 2, column C: the cell has 40,000 characters" in message
    assert "limit of 32,767" in message
    assert "max_cell_characters in ghl-fulfill.toml" in message


def test_xlsx_long_cell_rejected(tmp_path: Path) -> None:
    rows = (
        HEADER_ROW
        + '<row r="2">'
        + inline_cell("A2", "A1")
        + inline_cell("B2", "n" * 40_000)
        + "</row>"
    )
    path = write(tmp_path, "long.xlsx", xlsx_bytes(sheet_xml(rows)))

    message = load_error(path)

    assert "row 2, column B: the cell has 40,000 characters" in message


def test_csv_rows_limit(tmp_path: Path) -> None:
    lines = b"".join(b"A%d,1Z%d\n" % (row, row) for row in range(10))
    path = write(tmp_path, "tall.csv", b"Order ID,Tracking\n" + lines)

    message = load_error(path, LoadOptions(max_rows=5))

    assert "has more rows than the limit of 5 rows" in message
    assert "max_rows in ghl-fulfill.toml" in message


def test_csv_cells_limit(tmp_path: Path) -> None:
    """A CSV file is held to max_sheet_cells too, counted while it is read."""
    lines = b"".join(b"A%d,1Z%d\n" % (row, row) for row in range(10))
    path = write(tmp_path, "wide.csv", b"Order ID,Tracking\n" + lines)

    message = load_error(path, LoadOptions(max_sheet_cells=15))

    assert "has more than 15 cells by row 8" in message
    assert "max_sheet_cells in ghl-fulfill.toml" in message


def test_large_csv_cells_limit(tmp_path: Path) -> None:
    """A UTF-8 CSV over 1 MB, read a column at a time, is held to max_sheet_cells as well."""
    lines = b"".join(b"A%07d,1Z%020d\n" % (row, row) for row in range(50_000))
    path = write(tmp_path, "large.csv", b"Order ID,Tracking\n" + lines)

    message = load_error(path, LoadOptions(max_sheet_cells=90_000))

    assert "more than 90,000 cells" in message


def test_csv_nul_byte_names_row(tmp_path: Path) -> None:
    """A NUL byte in the first bytes of a CSV is reported with its row, not as an unknown format."""
    path = write(tmp_path, "nul.csv", b"Order ID,Tracking\nA1,1Z1\nA2,1Z\x002\n")

    message = load_error(path)

    assert "row 3, column B (line 3) contains a NUL character" in message
    assert "not a CSV, Excel or OpenDocument file" not in message


def test_csv_late_nul_byte_names_row(tmp_path: Path) -> None:
    """A NUL byte past the first 8 KB is reported the same way, after a quoted line break."""
    lines = b"".join(b"A%d,1Z%d\n" % (row, row) for row in range(1000))
    data = b'Order ID,Tracking\n"A\nB",x\n' + lines + b"A9,\x00\n"
    path = write(tmp_path, "nul.csv", data)

    message = load_error(path)

    assert "row 1003, column B (line 1004) contains a NUL character" in message


def test_binary_file_still_unknown(tmp_path: Path) -> None:
    """Data with many NUL and control bytes is still not taken for text."""
    path = write(tmp_path, "data.csv", bytes(range(256)) * 4)

    message = load_error(path)

    assert "is not a CSV, Excel or OpenDocument file" in message


# --- settings -------------------------------------------------------------------------


def test_limit_settings_reach_load_options(tmp_path: Path) -> None:
    config = tmp_path / "ghl-fulfill.toml"
    config.write_text(
        "max_uncompressed_mb = 10\nmax_compression_ratio = 50\nmax_rows = 500\n"
        "max_columns = 40\nmax_cell_characters = 1000\nmax_sheet_cells = 9000\n",
        encoding="utf-8",
    )

    options = load_settings(config_path=config, environ={}, flags={}, cwd=tmp_path).load_options

    assert options.max_uncompressed_bytes == 10 * 2**20
    assert options.max_compression_ratio == 50
    assert options.max_rows == 500
    assert options.max_columns == 40
    assert options.max_cell_characters == 1000
    assert options.max_sheet_cells == 9000


def test_limit_settings_defaults(tmp_path: Path) -> None:
    options = load_settings(config_path=None, environ={}, flags={}, cwd=tmp_path).load_options

    assert options == LoadOptions()


@pytest.mark.parametrize(
    ("setting", "value"),
    [("max_columns", 20_000), ("max_rows", 0), ("max_compression_ratio", -1)],
)
def test_limit_setting_out_of_range(tmp_path: Path, setting: str, value: int) -> None:
    config = tmp_path / "ghl-fulfill.toml"
    config.write_text(f"{setting} = {value}\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_settings(config_path=config, environ={}, flags={}, cwd=tmp_path)

    assert f"{setting} (from {setting} in {config}) must be more than 0" in str(caught.value)


def _letters(column: int) -> str:
    letters = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
