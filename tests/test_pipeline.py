"""Tests for importer.pipeline: how a loaded file's rows reach the results."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from importer import pipeline
from importer.config import Settings
from importer.load import LoadOptions, columns, load_table
from importer.mapping import header_score, load_templates, match_template
from importer.pipeline import FileJob, import_file
from importer.records import FileResult, OrderStatus, RowResult, Severity

ORDER_A = "65a1b2c3d4e5f60718293a4b"
ORDER_B = "65a1b2c3d4e5f60718293a4c"


def dry_run(path: Path, load_options: LoadOptions | None = None) -> FileResult:
    """Import a file without a token, so nothing is sent, and return its result."""
    settings = Settings(dry_run=True, load_options=load_options or LoadOptions())
    job = FileJob(path=path, results_path=path.with_suffix(".results.xlsx"))
    notices: list[str] = []
    return asyncio.run(
        import_file(
            job,
            settings=settings,
            templates=load_templates(),
            client=None,
            notice=notices.append,
            show_progress=False,
        )
    )


def row_with(result: FileResult, number: int) -> RowResult:
    return next(row for row in result.rows if row.number == number)


def test_ignored_rows_carry_reason(tmp_path: Path) -> None:
    """Each ignored row is listed with its reason as a warning, and data rows are imported."""
    path = tmp_path / "shipments.csv"
    path.write_text(
        "Shipments export\n\n"
        "Order ID,Tracking Number,SKU,Qty\n"
        f"{ORDER_A},1Z999AA10123456784,TEE-BLK-M,1\n"
        "Order ID,Tracking Number,SKU,Qty\n"
        f"{ORDER_B},1Z999AA10123456785,TEE-BLK-M,2\n"
        "Total,,,3\n",
        encoding="utf-8",
    )

    result = dry_run(path)

    reasons = {row.number: [problem.message for problem in row.problems] for row in result.rows}
    assert reasons[1] == ["above the header row"]
    assert reasons[2] == ["blank row"]
    assert reasons[5] == ["repeats the header row"]
    assert reasons[7] == ["totals row"]
    assert {row_with(result, number).status for number in (1, 2, 5, 7)} == {"ignored"}
    assert row_with(result, 7).problems[0].severity is Severity.WARNING
    assert [order.order_id for order in result.orders] == [ORDER_A, ORDER_B]


def test_load_options_reach_loader(tmp_path: Path) -> None:
    """The settings' load options decide how the file is read."""
    path = tmp_path / "shipments.txt"
    path.write_text(f"Order ID:Tracking Number\n{ORDER_A}:1Z999AA10123456784\n", encoding="utf-8")

    result = dry_run(path, LoadOptions(delimiter=":"))

    assert result.headers == ("Order ID", "Tracking Number")
    assert [order.order_id for order in result.orders] == [ORDER_A]


def outcome_facts(result: FileResult) -> tuple[object, ...]:
    """Return what the results workbook shows of each order and row, without times."""
    orders = [
        (order.order_id, order.status, order.rows, order.trackings, order.items, order.message)
        for order in result.orders
    ]
    rows = [(row.number, row.cells, row.order_id, row.status, row.problems) for row in result.rows]
    return (orders, rows, result.notes)


SAMPLES = Path(__file__).parents[1] / "sample_data"
TEMPLATES = load_templates()


def score(cells: Sequence[str]) -> int:
    return header_score(cells, TEMPLATES)


def test_columnar_run_matches_row_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forcing the column-at-a-time path on the samples changes no order, row or message."""
    for sample in ("shipstation_shipments_2026-12-01.csv", "manual_fulfillments.csv"):
        path = tmp_path / sample
        path.write_bytes((SAMPLES / sample).read_bytes())
        by_rows = outcome_facts(dry_run(path))

        with monkeypatch.context() as patch:
            patch.setattr(columns, "MIN_BYTES", 0)
            patch.setattr(pipeline, "COLUMNAR_MIN_ROWS", 0)
            assert load_table(path, header_score=score).rows.is_columnar, sample
            by_columns = outcome_facts(dry_run(path))

        assert by_columns == by_rows, sample


def test_stopped_run_keeps_rejected_order(tmp_path: Path) -> None:
    """An order the file rejects stays rejected when the run stops before reaching it."""
    path = tmp_path / "shipments.csv"
    path.write_text(
        f"Order ID,Tracking Number\n{ORDER_A},4.00123E+11\n{ORDER_B},1Z999AA10123456784\n",
        encoding="utf-8",
    )
    table = load_table(path, header_score=score)
    mapping = match_template(table, TEMPLATES)
    shipments, grouping = pipeline.plan_orders(
        table, mapping, default_location="Loc1", require_location=True
    )
    result = FileResult(path=path, started_at=datetime.now())

    pipeline._finish(result, table, shipments, grouping.orders, grouping.rows_without_order, {})

    statuses = {order.order_id: order.status for order in result.orders}
    assert statuses[ORDER_A] is OrderStatus.REJECTED
    assert statuses[ORDER_B] is OrderStatus.FAILED


def test_order_in_flight_may_have_been_created(tmp_path: Path) -> None:
    """An order whose request was on its way when the run stopped is not called unsent."""
    path = tmp_path / "shipments.csv"
    path.write_text(f"Order ID,Tracking Number\n{ORDER_B},1Z999AA10123456784\n", encoding="utf-8")
    table = load_table(path, header_score=score)
    mapping = match_template(table, TEMPLATES)
    shipments, grouping = pipeline.plan_orders(
        table, mapping, default_location="Loc1", require_location=True
    )
    result = FileResult(path=path, started_at=datetime.now())

    pipeline._finish(
        result,
        table,
        shipments,
        grouping.orders,
        grouping.rows_without_order,
        {},
        in_flight={ORDER_B},
    )

    assert result.orders[0].message.startswith("may have been created")


def test_location_without_access_rejects_its_orders_only(tmp_path: Path) -> None:
    """An order of a location the token may not use is rejected; the other orders are sent."""
    from importer.sandbox import Sandbox, load_seed
    from tests.api_fixtures import make_client

    location = "Xk7pQ2mLw9RtY4vB8nZc"
    path = tmp_path / "locations.csv"
    path.write_text(
        "Order ID,Tracking Number,Carrier,Location ID\n"
        "6afb2607207fe629c6a23c3a,796799488569,FedEx,\n"
        "6affbc3322ba75b8da9ac0e2,8745873345,DHL Express,OtherLoc123456789012\n",
        encoding="utf-8",
    )
    seed = load_seed(Path(__file__).resolve().parents[1] / "sample_data" / "sandbox_seed.json")
    with Sandbox(seed, tokens={"scoped-token": [location]}, max_requests=10_000) as sandbox:
        settings = Settings(token="scoped-token", location_id=location, base_url=sandbox.base_url)

        async def scenario() -> FileResult:
            async with make_client(sandbox, token="scoped-token") as client:
                return await import_file(
                    FileJob(path=path, results_path=tmp_path / "out.xlsx"),
                    settings=settings,
                    templates=load_templates(),
                    client=client,
                    notice=lambda _: None,
                    show_progress=False,
                )

        result = asyncio.run(scenario())

    assert [order.status for order in result.orders] == [
        OrderStatus.CREATED,
        OrderStatus.REJECTED,
    ]
    assert "may not use location OtherLoc123456789012" in result.orders[1].message


@pytest.mark.skipif(
    not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no file can be made"
)
def test_unwritable_results_folder_stops_before_sending(tmp_path: Path) -> None:
    """A results workbook that could not be saved stops the file before any order is sent."""
    from importer.errors import ReportError
    from importer.sandbox import Sandbox, load_seed
    from tests.api_fixtures import make_client

    location = "Xk7pQ2mLw9RtY4vB8nZc"
    path = tmp_path / "orders.csv"
    path.write_text(
        "Order ID,Tracking Number,Carrier\n6afb2607207fe629c6a23c3a,796799488569,FedEx\n",
        encoding="utf-8",
    )
    seed = load_seed(Path(__file__).resolve().parents[1] / "sample_data" / "sandbox_seed.json")
    with Sandbox(seed, tokens={"token-1": None}, max_requests=10_000) as sandbox:
        settings = Settings(token="token-1", location_id=location, base_url=sandbox.base_url)

        async def scenario() -> FileResult:
            async with make_client(sandbox, token="token-1") as client:
                return await import_file(
                    FileJob(path=path, results_path=Path("/proc/results.xlsx")),
                    settings=settings,
                    templates=load_templates(),
                    client=client,
                    notice=lambda _: None,
                    show_progress=False,
                )

        with pytest.raises(ReportError):
            asyncio.run(scenario())
        assert sandbox.fulfillment_log() == []
