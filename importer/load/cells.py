"""Convert the cell values calamine returns to the text a spreadsheet shows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

# Floats at or above 2**53 no longer hold every integer exactly, so only smaller
# integral values are written as plain digits.
_EXACT_FLOAT_LIMIT = 2**53


def cell_text(value: object) -> str:
    """Convert a cell value from calamine to the text a spreadsheet shows.

    A tracking number stored as a number comes back as a float, so integral
    floats below 2**53 are written as plain digits without ".0" or an exponent.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _float_text(value: float) -> str:
    if value.is_integer() and abs(value) < _EXACT_FLOAT_LIMIT:
        return str(int(value))
    return str(value)


def _datetime_text(value: datetime) -> str:
    if value.time() == time(0, 0):
        return value.date().isoformat()
    return value.isoformat(sep=" ", timespec="seconds")
