from __future__ import annotations

import asyncio

from importer.group import OrderGroup
from importer.mapping import ColumnMapping
from importer.records import Item, OrderStatus, Tracking
from importer.resolve import Resolution, resolve_order
from importer.sandbox import Sandbox
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
