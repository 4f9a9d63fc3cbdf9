from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from importer.group import OrderGroup
from importer.mapping import ColumnMapping
from importer.records import ErrorKind, Item, OrderStatus, Tracking
from importer.resolve import (
    Resolution,
    UnreadableResponse,
    _read_order_page,
    parse_fulfillments,
    parse_order_items,
    resolve_order,
)
from importer.sandbox import FaultKind, FaultPlan, Sandbox
from tests.api_fixtures import (
    LOCATION,
    MISSING_ORDER,
    MUG,
    OPEN_ORDER,
    PARTLY_FULFILLED,
    TEE,
    make_client,
    sandbox,
)

__all__ = ["sandbox"]


def resolve(sandbox: Sandbox, order: OrderGroup, mapping: ColumnMapping) -> Resolution:
    async def scenario() -> Resolution:
        async with make_client(sandbox) as client:
            return await resolve_order(client, order, mapping)

    return asyncio.run(scenario())


def group(order_id: str, items: list[Item], tracking: str = "986578788855") -> OrderGroup:
    return OrderGroup(
        order_id,
        LOCATION,
        rows=[2],
        trackings=[Tracking(tracking, "FedEx")],
        items=items,
        item_rows={index: [2] for index in range(len(items))},
    )


def test_sku_resolved_to_price(sandbox: Sandbox, generic_mapping: ColumnMapping) -> None:
    """An item named by SKU gets the price ID of the order's item with that SKU."""
    resolution = resolve(sandbox, group(OPEN_ORDER, [Item("", "tee-blk-m", 2)]), generic_mapping)
    assert resolution.status is OrderStatus.READY
    assert resolution.items == [Item(TEE, "TEE-BLK-M", 2)]


def test_no_items_fulfills_whole_order(sandbox: Sandbox, generic_mapping: ColumnMapping) -> None:
    """An order whose rows name no item fulfills all of its items."""
    resolution = resolve(sandbox, group(OPEN_ORDER, []), generic_mapping)
    assert resolution.items == [Item(TEE, "TEE-BLK-M", 2), Item(MUG, "MUG-WHT", 1)]


def test_no_items_on_partly_fulfilled_rejected(
    sandbox: Sandbox, generic_mapping: ColumnMapping
) -> None:
    """Without items, a partly fulfilled order is ambiguous and is rejected."""
    resolution = resolve(sandbox, group(PARTLY_FULFILLED, []), generic_mapping)
    assert resolution.status is OrderStatus.REJECTED
    assert "already partly fulfilled" in resolution.problems[0].message


def test_unknown_sku_rejected(sandbox: Sandbox, generic_mapping: ColumnMapping) -> None:
    """A SKU that is not on the order is rejected and the order's SKUs are listed."""
    resolution = resolve(sandbox, group(OPEN_ORDER, [Item("", "HAT-RED", 1)]), generic_mapping)
    assert resolution.status is OrderStatus.REJECTED
    assert "SKU HAT-RED is not on this order" in resolution.problems[0].message
    assert resolution.problems[0].column == "SKU"


def test_unknown_price_rejected(sandbox: Sandbox, generic_mapping: ColumnMapping) -> None:
    """A price ID that is not on the order is rejected."""
    item = Item("6650a1b2c3d4e5f6010002ff", "", 1)
    resolution = resolve(sandbox, group(OPEN_ORDER, [item]), generic_mapping)
    assert resolution.problems[0].column == "Price ID"


def test_quantity_above_remaining_rejected(
    sandbox: Sandbox, generic_mapping: ColumnMapping
) -> None:
    """Fulfilling more than is left (ordered minus already fulfilled) is rejected."""
    resolution = resolve(sandbox, group(PARTLY_FULFILLED, [Item(TEE, "", 2)]), generic_mapping)
    assert resolution.status is OrderStatus.REJECTED
    assert "2 to fulfill, but only 1 left (2 ordered, 1 already fulfilled)" in (
        resolution.problems[0].message
    )


def test_price_and_sku_rows_add_up(sandbox: Sandbox, generic_mapping: ColumnMapping) -> None:
    """The same item named once by SKU and once by price ID counts as one item."""
    items = [Item("", "TEE-BLK-M", 1), Item(TEE, "", 1)]
    resolution = resolve(sandbox, group(OPEN_ORDER, items), generic_mapping)
    assert resolution.items == [Item(TEE, "TEE-BLK-M", 2)]


def test_unknown_order_rejected(sandbox: Sandbox, generic_mapping: ColumnMapping) -> None:
    """An order that is not in the location is rejected, naming the location."""
    resolution = resolve(sandbox, group(MISSING_ORDER, []), generic_mapping)
    assert resolution.status is OrderStatus.REJECTED
    assert f"was not found in location {LOCATION}" in resolution.problems[0].message


def test_tracking_already_sent_skipped(sandbox: Sandbox, generic_mapping: ColumnMapping) -> None:
    """An order whose tracking number is already on a fulfillment is skipped, with its ID."""
    order = group(PARTLY_FULFILLED, [Item(TEE, "", 1)], tracking="1z999aa10123456784")
    resolution = resolve(sandbox, order, generic_mapping)
    assert resolution.status is OrderStatus.SKIPPED
    assert resolution.fulfillment_id == "6650a1b2c3d4e5f601000901"


def test_new_package_beside_sent_one_rejected(
    sandbox: Sandbox, generic_mapping: ColumnMapping
) -> None:
    """An order mixing a sent and a new tracking number is rejected, not half sent."""
    order = group(PARTLY_FULFILLED, [Item(TEE, "", 1)], tracking="1Z999AA10123456784")
    order.trackings.append(Tracking("986578788855", "FedEx"))
    resolution = resolve(sandbox, order, generic_mapping)
    assert resolution.status is OrderStatus.REJECTED


# Responses of the wrong shape


def fulfillment_listing(**changes: Any) -> dict[str, Any]:
    fulfillment = {
        "_id": "6650a1b2c3d4e5f601000901",
        "createdAt": "2026-11-30T10:00:00.000Z",
        "trackings": [{"trackingNumber": "1Z999AA10123456784"}],
        "items": [{"priceId": TEE, "qty": 1}],
    }
    return {"status": True, "data": [fulfillment | changes]}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ([], "it is a list"),
        (None, "HighLevel's list of fulfillments could not be read"),
        ("OK", "it is a text"),
        ({"status": True}, 'no "data" list'),
        (fulfillment_listing(_id=5), "a fulfillment ID in HighLevel's response is a number"),
        (
            fulfillment_listing(trackings=[{"trackingNumber": 1234}]),
            "a tracking number in HighLevel's response is a number",
        ),
        (fulfillment_listing(items=[{"priceId": 7, "qty": 1}]), "a fulfilled item's ID"),
        (fulfillment_listing(items=[{"priceId": TEE, "qty": True}]), "True, not a whole number"),
        (fulfillment_listing(items=[{"priceId": TEE, "qty": 1.5}]), "1.5, not a whole number"),
        (fulfillment_listing(items=[{"priceId": TEE, "qty": "two"}]), "'two', not a whole"),
    ],
)
def test_fulfillment_listing_wrong_shape_named(body: Any, named: str) -> None:
    with pytest.raises(UnreadableResponse, match=re.escape(named)):
        parse_fulfillments(body)


def test_fulfillment_listing_extra_fields_accepted() -> None:
    body = fulfillment_listing(newField={"nested": [1, 2]}, status="shipped")
    body["pagination"] = {"next": None}

    (fulfillment,) = parse_fulfillments(body)

    assert fulfillment.tracking_numbers == frozenset({"1Z999AA10123456784"})
    assert fulfillment.quantities == {TEE: 1}


def test_fulfillment_date_of_other_type_left_out() -> None:
    (fulfillment,) = parse_fulfillments(fulfillment_listing(createdAt=1764496800))

    assert fulfillment.created_at == ""


@pytest.mark.parametrize("qty", [2, 2.0, "2"])
def test_order_quantity_forms_read(qty: object) -> None:
    body = {"items": [{"qty": qty, "price": {"_id": TEE, "sku": "TEE-BLK-M"}}]}

    (item,) = parse_order_items(body, [])

    assert item.ordered == 2


def test_order_price_id_number_rejected() -> None:
    body = {"items": [{"qty": 1, "price": {"_id": 5, "sku": "TEE-BLK-M"}}]}

    with pytest.raises(UnreadableResponse, match="price ID of an item of the order"):
        parse_order_items(body, [])


@pytest.mark.parametrize(
    "body",
    [
        {"data": [], "totalCount": float("inf")},
        {"data": [], "totalCount": "many"},
        {"data": [{"_id": 5, "name": "Order #1"}], "totalCount": 1},
        {"data": []},
        [],
    ],
)
def test_order_page_wrong_shape_rejected(body: Any) -> None:
    with pytest.raises(UnreadableResponse):
        _read_order_page(body)


def test_unreadable_listing_fails_order(sandbox: Sandbox, generic_mapping: ColumnMapping) -> None:
    """A listing that gets an empty 200 fails the order as unavailable, with the reason."""
    plan = FaultPlan(malformed_rate=1.0, malformed_kinds=(FaultKind.EMPTY_BODY,))
    sandbox.set_faults(plan)

    resolution = resolve(sandbox, group(OPEN_ORDER, []), generic_mapping)

    assert resolution.status is OrderStatus.FAILED
    assert resolution.kind is ErrorKind.UNAVAILABLE
    assert resolution.message == (
        "HighLevel's list of fulfillments could not be read (HTTP 200: the response was empty)"
    )
