"""Malformed responses of the sandbox, checked over real HTTP on loopback with httpx."""

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from importer.cli import main
from importer.sandbox import (
    MALFORMED_KINDS,
    FaultKind,
    FaultPlan,
    FaultScope,
    Sandbox,
    SandboxSeed,
    WrongShape,
)
from importer.sandbox.faults import plan_from_options
from importer.sandbox.malformed import CHUNK_BYTES
from tests.sandbox.test_faults import DROPPED, open_client
from tests.sandbox.test_server import (
    ORDER_OPEN,
    ORDER_PARTIAL,
    create_fulfillment,
    fulfillment_body,
    get_order,
    headers,
    list_fulfillments,
    location_query,
    make_sandbox,
)


@pytest.fixture
def faulty(seed: SandboxSeed) -> Iterator[tuple[Sandbox, httpx.Client]]:
    with make_sandbox(seed, max_requests=10_000) as sandbox, open_client(sandbox) as client:
        yield sandbox, client


def malformed(kind: FaultKind, **settings: Any) -> FaultPlan:
    return FaultPlan(malformed_rate=1.0, malformed_kinds=(kind,), **settings)


def real_order(sandbox: Sandbox, client: httpx.Client) -> Any:
    """Read the open order with the faults turned off, for comparison."""
    plan = sandbox.faults
    sandbox.set_faults(FaultPlan())
    body = get_order(client, ORDER_OPEN).json()
    sandbox.set_faults(plan)
    return body


# HTML pages


@pytest.mark.parametrize("status", [502, 503, 200])
def test_html_page_status(faulty: tuple[Sandbox, httpx.Client], status: int) -> None:
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.HTML_PAGE, html_statuses=(status,)))

    response = get_order(client, ORDER_OPEN)

    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")
    assert "<title>" in response.text
    assert "X-RateLimit-Remaining" not in response.headers


def test_html_page_with_effect_stores_create(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.HTML_PAGE, html_statuses=(502,)))

    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert response.status_code == 502
    assert len(sandbox.fulfillment_log()) == 1
    assert [fault.status for fault in sandbox.fault_log()] == [201]


def test_html_page_without_effect_stores_nothing(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    plan = malformed(FaultKind.HTML_PAGE, html_statuses=(503,), html_takes_effect=False)
    sandbox.set_faults(plan)

    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert response.status_code == 503
    assert sandbox.fulfillment_log() == []
    assert [fault.status for fault in sandbox.fault_log()] == [None]


# Bodies garbled in one piece


def test_truncated_json_is_first_half(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    whole = json.dumps(real_order(sandbox, client), separators=(",", ":")).encode()
    sandbox.set_faults(malformed(FaultKind.TRUNCATED_JSON))

    response = get_order(client, ORDER_OPEN)

    assert response.status_code == 200
    assert response.content == whole[: len(whole) // 2]
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_truncated_create_stored(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.TRUNCATED_JSON))

    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert response.status_code == 201
    assert len(sandbox.fulfillment_log()) == 1


def test_wrong_shape_list(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    whole = real_order(sandbox, client)
    sandbox.set_faults(malformed(FaultKind.WRONG_SHAPE, wrong_shapes=(WrongShape.LIST,)))

    assert get_order(client, ORDER_OPEN).json() == [whole]


@pytest.mark.parametrize(("shape", "body"), [(WrongShape.STRING, "OK"), (WrongShape.NULL, None)])
def test_wrong_shape_scalar(
    faulty: tuple[Sandbox, httpx.Client], shape: WrongShape, body: object
) -> None:
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.WRONG_SHAPE, wrong_shapes=(shape,)))

    assert get_order(client, ORDER_OPEN).json() == body


def test_wrong_shape_missing_fields(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    shape = (WrongShape.MISSING_FIELDS,)
    sandbox.set_faults(malformed(FaultKind.WRONG_SHAPE, wrong_shapes=shape))

    order = get_order(client, ORDER_OPEN).json()
    listing = list_fulfillments(client, ORDER_PARTIAL).json()

    assert "items" not in order
    assert "_id" not in order
    assert order["altId"]
    assert "data" not in listing
    assert listing["status"] is True


def test_wrong_shape_ids_as_numbers(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.WRONG_SHAPE, wrong_shapes=(WrongShape.WRONG_TYPES,)))

    order = get_order(client, ORDER_OPEN).json()

    assert order["_id"] == 5
    assert {item["price"]["_id"] for item in order["items"]} == {5}


def test_extra_fields_keep_known_ones(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    whole = real_order(sandbox, client)
    sandbox.set_faults(malformed(FaultKind.EXTRA_FIELDS))

    order = get_order(client, ORDER_OPEN).json()

    assert without_extras(order) == whole
    assert "sandboxExtra" in order
    assert "sandboxExtra" in order["items"][0]["price"]


def without_extras(value: Any) -> Any:
    if isinstance(value, dict):
        extras = ("sandboxExtra", "futureFlag")
        return {key: without_extras(item) for key, item in value.items() if key not in extras}
    if isinstance(value, list):
        return [without_extras(item) for item in value]
    return value


@pytest.mark.parametrize("content_type", ["text/plain; charset=utf-8", ""])
def test_wrong_content_type(faulty: tuple[Sandbox, httpx.Client], content_type: str) -> None:
    sandbox, client = faulty
    whole = real_order(sandbox, client)
    # Each content type takes one half of the variant draws; the seeds pick each half.
    for seed in range(20):
        sandbox.set_faults(malformed(FaultKind.WRONG_CONTENT_TYPE, seed=seed))
        response = get_order(client, ORDER_OPEN)
        if response.headers.get("Content-Type", "") == content_type:
            break

    assert response.headers.get("Content-Type", "") == content_type
    assert response.json() == whole


def test_empty_body(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.EMPTY_BODY))

    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert response.status_code == 201
    assert response.content == b""
    assert len(sandbox.fulfillment_log()) == 1


def test_not_utf8_body(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.NOT_UTF8))

    response = get_order(client, ORDER_OPEN)

    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    assert json.loads(response.content.decode("latin-1"))["_id"] == ORDER_OPEN


# Bodies streamed


def test_huge_body_length_and_json(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    size = 3 * CHUNK_BYTES + 17
    sandbox.set_faults(malformed(FaultKind.HUGE_BODY, huge_body_bytes=size))

    response = get_order(client, ORDER_OPEN)

    assert "Content-Length" not in response.headers
    assert len(response.content) == size
    assert response.json()["body"]["_id"] == ORDER_OPEN


def test_huge_body_client_hangs_up(faulty: tuple[Sandbox, httpx.Client]) -> None:
    """A client that stops reading a 50 MB body leaves the sandbox serving the next request."""
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.HUGE_BODY))

    with client.stream("GET", f"/payments/orders/{ORDER_OPEN}", **_read_options()) as streamed:
        first = next(streamed.iter_bytes())
    sandbox.set_faults(FaultPlan())

    assert first.startswith(b'{"padding":"')
    assert get_order(client, ORDER_OPEN).status_code == 200


def _read_options() -> dict[str, Any]:
    return {"params": location_query(), "headers": headers()}


def test_slow_drip_never_finishes(faulty: tuple[Sandbox, httpx.Client]) -> None:
    """The body trickles in faster than a read timeout, and ends with the connection closed."""
    sandbox, _ = faulty
    plan = malformed(FaultKind.SLOW_DRIP, drip_interval_seconds=0.05, drip_seconds=0.4)
    sandbox.set_faults(plan)

    started = time.perf_counter()
    with open_client(sandbox, timeout=0.3) as client, pytest.raises(DROPPED):
        create_fulfillment(client, ORDER_OPEN, fulfillment_body())
    elapsed = time.perf_counter() - started

    assert elapsed >= 0.4
    assert len(sandbox.fulfillment_log()) == 1


def test_stop_ends_slow_drip(seed: SandboxSeed) -> None:
    sandbox = make_sandbox(seed, faults=malformed(FaultKind.SLOW_DRIP, drip_interval_seconds=0.05))
    sandbox.start()
    path = f"/payments/orders/{ORDER_OPEN}"
    with (
        open_client(sandbox, timeout=10.0) as client,
        client.stream("GET", path, **_read_options()) as stream,
    ):
        started = time.perf_counter()
        sandbox.stop()
        with pytest.raises(DROPPED):
            stream.read()

    assert time.perf_counter() - started < 2.0


# Choosing, scoping and targeting malformed responses


def test_malformed_kinds_drawn_from_plan(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    kinds = (FaultKind.EMPTY_BODY, FaultKind.TRUNCATED_JSON)
    sandbox.set_faults(FaultPlan(malformed_rate=1.0, malformed_kinds=kinds, seed=3))

    for _ in range(30):
        get_order(client, ORDER_OPEN)
    counts = sandbox.fault_counts()

    assert {kind for kind, count in counts.items() if count} == set(kinds)
    assert sum(counts.values()) == 30


def test_malformed_limited_to_creates(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    plan = malformed(FaultKind.EMPTY_BODY, malformed_scope=FaultScope.CREATE_FULFILLMENT)
    sandbox.set_faults(plan)

    order = get_order(client, ORDER_OPEN)
    created = create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert order.json()["_id"] == ORDER_OPEN
    assert created.content == b""


def test_target_limits_faults_to_one_order(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.EMPTY_BODY, target_contains=(ORDER_PARTIAL,)))

    other = get_order(client, ORDER_OPEN)
    targeted = get_order(client, ORDER_PARTIAL)

    assert other.json()["_id"] == ORDER_OPEN
    assert targeted.content == b""


def test_target_matches_query(faulty: tuple[Sandbox, httpx.Client]) -> None:
    sandbox, client = faulty
    sandbox.set_faults(malformed(FaultKind.EMPTY_BODY, target_contains=("altType=location",)))

    assert get_order(client, ORDER_OPEN).content == b""


def test_same_seed_same_malformed_kinds(seed: SandboxSeed) -> None:
    plan = FaultPlan(malformed_rate=0.6, error_rate=0.2, huge_body_bytes=100_000, seed=21)
    runs: list[list[str]] = []

    for _ in range(2):
        with make_sandbox(seed, faults=plan) as sandbox, open_client(sandbox, 0.2) as client:
            for _ in range(15):
                # A slow drip makes the client time out.
                with contextlib.suppress(httpx.ReadTimeout):
                    get_order(client, ORDER_OPEN)
            runs.append([fault.kind.value for fault in sandbox.fault_log()])

    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 3


# Plan checks and the sandbox command's options


@pytest.mark.parametrize(
    "settings",
    [
        {"malformed_rate": 1.5},
        {"malformed_rate": 0.5, "error_rate": 0.6},
        {"malformed_kinds": ()},
        {"malformed_kinds": (FaultKind.SERVER_ERROR,)},
        {"html_statuses": ()},
        {"html_statuses": (404,)},
        {"wrong_shapes": ()},
        {"huge_body_bytes": -1},
        {"drip_interval_seconds": 0.0},
        {"drip_seconds": float("inf")},
    ],
)
def test_invalid_malformed_plan_rejected(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FaultPlan(**settings)  # type: ignore[arg-type]


def test_options_malformed_rate_draws_all_kinds() -> None:
    plan = plan_from_options(malformed_rate="0.25")

    assert plan.malformed_rate == 0.25
    assert plan.malformed_kinds == MALFORMED_KINDS


def test_options_malformed_kinds_listed() -> None:
    plan = plan_from_options(malformed_rate="1", malformed="html-page, slow_drip,html_page")

    assert plan.malformed_kinds == (FaultKind.HTML_PAGE, FaultKind.SLOW_DRIP)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"malformed_rate": "lots"}, "--malformed-rate"),
        ({"malformed": "html_page,teapot"}, "--malformed"),
        ({"malformed": " , "}, "--malformed"),
        ({"malformed_rate": "0.6", "error_rate": "0.6"}, "--malformed-rate"),
    ],
)
def test_options_invalid_malformed_named(options: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        plan_from_options(**options)  # type: ignore[arg-type]


def test_sandbox_command_invalid_malformed_kind(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sandbox", "--malformed-rate", "0.1", "--malformed", "teapot"])

    assert code == 2
    assert "--malformed 'teapot' is invalid" in capsys.readouterr().err


def test_describe_names_malformed_kinds() -> None:
    plan = malformed(FaultKind.NOT_UTF8, seed=2)

    assert plan.describe() == "100% malformed responses (not_utf8), seed 2"
