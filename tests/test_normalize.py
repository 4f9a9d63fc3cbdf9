"""Tests for importer.normalize: cleaning and checking the cells of one row."""

from __future__ import annotations

import pytest

from importer.normalize import ShipmentRow, shorten
from importer.records import Severity
from tests.conftest import ORDER_A, ORDER_B, normalized


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


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("#1001", "1001"),
        ("1001", "1001"),
        ("Order #1001", "1001"),
        ("# 1001", "1001"),
        ("SO-1001", "SO-1001"),
        ("12-34567-89012", "12-34567-89012"),
        ("1001.0", "1001"),
    ],
)
def test_order_number_read(cell: str, number: str) -> None:
    """An order number as shipping tools print it is kept, without "#", for the lookup."""
    row = normalize_one({"Order ID": cell})
    assert row.order_id == number


@pytest.mark.parametrize("cell", ["SO 1001 X", "1.0012E+6", "#", "=1001", "-1001"])
def test_malformed_order_number_rejected(cell: str) -> None:
    """A value that is neither an order ID nor an order number is an error."""
    row = normalize_one({"Order ID": cell})
    assert row.has_errors


def test_malformed_order_number_message() -> None:
    """The error describes what an order ID and an order number look like."""
    row = normalize_one({"Order ID": "SO 1001 X"})
    assert "is neither a HighLevel order ID" in messages(row)[0]


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


# --- tracking number characters and length -------------------------------------------


def test_tracking_formula_characters_rejected() -> None:
    """A tracking number with characters no carrier uses is an error on its cell."""
    row = normalize_one({"Tracking Number": "=1+2"})
    assert row.problems[0].column == "Tracking Number"
    assert row.problems[0].rows == (2,)
    assert messages(row) == [
        '\'=1+2\' contains characters that tracking numbers do not have ("=", "+"); check the cell'
    ]


def test_tracking_hyphen_accepted() -> None:
    """Letters, digits and hyphens make a valid tracking number."""
    row = normalize_one({"Tracking Number": "LX-123456789-cn"})
    assert row.problems == []
    assert row.tracking_number == "LX-123456789-cn"


def test_tracking_control_character_named() -> None:
    """An invisible character is named by its code point, not shown as nothing."""
    row = normalize_one({"Tracking Number": "1Z999\x07AA1"})
    assert "(U+0007)" in messages(row)[0]


def test_tracking_scientific_checked_before_characters() -> None:
    """A number a spreadsheet turned into 4.00123E+11 gets only the lost-digits error."""
    row = normalize_one({"Tracking Number": "4.00123E+11"})
    assert len(row.problems) == 1
    assert "lost its digits" in messages(row)[0]


def test_tracking_characters_checked_after_repairs() -> None:
    """Spaces, Excel's apostrophe and a '.0' are repaired before the characters are checked."""
    row = normalize_one({"Tracking Number": "'4001 2345 6789.0", "Carrier": "FedEx"})
    assert row.tracking_number == "400123456789"
    assert not row.has_errors


def test_overlong_tracking_number_rejected() -> None:
    """A 5,002-character tracking number is rejected in a short message of our own."""
    row = normalize_one({"Tracking Number": "9" * 5002})
    message = messages(row)[0]
    assert "is 5002 characters long; a tracking number has at most 100" in message
    assert len(message) < 120
    assert row.tracking_number == ""


def test_tracking_number_of_100_accepted() -> None:
    """A tracking number of exactly 100 characters is within the limit."""
    row = normalize_one({"Tracking Number": "A9" * 50})
    assert row.problems == []


# --- carrier ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "carrier", ["@SUM(A1)", "-cmd|' /C calc'!A0", '=HYPERLINK("http://x.test","UPS")', "+1"]
)
def test_formula_carrier_rejected(carrier: str) -> None:
    """A carrier cell that a spreadsheet would run as a formula is an error on the row."""
    row = normalize_one({"Carrier": carrier})
    assert row.problems[0].column == "Carrier"
    assert row.problems[0].rows == (2,)
    assert "looks like a spreadsheet formula, not a carrier name" in messages(row)[0]


def test_overlong_carrier_rejected() -> None:
    """A carrier name over 100 characters is an error and is not passed on."""
    row = normalize_one({"Carrier": "C" * 101})
    assert row.problems[0].column == "Carrier"
    assert "is 101 characters long; a carrier name has at most 100" in messages(row)[0]
    assert row.carrier == ""


def test_carrier_of_100_accepted() -> None:
    """A carrier name of exactly 100 characters is within the limit."""
    row = normalize_one({"Carrier": "C" * 100})
    assert row.problems == []


def test_overlong_tracking_url_rejected() -> None:
    """A tracking URL over 2000 characters is rejected before the request is checked."""
    row = normalize_one({"Tracking URL": "https://track.test/?n=" + "9" * 2000})
    assert "is 2022 characters long; a tracking URL has at most 2000" in messages(row)[0]
    assert row.tracking_url == ""


# --- shortened values in messages -----------------------------------------------------


def test_shorten_keeps_short_value() -> None:
    """A value of 40 characters or fewer is shown whole."""
    assert shorten("A" * 40) == "A" * 40


def test_shorten_cuts_long_value() -> None:
    """A longer value is cut to 40 characters, the last being an ellipsis."""
    assert shorten("A" * 41) == "A" * 39 + "…"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("Order ID", "#" * 5000),
        ("Tracking Number", "4" * 5000 + "E+11"),
        ("Tracking Number", "=" * 99),
        ("Tracking URL", "ups.com/" + "x" * 1900),
        ("Price ID", "price " * 900),
        ("Qty", "q" * 5000),
        ("Qty", "-" + "0" * 5000),
        ("Location ID", "/" * 5000),
        ("Notify Customer", "m" * 5000),
        ("SKU", "\u201c" + "S" * 5000 + "\u201d"),
    ],
    ids=[
        "order-id",
        "tracking-scientific",
        "tracking-characters",
        "tracking-url",
        "price-id",
        "qty-words",
        "qty-zero",
        "location-id",
        "notify-customer",
        "quoted-sku",
    ],
)
def test_quoted_values_shortened(column: str, value: str) -> None:
    """Every message that shows a cell shows at most 40 characters of it."""
    cells = {column: value}
    if column == "Qty":
        cells["SKU"] = "TEE-BLK-M"
    row = normalize_one(cells)
    message = messages(row)[0]
    assert "…" in message
    assert len(message) < 250


# --- location ID -----------------------------------------------------------------------


def test_location_id_with_path_rejected() -> None:
    """A location ID with spaces, slashes or dots is an error on its row and column."""
    row = normalize_one({"Location ID": "x y/../z"})
    assert row.problems[0].column == "Location ID"
    assert row.problems[0].rows == (2,)
    assert "'x y/../z' is not a HighLevel location ID" in messages(row)[0]
    assert '(" ", "/", "." found)' in messages(row)[0]


def test_location_id_accepted() -> None:
    """A 20-character HighLevel location ID passes unchanged."""
    row = normalize_one({"Location ID": "3SwdhCu3svxI8AKsPJt6"})
    assert row.problems == []
    assert row.location_id == "3SwdhCu3svxI8AKsPJt6"


def test_location_id_of_64_accepted() -> None:
    """An ID of another format passes while it is letters and digits, up to 64 of them."""
    row = normalize_one({"Location ID": "L" * 64})
    assert row.problems == []


def test_overlong_location_id_rejected() -> None:
    """A location ID over 64 characters is an error and is not passed on."""
    row = normalize_one({"Location ID": "L" * 65})
    assert "is 65 characters long; a location ID has at most 64" in messages(row)[0]
    assert row.location_id == ""


def test_qty_of_thousands_of_digits_rejected() -> None:
    """A quantity cell of 5,000 digits is an error on the row, not a crash."""
    row = normalize_one({"SKU": "TEE-BLK-M", "Qty": "1" * 5000})
    assert row.qty is None
    assert "is too large to be a quantity of items" in messages(row)[0]


def test_qty_with_leading_zeros_accepted() -> None:
    """Leading zeros do not count against the quantity's digits."""
    row = normalize_one({"SKU": "TEE-BLK-M", "Qty": "0" * 5000 + "3"})
    assert row.qty == 3
    assert not row.has_errors


# --- quote marks -------------------------------------------------------------------------


def test_smart_quotes_removed_from_tracking() -> None:
    """Curly quotes pasted around a tracking number are removed, with a warning naming them."""
    row = normalize_one({"Tracking Number": "\u201c1Z999AA10123456784\u201d"})
    assert row.tracking_number == "1Z999AA10123456784"
    assert row.problems[0].severity is Severity.WARNING
    assert row.problems[0].column == "Tracking Number"
    assert messages(row) == [
        "'\u201c1Z999AA10123456784\u201d' was read as '1Z999AA10123456784', "
        "without its quote marks (\u201c \u201d)"
    ]


def test_plain_quotes_removed_from_price_id() -> None:
    """Apostrophes around a whole price ID are removed with a warning."""
    row = normalize_one({"SKU": "TEE-BLK-M", "Price ID": f"'{ORDER_B}'"})
    assert row.price_id == ORDER_B
    assert row.problems[0].severity is Severity.WARNING
    assert "without its quote marks (' ')" in messages(row)[0]


def test_low_quotes_removed_from_order_id() -> None:
    """German-style quotes around an order ID are removed and the ID is accepted."""
    row = normalize_one({"Order ID": f"\u201e{ORDER_A}\u201c"})
    assert row.order_id == ORDER_A
    assert not row.has_errors


def test_guillemets_removed_from_sku() -> None:
    """Guillemets around a SKU are removed with a warning."""
    row = normalize_one({"SKU": "\u00abTEE-BLK-M\u00bb"})
    assert row.sku == "TEE-BLK-M"
    assert row.problems[0].column == "SKU"


def test_double_quotes_removed_from_location_id() -> None:
    """Double quotes around a location ID are removed and the ID is accepted."""
    row = normalize_one({"Location ID": '"3SwdhCu3svxI8AKsPJt6"'})
    assert row.location_id == "3SwdhCu3svxI8AKsPJt6"
    assert not row.has_errors


def test_single_quotes_removed_from_sku() -> None:
    """Curly single quotes and the spaces inside them are removed from a SKU."""
    row = normalize_one({"SKU": "\u2018 TEE-BLK-M \u2019"})
    assert row.sku == "TEE-BLK-M"


def test_stray_closing_quote_removed() -> None:
    """A curly quote at one end only is removed too, with a warning."""
    row = normalize_one({"Tracking Number": "1Z999AA10123456784\u201d"})
    assert row.tracking_number == "1Z999AA10123456784"
    assert row.problems[0].severity is Severity.WARNING


def test_stray_low_quote_removed() -> None:
    """A single low quote at the start is removed with a warning."""
    row = normalize_one({"Tracking Number": "\u201a1Z999AA10123456784"})
    assert row.tracking_number == "1Z999AA10123456784"
    assert "(\u201a)" in messages(row)[0]


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("Order ID", f"'{ORDER_A}", "order_id"),
        ("Tracking Number", "'1Z999AA10123456784", "tracking_number"),
        ("Price ID", f"'{ORDER_B}", "price_id"),
        ("SKU", "'TEE-BLK-M", "sku"),
        ("Location ID", "'3SwdhCu3svxI8AKsPJt6", "location_id"),
    ],
    ids=["order-id", "tracking-number", "price-id", "sku", "location-id"],
)
def test_leading_apostrophe_removed_silently(column: str, value: str, field: str) -> None:
    """Excel's hidden apostrophe is removed from every ID field without a message."""
    row = normalize_one({column: value})
    assert getattr(row, field) == value[1:]
    assert row.problems == []


def test_second_apostrophe_warned() -> None:
    """An apostrophe after Excel's own is visible in the cell, so removing it is reported."""
    row = normalize_one({"Tracking Number": "''1Z999AA10123456784"})
    assert row.tracking_number == "1Z999AA10123456784"
    assert row.problems[0].severity is Severity.WARNING


def test_inch_mark_kept_in_sku() -> None:
    """A plain double quote at the end of a SKU is not removed: it may be an inch mark."""
    row = normalize_one({"SKU": 'PIPE-3/4"'})
    assert row.sku == 'PIPE-3/4"'
    assert row.problems == []


def test_apostrophe_before_inch_mark() -> None:
    """Excel's apostrophe before a SKU ending in an inch mark is not taken for a pair."""
    row = normalize_one({"SKU": "'12\""})
    assert row.sku == '12"'
    assert row.problems == []


def test_quotes_inside_value_kept() -> None:
    """Quote marks inside a tracking number stay and are reported as wrong characters."""
    row = normalize_one({"Tracking Number": "1Z999\u201cAA1"})
    assert row.has_errors
    assert '("\u201c")' in messages(row)[0]


def test_empty_quotes_are_missing_value() -> None:
    """A cell holding only quote marks gets only the missing-value error."""
    row = normalize_one({"Order ID": "\u201c\u201d"})
    assert messages(row) == ["the order ID is missing"]


# --- invisible characters and spaces inside a tracking number ----------------------------


@pytest.mark.parametrize(
    "separator",
    ["\u2007", "\u202f", "\u2060", "\t"],
    ids=["figure-space", "narrow-no-break-space", "word-joiner", "tab"],
)
def test_tracking_separator_removed(separator: str) -> None:
    """Figure spaces, narrow no-break spaces, word joiners and tabs are not part of a number."""
    row = normalize_one({"Tracking Number": f"1Z999AA1{separator}0123456784"})
    assert row.tracking_number == "1Z999AA10123456784"
    assert row.problems == []


# --- leading zeros lost ------------------------------------------------------------------


def test_lost_zeros_rejected() -> None:
    """A Canada Post number that lost its leading zeros is an error with the likely number."""
    row = normalize_one({"Tracking Number": "73938000549297", "Carrier": "Canada Post"})
    assert row.problems[0].column == "Tracking Number"
    assert row.problems[0].rows == (2,)
    assert row.problems[0].severity is Severity.ERROR
    assert messages(row) == [
        "'73938000549297' looks like a Canada Post number that lost its leading zeros "
        "(probably 0073938000549297); re-export the file with this column formatted as text"
    ]


def test_lost_zeros_not_repaired() -> None:
    """The likely number is only shown; the tracking number stays as the file gave it."""
    row = normalize_one({"Tracking Number": "73938000549297", "Carrier": "Canada Post"})
    assert row.tracking_number == "73938000549297"


def test_lost_zeros_carrier_from_service_name() -> None:
    """A service name such as 'USPS First-Class Mail' names the carrier to check."""
    row = normalize_one(
        {"Tracking Number": "3071790000523483741", "Carrier": "USPS First-Class Mail"}
    )
    assert "(probably 03071790000523483741)" in messages(row)[0]


def test_lost_zeros_after_float_suffix() -> None:
    """A number stored as a number can lose its zeros and gain '.0': both are reported."""
    row = normalize_one({"Tracking Number": "73938000549297.0", "Carrier": "Canada Post"})
    assert [problem.severity for problem in row.problems] == [Severity.WARNING, Severity.ERROR]
    assert "(probably 0073938000549297)" in messages(row)[1]


def test_lost_zeros_valid_number_accepted() -> None:
    """A Canada Post number with its leading zeros is accepted without a problem."""
    row = normalize_one({"Tracking Number": "0073938000549297", "Carrier": "Canada Post"})
    assert row.problems == []


def test_lost_zeros_valid_short_format_accepted() -> None:
    """A valid 12-digit FedEx Express number is not taken for a shortened longer one."""
    row = normalize_one({"Tracking Number": "986578788855", "Carrier": "FedEx"})
    assert row.problems == []


def test_lost_zeros_without_carrier_not_checked() -> None:
    """Without a carrier the number's formats are unknown, so nothing is reported."""
    row = normalize_one({"Tracking Number": "73938000549297"})
    assert row.problems == []


def test_lost_zeros_wrong_check_digit_not_reported() -> None:
    """A short number that no padding makes valid is not reported as having lost zeros."""
    row = normalize_one({"Tracking Number": "73938000549292", "Carrier": "Canada Post"})
    assert row.problems == []


def test_excel_text_formula_unwrapped() -> None:
    """The ="…" form exports use to keep leading zeros reads as the text inside."""
    row = normalize_one({"Tracking Number": '="796799488569"', "Carrier": "FedEx"})
    assert row.tracking_number == "796799488569"
    assert not row.has_errors


# --- values that are not one tracking number ------------------------------------------------


def test_two_lines_in_tracking_cell_rejected() -> None:
    """A cell with a number on each of two lines is two packages, not one number."""
    row = normalize_one({"Tracking Number": "1Z4W72E80356327295\n1Z4W72E80351817569"})
    assert messages(row) == [
        "the cell holds 2 tracking numbers; put each package on a row of its own"
    ]


def test_two_numbers_with_space_rejected() -> None:
    """Two whole numbers side by side are two packages."""
    row = normalize_one({"Tracking Number": "1Z999AA10123456784 1Z999AA10123456793"})
    assert row.has_errors


def test_grouped_number_joined() -> None:
    """A number printed in groups, as on a label, is one number."""
    row = normalize_one({"Tracking Number": "1Z 999 AA1 0123 4567 84"})
    assert row.tracking_number == "1Z999AA10123456784"


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("UPS", "it has no digits"),
        ("ABCDEFGHIJ", "it has no digits"),
        ("0000000000", "it is only zeros"),
        ("2026-12-01", "is a date, not a tracking number"),
    ],
)
def test_value_that_is_no_tracking_number_rejected(cell: str, reason: str) -> None:
    """Text without digits, zeros alone and dates are not tracking numbers."""
    row = normalize_one({"Tracking Number": cell})
    assert reason in messages(row)[0]


def test_short_number_warned() -> None:
    """A number shorter than any carrier's is sent, with a warning to check it."""
    row = normalize_one({"Tracking Number": "12345"})
    assert row.problems[0].severity is Severity.WARNING


def test_short_number_rejected_when_strict() -> None:
    """With --strict-tracking a number shorter than any carrier's is rejected."""
    table_row = {"Order ID": ORDER_A, "Tracking Number": "12345"}
    from importer.normalize import normalize_row
    from tests.conftest import make_table, mapping_for

    table = make_table([table_row])
    row = normalize_row(table.rows[0], mapping_for(table), strict_tracking=True)
    assert row.has_errors


def test_ups_number_of_wrong_length_warned() -> None:
    """A 1Z number one character short gets a warning naming the length."""
    row = normalize_one({"Tracking Number": "1Z4W72E8036639233", "Carrier": "UPS"})
    assert "has 17 characters instead of 18" in messages(row)[0]
