"""A small sandbox seed and a started sandbox for tests of the stages that call the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from importer.client import HighLevelClient, RateLimit, RetryPolicy
from importer.sandbox import Sandbox, SandboxSeed

LOCATION = "Xk7pQ2mLw9RtY4vB8nZc"
TOKEN = "test-token-4f1d9c"
TEE = "6650a1b2c3d4e5f601000201"
MUG = "6650a1b2c3d4e5f601000202"
OPEN_ORDER = "6650a1b2c3d4e5f601000001"  # 2 x TEE-BLK-M, 1 x MUG-WHT, nothing fulfilled
PARTLY_FULFILLED = "6650a1b2c3d4e5f601000002"  # same items, one tee already shipped
MISSING_ORDER = "6650a1b2c3d4e5f6010000ff"
FAST_RETRY = RetryPolicy(max_attempts=3, wait_initial=0.001, wait_max=0.01)


def _item(suffix: str, price_id: str, sku: str, qty: int) -> dict[str, Any]:
    return {
        "_id": f"6650a1b2c3d4e5f60100{suffix}",
        "name": sku.title(),
        "qty": qty,
        "price": {"_id": price_id, "name": sku, "sku": sku, "amount": 10.0, "currency": "USD"},
        "product": {"_id": f"6650a1b2c3d4e5f60101{suffix}", "name": sku.title()},
    }


def _order(order_id: str, fulfillments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "_id": order_id,
        "altId": LOCATION,
        "name": "Order",
        "status": "completed",
        "currency": "USD",
        "amount": 30.0,
        "createdAt": "2026-11-28T15:04:05.000Z",
        "contactName": "Dana Whitfield",
        "contactEmail": "dana@example.com",
        "items": [_item("0101", TEE, "TEE-BLK-M", 2), _item("0102", MUG, "MUG-WHT", 1)],
        "fulfillments": fulfillments,
    }


def test_seed() -> SandboxSeed:
    earlier = {
        "_id": "6650a1b2c3d4e5f601000901",
        "createdAt": "2026-11-30T10:00:00.000Z",
        "trackings": [{"trackingNumber": "1Z999AA10123456784", "shippingCarrier": "UPS"}],
        "items": [{"priceId": TEE, "qty": 1}],
    }
    return SandboxSeed.from_dict(
        {
            "locations": [{"id": LOCATION, "name": "Northwind Outfitters"}],
            "orders": [_order(OPEN_ORDER, []), _order(PARTLY_FULFILLED, [earlier])],
        }
    )


test_seed.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(test_seed(), tokens={TOKEN: None}) as running:
        yield running


def make_client(
    sandbox: Sandbox, *, token: str = TOKEN, max_requests: int = 100, **options: Any
) -> HighLevelClient:
    return HighLevelClient(
        base_url=sandbox.base_url,
        token=token,
        token_source="the test",
        rate_limit=RateLimit(max_requests=max_requests, interval_seconds=10.0),
        retry=FAST_RETRY,
        **options,
    )
