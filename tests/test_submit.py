"""Submission against the real sandbox, with responses lost on the way back.

A transport that wraps the real HTTP transport makes the faults. It lets a
request reach the sandbox (or not) and then drops or replaces the response,
which is what a timeout or a proxy's 503 looks like to the client.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from importer.records import ErrorKind, OrderStatus
from importer.sandbox import FaultKind, FaultPlan, FaultScope, Sandbox
from importer.submit import Submission, created_id, submit_order
from importer.validate import CreateFulfillment, FulfillmentItem, FulfillmentTracking
from tests.api_fixtures import FAST_RETRY, LOCATION, OPEN_ORDER, TEE, make_client, sandbox

__all__ = ["sandbox"]


class LosingTransport(httpx.AsyncBaseTransport):
    """Loses the first `failures` create requests: before or after they reach the server."""

    def __init__(self, *, failures: int, reach_server: bool, answer_status: int | None = None):
        self._real = httpx.AsyncHTTPTransport()
        self._failures = failures
        self._reach_server = reach_server
        self._answer_status = answer_status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or self._failures == 0:
            return await self._real.handle_async_request(request)

        self._failures -= 1
        if self._reach_server:
            response = await self._real.handle_async_request(request)
            await response.aread()
        if self._answer_status is not None:
            return httpx.Response(self._answer_status, text="Service Unavailable")
        raise httpx.ReadTimeout("timed out", request=request)

    async def aclose(self) -> None:
        await self._real.aclose()


def request() -> CreateFulfillment:
    return CreateFulfillment(
        altId=LOCATION,
        trackings=[FulfillmentTracking(trackingNumber="986578788855", shippingCarrier="FedEx")],
        items=[FulfillmentItem(priceId=TEE, qty=1)],
        notifyCustomer=False,
    )


def submit(sandbox: Sandbox, transport: httpx.AsyncBaseTransport | None = None) -> Submission:
    async def scenario() -> Submission:
        async with make_client(sandbox, transport=transport) as client:
            return await submit_order(client, OPEN_ORDER, request(), existing=[], retry=FAST_RETRY)

    return asyncio.run(scenario())


def test_created_with_fulfillment_id(sandbox: Sandbox) -> None:
    """A plain create returns the new fulfillment's ID, as stored by the server."""
    submission = submit(sandbox)
    assert submission.status is OrderStatus.CREATED
    assert submission.fulfillment_id == sandbox.fulfillment_log()[0].fulfillment_id


def test_lost_answer_not_sent_twice(sandbox: Sandbox) -> None:
    """A create whose response was lost after it was stored is confirmed, not resent."""
    submission = submit(sandbox, LosingTransport(failures=1, reach_server=True))
    assert submission.status is OrderStatus.CREATED
    assert len(sandbox.fulfillment_log()) == 1


def test_server_error_after_store_not_sent_twice(sandbox: Sandbox) -> None:
    """A 503 from a proxy after the server stored the request does not lead to a second one."""
    transport = LosingTransport(failures=1, reach_server=True, answer_status=503)
    submission = submit(sandbox, transport)
    assert submission.status is OrderStatus.CREATED
    assert len(sandbox.fulfillment_log()) == 1


def test_lost_request_sent_again(sandbox: Sandbox) -> None:
    """A create that never reached the server is sent again and stored once."""
    submission = submit(sandbox, LosingTransport(failures=1, reach_server=False))
    assert submission.status is OrderStatus.CREATED
    assert len(sandbox.fulfillment_log()) == 1


def test_gives_up_after_attempts(sandbox: Sandbox) -> None:
    """A create that never gets through fails after the allowed attempts, saying why."""
    submission = submit(sandbox, LosingTransport(failures=10, reach_server=False))
    assert submission.status is OrderStatus.FAILED
    assert "not created after 3 attempts" in submission.message
    assert sandbox.fulfillment_log() == []


def test_api_refusal_recorded(sandbox: Sandbox) -> None:
    """A 422 from the API fails the order with the API's own message."""
    too_many = request().model_copy(update={"items": [FulfillmentItem(priceId=TEE, qty=5)]})

    async def scenario() -> Submission:
        async with make_client(sandbox) as client:
            return await submit_order(client, OPEN_ORDER, too_many, existing=[], retry=FAST_RETRY)

    submission = asyncio.run(scenario())
    assert submission.status is OrderStatus.FAILED
    assert submission.http_status == 422
    assert submission.trace_id != ""


# Success statuses whose body cannot be read


def garble(sandbox: Sandbox, kind: FaultKind, scope: FaultScope) -> None:
    sandbox.set_faults(
        FaultPlan(malformed_rate=1.0, malformed_kinds=(kind,), malformed_scope=scope)
    )


def creates_sent(sandbox: Sandbox) -> int:
    return sum(1 for fault in sandbox.fault_log() if fault.method == "POST")


def test_unreadable_success_confirmed(sandbox: Sandbox) -> None:
    """A 201 with a cut-off body is confirmed by reading the order back, and not sent again."""
    garble(sandbox, FaultKind.TRUNCATED_JSON, FaultScope.CREATE_FULFILLMENT)

    submission = submit(sandbox)

    assert submission.status is OrderStatus.CREATED
    assert submission.fulfillment_id == sandbox.fulfillment_log()[0].fulfillment_id
    assert creates_sent(sandbox) == 1


def test_unreadable_success_unconfirmed_not_resent(sandbox: Sandbox) -> None:
    """When reading back fails too, the order is uncertain and the create is not sent again."""
    garble(sandbox, FaultKind.EMPTY_BODY, FaultScope.EVERY_REQUEST)

    submission = submit(sandbox)

    assert submission.status is OrderStatus.FAILED
    assert submission.kind is ErrorKind.UNCERTAIN
    assert submission.http_status == 201
    assert len(sandbox.fulfillment_log()) == 1
    assert creates_sent(sandbox) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"status": True, "data": {"_id": "6650a1b2c3d4e5f601000aaa"}}, "6650a1b2c3d4e5f601000aaa"),
        ({"status": True, "data": {"_id": 5}}, ""),
        ({"status": True, "data": {"_id": "  "}}, ""),
        ({"status": True}, ""),
        ([{"data": {"_id": "6650a1b2c3d4e5f601000aaa"}}], ""),
        (None, ""),
    ],
)
def test_created_id_only_text(body: object, expected: str) -> None:
    assert created_id(body) == expected
