"""Rows, tables, load options, limits and ignored-row reasons that all the readers share."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np
import pyarrow as pa

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})
DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 16_384  # the last column Excel can show is XFD, the 16,384th

# The header is looked for among this many non-blank rows at the top of a sheet,
# and a row must contain at least MIN_HEADER_SCORE fields of one template to win.
HEADER_SEARCH_ROWS = 30
MIN_HEADER_SCORE = 2

HeaderScore = Callable[[Sequence[str]], int]
Merge = tuple[int, int, int, int]  # first column, first row, last column, last row; from 1

CONFIG_FILE = "ghl-fulfill.toml"

BLANK_ROW = "blank row"
ABOVE_HEADER = "above the header row"
REPEATED_HEADER = "repeats the header row"
TOTALS_ROW = "totals row"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of the input file with its cells as text."""

    number: int  # the row number a spreadsheet program shows; the header row has one too
    cells: tuple[str, ...]  # exactly one cell per header


class Rows(Sequence[SourceRow]):
    """The data rows of a table, kept a column at a time.

    A large CSV is read straight into columns, and later stages check a
    column at a time, because one Python object per row and cell would take
    most of the run's time and memory. Rows from the other readers are kept as
    they come, and their columns are built the first time they are asked for.
    """

    __slots__ = ("_columns", "_numbers", "_rows")

    def __init__(
        self,
        *,
        columns: Sequence[pa.ChunkedArray] | None = None,
        numbers: np.ndarray | None = None,
        rows: Sequence[SourceRow] | None = None,
    ) -> None:
        self._rows = None if rows is None else tuple(rows)
        self._columns = None if columns is None else list(columns)
        self._numbers = numbers
        if self._rows is None and (self._columns is None or self._numbers is None):
            raise ValueError("Rows needs either rows, or columns and numbers")

    @classmethod
    def of(cls, rows: Sequence[SourceRow]) -> Rows:
        return cls(rows=rows)

    @property
    def is_columnar(self) -> bool:
        """Tell whether the rows were read straight into columns."""
        return self._rows is None

    @property
    def width(self) -> int:
        if self._columns is not None:
            return len(self._columns)
        return len(self._rows[0].cells) if self._rows else 0

    def column(self, index: int) -> pa.ChunkedArray:
        """Return one column as a large_string array, one value per row."""
        if self._columns is None:
            rows = self._rows or ()
            self._columns = [_column_of(rows, position) for position in range(self.width)]
        return self._columns[index]

    @property
    def numbers(self) -> np.ndarray:
        """Return the row numbers as an int64 array."""
        if self._numbers is None:
            self._numbers = np.fromiter((row.number for row in self._rows or ()), np.int64)
        return self._numbers

    def __len__(self) -> int:
        if self._rows is not None:
            return len(self._rows)
        return len(self.numbers)

    @overload
    def __getitem__(self, index: int) -> SourceRow: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SourceRow]: ...
    def __getitem__(self, index: int | slice) -> SourceRow | Sequence[SourceRow]:
        if self._rows is not None:
            return self._rows[index]
        if isinstance(index, slice):
            return tuple(self._row(position) for position in range(len(self))[index])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("row index out of range")
        return self._row(index)

    def _row(self, position: int) -> SourceRow:
        columns = self._columns or []
        cells = tuple(column[position].as_py() for column in columns)
        return SourceRow(int(self.numbers[position]), cells)

    def __iter__(self) -> Iterator[SourceRow]:
        if self._rows is not None:
            yield from self._rows
            return
        columns = self._columns or []
        numbers = self.numbers
        for start in range(0, len(numbers), _BATCH):
            values = [column[start : start + _BATCH].to_pylist() for column in columns]
            batch = numbers[start : start + _BATCH].tolist()
            for position, number in enumerate(batch):
                yield SourceRow(number, tuple(cells[position] for cells in values))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rows | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Rows({len(self)} rows)"


_BATCH = 4096


def to_numpy(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Copy a pyarrow array or column of numbers or booleans into a numpy array."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _column_of(rows: Sequence[SourceRow], position: int) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array([row.cells[position] for row in rows], pa.large_string())])


@dataclass(frozen=True)
class IgnoredRow:
    """A row that contains no shipment, kept so every input row is accounted for."""

    number: int
    cells: tuple[str, ...]  # at least one cell per header; a row above the header may have more
    reason: str  # BLANK_ROW, ABOVE_HEADER, REPEATED_HEADER or TOTALS_ROW


@dataclass(frozen=True)
class Table:
    """The header and rows of one CSV file or one workbook sheet."""

    path: Path
    headers: tuple[str, ...]  # stripped; an empty header cell becomes "Column <letter>"
    header_row: int
    rows: Rows  # data rows
    ignored: tuple[IgnoredRow, ...]  # rows without a shipment, header excluded, in file order
    sheet: str | None  # the workbook sheet read, None for CSV
    notes: tuple[str, ...]  # facts worth telling the user about how the file was read


@dataclass(frozen=True, kw_only=True)
class LoadOptions:
    """How to read a file, where the user overrides what is detected."""

    delimiter: str | None = None  # CSV delimiter, one character
    encoding: str | None = None  # Python codec name of a text file
    sheet: str | int | None = None  # workbook sheet: its name, or its position counting from 1
    header_row: int | None = None  # the header's row number, as a spreadsheet shows it
    # Limits that a real export stays far below and a hostile file (a ZIP bomb, a
    # sheet claiming a cell at XFD1048576) reaches at once. Each is a setting of
    # CONFIG_FILE, named in the message of a file that goes over it.
    max_file_bytes: int = 200 * 1024 * 1024  # max_file_mb
    # max_uncompressed_mb: all members of a workbook's ZIP archive together, unpacked
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    # max_compression_ratio: unpacked to packed size, of each large member and of the archive
    max_compression_ratio: int = 100
    max_rows: int = 1_000_000  # max_rows: rows of a CSV file or sheet, blank rows included
    max_columns: int = 1_000  # max_columns
    max_cell_characters: int = 32_767  # max_cell_characters: Excel's own limit for one cell
    # max_sheet_cells: rows times columns of a sheet's used range, empty cells
    # included, which is what the workbook reader allocates (32 bytes each)
    max_sheet_cells: int = 20_000_000


@dataclass(frozen=True, slots=True)
class RawRow:
    number: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    """Settings of one load: the user's options and the function that scores header rows."""

    options: LoadOptions
    header_score: HeaderScore
