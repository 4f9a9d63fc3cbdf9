"""Tests for importing a results workbook again: only what was not done is sent."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from importer.config import Settings
from importer.load import columns, load_table
from importer.mapping import header_score, load_templates
from importer.pipeline import FileJob, import_file
from importer.records import FileResult, OrderStatus, RowResult
from importer.report import write_results
from importer.sandbox import Sandbox, load_seed
from tests.api_fixtures import make_client

PROJECT = Path(__file__).resolve().parents[1]
LOCATION = "Xk7pQ2mLw9RtY4vB8nZc"
TOKEN = "results-feedback-token-61c2"
DONE_ORDER = "6afb2607207fe629c6a23c3a"
FIXED_ORDER = "6affbc3322ba75b8da9ac0e2"
EXPORT = (
    "Order ID,Tracking Number,Carrier,SKU,Qty\n"
    f"{DONE_ORDER},796799488569,FedEx,TEE-BLK-L,1\n"
    f"{FIXED_ORDER},8745873345,DHL Express,TEE-SND-S,two\n"
)
TEMPLATES = load_templates()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    seed = load_seed(PROJECT / "sample_data" / "sandbox_seed.json")
    with Sandbox(seed, tokens={TOKEN: None}, max_requests=10_000) as running:
        yield running


def run_import(sandbox: Sandbox, path: Path, results: Path) -> FileResult:
    settings = Settings(token=TOKEN, location_id=LOCATION, base_url=sandbox.base_url)

    async def scenario() -> FileResult:
        client = make_client(sandbox, token=TOKEN, max_requests=10_000)
        async with client:
            return await import_file(
                FileJob(path=path, results_path=results),
                settings=settings,
                templates=TEMPLATES,
                client=client,
                notice=lambda _: None,
                show_progress=False,
            )

    return asyncio.run(scenario())


def corrected_results(sandbox: Sandbox, tmp_path: Path) -> Path:
    """Import the export, then fix the rejected row's quantity in the results workbook."""
    export = tmp_path / "export.csv"
    export.write_text(EXPORT, encoding="utf-8")
    results = tmp_path / "export.results.xlsx"
    run_import(sandbox, export, results)

    workbook = load_workbook(results)
    sheet = workbook["Rows"]
    headers = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[headers.index("Qty")].value == "two":
            row[headers.index("Qty")].value = "1"
    workbook.save(results)
    return results


def test_results_workbook_reads_rows_sheet(sandbox: Sandbox, tmp_path: Path) -> None:
    """A results workbook is read from its Rows sheet, without the run's own columns."""
    table = load_table(
        corrected_results(sandbox, tmp_path),
        header_score=lambda cells: header_score(cells, TEMPLATES),
    )
    assert table.headers == ("Order ID", "Tracking Number", "Carrier", "SKU", "Qty")


def test_created_rows_set_aside_with_reason(sandbox: Sandbox, tmp_path: Path) -> None:
    """The rows of an order created then are listed as ignored, saying why."""
    table = load_table(
        corrected_results(sandbox, tmp_path),
        header_score=lambda cells: header_score(cells, TEMPLATES),
    )
    assert [row.reason.split(";")[0] for row in table.ignored] == [
        "its order was created by the import that wrote these results"
    ]


def test_feedback_sends_only_corrected_order(sandbox: Sandbox, tmp_path: Path) -> None:
    """Importing the corrected results workbook creates the fixed order and nothing twice."""
    results = corrected_results(sandbox, tmp_path)

    second = run_import(sandbox, results, tmp_path / "second.results.xlsx")

    assert [(order.order_id, order.status) for order in second.orders] == [
        (FIXED_ORDER, OrderStatus.CREATED)
    ]
    assert Counter(entry.order_id for entry in sandbox.fulfillment_log()) == Counter(
        {DONE_ORDER: 1, FIXED_ORDER: 1}
    )


# The rows file of CSV results


def corrected_rows_file(sandbox: Sandbox, tmp_path: Path) -> Path:
    """Import the export with CSV results, then fix the rejected row's quantity in the rows file."""
    export = tmp_path / "export.csv"
    export.write_text(EXPORT, encoding="utf-8")
    run_import(sandbox, export, tmp_path / "export.results.csv")

    rows_file = tmp_path / "export.results.rows.csv"
    with rows_file.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    for row in rows:
        if row[header.index("Qty")] == "two":
            row[header.index("Qty")] = "1"
    with rows_file.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return rows_file


def test_rows_file_feedback_sends_only_corrected_order(sandbox: Sandbox, tmp_path: Path) -> None:
    """Importing the corrected rows file creates the fixed order and nothing twice."""
    rows_file = corrected_rows_file(sandbox, tmp_path)

    second = run_import(sandbox, rows_file, tmp_path / "second.results.xlsx")

    assert [(order.order_id, order.status) for order in second.orders] == [
        (FIXED_ORDER, OrderStatus.CREATED)
    ]
    assert Counter(entry.order_id for entry in sandbox.fulfillment_log()) == Counter(
        {DONE_ORDER: 1, FIXED_ORDER: 1}
    )


def test_rows_file_reads_original_columns(sandbox: Sandbox, tmp_path: Path) -> None:
    table = load_table(
        corrected_rows_file(sandbox, tmp_path),
        header_score=lambda cells: header_score(cells, TEMPLATES),
    )

    assert table.headers == ("Order ID", "Tracking Number", "Carrier", "SKU", "Qty")
    assert [row.reason.split(";")[0] for row in table.ignored] == [
        "its order was created by the import that wrote these results"
    ]


FORMULA_CELLS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "'=x", "'plain"]


def _result_with_cells(cells: list[str]) -> FileResult:
    return FileResult(
        path=Path("export.csv"),
        started_at=datetime(2024, 12, 1, 9, 0),
        headers=("Order ID", "Note"),
        rows=[
            RowResult(number, (FIXED_ORDER, cell), FIXED_ORDER, "rejected")
            for number, cell in enumerate(cells, start=2)
        ],
    )


def test_rows_file_cells_unescaped(tmp_path: Path) -> None:
    """The apostrophe that keeps a cell from running as a formula is removed on reading."""
    write_results(_result_with_cells(FORMULA_CELLS), tmp_path / "x.results.csv")

    table = load_table(tmp_path / "x.results.rows.csv")

    assert [row.cells[1] for row in table.rows] == FORMULA_CELLS


def test_large_rows_file_recognised(tmp_path: Path) -> None:
    """A rows file larger than the column reader's threshold is still read as results."""
    filler = "x" * 200
    count = columns.MIN_BYTES // len(filler) + 10
    result = _result_with_cells([f"{filler}{number}" for number in range(count)])
    result.rows[0].status = OrderStatus.CREATED.value
    write_results(result, tmp_path / "x.results.csv")
    rows_file = tmp_path / "x.results.rows.csv"

    table = load_table(rows_file)

    assert rows_file.stat().st_size > columns.MIN_BYTES
    assert table.headers == ("Order ID", "Note")
    assert len(table.rows) == count - 1
    assert len(table.ignored) == 1


def test_rows_file_saved_by_excel_with_semicolons(tmp_path: Path) -> None:
    """Excel in many European locales saves CSV with semicolons and no byte order mark."""
    path = tmp_path / "export.results.rows.csv"
    path.write_text(
        "Row;Order Status;Problems;Order ID;Note\n"
        f"2;created;;{DONE_ORDER};a\n"
        f"3;rejected;Qty is not a number;{FIXED_ORDER};'=b\n",
        encoding="utf-8",
    )

    table = load_table(path)

    assert [row.cells for row in table.rows] == [(FIXED_ORDER, "=b")]
