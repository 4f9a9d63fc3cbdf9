"""Convert the cell values calamine returns to the text a spreadsheet shows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

# Excel keeps 15 significant digits of a number: a 16-digit tracking number
# typed into a number cell is stored with its last digit turned into 0. Digits
# beyond the 15th cannot be trusted, so such values are written the way Excel
# shows them, in scientific notation, and normalize reports the lost digits.
_TRUSTED_DIGITS_LIMIT = 10**15


def cell_text(value: object) -> str:
    """Convert a cell value from calamine to the text a spreadsheet shows.

    A tracking number stored as a number comes back as a float, so integral
    floats of up to 15 digits are written as plain digits without ".0".
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
    if value.is_integer() and abs(value) < _TRUSTED_DIGITS_LIMIT:
        return str(int(value))
    if value.is_integer():
        return f"{value:.15G}"  # at most 15 significant digits, as Excel shows the number
    return str(value)


def _datetime_text(value: datetime) -> str:
    if value.time() == time(0, 0):
        return value.date().isoformat()
    return value.isoformat(sep=" ", timespec="seconds")
