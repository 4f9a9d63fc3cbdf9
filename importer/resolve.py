"""Check each order's items against the order as HighLevel has it.

Items named by SKU get their price IDs from the order. An order whose rows
name no item fulfills every item of the order, but only when nothing of it
has been fulfilled yet. Quantities above what remains are rejected. The
fulfillments already on the order also tell which packages were sent by an
earlier run, so that running a file twice sends nothing twice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from importer.client import ApiResponse, HighLevelClient
from importer.group import OrderGroup
from importer.ledger import OrderLine
from importer.mapping import ColumnMapping
from importer.records import ErrorKind, Item, OrderStatus, Problem
from importer.response_body import excerpt


@dataclass(frozen=True)
class OrderItem:
    """An item of the order in HighLevel, with what is left to fulfill."""

    price_id: str
    sku: str
    name: str
    ordered: int
    fulfilled: int

    @property
    def remaining(self) -> int:
        return max(self.ordered - self.fulfilled, 0)

    @property
    def label(self) -> str:
        return f"SKU {self.sku}" if self.sku else f"price ID {self.price_id}"


@dataclass(frozen=True)
class ExistingFulfillment:
    """A fulfillment already on the order in HighLevel."""

    fulfillment_id: str
    created_at: str
    tracking_numbers: frozenset[str]  # upper case
    quantities: dict[str, int]  # price ID -> fulfilled quantity


@dataclass
class Resolution:
    """The outcome of resolving one order: ready to send, or a final status with why."""

    status: OrderStatus
    items: list[Item] = field(default_factory=list)
    existing: list[ExistingFulfillment] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    message: str = ""
    fulfillment_id: str = ""
    response: ApiResponse | None = None
    # When some of the order's tracking numbers were sent before: the new ones.
    new_trackings: frozenset[str] = frozenset()
    earlier: str = ""  # the earlier fulfillments, as "ID of DATE, ..."
    # The order's items as HighLevel listed them, for the ledger to keep.
    order_lines: list[OrderLine] = field(default_factory=list)
    kind: ErrorKind | None = None  # why the order is not ready; None when it is, or is skipped
    # The order's status as HighLevel gave it ("completed", "canceled"); "" when it was not read.
    order_status: str = ""


class UnreadableResponse(Exception):
    """HighLevel's response did not have the expected shape."""


# NOTE: HighLevel documents the order status only by the example "completed";
# "canceled" is the sandbox's word, and "cancelled" is accepted as well.
CANCELED_STATUSES = frozenset({"canceled", "cancelled"})


def response_kind(status_code: int) -> ErrorKind:
    """Return the kind of failure that an error status from HighLevel means."""
    if status_code in (401, 403):
        return ErrorKind.ACCESS
    # 408 and 429 mean "not now", as server errors do, so the same request may work later.
    if status_code in (408, 429) or status_code >= 500:
        return ErrorKind.UNAVAILABLE
    return ErrorKind.API_REJECTED


async def resolve_order(
    client: HighLevelClient,
    order: OrderGroup,
    mapping: ColumnMapping,
    known: Sequence[OrderLine] | None = None,
) -> Resolution:
    """Read the order and its fulfillments, and decide what to send.

    `known` are the order's items as an earlier run read them. When every
    row names its item by price ID, they stand in for reading the order
    again: an order's items do not change once it is placed, and the
    fulfillments, which do, are always read.
    """
    listing = await client.list_fulfillments(order.order_id, order.location_id)
    if not listing.ok:
        return _read_failure(listing, order, mapping)
    try:
        existing = parse_fulfillments(listing.body)
    except UnreadableResponse as error:
        return _unreadable(error, listing)

    already = _already_sent(order, existing)
    if already is not None:
        already.existing = existing
        return already

    names_prices = bool(order.items) and all(item.price_id for item in order.items)
    order_status = ""
    if known is not None and names_prices:
        order_items = _with_fulfilled(known, existing)
    else:
        answer = await client.get_order(order.order_id, order.location_id)
        if not answer.ok:
            return _read_failure(answer, order, mapping)
        try:
            order_items = parse_order_items(answer.body, existing)
        except UnreadableResponse as error:
            return _unreadable(error, answer)
        order_status = _order_status(answer.body)

    resolution = _match_items(order, order_items, existing, mapping)
    resolution.existing = existing
    resolution.order_status = order_status
    resolution.order_lines = [
        OrderLine(item.price_id, item.sku, item.name, item.ordered) for item in order_items
    ]
    return resolution


def _with_fulfilled(
    lines: Sequence[OrderLine], existing: list[ExistingFulfillment]
) -> list[OrderItem]:
    fulfilled = _fulfilled_quantities(existing)
    return [
        OrderItem(line.price_id, line.sku, line.name, line.ordered, fulfilled.get(line.price_id, 0))
        for line in lines
    ]


def _fulfilled_quantities(existing: list[ExistingFulfillment]) -> dict[str, int]:
    fulfilled: dict[str, int] = {}
    for fulfillment in existing:
        for price_id, qty in fulfillment.quantities.items():
            fulfilled[price_id] = fulfilled.get(price_id, 0) + qty
    return fulfilled


def parse_fulfillments(body: Any) -> list[ExistingFulfillment]:
    """Read the list-fulfillments response: {"status": true, "data": [fulfillment, ...]}."""
    what = "HighLevel's list of fulfillments"
    data = _object(body, what).get("data")
    if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
        raise UnreadableResponse(f'{what} could not be read: it has no "data" list of objects')
    return [_parse_fulfillment(entry) for entry in data]


def _parse_fulfillment(entry: dict[str, Any]) -> ExistingFulfillment:
    trackings = entry.get("trackings") or []
    items = entry.get("items") or []
    if not isinstance(trackings, list) or not isinstance(items, list):
        raise UnreadableResponse("a fulfillment in HighLevel's response could not be read")

    numbers = frozenset(
        _text(tracking.get("trackingNumber", ""), "a tracking number").upper()
        for tracking in trackings
        if isinstance(tracking, dict)
    )
    quantities: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict):
            raise UnreadableResponse("a fulfilled item in HighLevel's response could not be read")
        price_id = _text(item.get("_id") or item.get("priceId") or "", "a fulfilled item's ID")
        quantities[price_id] = quantities.get(price_id, 0) + _whole_number(item.get("qty", 0))
    return ExistingFulfillment(
        _text(entry.get("_id", ""), "a fulfillment ID"),
        # Only shown in messages, so a date of another type is left out, not an error.
        created_at if isinstance(created_at := entry.get("createdAt"), str) else "",
        numbers,
        quantities,
    )


def _object(body: Any, what: str) -> dict[str, Any]:
    """Return the body as a JSON object; UnreadableResponse names what it is instead."""
    if body is None:
        # No JSON at all, as a rule: the client's problem with the response gives the reason.
        raise UnreadableResponse(f"{what} could not be read")
    if not isinstance(body, dict):
        raise UnreadableResponse(f"{what} could not be read: it is {_json_type(body)}")
    return body


def _text(value: Any, what: str) -> str:
    """Return a text field; a number or anything else where text belongs makes the body unreadable.

    Taking str() of a wrong value would turn `"_id": 5` into an ID "5" that
    matches nothing, or is sent back to HighLevel.
    """
    if not isinstance(value, str):
        raise UnreadableResponse(f"{what} in HighLevel's response is {_json_type(value)}, not text")
    return value


def _json_type(value: Any) -> str:
    """Name a JSON value's type for a message: "a list", "null", "a number"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _unreadable(error: UnreadableResponse, response: ApiResponse) -> Resolution:
    # A response that is not in the documented shape is a fault on HighLevel's side, as a 5xx is.
    return Resolution(
        OrderStatus.FAILED,
        message=_unreadable_message(error, response),
        response=response,
        kind=ErrorKind.UNAVAILABLE,
    )


def _unreadable_message(error: UnreadableResponse, response: ApiResponse) -> str:
    """Add the client's reason, such as "the response was empty", when the body was no JSON."""
    if response.problem:
        return f"{error} (HTTP {response.status_code}: {response.problem})"
    return str(error)


def _order_status(body: Any) -> str:
    status = body.get("status") if isinstance(body, dict) else None
    return status.strip().lower() if isinstance(status, str) else ""


def parse_order_items(body: Any, existing: list[ExistingFulfillment]) -> list[OrderItem]:
    """Read the order's items from the get-order response."""
    items = _object(body, "HighLevel's response for the order").get("items")
    if not isinstance(items, list):
        raise UnreadableResponse("HighLevel's response for the order has no list of items")

    fulfilled = _fulfilled_quantities(existing)
    order_items = []
    for entry in items:
        price = entry.get("price") if isinstance(entry, dict) else None
        if not isinstance(price, dict) or not price.get("_id"):
            raise UnreadableResponse("an item of the order in HighLevel has no price ID")
        price_id = _text(price["_id"], "the price ID of an item of the order")
        order_items.append(
            OrderItem(
                price_id=price_id,
                sku=str(price.get("sku") or entry.get("sku") or ""),
                name=str(entry.get("name") or price.get("name") or ""),
                ordered=_whole_number(entry.get("qty", 1)),
                fulfilled=fulfilled.get(price_id, 0),
            )
        )
    return order_items


def _whole_number(value: Any, what: str = "an item quantity") -> int:
    """Read a whole number given as a number or as digits; anything else is unreadable."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    value_text = excerpt(repr(value), 40)
    raise UnreadableResponse(f"{what} in HighLevel's response is {value_text}, not a whole number")


def _read_failure(response: ApiResponse, order: OrderGroup, mapping: ColumnMapping) -> Resolution:
    if response.status_code in (400, 404) and "not found" in response.message.lower():
        if mapping.header_of("location_id") is not None:
            advice = "check the order ID and the location ID in these rows"
        else:
            advice = "check the order ID and that the token is for the right sub-account"
        problem = Problem(
            f"order {order.order_id} was not found in location {order.location_id}; {advice}",
            tuple(order.rows),
            mapping.header_of("order_id"),
        )
        return Resolution(
            OrderStatus.REJECTED,
            problems=[problem],
            response=response,
            kind=ErrorKind.ORDER_NOT_FOUND,
        )
    return Resolution(
        OrderStatus.FAILED,
        message=f"could not read the order from HighLevel: {response.message}",
        response=response,
        kind=response_kind(response.status_code),
    )


def _already_sent(order: OrderGroup, existing: list[ExistingFulfillment]) -> Resolution | None:
    sent: dict[str, ExistingFulfillment] = {}
    for fulfillment in existing:
        for tracking in order.trackings:
            if tracking.number.upper() in fulfillment.tracking_numbers:
                sent.setdefault(tracking.number, fulfillment)
    if not sent:
        return None

    earlier = sorted({(f.created_at, f.fulfillment_id) for f in sent.values()})
    described = ", ".join(f"{fid} of {created[:10]}" for created, fid in earlier)
    if len(sent) == len(order.trackings):
        return Resolution(
            OrderStatus.SKIPPED,
            message=f"already fulfilled with these tracking numbers (fulfillment {described})",
            fulfillment_id=", ".join(fid for _, fid in earlier),
        )

    new = [t.number for t in order.trackings if t.number not in sent]
    sent_words = "was" if len(sent) == 1 else "were"
    new_words = "is" if len(new) == 1 else "are"
    problem = Problem(
        f"tracking {', '.join(sent)} {sent_words} already sent (fulfillment {described}) but "
        f"{', '.join(new)} {new_words} new, and the rows do not show which items the new package "
        "holds; give every row of the order its tracking number and items, or put the new "
        "packages in a file of their own",
        tuple(order.rows),
    )
    return Resolution(
        OrderStatus.REJECTED,
        problems=[problem],
        new_trackings=frozenset(new),
        earlier=described,
        kind=ErrorKind.INPUT,
    )


def _match_items(
    order: OrderGroup,
    order_items: list[OrderItem],
    existing: list[ExistingFulfillment],
    mapping: ColumnMapping,
) -> Resolution:
    if not order.items:
        return _whole_order(order, order_items, existing, mapping)

    unknown_items: list[Problem] = []
    requested: dict[str, int] = {}
    rows_of: dict[str, list[int]] = {}
    for index, item in enumerate(order.items):
        rows = order.item_rows.get(index, order.rows)
        found = _find_item(item, order_items, rows, mapping)
        if isinstance(found, Problem):
            unknown_items.append(found)
            continue
        requested[found.price_id] = requested.get(found.price_id, 0) + item.qty
        rows_of.setdefault(found.price_id, []).extend(rows)

    by_price = {item.price_id: item for item in order_items}
    too_many: list[Problem] = []
    for price_id, qty in requested.items():
        order_item = by_price[price_id]
        if qty > order_item.remaining:
            too_many.append(
                Problem(
                    f"{order_item.label}: {qty} to fulfill, but only {order_item.remaining} "
                    f"left ({order_item.ordered} ordered, {order_item.fulfilled} already "
                    "fulfilled)",
                    tuple(sorted(rows_of[price_id])),
                    mapping.header_of("qty") or mapping.header_of("sku"),
                )
            )
    if unknown_items:
        # An item the order does not have is a mistake in the file, whatever else is wrong.
        problems = unknown_items + too_many
        return Resolution(OrderStatus.REJECTED, problems=problems, kind=ErrorKind.INPUT)
    if too_many:
        return Resolution(OrderStatus.REJECTED, problems=too_many, kind=ErrorKind.ORDER_STATE)

    items = [Item(price_id, by_price[price_id].sku, qty) for price_id, qty in requested.items()]
    return Resolution(OrderStatus.READY, items=items)


def _whole_order(
    order: OrderGroup,
    order_items: list[OrderItem],
    existing: list[ExistingFulfillment],
    mapping: ColumnMapping,
) -> Resolution:
    if existing:
        item_column = mapping.header_of("sku") or mapping.header_of("price_id")
        where = f'fill in the "{item_column}" column' if item_column else "add a SKU column"
        problem = Problem(
            "this order is already partly fulfilled, so the rows must say which items are in "
            f"this package: {where} for each item it holds",
            tuple(order.rows),
            item_column,
        )
        return Resolution(OrderStatus.REJECTED, problems=[problem], kind=ErrorKind.INPUT)

    items = [Item(i.price_id, i.sku, i.remaining) for i in order_items if i.remaining > 0]
    if not items:
        problem = Problem("the order in HighLevel has no items to fulfill", tuple(order.rows))
        return Resolution(OrderStatus.REJECTED, problems=[problem], kind=ErrorKind.ORDER_STATE)
    return Resolution(OrderStatus.READY, items=items)


def _find_item(
    item: Item, order_items: list[OrderItem], rows: list[int], mapping: ColumnMapping
) -> OrderItem | Problem:
    if item.price_id:
        for order_item in order_items:
            if order_item.price_id == item.price_id:
                return order_item
        return Problem(
            f"price ID {item.price_id} is not an item of this order; its items are "
            f"{_describe(order_items)}",
            tuple(rows),
            mapping.header_of("price_id"),
        )

    matches = [i for i in order_items if i.sku and i.sku.casefold() == item.sku.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        message = f"SKU {item.sku} is not on this order; its items are {_describe(order_items)}"
    else:
        message = (
            f"SKU {item.sku} matches {len(matches)} items of this order; give the price ID instead"
        )
    return Problem(message, tuple(rows), mapping.header_of("sku"))


def _describe(order_items: Iterable[OrderItem]) -> str:
    return (
        ", ".join(
            f"{i.sku or i.price_id} ({i.name})" if i.name else (i.sku or i.price_id)
            for i in order_items
        )
        or "none"
    )


# --- order numbers ----------------------------------------------------------------------

# Shipping tools print HighLevel's order name "Order #1001" as "#1001", "1001" or
# "Order 1001"; these words and marks before the number are not part of it.
_NAME_LEAD = re.compile(r"^(?:order\s*)?(?:#|no\.?\s|number\s)?\s*", re.IGNORECASE)
_PREFIXED_NUMBER = re.compile(r"^[^\W\d_]+[\s_/-]*(\d+)$")
_SEARCH_PAGE = 100
# HighLevel's search matches part of a name, so "7" lists every order with a 7
# in it. Past this many pages the lookup gives up and requests the order ID,
# rather than spend the location's rate limit on one order.
_MAX_SEARCH_PAGES = 20


@dataclass
class OrderLookup:
    """The result of an order-number search: the order ID, or why there is none."""

    order_id: str = ""
    name: str = ""
    problem: str = ""  # why the order was not found (rejected)
    failure: str = ""  # why the search failed (failed, may work on a rerun)
    warning: str = ""
    response: ApiResponse | None = None
    kind: ErrorKind | None = None  # why there is no order ID; None when one was found


def order_number_key(text: str) -> str:
    """Reduce an order name or number to the part that identifies it: "Order #1001" -> "1001"."""
    return _NAME_LEAD.sub("", text.strip()).strip().casefold()


async def find_order_by_number(
    client: HighLevelClient, number: str, location_id: str
) -> OrderLookup:
    """Find the one HighLevel order whose name is the order number.

    The number is used only when exactly one order of the location is named
    with it. A number with letters before it ("SO-1001") that matches no name
    is tried once more without them, with a warning.
    """
    key = order_number_key(number)
    lookup = await _orders_named(client, key, location_id)
    if lookup.order_id or lookup.failure or not lookup.problem.startswith(_NONE_FOUND):
        return lookup

    bare = _PREFIXED_NUMBER.match(key)
    if bare is None:
        return lookup
    retry = await _orders_named(client, bare.group(1), location_id)
    if not retry.order_id:
        return lookup
    retry.warning = (
        f'no order is named "{number}", so its number {bare.group(1)} was used: '
        f'it matched the order "{retry.name}"'
    )
    return retry


_NONE_FOUND = "no order named"


async def _orders_named(client: HighLevelClient, key: str, location_id: str) -> OrderLookup:
    matches: list[tuple[str, str]] = []
    offset = 0
    for _ in range(_MAX_SEARCH_PAGES):
        response = await client.search_orders(location_id, key, limit=_SEARCH_PAGE, offset=offset)
        if not response.ok:
            return OrderLookup(
                failure=f"could not search HighLevel's orders: {response.message}",
                response=response,
                kind=response_kind(response.status_code),
            )
        try:
            page, total = _read_order_page(response.body)
        except UnreadableResponse as error:
            return OrderLookup(
                failure=_unreadable_message(error, response),
                response=response,
                kind=ErrorKind.UNAVAILABLE,
            )

        matches += [(order_id, name) for order_id, name in page if order_number_key(name) == key]
        offset += len(page)
        if len(matches) > 1 or not page or offset >= total:
            return _one_match(key, location_id, matches)
    # A match among the pages read may have a twin on the pages not read.
    return OrderLookup(
        problem=f'HighLevel lists more than {offset:,} orders whose names contain "{key}", '
        "too many to look through for this one; use the HighLevel order ID instead",
        kind=ErrorKind.ORDER_NOT_FOUND,
    )


def _read_order_page(body: Any) -> tuple[list[tuple[str, str]], int]:
    """Read the List Orders response: ([(order ID, name), ...], total count)."""
    what = "HighLevel's list of orders"
    listing = _object(body, what)
    data = listing.get("data")
    if not isinstance(data, list) or "totalCount" not in listing:
        raise UnreadableResponse(f'{what} could not be read: it has no "data" list or no count')
    total = _whole_number(listing["totalCount"], "the count of orders")

    page = []
    for entry in data:
        if not isinstance(entry, dict) or not entry.get("_id"):
            raise UnreadableResponse("an order in HighLevel's list of orders has no ID")
        _text(entry["_id"], "an order ID")
        if not isinstance(entry.get("name"), str):
            # Without names the search results cannot be distinguished, and taking
            # the first could fulfill a stranger's order.
            raise UnreadableResponse(
                "HighLevel's list of orders does not show order names, so order numbers "
                "cannot be matched; use HighLevel order IDs in the file"
            )
        page.append((entry["_id"], entry["name"]))
    return page, total


def _one_match(key: str, location_id: str, matches: list[tuple[str, str]]) -> OrderLookup:
    if len(matches) == 1:
        order_id, name = matches[0]
        return OrderLookup(order_id=order_id, name=name)
    if not matches:
        return OrderLookup(
            problem=f'{_NONE_FOUND} "{key}" was found in location {location_id}; '
            "check the order number, or use the HighLevel order ID",
            kind=ErrorKind.ORDER_NOT_FOUND,
        )
    listed = ", ".join(f'{order_id} ("{name}")' for order_id, name in matches)
    return OrderLookup(
        problem=f'more than one order is named "{key}" ({listed}); use the HighLevel order '
        "ID of the right one instead of the number",
        kind=ErrorKind.ORDER_NOT_FOUND,
    )
