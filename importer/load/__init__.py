"""Read a CSV, Excel, OpenDocument or HTML-table file into a table of text cells.

Every cell is read as text exactly as the file stores it: no library is allowed
to guess numbers or dates, because tracking numbers and order IDs lose digits or
leading zeros when they pass through a float. Row numbers are the numbers a
spreadsheet program shows, so messages can point the user at the right row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from importer.errors import InputFileError
from importer.load.files import (
    check_options,
    check_size,
    check_unchanged,
    is_text_with_nul,
    lock_file_note,
    read_head,
    renamed_note,
    sniff,
    stat_file,
    text_option_notes,
)
from importer.load.records import (
    ABOVE_HEADER,
    BLANK_ROW,
    DELIMITERS,
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    MIN_HEADER_SCORE,
    REPEATED_HEADER,
    TOTALS_ROW,
    WORKBOOK_SUFFIXES,
    HeaderScore,
    IgnoredRow,
    LoadOptions,
    Merge,
    Reading,
    Rows,
    SourceRow,
    Table,
    to_numpy,
)
from importer.load.text import load_text
from importer.load.workbooks import load_calamine, load_ole2, ods_message, xlsx_message

__all__ = [
    "ABOVE_HEADER",
    "BLANK_ROW",
    "DELIMITERS",
    "HEADER_SEARCH_ROWS",
    "MAX_COLUMNS",
    "MIN_HEADER_SCORE",
    "REPEATED_HEADER",
    "TOTALS_ROW",
    "WORKBOOK_SUFFIXES",
    "HeaderScore",
    "IgnoredRow",
    "LoadOptions",
    "Merge",
    "Rows",
    "SourceRow",
    "Table",
    "load_table",
    "to_numpy",
]


_DEFAULT_OPTIONS = LoadOptions()


def load_table(
    path: Path,
    options: LoadOptions = _DEFAULT_OPTIONS,
    *,
    header_score: HeaderScore | None = None,
) -> Table:
    """Read a CSV, Excel, OpenDocument or HTML-table file into a Table.

    The content decides how the file is read, whatever the file name ends in.
    `header_score` rates how much a row looks like a header (the number of fields
    it names); without it the first non-blank row is the header. Raises
    UsageError for an invalid option and InputFileError with a message for the
    user when the file cannot be read.
    """
    check_options(options)
    before = stat_file(path)
    check_size(path, before, options.max_file_bytes)

    head = read_head(path)
    reading = Reading(options, header_score or _no_header_score)
    table = _load_content(path, head, reading)

    check_unchanged(path, before)
    return table


def _no_header_score(cells: Sequence[str]) -> int:
    return 0


def _load_content(path: Path, head: bytes, reading: Reading) -> Table:
    kind = sniff(head)
    if kind == "binary" and reading.options.encoding is not None:
        kind = "text"  # UTF-16 or UTF-32 without a byte order mark has NUL bytes
    if kind == "binary" and is_text_with_nul(head):
        kind = "text"  # the text reader names the row of the NUL byte
    suffix = path.suffix.lower()

    if kind == "ods":
        notes = renamed_note(path, "an OpenDocument spreadsheet") if suffix != ".ods" else []
        notes.extend(text_option_notes(reading.options))
        return load_calamine(path, reading, notes, ods_message, ods=True)

    if kind == "zip":
        notes = renamed_note(path, "an Excel workbook") if suffix not in WORKBOOK_SUFFIXES else []
        notes.extend(text_option_notes(reading.options))
        notes.extend(lock_file_note(path))
        return load_calamine(path, reading, notes, xlsx_message, ods=False)

    if kind == "ole2":
        return load_ole2(path, reading)

    if kind == "text":
        return load_text(path, reading)

    if suffix in WORKBOOK_SUFFIXES:
        raise InputFileError(
            path,
            "could not be read as an Excel workbook (the file is not a ZIP archive); "
            "open it in Excel and save it again as .xlsx",
        )
    wide = _utf16_without_mark(head)
    if wide is not None:
        raise InputFileError(
            path,
            f"looks like {wide.upper()} text without a byte order mark, which is not read "
            f"unless asked for: import it again with --encoding {wide}, or export the "
            "shipments again as CSV (UTF-8) or .xlsx",
        )
    raise InputFileError(
        path,
        "is not a CSV, Excel or OpenDocument file; export the shipments again as CSV or .xlsx",
    )


def _utf16_without_mark(head: bytes) -> str | None:
    """Name the UTF-16 byte order of text whose every other byte is NUL, else return None."""
    sample = head[:4096]
    if len(sample) < 8:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    # ASCII letters in UTF-16 leave a NUL in one byte of each pair and none in the other.
    if odd_nuls > 0.9 and even_nuls < 0.1:
        return "utf-16-le"
    if even_nuls > 0.9 and odd_nuls < 0.1:
        return "utf-16-be"
    return None
