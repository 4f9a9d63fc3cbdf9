from __future__ import annotations

import pytest

from importer.carriers import detect_carrier, find_carrier, tracking_url


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
