"""Client rules checked through httpx's transport seam; the sandbox tests cover real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from importer.client import HighLevelClient, RateLimit, RetryPolicy, TransportFailure
from importer.errors import AuthenticationError

ORDER = "65a1b2c3d4e5f60718293a4b"
LOCATION = "Xk7pQ2mLw9RtY4vB8nZc"
TOKEN = "pit-secret-token-value"
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
    from importer.client import HighLevelClient, RateLimit
    from importer.sandbox import Sandbox
    from tests.api_fixtures import FAST_RETRY, LOCATION, OPEN_ORDER, TOKEN, test_seed

    with Sandbox(test_seed(), tokens={TOKEN: None}, max_requests=20, interval_seconds=2.0) as sb:
        headers = {"Authorization": f"Bearer {TOKEN}", "Version": "2021-07-28"}
        query = {"altId": LOCATION, "altType": "location"}
        for _ in range(12):  # the other client of the same app and location
            httpx.get(f"{sb.base_url}/payments/orders/{OPEN_ORDER}", params=query, headers=headers)

        async def scenario() -> None:
            client = HighLevelClient(
                base_url=sb.base_url,
                token=TOKEN,
                token_source="the test",
                rate_limit=RateLimit(max_requests=20, interval_seconds=2.0),
                retry=FAST_RETRY,
            )
            async with client:
                for _ in range(12):
                    await client.get_order(OPEN_ORDER, LOCATION)

        asyncio.run(scenario())
        limited = [record for record in sb.request_log() if record.status == 429]

    assert limited == []
