"""Read the results of an earlier run as input, to send again only what was not done.

After a run, the user corrects the rejected rows in the results workbook's
Rows sheet, or in the rows CSV file, and imports that file. The Rows sheet
and the rows file contain every input row with its original cells, after three
columns of the run's own: the row number, the order's status and the row's
problems. Those three are left out, and the rows of orders that were created
or skipped then are set aside with the reason, so that they are listed in the
new results but never sent again.
"""

from __future__ import annotations

from collections.abc import Sequence

from importer.load.records import IgnoredRow, RawRow, Rows, Table
from importer.records import OrderStatus
from importer.report import (
    ORDERS_SHEET,
    ROW_HEADERS,
    ROWS_SHEET,
    SUMMARY_SHEET,
    unescape_formula,
)

# The order statuses whose rows need nothing more.
DONE_STATUSES = frozenset({OrderStatus.CREATED.value, OrderStatus.SKIPPED.value})
_STATUS_COLUMN = ROW_HEADERS.index("Order Status")
RESULTS_NOTE = (
    "this is a results workbook of an earlier import: its Rows sheet is read, and the rows of "
    "orders that were created or skipped then are not sent again"
)
RESULTS_CSV_NOTE = (
    "this is the rows file of an earlier import's results: the rows of orders that were "
    "created or skipped then are not sent again"
)


def results_sheet(names: Sequence[str]) -> int | None:
    """Return the position of the Rows sheet when the sheet names are a results workbook's."""
    if not {SUMMARY_SHEET, ORDERS_SHEET, ROWS_SHEET} <= set(names):
        return None
    return list(names).index(ROWS_SHEET)


def is_results_rows(rows: Sequence[RawRow]) -> bool:
    """Tell whether a sheet starts with the header of a results workbook's Rows sheet."""
    first = next((row for row in rows if any(cell.strip() for cell in row.cells)), None)
    if first is None:
        return False
    return tuple(cell.strip() for cell in first.cells[: len(ROW_HEADERS)]) == ROW_HEADERS


def split_results_rows(rows: Sequence[RawRow]) -> tuple[list[RawRow], dict[int, str]]:
    """Drop the run's own columns; return the rows and each row's earlier order status."""
    width = len(ROW_HEADERS)
    statuses = {
        row.number: row.cells[_STATUS_COLUMN].strip().lower()
        for row in rows
        if len(row.cells) > _STATUS_COLUMN
    }
    return [RawRow(row.number, row.cells[width:]) for row in rows], statuses


def unescape_results_cells(rows: Sequence[RawRow]) -> list[RawRow]:
    """Remove the apostrophe that the rows CSV writer put before formula-like cells.

    The CSV writer escapes every cell, the run's own columns included; a cell
    that had no apostrophe added is returned unchanged.
    """
    return [RawRow(row.number, tuple(unescape_formula(cell) for cell in row.cells)) for row in rows]


def set_aside_done_rows(table: Table, statuses: dict[int, str]) -> Table:
    """Move the rows of orders created or skipped before into the ignored rows, with why."""
    keep = []
    done = list(table.ignored)
    for row in table.rows:
        status = statuses.get(row.number, "")
        if status in DONE_STATUSES:
            reason = (
                f"its order was {status} by the import that wrote these results; not sent again"
            )
            done.append(IgnoredRow(row.number, row.cells, reason))
        else:
            keep.append(row)
    if len(keep) == len(table.rows):
        return table
    return Table(
        path=table.path,
        headers=table.headers,
        header_row=table.header_row,
        rows=Rows.of(keep),
        ignored=tuple(sorted(done, key=lambda row: row.number)),
        sheet=table.sheet,
        notes=table.notes,
    )
