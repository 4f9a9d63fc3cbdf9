"""Read Excel and OpenDocument workbooks with calamine, choosing the sheet and filling merges."""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeElementTree
import python_calamine

from importer.errors import InputFileError
from importer.load.archive import SheetExtent, check_archive, check_extent
from importer.load.cells import cell_text
from importer.load.files import ZIP_MAGIC, renamed_note, text_option_notes
from importer.load.formulas import mark_formula_cells
from importer.load.records import (
    CONFIG_FILE,
    MIN_HEADER_SCORE,
    WORKBOOK_SUFFIXES,
    LoadOptions,
    Merge,
    RawRow,
    Reading,
    Table,
)
from importer.load.results import (
    RESULTS_NOTE,
    is_results_rows,
    results_sheet,
    set_aside_done_rows,
    split_results_rows,
)
from importer.load.table import best_header_score, build_table, is_blank
from importer.load.table import used_width as _used_width  # _fill_merged has a local used_width

# --- workbooks: choosing the sheet --------------------------------------------------


SheetReader = Callable[[int], list[RawRow]]


def _choose_sheet(
    path: Path,
    names: Sequence[str],
    read_sheet: SheetReader,
    reading: Reading,
    hidden: frozenset[int] = frozenset(),
) -> tuple[str, list[RawRow], list[str]]:
    """Return the name, rows and notes of the sheet to import.

    A forced sheet is read as set. Otherwise the one visible sheet whose
    header scores at least MIN_HEADER_SCORE wins, and failing that the first
    visible sheet that is not blank. When several visible sheets have such a
    header, importing either could fulfill the wrong day's orders, so the
    user must choose one with --sheet.
    """
    if reading.options.sheet is not None:
        index = _forced_sheet_index(path, names, reading.options.sheet)
        return names[index], read_sheet(index), _sheet_notes(index, names, set(), hidden)

    results = results_sheet(names)
    if results is not None and results not in hidden:
        rows = read_sheet(results)
        if is_results_rows(rows):
            return names[results], rows, []

    empty: set[int] = set()
    filled: list[tuple[int, list[RawRow]]] = []
    with_header: list[tuple[int, list[RawRow]]] = []
    for index in range(len(names)):
        if index in hidden:
            continue
        rows = read_sheet(index)
        if all(is_blank(row.cells) for row in rows):
            empty.add(index)
            continue
        filled.append((index, rows))
        if best_header_score(rows, reading.header_score) >= MIN_HEADER_SCORE:
            with_header.append((index, rows))

    if len(with_header) > 1:
        sheets = _join([f'"{names[index]}"' for index, _ in with_header])
        example = names[with_header[-1][0]]
        raise InputFileError(
            path,
            f"the sheets {sheets} have shipment columns, so the import cannot tell which one "
            f'to read; choose one with --sheet, for example --sheet "{example}"',
        )
    chosen = with_header or filled
    if not chosen:
        raise InputFileError(
            path,
            "the workbook contains no rows on any visible sheet; "
            "export the shipments again with a header row and one row per shipment",
        )
    index, rows = chosen[0]
    return names[index], rows, _sheet_notes(index, names, empty, hidden)


def _forced_sheet_index(path: Path, names: Sequence[str], sheet: str | int) -> int:
    if isinstance(sheet, int) and sheet <= len(names):
        return sheet - 1
    if isinstance(sheet, str):
        requested = sheet.strip().casefold()
        for index, name in enumerate(names):
            if name.strip().casefold() == requested:
                return index
        # A settings file may give the position as text; a sheet named "2" wins above.
        if requested.isdigit() and 1 <= int(requested) <= len(names):
            return int(requested) - 1

    label = f'"{sheet}"' if isinstance(sheet, str) else f"number {sheet}"
    listed = _join([f'"{name}"' for name in names])
    raise InputFileError(
        path,
        f"has no sheet {label}; its sheets are {listed}. Set --sheet (or sheet in "
        f"{CONFIG_FILE}) to one of these names or to a position from 1 to {len(names)}",
    )


def _sheet_notes(
    chosen: int, names: Sequence[str], empty: set[int], hidden: frozenset[int]
) -> list[str]:
    """Name the sheet read and the others, marking the ones known to be empty or hidden."""
    others = [
        f'"{name}"'
        + (" (empty)" if position in empty else "")
        + (" (hidden, not read)" if position in hidden else "")
        for position, name in enumerate(names)
        if position != chosen
    ]
    if not others:
        return []
    if len(others) > _NAMED_SHEETS:
        more = len(others) - _NAMED_SHEETS
        others = [*others[:_NAMED_SHEETS], f"{more:,} more sheets"]
    return [f'sheet "{names[chosen]}" was read; the workbook also has {_join(others)}']


# How many other sheets the note names before "and N more sheets".
_NAMED_SHEETS = 10


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _fill_merged(rows: list[RawRow], ranges: Iterable[Merge]) -> list[RawRow]:
    """Copy the top-left value of each merged range into all its cells.

    Exports merge an order ID over its item rows, and the file stores the
    value only in the first cell of the range. Ranges are (first column, first
    row, last column, last row), counted from 1, and are clipped to the rows read.
    """
    ranges = list(ranges)
    if not ranges:
        return rows

    grid = [list(row.cells) for row in rows]
    # A merge over whole rows would otherwise add thousands of empty columns.
    used_width = max((_used_width(cells) for cells in grid), default=0)
    for first_column, first_row, last_column, last_row in ranges:
        if first_row > len(grid) or first_column > used_width:
            continue
        top = grid[first_row - 1]
        value = top[first_column - 1] if first_column <= len(top) else ""
        last_column = min(last_column, used_width)
        for cells in grid[first_row - 1 : last_row]:
            cells.extend([""] * (last_column - len(cells)))
            cells[first_column - 1 : last_column] = [value] * (last_column - first_column + 1)
    return [RawRow(row.number, tuple(cells)) for row, cells in zip(rows, grid, strict=True)]


# --- workbooks: XLSX, XLSM, ODS and legacy XLS through calamine -------------------------


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


def xlsx_message(error: BaseException) -> str:
    if isinstance(error, python_calamine.PasswordError):
        return "is password-protected; remove the password in Excel and save it again as .xlsx"
    return (
        f"could not be read as an Excel workbook ({_describe(error)}); the file may be "
        "damaged or cut short: export it again, or open it in Excel and save it again as .xlsx"
    )


def load_ole2(path: Path, reading: Reading) -> Table:
    # Excel stores both legacy .xls files and password-protected .xlsx files
    # in an OLE2 container, so the magic bytes alone cannot tell them apart.
    suffix = path.suffix.lower()
    notes = renamed_note(path, "a legacy Excel .xls workbook") if suffix != ".xls" else []
    notes.extend(text_option_notes(reading.options))
    return load_calamine(
        path, reading, notes, lambda error: _ole2_message(suffix, error), ods=False
    )


def _ole2_message(suffix: str, error: BaseException) -> str:
    reason = f" ({_describe(error)})"
    if isinstance(error, python_calamine.PasswordError):
        return "is password-protected; remove the password in Excel and save it again as .xlsx"
    if suffix == ".xls":
        return (
            f"could not be read as a legacy Excel .xls workbook{reason}; "
            "open it in Excel and save it as .xlsx or CSV"
        )
    if suffix in WORKBOOK_SUFFIXES:
        return (
            "is password-protected (or a damaged legacy .xls renamed); "
            "remove the password in Excel or save it again as .xlsx"
        )
    return (
        "is a legacy Excel .xls file or a password-protected workbook, which cannot be read"
        f"{reason}; open it in Excel, remove any password and save it as .xlsx or CSV"
    )


def ods_message(error: BaseException) -> str:
    return (
        f"could not be read as an OpenDocument spreadsheet ({_describe(error)}); "
        "open it in a spreadsheet program and save it again as .xlsx or CSV"
    )


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODS_CELLS = (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell")
# calamine keeps at most Excel's 1,048,576 rows and 16,384 columns of an
# OpenDocument sheet and drops what repeats past them.
_ODS_MAX_ROWS = 1_048_576
_ODS_MAX_COLUMNS = 16_384
# zipfile raises BadZipFile for a damaged archive and KeyError for a missing
# member. It raises NotImplementedError for an unknown compression method and
# RuntimeError for an encrypted member. zlib.error, EOFError and lzma.LZMAError
# come from unpacking damaged data. ElementTree raises ParseError (a
# SyntaxError) on bad XML, defusedxml raises DefusedXmlException (a ValueError)
# on entities, and int() raises ValueError for a bad span or repeat count.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    EOFError,
    lzma.LZMAError,
    SyntaxError,
    ValueError,
)


def load_calamine(
    path: Path,
    reading: Reading,
    notes: list[str],
    failure: Callable[[BaseException], str],
    *,
    ods: bool,
) -> Table:
    """Read an Excel (.xlsx, .xlsm, .xls) or OpenDocument (.ods) workbook with calamine.

    calamine, a reader written in Rust, reads a 100,000-row sheet many times
    faster than openpyxl. The file is read into memory once, so the bytes
    checked against the load limits are the bytes calamine reads. `failure`
    turns a calamine or ZIP error into the message for the user.
    """
    try:
        data = path.read_bytes()
        is_zip = data.startswith(ZIP_MAGIC)
        if is_zip:
            check_archive(path, data, reading.options, xlsx=not ods)
        # calamine reports merged ranges of .xlsx and .xls files but not of
        # OpenDocument files, whose merges are read from their content.xml.
        ods_merges = _ods_layout(path, data, reading.options) if ods else None

        # Given a file object, calamine detects the format from the content; given a
        # path, it goes by the file name, which may be wrong.
        with python_calamine.load_workbook(io.BytesIO(data)) as workbook:
            # Chart sheets hold no cells; sheet positions count worksheets only.
            positions = [
                position
                for position, sheet in enumerate(workbook.sheets_metadata)
                if sheet.typ != python_calamine.SheetTypeEnum.ChartSheet
            ]

            def read_sheet(index: int) -> list[RawRow]:
                sheet = workbook.get_sheet_by_index(positions[index])
                if ods_merges is None:
                    merges = _calamine_merges(sheet)
                else:
                    merges = ods_merges[index] if index < len(ods_merges) else []
                return _fill_merged(_calamine_rows(sheet), merges)

            names = [workbook.sheet_names[position] for position in positions]
            hidden = frozenset(
                index
                for index, position in enumerate(positions)
                if workbook.sheets_metadata[position].visible
                != python_calamine.SheetVisibleEnum.Visible
            )
            name, raw_rows, sheet_notes = _choose_sheet(path, names, read_sheet, reading, hidden)
        if is_zip and not ods:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                raw_rows, formula_notes = mark_formula_cells(archive, name, raw_rows)
            sheet_notes.extend(formula_notes)
    except (python_calamine.CalamineError, OSError, *_ARCHIVE_ERRORS) as error:
        raise InputFileError(path, failure(error)) from error

    if not is_results_rows(raw_rows):
        notes.extend(sheet_notes)
        return build_table(path, raw_rows, name, notes, reading)

    raw_rows, statuses = split_results_rows(raw_rows)
    notes.extend([*sheet_notes, RESULTS_NOTE])
    return set_aside_done_rows(build_table(path, raw_rows, name, notes, reading), statuses)


def _calamine_rows(sheet: python_calamine.CalamineSheet) -> list[RawRow]:
    # skip_empty_area=False starts at cell A1, so positions are the sheet's row numbers.
    values = sheet.to_python(skip_empty_area=False)
    return [
        RawRow(number, tuple(cell_text(value) for value in row))
        for number, row in enumerate(values, start=1)
    ]


def _calamine_merges(sheet: python_calamine.CalamineSheet) -> list[Merge]:
    # calamine gives ((first row, first column), (last row, last column)) counted from 0.
    return [
        (first[1] + 1, first[0] + 1, last[1] + 1, last[0] + 1)
        for first, last in sheet.merged_cell_ranges or []
    ]


class _OdsSheet:
    """The merged ranges and the extent of one OpenDocument sheet, built while it is parsed."""

    def __init__(self, name: str) -> None:
        self.merges: list[Merge] = []
        self.extent = SheetExtent(name)
        self.row_last_column = 0  # the last column with content in the row being read

    def end_cell(self, element: ElementTree.Element, column: int) -> int:
        """Count a cell's repeats; return the column after it."""
        repeats = int(element.get(_ODS_TABLE + "number-columns-repeated", "1"))
        column += max(repeats, 1)
        if len(element) or element.get(_ODS_OFFICE + "value-type"):
            self.row_last_column = column
        return column

    def end_row(self, element: ElementTree.Element, row: int) -> int:
        """Count a row's repeats, widening the extent if it has content; return the next row."""
        repeats = max(int(element.get(_ODS_TABLE + "number-rows-repeated", "1")), 1)
        if self.row_last_column:
            extent = self.extent
            extent.rows = min(row + repeats, _ODS_MAX_ROWS)
            columns = min(self.row_last_column, _ODS_MAX_COLUMNS)
            if columns > extent.columns:
                extent.columns, extent.row_of_last_column = columns, row + 1
        self.row_last_column = 0
        return row + repeats


def _ods_layout(path: Path, data: bytes, options: LoadOptions) -> list[list[Merge]]:
    """Read the merged ranges of each sheet of an OpenDocument file, in sheet order.

    A merged cell carries number-rows-spanned and number-columns-spanned. Rows
    and cells repeated with number-rows-repeated and number-columns-repeated
    count once per repeat, so positions match the sheet's. Each sheet's extent
    is checked against the load limits here, before calamine builds its grid.
    """
    sheets: list[_OdsSheet] = []
    row = column = 0
    with (
        zipfile.ZipFile(io.BytesIO(data)) as archive,
        archive.open("content.xml") as stream,
    ):
        for event, element in SafeElementTree.iterparse(stream, events=("start", "end")):
            tag = element.tag
            if event == "start" and tag == _ODS_TABLE + "table":
                sheets.append(_OdsSheet(element.get(_ODS_TABLE + "name", "")))
                row = 0
            elif event == "start" and tag == _ODS_TABLE + "table-row":
                column = 0
            elif event == "start" and tag in _ODS_CELLS and sheets:
                sheets[-1].merges.extend(_ods_span(element, row, column))
            elif event == "end" and tag in _ODS_CELLS and sheets:
                column = sheets[-1].end_cell(element, column)
                element.clear()
            elif event == "end" and tag == _ODS_TABLE + "table-row" and sheets:
                row = sheets[-1].end_row(element, row)
                element.clear()
    for sheet in sheets:
        check_extent(path, sheet.extent, options)
    return [sheet.merges for sheet in sheets]


def _ods_span(element: ElementTree.Element, row: int, column: int) -> list[Merge]:
    rows = int(element.get(_ODS_TABLE + "number-rows-spanned", "1"))
    columns = int(element.get(_ODS_TABLE + "number-columns-spanned", "1"))
    if rows <= 1 and columns <= 1:
        return []
    return [(column + 1, row + 1, column + columns, row + rows)]
