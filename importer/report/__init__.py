"""Write what happened to every order and every input row of a run.

The results workbook has three sheets. Summary contains the run's settings,
counts per status and the next step for the person who ran the import. Orders
has one row per order sent or checked. Rows repeats every input row with its
original cells and the problems found in it, so the file can be fixed and
imported again. The same results can be written as three CSV files (flat)
or as one JSON document (document), which can also be read back.
"""

from importer.report.document import (
    SCHEMA_VERSION,
    ResultsDocument,
    dump_result,
    from_document,
    load_result,
    results_schema,
    to_document,
)
from importer.report.facts import (
    FORMULA_PREFIXES,
    IGNORED_STATUS,
    compress_row_numbers,
    format_problem,
)
from importer.report.flat import (
    ORDERS_ENDING,
    ROWS_ENDING,
    SUMMARY_ENDING,
    csv_paths,
    escape_formula,
    unescape_formula,
)
from importer.report.saving import (
    MAX_ALTERNATIVE_NAMES,
    RESULTS_FORMATS,
    check_writable,
    default_results_path,
    remove_unfinished_files,
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
    "ORDERS_ENDING",
    "ORDERS_SHEET",
    "ORDER_HEADERS",
    "RESULTS_FORMATS",
    "ROWS_ENDING",
    "ROWS_SHEET",
    "ROW_HEADERS",
    "SCHEMA_VERSION",
    "STATUS_COLORS",
    "SUMMARY_ENDING",
    "SUMMARY_SHEET",
    "ResultsDocument",
    "build_workbook",
    "check_writable",
    "compress_row_numbers",
    "csv_paths",
    "default_results_path",
    "dump_result",
    "escape_formula",
    "format_problem",
    "from_document",
    "load_result",
    "remove_unfinished_files",
    "results_schema",
    "to_document",
    "unescape_formula",
    "write_results",
]
