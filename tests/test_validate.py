"""Tests for importer.validate: checking orders against the create-fulfillment request."""

from __future__ import annotations

import pytest

from importer.group import OrderGroup, group_rows
from importer.mapping import ColumnMapping
from importer.records import Item, Problem, Tracking
from importer.validate import CreateFulfillment, build_request, check_order
from tests.conftest import ORDER_A, normalized

LOCATION = "Xk7pQ2mLw9RtY4vB8nZc"
PRICE = "6578278e879ad2646715ba9c"


def order(**changes: object) -> OrderGroup:
    group = OrderGroup(
        ORDER_A,
        LOCATION,
        rows=[2],
        trackings=[Tracking("986578788855", "FedEx", "")],
        items=[Item(PRICE, "", 2)],
        item_rows={0: [2]},
    )
    for name, value in changes.items():
        setattr(group, name, value)
    return group


def test_request_matches_api_shape() -> None:
    """The body has the five keys of CreateFulfillmentDto and drops empty optional fields."""
    request = build_request(order(), order().items, notify_customer=False)
    assert isinstance(request, CreateFulfillment)
    assert request.to_json() == {
        "altId": LOCATION,
        "altType": "location",
        "trackings": [{"trackingNumber": "986578788855", "shippingCarrier": "FedEx"}],
        "items": [{"priceId": PRICE, "qty": 2}],
        "notifyCustomer": False,
    }


def test_request_without_items_invalid() -> None:
    """A fulfillment must name at least one item."""
    result = build_request(order(), [], notify_customer=True)
    assert isinstance(result, Problem)
    assert result.rows == (2,)


def test_missing_location_reported(generic_mapping: ColumnMapping) -> None:
    """An order without a location cannot be sent and says where to set one."""
    problems = check_order(order(location_id=""), generic_mapping)
    assert "no location (sub-account) ID" in problems[0].message


def test_order_without_tracking_reported(generic_mapping: ColumnMapping) -> None:
    """An order with rows but no tracking number at all is reported."""
    problems = check_order(order(trackings=[]), generic_mapping)
    assert problems[0].message == "no tracking number is given for this order"


def test_overlong_tracking_number_reported(generic_mapping: ColumnMapping) -> None:
    """A tracking number longer than any carrier issues is caught before sending."""
    problems = check_order(order(trackings=[Tracking("9" * 101)]), generic_mapping)
    assert problems[0].column == "Tracking Number"


def test_valid_order_has_no_problems(generic_mapping: ColumnMapping) -> None:
    """A complete order passes."""
    assert check_order(order(), generic_mapping) == []


def test_overlong_tracking_echo_shortened(generic_mapping: ColumnMapping) -> None:
    """The last-guard message shows at most 40 characters of the tracking number."""
    problems = check_order(order(trackings=[Tracking("9" * 5002)]), generic_mapping)
    assert problems[0].message.startswith(f"tracking '{'9' * 39}…': ")
    assert len(problems[0].message) < 120


def file_order_messages(cells: dict[str, str]) -> list[str]:
    """Normalize, group and check one row, and return every message of its order."""
    row = {"Order ID": ORDER_A, "Tracking Number": "1Z999AA10123456784", **cells}
    shipments, mapping = normalized([row])
    grouping = group_rows(shipments, mapping=mapping, default_location=LOCATION)
    group = grouping.orders[0]
    group.problems.extend(check_order(group, mapping))
    return [problem.message for problem in group.problems]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"Tracking Number": "9" * 5002}, "a tracking number has at most 100"),
        ({"Carrier": "C" * 101}, "a carrier name has at most 100"),
        ({"Tracking URL": "https://track.test/?n=" + "9" * 2000}, "a tracking URL has at most"),
    ],
)
def test_overlong_cell_reported_once(cells: dict[str, str], expected: str) -> None:
    """A cell over a length limit gets normalize's message and no validation library text."""
    messages = file_order_messages(cells)
    assert len(messages) == 1
    assert expected in messages[0]
    assert not any("String should have" in message for message in messages)


def test_row_without_item_beside_item_rows_rejected(generic_mapping: ColumnMapping) -> None:
    """A row that names no item, in an order whose other rows do, is an error on that row."""
    group = order(rows=[2, 3])
    problems = check_order(group, generic_mapping)
    assert [problem.rows for problem in problems] == [(3,)]
