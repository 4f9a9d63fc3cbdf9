"""Send one fulfillment to HighLevel, making sure a lost response never sends it twice.

When a create request gets no response, or a server error, HighLevel may still
have stored the fulfillment. Before sending again, the order's fulfillments
are read back: a fulfillment that carries all of this request's tracking
numbers and was not there before the first attempt means the request went
through.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from importer.client import ApiResponse, HighLevelClient, RetryPolicy, TransportFailure
from importer.errors import ApiUnavailableError
from importer.records import OrderStatus
from importer.resolve import ExistingFulfillment, UnreadableResponse, parse_fulfillments
from importer.validate import CreateFulfillment

logger = logging.getLogger(__name__)


@dataclass
class Submission:
    """The outcome of sending one order."""

    status: OrderStatus
    fulfillment_id: str = ""
    http_status: int | None = None
    message: str = ""
    trace_id: str = ""


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
        except TransportFailure as error:
            last_problem = str(error)
            logger.warning("order %s: %s (attempt %d)", order_id, error, attempt)
            continue

        if response.status_code >= 500:
            last_problem = f"HTTP {response.status_code} from HighLevel"
            logger.warning("order %s: %s (attempt %d)", order_id, last_problem, attempt)
            continue
        return _outcome(response)

    return Submission(
        OrderStatus.FAILED,
        message=f"not created after {retry.max_attempts} attempts; last problem: {last_problem}",
    )


def _outcome(response: ApiResponse) -> Submission:
    if response.ok:
        data = response.body.get("data") if isinstance(response.body, dict) else None
        fulfillment_id = str(data.get("_id", "")) if isinstance(data, dict) else ""
        message = (
            "" if fulfillment_id else "created, but HighLevel's response had no fulfillment ID"
        )
        return Submission(
            OrderStatus.CREATED,
            fulfillment_id=fulfillment_id,
            http_status=response.status_code,
            message=message,
        )
    return Submission(
        OrderStatus.FAILED,
        http_status=response.status_code,
        message=response.message,
        trace_id=response.trace_id,
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
    )
