"""Carrier names, their aliases and service names, and tracking page addresses.

Shipping tools write the carrier in many ways: "UPS", "ups_ground",
"UPS® Ground", "FedEx Home Delivery", "USPS Priority Mail". HighLevel shows the
carrier name to the customer, so every spelling is turned into one canonical
name, and a tracking URL is built when the file has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Carrier:
    name: str
    aliases: tuple[str, ...]
    tracking_url: str  # "{number}" is replaced with the URL-encoded tracking number


# Matched by the longest alias that starts the cleaned name, so that service
# names ("UPS 2nd Day Air", "USPS Priority Mail") find their carrier.
CARRIERS: tuple[Carrier, ...] = (
    Carrier("UPS", ("ups", "united parcel service"), "https://www.ups.com/track?tracknum={number}"),
    Carrier(
        "FedEx",
        ("fedex", "fed ex", "federal express"),
        "https://www.fedex.com/fedextrack/?trknbr={number}",
    ),
    Carrier(
        "USPS",
        ("usps", "us postal service", "united states postal service", "stamps com", "stamps"),
        "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    ),
    Carrier(
        "DHL Express",
        ("dhl express", "dhl"),
        "https://www.dhl.com/en/express/tracking.html?AWB={number}",
    ),
    Carrier(
        "DHL eCommerce",
        ("dhl ecommerce", "dhl global mail"),
        "https://webtrack.dhlecs.com/?trackingnumber={number}",
    ),
    Carrier("Canada Post", ("canada post", "postes canada"), ""),
    Carrier("Royal Mail", ("royal mail",), ""),
    Carrier("Australia Post", ("australia post", "auspost"), ""),
)

_UPS_NUMBER = re.compile(r"^1Z[0-9A-Z]{16}$")


def _clean(text: str) -> str:
    without_marks = text.replace("®", " ").replace("™", " ")
    words = re.sub(r"[^0-9a-z]+", " ", without_marks.casefold())
    return " ".join(words.split())


def find_carrier(text: str) -> Carrier | None:
    """Find the carrier named by a carrier or service name, or None when unknown."""
    cleaned = _clean(text)
    if not cleaned:
        return None

    matches = [
        (len(alias), carrier)
        for carrier in CARRIERS
        for alias in carrier.aliases
        if cleaned == alias or cleaned.startswith(alias + " ")
    ]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def detect_carrier(tracking_number: str) -> Carrier | None:
    """Guess the carrier from the tracking number's format where it is unambiguous.

    Only UPS's "1Z" numbers are recognised for now: the purely numeric formats
    of FedEx, USPS and DHL overlap, and a wrong guess would send the customer
    to the wrong tracking page.
    """
    if _UPS_NUMBER.match(tracking_number.upper()):
        return find_carrier("UPS")
    return None


def tracking_url(carrier: Carrier, tracking_number: str) -> str:
    """Build the carrier's public tracking page address, or "" when none is known."""
    if not carrier.tracking_url:
        return ""
    return carrier.tracking_url.format(number=quote(tracking_number, safe=""))
