"""Send one fulfillment to HighLevel, making sure a lost response never sends it twice.

When a create request gets no response, or a server error, HighLevel may still
have stored the fulfillment. Before sending again, the order's fulfillments
are read back: a fulfillment that carries all of this request's tracking
numbers and was not there before the first attempt means the request went
through.

A success status whose body gives no fulfillment ID (an HTML page, JSON cut
off, a body too large or too slow) means the fulfillment was most likely
stored. It is read back too, but never sent again in this run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from importer.client import ApiResponse, HighLevelClient, RetryPolicy, TransportFailure
from importer.errors import ApiUnavailableError, DailyLimitError, InterruptedRunError
from importer.ledger import Claim, ClaimResult, FulfillmentState, Ledger, OrderLine, Package
from importer.records import ErrorKind, OrderStatus
from importer.resolve import (
    ExistingFulfillment,
    UnreadableResponse,
    parse_fulfillments,
    response_kind,
)
from importer.validate import CreateFulfillment

logger = logging.getLogger(__name__)


# How long an order that another import is sending is waited for, before this
# run gives up on it for now.
BUSY_WAIT_SECONDS = 60.0
_BUSY_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class LedgerRun:
    """The ledger and this run's place in it, for one input file."""

    ledger: Ledger
    run_id: int
    file_id: int | None = None


@dataclass
class Submission:
    """The outcome of sending one order."""

    status: OrderStatus
    fulfillment_id: str = ""
    http_status: int | None = None
    message: str = ""
    trace_id: str = ""
    kind: ErrorKind | None = None  # why it was not created; None when it was, or was skipped


async def send_once(
    client: HighLevelClient,
    ledger_run: LedgerRun,
    package: Package,
    request: CreateFulfillment,
    *,
    existing: list[ExistingFulfillment],
    retry: RetryPolicy,
    force: bool,
    order_lines: Sequence[OrderLine] = (),
) -> Submission:
    """Claim the package in the ledger, send it, and record HighLevel's response.

    A package that the ledger shows created is not sent (unless `force`), and
    one that another import is sending is waited for, then left to it.
    """
    claim = await _claim(ledger_run, package, force=force, order_lines=order_lines)
    if claim.result is ClaimResult.CREATED and claim.entry is not None:
        return Submission(
            OrderStatus.SKIPPED,
            fulfillment_id=claim.entry.fulfillment_id,
            message=f"already created on {claim.entry.date} (fulfillment "
            f"{claim.entry.fulfillment_id}) by import run {claim.entry.run_id}",
        )
    if claim.result is ClaimResult.BUSY and claim.entry is not None:
        return Submission(
            OrderStatus.FAILED,
            message=f"another import (run {claim.entry.run_id}) is still sending this order; "
            "run the file again later: it will not be sent twice",
            kind=ErrorKind.BUSY,
        )

    submission = await submit_order(
        client, package.order_id, request, existing=existing, retry=retry
    )
    state = {
        OrderStatus.CREATED: FulfillmentState.CREATED,
        OrderStatus.DEFERRED: FulfillmentState.DEFERRED,
    }.get(submission.status, FulfillmentState.FAILED)
    if force and submission.status is OrderStatus.CREATED:
        submission.message = "created again on purpose (--force)"
    ledger_run.ledger.record_outcome(
        package,
        state,
        run_id=ledger_run.run_id,
        file_id=ledger_run.file_id,
        fulfillment_id=submission.fulfillment_id,
        http_status=submission.http_status,
        message=submission.message,
    )
    return submission


async def _claim(
    ledger_run: LedgerRun, package: Package, *, force: bool, order_lines: Sequence[OrderLine]
) -> Claim:
    started = time.monotonic()
    while True:
        claim = ledger_run.ledger.claim(
            package,
            run_id=ledger_run.run_id,
            file_id=ledger_run.file_id,
            force=force,
            order_items=order_lines,
        )
        waited = time.monotonic() - started
        if claim.result is not ClaimResult.BUSY or waited > BUSY_WAIT_SECONDS:
            return claim
        await asyncio.sleep(_BUSY_POLL_SECONDS)


async def submit_order(
    client: HighLevelClient,
    order_id: str,
    request: CreateFulfillment,
    *,
    existing: list[ExistingFulfillment],
    retry: RetryPolicy,
) -> Submission:
    """Create the fulfillment, retrying only after checking that no earlier attempt stored it."""
    body = request.to_json()
    known_ids = {fulfillment.fulfillment_id for fulfillment in existing}
    tracking_numbers = {tracking.trackingNumber.upper() for tracking in request.trackings}
    last_problem = ""

    for attempt in range(1, retry.max_attempts + 1):
        if attempt > 1:
            stored = await _find_stored(
                client, order_id, request.altId, tracking_numbers, known_ids
            )
            if stored is None:
                return _unknown_outcome(last_problem)
            if stored:
                return Submission(
                    OrderStatus.CREATED,
                    fulfillment_id=stored,
                    message=f"created; confirmed by reading the order back after {last_problem}",
                )

        try:
            response = await client.create_fulfillment(order_id, request.altId, body)
        except (InterruptedRunError, DailyLimitError) as error:
            if attempt > 1:
                raise  # an earlier attempt may have been stored: the ledger keeps it "sending"
            return Submission(
                OrderStatus.DEFERRED, message=deferred_message(error), kind=deferred_kind(error)
            )
        except TransportFailure as error:
            last_problem = str(error)
            logger.info("order %s: %s (attempt %d)", order_id, error, attempt)
            continue

        if response.status_code >= 500:
            last_problem = f"HTTP {response.status_code} from HighLevel"
            if response.problem:
                last_problem += f" ({response.problem})"
            logger.info("order %s: %s (attempt %d)", order_id, last_problem, attempt)
            continue
        if response.ok and not created_id(response.body):
            return await _confirm_unreadable_success(
                client, order_id, request.altId, tracking_numbers, known_ids, response
            )
        return _outcome(response)

    # NOTE: the last attempt is not read back. A fulfillment that it stored despite
    # the error is reported as not created, and the next run finds and skips it.
    return Submission(
        OrderStatus.FAILED,
        message=f"not created after {retry.max_attempts} attempts; last problem: {last_problem}",
        kind=ErrorKind.UNAVAILABLE,
    )


def deferred_message(error: InterruptedRunError | DailyLimitError) -> str:
    """Say why an order was not sent in this run, and that the next run sends it."""
    if isinstance(error, DailyLimitError):
        return (
            f"not sent today: {error} Run the file again after midnight UTC; it sends only "
            "what is still missing"
        )
    return "not sent: the run stopped before this order; run the file again to send it"


def deferred_kind(error: InterruptedRunError | DailyLimitError) -> ErrorKind:
    if isinstance(error, DailyLimitError):
        return ErrorKind.DAILY_LIMIT
    return ErrorKind.STOPPED


def created_id(body: Any) -> str:
    """Return the new fulfillment's ID from a create response, or "" when it has none as text."""
    data = body.get("data") if isinstance(body, dict) else None
    fulfillment_id = data.get("_id") if isinstance(data, dict) else None
    if isinstance(fulfillment_id, str) and fulfillment_id.strip():
        return fulfillment_id
    return ""


async def _confirm_unreadable_success(
    client: HighLevelClient,
    order_id: str,
    location_id: str,
    tracking_numbers: set[str],
    known_ids: set[str],
    response: ApiResponse,
) -> Submission:
    """Look for the fulfillment that a success with an unreadable body most likely stored.

    Whatever the order shows, the request is not sent again: HighLevel
    accepted it, and a fulfillment not listed yet may still appear. The next
    run reads the order first and sends only what is still missing.

    NOTE: whether HighLevel lists a fulfillment at once after storing it is not
    documented. The sandbox does, so a test cannot show a late listing.
    """
    status = response.status_code
    reason = response.problem or "the response had no fulfillment ID"
    stored = await _find_stored(client, order_id, location_id, tracking_numbers, known_ids)
    if stored:
        return Submission(
            OrderStatus.CREATED,
            fulfillment_id=stored,
            http_status=status,
            message=f"created; confirmed by reading the order back, because HighLevel responded "
            f"with HTTP {status} but {reason}",
        )

    if stored is None:
        checked = "reading the order back to check failed"
    else:
        checked = "the order shows no new fulfillment with these tracking numbers yet"
    logger.warning("order %s: HTTP %d but %s, and %s", order_id, status, reason, checked)
    return Submission(
        OrderStatus.FAILED,
        http_status=status,
        message=f"HighLevel responded with HTTP {status} but {reason}, and {checked}; "
        "not sent again, so that it cannot be created twice",
        kind=ErrorKind.UNCERTAIN,
    )


def _outcome(response: ApiResponse) -> Submission:
    if response.ok:
        return Submission(
            OrderStatus.CREATED,
            fulfillment_id=created_id(response.body),
            http_status=response.status_code,
        )
    return Submission(
        OrderStatus.FAILED,
        http_status=response.status_code,
        message=response.message,
        trace_id=response.trace_id,
        kind=response_kind(response.status_code),
    )


async def _find_stored(
    client: HighLevelClient,
    order_id: str,
    location_id: str,
    tracking_numbers: set[str],
    known_ids: set[str],
) -> str | None:
    """Return the id of a new fulfillment with these trackings, "" if none, None if unknown."""
    try:
        listing = await client.list_fulfillments(order_id, location_id)
    except ApiUnavailableError:
        return None
    if not listing.ok:
        return None
    try:
        fulfillments = parse_fulfillments(listing.body)
    except UnreadableResponse:
        return None

    for fulfillment in fulfillments:
        is_new = fulfillment.fulfillment_id not in known_ids
        if is_new and tracking_numbers <= fulfillment.tracking_numbers:
            return fulfillment.fulfillment_id
    return ""


def _unknown_outcome(last_problem: str) -> Submission:
    return Submission(
        OrderStatus.FAILED,
        message=(
            f"{last_problem}, and HighLevel could not be asked whether the fulfillment was "
            "stored. Running the file again is safe: orders already fulfilled with these "
            "tracking numbers are skipped."
        ),
        kind=ErrorKind.UNCERTAIN,
    )
