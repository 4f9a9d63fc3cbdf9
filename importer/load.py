"""Read a CSV, Excel, OpenDocument or HTML-table file into a table of text cells.

Every cell is read as text exactly as the file stores it: no library is allowed
to guess numbers or dates, because tracking numbers and order IDs lose digits or
leading zeros when they pass through a float. Row numbers are the numbers a
spreadsheet program shows, so messages can point the user at the right row.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import python_calamine
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from importer.errors import InputFileError, UsageError

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})
DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 16_384  # the last column Excel can show is XFD, the 16,384th

# The header is looked for among this many non-blank rows at the top of a sheet,
# and a row must contain at least MIN_HEADER_SCORE fields of one template to win.
HEADER_SEARCH_ROWS = 30
MIN_HEADER_SCORE = 2

HeaderScore = Callable[[Sequence[str]], int]
Merge = tuple[int, int, int, int]  # first column, first row, last column, last row; from 1

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# An OpenDocument file stores its uncompressed "mimetype" member first, so the
# media type sits at a fixed offset of the ZIP archive.
_ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
_ODS_MIMETYPE_OFFSET = 30
_SNIFF_BYTES = 8192
_MARKUP_STARTS = ("<!doctype", "<html", "<?xml", "<table", "<meta", "<head", "<body", "<!--")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
_TOTALS_LABEL = re.compile(r"(grand\s+)?(total|totals|sum|count)\s*:?", re.IGNORECASE)
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
_BYTES_PER_MB = 1024 * 1024
_CONFIG_FILE = "ghl-fulfill.toml"

# Floats at or above 2**53 no longer hold every integer exactly, so only smaller
# integral values are written as plain digits.
_EXACT_FLOAT_LIMIT = 2**53

# openpyxl reads workbook parts lazily and raises whatever its ZIP and XML layers
# raise on damaged input, so a damaged file can surface any of these.
_WORKBOOK_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    InvalidFileException,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    SyntaxError,  # xml.etree.ElementTree.ParseError and lxml's XMLSyntaxError
    EOFError,
    OSError,
)

BLANK_ROW = "blank row"
ABOVE_HEADER = "above the header row"
REPEATED_HEADER = "repeats the header row"
TOTALS_ROW = "totals row"

# Singular and plural nouns that count each reason in the table's notes.
_REASON_NOUNS = {
    BLANK_ROW: ("blank row", "blank rows"),
    ABOVE_HEADER: ("row above the header row", "rows above the header row"),
    REPEATED_HEADER: ("repeated header row", "repeated header rows"),
    TOTALS_ROW: ("totals row", "totals rows"),
}


@dataclass(frozen=True)
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


_DEFAULT_OPTIONS = LoadOptions()


@dataclass(frozen=True)
class _RawRow:
    number: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class _Reading:
    """Settings of one load: the user's options and the function that scores header rows."""

    options: LoadOptions
    header_score: HeaderScore


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
    _check_options(options)
    before = _stat_file(path)
    _check_size(path, before, options.max_file_bytes)

    head = _read_head(path)
    reading = _Reading(options, header_score or _no_header_score)
    table = _load_content(path, head, reading)

    _check_unchanged(path, before)
    return table


def _no_header_score(cells: Sequence[str]) -> int:
    return 0


def _load_content(path: Path, head: bytes, reading: _Reading) -> Table:
    kind = _sniff(head)
    if kind == "binary" and reading.options.encoding is not None:
        kind = "text"  # UTF-16 or UTF-32 without a byte order mark has NUL bytes
    suffix = path.suffix.lower()

    if kind == "ods":
        notes = _renamed_note(path, "an OpenDocument spreadsheet") if suffix != ".ods" else []
        notes.extend(_text_option_notes(reading.options))
        return _load_calamine(path, reading, notes, _ods_message, ods=True)

    if kind == "zip":
        notes = _renamed_note(path, "an Excel workbook") if suffix not in WORKBOOK_SUFFIXES else []
        notes.extend(_text_option_notes(reading.options))
        notes.extend(_lock_file_note(path))
        return _load_workbook(path, reading, notes)

    if kind == "ole2":
        return _load_ole2(path, reading)

    if kind == "text":
        return _load_text(path, reading)

    if suffix in WORKBOOK_SUFFIXES:
        raise InputFileError(
            path,
            "could not be read as an Excel workbook (the file is not a ZIP archive); "
            "open it in Excel and save it again as .xlsx",
        )
    raise InputFileError(
        path,
        "is not a CSV, Excel or OpenDocument file; export the shipments again as CSV or .xlsx",
    )


# --- options and the file itself ---------------------------------------------------


def _check_options(options: LoadOptions) -> None:
    """Raise UsageError naming the option when a forced value cannot work."""
    delimiter = options.delimiter
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise UsageError(
            f"delimiter {delimiter!r} is not valid; set --delimiter (or delimiter in "
            f'{_CONFIG_FILE}) to one character other than a quote, such as ";" or "|"'
        )

    if options.encoding is not None:
        _check_encoding(options.encoding)

    if options.header_row is not None and options.header_row < 1:
        raise UsageError(
            f"header row {options.header_row} is not valid; set --header-row (or header_row "
            f"in {_CONFIG_FILE}) to a row number from 1 up"
        )

    if isinstance(options.sheet, int) and options.sheet < 1:
        raise UsageError(
            f"sheet {options.sheet} is not valid; set --sheet (or sheet in {_CONFIG_FILE}) "
            "to a sheet name or a position from 1 up"
        )


def _check_encoding(encoding: str) -> None:
    try:
        # Decoding one byte, unlike codecs.lookup, also rejects codecs such as
        # base64 that exist but do not turn bytes into text. Python skips the
        # lookup for empty input, so the byte must be there.
        b"x".decode(encoding)
    except UnicodeDecodeError:
        pass  # the codec exists; one byte is too short for UTF-16 and the like
    except LookupError:
        raise UsageError(
            f'encoding "{encoding}" is not a known text encoding; set --encoding '
            f"(or encoding in {_CONFIG_FILE}) to a name such as utf-8, utf-16 or cp1252"
        ) from None


def _text_option_notes(options: LoadOptions) -> list[str]:
    # A delimiter or encoding set in the settings file applies to every file of a
    # run, so a workbook among them is read with a note instead of being rejected.
    settings = (("delimiter", options.delimiter), ("encoding", options.encoding))
    return [
        f"the {name} setting does not apply to a workbook and was not used"
        for name, value in settings
        if value is not None
    ]


def _stat_file(path: Path) -> os.stat_result:
    try:
        state = path.stat()
    except FileNotFoundError as error:
        raise InputFileError(path, "file not found; check the folder and the file name") from error
    except OSError as error:
        raise InputFileError(path, _os_error_message(error)) from error

    if path.is_dir():
        raise InputFileError(
            path, "is a folder, not a file; give the path of a CSV or XLSX file inside it"
        )
    return state


def _check_size(path: Path, state: os.stat_result, limit: int) -> None:
    if state.st_size <= limit:
        return
    raise InputFileError(
        path,
        f"is {state.st_size / _BYTES_PER_MB:,.1f} MB, more than the limit of "
        f"{limit / _BYTES_PER_MB:,.1f} MB; check that it is the right file, or raise the "
        f"limit with max_file_mb in {_CONFIG_FILE}",
    )


def _check_unchanged(path: Path, before: os.stat_result) -> None:
    """Raise when the file changed while it was read, as an export still being written does."""
    try:
        after = path.stat()
    except OSError as error:
        raise InputFileError(path, _os_error_message(error)) from error

    if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
        return
    raise InputFileError(
        path,
        "is still being written (it changed while it was read); "
        "try again when the export has finished",
    )


def _lock_file_note(path: Path) -> list[str]:
    # Excel creates "~$<name>" beside a workbook it has open. The file on disk is
    # still readable, but it lacks whatever the user has not saved yet.
    lock = path.with_name("~$" + path.name)
    if not lock.exists():
        return []
    return [
        f'the workbook seems to be open in Excel (its lock file "{lock.name}" is beside it); '
        "changes not saved in Excel are not part of this import"
    ]


# --- recognizing the file ---------------------------------------------------


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError as error:
        raise InputFileError(path, _os_error_message(error)) from error

    if not head:
        raise InputFileError(
            path, "the file is empty (0 bytes); export the shipments again and check it has rows"
        )
    return head


def _os_error_message(error: OSError) -> str:
    reason = error.strerror or str(error)
    return (
        f"could not be read ({reason}); check that you may open the file "
        "and that no other program has it locked"
    )


def _sniff(head: bytes) -> str:
    """Return "ods", "zip", "ole2", "text" or "binary" from the first bytes of a file."""
    if head.startswith(_ZIP_MAGIC):
        if head[_ODS_MIMETYPE_OFFSET:].startswith(_ODS_MIMETYPE):
            return "ods"
        return "zip"
    if head.startswith(_OLE2_MAGIC):
        return "ole2"
    if head.startswith(_UTF16_BOMS) or b"\x00" not in head:
        return "text"
    return "binary"


def _renamed_note(path: Path, content: str) -> list[str]:
    return [
        f'read as {content} because that is what the file contains, despite its name "{path.name}"'
    ]


# --- building the table -------------------------------------------------------


def _is_blank(cells: Iterable[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def _used_width(cells: Sequence[str]) -> int:
    """Return the number of cells up to and including the last one that is not blank."""
    for index in range(len(cells) - 1, -1, -1):
        if cells[index].strip():
            return index + 1
    return 0


def _fit(cells: Sequence[str], width: int) -> tuple[str, ...]:
    # Cells past `width` are blank by construction of `width`, so cutting them loses nothing.
    fitted = tuple(cells[:width])
    return fitted + ("",) * (width - len(fitted))


def _build_table(
    path: Path,
    raw_rows: Sequence[_RawRow],
    sheet: str | None,
    notes: list[str],
    reading: _Reading,
) -> Table:
    header_position = _header_position(path, raw_rows, reading)
    header = raw_rows[header_position]
    width = max(_used_width(row.cells) for row in raw_rows[header_position:])
    if width > MAX_COLUMNS:
        raise InputFileError(
            path,
            f"has {width:,} columns, more than the {MAX_COLUMNS:,} a spreadsheet can show; "
            "check that it is a shipping export and that its columns are separated correctly",
        )

    header_cells = _fit(header.cells, width)
    notes.extend(_headerless_column_notes(header, raw_rows[header_position + 1 :], width))
    rows, ignored = _sort_rows(raw_rows, header_position, header_cells)
    notes.extend(_ignored_notes(ignored, header.number))

    return Table(
        path=path,
        headers=_name_headers(header_cells),
        header_row=header.number,
        rows=tuple(rows),
        ignored=tuple(sorted(ignored, key=lambda row: row.number)),
        sheet=sheet,
        notes=tuple(notes),
    )


def _header_position(path: Path, raw_rows: Sequence[_RawRow], reading: _Reading) -> int:
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
    return candidates[scores.index(best)]


def _header_candidates(raw_rows: Sequence[_RawRow]) -> list[int]:
    positions = [position for position, row in enumerate(raw_rows) if not _is_blank(row.cells)]
    return positions[:HEADER_SEARCH_ROWS]


def _best_header_score(raw_rows: Sequence[_RawRow], score: HeaderScore) -> int:
    return max(
        (score(raw_rows[position].cells) for position in _header_candidates(raw_rows)), default=0
    )


def _forced_header_position(path: Path, raw_rows: Sequence[_RawRow], number: int) -> int:
    setting = f"--header-row (or header_row in {_CONFIG_FILE})"
    for position, row in enumerate(raw_rows):
        if row.number == number and not _is_blank(row.cells):
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
    raw_rows: Sequence[_RawRow], header_position: int, header_cells: tuple[str, ...]
) -> tuple[list[SourceRow], list[IgnoredRow]]:
    """Split the rows other than the header into data rows and ignored rows with a reason."""
    width = len(header_cells)
    header = _HeaderKey.of(header_cells)
    rows: list[SourceRow] = []
    ignored: list[IgnoredRow] = []

    for position, raw in enumerate(raw_rows):
        if position == header_position:
            continue
        cells = _fit(raw.cells, width)
        if _is_blank(raw.cells):
            ignored.append(IgnoredRow(raw.number, cells, BLANK_ROW))
        elif position < header_position:
            # A title or banner may reach past the data's last column; keep all of it.
            whole = _fit(raw.cells, max(width, _used_width(raw.cells)))
            ignored.append(IgnoredRow(raw.number, whole, ABOVE_HEADER))
        elif header.is_repeated_by(cells):
            ignored.append(IgnoredRow(raw.number, cells, REPEATED_HEADER))
        else:
            rows.append(SourceRow(raw.number, cells))

    while rows and _is_totals_row(rows[-1].cells):
        totals = rows.pop()
        ignored.append(IgnoredRow(totals.number, totals.cells, TOTALS_ROW))
    return rows, ignored


@dataclass(frozen=True)
class _HeaderKey:
    """The header's cells as normalize_header gives them, to spot rows that repeat it."""

    normalized: tuple[str, ...]
    # normalize_header only changes case and spacing and drops punctuation, so
    # cells that normalize alike have the same letters and digits. Comparing
    # those first keeps the slower normalization off ordinary data rows.
    letters_and_digits: tuple[str, ...]

    @classmethod
    def of(cls, cells: Sequence[str]) -> _HeaderKey:
        # mapping imports this module, so its header normalization is imported at call time.
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


def _is_totals_row(cells: Sequence[str]) -> bool:
    """Tell whether a row is labelled like a totals row ("Total", "Grand Total:", "Count").

    Only the last data rows are tested, so an order ID that happens to read
    "Total" in the middle of the file stays a data row.
    """
    first = next((cell.strip() for cell in cells if cell.strip()), "")
    return _TOTALS_LABEL.fullmatch(first) is not None


def _ignored_notes(ignored: Sequence[IgnoredRow], header_number: int) -> list[str]:
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


def _name_headers(cells: Sequence[str]) -> tuple[str, ...]:
    names = []
    for index, cell in enumerate(cells):
        text = cell.strip()
        names.append(text or f"Column {get_column_letter(index + 1)}")
    return tuple(names)


def _headerless_column_notes(
    header: _RawRow, data_rows: Sequence[_RawRow], width: int
) -> list[str]:
    """Name each column that has values but an empty header cell."""
    header_cells = _fit(header.cells, width)
    notes = []
    for index in range(width):
        if header_cells[index].strip():
            continue
        first_row = next(
            (
                row.number
                for row in data_rows
                if index < len(row.cells) and row.cells[index].strip()
            ),
            None,
        )
        if first_row is None:
            continue
        letter = get_column_letter(index + 1)
        notes.append(
            f"column {letter} has values (first on row {first_row}) but no header; "
            f'it is called "Column {letter}"'
        )
    return notes


# --- text: CSV and HTML tables ---------------------------------------------------


def _load_text(path: Path, reading: _Reading) -> Table:
    # The csv module reads CSV here, not pandas. It returns each cell as the exact
    # text of the file and never converts types. It also gives the physical lines
    # each record spans, which row numbers and error messages need.
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(path, _os_error_message(error)) from error

    notes: list[str] = []
    text = _decode(path, data, reading.options.encoding, notes)
    if text[:1024].lstrip().lower().startswith(_MARKUP_STARTS):
        return _load_html(path, text, reading, notes)

    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES | {".xls", ".ods"}:
        notes[:0] = _renamed_note(path, "CSV text")
    if reading.options.sheet is not None:
        notes.append(
            "the sheet setting does not apply to text, which has no sheets, and was not used"
        )
    return _load_csv(path, text, reading, notes)


def _load_csv(path: Path, text: str, reading: _Reading, notes: list[str]) -> Table:
    text, delimiter = _read_separator_line(text)
    first_line = 1 if delimiter is None else 2
    if reading.options.delimiter is not None:
        delimiter = reading.options.delimiter
    elif delimiter is None:
        delimiter = _detect_delimiter(text)
    if delimiter != ",":
        notes.append(f"columns are separated by {_delimiter_name(delimiter)}")

    raw_rows = _parse_csv(path, text, delimiter, first_line)
    return _build_table(path, raw_rows, None, notes, reading)


def _delimiter_name(delimiter: str) -> str:
    return _DELIMITER_NAMES.get(delimiter, f'"{delimiter}"')


def _decode(path: Path, data: bytes, encoding: str | None, notes: list[str]) -> str:
    if encoding is not None:
        return _decode_forced(path, data, encoding, notes)

    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise InputFileError(
                path,
                f"starts like UTF-16 text but could not be decoded ({error.reason}); "
                'save it again as "CSV UTF-8"',
            ) from error
        notes.append("read as UTF-16 text")
        return text

    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        utf8_line = _line_of(data, utf8_error.start)
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise InputFileError(
                path,
                f"is neither UTF-8 nor Windows-1252 text (byte 0x{data[error.start]:02X} "
                f'on line {_line_of(data, error.start)}); save it again as "CSV UTF-8"',
            ) from error
        notes.append(
            f"read as Windows-1252 because the file is not UTF-8 (first non-UTF-8 byte on "
            f'line {utf8_line}); if letters look wrong, save the file again as "CSV UTF-8"'
        )
        return text


def _decode_forced(path: Path, data: bytes, encoding: str, notes: list[str]) -> str:
    codec = codecs.lookup(encoding).name
    # A UTF-8 byte order mark is not part of the first header, even when UTF-8 is forced.
    codec = "utf-8-sig" if codec == "utf-8" else codec
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        raise InputFileError(
            path,
            f"could not be decoded as {encoding} (byte 0x{data[error.start]:02X} on line "
            f"{_line_of(data, error.start)}); set --encoding (or encoding in {_CONFIG_FILE}) "
            "to the file's real encoding, or leave it out to have it detected",
        ) from error
    notes.append(f"read as {encoding} text, as set")
    return text


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _read_separator_line(text: str) -> tuple[str, str | None]:
    """Remove Excel's optional first line "sep=<character>" and return the separator it names.

    Excel hides that line when it opens the file, so it does not count as a row.
    """
    first_line, _, rest = text.partition("\n")
    directive = first_line.rstrip("\r")
    if directive.lower().startswith("sep=") and len(directive) == 5 and directive[4] in DELIMITERS:
        return rest, directive[4]
    return text, None


def _detect_delimiter(text: str) -> str:
    """Pick the candidate that splits the first non-blank line into the most cells.

    Characters inside double quotes do not count. Ties go to the earlier
    candidate in DELIMITERS, so a one-column file is read with commas.
    """
    lines = io.StringIO(text, newline="")
    header_line = next((line for line in lines if line.strip()), "")
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for character in header_line:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    return max(DELIMITERS, key=lambda candidate: counts[candidate])


class _LineRecorder:
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


def _parse_csv(path: Path, text: str, delimiter: str, first_line: int) -> list[_RawRow]:
    """Split the text into records; `first_line` is the file line the text starts on."""
    recorder = _LineRecorder(text)
    # strict=False reads stray quotes the way Excel does, for example 24" in an
    # unquoted cell; an unclosed quote is checked for after the loop.
    reader = csv.reader(recorder, delimiter=delimiter, quotechar='"', strict=False)
    raw_rows: list[_RawRow] = []
    last_lines: list[str] = []

    try:
        for number, cells in enumerate(reader, start=1):
            raw_rows.append(_RawRow(number=number, cells=tuple(cells)))
            last_lines = recorder.current
            recorder.current = []
    except csv.Error as error:
        line = first_line + reader.line_num - 1
        raise InputFileError(
            path,
            f"line {line} could not be read as CSV ({error}); "
            "check that line for a missing closing quote or export the file again",
        ) from error

    last_record_line = first_line + reader.line_num - len(last_lines)
    _check_unclosed_quote(path, raw_rows, last_lines, last_record_line, delimiter)
    return raw_rows


def _check_unclosed_quote(
    path: Path,
    raw_rows: Sequence[_RawRow],
    last_lines: Sequence[str],
    first_line: int,
    delimiter: str,
) -> None:
    """Raise when the last record runs to the end of the file inside an open quote.

    The lenient reader then puts the rest of the file into one cell without an
    error, so the last record is scanned again the way csv.reader reads it.
    """
    if not _ends_inside_quotes("".join(last_lines), delimiter):
        return
    raise InputFileError(
        path,
        f"a quoted cell on row {raw_rows[-1].number} (line {first_line}) is never closed, "
        'so the rest of the file would be read as one cell; add the missing closing quote (") '
        "or export the file again",
    )


def _ends_inside_quotes(record: str, delimiter: str) -> bool:
    """Tell whether a record ends inside a quoted cell.

    As in csv.reader with strict=False, a quote opens a quoted cell only as the
    first character of a cell, so the quote of 24" in an unquoted cell is text.
    Inside a quoted cell, two quotes are one quote character and one quote closes it.
    """
    quoted = False
    cell_start = True
    position = 0
    while position < len(record):
        character = record[position]
        if quoted and character == '"' and record[position + 1 : position + 2] == '"':
            position += 2
            continue
        if character == '"' and (quoted or cell_start):
            quoted = not quoted
        cell_start = not quoted and character in (delimiter, "\r", "\n")
        position += 1
    return quoted


_LINE_BREAK = "\ue000"  # stands for <br> until the cell's whitespace is collapsed


class _HtmlTableParser(HTMLParser):
    """Collect the cell texts of the first <table> of a web page, row by row.

    Tables nested inside it are read as text of the cell that contains them. A
    cell spanning several columns is followed by empty cells, so later cells
    stay under their headers. NOTE: rowspan is not expanded.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._depth = 0  # how many tables are open; 1 inside the first table
        self._done = False
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        if tag == "table":
            self._depth += 1
        elif self._depth == 1 and tag == "tr":
            self._close_cell()
            self.rows.append([])
        elif self._depth == 1 and tag in ("td", "th") and self.rows:
            self._close_cell()
            self._cell = []
            self._span = _colspan(attrs)
        elif tag == "br" and self._cell is not None:
            self._cell.append(_LINE_BREAK)

    def handle_endtag(self, tag: str) -> None:
        if self._done or not self._depth:
            return
        if tag == "table":
            self._depth -= 1
            if not self._depth:
                self._close_cell()
                self._done = True
        elif self._depth == 1 and tag in ("td", "th", "tr"):
            self._close_cell()

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._done:
            self._cell.append(data)

    def close(self) -> None:
        super().close()
        self._close_cell()  # a page cut off inside a cell still gives that cell

    def _close_cell(self) -> None:
        if self._cell is None:
            return
        # Line breaks and runs of spaces in HTML source are layout, not content;
        # only <br> starts a new line in the cell.
        lines = "".join(self._cell).split(_LINE_BREAK)
        text = "\n".join(" ".join(line.split()) for line in lines).strip()
        self.rows[-1].extend([text] + [""] * (self._span - 1))
        self._cell = None


def _colspan(attrs: list[tuple[str, str | None]]) -> int:
    value = dict(attrs).get("colspan") or "1"
    return min(int(value), MAX_COLUMNS) if value.isdigit() and int(value) > 0 else 1


def _load_html(path: Path, text: str, reading: _Reading, notes: list[str]) -> Table:
    # Web portals often send an HTML table with an .xls name, which Excel opens as a sheet.
    parser = _HtmlTableParser()
    parser.feed(text)
    parser.close()
    if not parser.rows or all(_is_blank(row) for row in parser.rows):
        raise InputFileError(
            path,
            "is a web page or XML file without a table of shipments, not a CSV or XLSX file; "
            "open it in Excel and save it as .xlsx or CSV",
        )

    notes[:0] = [f'read as the first table of a web page (HTML) in "{path.name}"']
    raw_rows = [_RawRow(number, tuple(row)) for number, row in enumerate(parser.rows, start=1)]
    return _build_table(path, raw_rows, None, notes, reading)


# --- workbooks: choosing the sheet --------------------------------------------------


SheetReader = Callable[[int], list[_RawRow]]


def _choose_sheet(
    path: Path, names: Sequence[str], read_sheet: SheetReader, reading: _Reading
) -> tuple[str, list[_RawRow], list[str]]:
    """Return the name, rows and notes of the sheet to import.

    A forced sheet is read as set. Otherwise the first sheet whose header
    scores at least MIN_HEADER_SCORE wins, and failing that the first sheet
    that is not blank. Sheets after the chosen one are not read.
    """
    if reading.options.sheet is not None:
        index = _forced_sheet_index(path, names, reading.options.sheet)
        return names[index], read_sheet(index), _sheet_notes(index, names, set())

    empty: set[int] = set()
    first_filled: tuple[int, list[_RawRow]] | None = None
    for index in range(len(names)):
        rows = read_sheet(index)
        if all(_is_blank(row.cells) for row in rows):
            empty.add(index)
            continue
        first_filled = first_filled or (index, rows)
        if _best_header_score(rows, reading.header_score) >= MIN_HEADER_SCORE:
            return names[index], rows, _sheet_notes(index, names, empty)

    if first_filled is None:
        raise InputFileError(
            path,
            "the workbook contains no rows on any sheet; "
            "export the shipments again with a header row and one row per shipment",
        )
    index, rows = first_filled
    return names[index], rows, _sheet_notes(index, names, empty)


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
        f"{_CONFIG_FILE}) to one of these names or to a position from 1 to {len(names)}",
    )


def _sheet_notes(chosen: int, names: Sequence[str], empty: set[int]) -> list[str]:
    """Name the sheet read and the others, marking the ones known to be empty."""
    others = [
        f'"{name}"' + (" (empty)" if position in empty else "")
        for position, name in enumerate(names)
        if position != chosen
    ]
    if not others:
        return []
    return [f'sheet "{names[chosen]}" was read; the workbook also has {_join(others)}']


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _fill_merged(rows: list[_RawRow], ranges: Iterable[Merge]) -> list[_RawRow]:
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
    return [_RawRow(row.number, tuple(cells)) for row, cells in zip(rows, grid, strict=True)]


# --- workbooks: XLSX through openpyxl ------------------------------------------------


def _load_workbook(path: Path, reading: _Reading, notes: list[str]) -> Table:
    try:
        name, raw_rows, sheet_notes = _read_xlsx(path, reading)
    except _WORKBOOK_ERRORS as error:
        raise InputFileError(
            path,
            f"could not be read as an Excel workbook ({_describe(error)}); "
            "open it in Excel and save it again as .xlsx",
        ) from error

    notes.extend(sheet_notes)
    return _build_table(path, raw_rows, name, notes, reading)


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _read_xlsx(path: Path, reading: _Reading) -> tuple[str, list[_RawRow], list[str]]:
    with (
        path.open("rb") as stream,
        zipfile.ZipFile(path) as archive,
        warnings.catch_warnings(),
    ):
        # openpyxl warns about workbook features it drops (styles, data
        # validation, ...); none of them affect cell values.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        # openpyxl rejects a path unless its name ends in .xlsx, .xlsm, .xltx or
        # .xltm. A file object skips that check, and the content is already known to be a ZIP.
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        try:
            # Unlike workbook.sheetnames, workbook.worksheets leaves out chart sheets.
            worksheets = workbook.worksheets

            def read_sheet(index: int) -> list[_RawRow]:
                worksheet = worksheets[index]
                if not isinstance(worksheet, ReadOnlyWorksheet):
                    return []
                return _fill_merged(_read_sheet_rows(worksheet), _xlsx_merges(archive, worksheet))

            names = [worksheet.title for worksheet in worksheets]
            return _choose_sheet(path, names, read_sheet, reading)
        finally:
            workbook.close()


def _read_sheet_rows(worksheet: ReadOnlyWorksheet) -> list[_RawRow]:
    # Some programs write a wrong size into the sheet, so it is ignored and the
    # rows are read to the end. In read-only mode openpyxl 3.1 yields an empty row
    # for each row missing from the file, so counting from 1 gives sheet rows.
    worksheet.reset_dimensions()
    return [
        _RawRow(number=number, cells=tuple(_cell_text(value) for value in values))
        for number, values in enumerate(worksheet.values, start=1)
    ]


def _xlsx_merges(archive: zipfile.ZipFile, worksheet: ReadOnlyWorksheet) -> list[Merge]:
    """Read the sheet's <mergeCell ref="A2:A4"/> entries, which read-only openpyxl skips."""
    # openpyxl 3.1 keeps the sheet's member name in a private attribute; without
    # it the merges are left out rather than guessed.
    member = getattr(worksheet, "_worksheet_path", None)
    if not isinstance(member, str):
        return []

    ranges = []
    with archive.open(member.lstrip("/")) as stream:
        for _, element in ElementTree.iterparse(stream):
            if element.tag.rpartition("}")[2] == "mergeCell":
                ref = element.get("ref", "")
                if ":" in ref:
                    ranges.append(_range_bounds(ref))
            element.clear()
    return ranges


def _range_bounds(ref: str) -> Merge:
    first_column, first_row, last_column, last_row = range_boundaries(ref)
    if None in (first_column, first_row, last_column, last_row):
        raise ValueError(f'merged range "{ref}" is not a range of cells')
    return (int(first_column or 0), int(first_row or 0), int(last_column or 0), int(last_row or 0))


# --- workbooks: ODS and legacy XLS through calamine -----------------------------------


def _load_ole2(path: Path, reading: _Reading) -> Table:
    # Excel stores both legacy .xls files and password-protected .xlsx files
    # in an OLE2 container, so the magic bytes alone cannot tell them apart.
    suffix = path.suffix.lower()
    notes = _renamed_note(path, "a legacy Excel .xls workbook") if suffix != ".xls" else []
    notes.extend(_text_option_notes(reading.options))
    return _load_calamine(
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


def _ods_message(error: BaseException) -> str:
    return (
        f"could not be read as an OpenDocument spreadsheet ({_describe(error)}); "
        "open it in a spreadsheet program and save it again as .xlsx or CSV"
    )


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_CELLS = (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell")
# ElementTree raises ParseError (a SyntaxError) on bad XML, zipfile a KeyError
# for a missing content.xml, and int() a ValueError for a bad span or repeat count.
_ODS_ERRORS = (zipfile.BadZipFile, KeyError, SyntaxError, ValueError)


def _load_calamine(
    path: Path,
    reading: _Reading,
    notes: list[str],
    failure: Callable[[BaseException], str],
    *,
    ods: bool,
) -> Table:
    """Read an OpenDocument (.ods) or legacy Excel (.xls) workbook with calamine.

    `failure` turns a calamine error into the message for the user.
    """
    try:
        # Given a file object, calamine detects the format from the content; given a
        # path, it goes by the file name, which may be wrong.
        with path.open("rb") as stream, python_calamine.load_workbook(stream) as workbook:
            # calamine reports merged ranges of .xls files only, so those of an
            # OpenDocument file are read from its content.xml.
            ods_merges = _ods_merges(path) if ods else None

            def read_sheet(index: int) -> list[_RawRow]:
                sheet = workbook.get_sheet_by_index(index)
                if ods_merges is None:
                    merges = _calamine_merges(sheet)
                else:
                    merges = ods_merges[index] if index < len(ods_merges) else []
                return _fill_merged(_calamine_rows(sheet), merges)

            name, raw_rows, sheet_notes = _choose_sheet(
                path, workbook.sheet_names, read_sheet, reading
            )
    except (python_calamine.CalamineError, OSError, *_ODS_ERRORS) as error:
        raise InputFileError(path, failure(error)) from error

    notes.extend(sheet_notes)
    return _build_table(path, raw_rows, name, notes, reading)


def _calamine_rows(sheet: python_calamine.CalamineSheet) -> list[_RawRow]:
    # skip_empty_area=False starts at cell A1, so positions are the sheet's row numbers.
    values = sheet.to_python(skip_empty_area=False)
    return [
        _RawRow(number, tuple(_cell_text(value) for value in row))
        for number, row in enumerate(values, start=1)
    ]


def _calamine_merges(sheet: python_calamine.CalamineSheet) -> list[Merge]:
    # calamine gives ((first row, first column), (last row, last column)) counted from 0.
    return [
        (first[1] + 1, first[0] + 1, last[1] + 1, last[0] + 1)
        for first, last in sheet.merged_cell_ranges or []
    ]


def _ods_merges(path: Path) -> list[list[Merge]]:
    """Read the merged ranges of each sheet of an OpenDocument file, in sheet order.

    A merged cell carries number-rows-spanned and number-columns-spanned. Rows
    and cells repeated with number-rows-repeated and number-columns-repeated
    count once per repeat, so positions match the sheet's.
    """
    sheets: list[list[Merge]] = []
    row = column = 0
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as stream:
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            tag = element.tag
            if event == "start" and tag == _ODS_TABLE + "table":
                sheets.append([])
                row = 0
            elif event == "start" and tag == _ODS_TABLE + "table-row":
                column = 0
            elif event == "start" and tag in _ODS_CELLS and sheets:
                sheets[-1].extend(_ods_span(element, row, column))
            elif event == "end" and tag in _ODS_CELLS:
                column += int(element.get(_ODS_TABLE + "number-columns-repeated", "1"))
                element.clear()
            elif event == "end" and tag == _ODS_TABLE + "table-row":
                row += int(element.get(_ODS_TABLE + "number-rows-repeated", "1"))
                element.clear()
    return sheets


def _ods_span(element: ElementTree.Element, row: int, column: int) -> list[Merge]:
    rows = int(element.get(_ODS_TABLE + "number-rows-spanned", "1"))
    columns = int(element.get(_ODS_TABLE + "number-columns-spanned", "1"))
    if rows <= 1 and columns <= 1:
        return []
    return [(column + 1, row + 1, column + columns, row + rows)]


# --- cell values ----------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """Convert a cell value from openpyxl or calamine to the text a spreadsheet shows.

    A tracking number stored as a number comes back as a float, so integral
    floats below 2**53 are written as plain digits without ".0" or an exponent.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _float_text(value: float) -> str:
    if value.is_integer() and abs(value) < _EXACT_FLOAT_LIMIT:
        return str(int(value))
    return str(value)


def _datetime_text(value: datetime) -> str:
    if value.time() == time(0, 0):
        return value.date().isoformat()
    return value.isoformat(sep=" ", timespec="seconds")
