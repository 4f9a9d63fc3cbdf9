"""Tests for importer.pipeline: how a loaded file's rows reach the results."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
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
    assert row_with(result, 7).problems[0].severity is Severity.NOTE
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
    assert statuses[ORDER_B] is OrderStatus.DEFERRED


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


def run_synthetic(
    tmp_path: Path,
    sandbox: object,
    orders: Sequence[object],
    *,
    client: object,
    settings: Settings,
    stop: object = None,
    ledger: object = None,
) -> FileResult:
    """Import an export of `orders` (made by importer.sandbox.synthetic) into the sandbox."""
    from importer.sandbox.synthetic import write_export

    path = tmp_path / "agency.csv"
    write_export(path, orders)  # type: ignore[arg-type]

    async def scenario() -> FileResult:
        async with client:  # type: ignore[attr-defined]
            return await import_file(
                FileJob(path=path, results_path=tmp_path / "agency.results.xlsx"),
                settings=settings,
                templates=TEMPLATES,
                client=client,  # type: ignore[arg-type]
                notice=lambda _: None,
                show_progress=False,
                ledger=ledger,  # type: ignore[arg-type]
                stop=stop,  # type: ignore[arg-type]
            )

    return asyncio.run(scenario())


def import_one_location(
    tmp_path: Path, count: int, *, daily_limit: int, **settings: Any
) -> tuple[FileResult, int, int]:
    """Import `count` orders of one location; return the result, fulfillments and 429 responses."""
    from importer.client import HighLevelClient
    from importer.sandbox import Sandbox
    from importer.sandbox.synthetic import location_ids, synthetic_orders, synthetic_seed

    orders = synthetic_orders(location_ids(1), count)
    with Sandbox(synthetic_seed(orders), tokens={"t": None}, daily_limit=daily_limit) as sandbox:
        client = HighLevelClient(base_url=sandbox.base_url, token="t", token_source="the test")
        options = Settings(token="t", base_url=sandbox.base_url, **settings)
        result = run_synthetic(tmp_path, sandbox, orders, client=client, settings=options)
        created = len(sandbox.fulfillment_log())
        limited = sum(1 for record in sandbox.request_log() if record.status == 429)
    return result, created, limited


def test_daily_limit_defers_rest(tmp_path: Path) -> None:
    """When the day's requests run low, the orders not started are deferred, not failed."""
    result, created, limited = import_one_location(
        tmp_path, 12, daily_limit=20, daily_reserve=2, concurrency=1
    )
    statuses = [order.status for order in result.orders]
    assert statuses.count(OrderStatus.CREATED) == created
    assert statuses.count(OrderStatus.DEFERRED) == 12 - created
    assert created >= 5
    assert limited == 0


def test_daily_limit_message_says_when_to_rerun(tmp_path: Path) -> None:
    result, _, _ = import_one_location(tmp_path, 6, daily_limit=8, daily_reserve=0, concurrency=1)
    assert "after midnight UTC" in result.orders[-1].message


def test_daily_limit_of_one_location_spares_others(tmp_path: Path) -> None:
    """A location out of daily requests defers only its own orders."""
    from importer.client import HighLevelClient
    from importer.sandbox import Sandbox
    from importer.sandbox.synthetic import location_ids, synthetic_orders, synthetic_seed

    busy, quiet = location_ids(2)
    orders = synthetic_orders([busy, quiet], 5)
    with Sandbox(synthetic_seed(orders), tokens={"t": None}, daily_limit=30) as sandbox:
        # Another tool has used all but 4 of the busy location's requests for the day.
        headers = {"Authorization": "Bearer t", "Version": "2021-07-28"}
        query = {"altId": busy, "altType": "location"}
        for _ in range(26):
            httpx.get(
                f"{sandbox.base_url}/payments/orders/{orders[0].order_id}",
                params=query,
                headers=headers,
            )
        client = HighLevelClient(base_url=sandbox.base_url, token="t", token_source="the test")
        settings = Settings(token="t", base_url=sandbox.base_url, daily_reserve=0)
        result = run_synthetic(tmp_path, sandbox, orders, client=client, settings=settings)

    deferred = {
        order.location_id for order in result.orders if order.status is OrderStatus.DEFERRED
    }
    assert deferred == {busy}


def test_daily_limit_read_before_workers_start(tmp_path: Path) -> None:
    """A location's workers wait for its first response, which reports what the day has left."""
    result, _, _ = import_one_location(tmp_path, 8, daily_limit=10, daily_reserve=4)
    statuses = [order.status for order in result.orders]
    assert statuses.count(OrderStatus.CREATED) == 1


def test_each_location_sent_its_own_token(tmp_path: Path) -> None:
    """Orders of two locations with a token each are all created; each token opens one."""
    from importer.client import Credential, HighLevelClient
    from importer.sandbox import Sandbox
    from importer.sandbox.synthetic import location_ids, synthetic_orders, synthetic_seed

    first, second = location_ids(2)
    orders = synthetic_orders([first, second], 3)
    tokens = {"token-a": [first], "token-b": [second]}
    with Sandbox(synthetic_seed(orders), tokens=tokens) as sandbox:
        client = HighLevelClient(
            base_url=sandbox.base_url,
            location_tokens={
                first: Credential("token-a", "the test"),
                second: Credential("token-b", "the test"),
            },
        )
        settings = Settings(base_url=sandbox.base_url)
        result = run_synthetic(tmp_path, sandbox, orders, client=client, settings=settings)

    assert [order.status for order in result.orders] == [OrderStatus.CREATED] * 6


def test_location_without_token_rejected_others_sent(tmp_path: Path) -> None:
    from importer.client import Credential, HighLevelClient
    from importer.sandbox import Sandbox
    from importer.sandbox.synthetic import location_ids, synthetic_orders, synthetic_seed

    first, second = location_ids(2)
    orders = synthetic_orders([first, second], 2)
    with Sandbox(synthetic_seed(orders), tokens={"token-a": [first]}) as sandbox:
        client = HighLevelClient(
            base_url=sandbox.base_url, location_tokens={first: Credential("token-a", "the test")}
        )
        settings = Settings(base_url=sandbox.base_url)
        result = run_synthetic(tmp_path, sandbox, orders, client=client, settings=settings)

    statuses = {(order.location_id, order.status) for order in result.orders}
    assert statuses == {(first, OrderStatus.CREATED), (second, OrderStatus.REJECTED)}


def test_stop_request_defers_orders_not_started(tmp_path: Path) -> None:
    """Once a stop is requested, the orders on their way finish and the rest are deferred."""
    from importer.client import HighLevelClient
    from importer.sandbox import Sandbox
    from importer.sandbox.synthetic import location_ids, synthetic_orders, synthetic_seed
    from importer.stopping import StopRequest

    orders = synthetic_orders(location_ids(1), 40)
    stop = StopRequest()
    with Sandbox(synthetic_seed(orders), tokens={"t": None}, latency_seconds=0.02) as sandbox:
        client = HighLevelClient(base_url=sandbox.base_url, token="t", token_source="the test")
        stop.on_request(client.stop)
        settings = Settings(token="t", base_url=sandbox.base_url, concurrency=2)

        def stop_soon() -> None:
            time.sleep(0.3)
            stop.request()

        stopper = threading.Thread(target=stop_soon)
        stopper.start()
        result = run_synthetic(
            tmp_path, sandbox, orders, client=client, settings=settings, stop=stop
        )
        stopper.join()
        created = len(sandbox.fulfillment_log())

    statuses = [order.status for order in result.orders]
    assert statuses.count(OrderStatus.CREATED) == created
    assert statuses.count(OrderStatus.DEFERRED) == 40 - created
    assert 0 < created < 40
    assert result.stopped_reason


def _order_reads(sandbox: object) -> int:
    """Count the get-order requests the sandbox served (not the fulfillment listings)."""
    log = sandbox.request_log()  # type: ignore[attr-defined]
    return sum(1 for r in log if r.method == "GET" and not r.path.endswith("/fulfillments"))


def test_known_order_not_read_again(tmp_path: Path) -> None:
    """A second package of an order the ledger has seen, with price IDs, needs no order read."""
    from importer.client import HighLevelClient
    from importer.ledger import Ledger
    from importer.sandbox import Sandbox
    from importer.sandbox.synthetic import location_ids, synthetic_orders, synthetic_seed
    from importer.submit import LedgerRun

    orders = synthetic_orders(location_ids(1), 3)
    second_packages = [
        dataclasses.replace(order, tracking_number=other.tracking_number)
        for order, other in zip(orders, synthetic_orders(location_ids(2), 3)[3:], strict=True)
    ]
    ledger = Ledger.open(tmp_path / "state")
    with Sandbox(synthetic_seed(orders), tokens={"t": None}) as sandbox:
        settings = Settings(token="t", base_url=sandbox.base_url)
        results = []
        for number, export in enumerate((orders, second_packages)):
            run = LedgerRun(ledger, ledger.start_run("import", dry_run=False))
            client = HighLevelClient(base_url=sandbox.base_url, token="t", token_source="the test")
            folder = tmp_path / f"run{number}"
            folder.mkdir()
            reads_before = _order_reads(sandbox)
            results.append(
                run_synthetic(folder, sandbox, export, client=client, settings=settings, ledger=run)
            )
            reads = _order_reads(sandbox) - reads_before
    ledger.close()

    assert [order.status for order in results[1].orders] == [OrderStatus.CREATED] * 3
    assert reads == 0


def test_deferred_rows_say_why(tmp_path: Path) -> None:
    """Each row of a deferred order carries the reason, for the Rows sheet."""
    result, _, _ = import_one_location(tmp_path, 4, daily_limit=8, daily_reserve=0, concurrency=1)
    deferred = [row for row in result.rows if row.status == OrderStatus.DEFERRED.value]
    assert deferred
    assert all("the order was deferred" in row.problems[-1].message for row in deferred)


def test_refused_location_token_spares_others(tmp_path: Path) -> None:
    """A location whose own token HighLevel rejects has its orders rejected; the rest are sent."""
    from importer.client import Credential, HighLevelClient
    from importer.sandbox import Sandbox
    from importer.sandbox.synthetic import location_ids, synthetic_orders, synthetic_seed

    first, second = location_ids(2)
    orders = synthetic_orders([first, second], 3)
    tokens = {first: Credential("good-token", "the test"), second: Credential("typo", "the test")}
    with Sandbox(synthetic_seed(orders), tokens={"good-token": None}) as sandbox:
        client = HighLevelClient(base_url=sandbox.base_url, location_tokens=tokens)
        settings = Settings(base_url=sandbox.base_url, location_tokens=tokens)
        result = run_synthetic(tmp_path, sandbox, orders, client=client, settings=settings)
        refused = sum(1 for record in sandbox.request_log() if record.status == 401)

    statuses = {(order.location_id, order.status) for order in result.orders}
    assert statuses == {(first, OrderStatus.CREATED), (second, OrderStatus.REJECTED)}
    assert refused == 1


def test_refused_default_token_spares_own_tokens(tmp_path: Path) -> None:
    """A rejected default token rejects its locations' orders; a location's own token goes on."""
    from importer.client import Credential, HighLevelClient
    from importer.sandbox import Sandbox
    from importer.sandbox.synthetic import location_ids, synthetic_orders, synthetic_seed

    first, second = location_ids(2)
    orders = synthetic_orders([first, second], 3)
    tokens = {second: Credential("good-token", "the test")}
    with Sandbox(synthetic_seed(orders), tokens={"good-token": None}) as sandbox:
        client = HighLevelClient(
            base_url=sandbox.base_url,
            token="typo",
            token_source="GHL_TOKEN",
            location_tokens=tokens,
        )
        settings = Settings(
            token="typo", location_id=first, base_url=sandbox.base_url, location_tokens=tokens
        )
        result = run_synthetic(tmp_path, sandbox, orders, client=client, settings=settings)

    statuses = {(order.location_id, order.status) for order in result.orders}
    assert statuses == {(first, OrderStatus.REJECTED), (second, OrderStatus.CREATED)}
