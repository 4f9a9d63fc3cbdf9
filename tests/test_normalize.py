from __future__ import annotations

from importer.normalize import ShipmentRow
from importer.records import Severity
from tests.conftest import ORDER_A, normalized


def normalize_one(cells: dict[str, str]) -> ShipmentRow:
    row = {"Order ID": ORDER_A, "Tracking Number": "1Z999AA10123456784", **cells}
    rows, _ = normalized([row])
    return rows[0]


def messages(row: ShipmentRow) -> list[str]:
    return [problem.message for problem in row.problems]


def test_clean_row_has_no_problems() -> None:
    """A well-formed row normalizes without any problem."""
    row = normalize_one({})
    assert row.problems == []
    assert row.order_id == ORDER_A


def test_order_id_uppercase_lowered() -> None:
    """HighLevel IDs are lowercase hex; an uppercase copy is the same ID."""
    row = normalize_one({"Order ID": ORDER_A.upper()})
    assert row.order_id == ORDER_A
    assert not row.has_errors


def test_order_number_rejected() -> None:
    """An order number such as #1001 is not an order ID and says so."""
    row = normalize_one({"Order ID": "#1001"})
    assert row.has_errors
    assert "is not a HighLevel order ID" in messages(row)[0]


def test_missing_order_id_rejected() -> None:
    """A row without an order ID carries an error on the order ID column."""
    row = normalize_one({"Order ID": "  "})
    assert row.problems[0].column == "Order ID"
    assert row.problems[0].message == "the order ID is missing"


def test_missing_tracking_number_rejected() -> None:
    """An empty tracking number is an error naming the column and row."""
    row = normalize_one({"Tracking Number": ""})
    problem = row.problems[0]
    assert problem.column == "Tracking Number"
    assert problem.rows == (2,)
    assert problem.message == "the tracking number is missing"


def test_scientific_notation_rejected() -> None:
    """A tracking number shown as 4.00123E+11 lost digits and cannot be repaired."""
    row = normalize_one({"Tracking Number": "4.00123E+11"})
    assert row.has_errors
    assert "lost its digits" in messages(row)[0]


def test_float_suffix_repaired_with_warning() -> None:
    """A '.0' added by a spreadsheet is removed, with a warning."""
    row = normalize_one({"Tracking Number": "400123456789.0", "Carrier": "FedEx"})
    assert row.tracking_number == "400123456789"
    assert row.problems[0].severity is Severity.WARNING


def test_tracking_number_spaces_removed() -> None:
    """Carriers print numbers in groups; the spaces are not part of the number."""
    row = normalize_one({"Tracking Number": "1Z 999 AA1 01 2345 6784"})
    assert row.tracking_number == "1Z999AA10123456784"


def test_invisible_characters_removed() -> None:
    """Zero-width and non-breaking spaces pasted from web pages are dropped."""
    row = normalize_one({"Tracking Number": "\u200b9400111899223100001234\u00a0"})
    assert row.tracking_number == "9400111899223100001234"


def test_leading_apostrophe_removed() -> None:
    """Excel's apostrophe that forces text is not part of the number."""
    row = normalize_one({"Tracking Number": "'9400111899223100001234", "Carrier": "USPS"})
    assert row.tracking_number == "9400111899223100001234"


def test_service_name_becomes_carrier() -> None:
    """A service name such as 'UPS® Ground' names the carrier UPS."""
    row = normalize_one({"Carrier": "UPS® Ground"})
    assert row.carrier == "UPS"


def test_unknown_carrier_kept_as_given() -> None:
    """A carrier the tool does not know is passed on unchanged."""
    row = normalize_one({"Carrier": "Speedy Couriers Ltd"})
    assert row.carrier == "Speedy Couriers Ltd"


def test_ups_detected_from_number() -> None:
    """An empty carrier cell is filled for a 1Z number, which only UPS issues."""
    row = normalize_one({})
    assert row.carrier == "UPS"


def test_tracking_url_built_from_carrier() -> None:
    """A known carrier without a tracking URL gets its tracking page address."""
    row = normalize_one({"Carrier": "FedEx", "Tracking Number": "986578788855"})
    assert row.tracking_url == "https://www.fedex.com/fedextrack/?trknbr=986578788855"


def test_tracking_url_without_scheme_rejected() -> None:
    """A tracking URL that is not a web address is an error."""
    row = normalize_one({"Tracking URL": "ups.com/track"})
    assert row.problems[0].column == "Tracking URL"


def test_qty_with_decimal_zero_accepted() -> None:
    """'2.0' from a spreadsheet is the whole number 2."""
    row = normalize_one({"SKU": "TEE-BLK-M", "Qty": " 2.0 "})
    assert row.qty == 2
    assert not row.has_errors


def test_fractional_qty_rejected() -> None:
    """Half an item cannot be shipped."""
    row = normalize_one({"SKU": "TEE-BLK-M", "Qty": "1.5"})
    assert "'1.5' is not a whole number of items" in messages(row)


def test_negative_qty_rejected() -> None:
    """A negative quantity is an error, not an item count."""
    row = normalize_one({"SKU": "TEE-BLK-M", "Qty": "-1"})
    assert "the quantity must be at least 1, not -1" in messages(row)


def test_zero_qty_rejected() -> None:
    """Zero items is not a fulfillment."""
    row = normalize_one({"SKU": "TEE-BLK-M", "Qty": "0"})
    assert "the quantity must be at least 1, not 0" in messages(row)


def test_qty_in_words_rejected() -> None:
    """'two' is not read as a number."""
    row = normalize_one({"SKU": "TEE-BLK-M", "Qty": "two"})
    assert row.qty is None
    assert row.has_errors


def test_qty_without_item_rejected() -> None:
    """A quantity that names no SKU or price ID cannot be placed."""
    row = normalize_one({"Qty": "2"})
    assert row.problems[0].column == "Qty"


def test_notify_customer_words() -> None:
    """Yes/no spellings become booleans; an empty cell leaves the run's setting."""
    assert normalize_one({"Notify Customer": "Yes"}).notify_customer is True
    assert normalize_one({"Notify Customer": "n"}).notify_customer is False
    assert normalize_one({"Notify Customer": ""}).notify_customer is None


def test_notify_customer_unclear_rejected() -> None:
    """A value that is neither yes nor no is an error, not a guess."""
    row = normalize_one({"Notify Customer": "maybe"})
    assert row.has_errors
