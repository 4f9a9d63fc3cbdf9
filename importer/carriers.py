"""Carrier names, their aliases and service names, tracking page addresses and number formats.

Shipping tools write the carrier in many ways: "UPS", "ups_ground",
"UPS® Ground", "FedEx Home Delivery", "USPS Priority Mail". HighLevel shows the
carrier name to the customer, so every spelling is turned into one canonical
name, and a tracking URL is built when the file has none.

The numeric tracking-number formats and their check digits let the importer
notice a number that a spreadsheet damaged by dropping its leading zeros.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
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
    Carrier("Purolator", ("purolator",), ""),
    Carrier("Royal Mail", ("royal mail",), ""),
    Carrier("Australia Post", ("australia post", "auspost"), ""),
)

# Tracking-number formats that name their carrier, as (pattern of the upper-case
# number, carrier name). The patterns use only syntax that both Python's re and
# RE2 (pyarrow's regular expressions) read alike.
NUMBER_PATTERNS: tuple[tuple[str, str], ...] = (("^1Z[0-9A-Z]{16}$", "UPS"),)
_NUMBER_PATTERNS = tuple((re.compile(pattern), name) for pattern, name in NUMBER_PATTERNS)


def _clean(text: str) -> str:
    without_marks = text.replace("®", " ").replace("™", " ")
    words = re.sub(r"[^0-9a-z]+", " ", without_marks.casefold())
    return " ".join(words.split())


# A file repeats a handful of carrier and service names on every row, so a
# small cache turns the matching into a dictionary lookup.
@functools.lru_cache(maxsize=1024)
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
    upper = tracking_number.upper()
    for pattern, name in _NUMBER_PATTERNS:
        if pattern.match(upper):
            return find_carrier(name)
    return None


def tracking_url(carrier: Carrier, tracking_number: str) -> str:
    """Build the carrier's public tracking page address, or "" when none is known."""
    if not carrier.tracking_url:
        return ""
    return carrier.tracking_url.format(number=quote(tracking_number, safe=""))


# --- numeric tracking-number formats and their check digits ------------------------------
#
# The formats, their lengths and check-digit rules follow the public data set
# jkeen/tracking_number_data (MIT licence), commit b79ce4bfc04519ef4bc85bf7c6f321795aadf3d3.

# A check-digit rule computes the expected check digit from the digits it covers.
CheckRule = Callable[[str], int]


@dataclass(frozen=True)
class NumberFormat:
    """A numeric tracking-number format of one carrier.

    `pattern` must match the whole number. Its group "serial" contains the digits
    that the check digit covers, and its group "check" is the check digit.
    """

    name: str
    lengths: tuple[int, ...]
    pattern: re.Pattern[str]
    check_rule: CheckRule
    # USPS labels may put the routing code "420" and a 5- or 9-digit ZIP code before the
    # number; the check digit does not cover it.
    routing_code: bool = False


def mod10(evens: int, odds: int, *, reverse: bool = False) -> CheckRule:
    """Build a weighted mod-10 rule as the data set defines it.

    Counting from 0 at the first digit (the last when `reverse`), digits at even
    positions are multiplied by `evens` and those at odd positions by `odds`.
    """

    def check_digit(digits: str) -> int:
        ordered = digits[::-1] if reverse else digits
        total = sum(
            int(digit) * (evens if position % 2 == 0 else odds)
            for position, digit in enumerate(ordered)
        )
        return (10 - total % 10) % 10

    return check_digit


def mod7(digits: str) -> int:
    """Compute the mod-7 check digit: the remainder of the number divided by 7."""
    return int(digits) % 7


def luhn(digits: str) -> int:
    """Compute the Luhn check digit, which doubles every second digit from the right."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit)
        if position % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return (10 - total % 10) % 10


def weighted(weights: tuple[int, ...], modulo1: int, modulo2: int) -> CheckRule:
    """Build a rule that sums each digit times its weight, then takes two remainders."""

    def check_digit(digits: str) -> int:
        total = sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=True))
        return total % modulo1 % modulo2

    return check_digit


def _usps_legacy(digits: str) -> int:
    # The data set's legacy USPS numbers are checked as if they started with "91",
    # which the 20-digit form leaves out.
    with_prefix = digits if digits.startswith("91") else "91" + digits
    return mod10(3, 1)(with_prefix)


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.ASCII)


_FEDEX_12_WEIGHTS = (3, 1, 7) * 3 + (3, 1)
_FEDEX_34_WEIGHTS = (1, 7, 3) * 4 + (1,)

NUMBER_FORMATS: dict[str, tuple[NumberFormat, ...]] = {
    "Canada Post": (
        NumberFormat(
            "Canada Post (16)", (16,), _pattern(r"(?P<serial>\d{15})(?P<check>\d)"), mod10(3, 1)
        ),
    ),
    "USPS": (
        NumberFormat("USPS 20", (20,), _pattern(r"(?P<serial>\d{19})(?P<check>\d)"), mod10(3, 1)),
        NumberFormat(
            "USPS Legacy",
            (20, 22, 28, 30, 32, 34),
            _pattern(r"(?P<serial>(?:91)?\d{19})(?P<check>\d)"),
            _usps_legacy,
            routing_code=True,
        ),
        # Intelligent Mail package barcode: 22, 26 or 30 digits that start with 92 to 95. The
        # data set weights the digits of its "N" form from the right and of its "C" form from
        # the left, which is the same here because an odd number of digits precedes the check.
        NumberFormat(
            "USPS IMpb",
            (22, 26, 30, 34),
            _pattern(r"(?P<serial>9[2-5]\d{19}(?:\d{4}){0,2})(?P<check>\d)"),
            mod10(3, 1, reverse=True),
            routing_code=True,
        ),
    ),
    "FedEx": (
        NumberFormat(
            "FedEx Express (12)",
            (12,),
            _pattern(r"(?P<serial>\d{11})(?P<check>\d)"),
            weighted(_FEDEX_12_WEIGHTS, 11, 10),
        ),
        NumberFormat(
            "FedEx Ground (15)", (15,), _pattern(r"(?P<serial>\d{14})(?P<check>\d)"), mod10(1, 3)
        ),
        NumberFormat(
            "FedEx Ground SSCC-18 (18)",
            (18,),
            _pattern(r"\d{2}(?P<serial>\d{15})(?P<check>\d)"),
            mod10(3, 1),
        ),
        # GS1's application identifier "00" before an 18-digit SSCC, whose check digit
        # GS1 computes over all 17 digits before it.
        NumberFormat(
            "FedEx Ground SSCC-18 (20)",
            (20,),
            _pattern(r"00(?P<serial>\d{17})(?P<check>\d)"),
            mod10(3, 1),
        ),
        NumberFormat(
            "FedEx Ground 96 (22)",
            (22,),
            _pattern(r"96\d{5}(?P<serial>\d{14})(?P<check>\d)"),
            mod10(1, 3),
        ),
        NumberFormat(
            "FedEx ASTRA (32)",
            (32,),
            _pattern(r"3\d{15}(?P<serial>\d{11})(?P<check>\d)\d{4}"),
            weighted(_FEDEX_12_WEIGHTS, 11, 10),
        ),
        NumberFormat(
            "FedEx Express (34)",
            (34,),
            _pattern(r"[0-8]\d{19}(?P<serial>\d{13})(?P<check>\d)"),
            weighted(_FEDEX_34_WEIGHTS, 11, 10),
        ),
        NumberFormat(
            "FedEx Ground GSN (34)",
            (34,),
            _pattern(r"96\d{18}(?P<serial>\d{13})(?P<check>\d)"),
            weighted(_FEDEX_34_WEIGHTS, 11, 10),
        ),
    ),
    "DHL Express": (
        NumberFormat(
            "DHL Express (10 or 11)", (10, 11), _pattern(r"(?P<serial>\d{9,10})(?P<check>\d)"), mod7
        ),
    ),
    "Purolator": (
        NumberFormat(
            "Purolator (12)", (12,), _pattern(r"(?P<serial>[0-5]\d{10})(?P<check>\d)"), luhn
        ),
    ),
}

# A spreadsheet drops every leading zero, and an SSCC-18 with GS1's "00" before it
# loses at least two. Padding with many zeros would let a number of some other
# format pass a check digit by chance (1 in 10 for mod 10).
# NOTE: 4 is a judgment, not a measured count of the zeros real numbers start with.
MAX_LOST_ZEROS = 4

_DIGITS = re.compile(r"[0-9]+")


def number_formats(carrier_name: str) -> tuple[NumberFormat, ...]:
    """Return the numeric formats of the carrier named by a carrier or service name."""
    carrier = find_carrier(carrier_name)
    if carrier is None:
        return ()
    return NUMBER_FORMATS.get(carrier.name, ())


def validate_check_digit(carrier_name: str, number: str) -> bool | None:
    """Check a tracking number's check digit against the carrier's numeric formats.

    Returns True when some format fits the number and its check digit is valid,
    False when formats fit but every check digit is wrong, and None when no
    numeric format of that carrier fits (or the carrier is unknown).
    """
    fits = False
    for number_format in number_formats(carrier_name):
        for check in _format_checks(number_format, number):
            if check:
                return True
            fits = True
    return False if fits else None


def _format_checks(number_format: NumberFormat, number: str) -> list[bool]:
    """Check the number for each way it fits the format: one result per fit."""
    if len(number) not in number_format.lengths or not _DIGITS.fullmatch(number):
        return []

    candidates = [number]
    if number_format.routing_code and number.startswith("420"):
        # "420" and a 5- or 9-digit ZIP code: a 34-digit number can be either
        # before a 26- or a 22-digit number, so both are tried.
        candidates += [number[8:], number[12:]]

    results = []
    for candidate in candidates:
        match = number_format.pattern.fullmatch(candidate)
        if match:
            results.append(number_format.check_rule(match["serial"]) == int(match["check"]))
    return results


def shortened_lengths(carrier_name: str) -> frozenset[int]:
    """Return the lengths a number of the carrier has once it lost 1 to MAX_LOST_ZEROS zeros.

    guess_lost_zeros returns None for every number of another length.
    """
    lengths = {length for fmt in number_formats(carrier_name) for length in fmt.lengths}
    return frozenset(length - lost for length in lengths for lost in range(1, MAX_LOST_ZEROS + 1))


def guess_lost_zeros(carrier_name: str, number: str) -> str | None:
    """Guess the number a spreadsheet shortened by dropping its leading zeros.

    Returns the number padded with zeros to the shortest of the carrier's format
    lengths at which its check digit is valid. Returns None when the number is
    valid as given or is not all digits, or when no padding of at most
    MAX_LOST_ZEROS zeros makes it valid.
    """
    if not _DIGITS.fullmatch(number) or validate_check_digit(carrier_name, number):
        return None

    lengths = sorted({length for fmt in number_formats(carrier_name) for length in fmt.lengths})
    for length in lengths:
        missing = length - len(number)
        if 0 < missing <= MAX_LOST_ZEROS:
            padded = "0" * missing + number
            if validate_check_digit(carrier_name, padded):
                return padded
    return None
