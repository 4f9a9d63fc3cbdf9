"""Rows, tables, load options, limits and ignored-row reasons that all the readers share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

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
    rows: tuple[SourceRow, ...]  # data rows
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
    max_file_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawRow:
    number: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    """Settings of one load: the user's options and the function that scores header rows."""

    options: LoadOptions
    header_score: HeaderScore
