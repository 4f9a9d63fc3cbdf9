"""Build a Table from raw rows, finding the header row and setting aside rows without a shipment."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl.utils import get_column_letter

from importer.errors import InputFileError
from importer.load.limits import check_raw_rows
from importer.load.records import (
    ABOVE_HEADER,
    BLANK_ROW,
    CONFIG_FILE,
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    MIN_HEADER_SCORE,
    REPEATED_HEADER,
    TOTALS_ROW,
    HeaderScore,
    IgnoredRow,
    RawRow,
    Reading,
    Rows,
    SourceRow,
    Table,
)

_TOTALS_LABEL = re.compile(r"(grand\s+)?(total|totals|sum|count)\s*:?", re.IGNORECASE)
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


# Singular and plural nouns that count each reason in the table's notes.
_REASON_NOUNS = {
    BLANK_ROW: ("blank row", "blank rows"),
    ABOVE_HEADER: ("row above the header row", "rows above the header row"),
    REPEATED_HEADER: ("repeated header row", "repeated header rows"),
    TOTALS_ROW: ("totals row", "totals rows"),
}


def is_blank(cells: Iterable[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def used_width(cells: Sequence[str]) -> int:
    """Return the number of cells up to and including the last one that is not blank."""
    for index in range(len(cells) - 1, -1, -1):
        if cells[index].strip():
            return index + 1
    return 0


def fit(cells: Sequence[str], width: int) -> tuple[str, ...]:
    # Cells past `width` are blank by construction of `width`, so cutting them loses nothing.
    fitted = tuple(cells[:width])
    return fitted + ("",) * (width - len(fitted))


# The results workbook lists every input row below its own header row, and an
# Excel sheet has at most 1,048,576 rows.
MAX_ROWS = 1_048_575


def check_row_count(path: Path, count: int) -> None:
    """Raise InputFileError when a file has more rows than a results sheet can list."""
    if count > MAX_ROWS:
        raise InputFileError(
            path,
            f"has {count:,} rows besides the header, more than the {MAX_ROWS:,} that the "
            "results workbook can list; split the file into smaller files and import each",
        )


def build_table(
    path: Path,
    raw_rows: Sequence[RawRow],
    sheet: str | None,
    notes: list[str],
    reading: Reading,
) -> Table:
    check_row_count(path, len(raw_rows) - 1)
    check_raw_rows(path, raw_rows, reading.options)
    position = header_position(path, raw_rows, reading)
    header = raw_rows[position]
    width = max(used_width(row.cells) for row in raw_rows[position:])
    if width > MAX_COLUMNS:
        raise InputFileError(
            path,
            f"has {width:,} columns, more than the {MAX_COLUMNS:,} a spreadsheet can show; "
            "check that it is a shipping export and that its columns are separated correctly",
        )

    header_cells = fit(header.cells, width)
    below = raw_rows[position + 1 :]
    notes.extend(headerless_column_notes(header_cells, _first_filled_row(below)))
    rows, ignored = _sort_rows(raw_rows, position, header_cells)
    notes.extend(ignored_notes(ignored, header.number))

    return Table(
        path=path,
        headers=name_headers(header_cells),
        header_row=header.number,
        rows=Rows.of(rows),
        ignored=tuple(sorted(ignored, key=lambda row: row.number)),
        sheet=sheet,
        notes=tuple(notes),
    )


def header_position(path: Path, raw_rows: Sequence[RawRow], reading: Reading) -> int:
    """Return the position in `raw_rows` of the header: forced, detected or the first non-blank."""
    if reading.options.header_row is not None:
        return _forced_header_position(path, raw_rows, reading.options.header_row)

    candidates = _header_candidates(raw_rows)
    if not candidates:
        raise InputFileError(
            path,
            "the file contains no rows; export the shipments again with a header row "
            "and one row per shipment",
        )

    scores = [reading.header_score(raw_rows[position].cells) for position in candidates]
    best = max(scores)
    if best < MIN_HEADER_SCORE:
        # Nothing looks like a header, so the first row is taken and column mapping
        # reports which columns it misses.
        return candidates[0]

    # A legend row above the table may name as many fields as the header does.
    # The header names every column, so among equal scores the fullest row wins.
    tied = [position for position, score in zip(candidates, scores, strict=True) if score == best]
    return max(tied, key=lambda position: (_filled_cells(raw_rows[position]), -position))


def _filled_cells(row: RawRow) -> int:
    return sum(1 for cell in row.cells if cell.strip())


def _header_candidates(raw_rows: Sequence[RawRow]) -> list[int]:
    positions = [position for position, row in enumerate(raw_rows) if not is_blank(row.cells)]
    return positions[:HEADER_SEARCH_ROWS]


def best_header_score(raw_rows: Sequence[RawRow], score: HeaderScore) -> int:
    return max(
        (score(raw_rows[position].cells) for position in _header_candidates(raw_rows)), default=0
    )


def _forced_header_position(path: Path, raw_rows: Sequence[RawRow], number: int) -> int:
    setting = f"--header-row (or header_row in {CONFIG_FILE})"
    for position, row in enumerate(raw_rows):
        if row.number == number and not is_blank(row.cells):
            return position
        if row.number == number:
            raise InputFileError(
                path,
                f"the header row is set to row {number}, but that row is blank; change {setting}",
            )

    last = raw_rows[-1].number if raw_rows else 0
    raise InputFileError(
        path,
        f"the header row is set to row {number}, but the last row is {last}; change {setting}",
    )


def _sort_rows(
    raw_rows: Sequence[RawRow], header_position: int, header_cells: tuple[str, ...]
) -> tuple[list[SourceRow], list[IgnoredRow]]:
    """Split the rows other than the header into data rows and ignored rows with a reason."""
    width = len(header_cells)
    header = HeaderKey.of(header_cells)
    rows: list[SourceRow] = []
    ignored: list[IgnoredRow] = []

    for position, raw in enumerate(raw_rows):
        if position == header_position:
            continue
        cells = fit(raw.cells, width)
        if is_blank(raw.cells):
            ignored.append(IgnoredRow(raw.number, cells, BLANK_ROW))
        elif position < header_position:
            # A title or banner may reach past the data's last column; keep all of it.
            whole = fit(raw.cells, max(width, used_width(raw.cells)))
            ignored.append(IgnoredRow(raw.number, whole, ABOVE_HEADER))
        elif header.is_repeated_by(cells):
            ignored.append(IgnoredRow(raw.number, cells, REPEATED_HEADER))
        else:
            rows.append(SourceRow(raw.number, cells))

    while rows and is_totals_row(rows[-1].cells):
        totals = rows.pop()
        ignored.append(IgnoredRow(totals.number, totals.cells, TOTALS_ROW))
    return rows, ignored


@dataclass(frozen=True)
class HeaderKey:
    """The header's cells as normalize_header gives them, to spot rows that repeat it."""

    normalized: tuple[str, ...]
    # normalize_header only changes case and spacing and drops punctuation, so
    # cells that normalize alike have the same letters and digits. Comparing
    # those first keeps the slower normalization off ordinary data rows.
    letters_and_digits: tuple[str, ...]

    @classmethod
    def of(cls, cells: Sequence[str]) -> HeaderKey:
        # mapping imports importer.load, which imports this module, so its header
        # normalization is imported at call time.
        from importer.mapping import normalize_header

        normalized = tuple(normalize_header(cell) for cell in cells)
        return cls(normalized, tuple(_letters_and_digits(cell) for cell in normalized))

    def is_repeated_by(self, cells: Sequence[str]) -> bool:
        """Tell whether a row equals the header once each cell is normalized as headers are."""
        for cell, key in zip(cells, self.letters_and_digits, strict=True):
            if _letters_and_digits(cell) != key:
                return False

        from importer.mapping import normalize_header

        pairs = zip(cells, self.normalized, strict=True)
        return all(normalize_header(cell) == key for cell, key in pairs)


def _letters_and_digits(text: str) -> str:
    return _NOT_LETTER_OR_DIGIT.sub("", text.casefold())


def is_totals_row(cells: Sequence[str]) -> bool:
    """Tell whether a row is labelled like a totals row ("Total", "Grand Total:", "Count").

    Only the last data rows are tested, so an order ID that happens to read
    "Total" in the middle of the file stays a data row.
    """
    first = next((cell.strip() for cell in cells if cell.strip()), "")
    return _TOTALS_LABEL.fullmatch(first) is not None


def ignored_notes(ignored: Sequence[IgnoredRow], header_number: int) -> list[str]:
    notes = []
    for reason, (singular, plural) in _REASON_NOUNS.items():
        count = sum(1 for row in ignored if row.reason == reason)
        if not count:
            continue
        note = f"{count} {singular if count == 1 else plural} skipped"
        if reason == ABOVE_HEADER:
            note += f" (the header is on row {header_number})"
        notes.append(note)
    return notes


def name_headers(cells: Sequence[str]) -> tuple[str, ...]:
    names = []
    for index, cell in enumerate(cells):
        text = cell.strip()
        names.append(text or f"Column {get_column_letter(index + 1)}")
    return tuple(names)


def headerless_column_notes(
    header_cells: Sequence[str], first_filled_row: Callable[[int], int | None]
) -> list[str]:
    """Name each column that has values but an empty header cell.

    `first_filled_row` gives, for a column index, the number of the first row
    below the header with a non-blank cell in that column, or None.
    """
    notes = []
    for index, cell in enumerate(header_cells):
        if cell.strip():
            continue
        first_row = first_filled_row(index)
        if first_row is None:
            continue
        letter = get_column_letter(index + 1)
        notes.append(
            f"column {letter} has values (first on row {first_row}) but no header; "
            f'it is called "Column {letter}"'
        )
    return notes


def _first_filled_row(rows: Sequence[RawRow]) -> Callable[[int], int | None]:
    def first(index: int) -> int | None:
        return next(
            (row.number for row in rows if index < len(row.cells) and row.cells[index].strip()),
            None,
        )

    return first
