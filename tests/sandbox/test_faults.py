"""Fault injection of the sandbox, checked over real HTTP on loopback with httpx."""

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from importer.cli import main
from importer.sandbox import FaultKind, FaultPlan, FaultScope, Sandbox, SandboxSeed
from importer.sandbox.faults import plan_from_options
from tests.sandbox.test_server import (
    ORDER_OPEN,
    create_fulfillment,
    fulfillment_body,
    get_order,
    list_fulfillments,
    make_sandbox,
)

# Errors httpx raises when the server closes the connection without a response.
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)

SERVER_ERROR_STATUSES = {500, 502, 503}


def open_client(sandbox: Sandbox, timeout: float = 5.0) -> httpx.Client:
    # trust_env=False keeps proxy settings of the environment away from loopback traffic.
    return httpx.Client(base_url=sandbox.base_url, trust_env=False, verify=False, timeout=timeout)


@pytest.fixture
def faulty(seed: SandboxSeed) -> Iterator[tuple[Sandbox, httpx.Client]]:
    """A running sandbox without faults or rate limit, for tests that set faults with set_faults."""
    with make_sandbox(seed, max_requests=10_000) as sandbox, open_client(sandbox) as client:
        yield sandbox, client


def timed_get(client: httpx.Client) -> float:
    started = time.perf_counter()
    response = get_order(client, ORDER_OPEN)
    assert response.status_code == 200
    return time.perf_counter() - started


def outcome(client: httpx.Client) -> str:
    """Send one GET and name what came back: a status code, or "dropped"."""
    try:
        return str(get_order(client, ORDER_OPEN).status_code)
    except DROPPED:
        return "dropped"


# Latency


def test_fixed_latency_delays_every_request(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(latency_seconds=0.05))

    elapsed = [timed_get(client) for _ in range(3)]

    assert min(elapsed) >= 0.05


def test_latency_range_honoured(faulty: tuple[Sandbox, httpx.Client]) -> None:
    """Each delay falls between the minimum and maximum, and the delays differ."""
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(latency_seconds=0.02, latency_max_seconds=0.08, seed=3))

    elapsed = [timed_get(client) for _ in range(12)]

    assert min(elapsed) >= 0.02
    # The margin above the maximum covers the request's own time on a loaded machine.
    assert max(elapsed) < 0.08 + 0.1
    assert max(elapsed) - min(elapsed) > 0.02


def test_latency_limited_to_creates(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    plan = FaultPlan(latency_seconds=0.3, latency_scope=FaultScope.CREATE_FULFILLMENT)
    sandbox.set_faults(plan)

    read_seconds = timed_get(client)
    started = time.perf_counter()
    created = create_fulfillment(client, ORDER_OPEN, fulfillment_body())
    create_seconds = time.perf_counter() - started

    assert created.status_code == 201
    assert create_seconds >= 0.3
    assert read_seconds < 0.3


# Server errors


def test_server_error_share_roughly_right(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(error_rate=0.3, seed=11))

    statuses = [get_order(client, ORDER_OPEN).status_code for _ in range(300)]
    errors = [status for status in statuses if status != 200]

    assert 0.2 < len(errors) / len(statuses) < 0.4
    assert set(errors) == SERVER_ERROR_STATUSES
    assert sandbox.fault_counts()[FaultKind.SERVER_ERROR] == len(errors)


def test_server_error_stores_nothing(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(error_rate=1.0, seed=1))

    responses = [create_fulfillment(client, ORDER_OPEN, fulfillment_body()) for _ in range(5)]

    assert {response.status_code for response in responses} <= SERVER_ERROR_STATUSES
    assert sandbox.fulfillment_log() == []
    assert sandbox.request_log() == []
    assert sandbox.order_state(ORDER_OPEN)["fulfillmentStatus"] == "unfulfilled"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"statusCode": 500, "message": "Internal server error"}),
        (502, {"statusCode": 502, "message": "Bad Gateway", "error": "Bad Gateway"}),
        (
            503,
            {"statusCode": 503, "message": "Service Unavailable", "error": "Service Unavailable"},
        ),
    ],
)
def test_server_error_body_shape(
    faulty: tuple[Sandbox, httpx.Client], status: int, body: dict[str, object]
) -> None:
    """An injected error has a JSON body in NestJS's shape, as HighLevel's errors have."""
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(error_rate=1.0, error_statuses=(status,)))

    response = get_order(client, ORDER_OPEN)

    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == body


def test_server_error_limited_to_creates(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    plan = FaultPlan(error_rate=1.0, error_scope=FaultScope.CREATE_FULFILLMENT)
    sandbox.set_faults(plan)

    order = get_order(client, ORDER_OPEN)
    fulfillments = list_fulfillments(client, ORDER_OPEN)
    created = create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert order.status_code == 200
    assert fulfillments.status_code == 200
    assert created.status_code in SERVER_ERROR_STATUSES


# Dropped connections


def test_drop_before_handling_stores_nothing(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(drop_before_rate=1.0))

    with pytest.raises(DROPPED):
        create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert sandbox.fulfillment_log() == []
    assert [fault.status for fault in sandbox.fault_log()] == [None]


def test_drop_after_handling_stores_once(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(drop_after_rate=1.0))

    with pytest.raises(DROPPED):
        create_fulfillment(client, ORDER_OPEN, fulfillment_body())
    sandbox.set_faults(FaultPlan())
    listed = list_fulfillments(client, ORDER_OPEN).json()["data"]

    assert len(sandbox.fulfillment_log()) == 1
    assert [fulfillment["_id"] for fulfillment in listed] == [
        sandbox.fulfillment_log()[0].fulfillment_id
    ]
    assert [fault.status for fault in sandbox.fault_log()] == [201]


def test_drop_limited_to_creates(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    plan = FaultPlan(drop_before_rate=1.0, drop_scope=FaultScope.CREATE_FULFILLMENT)
    sandbox.set_faults(plan)

    order = get_order(client, ORDER_OPEN)
    with pytest.raises(DROPPED):
        create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert order.status_code == 200


def test_drop_logs_no_error(
    faulty: tuple[Sandbox, httpx.Client],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A dropped connection prints no traceback and logs nothing above debug level."""
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(drop_before_rate=0.5, drop_after_rate=0.5, seed=5))
    caplog.set_level(logging.DEBUG, logger="importer.sandbox")

    outcomes = [outcome(client) for _ in range(6)]

    assert outcomes == ["dropped"] * 6
    assert [record for record in caplog.records if record.levelno > logging.DEBUG] == []
    assert capfd.readouterr().err == ""


def test_client_recovers_after_drop(faulty: tuple[Sandbox, httpx.Client]) -> None:
    """The next request on the same client opens a new connection and succeeds."""
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(drop_before_rate=1.0))
    dropped = outcome(client)

    sandbox.set_faults(FaultPlan())

    assert dropped == "dropped"
    assert outcome(client) == "200"


# Timeouts


def test_timeout_taking_effect_stores(faulty: tuple[Sandbox, httpx.Client]) -> None:
    """The client times out, yet the create was stored before the response was held."""
    sandbox, _ = faulty
    sandbox.set_faults(FaultPlan(timeout_rate=1.0, timeout_hold_seconds=1.0))

    with open_client(sandbox, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        create_fulfillment(impatient, ORDER_OPEN, fulfillment_body())

    assert len(sandbox.fulfillment_log()) == 1
    assert [fault.kind for fault in sandbox.fault_log()] == [FaultKind.TIMEOUT]


def test_timeout_response_comes_late(faulty: tuple[Sandbox, httpx.Client]) -> None:
    """A client that waits longer than the hold gets the real response."""
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(timeout_rate=1.0, timeout_hold_seconds=0.2))

    started = time.perf_counter()
    created = create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert created.status_code == 201
    assert time.perf_counter() - started >= 0.2


def test_timeout_without_effect_stores_nothing(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, _ = faulty
    plan = FaultPlan(timeout_rate=1.0, timeout_hold_seconds=1.0, timeout_takes_effect=False)
    sandbox.set_faults(plan)

    with open_client(sandbox, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        create_fulfillment(impatient, ORDER_OPEN, fulfillment_body())

    assert sandbox.fulfillment_log() == []
    assert [fault.status for fault in sandbox.fault_log()] == [None]


def test_timeout_without_effect_sends_504(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    plan = FaultPlan(timeout_rate=1.0, timeout_hold_seconds=0.1, timeout_takes_effect=False)
    sandbox.set_faults(plan)

    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert response.status_code == 504
    assert response.json()["error"] == "Gateway Timeout"
    assert sandbox.fulfillment_log() == []


def test_stop_ends_held_request(seed: SandboxSeed) -> None:
    """stop() ends a held request at once instead of leaving it to the end of the hold."""
    sandbox = make_sandbox(seed, faults=FaultPlan(timeout_rate=1.0, timeout_hold_seconds=30.0))
    sandbox.start()
    outcomes: list[str] = []
    with open_client(sandbox, timeout=10.0) as client:
        request = threading.Thread(target=lambda: outcomes.append(outcome(client)))
        request.start()
        time.sleep(0.2)

        started = time.perf_counter()
        sandbox.stop()
        request.join(timeout=5.0)

    assert time.perf_counter() - started < 2.0
    assert outcomes == ["dropped"]


# Changing, repeating and counting faults


def test_set_faults_while_running(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    before = outcome(client)

    sandbox.set_faults(FaultPlan(error_rate=1.0, error_statuses=(502,)))
    during = outcome(client)
    plan_during = sandbox.faults

    sandbox.set_faults(FaultPlan())
    after = outcome(client)

    assert before == "200"
    assert during == "502"
    assert plan_during.error_rate == 1.0
    assert after == "200"


def test_faults_given_at_construction(seed: SandboxSeed) -> None:
    plan = FaultPlan(error_rate=1.0, error_statuses=(500,))

    with make_sandbox(seed, faults=plan) as sandbox, open_client(sandbox) as client:
        result = outcome(client)

    assert result == "500"


def test_same_seed_same_faults(seed: SandboxSeed) -> None:
    plan = FaultPlan(error_rate=0.3, drop_before_rate=0.2, drop_after_rate=0.2, seed=42)
    runs: list[list[str]] = []

    for _ in range(2):
        with make_sandbox(seed, faults=plan) as sandbox, open_client(sandbox) as client:
            runs.append([outcome(client) for _ in range(30)])

    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 2


def test_set_faults_restarts_from_seed(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    plan = FaultPlan(error_rate=0.5, seed=9)

    sandbox.set_faults(plan)
    first = [outcome(client) for _ in range(20)]
    sandbox.set_faults(plan)
    second = [outcome(client) for _ in range(20)]

    assert first == second


def test_fault_counts_match_client_view(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(
        FaultPlan(error_rate=0.2, drop_before_rate=0.15, drop_after_rate=0.15, seed=8)
    )

    outcomes = [outcome(client) for _ in range(60)]
    counts = sandbox.fault_counts()
    server_errors = sum(
        result in {str(status) for status in SERVER_ERROR_STATUSES} for result in outcomes
    )
    drops = counts[FaultKind.DROP_BEFORE_HANDLING] + counts[FaultKind.DROP_AFTER_HANDLING]

    assert list(counts) == list(FaultKind)
    assert counts[FaultKind.SERVER_ERROR] == server_errors
    assert drops == outcomes.count("dropped")
    assert counts[FaultKind.DROP_BEFORE_HANDLING] > 0
    assert counts[FaultKind.DROP_AFTER_HANDLING] > 0
    assert counts[FaultKind.TIMEOUT] == 0


def test_fault_record_survives_set_faults(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(FaultPlan(error_rate=1.0))
    outcome(client)

    sandbox.set_faults(FaultPlan())

    assert sandbox.fault_counts()[FaultKind.SERVER_ERROR] == 1


# Plan checks and the sandbox command's options


@pytest.mark.parametrize(
    "settings",
    [
        {"error_rate": 1.5},
        {"drop_before_rate": -0.1},
        {"error_rate": 0.6, "timeout_rate": 0.5},
        {"latency_seconds": -1.0},
        {"latency_seconds": 0.5, "latency_max_seconds": 0.1},
        {"error_statuses": ()},
        {"error_statuses": (404,)},
        {"timeout_hold_seconds": float("nan")},
    ],
)
def test_invalid_plan_rejected(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FaultPlan(**settings)  # type: ignore[arg-type]


def test_rates_adding_up_to_one_accepted() -> None:
    """Rates whose float sum lands just above 1 are accepted."""
    plan = FaultPlan(error_rate=0.33, timeout_rate=0.56, drop_before_rate=0.11)

    assert plan.total_rate > 1.0


def test_latency_and_faults_together_rejected(seed: SandboxSeed) -> None:
    with pytest.raises(ValueError, match="FaultPlan"):
        make_sandbox(seed, latency_seconds=0.1, faults=FaultPlan())


def test_options_fixed_latency() -> None:
    plan = plan_from_options(latency="200")

    assert plan.latency_seconds == 0.2
    assert plan.latency_max_seconds is None


def test_options_latency_range() -> None:
    plan = plan_from_options(latency="50-400")

    assert plan.latency_seconds == 0.05
    assert plan.latency_max_seconds == 0.4


def test_options_drop_rate_split() -> None:
    plan = plan_from_options(drop_rate="0.2", seed=4)

    assert plan.drop_before_rate == 0.1
    assert plan.drop_after_rate == 0.1
    assert plan.seed == 4


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"latency": "fast"}, "--latency"),
        ({"latency": "400-50"}, "--latency"),
        ({"latency": "-5"}, "--latency"),
        ({"error_rate": "10%"}, "--error-rate"),
        ({"drop_rate": "2"}, "--drop-rate"),
        ({"timeout_rate": "nan"}, "--timeout-rate"),
        ({"error_rate": "0.6", "drop_rate": "0.6"}, "--drop-rate"),
    ],
)
def test_options_invalid_value_named(options: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        plan_from_options(**options)  # type: ignore[arg-type]


def test_sandbox_command_invalid_rate(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sandbox", "--error-rate", "1.5"])

    assert code == 2
    assert "--error-rate '1.5' is invalid" in capsys.readouterr().err
