"""Read the body of a large CSV straight into columns with pyarrow.

The rows above and including the header are read by the csv module, as for
every other CSV, so header detection and its messages stay the same. The
rows below the header are then parsed by pyarrow's CSV reader, which is
many times faster than building a Python tuple per row.

The two readers must agree cell for cell, and they do for well-formed CSV.
Where they could differ, read_columns returns None and the csv module reads
the whole file. That happens for a quote in the middle of a cell, NUL
characters, a row with another number of cells than the header, and any
parse error. The tests compare both readers on generated files.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from importer.load.limits import check_row, too_long_cell, too_many_cells, too_many_rows
from importer.load.records import (
    ABOVE_HEADER,
    BLANK_ROW,
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    REPEATED_HEADER,
    TOTALS_ROW,
    IgnoredRow,
    LoadOptions,
    RawRow,
    Reading,
    Rows,
    Table,
    to_numpy,
)
from importer.load.table import (
    HeaderKey,
    check_row_count,
    fit,
    header_position,
    headerless_column_notes,
    ignored_notes,
    is_blank,
    is_totals_row,
    name_headers,
    used_width,
)

# Smaller files are read by the csv module alone: it is fast enough there, and
# the one reader then handles every small file the same way.
MIN_BYTES = 1024 * 1024
# The header is looked for in this many bytes at the start of the file, as many
# characters as delimiter detection looks at.
HEAD_BYTES = 1024 * 1024
_BLOCK_BYTES = 16 * 1024 * 1024
_TOP_ROWS = 1000
# ASCII characters other than letters and digits, which letters-and-digits comparisons drop.
_ASCII_NOT_ALPHANUMERIC = r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]"


def read_columns(
    path: Path,
    head: str,
    data: bytes,
    start: int,
    whole: bool,
    delimiter: str,
    reading: Reading,
    notes: list[str],
) -> Table | None:
    """Read a UTF-8 CSV with its body parsed by pyarrow; None when the csv module must read it.

    The text starts at byte `start` of `data`; `head` is its decoded start,
    the whole of it when `whole` is true.
    """
    quoted = data.find(b'"', start) >= 0
    if not _safe_for_arrow(data, start, delimiter, quoted):
        return None
    parsed = _read_head(head, delimiter, whole)
    if parsed is None:
        return None
    head_rows, record_ends = parsed

    if not _header_is_in_head(head_rows, reading, whole):
        return None
    position = header_position(path, head_rows, reading)
    header = head_rows[position]

    body = start + len(head[: record_ends[position]].encode("utf-8"))
    for row in head_rows[: position + 1]:
        check_row(path, row, reading.options)
    width = len(header.cells)
    if width > reading.options.max_columns:
        return None  # the csv module reads the file and names the row that is too wide
    columns = _parse_body(pa.py_buffer(data)[body:], delimiter, width, quoted)
    if columns is None:
        return None
    table = _build(path, head_rows[: position + 1], columns, notes, reading.options)
    # The parser's buffers are free now; hand their memory back instead of
    # keeping it for later allocations, so the run's peak memory stays lower.
    pa.default_memory_pool().release_unused()
    return table


def _safe_for_arrow(data: bytes, start: int, delimiter: str, quoted: bool) -> bool:
    """Tell whether pyarrow reads the bytes from `start` on exactly as the csv module does."""
    if not delimiter.isascii() or len(delimiter) != 1 or data.find(b"\x00", start) >= 0:
        return False
    if not quoted:
        return True
    # An odd number of quotes means a quoted cell is never closed. pyarrow then
    # reads the rest of the file into that cell without an error, where the
    # csv path rejects the file with the row of the open quote.
    if data.count(b'"', start) % 2:
        return False
    # A quote that neither opens nor closes a cell (24" in an unquoted cell, or
    # text after a closing quote) is read differently by the two readers.
    separator = re.escape(delimiter.encode("ascii"))
    stray = re.compile(rb"[^" + separator + rb'\r\n"]"[^' + separator + rb'\r\n"]')
    return stray.search(data, start) is None


class LineRecorder:
    """Feed lines to csv.reader and keep the lines of the record being read."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text, newline="")
        self.current: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.current.append(line)
        return line


def _read_head(head: str, delimiter: str, whole: bool) -> tuple[list[RawRow], list[int]] | None:
    """Parse the records of the head with the csv module.

    Returns the records and the offset in `head` where each ends. A record cut
    by the end of the head is left out.
    """
    recorder = LineRecorder(head)
    reader = csv.reader(recorder, delimiter=delimiter, quotechar='"', strict=False)
    rows: list[RawRow] = []
    ends: list[int] = []
    offset = 0
    try:
        for number, cells in enumerate(reader, start=1):
            offset += sum(len(line) for line in recorder.current)
            recorder.current = []
            rows.append(RawRow(number, tuple(cells)))
            ends.append(offset)
    except csv.Error:
        return None

    if not whole and rows:
        # The last record may continue past the head.
        rows.pop()
        ends.pop()
    return rows, ends


def _header_is_in_head(head_rows: Sequence[RawRow], reading: Reading, whole_head: bool) -> bool:
    """Tell whether the head contains every row the header could be on."""
    if whole_head:
        return bool(head_rows)
    forced = reading.options.header_row
    if forced is not None:
        return any(row.number == forced for row in head_rows)
    filled = sum(1 for row in head_rows if not is_blank(row.cells))
    return filled >= HEADER_SEARCH_ROWS


def _parse_body(
    body: pa.Buffer, delimiter: str, width: int, quoted: bool
) -> list[pa.ChunkedArray] | None:
    """Parse the rows below the header into one large_string column each."""
    if width < 2 or width > MAX_COLUMNS or not body.size:
        return None
    names = [f"c{index}" for index in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                # Only a quoted cell can hold a line break, and reading
                # without quotes in mind is faster.
                newlines_in_values=quoted,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    return [table.column(index) for index in range(width)]


def _build(
    path: Path,
    head_rows: Sequence[RawRow],
    columns: list[pa.ChunkedArray],
    notes: list[str],
    options: LoadOptions,
) -> Table:
    header = head_rows[-1]
    count = len(columns[0])
    check_row_count(path, len(head_rows) - 1 + count)
    if len(head_rows) + count > options.max_rows:
        raise too_many_rows(path, len(head_rows) + count, options.max_rows)
    numbers = np.arange(header.number + 1, header.number + 1 + count, dtype=np.int64)
    _check_cell_lengths(path, columns, numbers, options.max_cell_characters)

    width = max(used_width(header.cells), _used_columns(columns))
    if (len(head_rows) + count) * width > options.max_sheet_cells:
        raise too_many_cells(path, header.number + count, options.max_sheet_cells)
    columns = columns[:width]
    header_cells = fit(header.cells, width)

    blank = _blank_rows(columns, count)
    repeated = _repeated_headers(columns, header_cells, blank)
    ignored = _above_header(head_rows[:-1], width)
    ignored += _ignored_rows(columns, numbers, blank, BLANK_ROW)
    ignored += _ignored_rows(columns, numbers, repeated, REPEATED_HEADER)

    rows = _data_rows(columns, numbers, ~(blank | repeated))
    totals, rows = _split_totals(rows)
    ignored += totals

    notes.extend(headerless_column_notes(header_cells, _first_filled_row(columns, numbers)))
    notes.extend(ignored_notes(ignored, header.number))
    return Table(
        path=path,
        headers=name_headers(header_cells),
        header_row=header.number,
        rows=rows,
        ignored=tuple(sorted(ignored, key=lambda row: row.number)),
        sheet=None,
        notes=tuple(notes),
    )


def _check_cell_lengths(
    path: Path, columns: Sequence[pa.ChunkedArray], numbers: np.ndarray, limit: int
) -> None:
    """Raise InputFileError for the first cell, column by column, over max_cell_characters."""
    for index, column in enumerate(columns):
        lengths = pc.utf8_length(column)
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= limit:
            continue
        position = pc.index(pc.greater(lengths, limit), True).as_py()
        length = lengths[position].as_py()
        raise too_long_cell(path, int(numbers[position]), index + 1, length, limit)


def _data_rows(columns: list[pa.ChunkedArray], numbers: np.ndarray, keep: np.ndarray) -> Rows:
    if keep.all():
        return Rows(columns=columns, numbers=numbers)
    mask = pa.array(keep)
    return Rows(columns=[column.filter(mask) for column in columns], numbers=numbers[keep])


def _filled(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Mark the cells that are not blank, as str.strip() decides."""
    # utf8_is_space and str.isspace() agree on every character, which the tests check.
    blank = pc.or_(pc.equal(pc.utf8_length(column), 0), pc.utf8_is_space(column))
    return pc.invert(blank)


def _used_columns(columns: Sequence[pa.ChunkedArray]) -> int:
    """Return the number of columns up to the last one with a non-blank cell."""
    for index in range(len(columns) - 1, -1, -1):
        if _is_used(columns[index]):
            return index + 1
    return 0


def _is_used(column: pa.ChunkedArray) -> bool:
    # A used column nearly always has a value near the top, which saves a pass.
    if pc.any(_filled(column.slice(0, _TOP_ROWS))).as_py():
        return True
    return bool(pc.any(_filled(column)).as_py())


def _blank_rows(columns: Sequence[pa.ChunkedArray], count: int) -> np.ndarray:
    """Mark the rows in which no column has a non-blank cell.

    Only rows blank in the first column are looked at in the others, and
    those are few.
    """
    candidates = np.flatnonzero(~to_numpy(_filled(columns[0])))
    for column in columns[1:]:
        if not len(candidates):
            break
        filled = to_numpy(_filled(column.take(pa.array(candidates))))
        candidates = candidates[~filled]
    blank = np.zeros(count, dtype=bool)
    blank[candidates] = True
    return blank


def _repeated_headers(
    columns: Sequence[pa.ChunkedArray], header_cells: tuple[str, ...], blank: np.ndarray
) -> np.ndarray:
    """Mark the rows that repeat the header, as the csv path's HeaderKey decides."""
    key = HeaderKey.of(header_cells)
    first = columns[0]
    # A row can repeat the header only if its first cell has the header's letters
    # and digits. For ASCII cells that is tested here for the whole column;
    # other cells are left to the exact check below.
    same_letters = pc.match_substring_regex(first, _letters_pattern(key.letters_and_digits[0]))
    candidates = pc.or_(same_letters, pc.invert(pc.string_is_ascii(first)))
    repeated = np.zeros(len(first), dtype=bool)
    for position in np.flatnonzero(candidates.to_numpy(zero_copy_only=False) & ~blank):
        cells = tuple(column[int(position)].as_py() for column in columns)
        repeated[position] = key.is_repeated_by(cells)
    return repeated


def _letters_pattern(letters: str) -> str:
    """Match ASCII text whose letters and digits, lowercased, are `letters`.

    The pattern fails at the first letter that differs, so testing a column
    with it is much quicker than removing the punctuation from every cell.
    """
    gap = f"{_ASCII_NOT_ALPHANUMERIC}*"
    parts = [f"[{re.escape(char)}{re.escape(char.upper())}]" for char in letters]
    return "^" + gap + gap.join(parts) + gap + "$"


def _above_header(rows: Sequence[RawRow], width: int) -> list[IgnoredRow]:
    ignored = []
    for raw in rows:
        if is_blank(raw.cells):
            ignored.append(IgnoredRow(raw.number, fit(raw.cells, width), BLANK_ROW))
        else:
            # A title or banner may reach past the data's last column; keep all of it.
            whole = fit(raw.cells, max(width, used_width(raw.cells)))
            ignored.append(IgnoredRow(raw.number, whole, ABOVE_HEADER))
    return ignored


def _ignored_rows(
    columns: Sequence[pa.ChunkedArray], numbers: np.ndarray, mask: np.ndarray, reason: str
) -> list[IgnoredRow]:
    positions = np.flatnonzero(mask)
    if not len(positions):
        return []
    indices = pa.array(positions)
    values = [column.take(indices).to_pylist() for column in columns]
    return [
        IgnoredRow(int(numbers[position]), tuple(cells[index] for cells in values), reason)
        for index, position in enumerate(positions)
    ]


def _split_totals(rows: Rows) -> tuple[list[IgnoredRow], Rows]:
    """Set aside totals rows at the end, as the csv path does."""
    count = len(rows)
    while count and is_totals_row(rows[count - 1].cells):
        count -= 1
    if count == len(rows):
        return [], rows
    totals = [
        IgnoredRow(row.number, row.cells, TOTALS_ROW)
        for row in (rows[position] for position in range(count, len(rows)))
    ]
    columns = [rows.column(index).slice(0, count) for index in range(rows.width)]
    return totals, Rows(columns=columns, numbers=rows.numbers[:count])


def _first_filled_row(
    columns: Sequence[pa.ChunkedArray], numbers: np.ndarray
) -> Callable[[int], int | None]:
    def first(index: int) -> int | None:
        marks = to_numpy(_filled(columns[index]))
        return int(numbers[int(np.argmax(marks))]) if marks.any() else None

    return first
