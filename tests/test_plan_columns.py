"""Normalizing and grouping a column at a time must give what the row-at-a-time rules give.

Random tables mix rows that the columnar path takes as they are with rows
that need a repair or a message, orders that agree and orders that conflict.
"""

from __future__ import annotations

import random

import pytest

from importer.group import group_rows, group_shipments
from importer.group.columns import OrderList
from importer.load import Table
from importer.normalize import normalize_row, normalize_table
from importer.validate import check_orders, count_valid
from tests.conftest import make_table, mapping_for

ORDERS = (
    "65a1b2c3d4e5f60718293a4b",
    "65A1B2C3D4E5F60718293A4C",
    " 65a1b2c3d4e5f60718293a4d ",
    "65a1b2c3d4e5f60718293a4e",
    "'65a1b2c3d4e5f60718293a4f",
    "#1001",
    "1001",
    "SO-1001",
    "1001.0",
    "Order #1002",
    "",
)
TRACKINGS = (
    "1Z999AA10123456784",
    "1Z0000000064330123",
    "1z0000000064330123",
    "986578788855",
    "ABCDEFGHIJ",
    "0000000000",
    "12345",
    "2026-12-01",
    "1Z999AA1012345678",
    "1Z999AA10123456784 1Z999AA10123456793",
    "1z999aa10123456784",
    "1Z999AA10123456785",
    "9400111899223197428490",
    "400111899223197428490",
    "4.00123E+11",
    "1234567890.0",
    "12e5",
    "TRK 1",
    "ABC_1",
    "",
    "X" * 101,
)
CARRIERS = ("UPS", "ups_ground", "FedEx Home Delivery", "USPS", "Acme Freight", "", "=SUM(A1)")
CARRIERS += ("UPS  Ground", "C" * 101)
URLS = ("", "", "https://track.example/1", "HTTP://track.example/2", "ftp://x", "h" * 2001)
PRICES = ("", "66b0a1b2c3d4e5f607182930", "66b0a1b2c3d4e5f607182931", "price 1", '"66b0"')
SKUS = ("", "SKU-1", "sku-1", "SKU-2", "SKU  3", "Mug 12oz", '24"')
QTYS = ("", "1", "2", " 3 ", "1.0", "1.5", "-1", "0", "two", "0000000001", "1234567890")
LOCATIONS = ("", "", "Xk7pQ2mLw9RtY4vB8nZc", "OtherLoc1", "bad loc")
NOTIFY = ("", "", "yes", "No", "TRUE", "x", "maybe")
POOLS = {
    "Order ID": ORDERS,
    "Tracking Number": TRACKINGS,
    "Carrier": CARRIERS,
    "Tracking URL": URLS,
    "Price ID": PRICES,
    "SKU": SKUS,
    "Qty": QTYS,
    "Location ID": LOCATIONS,
    "Notify Customer": NOTIFY,
}


# Values that the columnar path takes as they are, mixed so that plain rows
# still conflict at times (two carriers for one tracking number, two locations).
PLAIN = {
    "Tracking Number": TRACKINGS[:3],
    "Carrier": ("UPS", "FedEx", "", "Acme Freight"),
    "Tracking URL": ("", "", "https://track.example/1"),
    "Price ID": PRICES[:3],
    "SKU": SKUS[:4],
    "Qty": (*QTYS[:3], "0000000001"),
    "Location ID": ("", "", "", "Xk7pQ2mLw9RtY4vB8nZc", "OtherLoc1"),
    "Notify Customer": ("", "", "", "yes", "No"),
}


def random_rows(generator: random.Random, count: int) -> list[dict[str, str]]:
    """Rows that are plain most of the time, so that both paths have work."""
    plain_orders = [f"{0x65A000000000000000000000 + index:024x}" for index in range(count // 3 + 1)]
    plain_orders += [str(1001 + index) for index in range(count // 10 + 1)]
    rows: list[dict[str, str]] = []
    for _ in range(count):
        if rows and generator.random() < 0.05:
            rows.append(dict(generator.choice(rows)))  # an exact repeat
            continue
        if generator.random() < 0.75:
            row = {header: generator.choice(pool) for header, pool in PLAIN.items()}
            row["Order ID"] = generator.choice(plain_orders)
        else:
            row = {header: generator.choice(pool) for header, pool in POOLS.items()}
            if generator.random() < 0.5:
                row["Order ID"] = generator.choice(plain_orders)
        rows.append(row)
    return rows


@pytest.mark.parametrize("seed", range(80))
def test_columnar_plan_matches_rows(seed: int) -> None:
    generator = random.Random(seed)
    check_plan(make_table(random_rows(generator, generator.randrange(1, 60))))


def test_columnar_plan_matches_rows_in_batches() -> None:
    generator = random.Random(3000)
    check_plan(make_table(random_rows(generator, 6000)))


@pytest.mark.parametrize("seed", range(100, 110))
def test_columnar_plan_matches_rows_strict(seed: int) -> None:
    generator = random.Random(seed)
    check_plan(make_table(random_rows(generator, generator.randrange(1, 60))), strict=True)


def check_plan(table: Table, *, strict: bool = False) -> None:
    """Assert that both paths give the same rows, orders, problems and counts."""
    mapping = mapping_for(table)

    shipments = normalize_table(table, mapping, columnar=True, strict_tracking=strict)
    expected_rows = [normalize_row(row, mapping, strict_tracking=strict) for row in table.rows]
    assert list(shipments) == expected_rows

    grouping = group_shipments(shipments, mapping=mapping, default_location="Loc1")
    expected = group_rows(expected_rows, mapping=mapping, default_location="Loc1")
    check_orders(grouping.orders, mapping)
    check_orders(expected.orders, mapping)
    assert list(grouping.orders) == list(expected.orders)
    assert grouping.rows_without_order == expected.rows_without_order
    assert list(shipments) == expected_rows  # repeat warnings included
    assert count_valid(grouping.orders) == count_valid(expected.orders)


def test_plain_orders_grouped_from_arrays() -> None:
    generator = random.Random(7)
    table = make_table(random_rows(generator, 200))
    mapping = mapping_for(table)
    shipments = normalize_table(table, mapping)
    orders = group_shipments(shipments, mapping=mapping, default_location="Loc1").orders
    assert isinstance(orders, OrderList)
    assert any(orders.is_simple(index) for index in range(len(orders)))


def test_plain_rows_need_no_row_rules() -> None:
    row = {"Order ID": ORDERS[0], "Tracking Number": TRACKINGS[0], "Carrier": "UPS"}
    table = make_table([row])
    shipments = normalize_table(table, mapping_for(table))
    assert shipments.slow == {}


def test_simple_order_without_location_rejected() -> None:
    row = {"Order ID": ORDERS[0], "Tracking Number": TRACKINGS[0], "Price ID": PRICES[1]}
    table = make_table([row])
    mapping = mapping_for(table)
    grouping = group_shipments(
        normalize_table(table, mapping), mapping=mapping, default_location=""
    )
    check_orders(grouping.orders, mapping)
    assert count_valid(grouping.orders) == 0


def test_tracking_url_built_for_plain_row() -> None:
    row = {"Order ID": ORDERS[0], "Tracking Number": TRACKINGS[0], "Carrier": "UPS"}
    table = make_table([row])
    shipments = normalize_table(table, mapping_for(table))
    assert shipments.row(0).tracking_url == "https://www.ups.com/track?tracknum=1Z999AA10123456784"


def test_chunks_share_one_dictionary() -> None:
    import pyarrow as pa

    from importer.normalize.columns import first_appearance_codes

    values = pa.chunked_array([pa.array(["b", "a"]), pa.array(["c", "a", "b"])])
    distinct, codes = first_appearance_codes(values)
    assert (distinct.to_pylist(), codes.tolist()) == (["b", "a", "c"], [0, 1, 2, 1, 0])


def test_ups_numbers_checked_as_carriers_do() -> None:
    """The columnar UPS check agrees with importer.carriers on random 1Z numbers."""
    import numpy as np
    import pyarrow as pa

    from importer import carriers
    from importer.normalize.columns import _valid_ups_numbers

    generator = random.Random(11)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    numbers = [
        "1Z" + "".join(generator.choices(alphabet, k=15)) + str(generator.randrange(10))
        for _ in range(3000)
    ]
    numbers += [number.lower() for number in numbers[:200]]
    names = ["UPS"] * len(numbers)

    fast = _valid_ups_numbers(
        pa.chunked_array([pa.array(names, pa.large_string())]),
        pa.chunked_array([pa.array(numbers, pa.large_string())]),
        np.ones(len(numbers), dtype=bool),
    )

    expected = [
        carriers.check_tracking("UPS", number).status is carriers.TrackingStatus.VALID
        for number in numbers
    ]
    assert fast.tolist() == expected
    assert sum(expected) > 200  # about one number in ten has a right check digit


def test_empty_first_location_takes_later_rows_in_columns() -> None:
    """The columnar path, like the row path, takes the first location an order's rows name."""
    first = {"Order ID": ORDERS[0], "Tracking Number": TRACKINGS[0], "Location ID": ""}
    second = {"Order ID": ORDERS[0], "Tracking Number": TRACKINGS[0], "Location ID": "OtherLoc1"}
    table = make_table([first, second])
    mapping = mapping_for(table)
    grouping = group_shipments(
        normalize_table(table, mapping, columnar=True), mapping=mapping, default_location="Loc1"
    )
    assert next(iter(grouping.orders)).location_id == "OtherLoc1"
