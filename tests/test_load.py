"""Tests for importer.load: reading CSV and Excel files into tables of text."""

from __future__ import annotations

import csv
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from importer.errors import InputFileError
from importer.load import SourceRow, Table, load_table

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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


def load_error(path: Path) -> InputFileError:
    with pytest.raises(InputFileError) as caught:
        load_table(path)
    return caught.value


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


def test_csv_oversized_cell_rejected(tmp_path: Path) -> None:
    """A cell over the csv module's size limit becomes an InputFileError naming the line."""
    big = b"x" * (csv.field_size_limit() + 10)
    path = write_bytes(tmp_path, "orders.csv", b'Order ID,Tracking\nA1,"' + big + b'"\n')

    error = load_error(path)

    assert "line 2 could not be read as CSV" in str(error)
    assert isinstance(error.__cause__, csv.Error)


def test_csv_too_many_columns_rejected(tmp_path: Path) -> None:
    """A row wider than a spreadsheet's 16,384 columns stops the file."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID\nA1" + b",x" * 16_384 + b"\n")

    error = load_error(path)

    assert "has 16,385 columns" in str(error)


def test_csv_header_only_is_empty_table(tmp_path: Path) -> None:
    """A header row without data rows is an empty table, not an error."""
    path = write_bytes(tmp_path, "orders.csv", b"Order ID,Tracking\n\n")

    table = load_table(path)

    assert table.headers == ("Order ID", "Tracking")
    assert table.rows == ()
    assert table.ignored == (SourceRow(2, ("", "")),)


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
    assert table.rows[1].cells == ("A2", "1230000000000000", "1.152921504606847e+18")
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
    assert table.notes == ()


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

    assert "contains no rows on any sheet" in str(error)


def test_xlsx_truncated_zip_rejected(tmp_path: Path) -> None:
    """A cut-off workbook is reported as unreadable, chained to the ZIP error."""
    good = write_workbook(tmp_path, "good.xlsx", {"Shipments": [["Order ID"], ["A1"]]})
    data = good.read_bytes()
    path = write_bytes(tmp_path, "orders.xlsx", data[: len(data) // 2])

    error = load_error(path)

    assert str(error).startswith(f"{path}: could not be read as an Excel workbook (")
    assert "save it again as .xlsx" in str(error)
    assert isinstance(error.__cause__, zipfile.BadZipFile)


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
        f"{path}: is password-protected (or a legacy .xls renamed); "
        "remove the password in Excel or save it again as .xlsx"
    )


def test_xls_legacy_rejected(tmp_path: Path) -> None:
    """A legacy .xls file is rejected with the way to convert it."""
    path = write_bytes(tmp_path, "orders.xls", OLE2_MAGIC + bytes(504))

    error = load_error(path)

    assert str(error) == (
        f"{path}: legacy Excel .xls files are not supported yet; "
        "open it in Excel and save as .xlsx or CSV"
    )


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
    """Binary data that is neither ZIP nor OLE2 is not a CSV or XLSX file."""
    path = write_bytes(tmp_path, "orders.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00")

    error = load_error(path)

    assert str(error).startswith(f"{path}: is not a CSV or XLSX file;")


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
