"""Tests for order numbers: the List Orders search in the sandbox and the importer's lookup."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from importer.client import HighLevelClient
from importer.config import Settings
from importer.mapping import load_templates
from importer.pipeline import FileJob, import_file
from importer.records import FileResult, OrderStatus
from importer.resolve import OrderLookup, find_order_by_number, order_number_key
from importer.sandbox import Sandbox, SandboxSeed
from tests.api_fixtures import make_client

LOCATION = "Xk7pQ2mLw9RtY4vB8nZc"
TOKEN = "order-number-token-5e2a"
SKU = "TEE-BLK-M"
PRICE = "6650a1b2c3d4e5f601000201"
ORDER_1001 = "6650a1b2c3d4e5f601001001"
ORDER_10010 = "6650a1b2c3d4e5f601010010"
ORDER_1002 = "6650a1b2c3d4e5f601001002"
TWIN_A = "6650a1b2c3d4e5f601002000"
TWIN_B = "6650a1b2c3d4e5f601002001"
ORDER_77 = "6650a1b2c3d4e5f601000077"
# Orders whose names contain "77" and which the search lists before "Order #77".
CROWD = 150


def _order(order_id: str, name: str, created_at: str) -> dict[str, Any]:
    return {
        "_id": order_id,
        "altId": LOCATION,
        "name": name,
        "status": "completed",
        "currency": "USD",
        "amount": 20.0,
        "createdAt": created_at,
        "items": [
            {
                "_id": order_id[:-4] + "a001",
                "name": "Trail Tee",
                "qty": 2,
                "price": {
                    "_id": PRICE,
                    "name": "Black / M",
                    "sku": SKU,
                    "amount": 10.0,
                    "currency": "USD",
                },
                "product": {"_id": "6650a1b2c3d4e5f6010a0001", "name": "Trail Tee"},
            }
        ],
    }


def _seed() -> SandboxSeed:
    orders = [
        _order(ORDER_1001, "Order #1001", "2026-11-20T10:00:00.000Z"),
        _order(ORDER_10010, "Order #10010", "2026-11-20T11:00:00.000Z"),
        _order(ORDER_1002, "Order #1002", "2026-11-20T12:00:00.000Z"),
        _order(TWIN_A, "Order #2000", "2026-11-21T10:00:00.000Z"),
        _order(TWIN_B, "Order #2000", "2026-11-21T11:00:00.000Z"),
        # The oldest order, so that the search lists it after all the others.
        _order(ORDER_77, "Order #77", "2026-01-01T10:00:00.000Z"),
    ]
    orders += [
        _order(f"6650a1b2c3d4e5f6017{index:05d}", f"Order #77{index:03d}", "2026-11-22T10:00:00Z")
        for index in range(CROWD)
    ]
    return SandboxSeed.from_dict(
        {"locations": [{"id": LOCATION, "name": "Northwind Outfitters"}], "orders": orders}
    )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(_seed(), tokens={TOKEN: None}, max_requests=10_000) as running:
        yield running


def _client(sandbox: Sandbox) -> HighLevelClient:
    return make_client(sandbox, token=TOKEN, max_requests=10_000)


def look_up(sandbox: Sandbox, number: str) -> OrderLookup:
    async def scenario() -> OrderLookup:
        async with _client(sandbox) as client:
            return await find_order_by_number(client, number, LOCATION)

    return asyncio.run(scenario())


def list_orders(sandbox: Sandbox, **params: str) -> httpx.Response:
    query = {"altId": LOCATION, "altType": "location", **params}
    headers = {"Authorization": f"Bearer {TOKEN}", "Version": "2021-07-28"}
    return httpx.get(f"{sandbox.base_url}/payments/orders", params=query, headers=headers)


# --- the sandbox's List Orders ---------------------------------------------------------------


def test_sandbox_search_matches_part_of_name(sandbox: Sandbox) -> None:
    """The sandbox's search finds every order whose name contains the text."""
    body = list_orders(sandbox, search="1001").json()
    assert sorted(order["_id"] for order in body["data"]) == [ORDER_1001, ORDER_10010]


def test_sandbox_search_pages(sandbox: Sandbox) -> None:
    """limit and offset page through the orders; totalCount counts them all."""
    body = list_orders(sandbox, search="77", limit="100", offset="100").json()
    assert len(body["data"]) == CROWD + 1 - 100
    assert body["totalCount"] == CROWD + 1


def test_sandbox_page_default_is_ten(sandbox: Sandbox) -> None:
    """Without a limit, a page contains 10 orders."""
    assert len(list_orders(sandbox, search="77").json()["data"]) == 10


@pytest.mark.parametrize(("name", "value"), [("limit", "0"), ("limit", "101"), ("offset", "-1")])
def test_sandbox_bad_page_rejected(sandbox: Sandbox, name: str, value: str) -> None:
    """A limit outside 1 to 100 or a negative offset gets HTTP 422."""
    assert list_orders(sandbox, **{name: value}).status_code == 422


def test_sandbox_list_needs_location(sandbox: Sandbox) -> None:
    """List Orders without altId gets HTTP 422, as the other reads do."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Version": "2021-07-28"}
    response = httpx.get(f"{sandbox.base_url}/payments/orders", headers=headers)
    assert response.status_code == 422


# --- the lookup -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [("Order #1001", "1001"), ("#1001", "1001"), ("order 1001", "1001"), ("SO-1001", "so-1001")],
)
def test_order_number_key(text: str, key: str) -> None:
    """Names and numbers reduce to the part that identifies the order."""
    assert order_number_key(text) == key


def test_number_found_exactly(sandbox: Sandbox) -> None:
    """1001 is "Order #1001", not "Order #10010", which the search also returns."""
    assert look_up(sandbox, "1001").order_id == ORDER_1001


def test_number_found_on_later_page(sandbox: Sandbox) -> None:
    """The one exact match is found after a full page of near matches."""
    assert look_up(sandbox, "77").order_id == ORDER_77


def test_two_orders_of_one_name_rejected(sandbox: Sandbox) -> None:
    """A number that names two orders is not used, and both are listed."""
    lookup = look_up(sandbox, "2000")
    assert lookup.order_id == ""
    assert TWIN_A in lookup.problem
    assert TWIN_B in lookup.problem


def test_unknown_number_rejected(sandbox: Sandbox) -> None:
    """A number that names no order is reported as not found."""
    assert look_up(sandbox, "9999").problem.startswith('no order named "9999" was found')


def test_prefixed_number_tried_without_prefix(sandbox: Sandbox) -> None:
    """SO-1002 names no order, so its number 1002 is used, with a warning."""
    lookup = look_up(sandbox, "SO-1002")
    assert lookup.order_id == ORDER_1002
    assert "its number 1002 was used" in lookup.warning


def test_prefixed_number_of_two_orders_rejected(sandbox: Sandbox) -> None:
    """Without its prefix, SO-2000 still names two orders, so the first result is kept."""
    assert look_up(sandbox, "SO-2000").problem.startswith('no order named "so-2000"')


# --- a whole import -----------------------------------------------------------------------------


def import_csv(sandbox: Sandbox, path: Path) -> FileResult:
    settings = Settings(token=TOKEN, location_id=LOCATION, base_url=sandbox.base_url)

    async def scenario() -> FileResult:
        async with _client(sandbox) as client:
            return await import_file(
                FileJob(path=path),
                settings=settings,
                templates=load_templates(),
                client=client,
                notice=lambda _: None,
                show_progress=False,
            )

    return asyncio.run(scenario())


def test_import_by_number_fulfills_once(tmp_path: Path) -> None:
    """Rows naming an order as #1001 and 1001 become one fulfillment of that order."""
    path = tmp_path / "by_number.csv"
    path.write_text(
        "Order Number,Tracking Number,Carrier,SKU,Qty\n"
        "#1001,1Z999AA10123456784,UPS,TEE-BLK-M,1\n"
        "1001,1Z999AA10123456784,UPS,TEE-BLK-M,1\n",
        encoding="utf-8",
    )
    with Sandbox(_seed(), tokens={TOKEN: None}, max_requests=10_000) as running:
        import_csv(running, path)
        log = running.fulfillment_log()
    assert [(entry.order_id, entry.body["items"]) for entry in log] == [
        (ORDER_1001, [{"priceId": PRICE, "qty": 2}])
    ]


def test_import_result_shows_number_and_id(sandbox: Sandbox, tmp_path: Path) -> None:
    """The order's result carries the number from the file and the ID it was found as."""
    path = tmp_path / "by_number.csv"
    path.write_text(
        "Order Number,Tracking Number,SKU\n#1002,1Z999AA10123456784,TEE-BLK-M\n", encoding="utf-8"
    )
    order = import_csv(sandbox, path).orders[0]
    assert order.order_number == "1002"
    assert order.order_id == ORDER_1002


def test_order_named_two_ways_sent_once(tmp_path: Path) -> None:
    """An order named by its ID on some rows and its number on others is rejected once."""
    path = tmp_path / "two_ways.csv"
    path.write_text(
        "Order ID,Tracking Number,SKU\n"
        f"{ORDER_1001},1Z999AA10123456784,TEE-BLK-M\n"
        "#1001,1Z999AA10123456793,TEE-BLK-M\n",
        encoding="utf-8",
    )
    with Sandbox(_seed(), tokens={TOKEN: None}, max_requests=10_000) as running:
        result = import_csv(running, path)
    statuses = {order.order_number or order.order_id: order.status for order in result.orders}
    assert statuses == {ORDER_1001: OrderStatus.CREATED, "1001": OrderStatus.REJECTED}


def test_unknown_number_rejected_in_results(sandbox: Sandbox, tmp_path: Path) -> None:
    """An order number that names no order rejects its order with the reason."""
    path = tmp_path / "unknown.csv"
    path.write_text("Order Number,Tracking Number\n#9999,1Z999AA10123456784\n", encoding="utf-8")
    order = import_csv(sandbox, path).orders[0]
    assert order.status is OrderStatus.REJECTED
    assert 'no order named "9999"' in order.message


def test_search_with_too_many_near_matches_gives_up(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search with more near matches than the lookup reads requests the order ID."""
    import importer.resolve

    # The crowd of orders with "77" in their names fills more than one page.
    monkeypatch.setattr(importer.resolve, "_MAX_SEARCH_PAGES", 1)
    lookup = look_up(sandbox, "77")
    assert "use the HighLevel order ID instead" in lookup.problem
