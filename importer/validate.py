"""Check each order against the shape of HighLevel's create-fulfillment request.

The pydantic models mirror CreateFulfillmentDto of the HighLevel Payments API
(POST /payments/orders/{orderId}/fulfillments). Each problem found carries the
input rows and column it came from, and rejects its order, not the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from importer.group import OrderGroup
from importer.group.columns import OrderList
from importer.mapping import ColumnMapping
from importer.normalize import MAX_CARRIER, MAX_TRACKING_NUMBER, MAX_TRACKING_URL, shorten
from importer.records import Item, Problem


class FulfillmentTracking(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    trackingNumber: str = Field(min_length=1, max_length=MAX_TRACKING_NUMBER, pattern=r"^\S+$")
    shippingCarrier: str | None = Field(default=None, max_length=MAX_CARRIER)
    trackingUrl: str | None = Field(default=None, max_length=MAX_TRACKING_URL)


class FulfillmentItem(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    priceId: str = Field(min_length=1, pattern=r"^\S+$")
    qty: int = Field(ge=1)


class CreateFulfillment(BaseModel):
    """The body of a create-fulfillment request."""

    model_config = ConfigDict(extra="forbid", strict=True)

    altId: str = Field(min_length=1)
    altType: Literal["location"] = "location"
    trackings: list[FulfillmentTracking] = Field(min_length=1)
    items: list[FulfillmentItem] = Field(min_length=1)
    notifyCustomer: bool

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", exclude_none=True)


def check_orders(
    orders: Sequence[OrderGroup], mapping: ColumnMapping, *, require_location: bool = True
) -> None:
    """Add to each order what check_order finds wrong with it.

    Orders grouped a column at a time are looked at only where something can
    be wrong (see OrderList.indexes_to_check).
    """
    if isinstance(orders, OrderList):
        indexes: Iterable[int] = orders.indexes_to_check(require_location=require_location)
    else:
        indexes = range(len(orders))
    for index in indexes:
        order = orders[int(index)]
        order.problems.extend(check_order(order, mapping, require_location=require_location))


def count_valid(orders: Sequence[OrderGroup]) -> int:
    """Count the orders without errors, after check_orders."""
    if isinstance(orders, OrderList):
        return len(orders) - orders.count_with_errors()
    return sum(1 for order in orders if not order.has_errors)


def check_order(
    order: OrderGroup, mapping: ColumnMapping, *, require_location: bool = True
) -> list[Problem]:
    """List what keeps an order from becoming a valid request before items are resolved.

    A dry run without a location passes `require_location=False`: the file can
    still be checked, and the location is needed only to send.
    """
    problems: list[Problem] = []
    if require_location and not order.location_id:
        problems.append(
            Problem(
                "no location (sub-account) ID is set for this order: fill in its location ID "
                "cell, or set the run's location with --location-id or GHL_LOCATION_ID",
                tuple(order.rows),
                mapping.header_of("location_id"),
            )
        )
    if not order.trackings and not order.has_errors:
        problems.append(Problem("no tracking number is given for this order", tuple(order.rows)))
    problems.extend(_rows_without_item(order, mapping))

    for tracking in order.trackings:
        problems.extend(
            _check_tracking(tracking.number, tracking.carrier, tracking.url, order, mapping)
        )
    return problems


def _rows_without_item(order: OrderGroup, mapping: ColumnMapping) -> list[Problem]:
    """Report rows that name no item in an order whose other rows do.

    Such a row cannot mean "the whole order" while other rows name their
    items, and sending only the items named would leave out what it ships.
    """
    if not order.items:
        return []
    with_item = {row for rows in order.item_rows.values() for row in rows}
    without = tuple(row for row in order.rows if row not in with_item)
    if not without:
        return []
    return [
        Problem(
            "this row names no item, but other rows of the order do, so what it ships is "
            "unknown; fill in its SKU or price ID, or leave the item cells of every row of the "
            "order empty to fulfill all of it",
            without,
            mapping.header_of("sku") or mapping.header_of("price_id"),
        )
    ]


def _check_tracking(
    number: str, carrier: str, url: str, order: OrderGroup, mapping: ColumnMapping
) -> list[Problem]:
    # normalize_row rejects values over these limits first, in its own words, so
    # this check is a last guard and its messages are the library's.
    try:
        FulfillmentTracking(
            trackingNumber=number, shippingCarrier=carrier or None, trackingUrl=url or None
        )
    except ValidationError as error:
        return [
            Problem(
                f"tracking {shorten(number)!r}: {detail['msg']}",
                tuple(order.rows),
                mapping.header_of(_TRACKING_FIELDS.get(str(detail["loc"][0]), "tracking_number")),
            )
            for detail in error.errors()
        ]
    return []


_TRACKING_FIELDS = {
    "trackingNumber": "tracking_number",
    "shippingCarrier": "carrier",
    "trackingUrl": "tracking_url",
}


def build_request(
    order: OrderGroup, items: list[Item], *, notify_customer: bool
) -> CreateFulfillment | Problem:
    """Build the request body for an order whose items have price IDs."""
    try:
        return CreateFulfillment(
            altId=order.location_id,
            trackings=[
                FulfillmentTracking(
                    trackingNumber=tracking.number,
                    shippingCarrier=tracking.carrier or None,
                    trackingUrl=tracking.url or None,
                )
                for tracking in order.trackings
            ],
            items=[FulfillmentItem(priceId=item.price_id, qty=item.qty) for item in items],
            notifyCustomer=notify_customer,
        )
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
            for detail in error.errors()
        )
        return Problem(f"the request for this order is invalid: {details}", tuple(order.rows))
