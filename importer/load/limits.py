"""Check a file against the load limits and word the message of a file that goes over one.

Every message names the limit and the setting of the settings file that
raises it, because a real export stays far below each limit and the user
must decide whether the file is the right one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from openpyxl.utils import get_column_letter

from importer.errors import InputFileError
from importer.load.records import CONFIG_FILE, LoadOptions, RawRow

BYTES_PER_MB = 1024 * 1024


class SheetSpan(Protocol):
    name: str
    rows: int
    columns: int


def raise_with(setting: str) -> str:
    return f"check that it is the right file, or raise the limit with {setting} in {CONFIG_FILE}"


def too_many_rows(
    path: Path, count: int | None, limit: int, sheet: str | None = None
) -> InputFileError:
    """Word the message for max_rows; `count` is None when reading stopped at the limit."""
    where = f'sheet "{sheet}" has' if sheet is not None else "has"
    rows = f"{count:,} rows, more" if count is not None else "more rows"
    return InputFileError(
        path, f"{where} {rows} than the limit of {limit:,} rows; {raise_with('max_rows')}"
    )


def too_many_columns(
    path: Path, count: int, limit: int, row: int, sheet: str | None = None
) -> InputFileError:
    where = f'sheet "{sheet}", row {row:,}' if sheet is not None else f"row {row:,}"
    return InputFileError(
        path,
        f"{where} reaches {_column_label(count)}, more than the limit of {limit:,} columns; "
        "check that the columns are separated correctly, or raise the limit with max_columns "
        f"in {CONFIG_FILE}",
    )


def too_many_sheet_cells(path: Path, extent: SheetSpan, limit: int) -> InputFileError:
    cells = extent.rows * extent.columns
    return InputFileError(
        path,
        f'sheet "{extent.name}" spans {extent.rows:,} rows by {extent.columns:,} columns, '
        f"{cells:,} cells counting the empty ones, more than the limit of {limit:,} cells; "
        f"{raise_with('max_sheet_cells')}",
    )


def too_many_cells(path: Path, row: int, limit: int) -> InputFileError:
    """Word the message for max_sheet_cells in a CSV file, whose reading stopped at `row`."""
    return InputFileError(
        path,
        f"has more than {limit:,} cells by row {row:,}, counting the empty ones; "
        f"{raise_with('max_sheet_cells')}",
    )


def too_long_cell(path: Path, row: int, column: int, length: int, limit: int) -> InputFileError:
    return InputFileError(
        path,
        f"row {row:,}, column {get_column_letter(column)}: the cell has {length:,} characters, "
        f"more than the limit of {limit:,} (Excel's own maximum for one cell); check the "
        "file for a quote that is never closed, or raise the limit with max_cell_characters "
        f"in {CONFIG_FILE}",
    )


def check_raw_rows(path: Path, raw_rows: Sequence[RawRow], options: LoadOptions) -> None:
    """Raise InputFileError for the first row over the row, column or cell-length limit."""
    if len(raw_rows) > options.max_rows:
        raise too_many_rows(path, len(raw_rows), options.max_rows)
    for row in raw_rows:
        check_row(path, row, options)


def check_row(path: Path, row: RawRow, options: LoadOptions) -> None:
    """Raise InputFileError when one row has too many cells or too long a cell."""
    cells = row.cells
    if len(cells) > options.max_columns and _last_filled(cells) > options.max_columns:
        raise too_many_columns(path, _last_filled(cells), options.max_columns, row.number)
    # max() over the lengths runs in C, so the common case costs one pass per row.
    if cells and max(map(len, cells)) > options.max_cell_characters:
        column, cell = next(
            (index, cell)
            for index, cell in enumerate(cells, start=1)
            if len(cell) > options.max_cell_characters
        )
        raise too_long_cell(path, row.number, column, len(cell), options.max_cell_characters)


def _column_label(number: int) -> str:
    # Column letters run out at ZZZ, the 18,278th column.
    if number > 18_278:
        return f"column {number:,}"
    return f"column {get_column_letter(number)} (column {number:,})"


def _last_filled(cells: Sequence[str]) -> int:
    # Trailing empty cells (a row padded to the sheet's width) do not count as columns.
    for index in range(len(cells) - 1, -1, -1):
        if cells[index].strip():
            return index + 1
    return 0
