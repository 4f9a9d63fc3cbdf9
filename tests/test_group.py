from __future__ import annotations

from importer.group import Grouping, group_rows
from importer.records import Item, Severity, Tracking
from tests.conftest import ORDER_A, ORDER_B, normalized

LOCATION = "Xk7pQ2mLw9RtY4vB8nZc"


def grouped(rows: list[dict[str, str]]) -> Grouping:
    shipments, mapping = normalized(rows)
    return group_rows(shipments, mapping=mapping, default_location=LOCATION)


def row(order: str = ORDER_A, tracking: str = "1Z999AA10123456784", **cells: str) -> dict[str, str]:
    return {"Order ID": order, "Tracking Number": tracking, **cells}


def test_rows_of_order_joined_wherever_they_stand() -> None:
    """Rows of one order separated by another order's rows form one request."""
    result = grouped(
        [row(ORDER_A), row(ORDER_B, "1Z999AA10123456785"), row(ORDER_A, "1Z999AA10123456786")]
    )
    assert [order.order_id for order in result.orders] == [ORDER_A, ORDER_B]
    assert result.orders[0].rows == [2, 4]


def test_packages_become_trackings() -> None:
    """Two tracking numbers of one order are two trackings of one fulfillment."""
    result = grouped([row(tracking="1Z999AA10123456784"), row(tracking="1Z999AA10123456785")])
    numbers = [tracking.number for tracking in result.orders[0].trackings]
    assert numbers == ["1Z999AA10123456784", "1Z999AA10123456785"]


def test_tracking_on_several_rows_counted_once() -> None:
    """One package holding two items appears once in the trackings."""
    result = grouped([row(SKU="TEE-BLK-M"), row(SKU="CAP-OLV")])
    assert result.orders[0].trackings == [
        Tracking(
            "1Z999AA10123456784", "UPS", "https://www.ups.com/track?tracknum=1Z999AA10123456784"
        )
    ]


def test_same_item_on_several_rows_adds_up() -> None:
    """The same SKU on two rows is one item with the quantities added."""
    result = grouped([row(SKU="TEE-BLK-M", Qty="2"), row(SKU="tee-blk-m", Qty="1")])
    assert result.orders[0].items == [Item("", "TEE-BLK-M", 3)]


def test_item_without_qty_counts_one() -> None:
    """An item named without a quantity means one of it."""
    result = grouped([row(SKU="CAP-OLV")])
    assert result.orders[0].items == [Item("", "CAP-OLV", 1)]


def test_repeated_row_counted_once() -> None:
    """A row repeated exactly (every cell equal) counts once, with a warning."""
    shipments, mapping = normalized([row(SKU="TEE-BLK-M", Qty="1")] * 2)
    result = group_rows(shipments, mapping=mapping, default_location=LOCATION)
    assert result.orders[0].items == [Item("", "TEE-BLK-M", 1)]
    assert shipments[1].problems[0].severity is Severity.WARNING
    assert "repeats row 2" in shipments[1].problems[0].message


def test_row_without_order_kept_apart() -> None:
    """A row with no order ID is not part of any order and is kept for the report."""
    result = grouped([row(order="")])
    assert result.orders == []
    assert [shipment.number for shipment in result.rows_without_order] == [2]


def test_bad_row_rejects_its_order_only() -> None:
    """An error on one row marks its order, not the other orders."""
    result = grouped([row(ORDER_A, tracking=""), row(ORDER_B)])
    assert result.orders[0].has_errors
    assert not result.orders[1].has_errors


def test_conflicting_carriers_rejected() -> None:
    """One tracking number given with two carriers is a contradiction."""
    result = grouped(
        [
            row(tracking="986578788855", Carrier="FedEx"),
            row(tracking="986578788855", Carrier="USPS"),
        ]
    )
    assert result.orders[0].has_errors


def test_conflicting_notify_rejected() -> None:
    """Rows of one order must agree on notifying the customer."""
    result = grouped([row(**{"Notify Customer": "yes"}), row(**{"Notify Customer": "no"})])
    assert result.orders[0].has_errors


def test_location_column_overrides_default() -> None:
    """A location ID on the rows replaces the run's location for that order."""
    result = grouped([row(**{"Location ID": "OtherLocation0000000"})])
    assert result.orders[0].location_id == "OtherLocation0000000"


def test_empty_first_location_takes_later_rows() -> None:
    """An order's first row without a location takes the one its later rows name."""
    result = grouped([row(), row(**{"Location ID": "OtherLocation0000000"})])
    assert result.orders[0].location_id == "OtherLocation0000000"


def test_empty_first_location_not_a_conflict() -> None:
    result = grouped([row(), row(**{"Location ID": "OtherLocation0000000"})])
    assert not result.orders[0].has_errors
