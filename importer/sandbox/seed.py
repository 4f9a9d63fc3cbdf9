"""Seed files: the locations, orders and earlier fulfillments a sandbox starts with.

A seed is one JSON document:

    {"locations": [{"id", "name"}],
     "orders": [{"_id", "altId", "name", "status", "currency", "amount", "createdAt",
                 "contactName"?, "contactEmail"?,
                 "items": [{"_id", "name", "qty",
                            "price": {"_id", "name", "sku"?, "amount", "currency"},
                            "product": {"_id", "name"}}],
                 "fulfillments"?: [{"_id", "createdAt",
                                    "trackings": [{"trackingNumber", "shippingCarrier"?,
                                                   "trackingUrl"?}],
                                    "items": [{"priceId", "qty"}]}]}]}

Keys marked "?" are optional. Unknown keys are rejected so that a misspelt key is
reported instead of silently ignored. Every error names the file and the JSON path of
the bad entry, for example `seed.json: $.orders[2].items[0].qty: must be a positive
integer, got 0`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ORDER_STATUSES = ("completed", "canceled")

_HEX_ID = re.compile(r"[0-9a-f]{24}")
_LOCATION_ID = re.compile(r"[A-Za-z0-9]+")


class SeedError(ValueError):
    """A seed file or dictionary that cannot seed a sandbox.

    `source` is the file name (or the label given to `SandboxSeed.from_dict`) and
    `json_path` the path of the bad entry, or None when the file is not valid JSON.
    """

    def __init__(self, source: str, json_path: str | None, problem: str) -> None:
        where = f"{source}: {json_path}" if json_path else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.json_path = json_path
        self.problem = problem


class _EntryError(Exception):
    """A bad entry found while parsing; `SandboxSeed.from_dict` adds the source to it."""

    def __init__(self, json_path: str, problem: str) -> None:
        super().__init__(f"{json_path}: {problem}")
        self.json_path = json_path
        self.problem = problem


@dataclass(frozen=True)
class SeedPrice:
    id: str
    name: str
    amount: float
    currency: str
    sku: str | None = None


@dataclass(frozen=True)
class SeedProduct:
    id: str
    name: str


@dataclass(frozen=True)
class SeedItem:
    """One line of an order: a quantity of one price of one product."""

    id: str
    name: str
    qty: int
    price: SeedPrice
    product: SeedProduct


@dataclass(frozen=True)
class SeedTracking:
    number: str
    carrier: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SeedFulfilledItem:
    price_id: str
    qty: int


@dataclass(frozen=True)
class SeedFulfillment:
    """A fulfillment made before the sandbox starts, for example by hand in HighLevel."""

    id: str
    created_at: str
    trackings: tuple[SeedTracking, ...]
    items: tuple[SeedFulfilledItem, ...]


@dataclass(frozen=True)
class SeedOrder:
    id: str
    location_id: str
    name: str
    status: str
    currency: str
    amount: float
    created_at: str
    contact_name: str
    contact_email: str
    items: tuple[SeedItem, ...]
    fulfillments: tuple[SeedFulfillment, ...] = ()


@dataclass(frozen=True)
class SandboxSeed:
    """Parsed seed. `locations` lists the location ids in file order; the first is the default."""

    locations: list[str]
    location_names: dict[str, str]
    orders: list[SeedOrder]

    @classmethod
    def from_dict(cls, data: object, *, source: str = "seed") -> SandboxSeed:
        """Parse and check a seed document; raise SeedError naming `source` and the bad entry."""
        try:
            return _parse_seed(data)
        except _EntryError as error:
            raise SeedError(source, error.json_path, error.problem) from error


def load_seed(path: Path) -> SandboxSeed:
    """Read a seed JSON file; raise SeedError naming the file (and the entry) when it is invalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError(str(path), None, f"cannot be read: {error}") from error

    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        problem = f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        raise SeedError(str(path), None, problem) from error

    return SandboxSeed.from_dict(data, source=str(path))


def _parse_seed(data: object) -> SandboxSeed:
    root = _object(data, "$", required={"locations", "orders"})

    location_names = _parse_locations(root["locations"], "$.locations")
    orders = _parse_orders(root["orders"], "$.orders", set(location_names))

    return SandboxSeed(list(location_names), location_names, orders)


def _parse_locations(value: object, path: str) -> dict[str, str]:
    entries = _array(value, path, non_empty=True)
    names: dict[str, str] = {}

    for index, entry in enumerate(entries):
        entry_path = f"{path}[{index}]"
        location = _object(entry, entry_path, required={"id", "name"})
        location_id = _location_id(location["id"], f"{entry_path}.id")
        if location_id in names:
            raise _EntryError(f"{entry_path}.id", f"location {location_id} is listed twice")
        names[location_id] = _string(location["name"], f"{entry_path}.name")

    return names


def _parse_orders(value: object, path: str, location_ids: set[str]) -> list[SeedOrder]:
    orders: list[SeedOrder] = []
    order_ids: set[str] = set()
    fulfillment_ids: set[str] = set()

    for index, entry in enumerate(_array(value, path)):
        order = _parse_order(entry, f"{path}[{index}]", location_ids)
        if order.id in order_ids:
            raise _EntryError(f"{path}[{index}]._id", f"order {order.id} is listed twice")
        order_ids.add(order.id)

        for number, fulfillment in enumerate(order.fulfillments):
            if fulfillment.id in fulfillment_ids:
                problem = f"fulfillment {fulfillment.id} is listed twice"
                raise _EntryError(f"{path}[{index}].fulfillments[{number}]._id", problem)
            fulfillment_ids.add(fulfillment.id)

        orders.append(order)

    return orders


def _parse_order(value: object, path: str, location_ids: set[str]) -> SeedOrder:
    required = {"_id", "altId", "name", "status", "currency", "amount", "createdAt", "items"}
    optional = {"contactName", "contactEmail", "fulfillments"}
    entry = _object(value, path, required=required, optional=optional)

    location_id = _location_id(entry["altId"], f"{path}.altId")
    if location_id not in location_ids:
        problem = f"location {location_id} is not in $.locations; add it there or fix the id"
        raise _EntryError(f"{path}.altId", problem)

    status = _string(entry["status"], f"{path}.status")
    if status not in ORDER_STATUSES:
        expected = " or ".join(f'"{name}"' for name in ORDER_STATUSES)
        raise _EntryError(f"{path}.status", f'must be {expected}, got "{status}"')

    items = _parse_items(entry["items"], f"{path}.items")
    fulfillments = _parse_fulfillments(entry.get("fulfillments", []), f"{path}.fulfillments", items)

    return SeedOrder(
        id=_hex_id(entry["_id"], f"{path}._id"),
        location_id=location_id,
        name=_string(entry["name"], f"{path}.name"),
        status=status,
        currency=_string(entry["currency"], f"{path}.currency"),
        amount=_number(entry["amount"], f"{path}.amount"),
        created_at=_timestamp(entry["createdAt"], f"{path}.createdAt"),
        contact_name=_string(entry.get("contactName", ""), f"{path}.contactName", empty=True),
        contact_email=_string(entry.get("contactEmail", ""), f"{path}.contactEmail", empty=True),
        items=items,
        fulfillments=fulfillments,
    )


def _parse_items(value: object, path: str) -> tuple[SeedItem, ...]:
    items: list[SeedItem] = []
    price_ids: set[str] = set()

    for index, entry in enumerate(_array(value, path, non_empty=True)):
        item = _parse_item(entry, f"{path}[{index}]")
        # The API names an order line by its price id, so two lines with one price are ambiguous.
        if item.price.id in price_ids:
            problem = f"price {item.price.id} is already used by another item of this order"
            raise _EntryError(f"{path}[{index}].price._id", problem)
        price_ids.add(item.price.id)
        items.append(item)

    return tuple(items)


def _parse_item(value: object, path: str) -> SeedItem:
    entry = _object(value, path, required={"_id", "name", "qty", "price", "product"})

    price_entry = _object(
        entry["price"],
        f"{path}.price",
        required={"_id", "name", "amount", "currency"},
        optional={"sku"},
    )
    sku = price_entry.get("sku")
    price = SeedPrice(
        id=_hex_id(price_entry["_id"], f"{path}.price._id"),
        name=_string(price_entry["name"], f"{path}.price.name"),
        amount=_number(price_entry["amount"], f"{path}.price.amount"),
        currency=_string(price_entry["currency"], f"{path}.price.currency"),
        sku=None if sku is None else _string(sku, f"{path}.price.sku"),
    )

    product_entry = _object(entry["product"], f"{path}.product", required={"_id", "name"})
    product = SeedProduct(
        id=_hex_id(product_entry["_id"], f"{path}.product._id"),
        name=_string(product_entry["name"], f"{path}.product.name"),
    )

    return SeedItem(
        id=_hex_id(entry["_id"], f"{path}._id"),
        name=_string(entry["name"], f"{path}.name"),
        qty=_positive_integer(entry["qty"], f"{path}.qty"),
        price=price,
        product=product,
    )


def _parse_fulfillments(
    value: object, path: str, items: tuple[SeedItem, ...]
) -> tuple[SeedFulfillment, ...]:
    ordered = {item.price.id: item.qty for item in items}
    fulfilled: Counter[str] = Counter()
    fulfillments: list[SeedFulfillment] = []

    for index, entry in enumerate(_array(value, path)):
        fulfillment = _parse_fulfillment(entry, f"{path}[{index}]")

        for number, item in enumerate(fulfillment.items):
            item_path = f"{path}[{index}].items[{number}]"
            if item.price_id not in ordered:
                problem = f"price {item.price_id} is not an item of this order"
                raise _EntryError(f"{item_path}.priceId", problem)
            fulfilled[item.price_id] += item.qty
            if fulfilled[item.price_id] > ordered[item.price_id]:
                problem = (
                    f"fulfills {fulfilled[item.price_id]} of price {item.price_id} in total, "
                    f"but the order has {ordered[item.price_id]}"
                )
                raise _EntryError(f"{item_path}.qty", problem)

        fulfillments.append(fulfillment)

    return tuple(fulfillments)


def _parse_fulfillment(value: object, path: str) -> SeedFulfillment:
    entry = _object(value, path, required={"_id", "createdAt", "trackings", "items"})

    trackings = tuple(
        _parse_tracking(tracking, f"{path}.trackings[{index}]")
        for index, tracking in enumerate(_array(entry["trackings"], f"{path}.trackings"))
    )

    items: list[SeedFulfilledItem] = []
    for index, item in enumerate(_array(entry["items"], f"{path}.items", non_empty=True)):
        item_path = f"{path}.items[{index}]"
        item_entry = _object(item, item_path, required={"priceId", "qty"})
        price_id = _hex_id(item_entry["priceId"], f"{item_path}.priceId")
        qty = _positive_integer(item_entry["qty"], f"{item_path}.qty")
        items.append(SeedFulfilledItem(price_id, qty))

    return SeedFulfillment(
        id=_hex_id(entry["_id"], f"{path}._id"),
        created_at=_timestamp(entry["createdAt"], f"{path}.createdAt"),
        trackings=trackings,
        items=tuple(items),
    )


def _parse_tracking(value: object, path: str) -> SeedTracking:
    entry = _object(
        value, path, required={"trackingNumber"}, optional={"shippingCarrier", "trackingUrl"}
    )
    carrier = entry.get("shippingCarrier")
    url = entry.get("trackingUrl")

    return SeedTracking(
        number=_string(entry["trackingNumber"], f"{path}.trackingNumber"),
        carrier=None if carrier is None else _string(carrier, f"{path}.shippingCarrier"),
        url=None if url is None else _string(url, f"{path}.trackingUrl", empty=True),
    )


def _object(
    value: object,
    path: str,
    *,
    required: set[str],
    optional: frozenset[str] | set[str] = frozenset(),
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _EntryError(path, f"must be an object, got {_json_type(value)}")

    missing = sorted(required - value.keys())
    if missing:
        raise _EntryError(f"{path}.{missing[0]}", "is required but missing")

    unknown = sorted(set(value) - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise _EntryError(f"{path}.{unknown[0]}", f"unknown key; allowed keys are {allowed}")

    return value


def _array(value: object, path: str, *, non_empty: bool = False) -> list[Any]:
    if not isinstance(value, list):
        raise _EntryError(path, f"must be an array, got {_json_type(value)}")
    if non_empty and not value:
        raise _EntryError(path, "must contain at least one entry")
    return value


def _string(value: object, path: str, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise _EntryError(path, f"must be a string, got {_json_type(value)}")
    if not empty and not value.strip():
        raise _EntryError(path, "must not be empty")
    return value


def _hex_id(value: object, path: str) -> str:
    text = _string(value, path)
    if not _HEX_ID.fullmatch(text):
        raise _EntryError(path, f'must be 24 lowercase hexadecimal characters, got "{text}"')
    return text


def _location_id(value: object, path: str) -> str:
    text = _string(value, path)
    if not _LOCATION_ID.fullmatch(text):
        raise _EntryError(path, f'must contain only letters and digits, got "{text}"')
    return text


def _number(value: object, path: str) -> float:
    # bool is a subclass of int in Python, but true and false are not numbers in JSON.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _EntryError(path, f"must be a number, got {_json_type(value)}")
    return value


def _positive_integer(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _EntryError(path, f"must be a positive integer, got {json.dumps(value)}")
    return value


def _timestamp(value: object, path: str) -> str:
    """Check an ISO-8601 timestamp with a time zone and return it as the API writes it."""
    text = _string(value, path)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None

    if moment is None or moment.tzinfo is None:
        problem = (
            f'must be an ISO-8601 time with a zone, like "2026-11-28T15:04:05.000Z", got "{text}"'
        )
        raise _EntryError(path, problem)

    return format_timestamp(moment)


def format_timestamp(moment: datetime) -> str:
    """Format a time the way the API does: UTC, milliseconds and a "Z" suffix."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
