"""Read CSV text and HTML-table files: decoding, delimiter detection and unclosed quotes."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from openpyxl.utils import get_column_letter

from importer.errors import InputFileError
from importer.load import columns
from importer.load.files import UTF16_BOMS, os_error_message, renamed_note
from importer.load.limits import check_row, too_long_cell, too_many_cells, too_many_rows
from importer.load.records import (
    CONFIG_FILE,
    DELIMITERS,
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    WORKBOOK_SUFFIXES,
    HeaderScore,
    LoadOptions,
    RawRow,
    Reading,
    Table,
)
from importer.load.results import (
    RESULTS_CSV_NOTE,
    is_results_rows,
    set_aside_done_rows,
    split_results_rows,
    unescape_results_cells,
)
from importer.load.table import build_table, is_blank

_MARKUP_STARTS = ("<!doctype", "<html", "<?xml", "<table", "<meta", "<head", "<body", "<!--")
# The maximum length of Excel's "sep=;" first line, with its line break.
_SEPARATOR_LINE_CHARACTERS = 8
# Delimiters are detected from the lines in this much text at the start of the file.
_SAMPLE_CHARACTERS = 1024 * 1024
# The largest value the csv module's field size limit takes on every platform
# (a C long is 32 bits on Windows).
_MAX_CELL_CHARACTERS = 2**31 - 1
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}


def load_text(path: Path, reading: Reading) -> Table:
    # The csv module reads CSV here, not pandas. It returns each cell as the exact
    # text of the file and never converts types. It also gives the physical lines
    # each record spans, which row numbers and error messages need. Large UTF-8
    # files have their body read by pyarrow instead (importer.load.columns).
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(path, os_error_message(error)) from error

    # The rows file of a run's results is read whole, by the csv module, because
    # its run columns are taken off row by row.
    if not _starts_as_results_rows(data):
        table = _load_large_utf8(path, data, reading)
        if table is not None:
            return table

    notes: list[str] = []
    text = _decode(path, data, reading.options.encoding, notes)
    del data
    if text[:1024].lstrip().lower().startswith(_MARKUP_STARTS):
        return _load_html(path, text, reading, notes)

    _add_text_notes(path, reading, notes)
    text, delimiter, first_line = _csv_layout(text, reading, notes)
    _check_nul(path, text, delimiter, first_line)
    raw_rows = _parse_csv(path, text, delimiter, first_line, reading.options)
    _check_cut_off(path, text, raw_rows)
    if not is_results_rows(raw_rows):
        return build_table(path, raw_rows, None, notes, reading)

    raw_rows, statuses = split_results_rows(unescape_results_cells(raw_rows))
    notes.append(RESULTS_CSV_NOTE)
    return set_aside_done_rows(build_table(path, raw_rows, None, notes, reading), statuses)


# Enough of the start of a file to hold the header of a results rows file.
_RESULTS_HEADER_BYTES = 4096


def _starts_as_results_rows(data: bytes) -> bool:
    """Tell whether UTF-8 text starts with the header of a results rows file, in any delimiter."""
    head = data[:_RESULTS_HEADER_BYTES].decode("utf-8-sig", errors="replace")
    first_line = next(iter(head.lstrip().splitlines()), "")
    for delimiter in DELIMITERS:
        try:
            cells = next(csv.reader([first_line], delimiter=delimiter, strict=False), [])
        except csv.Error:
            continue  # a cell over the field size limit; the full read reports it
        if is_results_rows([RawRow(1, tuple(cells))]):
            return True
    return False


def _add_text_notes(path: Path, reading: Reading, notes: list[str]) -> None:
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES | {".xls", ".ods"}:
        notes[:0] = renamed_note(path, "CSV text")
    if reading.options.sheet is not None:
        notes.append(
            "the sheet setting does not apply to text, which has no sheets, and was not used"
        )


def _csv_layout(text: str, reading: Reading, notes: list[str]) -> tuple[str, str, int]:
    """Find the delimiter; return the text without a "sep=" line, the delimiter and the
    file line the text starts on."""
    text, delimiter = _read_separator_line(text)
    first_line = 1 if delimiter is None else 2
    if reading.options.delimiter is not None:
        delimiter = reading.options.delimiter
    elif delimiter is None:
        delimiter = _detect_delimiter(text, reading.header_score)
    if delimiter != ",":
        notes.append(f"columns are separated by {_delimiter_name(delimiter)}")
    return text, delimiter, first_line


def _load_large_utf8(path: Path, data: bytes, reading: Reading) -> Table | None:
    """Read a large UTF-8 CSV with its body in columns; None when the csv module must read it.

    Only the head of the file is decoded here, and pyarrow checks that the
    rest is UTF-8. A file that is not UTF-8 after all is declined and read
    again as below, with its encoding detected.
    """
    encoding = reading.options.encoding
    if len(data) < columns.MIN_BYTES or data.startswith(UTF16_BOMS):
        return None
    if encoding is not None and codecs.lookup(encoding).name != "utf-8":
        return None

    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    head = _decode_head(memoryview(data)[start : start + columns.HEAD_BYTES])
    if head is None or head[:1024].lstrip().lower().startswith(_MARKUP_STARTS):
        return None

    notes = [f"read as {encoding} text, as set"] if encoding is not None else []
    _add_text_notes(path, reading, notes)
    rest, delimiter, _ = _csv_layout(head, reading, notes)
    # A "sep=" line is not part of the body.
    start += len(head[: len(head) - len(rest)].encode("utf-8"))
    whole = len(data) - start == len(rest.encode("utf-8"))
    return columns.read_columns(path, rest, data, start, whole, delimiter, reading, notes)


def _decode_head(head: memoryview) -> str | None:
    """Decode the head of a UTF-8 file, leaving out a character cut by its end."""
    try:
        return bytes(head).decode("utf-8")
    except UnicodeDecodeError as error:
        if error.end != len(head) or error.reason != "unexpected end of data":
            return None
        return bytes(head[: error.start]).decode("utf-8")


def _check_cut_off(path: Path, text: str, raw_rows: Sequence[RawRow]) -> None:
    """Reject a file whose last line is shorter than the others and has no line break.

    CSV writers end every line with a line break and write every delimiter, so
    a short last line without one means the export stopped part way, and its
    cut-off cells must not be sent.
    """
    if len(raw_rows) < 2 or text.endswith(("\n", "\r")):
        return
    last, before = raw_rows[-1], raw_rows[-2]
    if len(last.cells) < len(before.cells):
        raise InputFileError(
            path,
            f"the last row (row {last.number}) has {len(last.cells)} of "
            f"{len(before.cells)} cells and the file ends in the middle of a line, so "
            "the export looks cut off; export the file again",
        )


def _check_nul(path: Path, text: str, delimiter: str, first_line: int) -> None:
    """Reject text with a NUL character, naming its row and column.

    No spreadsheet program writes one into a CSV file. A NUL byte comes from a
    damaged file or a file that is not text, and a cell containing one would
    be sent to HighLevel as it is.
    """
    offset = text.find("\x00")
    if offset < 0:
        return
    prefix = text[:offset]
    row, column = _position_of(prefix, delimiter)
    line = first_line + prefix.count("\n")
    raise InputFileError(
        path,
        f"row {row}, column {get_column_letter(column)} (line {line}) contains a NUL "
        "character (byte 0x00), which a CSV file never contains, so the file is damaged "
        "or is not a CSV export; remove the character or export the file again",
    )


def _position_of(prefix: str, delimiter: str) -> tuple[int, int]:
    """Return the row and column, from 1, of the character that follows `prefix`."""
    csv.field_size_limit(_MAX_CELL_CHARACTERS)
    reader = csv.reader(io.StringIO(prefix, newline=""), delimiter=delimiter, strict=False)
    records = list(reader)
    if not prefix or (prefix.endswith(("\n", "\r")) and not _ends_inside_quotes(prefix, delimiter)):
        return len(records) + 1, 1
    return len(records), max(len(records[-1]), 1)


def _delimiter_name(delimiter: str) -> str:
    return _DELIMITER_NAMES.get(delimiter, f'"{delimiter}"')


def _decode(path: Path, data: bytes, encoding: str | None, notes: list[str]) -> str:
    if encoding is not None:
        return _decode_forced(path, data, encoding, notes)

    if data.startswith(UTF16_BOMS):
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
            f"{_line_of(data, error.start)}); set --encoding (or encoding in {CONFIG_FILE}) "
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
    end = text.find("\n", 0, _SEPARATOR_LINE_CHARACTERS)
    directive = text[: max(end, 0)].rstrip("\r")
    if directive.lower().startswith("sep=") and len(directive) == 5 and directive[4] in DELIMITERS:
        return text[end + 1 :], directive[4]
    return text, None


def _detect_delimiter(text: str, header_score: HeaderScore) -> str:
    """Pick the delimiter that shows the file's header, or else splits lines into the most cells.

    Title rows above the header ("Shipments export, Dec 1") must not decide,
    so the first non-blank lines are all looked at: each candidate that
    occurs there is tried, and the one under which some line scores best as
    a header wins. Ties go to the candidate that splits a line into the most
    cells, then to the earlier one in DELIMITERS, so a one-column file is
    read with commas.
    """
    sample = _sample_lines(text)
    counts = {candidate: _most_cells(sample, candidate) for candidate in DELIMITERS}
    candidates = [candidate for candidate in DELIMITERS if counts[candidate] > 0]
    if not candidates:
        return DELIMITERS[0]

    def rank(candidate: str) -> tuple[int, int, int]:
        position = -DELIMITERS.index(candidate)
        return (_best_score(sample, candidate, header_score), counts[candidate], position)

    return max(candidates, key=rank)


def _sample_lines(text: str) -> list[str]:
    lines = io.StringIO(text[:_SAMPLE_CHARACTERS], newline="")
    sample = []
    for line in lines:
        if line.strip():
            sample.append(line)
        if len(sample) == HEADER_SEARCH_ROWS:
            break
    return sample


def _most_cells(lines: Sequence[str], delimiter: str) -> int:
    """Count the delimiter outside double quotes on each line and return the largest count."""
    most = 0
    for line in lines:
        count = 0
        quoted = False
        for character in line:
            if character == '"':
                quoted = not quoted
            elif not quoted and character == delimiter:
                count += 1
        most = max(most, count)
    return most


def _best_score(lines: Sequence[str], delimiter: str, header_score: HeaderScore) -> int:
    try:
        return max(
            (header_score(cells) for cells in csv.reader(lines, delimiter=delimiter)), default=0
        )
    except csv.Error:
        return 0


def _parse_csv(
    path: Path, text: str, delimiter: str, first_line: int, options: LoadOptions
) -> list[RawRow]:
    """Split the text into records; `first_line` is the file line the text starts on."""
    recorder = columns.LineRecorder(text)
    # The csv module stops at a cell longer than its field size limit, which
    # bounds the memory one cell takes. The limit is a setting of the module,
    # not of a reader, so every CSV read in this process shares it.
    csv.field_size_limit(options.max_cell_characters)
    # strict=False reads stray quotes the way Excel does, for example 24" in an
    # unquoted cell; an unclosed quote is checked for after the loop.
    reader = csv.reader(recorder, delimiter=delimiter, quotechar='"', strict=False)
    raw_rows: list[RawRow] = []
    last_lines: list[str] = []

    cell_count = 0
    try:
        for number, cells in enumerate(reader, start=1):
            raw_row = RawRow(number=number, cells=tuple(cells))
            if number > options.max_rows:
                raise too_many_rows(path, None, options.max_rows)
            check_row(path, raw_row, options)
            # Counted as the rows come, so a file of millions of cells stops before it fills memory.
            cell_count += len(cells)
            if cell_count > options.max_sheet_cells:
                raise too_many_cells(path, number, options.max_sheet_cells)
            raw_rows.append(raw_row)
            last_lines = recorder.current
            recorder.current = []
    except csv.Error as error:
        if _LONG_FIELD_ERROR in str(error):
            record = "".join(recorder.current)
            raise _long_cell_error(path, record, delimiter, len(raw_rows) + 1, options) from None
        line = first_line + reader.line_num - 1
        raise InputFileError(
            path,
            f"line {line} could not be read as CSV ({error}); "
            "check that line for a missing closing quote or export the file again",
        ) from error

    last_record_line = first_line + reader.line_num - len(last_lines)
    _check_unclosed_quote(path, raw_rows, last_lines, last_record_line, delimiter)
    return raw_rows


# The start of the csv module's message for a cell over its field size limit.
_LONG_FIELD_ERROR = "field larger than field limit"


def _long_cell_error(
    path: Path, record: str, delimiter: str, number: int, options: LoadOptions
) -> InputFileError:
    """Find the cell of a record that is over max_cell_characters and word the message."""
    limit = options.max_cell_characters
    csv.field_size_limit(_MAX_CELL_CHARACTERS)
    try:
        cells = next(csv.reader(io.StringIO(record, newline=""), delimiter=delimiter, strict=False))
    finally:
        csv.field_size_limit(limit)
    column, cell = next(
        ((index, cell) for index, cell in enumerate(cells, start=1) if len(cell) > limit),
        (len(cells), cells[-1] if cells else ""),
    )
    return too_long_cell(path, number, column, max(len(cell), limit + 1), limit)


def _check_unclosed_quote(
    path: Path,
    raw_rows: Sequence[RawRow],
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
    stay under their headers. Cells spanning several rows are not expanded, and
    `has_row_spans` records that the table has one.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._depth = 0  # how many tables are open; 1 inside the first table
        self._done = False
        self._cell: list[str] | None = None
        self._span = 1
        self.has_row_spans = False

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
            self.has_row_spans |= (dict(attrs).get("rowspan") or "1").strip() not in ("", "1")
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


def _load_html(path: Path, text: str, reading: Reading, notes: list[str]) -> Table:
    # Web portals often send an HTML table with an .xls name, which Excel opens as a sheet.
    parser = _HtmlTableParser()
    parser.feed(text)
    parser.close()
    if not parser.rows or all(is_blank(row) for row in parser.rows):
        raise InputFileError(
            path,
            "is a web page or XML file without a table of shipments, not a CSV or XLSX file; "
            "open it in Excel and save it as .xlsx or CSV",
        )

    if parser.has_row_spans:
        # Expanding the spans by guess could put an order ID or tracking number
        # under the wrong row, so the file is refused instead.
        raise InputFileError(
            path,
            "is a web page (HTML) whose table has cells spanning several rows, which cannot be "
            "read reliably; open it in Excel and save it as .xlsx, then import that file",
        )

    notes[:0] = [f'read as the first table of a web page (HTML) in "{path.name}"']
    raw_rows = [RawRow(number, tuple(row)) for number, row in enumerate(parser.rows, start=1)]
    return build_table(path, raw_rows, None, notes, reading)
