"""Tests for the results workbook: sheets, values, text safety, styling and saving."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.chart import BarChart
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from importer import report
from importer.errors import ImporterError, ReportError
from importer.records import (
    STOPPED_ON_REQUEST,
    ErrorKind,
    FileResult,
    Item,
    OrderResult,
    OrderStatus,
    Problem,
    RowResult,
    Severity,
    Tracking,
)
from importer.report.facts import what_to_do

SheetCell = Cell | MergedCell

LOCATION = "3SwdhCu3svxI8AKsPJt6"
CREATED_ID = "6650f1a2b3c4d5e6f7a8b9c0"
SKIPPED_ID = "6650f1a2b3c4d5e6f7a8b9c1"
REJECTED_ID = "6650f1a2b3c4d5e6f7a8b9c2"
FAILED_ID = "6650f1a2b3c4d5e6f7a8b9c3"
PRICE_ID = "6650f1a2b3c4d5e6f7a8b9d0"
FULFILLMENT_ID = "6650f1a2b3c4d5e6f7a8b9e0"
STARTED = datetime(2026, 12, 1, 9, 0, 0)
FINISHED = datetime(2026, 12, 1, 9, 0, 42, 500_000)
HEADERS = ("Order ID", "Tracking Number", "Carrier", "SKU", "Qty", "Zip")
TIMES = "\N{MULTIPLICATION SIGN}"
FORMULA_LIKE = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tTAB"]


def _row(
    number: int,
    order_id: str,
    status: str,
    *,
    problems: list[Problem] | None = None,
    cells: tuple[str, ...] | None = None,
) -> RowResult:
    if cells is None:
        cells = (order_id, f"1Z{number:04d}", "UPS", "TEE-BLK-M", "1", "")
    return RowResult(number, cells, order_id, status, problems or [])


def _orders() -> list[OrderResult]:
    created = OrderResult(
        order_id=CREATED_ID,
        location_id=LOCATION,
        status=OrderStatus.CREATED,
        rows=(2, 3, 4, 7),
        trackings=(Tracking("1Z0002", "UPS"), Tracking("9400111", "USPS")),
        items=(Item(PRICE_ID, "TEE-BLK-M", 2), Item(PRICE_ID, "", 1)),
        notify_customer=True,
        fulfillment_id=FULFILLMENT_ID,
        http_status=201,
        finished_at=datetime(2026, 12, 1, 9, 0, 10),
    )
    skipped = OrderResult(
        SKIPPED_ID, LOCATION, OrderStatus.SKIPPED, (5,), message="already fulfilled"
    )
    rejected = OrderResult(
        REJECTED_ID, LOCATION, OrderStatus.REJECTED, (6,), message="quantity is not a number"
    )
    failed = OrderResult(
        FAILED_ID,
        LOCATION,
        OrderStatus.FAILED,
        (8,),
        notify_customer=False,
        http_status=500,
        message="HighLevel returned an internal error",
        trace_id="trace-123",
    )
    return [created, skipped, rejected, failed]


def _rows() -> list[RowResult]:
    column_problem = Problem('"two" is not a whole number', (6,), "Qty")
    plain_problem = Problem("the order is canceled in HighLevel", (6,))
    warning = Problem("carrier is not known", (5,), "Carrier", Severity.WARNING)
    first_cells = (CREATED_ID, "1Z0002", "UPS", "TEE-BLK-M", "1", "0012345")
    return [
        _row(2, CREATED_ID, "created", cells=first_cells),
        _row(3, CREATED_ID, "created", cells=(CREATED_ID, *FORMULA_LIKE)),
        _row(4, CREATED_ID, "created"),
        _row(5, SKIPPED_ID, "skipped", problems=[warning]),
        _row(6, REJECTED_ID, "rejected", problems=[column_problem, plain_problem]),
        _row(7, CREATED_ID, "created", cells=(CREATED_ID, "\rCR", "", "", "", "")),
        _row(8, FAILED_ID, "failed"),
        _row(9, "", "ignored", cells=("", "", "", "", "", "")),
    ]


def _file_result(**changes: object) -> FileResult:
    result = FileResult(
        path=Path("exports/dec-01.csv"),
        started_at=STARTED,
        finished_at=FINISHED,
        template="generic",
        template_score=0.875,
        headers=HEADERS,
        location_id=LOCATION,
        notify_setting="from the file, else no",
        orders=_orders(),
        rows=_rows(),
        notes=["2 blank rows were ignored", "column G has no header"],
    )
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def _write(tmp_path: Path, result: FileResult | None = None) -> Workbook:
    written = report.write_results(result or _file_result(), tmp_path / "dec-01.results.xlsx")
    return load_workbook(written)


def _sheet(workbook: Workbook, name: str) -> Worksheet:
    sheet = workbook[name]
    assert isinstance(sheet, Worksheet)
    return sheet


def _header(sheet: Worksheet) -> list[object]:
    return [cell.value for cell in sheet[1]]


def _records(sheet: Worksheet) -> list[dict[str, SheetCell]]:
    """Return data rows as {header: cell}, for sheets whose headers are unique."""
    headers = [str(value) for value in _header(sheet)]
    records = []
    for row in sheet.iter_rows(min_row=2):
        records.append({header: cell for header, cell in zip(headers, row, strict=True)})
    return records


def _summary(workbook: Workbook) -> dict[str, list[SheetCell]]:
    """Return the Summary's value cells (column B) by their label (column A), title left out."""
    fields: dict[str, list[SheetCell]] = {}
    for label, value in _sheet(workbook, "Summary").iter_rows(min_row=2, max_col=2):
        if label.value is not None:
            fields.setdefault(str(label.value), []).append(value)
    return fields


def _summary_row(workbook: Workbook, label: str) -> tuple[SheetCell, ...]:
    """Return the first Summary row whose column A contains `label`."""
    sheet = _sheet(workbook, "Summary")
    return next(row for row in sheet.iter_rows(min_row=2) if row[0].value == label)


def _summary_value(workbook: Workbook, label: str) -> object:
    return _summary(workbook)[label][0].value


def _is_date_cell(cell: SheetCell) -> bool:
    return isinstance(cell, Cell) and cell.is_date


def _order_record(workbook: Workbook, order_id: str) -> dict[str, SheetCell]:
    records = _records(_sheet(workbook, "Orders"))
    return next(record for record in records if record["Order ID"].value == order_id)


def _input_row(workbook: Workbook, number: int) -> tuple[SheetCell, ...]:
    sheet = _sheet(workbook, "Rows")
    return next(row for row in sheet.iter_rows(min_row=2) if row[0].value == number)


# default_results_path


@pytest.mark.parametrize(
    ("input_path", "expected"),
    [
        ("exports/dec-01.csv", "exports/dec-01.results.xlsx"),
        ("exports/dec-01.xlsx", "exports/dec-01.results.xlsx"),
        ("dec-01", "dec-01.results.xlsx"),
        ("/data/ups.export.csv", "/data/ups.export.results.xlsx"),
        ("exports/dec-01.results.xlsx", "exports/dec-01.results.results.xlsx"),
    ],
)
def test_default_results_path_cases(input_path: str, expected: str) -> None:
    """The results workbook sits next to the input, named <stem>.results.xlsx."""
    assert report.default_results_path(Path(input_path)) == Path(expected)


# Sheets and values


def test_write_results_returns_target(tmp_path: Path) -> None:
    """An unlocked target is written and its own path returned."""
    target = tmp_path / "dec-01.results.xlsx"

    written = report.write_results(_file_result(), target)

    assert written == target
    assert target.is_file()


def test_sheet_names_in_order(tmp_path: Path) -> None:
    """The workbook has Summary, Orders and Rows, in that order."""
    assert _write(tmp_path).sheetnames == ["Summary", "Orders", "Rows"]


def test_orders_header_row(tmp_path: Path) -> None:
    """The Orders sheet starts with the documented column headers."""
    assert _header(_sheet(_write(tmp_path), "Orders")) == list(report.ORDER_HEADERS)


def test_rows_header_row_keeps_original_headers(tmp_path: Path) -> None:
    """The Rows sheet headers are Row, Order Status, Problems, then the file's headers."""
    expected = ["Row", "Order Status", "Problems", *HEADERS]

    assert _header(_sheet(_write(tmp_path), "Rows")) == expected


def test_summary_title_names_file(tmp_path: Path) -> None:
    """The Summary's first row is a title that names the input file."""
    title = _sheet(_write(tmp_path), "Summary")["A1"]

    assert title.value == "Results of importing dec-01.csv"
    assert title.font.b


def test_summary_title_marks_dry_run(tmp_path: Path) -> None:
    title = _sheet(_write(tmp_path, _file_result(dry_run=True)), "Summary")["A1"].value
    assert "dry run" in str(title)


def test_summary_counts_header_row(tmp_path: Path) -> None:
    """The counts under the title have their own header, with a share column."""
    row = [cell.value for cell in _sheet(_write(tmp_path), "Summary")[2]]
    assert row == ["Count", "Number", "Share of orders"]


def test_orders_listed_in_order(tmp_path: Path) -> None:
    """Every order result has one Orders row, in the given order."""
    records = _records(_sheet(_write(tmp_path), "Orders"))

    assert [record["Order ID"].value for record in records] == [
        CREATED_ID,
        SKIPPED_ID,
        REJECTED_ID,
        FAILED_ID,
    ]
    assert [record["Status"].value for record in records] == [
        "created",
        "skipped",
        "rejected",
        "failed",
    ]


def test_created_order_values(tmp_path: Path) -> None:
    """A created order shows its fulfillment, trackings, items, rows and finish time."""
    record = _order_record(_write(tmp_path), CREATED_ID)

    assert record["Fulfillment ID"].value == FULFILLMENT_ID
    assert record["Tracking Numbers"].value == "1Z0002\n9400111"
    assert record["Carriers"].value == "UPS\nUSPS"
    assert record["Items"].value == f"TEE-BLK-M {TIMES} 2\n{PRICE_ID} {TIMES} 1"
    assert record["Notify Customer"].value == "yes"
    assert record["HTTP Status"].value == 201
    assert record["Input Rows"].value == "2-4, 7"
    assert record["Finished At"].value == datetime(2026, 12, 1, 9, 0, 10)
    assert _is_date_cell(record["Finished At"])


def test_failed_order_values(tmp_path: Path) -> None:
    """A failed order shows its HTTP status, message, trace ID and notify setting."""
    record = _order_record(_write(tmp_path), FAILED_ID)

    assert record["HTTP Status"].value == 500
    assert record["Message"].value == "HighLevel returned an internal error"
    assert record["Trace ID"].value == "trace-123"
    assert record["Notify Customer"].value == "no"
    assert record["Finished At"].value is None


def test_unknown_notify_left_blank(tmp_path: Path) -> None:
    """An order without a notify decision has a blank Notify Customer cell."""
    record = _order_record(_write(tmp_path), SKIPPED_ID)

    assert record["Notify Customer"].value is None


def test_order_ids_stored_as_text(tmp_path: Path) -> None:
    """Order IDs made of digits stay text cells."""
    order = OrderResult("0012345", LOCATION, OrderStatus.REJECTED, (2,))
    workbook = _write(tmp_path, _file_result(orders=[order]))

    cell = _order_record(workbook, "0012345")["Order ID"]

    assert cell.data_type == "s"


def test_rows_listed_in_input_order(tmp_path: Path) -> None:
    """Every input row has one Rows row, in input order, with its status."""
    sheet = _sheet(_write(tmp_path), "Rows")
    rows = list(sheet.iter_rows(min_row=2, max_col=2, values_only=True))

    assert [number for number, _ in rows] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert [status for _, status in rows] == [row.status for row in _rows()]


def test_rows_keep_original_cells(tmp_path: Path) -> None:
    """The original cells follow the three result columns, unchanged and as text."""
    cells = _input_row(_write(tmp_path), 2)[3:]

    assert [cell.value for cell in cells] == [
        CREATED_ID,
        "1Z0002",
        "UPS",
        "TEE-BLK-M",
        "1",
        "0012345",
    ]
    assert all(cell.data_type == "s" for cell in cells)


def test_postal_code_keeps_leading_zeros(tmp_path: Path) -> None:
    """A postal code like 0012345 stays a text cell with its zeros."""
    zip_cell = _input_row(_write(tmp_path), 2)[-1]

    assert zip_cell.value == "0012345"
    assert zip_cell.data_type == "s"
    assert zip_cell.number_format == "@"


def test_row_problems_text(tmp_path: Path) -> None:
    """Problems show the column when there is one, one per line."""
    problems = _input_row(_write(tmp_path), 6)[2]

    assert problems.value == (
        'Column "Qty": "two" is not a whole number\nthe order is canceled in HighLevel'
    )


def test_row_warning_prefixed(tmp_path: Path) -> None:
    """A warning is prefixed with "Warning: "."""
    problems = _input_row(_write(tmp_path), 5)[2]

    assert problems.value == 'Warning: Column "Carrier": carrier is not known'


def test_row_without_problems_blank(tmp_path: Path) -> None:
    """A row without problems has an empty Problems cell."""
    assert _input_row(_write(tmp_path), 4)[2].value is None


def test_extra_cells_beyond_headers_kept(tmp_path: Path) -> None:
    """Cells beyond the last header are kept in columns without a header."""
    row = _row(2, CREATED_ID, "created", cells=(*("a", "b", "c", "d", "e", "f"), "extra"))
    workbook = _write(tmp_path, _file_result(rows=[row]))

    assert _input_row(workbook, 2)[-1].value == "extra"
    assert _header(_sheet(workbook, "Rows"))[-1] is None


def test_control_characters_replaced(tmp_path: Path) -> None:
    """Characters XML cannot store become U+FFFD instead of failing the write."""
    row = _row(2, CREATED_ID, "created", cells=("a\x01b", "", "", "", "", ""))
    workbook = _write(tmp_path, _file_result(rows=[row]))

    assert _input_row(workbook, 2)[3].value == "a\ufffdb"


# Formula-like text


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_formula_like_cell_stays_string(tmp_path: Path, text: str) -> None:
    """An input cell that looks like a formula is stored as the same plain string."""
    row = _row(2, CREATED_ID, "created", cells=(text, "", "", "", "", ""))
    workbook = _write(tmp_path, _file_result(rows=[row]))

    cell = _input_row(workbook, 2)[3]

    assert cell.data_type == "s"
    assert cell.value == text
    assert cell.quotePrefix


def test_leading_carriage_return_stays_string(tmp_path: Path) -> None:
    """A cell starting with CR stays a string, read back with LF as XML requires."""
    row = _row(2, CREATED_ID, "created", cells=("\rCR", "", "", "", "", ""))
    workbook = _write(tmp_path, _file_result(rows=[row]))

    cell = _input_row(workbook, 2)[3]

    assert cell.data_type == "s"
    assert cell.value == "\nCR"
    assert cell.quotePrefix


def test_formula_like_message_stays_string(tmp_path: Path) -> None:
    """Order messages and trace IDs that look like formulas stay plain strings."""
    order = OrderResult(
        CREATED_ID, LOCATION, OrderStatus.FAILED, (2,), message="=1+1", trace_id="@x"
    )
    record = _order_record(_write(tmp_path, _file_result(orders=[order])), CREATED_ID)

    assert record["Message"].data_type == "s"
    assert record["Message"].value == "=1+1"
    assert record["Trace ID"].value == "@x"


def test_formula_like_note_stays_string(tmp_path: Path) -> None:
    """Summary notes that look like formulas stay plain strings."""
    workbook = _write(tmp_path, _file_result(notes=["=SUM(A1:A2)"]))

    note = _summary(workbook)["Note"][0]

    assert note.data_type == "s"
    assert note.value == "=SUM(A1:A2)"


# Summary


def test_summary_run_fields(tmp_path: Path) -> None:
    """Summary lists the file, template, location and settings of the run."""
    workbook = _write(tmp_path)

    assert _summary_value(workbook, "File") == str(Path("exports/dec-01.csv"))
    assert _summary_value(workbook, "Template") == "generic"
    assert _summary_value(workbook, "Location") == LOCATION
    assert _summary_value(workbook, "Dry run") == "no"
    assert _summary_value(workbook, "Notify customers") == "from the file, else no"
    assert "Sheet" not in _summary(workbook)


def test_summary_sheet_shown_when_set(tmp_path: Path) -> None:
    """The input sheet name is listed when the file had one."""
    workbook = _write(tmp_path, _file_result(sheet="Shipments"))

    assert _summary_value(workbook, "Sheet") == "Shipments"


def test_summary_match_score_percentage(tmp_path: Path) -> None:
    """The template match score is a number shown as a percentage."""
    cell = _summary(_write(tmp_path))["Match score"][0]

    assert cell.value == 0.875
    assert cell.number_format == "0%"


def test_summary_dates_are_datetimes(tmp_path: Path) -> None:
    """Started and Finished are datetime cells with a date format."""
    summary = _summary(_write(tmp_path))
    started = summary["Started"][0]
    finished = summary["Finished"][0]

    assert _is_date_cell(started)
    assert started.value == STARTED
    assert _is_date_cell(finished)
    assert isinstance(finished.value, datetime)
    assert abs(finished.value - FINISHED) < timedelta(milliseconds=1)


def test_summary_duration_seconds(tmp_path: Path) -> None:
    """Duration is the number of seconds from start to finish."""
    assert _summary_value(_write(tmp_path), "Duration (seconds)") == 42.5


def test_summary_unfinished_run(tmp_path: Path) -> None:
    """A run without a finish time leaves Finished and Duration blank."""
    workbook = _write(tmp_path, _file_result(finished_at=None))

    assert _summary_value(workbook, "Finished") is None
    assert _summary_value(workbook, "Duration (seconds)") is None


def test_summary_aware_times_in_local_zone(tmp_path: Path) -> None:
    """Times with a zone are written as naive local times."""
    started = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    workbook = _write(tmp_path, _file_result(started_at=started, finished_at=None))

    expected = started.astimezone().replace(tzinfo=None)

    assert _summary_value(workbook, "Started") == expected


def test_summary_counts(tmp_path: Path) -> None:
    """Summary counts rows, orders per status and ignored rows."""
    workbook = _write(tmp_path)

    assert _summary_value(workbook, "Input rows") == 8
    assert _summary_value(workbook, "Orders") == 4
    assert _summary_value(workbook, "Orders created") == 1
    assert _summary_value(workbook, "Orders skipped") == 1
    assert _summary_value(workbook, "Orders rejected") == 1
    assert _summary_value(workbook, "Orders failed") == 1
    assert _summary_value(workbook, "Rows ignored") == 1


def test_summary_ready_only_in_dry_run(tmp_path: Path) -> None:
    """The ready count appears only for a dry run."""
    assert "Orders ready" not in _summary(_write(tmp_path))


def test_summary_dry_run_ready_count(tmp_path: Path) -> None:
    """A dry run reports how many orders are ready to send."""
    order = OrderResult(CREATED_ID, LOCATION, OrderStatus.READY, (2,))
    workbook = _write(tmp_path, _file_result(dry_run=True, orders=[order]))

    assert _summary_value(workbook, "Orders ready") == 1
    assert _summary_value(workbook, "Dry run") == "yes"


def test_summary_notes_one_per_row(tmp_path: Path) -> None:
    """Each note gets its own Summary row."""
    notes = [cell.value for cell in _summary(_write(tmp_path))["Note"]]

    assert notes == ["2 blank rows were ignored", "column G has no header"]


def test_summary_stopped_reason(tmp_path: Path) -> None:
    """A stopped run shows the reason and advises importing again."""
    workbook = _write(tmp_path, _file_result(stopped_reason="the token was rejected"))

    assert _summary_value(workbook, "Stopped because") == "the token was rejected"
    assert "stopped before it finished" in str(_summary_value(workbook, "What to do next"))


def test_summary_no_stopped_reason_row(tmp_path: Path) -> None:
    """A run that finished has no Stopped because row."""
    assert "Stopped because" not in _summary(_write(tmp_path))


def test_summary_order_of_fields(tmp_path: Path) -> None:
    """Summary lists counts, next step, stop reason, notes, errors, then the run's settings."""
    orders = _orders()
    orders[0].seconds = 1.5
    result = _file_result(sheet="Shipments", stopped_reason="interrupted", orders=orders)
    labels = list(_summary(_write(tmp_path, result)))
    sections = [
        "Count",
        "Input rows",
        "Orders",
        "Orders created",
        "Orders skipped",
        "Orders rejected",
        "Orders failed",
        "Rows ignored",
        "What to do next",
        "Stopped because",
        "Note",
        "Most common errors",
        "Slowest orders",
        "Run",
        "File",
        "Sheet",
        "Template",
        "Match score",
        "Match",
        "Location",
        "Started",
        "Finished",
        "Duration (seconds)",
        "Dry run",
        "Notify customers",
    ]

    assert [label for label in labels if label in sections] == sections


# What to do next


def _next_step(tmp_path: Path, **changes: object) -> str:
    return str(_summary_value(_write(tmp_path, _file_result(**changes)), "What to do next"))


def test_next_step_clean_run(tmp_path: Path) -> None:
    """A run with only created and skipped orders needs no action."""
    orders = [order for order in _orders() if order.status in {"created", "skipped"}]

    step = _next_step(tmp_path, orders=orders)

    assert step == "Nothing to do: every order was created or already fulfilled."


def test_next_step_rejected_orders(tmp_path: Path) -> None:
    """Rejected orders lead to fixing them in the Rows sheet."""
    step = _next_step(tmp_path)

    assert "Fix the rejected orders, in the Rows sheet of this workbook" in step


def test_next_step_failed_orders(tmp_path: Path) -> None:
    """Failed orders lead to reading their messages and importing again."""
    step = _next_step(tmp_path)

    assert "failed order" in step


def test_next_step_omits_rejected_advice(tmp_path: Path) -> None:
    """The rejected-orders advice is absent when nothing was rejected."""
    orders = [order for order in _orders() if order.status != "rejected"]

    assert "rejected" not in _next_step(tmp_path, orders=orders)


def test_next_step_dry_run(tmp_path: Path) -> None:
    """A dry run with ready orders states that nothing was sent."""
    order = OrderResult(CREATED_ID, LOCATION, OrderStatus.READY, (2,))

    step = _next_step(tmp_path, dry_run=True, orders=[order])

    assert "dry run" in step


def test_next_step_no_orders(tmp_path: Path) -> None:
    """A file without orders advises checking the file."""
    step = _next_step(tmp_path, orders=[], rows=[])

    assert step.startswith("No orders were found")


# Presentation


@pytest.mark.parametrize(("name", "header_row"), [("Summary", 2), ("Orders", 1), ("Rows", 1)])
def test_header_row_bold(tmp_path: Path, name: str, header_row: int) -> None:
    """Every header cell is bold; the Summary's first header follows its title."""
    sheet = _sheet(_write(tmp_path), name)

    assert all(cell.font.b for cell in sheet[header_row])


@pytest.mark.parametrize(("name", "panes"), [("Summary", "A2"), ("Orders", "B2"), ("Rows", "B2")])
def test_frozen_panes(tmp_path: Path, name: str, panes: str) -> None:
    """The header row is frozen, and the first column on Orders and Rows."""
    assert _sheet(_write(tmp_path), name).freeze_panes == panes


@pytest.mark.parametrize(("name", "ref"), [("Orders", "A1:P5"), ("Rows", "A1:I9")])
def test_autofilter_covers_table(tmp_path: Path, name: str, ref: str) -> None:
    """Orders and Rows have an autofilter over the whole table."""
    assert _sheet(_write(tmp_path), name).auto_filter.ref == ref


def _fill_color(cell: SheetCell) -> str:
    return str(cell.fill.fgColor.rgb)[-6:]


def test_order_status_fills(tmp_path: Path) -> None:
    """Each order status cell is filled with its status colour."""
    records = _records(_sheet(_write(tmp_path), "Orders"))

    for record in records:
        status = str(record["Status"].value)
        assert _fill_color(record["Status"]) == report.STATUS_COLORS[status], status


def test_row_status_fills(tmp_path: Path) -> None:
    """Each row status cell, ignored included, is filled with its status colour."""
    sheet = _sheet(_write(tmp_path), "Rows")

    for row in sheet.iter_rows(min_row=2):
        status = str(row[1].value)
        assert _fill_color(row[1]) == report.STATUS_COLORS[status], status


def test_ready_status_fill(tmp_path: Path) -> None:
    """A ready order in a dry run is filled blue."""
    order = OrderResult(CREATED_ID, LOCATION, OrderStatus.READY, (2,))
    record = _order_record(_write(tmp_path, _file_result(dry_run=True, orders=[order])), CREATED_ID)

    assert _fill_color(record["Status"]) == report.STATUS_COLORS["ready"]


def test_status_colours_distinct() -> None:
    """No two statuses share a colour."""
    colors = list(report.STATUS_COLORS.values())

    assert len(set(colors)) == len(colors)


def test_column_width_capped(tmp_path: Path) -> None:
    """A long message is wrapped and its column width stays at the cap."""
    order = OrderResult(CREATED_ID, LOCATION, OrderStatus.FAILED, (2,), message="x" * 500)
    workbook = _write(tmp_path, _file_result(orders=[order]))
    sheet = _sheet(workbook, "Orders")

    message = get_column_letter(report.ORDER_HEADERS.index("Message") + 1)
    assert sheet.column_dimensions[message].width == report.MAX_COLUMN_WIDTH
    assert sheet[f"{message}2"].alignment.wrap_text


def test_column_width_fits_content(tmp_path: Path) -> None:
    """A column is as wide as its longest line plus a margin."""
    sheet = _sheet(_write(tmp_path), "Orders")

    assert sheet.column_dimensions["A"].width == len(CREATED_ID) + 2


def test_multiline_cell_wrapped(tmp_path: Path) -> None:
    """Cells with one value per line wrap so each line shows."""
    record = _order_record(_write(tmp_path), CREATED_ID)

    assert record["Tracking Numbers"].alignment.wrap_text


# compress_row_numbers and format_problem


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ((), ""),
        ((5,), "5"),
        ((2, 3, 4, 7), "2-4, 7"),
        ((7, 2, 4, 3), "2-4, 7"),
        ((2, 2, 3), "2-3"),
        ((2, 4, 6), "2, 4, 6"),
    ],
)
def test_compress_row_numbers_cases(numbers: tuple[int, ...], expected: str) -> None:
    """Row numbers are sorted, deduplicated and joined into ranges."""
    assert report.compress_row_numbers(numbers) == expected


def test_format_problem_plain_warning() -> None:
    """A warning without a column is the message with the Warning prefix."""
    problem = Problem("the file has two sheets", severity=Severity.WARNING)

    assert report.format_problem(problem) == "Warning: the file has two sheets"


# Saving


def test_no_temporary_file_left(tmp_path: Path) -> None:
    """After writing, the folder contains only the results workbook."""
    report.write_results(_file_result(), tmp_path / "dec-01.results.xlsx")

    assert [path.name for path in tmp_path.iterdir()] == ["dec-01.results.xlsx"]


def test_existing_workbook_replaced(tmp_path: Path) -> None:
    """An earlier results workbook at the target is replaced."""
    target = tmp_path / "dec-01.results.xlsx"
    target.write_bytes(b"old results")

    written = report.write_results(_file_result(), target)

    assert written == target
    assert load_workbook(target).sheetnames == ["Summary", "Orders", "Rows"]


def test_missing_folder_raises_report_error(tmp_path: Path) -> None:
    """A target in a folder that does not exist raises ReportError naming the path."""
    target = tmp_path / "missing" / "dec-01.results.xlsx"

    with pytest.raises(ReportError, match="missing") as raised:
        report.write_results(_file_result(), target)

    assert raised.value.path == target


def test_folder_target_raises_report_error(tmp_path: Path) -> None:
    """A target that is a folder raises ReportError instead of writing beside it."""
    with pytest.raises(ReportError, match="is a folder"):
        report.write_results(_file_result(), tmp_path)


def test_report_error_exit_code() -> None:
    """ReportError is an ImporterError with exit code 2."""
    error = ReportError(Path("x.xlsx"), "cannot save")

    assert isinstance(error, ImporterError)
    assert error.exit_code == 2


@pytest.fixture
def make_immutable() -> Iterator[Callable[[Path], None]]:
    """Mark files immutable with chattr +i, which makes renaming over them fail with EPERM.

    Needs root on a file system with the immutable flag (ext4, xfs, btrfs). The
    flag is cleared after the test so tmp_path can be removed.
    """
    if shutil.which("chattr") is None or os.geteuid() != 0:
        pytest.skip("chattr +i needs root and the chattr command")
    marked: list[Path] = []

    def mark(path: Path) -> None:
        path.touch()
        completed = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if completed.returncode != 0:
            pytest.skip(f"chattr +i is not supported here: {completed.stderr.decode().strip()}")
        marked.append(path)

    yield mark
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_locked_target_uses_second_name(
    tmp_path: Path, make_immutable: Callable[[Path], None]
) -> None:
    """A target that cannot be replaced leads to "<stem> (2).xlsx"."""
    target = tmp_path / "dec-01.results.xlsx"
    make_immutable(target)

    written = report.write_results(_file_result(), target)

    assert written == tmp_path / "dec-01.results (2).xlsx"
    assert load_workbook(written).sheetnames == ["Summary", "Orders", "Rows"]


def test_locked_second_name_uses_third(
    tmp_path: Path, make_immutable: Callable[[Path], None]
) -> None:
    """When the target and "(2)" are both locked the workbook goes to "(3)"."""
    target = tmp_path / "dec-01.results.xlsx"
    make_immutable(target)
    make_immutable(tmp_path / "dec-01.results (2).xlsx")

    written = report.write_results(_file_result(), target)

    assert written == tmp_path / "dec-01.results (3).xlsx"


def test_existing_alternative_kept(tmp_path: Path, make_immutable: Callable[[Path], None]) -> None:
    """An unlocked "(2)" from an earlier run is kept and "(3)" is written."""
    target = tmp_path / "dec-01.results.xlsx"
    make_immutable(target)
    earlier = tmp_path / "dec-01.results (2).xlsx"
    earlier.write_bytes(b"earlier results")

    written = report.write_results(_file_result(), target)

    assert written == tmp_path / "dec-01.results (3).xlsx"
    assert earlier.read_bytes() == b"earlier results"


def test_locked_target_leaves_no_temporary_file(
    tmp_path: Path, make_immutable: Callable[[Path], None]
) -> None:
    """After a fallback write only the locked target and "(2)" remain."""
    target = tmp_path / "dec-01.results.xlsx"
    make_immutable(target)

    report.write_results(_file_result(), target)

    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "dec-01.results (2).xlsx",
        "dec-01.results.xlsx",
    ]


def test_replace_permission_error_uses_second_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PermissionError from os.replace, as Windows raises for a file open in Excel, falls back.

    This simulates the Windows lock so the fallback is covered where chattr is unavailable.
    """
    target = tmp_path / "dec-01.results.xlsx"
    real_replace = os.replace

    def replace(source: str | Path, destination: str | Path) -> None:
        if Path(destination) == target:
            raise PermissionError(13, "The process cannot access the file", str(destination))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)

    assert report.write_results(_file_result(), target) == tmp_path / "dec-01.results (2).xlsx"


def test_every_name_locked_raises_report_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When every name raises PermissionError, ReportError is raised and no temporary file stays.

    os.replace is replaced to simulate 100 locked files.
    """
    target = tmp_path / "dec-01.results.xlsx"

    def replace(source: str | Path, destination: str | Path) -> None:
        raise PermissionError(13, "The process cannot access the file", str(destination))

    monkeypatch.setattr(os, "replace", replace)

    with pytest.raises(ReportError, match="Close the results files"):
        report.write_results(_file_result(), target)
    assert list(tmp_path.iterdir()) == []


def test_unsure_match_next_step_names_options(tmp_path: Path) -> None:
    """A dry run whose columns need confirming names the options that confirm them."""
    result = _file_result()
    result.confirm_with = '--template generic --map order_id="Ordr ID"'
    steps = _summary_value(_write(tmp_path, result), "What to do next")
    assert '--map order_id="Ordr ID"' in str(steps)


def test_order_location_listed(tmp_path: Path) -> None:
    workbook = _write(tmp_path)
    assert _order_record(workbook, CREATED_ID)["Location"].value == LOCATION


def test_summary_names_several_locations(tmp_path: Path) -> None:
    """A file for several sub-accounts lists them all under Location."""
    orders = _orders()
    orders[1].location_id = "OtherLocation0000000"
    workbook = _write(tmp_path, _file_result(orders=orders))
    assert _summary_value(workbook, "Location") == (
        f"2 locations: {LOCATION}, OtherLocation0000000"
    )


def test_deferred_count_and_next_step(tmp_path: Path) -> None:
    """Deferred orders get their own count and a next step saying to run the file again."""
    orders = _orders()
    orders[3].status = OrderStatus.DEFERRED
    workbook = _write(tmp_path, _file_result(orders=orders))
    assert _summary_value(workbook, "Orders deferred") == 1
    assert "Import the file again to send them" in str(_summary_value(workbook, "What to do next"))


def test_stopped_run_next_step_no_fix(tmp_path: Path) -> None:
    workbook = _write(tmp_path, _file_result(stopped_reason=STOPPED_ON_REQUEST))
    assert "Fix the cause" not in str(_summary_value(workbook, "What to do next"))


# What to do, per order

# A word that each kind's advice must contain, so that the advice fits the kind.
ADVICE_WORDS = {
    ErrorKind.INPUT: "Rows sheet",
    ErrorKind.ORDER_NOT_FOUND: "order ID",
    ErrorKind.ORDER_STATE: "canceled",
    ErrorKind.API_REJECTED: "Message column",
    ErrorKind.ACCESS: "token",
    ErrorKind.UNAVAILABLE: "wait",
    ErrorKind.UNCERTAIN: "may have created",
    ErrorKind.DAILY_LIMIT: "midnight UTC",
    ErrorKind.STOPPED: "stopped before this order",
    ErrorKind.BUSY: "Another import",
}


def _order_of_kind(kind: ErrorKind) -> OrderResult:
    return OrderResult(FAILED_ID, LOCATION, OrderStatus.FAILED, (8,), message="x", kind=kind)


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_what_to_do_fits_kind(tmp_path: Path, kind: ErrorKind) -> None:
    """Each kind's advice names what to check, and states that a rerun is safe."""
    workbook = _write(tmp_path, _file_result(orders=[_order_of_kind(kind)]))

    advice = str(_order_record(workbook, FAILED_ID)["What To Do"].value)

    assert ADVICE_WORDS[kind] in advice
    assert "skips the orders already created" in advice


def test_what_to_do_differs_per_kind() -> None:
    texts = {what_to_do(_order_of_kind(kind)) for kind in ErrorKind}
    assert len(texts) == len(ErrorKind)


def test_what_to_do_blank_for_created(tmp_path: Path) -> None:
    record = _order_record(_write(tmp_path), CREATED_ID)
    assert record["What To Do"].value is None


def test_what_to_do_without_kind_names_message(tmp_path: Path) -> None:
    """A failed order without a kind still gets advice: read its message."""
    record = _order_record(_write(tmp_path), FAILED_ID)
    assert "Message column" in str(record["What To Do"].value)


def test_what_to_do_follows_message() -> None:
    headers = report.ORDER_HEADERS
    assert headers.index("What To Do") == headers.index("Message") + 1


def test_what_to_do_wrapped(tmp_path: Path) -> None:
    workbook = _write(tmp_path, _file_result(orders=[_order_of_kind(ErrorKind.INPUT)]))
    assert _order_record(workbook, FAILED_ID)["What To Do"].alignment.wrap_text


def test_wrapped_order_row_taller(tmp_path: Path) -> None:
    """A row whose advice wraps is given the height of its lines."""
    workbook = _write(tmp_path, _file_result(orders=[_order_of_kind(ErrorKind.INPUT)]))
    height = _sheet(workbook, "Orders").row_dimensions[2].height
    assert height is not None
    assert height > 15


# Seconds


def test_order_seconds_value_and_format(tmp_path: Path) -> None:
    orders = _orders()
    orders[0].seconds = 1.23456
    record = _order_record(_write(tmp_path, _file_result(orders=orders)), CREATED_ID)

    assert record["Seconds"].value == pytest.approx(1.23456)
    assert record["Seconds"].number_format == "0.00"


def test_order_seconds_blank_when_unsent(tmp_path: Path) -> None:
    record = _order_record(_write(tmp_path), REJECTED_ID)
    assert record["Seconds"].value is None


# Summary counts, shares and chart


def test_summary_share_of_created(tmp_path: Path) -> None:
    """Each status count has its share of the orders next to it, shown as a percentage."""
    workbook = _write(tmp_path)
    share = _summary_row(workbook, "Orders created")[2]
    created = sum(1 for order in _orders() if order.status is OrderStatus.CREATED)

    assert share.value == pytest.approx(created / len(_orders()))
    assert share.number_format == "0%"


@pytest.mark.parametrize("label", ["Input rows", "Orders", "Rows ignored"])
def test_summary_totals_have_no_share(tmp_path: Path, label: str) -> None:
    row = _summary_row(_write(tmp_path), label)
    assert len(row) < 3 or row[2].value is None


def test_summary_shares_of_statuses_add_up(tmp_path: Path) -> None:
    workbook = _write(tmp_path)
    labels = ["Orders created", "Orders skipped", "Orders rejected", "Orders failed"]
    shares = [_summary_row(workbook, label)[2].value for label in labels]
    assert sum(float(str(share)) for share in shares) == pytest.approx(1.0)


def test_summary_no_orders_no_share(tmp_path: Path) -> None:
    """A file without orders shows no share, instead of dividing by zero."""
    row = _summary_row(_write(tmp_path, _file_result(orders=[], rows=[])), "Orders created")
    assert len(row) < 3 or row[2].value is None


@pytest.mark.parametrize("status", ["created", "skipped", "rejected", "failed"])
def test_summary_count_label_filled(tmp_path: Path, status: str) -> None:
    label = _summary_row(_write(tmp_path), f"Orders {status}")[0]
    assert _fill_color(label) == report.STATUS_COLORS[status]


def test_summary_counts_before_next_step(tmp_path: Path) -> None:
    """Under the title come the counts, then what to do next."""
    labels = list(_summary(_write(tmp_path)))
    assert labels.index("Rows ignored") < labels.index("What to do next")


def test_summary_next_step_row_fits_text(tmp_path: Path) -> None:
    """The next step wraps, and its row is as high as its lines."""
    workbook = _write(tmp_path)
    cell = _summary(workbook)["What to do next"][0]
    height = _sheet(workbook, "Summary").row_dimensions[cell.row].height

    assert cell.alignment.wrap_text
    assert height is not None
    assert height > 15


def test_summary_prints_to_page_width(tmp_path: Path) -> None:
    sheet = _sheet(_write(tmp_path), "Summary")
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr is not None
    assert sheet.sheet_properties.pageSetUpPr.fitToPage


def _chart(workbook: Workbook) -> Any:
    charts = _sheet(workbook, "Summary")._charts
    assert len(charts) == 1
    return charts[0]


def test_summary_chart_is_bar_chart(tmp_path: Path) -> None:
    assert isinstance(_chart(_write(tmp_path)), BarChart)


def test_summary_chart_values_are_status_counts(tmp_path: Path) -> None:
    """The chart's bars read the counts of the statuses, and nothing else."""
    workbook = _write(tmp_path)
    first = _summary_row(workbook, "Orders created")[1]
    last = _summary_row(workbook, "Orders failed")[1]

    series = _chart(workbook).series[0]

    assert series.val.numRef.f == f"'Summary'!$B${first.row}:$B${last.row}"
    # openpyxl refers to the categories as numbers (numRef) even when they are labels.
    categories = series.cat.numRef or series.cat.strRef
    assert categories.f == f"'Summary'!$A${first.row}:$A${last.row}"


def test_summary_chart_includes_deferred(tmp_path: Path) -> None:
    orders = _orders()
    orders[3].status = OrderStatus.DEFERRED
    workbook = _write(tmp_path, _file_result(orders=orders))
    last = _summary_row(workbook, "Orders deferred")[1]

    assert _chart(workbook).series[0].val.numRef.f.endswith(f"$B${last.row}")


# Most common errors and slowest orders


def _failed(order_id: str, message: str, kind: ErrorKind | None = None) -> OrderResult:
    return OrderResult(order_id, LOCATION, OrderStatus.FAILED, (2,), message=message, kind=kind)


def _table(workbook: Workbook, title: str) -> list[tuple[object, ...]]:
    """Return the rows of a Summary table, from below its header row to the next blank row."""
    sheet = _sheet(workbook, "Summary")
    rows: list[tuple[object, ...]] = []
    inside = False
    for row in sheet.iter_rows(min_row=2, max_col=3, values_only=True):
        if inside and row[0] is None:
            break
        if inside:
            rows.append(row)
        inside = inside or row[0] == title
    return rows


def test_common_errors_group_order_ids(tmp_path: Path) -> None:
    """The same error of two orders, differing only in their IDs, is counted once with 2."""
    orders = [
        _failed(CREATED_ID, f"order {CREATED_ID} was not found", ErrorKind.ORDER_NOT_FOUND),
        _failed(FAILED_ID, f"order {FAILED_ID} was not found", ErrorKind.ORDER_NOT_FOUND),
    ]
    table = _table(_write(tmp_path, _file_result(orders=orders)), "Most common errors")

    assert table == [("Order not found", f"order {CREATED_ID} was not found", 2)]


def test_common_errors_split_by_kind(tmp_path: Path) -> None:
    orders = [
        _failed(CREATED_ID, "HTTP 503 from HighLevel", ErrorKind.UNAVAILABLE),
        _failed(FAILED_ID, "HTTP 503 from HighLevel", ErrorKind.UNCERTAIN),
    ]
    table = _table(_write(tmp_path, _file_result(orders=orders)), "Most common errors")
    assert len(table) == 2


def test_common_errors_most_first(tmp_path: Path) -> None:
    orders = [_failed(f"{index:024d}", "timed out", ErrorKind.UNAVAILABLE) for index in range(2)]
    orders.insert(0, _failed(CREATED_ID, "refused", ErrorKind.API_REJECTED))
    table = _table(_write(tmp_path, _file_result(orders=orders)), "Most common errors")
    assert [row[2] for row in table] == [2, 1]


def test_common_errors_at_most_five(tmp_path: Path) -> None:
    orders = [_failed(f"{index:024d}", f"error {chr(65 + index)}") for index in range(7)]
    table = _table(_write(tmp_path, _file_result(orders=orders)), "Most common errors")
    assert len(table) == 6  # five errors, then the line that counts the others


def test_common_errors_count_the_rest(tmp_path: Path) -> None:
    orders = [_failed(f"{index:024d}", f"error {chr(65 + index)}") for index in range(7)]
    table = _table(_write(tmp_path, _file_result(orders=orders)), "Most common errors")
    assert table[-1][1].startswith("and 2 other errors")


def test_common_errors_group_values_in_quotes(tmp_path: Path) -> None:
    """Two invalid order IDs, quoted in their messages, are one error."""
    orders = [
        _failed(CREATED_ID, "row 2: the order ID '\N{PACKAGE}x' is not valid", ErrorKind.INPUT),
        _failed(FAILED_ID, "row 9: the order ID '@y' is not valid", ErrorKind.INPUT),
    ]
    table = _table(_write(tmp_path, _file_result(orders=orders)), "Most common errors")
    assert [row[2] for row in table] == [2]


def test_common_errors_keep_fixed_wording(tmp_path: Path) -> None:
    """The example is an order's own message, so its fixed numbers are not replaced."""
    message = "row 4: an order ID has 24 characters, 0-9 and a-f"
    orders = [_failed(CREATED_ID, message, ErrorKind.INPUT)]
    table = _table(_write(tmp_path, _file_result(orders=orders)), "Most common errors")
    assert table[0][1] == message


def test_common_errors_one_per_line(tmp_path: Path) -> None:
    """Each line of a rejected order's message is an error of its own."""
    order = OrderResult(
        REJECTED_ID,
        LOCATION,
        OrderStatus.REJECTED,
        (6, 7),
        message=(
            'row 6, column "Qty": "two" is not a whole number\n'
            "row 7: the tracking number is missing"
        ),
        kind=ErrorKind.INPUT,
    )
    table = _table(_write(tmp_path, _file_result(orders=[order])), "Most common errors")

    assert [row[1] for row in table] == [
        'row 6, column "Qty": "two" is not a whole number',
        "row 7: the tracking number is missing",
    ]


def test_common_errors_left_out_when_none(tmp_path: Path) -> None:
    orders = [order for order in _orders() if order.status in {"created", "skipped"}]
    assert "Most common errors" not in _summary(_write(tmp_path, _file_result(orders=orders)))


def test_common_error_formula_stays_string(tmp_path: Path) -> None:
    """An error message that looks like a formula stays a plain string in the Summary."""
    orders = [_failed(CREATED_ID, "=HYPERLINK(1)")]
    workbook = _write(tmp_path, _file_result(orders=orders))
    cell = _summary_row(workbook, "Other")[1]

    assert cell.data_type == "s"
    assert cell.value == "=HYPERLINK(1)"
    assert cell.quotePrefix


def test_slowest_orders_listed_slowest_first(tmp_path: Path) -> None:
    orders = _orders()
    for seconds, order in zip((0.5, 3.0, 1.25, None), orders, strict=True):
        order.seconds = seconds
    table = _table(_write(tmp_path, _file_result(orders=orders)), "Slowest orders")

    assert table == [
        (SKIPPED_ID, "skipped", 3.0),
        (REJECTED_ID, "rejected", 1.25),
        (CREATED_ID, "created", 0.5),
    ]


def test_slowest_orders_at_most_five(tmp_path: Path) -> None:
    orders = [_failed(f"{index:024d}", "x") for index in range(7)]
    for index, order in enumerate(orders):
        order.seconds = float(index)
    table = _table(_write(tmp_path, _file_result(orders=orders)), "Slowest orders")
    assert len(table) == 5


def test_slowest_orders_number_format(tmp_path: Path) -> None:
    orders = _orders()
    orders[0].seconds = 0.123
    seconds = _summary_row(_write(tmp_path, _file_result(orders=orders)), CREATED_ID)[2]
    assert seconds.number_format == "0.00"


def test_slowest_orders_status_filled(tmp_path: Path) -> None:
    orders = _orders()
    orders[0].seconds = 0.123
    status = _summary_row(_write(tmp_path, _file_result(orders=orders)), CREATED_ID)[1]
    assert _fill_color(status) == report.STATUS_COLORS["created"]


def test_slowest_orders_named_by_number(tmp_path: Path) -> None:
    """An order found by no ID is listed by the order number the file gave."""
    order = OrderResult("", LOCATION, OrderStatus.REJECTED, (2,), order_number="#1001")
    order.seconds = 0.2
    table = _table(_write(tmp_path, _file_result(orders=[order])), "Slowest orders")
    assert table[0][0] == "#1001"


def test_slowest_orders_left_out_when_none_sent(tmp_path: Path) -> None:
    assert "Slowest orders" not in _summary(_write(tmp_path))


@pytest.mark.parametrize("text", [*FORMULA_LIKE, "\rCR"])
def test_formula_like_order_message_quote_prefixed(tmp_path: Path, text: str) -> None:
    """An order message starting with = + - @ tab or CR stays a string with a quote prefix."""
    order = OrderResult(CREATED_ID, LOCATION, OrderStatus.FAILED, (2,), message=text)
    message = _order_record(_write(tmp_path, _file_result(orders=[order])), CREATED_ID)["Message"]

    assert message.data_type == "s"
    assert message.quotePrefix


# Error kinds and seconds, set by the pipeline against the sandbox

SANDBOX_HEADERS = "Order ID,Tracking Number,Carrier,SKU,Qty,Location ID\n"


def _import_rows(
    tmp_path: Path,
    lines: str,
    *,
    sandbox: Any,
    client: Any = None,
    stop: Any = None,
) -> FileResult:
    """Import CSV lines (after SANDBOX_HEADERS) into the sandbox, as the CLI would."""
    from importer.config import Settings
    from importer.mapping import load_templates
    from importer.pipeline import FileJob, import_file
    from importer.stopping import StopRequest
    from tests.api_fixtures import FAST_RETRY, LOCATION, TOKEN, make_client

    path = tmp_path / "shipments.csv"
    path.write_text(SANDBOX_HEADERS + lines, encoding="utf-8")
    settings = Settings(
        token=TOKEN, location_id=LOCATION, base_url=sandbox.base_url, retry=FAST_RETRY
    )

    async def scenario() -> FileResult:
        async with client or make_client(sandbox) as api:
            return await import_file(
                FileJob(path=path, results_path=tmp_path / "shipments.results.xlsx"),
                settings=settings,
                templates=load_templates(),
                client=api,
                notice=lambda _: None,
                show_progress=False,
                stop=stop or StopRequest(),
            )

    return asyncio.run(scenario())


def _only_order(result: FileResult) -> OrderResult:
    assert len(result.orders) == 1
    return result.orders[0]


@pytest.fixture
def sandbox() -> Iterator[Any]:
    from importer.sandbox import Sandbox
    from tests.api_fixtures import TOKEN, test_seed

    with Sandbox(test_seed(), tokens={TOKEN: None}) as running:
        yield running


def test_kind_input_for_row_problem(tmp_path: Path, sandbox: Any) -> None:
    from tests.api_fixtures import OPEN_ORDER

    result = _import_rows(
        tmp_path, f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,two,\n", sandbox=sandbox
    )
    assert _only_order(result).kind is ErrorKind.INPUT


def test_kind_order_not_found_for_missing_id(tmp_path: Path, sandbox: Any) -> None:
    from tests.api_fixtures import MISSING_ORDER

    result = _import_rows(tmp_path, f"{MISSING_ORDER},1Z999AA10123456784,UPS,,,\n", sandbox=sandbox)
    assert _only_order(result).kind is ErrorKind.ORDER_NOT_FOUND


def test_kind_order_not_found_for_number(tmp_path: Path, sandbox: Any) -> None:
    result = _import_rows(tmp_path, "#9999,1Z999AA10123456784,UPS,,,\n", sandbox=sandbox)
    assert _only_order(result).kind is ErrorKind.ORDER_NOT_FOUND


def test_kind_order_state_for_quantity_left(tmp_path: Path, sandbox: Any) -> None:
    """Two tees of an order with one tee left to ship: the order cannot take them."""
    from tests.api_fixtures import PARTLY_FULFILLED

    line = f"{PARTLY_FULFILLED},1Z999AA10123456792,UPS,TEE-BLK-M,2,\n"
    result = _import_rows(tmp_path, line, sandbox=sandbox)
    assert _only_order(result).kind is ErrorKind.ORDER_STATE


def test_kind_order_state_for_canceled_order(tmp_path: Path) -> None:
    """HighLevel rejects a fulfillment of a canceled order; that is the order's state."""
    from importer.sandbox import Sandbox
    from tests.api_fixtures import OPEN_ORDER, TOKEN, test_seed

    seed = test_seed()
    orders = [dataclasses.replace(order, status="canceled") for order in seed.orders]
    with Sandbox(dataclasses.replace(seed, orders=orders), tokens={TOKEN: None}) as canceled:
        line = f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,1,\n"
        order = _only_order(_import_rows(tmp_path, line, sandbox=canceled))

    assert order.status is OrderStatus.FAILED
    assert order.kind is ErrorKind.ORDER_STATE


def test_kind_api_rejected_for_422(tmp_path: Path, sandbox: Any) -> None:
    """A create rejected with 422 (another user shipped the mug first) is HighLevel's refusal."""
    from importer.client import ApiResponse, HighLevelClient
    from tests.api_fixtures import FAST_RETRY, OPEN_ORDER, TOKEN

    class ShippedMeanwhile(HighLevelClient):
        """Creates each fulfillment once before the pipeline's own request, as a rival would."""

        async def create_fulfillment(
            self, order_id: str, location_id: str, body: dict[str, object]
        ) -> ApiResponse:
            await super().create_fulfillment(order_id, location_id, body)
            return await super().create_fulfillment(order_id, location_id, body)

    client = ShippedMeanwhile(base_url=sandbox.base_url, token=TOKEN, retry=FAST_RETRY)
    line = f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,1,\n"
    order = _only_order(_import_rows(tmp_path, line, sandbox=sandbox, client=client))

    assert order.http_status == 422
    assert order.kind is ErrorKind.API_REJECTED


def test_kind_access_for_403(tmp_path: Path) -> None:
    """An order of a location the token may not use is rejected with kind access."""
    from importer.sandbox import Sandbox
    from tests.api_fixtures import LOCATION, OPEN_ORDER, TOKEN, test_seed

    with Sandbox(test_seed(), tokens={TOKEN: [LOCATION]}) as scoped:
        line = f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,1,OtherLoc123456789012\n"
        order = _only_order(_import_rows(tmp_path, line, sandbox=scoped))

    assert order.http_status == 403
    assert order.kind is ErrorKind.ACCESS


def test_kind_unavailable_for_5xx_after_retries(tmp_path: Path) -> None:
    from importer.sandbox import FaultPlan, Sandbox
    from tests.api_fixtures import OPEN_ORDER, TOKEN, test_seed

    faults = FaultPlan(error_rate=1.0, seed=1)
    with Sandbox(test_seed(), tokens={TOKEN: None}, faults=faults) as failing:
        line = f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,1,\n"
        order = _only_order(_import_rows(tmp_path, line, sandbox=failing))

    assert order.status is OrderStatus.FAILED
    assert order.kind is ErrorKind.UNAVAILABLE


def test_kind_daily_limit_for_deferred(tmp_path: Path) -> None:
    """Orders left when the day's requests run out are deferred with kind daily_limit."""
    from importer.client import HighLevelClient
    from importer.config import Settings
    from importer.mapping import load_templates
    from importer.pipeline import FileJob, import_file
    from importer.sandbox import Sandbox
    from importer.sandbox.synthetic import (
        location_ids,
        synthetic_orders,
        synthetic_seed,
        write_export,
    )

    orders = synthetic_orders(location_ids(1), 6)
    path = tmp_path / "agency.csv"
    write_export(path, orders)
    with Sandbox(synthetic_seed(orders), tokens={"t": None}, daily_limit=8) as limited:
        settings = Settings(token="t", base_url=limited.base_url, daily_reserve=0, concurrency=1)

        async def scenario() -> FileResult:
            async with HighLevelClient(base_url=limited.base_url, token="t") as client:
                return await import_file(
                    FileJob(path=path, results_path=tmp_path / "agency.results.xlsx"),
                    settings=settings,
                    templates=load_templates(),
                    client=client,
                    notice=lambda _: None,
                    show_progress=False,
                )

        result = asyncio.run(scenario())

    deferred = [order for order in result.orders if order.status is OrderStatus.DEFERRED]
    assert deferred
    assert {order.kind for order in deferred} == {ErrorKind.DAILY_LIMIT}


def test_kind_stopped_before_turn(tmp_path: Path, sandbox: Any) -> None:
    from importer.stopping import StopRequest
    from tests.api_fixtures import OPEN_ORDER

    stop = StopRequest()
    stop.request()
    line = f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,1,\n"
    order = _only_order(_import_rows(tmp_path, line, sandbox=sandbox, stop=stop))

    assert order.status is OrderStatus.DEFERRED
    assert order.kind is ErrorKind.STOPPED


def test_kind_none_for_created(tmp_path: Path, sandbox: Any) -> None:
    from tests.api_fixtures import OPEN_ORDER

    line = f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,1,\n"
    order = _only_order(_import_rows(tmp_path, line, sandbox=sandbox))

    assert order.status is OrderStatus.CREATED
    assert order.kind is None


def test_seconds_measured_for_sent_order(tmp_path: Path, sandbox: Any) -> None:
    """An order that was sent has the seconds from its first request to its outcome."""
    from tests.api_fixtures import OPEN_ORDER

    line = f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,1,\n"
    result = _import_rows(tmp_path, line, sandbox=sandbox)
    seconds = _only_order(result).seconds

    assert seconds is not None
    assert 0 < seconds <= (result.finished_at - result.started_at).total_seconds()


def test_seconds_none_for_unsent_order(tmp_path: Path, sandbox: Any) -> None:
    from tests.api_fixtures import OPEN_ORDER

    line = f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,two,\n"
    assert _only_order(_import_rows(tmp_path, line, sandbox=sandbox)).seconds is None


def test_seconds_include_retries(tmp_path: Path) -> None:
    """Waits between retries count: three slow failed reads take at least their latency."""
    from importer.sandbox import FaultPlan, Sandbox
    from tests.api_fixtures import OPEN_ORDER, TOKEN, test_seed

    faults = FaultPlan(error_rate=1.0, latency_seconds=0.05, seed=1)
    with Sandbox(test_seed(), tokens={TOKEN: None}, faults=faults) as failing:
        line = f"{OPEN_ORDER},1Z999AA10123456784,UPS,MUG-WHT,1,\n"
        order = _only_order(_import_rows(tmp_path, line, sandbox=failing))

    assert order.seconds is not None
    assert order.seconds >= 3 * 0.05


def test_control_character_cell_warned_on_its_row(tmp_path: Path) -> None:
    """A cell the workbook must change (a control character) gets a warning on its row."""
    result = _file_result()
    result.headers = ("Order ID", "Name")
    result.rows = [RowResult(2, ("o1", "Ann\x07Lee"), "o1", OrderStatus.CREATED.value)]
    path = report.write_results(result, tmp_path / "r.xlsx")
    problems = load_workbook(path)[report.ROWS_SHEET]["C2"].value
    assert 'Column "Name": this workbook shows control characters' in problems


def test_long_cell_noted_in_summary(tmp_path: Path) -> None:
    """A cell over the workbook's limit is named in a Summary note, with its row."""
    result = _file_result()
    result.headers = ("Order ID", "Name")
    long_name = "x" * (report.MAX_CELL_TEXT + 10)
    result.rows = [RowResult(7, ("o1", long_name), "o1", OrderStatus.CREATED.value)]
    path = report.write_results(result, tmp_path / "r.xlsx")
    summary = load_workbook(path)[report.SUMMARY_SHEET]
    notes = [row[1] for row in summary.iter_rows(values_only=True) if row[0] == "Note"]
    assert any(note.startswith("Cells of row 7 hold control characters") for note in notes)


def test_plain_cells_not_warned(tmp_path: Path) -> None:
    result = _file_result()
    result.headers = ("Order ID", "Name")
    result.rows = [RowResult(2, ("o1", "Ann Lee"), "o1", OrderStatus.CREATED.value)]
    path = report.write_results(result, tmp_path / "r.xlsx")
    assert load_workbook(path)[report.ROWS_SHEET]["C2"].value is None


def test_next_step_all_rows_set_aside(tmp_path: Path) -> None:
    """A file whose every row was set aside says so, not that it holds no orders."""
    result = _file_result(orders=[])
    result.rows = [
        RowResult(2, ("o1",), "o1", "ignored", [_set_aside_problem()]),
        RowResult(3, ("o2",), "o2", "ignored", [_set_aside_problem()]),
    ]
    path = report.write_results(result, tmp_path / "r.xlsx")
    summary = load_workbook(path)[report.SUMMARY_SHEET]
    steps = [row[1] for row in summary.iter_rows(values_only=True) if row[0] == "What to do next"]
    assert steps[0].startswith("No orders were left to send")


def test_next_step_stopped_run_says_import_again_once(tmp_path: Path) -> None:
    result = _file_result(stopped_reason=STOPPED_ON_REQUEST)
    result.orders = [dataclasses.replace(result.orders[0], status=OrderStatus.DEFERRED)]
    path = report.write_results(result, tmp_path / "r.xlsx")
    summary = load_workbook(path)[report.SUMMARY_SHEET]
    steps = [row[1] for row in summary.iter_rows(values_only=True) if row[0] == "What to do next"]
    assert steps[0].count("Import the file again") == 1


def _set_aside_problem() -> Problem:
    return Problem(
        "its order was created by the import that wrote these results; not sent again",
        severity=Severity.WARNING,
    )


def test_time_zone_named_in_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Summary says which offset its times are in, since a workbook cell holds no zone."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        result = _file_result(started_at=datetime(2026, 12, 1, 9, 0), finished_at=None)
        workbook = _write(tmp_path, result)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert _summary_value(workbook, "Time zone") == "UTC-05:00, this computer's time"


def test_orders_sheet_prints_landscape(tmp_path: Path) -> None:
    workbook = _write(tmp_path, _file_result())
    assert workbook[report.ORDERS_SHEET].page_setup.orientation == "landscape"


def test_rows_sheet_repeats_header_on_each_page(tmp_path: Path) -> None:
    workbook = _write(tmp_path, _file_result())
    assert workbook[report.ROWS_SHEET].print_title_rows == "$1:$1"
