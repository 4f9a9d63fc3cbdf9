"""Write the results as three CSV files with the columns of the workbook's sheets.

`<stem>.summary.csv`, `<stem>.orders.csv` and `<stem>.rows.csv` hold the
Summary, Orders and Rows sheets, where `<stem>` is the results path's stem.
The files are UTF-8 with a byte order mark, without which Excel reads them in
the computer's legacy code page.

Input cells come from outside, and a spreadsheet program runs a CSV cell that
starts with "=", "+", "-" or "@" as a formula (tab and carriage return are
added because some programs drop them before they look). Such a cell is
written with an apostrophe in front, which those programs show as text.
`unescape_formula` removes it again when a rows file is imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from importer.records import FileResult
from importer.report.facts import (
    COMMON_ERRORS,
    FORMULA_PREFIXES,
    CellValue,
    advice_fields,
    error_groups,
    kind_label,
    more_errors_text,
    order_reference,
    run_fields,
    slowest_orders,
    status_counts,
)

# The workbook's own row builders, so that the CSV files always have its columns and values.
from importer.report.workbook import (
    ORDER_HEADERS,
    ROW_HEADERS,
    input_row_values,
    order_values,
)

SUMMARY_ENDING = ".summary.csv"
ORDERS_ENDING = ".orders.csv"
ROWS_ENDING = ".rows.csv"

# The prefix that makes a spreadsheet program read a cell as text.
TEXT_PREFIX = "'"
# The form in which the workbook shows date and time cells.
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

Table = tuple[Sequence[str], Iterable[Sequence[CellValue]]]


def csv_paths(results_path: Path) -> tuple[Path, Path, Path]:
    """Return the summary, orders and rows file paths for a results path such as x.results.csv."""
    stem = results_path.stem
    return (
        results_path.with_name(stem + SUMMARY_ENDING),
        results_path.with_name(stem + ORDERS_ENDING),
        results_path.with_name(stem + ROWS_ENDING),
    )


# Tables: the same columns and values as the workbook's sheets


SUMMARY_HEADERS = ("Field", "Value", "Share of orders")


def summary_table(result: FileResult, extra_notes: Sequence[str] = ()) -> Table:
    """Return the Summary sheet's content as one table of (field, value, share) rows.

    The rows come in the sheet's order: counts, advice, the most common errors,
    the slowest orders and the run's settings. `extra_notes` are added to the
    notes.
    """
    rows: list[tuple[str, CellValue, CellValue]] = [
        (count.label, count.count, count.share) for count in status_counts(result)
    ]
    rows += [(label, value, None) for label, value in advice_fields(result)]
    rows += [("Note", note, None) for note in extra_notes]
    groups = error_groups(result.orders)
    rows += [
        (
            f"Common error: {kind_label(group.kind)}",
            f"{_orders_text(group.orders)}, for example: {group.message}",
            None,
        )
        for group in groups[:COMMON_ERRORS]
    ]
    if len(groups) > COMMON_ERRORS:
        more = more_errors_text(len(groups) - COMMON_ERRORS)
        rows.append(("Common error: more", more, None))
    rows += [
        (f"Slow order: {order_reference(order)} ({order.status.value})", order.seconds, None)
        for order in slowest_orders(result.orders)
    ]
    rows += [(label, value, None) for label, value in run_fields(result)]
    return SUMMARY_HEADERS, rows


def orders_table(result: FileResult) -> Table:
    return ORDER_HEADERS, (order_values(order) for order in result.orders)


def rows_table(result: FileResult) -> Table:
    width = max([len(result.headers), *(len(row.cells) for row in result.rows)])
    original_headers = list(result.headers) + [""] * (width - len(result.headers))
    headers = [*ROW_HEADERS, *original_headers]
    return headers, (_padded(input_row_values(row), len(headers)) for row in result.rows)


def _padded(values: list[CellValue], width: int) -> list[CellValue]:
    # Every row gets as many cells as the header, as in the workbook's sheet.
    return values + [None] * (width - len(values))


# Writing


def write_table(handle: BinaryIO, table: Table) -> None:
    """Write a header and rows as UTF-8 CSV with a byte order mark, each cell escaped."""
    headers, rows = table
    # newline="" lets the csv module write its own CRLF line ends and keep line
    # breaks inside a quoted cell as they are.
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow([cell_text(header) for header in headers])
        writer.writerows(_texts(rows))
        text.flush()
    finally:
        # The caller owns the handle and flushes and closes it.
        text.detach()


def _texts(rows: Iterable[Sequence[CellValue]]) -> Iterator[list[str]]:
    for values in rows:
        yield [cell_text(value) for value in values]


def cell_text(value: CellValue) -> str:
    """Return a value as a CSV cell: text escaped, datetimes as the workbook shows them."""
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    return str(value)


def escape_formula(text: str) -> str:
    """Put an apostrophe before text that a spreadsheet program would run as a formula.

    Text that already starts with apostrophes before such a character gets one
    more, so `unescape_formula` returns every text unchanged.
    """
    if text.lstrip(TEXT_PREFIX).startswith(FORMULA_PREFIXES):
        return TEXT_PREFIX + text
    return text


def unescape_formula(text: str) -> str:
    """Remove the apostrophe that `escape_formula` added, and leave any other text as it is."""
    if text.startswith(TEXT_PREFIX) and text.lstrip(TEXT_PREFIX).startswith(FORMULA_PREFIXES):
        return text[len(TEXT_PREFIX) :]
    return text


def _orders_text(count: int) -> str:
    return "1 order" if count == 1 else f"{count} orders"
