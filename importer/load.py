"""Read a CSV or Excel file into a table of text cells.

Every cell is read as text exactly as the file stores it: no library is allowed
to guess numbers or dates, because tracking numbers and order IDs lose digits or
leading zeros when they pass through a float. Row numbers are the numbers a
spreadsheet program shows, so messages can point the user at the right row.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from importer.errors import InputFileError

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})
DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 16_384  # the last column Excel can show is XFD, the 16,384th

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SNIFF_BYTES = 8192
_MARKUP_STARTS = ("<!doctype", "<html", "<?xml", "<table")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}

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


@dataclass(frozen=True)
class SourceRow:
    """One row of the input file with its cells as text."""

    number: int  # the row number a spreadsheet program shows; the header row has one too
    cells: tuple[str, ...]  # exactly one cell per header


@dataclass(frozen=True)
class Table:
    """The header and rows of one CSV file or one workbook sheet."""

    path: Path
    headers: tuple[str, ...]  # stripped; an empty header cell becomes "Column <letter>"
    header_row: int
    rows: tuple[SourceRow, ...]  # data rows; blank rows are in `ignored`
    ignored: tuple[SourceRow, ...]  # blank rows, kept so every input row is accounted for
    sheet: str | None  # the workbook sheet read, None for CSV
    notes: tuple[str, ...]  # facts worth telling the user about how the file was read


@dataclass(frozen=True)
class _RawRow:
    number: int
    cells: tuple[str, ...]


def load_table(path: Path) -> Table:
    """Read a CSV or Excel file into a Table.

    The content decides how the file is read: a ZIP archive is read as an Excel
    workbook and text as CSV, whatever the file name ends in. Raises
    InputFileError with a message for the user when the file cannot be read.
    """
    head = _read_head(path)
    kind = _sniff(head)
    suffix = path.suffix.lower()

    if kind == "zip":
        notes = _renamed_note(path, "an Excel workbook") if suffix not in WORKBOOK_SUFFIXES else []
        return _load_workbook(path, notes)

    if kind == "ole2":
        raise InputFileError(path, _ole2_message(suffix))

    if kind == "text":
        notes = _renamed_note(path, "CSV text") if suffix in WORKBOOK_SUFFIXES | {".xls"} else []
        return _load_csv(path, notes)

    if suffix in WORKBOOK_SUFFIXES:
        raise InputFileError(
            path,
            "could not be read as an Excel workbook (the file is not a ZIP archive); "
            "open it in Excel and save it again as .xlsx",
        )
    raise InputFileError(
        path, "is not a CSV or XLSX file; export the shipments again as CSV or .xlsx"
    )


# --- recognizing the file ---------------------------------------------------


def _read_head(path: Path) -> bytes:
    if path.is_dir():
        raise InputFileError(
            path, "is a folder, not a file; give the path of a CSV or XLSX file inside it"
        )

    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except FileNotFoundError as error:
        raise InputFileError(path, "file not found; check the folder and the file name") from error
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
    """Return "zip", "ole2", "text" or "binary" from the first bytes of a file."""
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_OLE2_MAGIC):
        return "ole2"
    if head.startswith(_UTF16_BOMS) or b"\x00" not in head:
        return "text"
    return "binary"


def _ole2_message(suffix: str) -> str:
    # Excel stores both legacy .xls files and password-protected .xlsx files
    # in an OLE2 container, so the magic bytes alone cannot tell them apart.
    if suffix == ".xls":
        return (
            "legacy Excel .xls files are not supported yet; "
            "open it in Excel and save as .xlsx or CSV"
        )
    if suffix in WORKBOOK_SUFFIXES:
        return (
            "is password-protected (or a legacy .xls renamed); "
            "remove the password in Excel or save it again as .xlsx"
        )
    return (
        "is a legacy Excel .xls file or a password-protected workbook, which cannot be read; "
        "open it in Excel, remove any password and save it as .xlsx or CSV"
    )


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
    path: Path, raw_rows: Sequence[_RawRow], sheet: str | None, notes: list[str]
) -> Table:
    header_position = next(
        (position for position, row in enumerate(raw_rows) if not _is_blank(row.cells)), None
    )
    if header_position is None:
        raise InputFileError(
            path,
            "the file contains no rows; export the shipments again with a header row "
            "and one row per shipment",
        )

    header = raw_rows[header_position]
    width = max(_used_width(row.cells) for row in raw_rows[header_position:])
    if width > MAX_COLUMNS:
        raise InputFileError(
            path,
            f"has {width:,} columns, more than the {MAX_COLUMNS:,} a spreadsheet can show; "
            "check that it is a shipping export and that its columns are separated correctly",
        )
    headers = _name_headers(_fit(header.cells, width))
    notes.extend(_headerless_column_notes(header, raw_rows[header_position + 1 :], width))

    rows: list[SourceRow] = []
    ignored: list[SourceRow] = []
    for position, raw in enumerate(raw_rows):
        if position == header_position:
            continue
        row = SourceRow(number=raw.number, cells=_fit(raw.cells, width))
        if _is_blank(row.cells):
            ignored.append(row)
        else:
            rows.append(row)

    return Table(
        path=path,
        headers=headers,
        header_row=header.number,
        rows=tuple(rows),
        ignored=tuple(ignored),
        sheet=sheet,
        notes=tuple(notes),
    )


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


# --- CSV ------------------------------------------------------------------------


def _load_csv(path: Path, notes: list[str]) -> Table:
    # The csv module reads CSV here, not pandas. It returns each cell as the exact
    # text of the file and never converts types. It also gives the physical lines
    # each record spans, which row numbers and error messages need.
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(path, _os_error_message(error)) from error

    text = _decode(path, data, notes)
    if text[:1024].lstrip().lower().startswith(_MARKUP_STARTS):
        raise InputFileError(
            path,
            "is a web page or XML file, not a CSV or XLSX file; "
            "open it in Excel and save it as .xlsx or CSV",
        )

    text, delimiter = _read_separator_line(text)
    first_line = 1
    if delimiter is None:
        delimiter = _detect_delimiter(text)
    else:
        first_line = 2
    if delimiter != ",":
        notes.append(f"columns are separated by {_DELIMITER_NAMES[delimiter]}")

    raw_rows = _parse_csv(path, text, delimiter, first_line)
    return _build_table(path, raw_rows, None, notes)


def _decode(path: Path, data: bytes, notes: list[str]) -> str:
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
    _check_unclosed_quote(path, raw_rows, last_lines, last_record_line)
    return raw_rows


def _check_unclosed_quote(
    path: Path, raw_rows: Sequence[_RawRow], last_lines: Sequence[str], first_line: int
) -> None:
    """Raise when the last record runs to the end of the file inside an open quote.

    The lenient reader then puts the rest of the file into one cell without an
    error. Quotes in well-formed CSV come in pairs, so an odd count in a record
    that spans several lines means its quoted cell was never closed.
    """
    # NOTE: a stray quote in an unquoted cell (24" tube) of a last record that
    # also has a quoted line break is rejected here too, although it is valid.
    if len(last_lines) < 2 or "".join(last_lines).count('"') % 2 == 0:
        return
    raise InputFileError(
        path,
        f"a quoted cell on row {raw_rows[-1].number} (line {first_line}) is never closed, "
        'so the rest of the file would be read as one cell; add the missing closing quote (") '
        "or export the file again",
    )


# --- Excel ------------------------------------------------------------------------


def _load_workbook(path: Path, notes: list[str]) -> Table:
    try:
        sheets = _read_sheets(path)
    except _WORKBOOK_ERRORS as error:
        raise InputFileError(
            path,
            f"could not be read as an Excel workbook ({_describe(error)}); "
            "open it in Excel and save it again as .xlsx",
        ) from error

    chosen = next(
        (
            position
            for position, (_, rows) in enumerate(sheets)
            if not all(_is_blank(row.cells) for row in rows)
        ),
        None,
    )
    if chosen is None:
        raise InputFileError(
            path,
            "the workbook contains no rows on any sheet; "
            "export the shipments again with a header row and one row per shipment",
        )

    notes.extend(_sheet_notes(chosen, sheets))
    name, raw_rows = sheets[chosen]
    return _build_table(path, raw_rows, name, notes)


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _read_sheets(path: Path) -> list[tuple[str, list[_RawRow]]]:
    """Read worksheets in order until one has a non-blank row; later sheets get no rows."""
    sheets: list[tuple[str, list[_RawRow]]] = []
    with path.open("rb") as stream, warnings.catch_warnings():
        # openpyxl warns about workbook features it drops (styles, data
        # validation, ...); none of them affect cell values.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        # openpyxl rejects a path unless its name ends in .xlsx, .xlsm, .xltx or
        # .xltm. A file object skips that check, and the content is already known to be a ZIP.
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
        try:
            found_rows = False
            for worksheet in workbook.worksheets:
                if found_rows or not isinstance(worksheet, ReadOnlyWorksheet):
                    sheets.append((worksheet.title, []))
                    continue
                rows = _read_sheet_rows(worksheet)
                sheets.append((worksheet.title, rows))
                found_rows = not all(_is_blank(row.cells) for row in rows)
        finally:
            workbook.close()
    return sheets


def _read_sheet_rows(worksheet: ReadOnlyWorksheet) -> list[_RawRow]:
    # Some programs write a wrong size into the sheet, so it is ignored and the
    # rows are read to the end. In read-only mode openpyxl 3.1 yields an empty row
    # for each row missing from the file, so counting from 1 gives sheet rows.
    worksheet.reset_dimensions()
    return [
        _RawRow(number=number, cells=tuple(_cell_text(value) for value in values))
        for number, values in enumerate(worksheet.values, start=1)
    ]


def _sheet_notes(chosen: int, sheets: Sequence[tuple[str, list[_RawRow]]]) -> list[str]:
    """Name the sheets that were not read; the ones before the chosen sheet are empty."""
    others = [
        f'"{name}"' + (" (empty)" if position < chosen else "")
        for position, (name, _) in enumerate(sheets)
        if position != chosen
    ]
    if not others:
        return []
    return [f'sheet "{sheets[chosen][0]}" was read; the workbook also has {_join(others)}']


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cell_text(value: object) -> str:
    """Convert a cell value from openpyxl to the text a spreadsheet shows, keeping every digit.

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
