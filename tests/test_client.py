"""Client rules checked through httpx's transport seam; the sandbox tests cover real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from importer.client import (
    ApiResponse,
    Credential,
    HighLevelClient,
    RateLimit,
    RetryPolicy,
    TransportFailure,
    _retry_after_seconds,
)
from importer.errors import AuthenticationError, DailyLimitError, InterruptedRunError, NoTokenError
from importer.response_body import excerpt, parse_body

ORDER = "65a1b2c3d4e5f60718293a4b"
LOCATION = "Xk7pQ2mLw9RtY4vB8nZc"
TOKEN = "pit-secret-token-value"
OTHER_LOCATION = "OtherLoc123456789012"
OK = httpx.Response(200, json={"status": True, "data": []})
FAST = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.002, max_rate_limit_waits=3)


def client_with(handler: Callable[[httpx.Request], httpx.Response]) -> HighLevelClient:
    return HighLevelClient(
        base_url="http://127.0.0.1:9",
        token=TOKEN,
        token_source="the GHL_TOKEN environment variable",
        rate_limit=RateLimit(max_requests=100, interval_seconds=1.0),
        retry=FAST,
        transport=httpx.MockTransport(handler),
    )


def sandbox_client(
    base_url: str, *, max_requests: int, interval_seconds: float, token: str = TOKEN
) -> HighLevelClient:
    """A client of a sandbox, configured for a burst limit that may differ from the sandbox's."""
    return HighLevelClient(
        base_url=base_url,
        token=token,
        token_source="the test",
        rate_limit=RateLimit(max_requests=max_requests, interval_seconds=interval_seconds),
        retry=RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.01),
    )


def run(
    coroutine_factory: Callable[[HighLevelClient], object],
    handler: Callable[[httpx.Request], httpx.Response],
) -> object:
    async def scenario() -> object:
        async with client_with(handler) as client:
            return await coroutine_factory(client)  # type: ignore[misc]

    return asyncio.run(scenario())


def test_headers_sent() -> None:
    """Every request carries the bearer token and the API version."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": True, "data": []})

    run(lambda client: client.list_fulfillments(ORDER, LOCATION), handler)
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen[0].headers["Version"] == "2021-07-28"
    assert seen[0].url.params["altId"] == LOCATION


def test_rate_limited_request_retried() -> None:
    """A 429 waits for Retry-After and sends the request again."""
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={})]
    )
    response = run(lambda client: client.get_order(ORDER, LOCATION), lambda request: next(answers))
    assert response.status_code == 200  # type: ignore[attr-defined]


def test_read_retried_after_server_error() -> None:
    """A read that meets a 503 is retried."""
    answers = iter([httpx.Response(503), httpx.Response(200, json={})])
    response = run(lambda client: client.get_order(ORDER, LOCATION), lambda request: next(answers))
    assert response.status_code == 200  # type: ignore[attr-defined]


def test_create_not_retried_after_server_error() -> None:
    """A create that meets a 503 is returned to the caller, who must check before resending."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503)

    run(lambda client: client.create_fulfillment(ORDER, LOCATION, {}), handler)
    assert len(calls) == 1


def test_create_without_answer_raises() -> None:
    """A create that gets no response raises a transport failure."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TransportFailure):
        run(lambda client: client.create_fulfillment(ORDER, LOCATION, {}), handler)


def test_unauthorized_names_source_not_token() -> None:
    """A 401 stops the run with the token's source and never its value."""
    body = {
        "statusCode": 401,
        "message": "Invalid token: access token is invalid",
        "error": "Unauthorized",
    }
    with pytest.raises(AuthenticationError) as raised:
        run(
            lambda client: client.get_order(ORDER, LOCATION),
            lambda request: httpx.Response(401, json=body),
        )
    assert "GHL_TOKEN environment variable" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_message_from_list_body() -> None:
    """A 422 message list is joined into one message."""
    body = {"statusCode": 422, "message": ["items must be an array", "altId should not be empty"]}
    response = run(
        lambda client: client.get_order(ORDER, LOCATION),
        lambda request: httpx.Response(422, json=body),
    )
    assert response.message == "items must be an array; altId should not be empty"  # type: ignore[attr-defined]


def test_trace_id_kept() -> None:
    """The traceId of the other error shape is kept for support requests."""
    body = {"status": 400, "message": "Bad request", "name": "HttpException", "traceId": "abc-123"}
    response = run(
        lambda client: client.get_order(ORDER, LOCATION),
        lambda request: httpx.Response(400, json=body),
    )
    assert response.trace_id == "abc-123"  # type: ignore[attr-defined]


def test_html_error_page_message_short() -> None:
    """An HTML error page becomes a short message instead of a crash."""
    page = "<html>" + "x" * 5000 + "</html>"
    response = run(
        lambda client: client.get_order(ORDER, LOCATION),
        lambda request: httpx.Response(502, text=page),
    )
    assert len(response.message) <= 300  # type: ignore[attr-defined]


def test_budget_shared_with_other_client_trips_no_limit() -> None:
    """Another client's requests, seen in the X-RateLimit headers, slow this one: no 429."""
    from importer.sandbox import Sandbox
    from tests.api_fixtures import LOCATION, OPEN_ORDER, TOKEN, test_seed

    with Sandbox(test_seed(), tokens={TOKEN: None}, max_requests=20, interval_seconds=2.0) as sb:
        headers = {"Authorization": f"Bearer {TOKEN}", "Version": "2021-07-28"}
        query = {"altId": LOCATION, "altType": "location"}
        for _ in range(12):  # the other client of the same app and location
            httpx.get(f"{sb.base_url}/payments/orders/{OPEN_ORDER}", params=query, headers=headers)

        async def scenario() -> None:
            client = sandbox_client(sb.base_url, max_requests=20, interval_seconds=2.0, token=TOKEN)
            async with client:
                for _ in range(12):
                    await client.get_order(OPEN_ORDER, LOCATION)

        asyncio.run(scenario())
        limited = [record for record in sb.request_log() if record.status == 429]

    assert limited == []


def test_location_token_sent_for_its_location() -> None:
    """A location with a token of its own is sent that token, the others the default one."""
    seen: dict[str, str] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.params["altId"]] = request.headers["Authorization"]
        return httpx.Response(200, json={"status": True, "data": []})

    async def scenario() -> None:
        client = HighLevelClient(
            base_url="http://127.0.0.1:9",
            token=TOKEN,
            token_source="the test",
            location_tokens={OTHER_LOCATION: Credential("pit-other-token", "the test")},
            transport=httpx.MockTransport(handler),
        )
        async with client:
            await client.list_fulfillments(ORDER, LOCATION)
            await client.list_fulfillments(ORDER, OTHER_LOCATION)

    asyncio.run(scenario())
    assert seen == {LOCATION: f"Bearer {TOKEN}", OTHER_LOCATION: "Bearer pit-other-token"}


def test_location_without_token_sends_nothing() -> None:
    """With no default token, a location that has none of its own is an error, not a request."""
    sent: list[httpx.Request] = []

    async def scenario() -> None:
        client = HighLevelClient(
            base_url="http://127.0.0.1:9",
            location_tokens={OTHER_LOCATION: Credential("pit-other-token", "the test")},
            transport=httpx.MockTransport(lambda request: sent.append(request) or OK),
        )
        async with client:
            await client.list_fulfillments(ORDER, LOCATION)

    with pytest.raises(NoTokenError, match=f"GHL_TOKEN_{LOCATION}"):
        asyncio.run(scenario())
    assert sent == []


def test_daily_limit_429_raises_at_once() -> None:
    """A 429 because the day's requests are used up is not waited out until midnight."""
    used_up = httpx.Response(
        429, headers={"Retry-After": "40000", "X-RateLimit-Daily-Remaining": "0"}
    )
    with pytest.raises(DailyLimitError, match=LOCATION):
        run(lambda client: client.get_order(ORDER, LOCATION), lambda request: used_up)


def test_no_request_once_day_used_up() -> None:
    """After a response reports no request left today, the next one is not sent."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={}, headers={"X-RateLimit-Daily-Remaining": "0"})

    async def scenario(client: HighLevelClient) -> None:
        await client.get_order(ORDER, LOCATION)
        await client.get_order(ORDER, LOCATION)

    with pytest.raises(DailyLimitError):
        run(scenario, handler)
    assert len(sent) == 1


def test_stopped_client_sends_nothing() -> None:
    sent: list[httpx.Request] = []

    async def scenario(client: HighLevelClient) -> None:
        client.stop()
        await client.get_order(ORDER, LOCATION)

    with pytest.raises(InterruptedRunError):
        run(scenario, lambda request: sent.append(request) or OK)
    assert sent == []


def test_retry_after_date_read() -> None:
    """Retry-After may be an HTTP date instead of seconds."""
    moment = datetime.now(UTC) + timedelta(seconds=30)
    response = ApiResponse(429, None, httpx.Headers({"Retry-After": format_datetime(moment)}))
    assert 25 < _retry_after_seconds(response) <= 30


def test_interval_learned_from_sandbox() -> None:
    """A server window shorter than the configured one lets the client go faster."""
    from importer.sandbox import Sandbox
    from tests.api_fixtures import OPEN_ORDER, test_seed

    with Sandbox(test_seed(), tokens={TOKEN: None}, max_requests=5, interval_seconds=0.4) as sb:

        async def scenario() -> float:
            client = sandbox_client(sb.base_url, max_requests=5, interval_seconds=10.0)
            started = time.monotonic()
            async with client:
                for _ in range(15):
                    await client.get_order(OPEN_ORDER, LOCATION)
            return time.monotonic() - started

        # With the configured 10 s window, 15 requests would take over 20 seconds.
        elapsed = asyncio.run(scenario())
    assert elapsed < 8


def test_rate_limited_request_waits_and_succeeds() -> None:
    """When another client has used the whole window, the 429 is waited out and retried."""
    from importer.sandbox import Sandbox
    from tests.api_fixtures import OPEN_ORDER, test_seed

    with Sandbox(test_seed(), tokens={TOKEN: None}, max_requests=3, interval_seconds=1.0) as sb:
        headers = {"Authorization": f"Bearer {TOKEN}", "Version": "2021-07-28"}
        query = {"altId": LOCATION, "altType": "location"}
        for _ in range(3):
            httpx.get(f"{sb.base_url}/payments/orders/{OPEN_ORDER}", params=query, headers=headers)

        async def scenario() -> int:
            client = sandbox_client(sb.base_url, max_requests=3, interval_seconds=1.0)
            async with client:
                return (await client.get_order(OPEN_ORDER, LOCATION)).status_code

        status = asyncio.run(scenario())
        statuses = [record.status for record in sb.request_log()]
    assert status == 200
    assert statuses[3:] == [429, 200]


def test_long_retry_after_not_waited() -> None:
    """A 429 that requests a wait of hours gives up on the location for today."""
    long_wait = httpx.Response(429, headers={"Retry-After": "40000"})
    with pytest.raises(DailyLimitError, match="wait 667 minutes"):
        run(lambda client: client.get_order(ORDER, LOCATION), lambda request: long_wait)


def test_stop_ends_wait_for_slot() -> None:
    """A request waiting out a 429 is not sent once the run is stopping."""
    answers = iter([httpx.Response(429, headers={"Retry-After": "60"}), OK])

    async def scenario(client: HighLevelClient) -> float:
        started = time.monotonic()
        asyncio.get_running_loop().call_later(0.2, client.stop)
        with pytest.raises(InterruptedRunError):
            await client.get_order(ORDER, LOCATION)
        return time.monotonic() - started

    elapsed = run(scenario, lambda request: next(answers))
    assert elapsed < 5  # type: ignore[operator]


# Malformed responses


def calls_to(
    answer: Callable[[], httpx.Response],
) -> tuple[list[int], Callable[..., httpx.Response]]:
    """Return a list that counts requests, and a handler that responds to each with `answer()`."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return answer()

    return calls, handler


def web_page(status: int) -> httpx.Response:
    page = (
        "<!DOCTYPE html><html><head><title>\n  502 Bad\tGateway &amp; more\x1b</title>"
        + "<style>"
        + "p{margin:0}" * 500
        + "</style></head><body>oops</body></html>"
    )
    return httpx.Response(status, text=page, headers={"Content-Type": "text/html"})


def test_html_page_message_gives_title() -> None:
    """An HTML page's message is its title on one line, with no markup or control characters."""
    response = run(lambda client: client.get_order(ORDER, LOCATION), lambda _: web_page(502))
    message = response.message  # type: ignore[attr-defined]
    assert '"502 Bad Gateway & more"' in message
    assert "<" not in message
    assert len(message) < 150


def test_json_message_control_characters_removed() -> None:
    body = {"statusCode": 400, "message": "bad\x1b[31m value\x00\u202e\nhere"}
    response = run(
        lambda client: client.get_order(ORDER, LOCATION),
        lambda _: httpx.Response(400, json=body),
    )
    assert response.message == "bad [31m value here"  # type: ignore[attr-defined]


def test_json_message_long_shortened() -> None:
    body = {"statusCode": 400, "message": "word " * 500}
    response = run(
        lambda client: client.get_order(ORDER, LOCATION),
        lambda _: httpx.Response(400, json=body),
    )
    assert len(response.message) <= 300  # type: ignore[attr-defined]


def test_read_retried_after_unreadable_success() -> None:
    """A read that gets a 200 HTML page is sent again, and the JSON that follows is used."""
    answers = iter([web_page(200), httpx.Response(200, json={"items": []})])
    calls, handler = calls_to(lambda: next(answers))
    response = run(lambda client: client.get_order(ORDER, LOCATION), handler)
    assert response.body == {"items": []}  # type: ignore[attr-defined]
    assert len(calls) == 2


def test_read_unreadable_after_retries_returned() -> None:
    """A read that stays unreadable comes back with its problem after the allowed attempts."""
    calls, handler = calls_to(lambda: httpx.Response(200, content=b'{"items": ['))
    response = run(lambda client: client.get_order(ORDER, LOCATION), handler)
    assert response.body is None  # type: ignore[attr-defined]
    assert "ends early" in response.problem  # type: ignore[attr-defined]
    assert len(calls) == FAST.max_attempts


def test_create_not_retried_after_unreadable_success() -> None:
    """A create that gets 201 with an empty body is returned at once: it was probably stored."""
    calls, handler = calls_to(lambda: httpx.Response(201))
    response = run(lambda client: client.create_fulfillment(ORDER, LOCATION, {}), handler)
    assert response.problem == "the response was empty"  # type: ignore[attr-defined]
    assert len(calls) == 1


def client_reading_at_most(max_bytes: int, answer: httpx.Response) -> HighLevelClient:
    return HighLevelClient(
        base_url="http://127.0.0.1:9",
        token=TOKEN,
        retry=FAST,
        max_response_bytes=max_bytes,
        transport=httpx.MockTransport(lambda _: answer),
    )


async def _chunks(count: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b" " * size


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(httpx.Response(201, content=b" " * 5000), id="declared-length"),
        pytest.param(httpx.Response(201, content=_chunks(10, 500)), id="chunked"),
    ],
)
def test_body_above_maximum_not_read(answer: httpx.Response) -> None:
    async def scenario() -> ApiResponse:
        async with client_reading_at_most(1000, answer) as client:
            return await client.create_fulfillment(ORDER, LOCATION, {})

    response = asyncio.run(scenario())
    assert response.status_code == 201
    assert response.body is None
    assert "larger than" in response.problem


def test_body_at_maximum_read() -> None:
    body = b'{"status":true}' + b" " * 985

    async def scenario() -> ApiResponse:
        async with client_reading_at_most(1000, httpx.Response(201, content=body)) as client:
            return await client.create_fulfillment(ORDER, LOCATION, {})

    assert asyncio.run(scenario()).body == {"status": True}


@pytest.mark.parametrize(
    ("content", "content_type", "problem"),
    [
        (b"", "application/json", "the response was empty"),
        (b" \r\n", "application/json", "the response was empty"),
        (b'{"data": {"_id": "ab', "application/json", "ends early"),
        (b'{"note": "caf\xe9"}', "application/json", "not valid UTF-8"),
        (b'{"totalCount": NaN}', "application/json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested too deeply"),
        (b"Service Unavailable\x07", "text/plain", '(it starts "Service Unavailable")'),
        (b"<html><body>no title</body></html>", "", "a web page instead of data"),
        (b"\xff<title>Caf\xe9</title>", "text/html; charset=latin-1", '("Caf\ufffd")'),
    ],
)
def test_unreadable_body_problem(content: bytes, content_type: str, problem: str) -> None:
    parsed = parse_body(content, content_type)
    assert parsed.value is None
    assert problem in parsed.problem


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"status": true}', "text/plain"),
        (b'{"status": true}', ""),
        (b'{"status": true}', "text/html"),
        (b'\xef\xbb\xbf{"status": true}', "application/json"),
        (b'{"status": true, "unknownField": [1, {"x": null}]}', "application/json"),
    ],
)
def test_json_read_whatever_content_type(content: bytes, content_type: str) -> None:
    assert parse_body(content, content_type).value["status"] is True


def test_excerpt_one_short_line() -> None:
    """Line breaks and invisible format characters become spaces, and a long text ends in "…"."""
    shortened = excerpt("first\nsecond\u200bthird " + "x" * 200, 30)
    assert shortened == "first second third xxxxxxxxxx…"


def sandbox_with_faults(plan: object) -> object:
    from importer.sandbox import Sandbox
    from tests.api_fixtures import test_seed

    return Sandbox(test_seed(), tokens={TOKEN: None}, faults=plan)  # type: ignore[arg-type]


def test_slow_drip_bounded_by_timeout() -> None:
    """A body that trickles in faster than any read timeout still ends at the request's timeout."""
    from importer.sandbox import FaultKind, FaultPlan
    from tests.api_fixtures import OPEN_ORDER

    plan = FaultPlan(
        malformed_rate=1.0, malformed_kinds=(FaultKind.SLOW_DRIP,), drip_interval_seconds=0.05
    )
    with sandbox_with_faults(plan) as sb:  # type: ignore[attr-defined]

        async def scenario() -> tuple[ApiResponse, float]:
            client = HighLevelClient(base_url=sb.base_url, token=TOKEN, timeout_seconds=0.5)
            started = time.monotonic()
            async with client:
                response = await client.create_fulfillment(OPEN_ORDER, LOCATION, {})
            return response, time.monotonic() - started

        response, elapsed = asyncio.run(scenario())
    assert response.status_code == 422
    assert "did not finish within 0.5 seconds" in response.problem
    assert elapsed < 2.0


def test_no_status_line_in_time_raises() -> None:
    """A create whose response has not started by the timeout raises a transport failure."""
    from importer.sandbox import FaultPlan
    from tests.api_fixtures import OPEN_ORDER

    plan = FaultPlan(timeout_rate=1.0, timeout_hold_seconds=2.0)
    with sandbox_with_faults(plan) as sb:  # type: ignore[attr-defined]

        async def scenario() -> None:
            client = HighLevelClient(base_url=sb.base_url, token=TOKEN, timeout_seconds=0.3)
            async with client:
                await client.create_fulfillment(OPEN_ORDER, LOCATION, {})

        with pytest.raises(TransportFailure, match="no response"):
            asyncio.run(scenario())
