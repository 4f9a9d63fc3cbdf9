"""Build the results workbook: Summary, Orders and Rows sheets.

Every text value is stored as a string cell, never as a formula, because the
input cells come from outside and a cell such as "=HYPERLINK(...)" must not run
when the workbook is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from importer.records import FileResult, OrderResult, OrderStatus, RowResult
from importer.report.facts import (
    FORMULA_PREFIXES,
    IGNORED_STATUS,
    CellValue,
    compress_row_numbers,
    count_label,
    format_problem,
    item_text,
    lines,
    local_naive,
    summary_fields,
    yes_no,
)

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


HEADER_FONT = Font(bold=True)
WRAPPED = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


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
    fields = summary_fields(result)
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


def _format_summary_value(cell: Cell, label: str) -> None:
    # NOTE: the template score is taken to be a fraction from 0 to 1; a score
    # given in percent would show as 100 times too large.
    if label == "Match score":
        cell.number_format = "0%"
    elif label == "Duration (seconds)":
        cell.number_format = "0.0"


def _fill_status_count(cell: Cell, label: str) -> None:
    for status in STATUS_COLORS:
        if label == count_label(status):
            cell.fill = _status_fill(status)


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
        lines(tracking.number for tracking in order.trackings),
        lines(tracking.carrier for tracking in order.trackings),
        lines(item_text(item) for item in order.items),
        yes_no(order.notify_customer),
        order.http_status,
        order.message,
        order.trace_id,
        compress_row_numbers(order.rows),
        local_naive(order.finished_at),
    ]


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
    problems = lines(format_problem(problem) for problem in row.problems)
    return [row.number, row.status, problems, *row.cells]


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
