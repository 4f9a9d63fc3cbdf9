"""Write what happened to every order and every input row of a run.

The results workbook has three sheets. Summary contains the run's settings,
counts per status and the next step for the person who ran the import. Orders
has one row per order sent or checked. Rows repeats every input row with its
original cells and the problems found in it, so the file can be fixed and
imported again.
"""

from importer.report.facts import (
    FORMULA_PREFIXES,
    IGNORED_STATUS,
    compress_row_numbers,
    format_problem,
)
from importer.report.saving import (
    MAX_ALTERNATIVE_NAMES,
    check_writable,
    default_results_path,
    write_results,
)
from importer.report.workbook import (
    MAX_CELL_TEXT,
    MAX_COLUMN_WIDTH,
    ORDER_HEADERS,
    ORDERS_SHEET,
    ROW_HEADERS,
    ROWS_SHEET,
    STATUS_COLORS,
    SUMMARY_SHEET,
    build_workbook,
)

__all__ = [
    "FORMULA_PREFIXES",
    "IGNORED_STATUS",
    "MAX_ALTERNATIVE_NAMES",
    "MAX_CELL_TEXT",
    "MAX_COLUMN_WIDTH",
    "ORDERS_SHEET",
    "ORDER_HEADERS",
    "ROWS_SHEET",
    "ROW_HEADERS",
    "STATUS_COLORS",
    "SUMMARY_SHEET",
    "build_workbook",
    "check_writable",
    "compress_row_numbers",
    "default_results_path",
    "format_problem",
    "write_results",
]
