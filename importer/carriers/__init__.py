"""Carrier names, tracking page addresses and tracking-number formats.

registry: carrier names, aliases, service names and tracking URLs.
formats: number formats, their check digits and whose numbers they are.
checks: check_tracking and detect_carrier, which match numbers against the formats.
lost_zeros: numbers that a spreadsheet shortened by dropping leading zeros.
"""

from importer.carriers.checks import (
    FormatFit,
    TrackingCheck,
    TrackingStatus,
    carrier_formats,
    check_tracking,
    claiming_carriers,
    detect_carrier,
    fit_format,
)
from importer.carriers.formats import (
    ACCEPTED_FORMATS,
    FORMATS,
    INTERNATIONAL_MAIL,
    NUMBER_PATTERNS,
    S10_COUNTRIES,
    S10_POSTS,
    CheckRule,
    NumberFormat,
    luhn,
    mod7,
    mod10,
    mod37_36,
    s10,
    weighted,
)
from importer.carriers.lost_zeros import (
    MAX_LOST_ZEROS,
    NUMBER_FORMATS,
    guess_lost_zeros,
    number_formats,
    shortened_lengths,
    validate_check_digit,
)
from importer.carriers.registry import (
    CARRIERS,
    Carrier,
    carrier_names,
    find_carrier,
    tracking_url,
)

__all__ = [
    "ACCEPTED_FORMATS",
    "CARRIERS",
    "FORMATS",
    "INTERNATIONAL_MAIL",
    "MAX_LOST_ZEROS",
    "NUMBER_FORMATS",
    "NUMBER_PATTERNS",
    "S10_COUNTRIES",
    "S10_POSTS",
    "Carrier",
    "CheckRule",
    "FormatFit",
    "NumberFormat",
    "TrackingCheck",
    "TrackingStatus",
    "carrier_formats",
    "carrier_names",
    "check_tracking",
    "claiming_carriers",
    "detect_carrier",
    "find_carrier",
    "fit_format",
    "guess_lost_zeros",
    "luhn",
    "mod7",
    "mod10",
    "mod37_36",
    "number_formats",
    "s10",
    "shortened_lengths",
    "tracking_url",
    "validate_check_digit",
    "weighted",
]
