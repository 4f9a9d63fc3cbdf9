"""Malformed responses from HighLevel, met by whole imports against the sandbox on loopback.

Each test imports a file of three orders and makes the sandbox garble the
responses of the middle one only (FaultPlan.target_contains), on its reads or
on its create. The garbled order must end failed with a short message and the
right kind, or created when reading the order back confirms it. The other two
orders must be created, nothing may be created twice, and the results workbook
must be written.
"""

from __future__ import annotations

import asyncio
import tracemalloc
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from importer.client import HighLevelClient, RetryPolicy
from importer.config import Settings
from importer.ledger import Ledger
from importer.mapping import load_templates
from importer.pipeline import FileJob, import_file
from importer.records import ErrorKind, FileResult, OrderResult, OrderStatus
from importer.response_body import MAX_RESPONSE_BYTES
from importer.sandbox import FaultKind, FaultPlan, FaultScope, Sandbox, WrongShape
from importer.sandbox.synthetic import (
    PRICE_ID,
    SyntheticOrder,
    location_ids,
    synthetic_orders,
    synthetic_seed,
    write_export,
)
from importer.submit import LedgerRun

TOKEN = "malformed-token-3c1e"
RETRY = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.01)
# Short, so that a slow drip ends each attempt quickly; a drip byte comes far more often.
TIMEOUT_SECONDS = 0.4
DRIP_INTERVAL_SECONDS = 0.02
# What a clerk can read in one line of the Orders sheet.
MESSAGE_LIMIT = 300

ORDERS = synthetic_orders(location_ids(1), 3)
LOCATION = ORDERS[0].location_id
GARBLED = ORDERS[1]
OTHERS = (ORDERS[0], ORDERS[2])

# Malformed responses that carry the right data, which the importer must accept.
ACCEPTED = (FaultKind.EXTRA_FIELDS, FaultKind.WRONG_CONTENT_TYPE)


@dataclass(frozen=True)
class Case:
    """One malformed response: its kind and, where the kind has them, its variant."""

    kind: FaultKind
    html_status: int = 502
    shape: WrongShape = WrongShape.LIST
    takes_effect: bool = True

    def plan(self, scope: FaultScope, target: str = "") -> FaultPlan:
        """Build the plan that garbles every response in `scope` whose request contains `target`."""
        return FaultPlan(
            malformed_rate=1.0,
            malformed_kinds=(self.kind,),
            malformed_scope=scope,
            html_statuses=(self.html_status,),
            html_takes_effect=self.takes_effect,
            wrong_shapes=(self.shape,),
            drip_interval_seconds=DRIP_INTERVAL_SECONDS,
            target_contains=(target,) if target else (),
        )


_KINDS_WITHOUT_VARIANTS = (
    FaultKind.TRUNCATED_JSON,
    FaultKind.EXTRA_FIELDS,
    FaultKind.HUGE_BODY,
    FaultKind.WRONG_CONTENT_TYPE,
    FaultKind.EMPTY_BODY,
    FaultKind.NOT_UTF8,
    FaultKind.SLOW_DRIP,
)

# Every malformed kind once, and each HTML status and JSON shape as a case of its own.
CASES = (
    [Case(FaultKind.HTML_PAGE, html_status=status) for status in (502, 503, 200)]
    + [Case(FaultKind.WRONG_SHAPE, shape=shape) for shape in WrongShape]
    + [Case(kind) for kind in _KINDS_WITHOUT_VARIANTS]
)
# An HTML page from a proxy that never passed the create on, so nothing was stored.
NOT_STORED = [
    Case(FaultKind.HTML_PAGE, html_status=status, takes_effect=False) for status in (502, 200)
]


def case_id(case: Case) -> str:
    if case.kind is FaultKind.HTML_PAGE:
        stored = "" if case.takes_effect else "-not-stored"
        return f"html-{case.html_status}{stored}"
    if case.kind is FaultKind.WRONG_SHAPE:
        return f"shape-{case.shape.value}"
    return case.kind.value


def make_client(
    sandbox: Sandbox, observer: Callable[[float, int], None] | None = None
) -> HighLevelClient:
    return HighLevelClient(
        base_url=sandbox.base_url,
        token=TOKEN,
        token_source="the test",
        retry=RETRY,
        timeout_seconds=TIMEOUT_SECONDS,
        observer=observer,
    )


def import_path(
    sandbox: Sandbox,
    path: Path,
    *,
    ledger: Ledger | None = None,
    observer: Callable[[float, int], None] | None = None,
) -> FileResult:
    settings = Settings(
        token=TOKEN,
        base_url=sandbox.base_url,
        location_id=LOCATION,
        retry=RETRY,
        timeout_seconds=TIMEOUT_SECONDS,
        concurrency=1,
    )
    run = None if ledger is None else LedgerRun(ledger, ledger.start_run("import", dry_run=False))

    async def scenario() -> FileResult:
        async with make_client(sandbox, observer) as client:
            return await import_file(
                FileJob(path=path, results_path=path.with_suffix(".results.xlsx")),
                settings=settings,
                templates=load_templates(),
                client=client,
                notice=lambda _: None,
                show_progress=False,
                ledger=run,
            )

    return asyncio.run(scenario())


def export(folder: Path, name: str = "shipments.csv") -> Path:
    path = folder / name
    write_export(path, ORDERS)
    return path


def outcome_of(result: FileResult, order: SyntheticOrder) -> OrderResult:
    return next(outcome for outcome in result.orders if outcome.order_id == order.order_id)


def stored_per_order(sandbox: Sandbox) -> Counter[str]:
    return Counter(fulfillment.order_id for fulfillment in sandbox.fulfillment_log())


def is_clean(message: str) -> bool:
    """Whether a message is one short line without markup or control characters."""
    control = any(unicodedata.category(char)[0] == "C" for char in message)
    return len(message) <= MESSAGE_LIMIT and "<" not in message and not control


def new_sandbox() -> Sandbox:
    return Sandbox(synthetic_seed(ORDERS), tokens={TOKEN: None})


# Reads: the order's fulfillments and the order itself


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_garbled_read_fails_one_order(tmp_path: Path, case: Case) -> None:
    """A garbled read fails its order as unavailable, unless it carries the right data."""
    with new_sandbox() as sandbox:
        sandbox.set_faults(case.plan(FaultScope.EVERY_REQUEST, GARBLED.order_id))
        result = import_path(sandbox, export(tmp_path))
        stored = stored_per_order(sandbox)
        faults = len(sandbox.fault_log())
    garbled = outcome_of(result, GARBLED)
    accepted = case.kind in ACCEPTED

    assert faults > 0
    assert garbled.status is (OrderStatus.CREATED if accepted else OrderStatus.FAILED)
    assert garbled.kind is (None if accepted else ErrorKind.UNAVAILABLE)
    assert is_clean(garbled.message), garbled.message
    assert [outcome_of(result, order).status for order in OTHERS] == [OrderStatus.CREATED] * 2
    assert stored[GARBLED.order_id] == (1 if accepted else 0)
    assert max(stored.values()) == 1
    assert result.results_path is not None
    assert result.results_path.is_file()


def test_garbled_read_message_names_reason(tmp_path: Path) -> None:
    """The message names what was read and what was wrong with it."""
    case = Case(FaultKind.HTML_PAGE, html_status=502)
    with new_sandbox() as sandbox:
        sandbox.set_faults(case.plan(FaultScope.EVERY_REQUEST, GARBLED.order_id))
        result = import_path(sandbox, export(tmp_path))
    message = outcome_of(result, GARBLED).message

    assert "could not read the order from HighLevel" in message
    assert '"502 Bad Gateway"' in message


# Order lookups by order number


def number_export(folder: Path) -> Path:
    """Write the orders with their order numbers ("#10001") instead of their IDs."""
    path = folder / "numbers.csv"
    lines = ["Order Number,Tracking Number,Carrier,Price ID,Qty"]
    lines += [
        f"#{10_000 + index},{order.tracking_number},UPS,{PRICE_ID},1"
        for index, order in enumerate(ORDERS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_garbled_lookup_fails_one_order(tmp_path: Path, case: Case) -> None:
    """A garbled search for an order number fails that order; the other numbers are found."""
    with new_sandbox() as sandbox:
        sandbox.set_faults(case.plan(FaultScope.EVERY_REQUEST, "search=10001"))
        result = import_path(sandbox, number_export(tmp_path))
        stored = stored_per_order(sandbox)
    statuses = [outcome.status for outcome in result.orders]
    accepted = case.kind in ACCEPTED
    failed = [outcome for outcome in result.orders if outcome.status is OrderStatus.FAILED]

    assert statuses.count(OrderStatus.CREATED) == (3 if accepted else 2)
    assert [outcome.kind for outcome in failed] == ([] if accepted else [ErrorKind.UNAVAILABLE])
    assert all(is_clean(outcome.message) for outcome in failed)
    assert max(stored.values()) == 1
    assert result.results_path is not None
    assert result.results_path.is_file()


# Creates


@dataclass(frozen=True)
class CreateOutcome:
    status: OrderStatus
    kind: ErrorKind | None
    stored: int  # fulfillments stored for the order
    sent: int  # create requests sent for the order


def expected_create_outcome(case: Case) -> CreateOutcome:
    """Return what becomes of the order whose create is garbled.

    A create that the sandbox stored is confirmed by reading the order back.
    An HTML page without effect stored nothing: after a 5xx the request is
    sent again, up to the attempts allowed, and after a 200 it is not.
    """
    if case.takes_effect:
        return CreateOutcome(OrderStatus.CREATED, None, stored=1, sent=1)
    if case.html_status >= 500:
        attempts = RETRY.max_attempts
        return CreateOutcome(OrderStatus.FAILED, ErrorKind.UNAVAILABLE, stored=0, sent=attempts)
    return CreateOutcome(OrderStatus.FAILED, ErrorKind.UNCERTAIN, stored=0, sent=1)


@pytest.mark.parametrize("case", CASES + NOT_STORED, ids=case_id)
def test_garbled_create_never_sent_twice(tmp_path: Path, case: Case) -> None:
    with new_sandbox() as sandbox:
        sandbox.set_faults(case.plan(FaultScope.CREATE_FULFILLMENT, GARBLED.order_id))
        result = import_path(sandbox, export(tmp_path))
        stored = stored_per_order(sandbox)
        # Every create of the order meets the fault, so the fault log counts them.
        sent = sum(1 for fault in sandbox.fault_log() if fault.method == "POST")
    garbled = outcome_of(result, GARBLED)
    expected = expected_create_outcome(case)

    assert garbled.status is expected.status
    assert garbled.kind is expected.kind
    assert is_clean(garbled.message), garbled.message
    assert stored[GARBLED.order_id] == expected.stored
    assert sent == expected.sent
    assert [outcome_of(result, order).status for order in OTHERS] == [OrderStatus.CREATED] * 2
    assert result.results_path is not None
    assert result.results_path.is_file()


@pytest.mark.parametrize("case", [c for c in CASES if c.kind not in ACCEPTED], ids=case_id)
def test_garbled_create_confirmed_by_reading_back(tmp_path: Path, case: Case) -> None:
    """A garbled response to a create that was stored ends created, with the stored ID."""
    with new_sandbox() as sandbox:
        sandbox.set_faults(case.plan(FaultScope.CREATE_FULFILLMENT, GARBLED.order_id))
        result = import_path(sandbox, export(tmp_path))
        stored_ids = [
            fulfillment.fulfillment_id
            for fulfillment in sandbox.fulfillment_log()
            if fulfillment.order_id == GARBLED.order_id
        ]
    garbled = outcome_of(result, GARBLED)

    assert garbled.fulfillment_id == stored_ids[0]
    assert "confirmed by reading the order back" in garbled.message


def test_garbled_create_then_import_again(tmp_path: Path) -> None:
    """After a garbled 201 that was confirmed, importing the file again creates nothing more."""
    ledger = Ledger.open(tmp_path / "state")
    with new_sandbox() as sandbox:
        sandbox.set_faults(Case(FaultKind.TRUNCATED_JSON).plan(FaultScope.CREATE_FULFILLMENT))
        first = import_path(sandbox, export(tmp_path, "first.csv"), ledger=ledger)
        sandbox.set_faults(FaultPlan())
        second = import_path(sandbox, export(tmp_path, "second.csv"), ledger=ledger)
        stored = stored_per_order(sandbox)
    ledger.close()

    assert [order.status for order in first.orders] == [OrderStatus.CREATED] * 3
    assert [order.status for order in second.orders] == [OrderStatus.SKIPPED] * 3
    assert list(stored.values()) == [1, 1, 1]


def test_unconfirmed_create_then_import_again(tmp_path: Path) -> None:
    """A garbled 201 that reading back cannot confirm ends uncertain; the next import skips it.

    The sandbox garbles the middle order's create and then, from its response
    on, every response for that order, so that the read-back cannot see what
    was stored. The orders are sent one at a time in the file's order, so its
    create is the second to get a 201.
    """
    ledger = Ledger.open(tmp_path / "state")
    empty = Case(FaultKind.EMPTY_BODY)
    everything = empty.plan(FaultScope.EVERY_REQUEST, GARBLED.order_id)
    creates: list[int] = []
    with new_sandbox() as sandbox:

        def garble_all_after_create(started: float, status: int) -> None:
            if status == 201:
                creates.append(status)
            if len(creates) == 2:
                sandbox.set_faults(everything)

        sandbox.set_faults(empty.plan(FaultScope.CREATE_FULFILLMENT, GARBLED.order_id))
        first = import_path(
            sandbox, export(tmp_path, "first.csv"), ledger=ledger, observer=garble_all_after_create
        )
        sandbox.set_faults(FaultPlan())
        second = import_path(sandbox, export(tmp_path, "second.csv"), ledger=ledger)
        stored = stored_per_order(sandbox)
    ledger.close()
    garbled_first = outcome_of(first, GARBLED)

    assert outcome_of(first, ORDERS[0]).status is OrderStatus.CREATED
    assert garbled_first.status is OrderStatus.FAILED
    assert garbled_first.kind is ErrorKind.UNCERTAIN
    assert "not sent again" in garbled_first.message
    assert outcome_of(second, GARBLED).status is OrderStatus.SKIPPED
    assert stored[GARBLED.order_id] == 1


# Memory


def test_huge_body_memory_stays_under_cap() -> None:
    """Reading a 50 MB body allocates no more than the maximum response size and some slack.

    tracemalloc counts the Python allocations of every thread, the sandbox's
    included, which sends the body in chunks of 64 kB. A first read without
    faults keeps one-time costs, such as lazy imports, out of the peak.
    """
    plan = Case(FaultKind.HUGE_BODY).plan(FaultScope.EVERY_REQUEST)
    with new_sandbox() as sandbox:

        async def read_order() -> str:
            async with make_client(sandbox) as client:
                response = await client.get_order(GARBLED.order_id, LOCATION)
            return response.problem

        asyncio.run(read_order())
        sandbox.set_faults(plan)
        tracemalloc.start()
        try:
            problem = asyncio.run(read_order())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert "larger than 5 MB" in problem
    assert plan.huge_body_bytes == 50 * 1024 * 1024
    # Measured about 1 MiB above the maximum: chunk list, last chunk, client and sandbox.
    assert peak < MAX_RESPONSE_BYTES + 2 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
