"""Tests for importer.carriers: carrier names, tracking URLs and tracking-number check digits."""

from __future__ import annotations

import pytest

from importer.carriers import (
    MAX_LOST_ZEROS,
    detect_carrier,
    find_carrier,
    guess_lost_zeros,
    tracking_url,
    validate_check_digit,
)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("UPS", "UPS"),
        ("ups_ground", "UPS"),
        ("UPS® Ground", "UPS"),
        ("FedEx Home Delivery", "FedEx"),
        ("USPS Priority Mail", "USPS"),
        ("stamps_com", "USPS"),
        ("DHL Express Worldwide", "DHL Express"),
        ("DHL eCommerce", "DHL eCommerce"),
    ],
)
def test_names_and_services_found(text: str, name: str) -> None:
    """Carrier and service names in any spelling find their carrier."""
    carrier = find_carrier(text)
    assert carrier is not None
    assert carrier.name == name


def test_unknown_carrier_not_found() -> None:
    """A name that only starts like a carrier's is not taken for it."""
    assert find_carrier("UPSIDE Couriers") is None


def test_ups_number_detected() -> None:
    """A 1Z number is UPS."""
    carrier = detect_carrier("1z999aa10123456784")
    assert carrier is not None
    assert carrier.name == "UPS"


def test_numeric_number_not_guessed() -> None:
    """Purely numeric numbers are shared by several carriers and are not guessed."""
    assert detect_carrier("986578788855") is None


def test_tracking_url_encodes_number() -> None:
    """The tracking number is URL-encoded in the address."""
    carrier = find_carrier("USPS")
    assert carrier is not None
    assert (
        tracking_url(carrier, "94 00&1")
        == "https://tools.usps.com/go/TrackConfirmAction?tLabels=94%2000%261"
    )


def test_purolator_found() -> None:
    """Purolator is a known carrier."""
    carrier = find_carrier("Purolator Express")
    assert carrier is not None
    assert carrier.name == "Purolator"


# --- check digits ------------------------------------------------------------------------
#
# Test numbers from the public data set jkeen/tracking_number_data (MIT licence), commit
# b79ce4bfc04519ef4bc85bf7c6f321795aadf3d3, with their spaces removed.

VALID_NUMBERS = [
    ("Canada Post", "0073938000549297"),
    ("Canada Post", "7035114477138472"),
    ("Canada Post", "4002847016405018"),
    ("USPS", "03071790000523483741"),
    ("USPS", "71123456789123456787"),
    ("USPS", "71969010756003077385"),
    ("USPS", "9101123456789000000013"),
    ("USPS", "420221539101026837331000039521"),
    ("USPS", "9400111206206406260787"),
    ("USPS", "9405803699300124287899"),
    ("USPS", "420787459400111206206406260787"),
    ("USPS", "9505511069605048600624"),
    ("USPS", "92748931507708513018050063"),
    ("USPS", "420112139261290983497923666238"),
    ("USPS", "4201002334249200190132607600833457"),
    ("USPS", "4201028200009261290113185417468510"),
    ("FedEx", "986578788855"),
    ("FedEx", "477179081230"),
    ("FedEx", "041441760228964"),
    ("FedEx", "568283610012734"),
    ("FedEx", "000123450000000027"),
    ("FedEx", "9611020987654312345672"),
    ("FedEx", "32971514560102447849175802862014"),
    ("FedEx", "1001921334250001000300779017972697"),
    ("FedEx", "9622001560001234567100794808390594"),
    ("DHL Express", "3318810025"),
    ("DHL Express", "73891051146"),
    ("DHL Express", "1099255990"),
    ("Purolator", "320595463938"),
    ("Purolator", "287809468872"),
    ("Purolator", "331434972567"),
]

INVALID_NUMBERS = [
    ("Canada Post", "0073938000549292"),
    ("Canada Post", "5002847016405018"),
    ("USPS", "03071790000523483742"),
    ("USPS", "9101123456789000000014"),
    ("USPS", "9434611206206407667131"),
    ("USPS", "4201028200009261290113185417468511"),
    ("FedEx", "996578788855"),
    ("FedEx", "568283610012732"),
    ("FedEx", "9600000000000000000001"),
    ("FedEx", "32971514560102447849175802852014"),
    ("FedEx", "1001901781990001000300617767839438"),
    ("FedEx", "9622001560001234567100794808390595"),
    ("DHL Express", "3318810010"),
    ("DHL Express", "3318810034"),
    ("Purolator", "320595463939"),
    ("Purolator", "287809468875"),
]


@pytest.mark.parametrize(("carrier", "number"), VALID_NUMBERS)
def test_check_digit_valid(carrier: str, number: str) -> None:
    """A published valid number passes its carrier's check digit."""
    assert validate_check_digit(carrier, number) is True


@pytest.mark.parametrize(("carrier", "number"), INVALID_NUMBERS)
def test_check_digit_invalid(carrier: str, number: str) -> None:
    """A published number with a wrong check digit fails it."""
    assert validate_check_digit(carrier, number) is False


def test_check_digit_of_sscc_with_application_identifier() -> None:
    """A FedEx SSCC-18 with GS1's "00" before it has a valid check digit."""
    assert validate_check_digit("FedEx", "00" + "000123450000000027") is True


def test_check_digit_service_name_accepted() -> None:
    """A service name finds the carrier whose formats are checked."""
    assert validate_check_digit("FedEx Ground", "041441760228964") is True


@pytest.mark.parametrize(
    ("carrier", "number"),
    [
        ("Canada Post", "12345"),
        ("USPS", "2334611306206407667222"),
        ("Purolator", "KYV009956937"),
        ("DHL Express", "JJD0099999999"),
        ("UPS", "1Z5R89390357567127"),
        ("Speedy Couriers", "0073938000549297"),
    ],
    ids=["too-short", "wrong-prefix", "letters", "piece-id", "no-numeric-format", "unknown"],
)
def test_check_digit_no_format(carrier: str, number: str) -> None:
    """None means that no numeric format of the carrier fits the number."""
    assert validate_check_digit(carrier, number) is None


# --- leading zeros lost --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "number", "guess"),
    [
        ("Canada Post", "73938000549297", "0073938000549297"),
        ("USPS", "3071790000523483741", "03071790000523483741"),
        ("FedEx", "41441760228964", "041441760228964"),
        # Built for this test: the published numbers of these two do not start with 0.
        ("Purolator", "20595463934", "020595463934"),
        ("DHL Express", "848713552", "0848713552"),
    ],
)
def test_lost_zeros_guessed(carrier: str, number: str, guess: str) -> None:
    """A number shortened by lost leading zeros is padded back to a valid number."""
    assert guess_lost_zeros(carrier, number) == guess


def test_lost_zeros_valid_number_not_guessed() -> None:
    """A number that is valid as given gets no guess."""
    assert guess_lost_zeros("Canada Post", "0073938000549297") is None


def test_lost_zeros_wrong_check_digit_not_guessed() -> None:
    """No guess is made when no padding gives a valid check digit."""
    assert guess_lost_zeros("Canada Post", "73938000549292") is None


def test_lost_zeros_beyond_limit_not_guessed() -> None:
    """More than MAX_LOST_ZEROS missing zeros are not guessed, however valid the padding."""
    # Built for this test: 0000012345678905 is a valid Canada Post number.
    assert MAX_LOST_ZEROS < 5
    assert validate_check_digit("Canada Post", "0000012345678905") is True
    assert guess_lost_zeros("Canada Post", "12345678905") is None


def test_lost_zeros_unknown_carrier_not_guessed() -> None:
    """A carrier without numeric formats gets no guess."""
    assert guess_lost_zeros("Speedy Couriers", "73938000549297") is None


def test_lost_zeros_letters_not_guessed() -> None:
    """Only all-digit numbers can have lost leading zeros."""
    assert guess_lost_zeros("Canada Post", "A73938000549297") is None
