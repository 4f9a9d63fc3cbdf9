"""Numbers that a spreadsheet shortened by reading them as numbers and dropping leading zeros.

Only a carrier's own all-digit formats with a check digit are used (see
NumberFormat.may_lose_zeros), because without a check digit any padding would
look valid.
"""

from __future__ import annotations

import re

from importer.carriers.checks import FormatFit, fit_format
from importer.carriers.formats import FORMATS, NumberFormat
from importer.carriers.registry import find_carrier

NUMBER_FORMATS: dict[str, tuple[NumberFormat, ...]] = {}
for _format in FORMATS:
    if _format.may_lose_zeros and _format.check_rule is not None:
        NUMBER_FORMATS[_format.carrier] = (*NUMBER_FORMATS.get(_format.carrier, ()), _format)

# A spreadsheet drops every leading zero, and an SSCC-18 with GS1's "00" before it
# loses at least two. Padding with many zeros would let a number of some other
# format pass a check digit by chance (1 in 10 for mod 10).
# NOTE: 4 is a judgment, not a measured count of the zeros real numbers start with.
MAX_LOST_ZEROS = 4

_DIGITS = re.compile(r"[0-9]+")


def number_formats(carrier_name: str) -> tuple[NumberFormat, ...]:
    """Return the numeric formats with a check digit of the carrier a carrier or service names."""
    carrier = find_carrier(carrier_name)
    if carrier is None:
        return ()
    return NUMBER_FORMATS.get(carrier.name, ())


def validate_check_digit(carrier_name: str, number: str) -> bool | None:
    """Check an all-digit tracking number's check digit against the carrier's numeric formats.

    Returns True when some format fits the number and its check digit is valid,
    and False when formats fit but every check digit is wrong. Returns None when
    no numeric format of that carrier fits, when the carrier is unknown, and when
    the number has other characters than digits.
    """
    if not _DIGITS.fullmatch(number):
        return None
    fits = False
    for number_format in number_formats(carrier_name):
        result = fit_format(number_format, number)
        if result is FormatFit.VALID:
            return True
        fits = fits or result is FormatFit.BAD_CHECK
    return False if fits else None


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
