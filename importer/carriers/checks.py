"""Check a tracking number against its carrier's formats, and find the carrier of a number.

Both run once per row on files of up to a million rows, so the formats are
indexed by the lengths of their numbers and a number is matched only against
the formats of its length.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from importer.carriers.formats import (
    ACCEPTED_FORMATS,
    FORMATS,
    INTERNATIONAL_MAIL,
    S10_POSTS,
    NumberFormat,
)
from importer.carriers.registry import CARRIERS_BY_NAME, Carrier, find_carrier


class TrackingStatus(enum.Enum):
    """The verdict of a tracking number's format on the carrier a row names."""

    # Fits a format of the named carrier, with its check digit right (or the format has none).
    VALID = "valid"
    # Fits a format of the carrier by pattern and length, but every check digit is wrong.
    BAD_CHECK_DIGIT = "bad check digit"
    # Fits none of the carrier's formats, but is a valid number of exactly one other
    # carrier, found with a distinctive format.
    OTHER_CARRIER = "other carrier"
    # The carrier is unknown or has no formats, or the number fits none and no other
    # carrier claims it.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TrackingCheck:
    """The result of check_tracking."""

    status: TrackingStatus
    format_name: str = ""  # the format that fit (VALID, BAD_CHECK_DIGIT) or the other carrier's
    other: Carrier | None = None  # for OTHER_CARRIER


class FormatFit(enum.Enum):
    """The fit of a number to one format."""

    NONE = 0  # pattern or length differ
    BAD_CHECK = 1  # pattern and length fit, check digit wrong
    VALID = 2


_UNKNOWN = TrackingCheck(TrackingStatus.UNKNOWN)
_ROUTING_CODE = "420"
# "420" and a 5- or 9-digit ZIP code.
_ROUTED_STARTS = (len(_ROUTING_CODE) + 5, len(_ROUTING_CODE) + 9)


def fit_format(number_format: NumberFormat, number: str) -> FormatFit:
    """Match an upper-case number against a format, and check its check digit."""
    if len(number) not in number_format.lengths:
        return FormatFit.NONE
    if number_format.routing_code and number.startswith(_ROUTING_CODE):
        return _fit_routed(number_format, number)

    match = number_format.pattern.fullmatch(number)
    if match is None:
        return FormatFit.NONE
    return FormatFit.VALID if _check_digit_right(number_format, match) else FormatFit.BAD_CHECK


def _fit_routed(number_format: NumberFormat, number: str) -> FormatFit:
    # A 34-digit number can be "420" and a 5-digit ZIP code before a 26-digit number,
    # or a 9-digit ZIP code before a 22-digit one, so every reading is tried.
    result = FormatFit.NONE
    for candidate in (number, *(number[start:] for start in _ROUTED_STARTS)):
        match = number_format.pattern.fullmatch(candidate)
        if match is None:
            continue
        if _check_digit_right(number_format, match):
            return FormatFit.VALID
        result = FormatFit.BAD_CHECK
    return result


def _check_digit_right(number_format: NumberFormat, match: re.Match[str]) -> bool:
    """Tell whether the check character is right, or the format has none."""
    rule = number_format.check_rule
    if rule is None:
        return True
    serial = match["serial"]
    prefix = number_format.serial_prefix
    if prefix and not serial.startswith(prefix):
        serial = prefix + serial
    # Base 36 reads a digit as itself and DPD's check letters A to Z as 10 to 35.
    return rule(serial) == int(match["check"], 36)


def _owner(number_format: NumberFormat, number: str) -> str:
    """Name the carrier whose number this is, for a number that fits the format."""
    if number_format.country_suffix:
        return S10_POSTS.get(number[-2:], INTERNATIONAL_MAIL)
    return number_format.carrier


def _by_length(formats: Iterable[NumberFormat]) -> dict[int, tuple[NumberFormat, ...]]:
    table: defaultdict[int, list[NumberFormat]] = defaultdict(list)
    for number_format in formats:
        for length in number_format.lengths:
            table[length].append(number_format)
    return {length: tuple(listed) for length, listed in table.items()}


FORMATS_BY_NAME = {number_format.name: number_format for number_format in FORMATS}


def carrier_formats(carrier_name: str) -> tuple[NumberFormat, ...]:
    """Return the formats of a carrier's numbers: its own, then those its labels also carry."""
    own = tuple(f for f in FORMATS if f.carrier == carrier_name)
    accepted = tuple(FORMATS_BY_NAME[name] for name in ACCEPTED_FORMATS.get(carrier_name, ()))
    return own + accepted


_ALL_BY_LENGTH = _by_length(FORMATS)
_CARRIER_BY_LENGTH = {name: _by_length(carrier_formats(name)) for name in CARRIERS_BY_NAME}


def check_tracking(carrier_name: str, number: str) -> TrackingCheck:
    """Check a tracking number against the formats of the carrier a name or service names.

    `number` has its spaces removed already; letters may be in either case. A
    number of another carrier is reported only when that carrier's format is
    distinctive (see NumberFormat.distinctive), so that a number of digits that
    passes some other carrier's check digit by chance is no reason to doubt the row.
    """
    carrier = find_carrier(carrier_name)
    if carrier is None:
        return _UNKNOWN
    formats_by_length = _CARRIER_BY_LENGTH[carrier.name]
    if not formats_by_length:
        return _UNKNOWN

    upper = number.upper()
    bad_check: NumberFormat | None = None
    for number_format in formats_by_length.get(len(upper), ()):
        result = fit_format(number_format, upper)
        if result is FormatFit.VALID:
            return TrackingCheck(TrackingStatus.VALID, number_format.name)
        if result is FormatFit.BAD_CHECK and bad_check is None:
            bad_check = number_format
    if bad_check is not None:
        return TrackingCheck(TrackingStatus.BAD_CHECK_DIGIT, bad_check.name)
    return _other_carrier(upper)


def _other_carrier(upper: str) -> TrackingCheck:
    claims = _claims(upper)
    if len(claims) != 1:
        return _UNKNOWN
    [(name, formats)] = claims.items()
    distinctive = next((f for f in formats if f.distinctive), None)
    if distinctive is None:
        return _UNKNOWN
    return TrackingCheck(TrackingStatus.OTHER_CARRIER, distinctive.name, CARRIERS_BY_NAME[name])


def _claims(upper: str) -> dict[str, list[NumberFormat]]:
    """Map each carrier whose own format the number is valid in to those formats."""
    claims: dict[str, list[NumberFormat]] = {}
    for number_format in _ALL_BY_LENGTH.get(len(upper), ()):
        if fit_format(number_format, upper) is FormatFit.VALID:
            claims.setdefault(_owner(number_format, upper), []).append(number_format)
    return claims


def claiming_carriers(number: str) -> list[Carrier]:
    """List the carriers in whose own formats a number is valid, in the order of FORMATS."""
    return [CARRIERS_BY_NAME[name] for name in _claims(number.upper())]


def detect_carrier(tracking_number: str) -> Carrier | None:
    """Find the carrier of a tracking number from its format and check digit.

    Returns None when no format fits, and when the number is valid in the
    formats of two carriers: a wrong guess would send the customer to the
    wrong tracking page.
    """
    claims = _claims(tracking_number.upper())
    if len(claims) != 1:
        return None
    return CARRIERS_BY_NAME[next(iter(claims))]
