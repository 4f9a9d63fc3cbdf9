"""Orders and fulfillments of a running sandbox, shared by its request threads.

The store applies HighLevel's business rules for a new fulfillment: a canceled order
cannot be fulfilled, every price must be an item of the order, and no price can be
fulfilled beyond the quantity ordered. A request that breaks any rule stores nothing.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from importer.sandbox.seed import (
    SandboxSeed,
    SeedFulfillment,
    SeedItem,
    SeedOrder,
    SeedTracking,
    format_timestamp,
)


@dataclass(frozen=True)
class CreatedFulfillment:
    """A fulfillment created through the sandbox API, as tests inspect it afterwards.

    `body` is the request body as received and `created_at` equals the `createdAt`
    of the response.
    """

    order_id: str
    location_id: str
    token: str
    body: dict[str, Any]
    fulfillment_id: str
    created_at: str


class OrderNotFoundError(Exception):
    """The order does not exist, or it belongs to another location."""


class FulfillmentRejectedError(Exception):
    """A business rule rejected the fulfillment; `status` is the HTTP status to send."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message


@dataclass
class _OrderState:
    order: SeedOrder
    updated_at: str
    fulfillments: list[dict[str, Any]] = field(default_factory=list)
    fulfilled: Counter[str] = field(default_factory=Counter)


class SandboxStore:
    """Thread-safe orders, fulfillments and the log of fulfillments created.

    Every method returns copies, so callers cannot change the stored state.
    """

    def __init__(
        self, seed: SandboxSeed, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._lock = threading.Lock()
        self._now = now
        self._orders = {order.id: _seed_state(order) for order in seed.orders}
        self._log: list[CreatedFulfillment] = []

    def order(self, order_id: str, location_id: str) -> dict[str, Any]:
        """Return the order as GET /payments/orders/{orderId} does."""
        with self._lock:
            state = self._find(order_id, location_id)
            return _order_view(state)

    def search_orders(
        self, location_id: str, search: str, *, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Return one page of the location's orders whose name contains `search`, and the total.

        HighLevel's description states only that `search` is "the name of the
        order for searching"; the sandbox matches it anywhere in the name,
        ignoring case, which is the loosest reading and so the one that tests
        the importer's own exact matching best.
        """
        wanted = search.casefold()
        with self._lock:
            found = [
                state
                for state in self._orders.values()
                if state.order.location_id == location_id and wanted in state.order.name.casefold()
            ]
            found.sort(key=lambda state: state.order.created_at, reverse=True)
            page = found[offset : offset + limit]
            return [_order_summary(state) for state in page], len(found)

    def fulfillments(self, order_id: str, location_id: str) -> list[dict[str, Any]]:
        """Return the order's fulfillments, oldest first, seeded ones included."""
        with self._lock:
            state = self._find(order_id, location_id)
            return copy.deepcopy(state.fulfillments)

    def create_fulfillment(self, order_id: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        """Check the business rules, store the fulfillment and return it.

        `body` must already have passed the request validation. Raises
        OrderNotFoundError or FulfillmentRejectedError, and then stores nothing.
        """
        location_id: str = body["altId"]
        requested = _requested_quantities(body["items"])

        with self._lock:
            state = self._find(order_id, location_id)
            _check_fulfillable(state, requested)

            fulfillment_id = secrets.token_hex(12)
            created_at = format_timestamp(self._now())
            fulfillment = _new_fulfillment(state.order, body, fulfillment_id, created_at)

            state.fulfillments.append(fulfillment)
            state.fulfilled.update(requested)
            state.updated_at = created_at
            self._log.append(
                CreatedFulfillment(
                    order_id=order_id,
                    location_id=location_id,
                    token=token,
                    body=copy.deepcopy(body),
                    fulfillment_id=fulfillment_id,
                    created_at=created_at,
                )
            )
            return copy.deepcopy(fulfillment)

    def order_state(self, order_id: str) -> dict[str, Any]:
        """Return the order as GET returns it, whatever its location; KeyError if unknown."""
        with self._lock:
            return _order_view(self._orders[order_id])

    def fulfillment_log(self) -> list[CreatedFulfillment]:
        with self._lock:
            return list(self._log)

    def _find(self, order_id: str, location_id: str) -> _OrderState:
        state = self._orders.get(order_id)
        if state is None or state.order.location_id != location_id:
            raise OrderNotFoundError(order_id)
        return state


def _seed_state(order: SeedOrder) -> _OrderState:
    state = _OrderState(order=order, updated_at=order.created_at)

    for fulfillment in order.fulfillments:
        state.fulfillments.append(_seeded_fulfillment(order, fulfillment))
        for item in fulfillment.items:
            state.fulfilled[item.price_id] += item.qty
        state.updated_at = max(state.updated_at, fulfillment.created_at)

    return state


def _requested_quantities(items: list[dict[str, Any]]) -> Counter[str]:
    # A price listed twice in one request counts once with the quantities added up.
    requested: Counter[str] = Counter()
    for item in items:
        requested[item["priceId"]] += int(item["qty"])
    return requested


def _check_fulfillable(state: _OrderState, requested: Counter[str]) -> None:
    if state.order.status == "canceled":
        message = "This order is canceled and cannot be fulfilled."
        raise FulfillmentRejectedError(400, "BadRequestException", message)

    items = {item.price.id: item for item in state.order.items}
    unknown = [price_id for price_id in requested if price_id not in items]
    if unknown:
        message = " ".join(
            f"Price {price_id} is not an item of this order." for price_id in unknown
        )
        raise FulfillmentRejectedError(422, "UnprocessableEntityException", message)

    excess: list[str] = []
    for price_id, qty in requested.items():
        remaining = items[price_id].qty - state.fulfilled[price_id]
        if qty > remaining:
            excess.append(
                f"Cannot fulfill {qty} of {items[price_id].name} (price {price_id}): "
                f"only {remaining} of {items[price_id].qty} remain unfulfilled."
            )
    if excess:
        raise FulfillmentRejectedError(422, "UnprocessableEntityException", " ".join(excess))


def _new_fulfillment(
    order: SeedOrder, body: dict[str, Any], fulfillment_id: str, created_at: str
) -> dict[str, Any]:
    items = {item.price.id: item for item in order.items}
    return {
        "_id": fulfillment_id,
        "altId": order.location_id,
        "altType": "location",
        "trackings": copy.deepcopy(body["trackings"]),
        "items": [
            _fulfilled_item(items[entry["priceId"]], int(entry["qty"])) for entry in body["items"]
        ],
        "createdAt": created_at,
        "updatedAt": created_at,
    }


def _seeded_fulfillment(order: SeedOrder, fulfillment: SeedFulfillment) -> dict[str, Any]:
    items = {item.price.id: item for item in order.items}
    return {
        "_id": fulfillment.id,
        "altId": order.location_id,
        "altType": "location",
        "trackings": [_tracking_view(tracking) for tracking in fulfillment.trackings],
        "items": [_fulfilled_item(items[entry.price_id], entry.qty) for entry in fulfillment.items],
        "createdAt": fulfillment.created_at,
        "updatedAt": fulfillment.created_at,
    }


def _fulfilled_item(item: SeedItem, qty: int) -> dict[str, Any]:
    return {
        "_id": item.price.id,
        "name": item.name,
        "product": _product_view(item),
        "price": _price_view(item),
        "qty": qty,
    }


def _order_view(state: _OrderState) -> dict[str, Any]:
    order = state.order
    return {
        **_order_fields(state),
        "contactSnapshot": {"name": order.contact_name, "email": order.contact_email},
        "items": [_item_view(item) for item in order.items],
    }


def _order_summary(state: _OrderState) -> dict[str, Any]:
    """Return the order as List Orders shows it: no items, the contact by name."""
    order = state.order
    return {
        **_order_fields(state),
        "contactName": order.contact_name,
        "contactEmail": order.contact_email,
        "totalProducts": len(order.items),
    }


def _order_fields(state: _OrderState) -> dict[str, Any]:
    """Return the fields that the order and the list of orders show alike."""
    order = state.order
    return {
        "_id": order.id,
        "altId": order.location_id,
        "altType": "location",
        "name": order.name,
        "status": order.status,
        "fulfillmentStatus": _fulfillment_status(state),
        "currency": order.currency,
        "amount": order.amount,
        "createdAt": order.created_at,
        "updatedAt": state.updated_at,
    }


def _fulfillment_status(state: _OrderState) -> str:
    ordered = sum(item.qty for item in state.order.items)
    fulfilled = sum(state.fulfilled.values())
    if fulfilled == 0:
        return "unfulfilled"
    if fulfilled < ordered:
        return "partially_fulfilled"
    return "fulfilled"


def _item_view(item: SeedItem) -> dict[str, Any]:
    return {
        "_id": item.id,
        "name": item.name,
        "qty": item.qty,
        "price": _price_view(item),
        "product": _product_view(item),
    }


def _price_view(item: SeedItem) -> dict[str, Any]:
    price: dict[str, Any] = {"_id": item.price.id, "name": item.price.name}
    if item.price.sku is not None:
        price["sku"] = item.price.sku
    price["amount"] = item.price.amount
    price["currency"] = item.price.currency
    return price


def _product_view(item: SeedItem) -> dict[str, Any]:
    return {"_id": item.product.id, "name": item.product.name}


def _tracking_view(tracking: SeedTracking) -> dict[str, str]:
    view = {"trackingNumber": tracking.number}
    if tracking.carrier is not None:
        view["shippingCarrier"] = tracking.carrier
    if tracking.url is not None:
        view["trackingUrl"] = tracking.url
    return view
