"""Write the results workbook: what happened to every order and every input row.

The workbook has three sheets. Summary contains the run's settings, counts per
status and the next step for the person who ran the import. Orders has one row
per order sent or checked. Rows repeats every input row with its original cells
and the problems found in it, so the file can be fixed and imported again.

Every text value is stored as a string cell, never as a formula, because the
input cells come from outside and a cell such as "=HYPERLINK(...)" must not run
when the workbook is opened.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from importer.errors import ReportError
from importer.records import (
    STOPPED_ON_REQUEST,
    FileResult,
    Item,
    OrderResult,
    OrderStatus,
    Problem,
    RowResult,
)

CellValue = str | int | float | datetime | None

SUMMARY_SHEET = "Summary"
ORDERS_SHEET = "Orders"
ROWS_SHEET = "Rows"

SUMMARY_HEADERS = ("Field", "Value")
ORDER_HEADERS = (
    "Order ID",
    "Order Number",
    "Location",
    "Status",
    "Fulfillment ID",
    "Tracking Numbers",
    "Carriers",
    "Items",
    "Notify Customer",
    "HTTP Status",
    "Message",
    "Trace ID",
    "Input Rows",
    "Finished At",
)
ROW_HEADERS = ("Row", "Order Status", "Problems")

IGNORED_STATUS = "ignored"

# RGB fill colour of the status cell, keyed by OrderStatus value or "ignored".
STATUS_COLORS = {
    OrderStatus.CREATED.value: "C6EFCE",
    OrderStatus.SKIPPED.value: "D9D9D9",
    OrderStatus.REJECTED.value: "F8CBAD",
    OrderStatus.FAILED.value: "FF9B9B",
    OrderStatus.DEFERRED.value: "FFE699",
    OrderStatus.READY.value: "BDD7EE",
    IGNORED_STATUS: "F2F2F2",
}

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATETIME_WIDTH = 19
MIN_COLUMN_WIDTH = 8
MAX_COLUMN_WIDTH = 60

# Excel's maximum number of characters in one cell.
MAX_CELL_TEXT = 32_767

# Spreadsheet programs may read a value starting with one of these as a formula,
# so such cells also get Excel's quote prefix, which keeps them text when edited.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# How many "<stem> (n)" names to try when the requested file is locked.
MAX_ALTERNATIVE_NAMES = 99

HEADER_FONT = Font(bold=True)
WRAPPED = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


def default_results_path(input_path: Path) -> Path:
    """Return the results workbook path next to the input: dec-01.csv -> dec-01.results.xlsx.

    The name never equals the input's, so importing a results workbook again
    does not overwrite it.
    """
    return input_path.with_name(f"{input_path.stem}.results.xlsx")


def check_writable(path: Path) -> None:
    """Raise ReportError when the workbook could not be saved at `path`, before anything is sent."""
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".ghl-fulfill-", suffix=".tmp"):
            pass
    except OSError as error:
        raise ReportError(
            path,
            f"the results workbook cannot be saved in this folder ({error.strerror}); "
            "nothing was sent. Choose another place with --results",
        ) from error


def write_results(result: FileResult, path: Path) -> Path:
    """Write the results workbook for one input file and return the path written.

    The workbook is saved to a temporary file in the target folder and renamed
    into place, so an interrupted write leaves the previous file intact. When
    the target cannot be replaced (PermissionError, as Windows raises for a file
    open in Excel), the workbook is saved as "<stem> (2).xlsx", "(3)" and so on.

    Raises ReportError when the folder cannot be written to, the path is a
    folder, or every alternative name is locked or taken.
    """
    if path.is_dir():
        raise ReportError(
            path,
            "this is a folder, not a workbook. Give a file name ending in .xlsx for the results.",
        )

    return _save_replacing(result, path)


def build_workbook(result: FileResult) -> Workbook:
    """Build the Summary, Orders and Rows sheets.

    The workbook is write-only: openpyxl keeps no cell objects and writes the
    rows out as they come, so a file of a million rows fits in memory. Column
    widths are measured in a first pass over the values.
    """
    workbook = Workbook(write_only=True)

    _write_summary(workbook.create_sheet(SUMMARY_SHEET), result)
    _write_orders(workbook.create_sheet(ORDERS_SHEET), result.orders)
    _write_rows(workbook.create_sheet(ROWS_SHEET), result)
    return workbook


# Summary sheet


def _write_summary(sheet: Worksheet, result: FileResult) -> None:
    fields = _summary_fields(result)
    _set_widths(sheet, [SUMMARY_HEADERS, *fields])
    sheet.freeze_panes = "A2"
    _append_header(sheet, SUMMARY_HEADERS)

    for label, value in fields:
        label_cell = _make_cell(sheet, label)
        label_cell.font = HEADER_FONT
        _fill_status_count(label_cell, label)
        value_cell = _make_cell(sheet, value)
        if isinstance(value, str):
            value_cell.alignment = WRAPPED
        _format_summary_value(value_cell, label)
        sheet.append([label_cell, value_cell])


def _summary_fields(result: FileResult) -> list[tuple[str, CellValue]]:
    """Return the (label, value) pairs of the Summary sheet, in display order."""
    fields: list[tuple[str, CellValue]] = [("File", str(result.path))]
    if result.sheet is not None:
        fields.append(("Sheet", result.sheet))

    fields += [
        ("Template", result.template),
        ("Match score", result.template_score),
        ("Match", result.template_match),
        ("Location", _locations_text(result)),
        ("Started", _local_naive(result.started_at)),
        ("Finished", _local_naive(result.finished_at)),
        ("Duration (seconds)", _duration_seconds(result)),
        ("Dry run", _yes_no(result.dry_run)),
        ("Notify customers", result.notify_setting),
        ("Input rows", len(result.rows)),
        ("Orders", len(result.orders)),
    ]
    fields += [(_count_label(status), result.count(status)) for status in _counted_statuses(result)]
    fields.append((_count_label(IGNORED_STATUS), _count_ignored_rows(result.rows)))

    if result.stopped_reason:
        fields.append(("Stopped because", result.stopped_reason))
    fields += [("Note", note) for note in result.notes]
    fields.append(("What to do next", _next_steps(result)))
    return fields


_NAMED_LOCATIONS = 10


def _locations_text(result: FileResult) -> str:
    """Name the run's location, or every location the orders went to when there are several."""
    locations = sorted({order.location_id for order in result.orders if order.location_id})
    if len(locations) <= 1:
        return locations[0] if locations else result.location_id
    named = ", ".join(locations[:_NAMED_LOCATIONS])
    more = len(locations) - _NAMED_LOCATIONS
    if more > 0:
        named += f" and {more} more"
    return f"{len(locations)} locations: {named}"


def _counted_statuses(result: FileResult) -> list[OrderStatus]:
    statuses = [
        OrderStatus.CREATED,
        OrderStatus.SKIPPED,
        OrderStatus.REJECTED,
        OrderStatus.FAILED,
    ]
    if result.count(OrderStatus.DEFERRED):
        statuses.append(OrderStatus.DEFERRED)
    if result.dry_run:
        statuses.append(OrderStatus.READY)
    return statuses


def _count_label(status: str) -> str:
    if status == IGNORED_STATUS:
        return "Rows ignored"
    return f"Orders {status}"


def _count_ignored_rows(rows: Iterable[RowResult]) -> int:
    return sum(1 for row in rows if row.status == IGNORED_STATUS)


def _duration_seconds(result: FileResult) -> float | None:
    if result.finished_at is None:
        return None
    return round((result.finished_at - result.started_at).total_seconds(), 1)


def _format_summary_value(cell: Cell, label: str) -> None:
    # NOTE: the template score is taken to be a fraction from 0 to 1; a score
    # given in percent would show as 100 times too large.
    if label == "Match score":
        cell.number_format = "0%"
    elif label == "Duration (seconds)":
        cell.number_format = "0.0"


def _fill_status_count(cell: Cell, label: str) -> None:
    for status in STATUS_COLORS:
        if label == _count_label(status):
            cell.fill = _status_fill(status)


def _next_steps(result: FileResult) -> str:
    """Build the plain-language next step from the counts and the stopped reason."""
    if result.next_step:
        return result.next_step
    steps: list[str] = []
    if result.stopped_reason == STOPPED_ON_REQUEST:
        steps.append("The import was stopped before it finished. Import the file again to go on.")
    elif result.stopped_reason:
        steps.append(
            "The import stopped before it finished. Fix the cause given above "
            "and import the file again."
        )
    if result.count(OrderStatus.REJECTED):
        steps.append(
            "Fix the rejected orders in the input file (the Rows sheet gives each row's "
            "problem) and import it again: orders already created are skipped."
        )
    if result.count(OrderStatus.FAILED):
        steps.append(
            "Read the message of each failed order in the Orders sheet, "
            "then import the file again to retry them."
        )
    if result.count(OrderStatus.DEFERRED):
        steps.append(
            "The deferred orders were not sent in this run (the reason is in the Orders "
            "sheet). Import the file again to send them; nothing already created is sent twice."
        )
    if result.dry_run and result.count(OrderStatus.READY):
        steps.append(
            "This was a dry run, so nothing was sent to HighLevel. "
            "Import the file again without a dry run to create the ready orders."
        )
    if result.confirm_with:
        steps.append(
            "The columns were matched by guesswork, so a real import stops until you confirm "
            f"them: check the Summary's notes and add {result.confirm_with} to the command."
        )

    if steps:
        return " ".join(steps)
    if not result.orders:
        return "No orders were found in the file. Check that it is the right export."
    return "Nothing to do: every order was created or already fulfilled."


# Orders sheet


def _write_orders(sheet: Worksheet, orders: Sequence[OrderResult]) -> None:
    status_column = ORDER_HEADERS.index("Status")
    _write_table(
        sheet,
        ORDER_HEADERS,
        lambda: ((_order_values(order), order.status.value) for order in orders),
        status_column,
    )


def _order_values(order: OrderResult) -> list[CellValue]:
    return [
        order.order_id,
        order.order_number,
        order.location_id,
        order.status.value,
        order.fulfillment_id,
        _lines(tracking.number for tracking in order.trackings),
        _lines(tracking.carrier for tracking in order.trackings),
        _lines(_item_text(item) for item in order.items),
        _yes_no(order.notify_customer),
        order.http_status,
        order.message,
        order.trace_id,
        compress_row_numbers(order.rows),
        _local_naive(order.finished_at),
    ]


def _item_text(item: Item) -> str:
    return f"{item.sku or item.price_id} \N{MULTIPLICATION SIGN} {item.qty}"


def compress_row_numbers(numbers: Iterable[int]) -> str:
    """Return row numbers as ranges for reading: (2, 3, 4, 7) -> "2-4, 7"."""
    ranges: list[list[int]] = []
    for number in sorted(set(numbers)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])

    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in ranges)


# Rows sheet


def _write_rows(sheet: Worksheet, result: FileResult) -> None:
    width = max([len(result.headers), *(len(row.cells) for row in result.rows)])
    original_headers = list(result.headers) + [""] * (width - len(result.headers))
    status_column = ROW_HEADERS.index("Order Status")
    _write_table(
        sheet,
        [*ROW_HEADERS, *original_headers],
        lambda: ((_input_row_values(row), row.status) for row in result.rows),
        status_column,
    )


def _input_row_values(row: RowResult) -> list[CellValue]:
    problems = _lines(format_problem(problem) for problem in row.problems)
    return [row.number, row.status, problems, *row.cells]


def format_problem(problem: Problem) -> str:
    """Return one problem as the Rows sheet shows it, e.g. 'Warning: Column "Qty": ...'."""
    text = problem.message
    if problem.column:
        text = f'Column "{problem.column}": {text}'
    if not problem.is_error:
        text = f"Warning: {text}"
    return text


# Cells and layout


def _write_table(
    sheet: Worksheet,
    headers: Sequence[str],
    rows: Callable[[], Iterable[tuple[Sequence[CellValue], str]]],
    status_column: int,
) -> None:
    """Write a header and rows of (values, status), the status cell filled by its colour.

    `rows` is called twice: once to size the columns, once to write.
    """
    count = _set_widths(sheet, [headers, *(values for values, _ in rows())])
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count}"
    _append_header(sheet, headers)

    for values, status in rows():
        cells = [_make_cell(sheet, value) for value in values]
        for cell, value in zip(cells, values, strict=True):
            cell.alignment = WRAPPED if _needs_wrap(value) else TOP
        cells[status_column].fill = _status_fill(status)
        sheet.append(cells)


def _append_header(sheet: Worksheet, headers: Sequence[str]) -> None:
    cells = [_make_cell(sheet, header) for header in headers]
    for cell in cells:
        cell.font = HEADER_FONT
    sheet.append(cells)


def _make_cell(sheet: Worksheet, value: CellValue) -> Cell:
    """Make one cell: text always as a string cell, datetimes with a date format."""
    if isinstance(value, str):
        return _text_cell(sheet, value)

    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    return cell


def _text_cell(sheet: Worksheet, text: str) -> Cell:
    if not text:
        return WriteOnlyCell(sheet, None)

    cell = WriteOnlyCell(sheet, _storable_text(text))
    # openpyxl turns any string starting with "=" into a formula; "s" keeps it a string.
    cell.data_type = "s"
    # The Text format keeps identifiers such as "0012345" as text when the cell is edited.
    cell.number_format = "@"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


def _storable_text(text: str) -> str:
    # NOTE: XML cannot hold most control characters, so each one is replaced by
    # U+FFFD, and text over Excel's cell limit is cut. Both change the original,
    # and so does XML parsing, which reads a carriage return back as a line feed.
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    return text[:MAX_CELL_TEXT]


def _needs_wrap(value: CellValue) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > MAX_COLUMN_WIDTH)


def _set_widths(sheet: Worksheet, rows: Iterable[Sequence[object]]) -> int:
    """Size each column to its longest line, between MIN_COLUMN_WIDTH and MAX_COLUMN_WIDTH.

    Returns the number of rows, which the caller needs for the filter range.
    """
    longest: list[int] = []
    count = 0
    for values in rows:
        count += 1
        for column, value in enumerate(values):
            width = _display_width(value)
            if column == len(longest):
                longest.append(width)
            elif width > longest[column]:
                longest[column] = width

    for column, width in enumerate(longest, start=1):
        fitted = min(max(width + 2, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH)
        sheet.column_dimensions[get_column_letter(column)].width = fitted
    return count


def _display_width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return DATETIME_WIDTH
    return max(len(line) for line in str(value).splitlines() or [""])


def _status_fill(status: str) -> PatternFill:
    color = STATUS_COLORS.get(status)
    if color is None:
        return PatternFill()
    return PatternFill(fill_type="solid", start_color=color, end_color=color)


def _lines(values: Iterable[str]) -> str:
    return "\n".join(values)


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def _local_naive(moment: datetime | None) -> datetime | None:
    """Return the time in the local zone without tzinfo, because Excel cells hold no zone."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone().replace(tzinfo=None)


# Saving


def _save_replacing(result: FileResult, path: Path) -> Path:
    temporary = _save_temporary(result, path)
    try:
        return _move_into_place(temporary, path)
    finally:
        # After a successful move the temporary file no longer exists.
        temporary.unlink(missing_ok=True)


def _save_temporary(result: FileResult, path: Path) -> Path:
    """Build the workbook, save it to a new hidden file next to path and return its path.

    The file is opened first: a write-only workbook that is built but never
    saved leaves openpyxl's row writers open.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        handle = temporary.open("xb")
    except OSError as error:
        raise _unwritable(path, error) from error

    try:
        with handle:
            _save_durably(build_workbook(result), handle)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _unwritable(path, error) from error
        raise
    return temporary


def _save_durably(workbook: Workbook, handle: BinaryIO) -> None:
    workbook.save(handle)
    handle.flush()
    # Without fsync, a crash right after the rename can leave an empty file on some file systems.
    os.fsync(handle.fileno())


def _move_into_place(temporary: Path, path: Path) -> Path:
    """Rename the saved file to path, or to the first free "(n)" name when path is locked."""
    for candidate in _candidate_paths(path):
        try:
            os.replace(temporary, candidate)
        except PermissionError:
            # Windows raises this for a file open in Excel, Linux for a file marked immutable.
            continue
        except OSError as error:
            raise _unwritable(candidate, error) from error
        return candidate

    raise ReportError(
        path,
        f"cannot save the results workbook because this file and the next "
        f"{MAX_ALTERNATIVE_NAMES} numbered names are locked or taken. "
        "Close the results workbooks that are open in Excel, then try again.",
    )


def _candidate_paths(path: Path) -> Iterator[Path]:
    """Yield path, then each "<stem> (n)" name not already taken by an earlier run."""
    yield path
    for number in range(2, MAX_ALTERNATIVE_NAMES + 2):
        alternative = path.with_name(f"{path.stem} ({number}){path.suffix}")
        # An existing alternative may hold results the user still needs.
        if not alternative.exists():
            yield alternative


def _unwritable(path: Path, error: OSError) -> ReportError:
    reason = error.strerror or str(error)
    return ReportError(
        path,
        f"cannot save the results workbook ({reason}). Check that the folder exists "
        "and that you can write to it, or choose another path for the results.",
    )
