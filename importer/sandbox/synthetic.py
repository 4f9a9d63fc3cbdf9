"""Many made-up orders in many locations, with an export that ships them all.

Benchmarks and tests of the submission engine need thousands of orders spread
over many locations. Each order has one item ordered twice and ships one of
them, so a duplicate fulfillment would still fit the order's quantities: only
the importer can prevent it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importer.carriers.formats import mod10
from importer.sandbox.seed import SandboxSeed

SKU = "TEE-BLK-M"
PRICE_ID = "698a19983fcb4b70f79a7ffc"
_PRODUCT_ID = "698a199874406663d3e1ec70"
_FIRST_ORDER = 0x6B1000000000000000000000
_FIRST_ITEM = 0x6B2000000000000000000000
_ORDERS_PER_LOCATION = 1_000_000
_UPS_CHECK = mod10(1, 2)


@dataclass(frozen=True)
class SyntheticOrder:
    location_id: str
    order_id: str
    tracking_number: str


def location_ids(count: int) -> list[str]:
    """Return `count` location IDs of 20 letters and digits, the form HighLevel uses."""
    return [f"Bench{index:015d}" for index in range(count)]


def synthetic_orders(locations: Sequence[str], per_location: int) -> list[SyntheticOrder]:
    """Return the orders, interleaved across locations as an agency's export would be."""
    if per_location >= _ORDERS_PER_LOCATION:
        raise ValueError(f"at most {_ORDERS_PER_LOCATION - 1} orders per location")
    orders = []
    for index in range(per_location):
        for place, location_id in enumerate(locations):
            number = place * _ORDERS_PER_LOCATION + index
            orders.append(
                SyntheticOrder(location_id, f"{_FIRST_ORDER + number:024x}", _ups_number(number))
            )
    return orders


def synthetic_seed(orders: Sequence[SyntheticOrder]) -> SandboxSeed:
    """Build a sandbox seed that contains every order, each with two of one item open."""
    return SandboxSeed.from_dict(seed_data(orders))


def seed_data(orders: Sequence[SyntheticOrder]) -> dict[str, Any]:
    """Return the seed as the JSON that `ghl-fulfill sandbox --seed` reads."""
    locations = sorted({order.location_id for order in orders})
    return {
        "locations": [{"id": location_id, "name": location_id} for location_id in locations],
        "orders": [_seed_order(order, number) for number, order in enumerate(orders)],
    }


def write_export(path: Path, orders: Sequence[SyntheticOrder]) -> None:
    """Write a CSV export with a location column, giving each order's item by its price ID."""
    lines = ["Location ID,Order ID,Tracking Number,Carrier,Price ID,Qty"]
    lines += [
        f"{order.location_id},{order.order_id},{order.tracking_number},UPS,{PRICE_ID},1"
        for order in orders
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _seed_order(order: SyntheticOrder, number: int) -> dict[str, Any]:
    return {
        "_id": order.order_id,
        "altId": order.location_id,
        "name": f"Order #{10_000 + number}",
        "status": "completed",
        "currency": "USD",
        "amount": 50.0,
        "createdAt": "2026-12-01T10:00:00.000Z",
        "items": [
            {
                "_id": f"{_FIRST_ITEM + number:024x}",
                "name": "Trail Tee - Black / M",
                "qty": 2,
                "price": {
                    "_id": PRICE_ID,
                    "name": "Black / M",
                    "sku": SKU,
                    "amount": 25.0,
                    "currency": "USD",
                },
                "product": {"_id": _PRODUCT_ID, "name": "Trail Tee"},
            }
        ],
    }


def _ups_number(number: int) -> str:
    """Make a UPS tracking number with a valid check digit, different for every order number."""
    serial = f"{number:08X}{7_000_000 + number % 3_000_000:07d}"
    return f"1Z{serial}{_UPS_CHECK(serial)}"
