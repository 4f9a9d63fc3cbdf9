"""Build the results workbook: Summary, Orders and Rows sheets.

The Summary starts with a title naming the file, the counts with a bar chart
of them, and what to do next. The most common errors, the slowest orders and
the run's settings follow.

Every text value is stored as a string cell, never as a formula, because the
input cells come from outside and a cell such as "=HYPERLINK(...)" must not run
when the workbook is opened.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import DataPoint
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from importer.records import FileResult, OrderResult, OrderStatus, RowResult
from importer.report.facts import (
    COMMON_ERRORS,
    FORMULA_PREFIXES,
    IGNORED_STATUS,
    CellValue,
    ErrorGroup,
    StatusCount,
    compress_row_numbers,
    error_groups,
    format_problem,
    item_text,
    kind_label,
    lines,
    local_naive,
    more_errors_text,
    next_steps,
    order_reference,
    results_title,
    run_fields,
    slowest_orders,
    status_counts,
    what_to_do,
    yes_no,
)

SUMMARY_SHEET = "Summary"
ORDERS_SHEET = "Orders"
ROWS_SHEET = "Rows"

# The header of the summary's (label, value) pairs in the CSV form.
SUMMARY_HEADERS = ("Field", "Value")
# The headers of the Summary sheet's tables.
COUNT_HEADERS = ("Count", "Number", "Share of orders")
ERROR_HEADERS = ("Most common errors", "Example", "Orders")
SLOWEST_HEADERS = ("Slowest orders", "Status", "Seconds")
RUN_HEADERS = ("Run", "Value")
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
    "What To Do",
    "Trace ID",
    "Input Rows",
    "Finished At",
    "Seconds",
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
SECONDS_FORMAT = "0.00"
SHARE_FORMAT = "0%"
DATETIME_WIDTH = 19
MIN_COLUMN_WIDTH = 8
MAX_COLUMN_WIDTH = 60

# Excel's maximum number of characters in one cell.
MAX_CELL_TEXT = 32_767
# The character that replaces a control character in the workbook, because XML cannot hold one.
_REPLACEMENT = "\ufffd"
_PROBLEMS_COLUMN = ROW_HEADERS.index("Problems")
# How many rows with unstorable cells the Summary names before "and N more".
_NAMED_CHANGED_ROWS = 20


HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
# Row heights in points: Excel's default row for 11-point text, and one for the title.
LINE_HEIGHT = 15
TITLE_HEIGHT = 21
WRAPPED = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
# Summary values sit next to their labels, numbers included, as in a form.
LEFT = Alignment(horizontal="left", vertical="top")
LEFT_WRAPPED = Alignment(horizontal="left", wrap_text=True, vertical="top")


def build_workbook(result: FileResult) -> Workbook:
    """Build the Summary, Orders and Rows sheets.

    The workbook is write-only: openpyxl keeps no cell objects and writes the
    rows out as they come, so a file of a million rows fits in memory. Column
    widths are measured in a first pass over the values.
    """
    workbook = Workbook(write_only=True)
    changed_rows = _rows_with_unstorable_cells(result.rows)

    _write_summary(workbook.create_sheet(SUMMARY_SHEET), result, changed_rows)
    _write_orders(workbook.create_sheet(ORDERS_SHEET), result.orders)
    _write_rows(workbook.create_sheet(ROWS_SHEET), result)
    return workbook


# Summary sheet

# The cell at the top left corner of the counts' chart: right of the counts, past a blank column.
CHART_ANCHOR = "E2"
CHART_WIDTH_CM = 13
CHART_HEIGHT_CM = 6


def _write_summary(sheet: Worksheet, result: FileResult, changed_rows: Sequence[int]) -> None:
    """Write the title, counts, advice, common errors, slowest orders and settings."""
    counts = status_counts(result)
    first_count_row = 3  # after the title and the counts' header
    rows: list[list[Cell]] = [
        [_title_cell(sheet, results_title(result))],
        _header_cells(sheet, COUNT_HEADERS),
        *(_count_cells(sheet, count) for count in counts),
        [],
        *(_field_cells(sheet, label, value) for label, value in _advice(result, changed_rows)),
        *_error_table(sheet, error_groups(result.orders)),
        *_slowest_table(sheet, slowest_orders(result.orders)),
        [],
        _header_cells(sheet, RUN_HEADERS),
        *(_field_cells(sheet, label, value) for label, value in run_fields(result)),
    ]

    # The title is left out: it runs on into the empty cells to its right.
    _, widths = _set_widths(sheet, [[cell.value for cell in row] for row in rows[1:]])
    sheet.freeze_panes = "A2"
    _print_to_page_width(sheet)
    sheet.add_chart(_counts_chart(sheet, counts, first_count_row), CHART_ANCHOR)
    sheet.row_dimensions[1].height = TITLE_HEIGHT
    for row_index, row in enumerate(rows, start=1):
        _append_fitted(sheet, row_index, row, widths)


def _advice(result: FileResult, changed_rows: Sequence[int]) -> list[tuple[str, CellValue]]:
    # The next step comes first, because it is what the person reads the Summary for.
    fields: list[tuple[str, CellValue]] = [("What to do next", next_steps(result))]
    if result.stopped_reason:
        fields.append(("Stopped because", result.stopped_reason))
    fields += [("Note", note) for note in result.notes]
    if changed_rows:
        fields.append(("Note", _unstorable_note(changed_rows)))
    return fields


def _unstorable_note(changed_rows: Sequence[int]) -> str:
    shown = compress_row_numbers(changed_rows[:_NAMED_CHANGED_ROWS])
    more = len(changed_rows) - _NAMED_CHANGED_ROWS
    if more > 0:
        shown += f" and {more} more"
    label = "row" if len(changed_rows) == 1 else "rows"
    return (
        f"Cells of {label} {shown} hold control characters or more than "
        f"{MAX_CELL_TEXT:,} characters, which a workbook cannot store: this workbook "
        f"shows {_REPLACEMENT} for each control character and cuts long cells. "
        "The input file keeps them, and so do the CSV and JSON results "
        "(--results-format csv or json)."
    )


def _title_cell(sheet: Worksheet, title: str) -> Cell:
    cell = _make_cell(sheet, title)
    cell.font = TITLE_FONT
    return cell


def _header_cells(sheet: Worksheet, headers: Sequence[str]) -> list[Cell]:
    cells = [_make_cell(sheet, header) for header in headers]
    for cell in cells:
        cell.font = HEADER_FONT
    return cells


def _field_cells(sheet: Worksheet, label: str, value: CellValue) -> list[Cell]:
    label_cell = _make_cell(sheet, label)
    label_cell.font = HEADER_FONT
    label_cell.alignment = TOP
    value_cell = _make_cell(sheet, value)
    value_cell.alignment = LEFT_WRAPPED if isinstance(value, str) else LEFT
    _format_summary_value(value_cell, label)
    return [label_cell, value_cell]


def _count_cells(sheet: Worksheet, count: StatusCount) -> list[Cell]:
    label_cell = _make_cell(sheet, count.label)
    label_cell.font = HEADER_FONT
    if count.status:
        label_cell.fill = _status_fill(count.status)
    cells = [label_cell, _make_cell(sheet, count.count)]
    if count.share is not None:
        share_cell = _make_cell(sheet, count.share)
        share_cell.number_format = SHARE_FORMAT
        cells.append(share_cell)
    for cell in cells[1:]:
        cell.alignment = LEFT
    return cells


def _error_table(sheet: Worksheet, groups: Sequence[ErrorGroup]) -> list[list[Cell]]:
    if not groups:
        return []
    rows = [[], _header_cells(sheet, ERROR_HEADERS)]
    for group in groups[:COMMON_ERRORS]:
        cells = [
            _make_cell(sheet, kind_label(group.kind)),
            _make_cell(sheet, group.message),
            _make_cell(sheet, group.orders),
        ]
        for cell in cells:
            cell.alignment = WRAPPED
        rows.append(cells)
    if len(groups) > COMMON_ERRORS:
        more = more_errors_text(len(groups) - COMMON_ERRORS)
        rows.append([_make_cell(sheet, "Other errors"), _make_cell(sheet, more)])
    return rows


def _slowest_table(sheet: Worksheet, orders: Sequence[OrderResult]) -> list[list[Cell]]:
    if not orders:
        return []
    rows = [[], _header_cells(sheet, SLOWEST_HEADERS)]
    for order in orders:
        status_cell = _make_cell(sheet, order.status.value)
        status_cell.fill = _status_fill(order.status.value)
        seconds_cell = _make_cell(sheet, order.seconds)
        seconds_cell.number_format = SECONDS_FORMAT
        rows.append([_make_cell(sheet, order_reference(order)), status_cell, seconds_cell])
    return rows


def _format_summary_value(cell: Cell, label: str) -> None:
    # NOTE: the template score is taken to be a fraction from 0 to 1; a score
    # given in percent would show as 100 times too large.
    if label == "Match score":
        cell.number_format = "0%"
    elif label == "Duration (seconds)":
        cell.number_format = "0.0"


def _counts_chart(sheet: Worksheet, counts: Sequence[StatusCount], first_row: int) -> BarChart:
    """Chart the orders of each status, from the count cells that the Summary writes.

    The chart refers to the cells by address, which a write-only sheet allows
    before the rows are written: counts[i] goes to row first_row + i.
    """
    statuses = [
        (first_row + index, count)
        for index, count in enumerate(counts)
        if count.status and count.status != IGNORED_STATUS
    ]
    first, last = statuses[0][0], statuses[-1][0]

    chart = BarChart()
    chart.type = "bar"
    chart.title = "Orders per status"
    chart.legend = None
    chart.add_data(Reference(sheet, min_col=2, min_row=first, max_row=last))
    chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
    # Horizontal bars list their categories bottom up unless the axis is reversed.
    chart.x_axis.scaling.orientation = "maxMin"
    # openpyxl 3.1 writes both axes as deleted unless `delete` is set to False.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.majorGridlines = None
    chart.y_axis.number_format = "0"

    series = chart.series[0]
    series.dLbls = DataLabelList(
        showVal=True, showSerName=False, showCatName=False, showLegendKey=False
    )
    chart.gapWidth = 60
    for point, (_, count) in enumerate(statuses):
        color = STATUS_COLORS[count.status]
        bar = DataPoint(idx=point)
        bar.graphicalProperties.solidFill = color
        bar.graphicalProperties.line.solidFill = "808080"
        series.dPt.append(bar)

    chart.width = CHART_WIDTH_CM
    chart.height = CHART_HEIGHT_CM
    return chart


def _print_to_page_width(sheet: Worksheet) -> None:
    """Print the sheet in landscape, scaled to the page width, so no column is cut off."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)


# Orders sheet


def _write_orders(sheet: Worksheet, orders: Sequence[OrderResult]) -> None:
    status_column = ORDER_HEADERS.index("Status")
    _write_table(
        sheet,
        ORDER_HEADERS,
        lambda: ((order_values(order), order.status.value) for order in orders),
        status_column,
        number_formats={ORDER_HEADERS.index("Seconds"): SECONDS_FORMAT},
    )


def order_values(order: OrderResult) -> list[CellValue]:
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
        what_to_do(order),
        order.trace_id,
        compress_row_numbers(order.rows),
        local_naive(order.finished_at),
        order.seconds,
    ]


# Rows sheet


def _write_rows(sheet: Worksheet, result: FileResult) -> None:
    width = max([len(result.headers), *(len(row.cells) for row in result.rows)])
    original_headers = list(result.headers) + [""] * (width - len(result.headers))
    status_column = ROW_HEADERS.index("Order Status")
    _write_table(
        sheet,
        [*ROW_HEADERS, *original_headers],
        lambda: ((_workbook_row_values(row, result.headers), row.status) for row in result.rows),
        status_column,
    )


def _workbook_row_values(row: RowResult, headers: Sequence[str]) -> list[CellValue]:
    """Return a Rows sheet row, with a warning for each cell the workbook cannot store as it is."""
    values = input_row_values(row)
    changed = [
        _column_name(headers, position)
        for position, cell in enumerate(row.cells)
        if not _storable(cell)
    ]
    if changed:
        warnings = [
            f'Warning: Column "{name}": this workbook shows control characters as '
            f"{_REPLACEMENT} and cuts text at {MAX_CELL_TEXT:,} characters, which is all a "
            "workbook can store; the input file keeps the original"
            for name in changed
        ]
        problems = values[_PROBLEMS_COLUMN]
        values[_PROBLEMS_COLUMN] = lines([str(problems), *warnings] if problems else warnings)
    return values


def _rows_with_unstorable_cells(rows: Iterable[RowResult]) -> list[int]:
    return [row.number for row in rows if not all(_storable(cell) for cell in row.cells)]


def _storable(text: str) -> bool:
    return len(text) <= MAX_CELL_TEXT and ILLEGAL_CHARACTERS_RE.search(text) is None


def _column_name(headers: Sequence[str], position: int) -> str:
    if position < len(headers) and headers[position]:
        return headers[position]
    return f"column {position + 1}"


def input_row_values(row: RowResult) -> list[CellValue]:
    problems = lines(format_problem(problem) for problem in row.problems)
    return [row.number, row.status, problems, *row.cells]


# Cells and layout


def _write_table(
    sheet: Worksheet,
    headers: Sequence[str],
    rows: Callable[[], Iterable[tuple[Sequence[CellValue], str]]],
    status_column: int,
    number_formats: Mapping[int, str] | None = None,
) -> None:
    """Write a header and rows of (values, status), the status cell filled by its colour.

    `rows` is called twice: once to size the columns, once to write.
    `number_formats` maps a column's position to the number format of its cells.
    """
    number_formats = number_formats or {}
    count, widths = _set_widths(sheet, [headers, *(values for values, _ in rows())])
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count}"
    _print_across(sheet)
    _append_header(sheet, headers)

    for row_index, (values, status) in enumerate(rows(), start=2):
        cells = [_make_cell(sheet, value) for value in values]
        for cell, value in zip(cells, values, strict=True):
            cell.alignment = WRAPPED if _needs_wrap(value) else TOP
        cells[status_column].fill = _status_fill(status)
        for column, number_format in number_formats.items():
            cells[column].number_format = number_format
        _append_fitted(sheet, row_index, cells, widths)


def _print_across(sheet: Worksheet) -> None:
    """Print a table in landscape with its header row on every page, so each page can be read."""
    sheet.page_setup.orientation = "landscape"
    sheet.print_title_rows = "1:1"
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)


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
    text = ILLEGAL_CHARACTERS_RE.sub(_REPLACEMENT, text)
    return text[:MAX_CELL_TEXT]


def _needs_wrap(value: CellValue) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > MAX_COLUMN_WIDTH)


def _append_fitted(
    sheet: Worksheet, row_index: int, cells: list[Cell], widths: Sequence[int]
) -> None:
    """Append a row as row `row_index`, as high as the lines of its wrapped cells need.

    Neither Excel nor LibreOffice (7.4) is sure to fit a row to wrapped text
    when it opens the file, so the height is estimated here. The row's height
    is set just before the row is written and dropped after, because a
    write-only sheet writes each row as it is appended, and a dimension kept
    for each of a million rows would fill the memory.
    """
    lines = max(
        (_wrapped_lines(cell.value, width) for cell, width in zip(cells, widths, strict=False)),
        default=1,
    )
    if lines > 1:
        sheet.row_dimensions[row_index].height = lines * LINE_HEIGHT
    sheet.append(cells)
    if lines > 1:
        del sheet.row_dimensions[row_index]


def _wrapped_lines(value: object, width: int) -> int:
    """Estimate how many lines a cell of this column width wraps its text into."""
    if not isinstance(value, str) or not _needs_wrap(value):
        return 1
    # A column width counts digit widths, and most letters are narrower than a digit,
    # so this estimate errs towards one line too many.
    room = max(width - 1, 1)
    return sum(max(1, math.ceil(len(line) / room)) for line in value.splitlines())


def _set_widths(sheet: Worksheet, rows: Iterable[Sequence[object]]) -> tuple[int, list[int]]:
    """Size each column to its longest line, between MIN_COLUMN_WIDTH and MAX_COLUMN_WIDTH.

    Returns the number of rows, which the caller needs for the filter range,
    and the widths set.
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

    widths = [min(max(width + 2, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH) for width in longest]
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    return count, widths


def _display_width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return DATETIME_WIDTH
    if isinstance(value, float):
        # Fractions show with two decimals at most (seconds) or as a percentage.
        return len(f"{value:.2f}")
    return max(len(line) for line in str(value).splitlines() or [""])


def _status_fill(status: str) -> PatternFill:
    color = STATUS_COLORS.get(status)
    if color is None:
        return PatternFill()
    return PatternFill(fill_type="solid", start_color=color, end_color=color)
