"""Request checks that HighLevel rejects with 422 and a list of messages.

HighLevel runs on NestJS, which validates query strings and bodies with
class-validator and reports every failed constraint at once. The messages below
follow class-validator's default wording, including its habit of putting a nested
property's path in front of the message ("trackings.0.trackingNumber must be a string").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ALT_TYPE = "location"

_BODY_KEYS = ("altId", "altType", "trackings", "items", "notifyCustomer")
_TRACKING_KEYS = ("trackingNumber", "shippingCarrier", "trackingUrl")
_ITEM_KEYS = ("priceId", "qty")


def query_problems(query: Mapping[str, str]) -> list[str]:
    """Check the altId and altType query parameters of the GET endpoints."""
    problems = _non_empty_string_problems("altId", query.get("altId"))

    alt_type = query.get("altType")
    if alt_type is not None and alt_type != ALT_TYPE:
        problems.append(_alt_type_message("altType"))

    return problems


# List Orders returns 10 orders a page unless asked; the sandbox caps a page at
# 100, an assumption: HighLevel does not publish its cap.
DEFAULT_PAGE = 10
MAX_PAGE = 100


def list_page_problems(query: Mapping[str, str]) -> tuple[int, int] | list[str]:
    """Read List Orders' limit and offset: (limit, offset), or the problems found."""
    problems = []
    limit = _whole_number(query.get("limit"), DEFAULT_PAGE)
    offset = _whole_number(query.get("offset"), 0)
    if limit is None or not 1 <= limit <= MAX_PAGE:
        problems.append(f"limit must be a whole number from 1 to {MAX_PAGE}")
    if offset is None or offset < 0:
        problems.append("offset must be a whole number, 0 or more")
    if problems or limit is None or offset is None:
        return problems
    return limit, offset


def _whole_number(text: str | None, default: int) -> int | None:
    if text is None:
        return default
    return int(text) if text.isdigit() else None


def fulfillment_body_problems(body: Mapping[str, Any]) -> list[str]:
    """Check a create-fulfillment body; an empty list means it is valid."""
    problems = _unknown_property_problems(body, _BODY_KEYS, "")

    problems += _non_empty_string_problems("altId", body.get("altId"))
    if body.get("altType") != ALT_TYPE:
        problems.append(_alt_type_message("altType"))
    problems += _tracking_problems(body.get("trackings"))
    problems += _item_problems(body.get("items"))
    if not isinstance(body.get("notifyCustomer"), bool):
        problems.append("notifyCustomer must be a boolean value")

    return problems


def _tracking_problems(trackings: object) -> list[str]:
    if not isinstance(trackings, list):
        return ["trackings must be an array"]

    problems: list[str] = []
    if not all(isinstance(tracking, dict) for tracking in trackings):
        problems.append("each value in nested property trackings must be either object or array")

    for index, tracking in enumerate(trackings):
        if not isinstance(tracking, dict):
            continue
        prefix = f"trackings.{index}."
        problems += _unknown_property_problems(tracking, _TRACKING_KEYS, prefix)
        problems += _non_empty_string_problems(
            f"{prefix}trackingNumber", tracking.get("trackingNumber")
        )
        # class-validator's @IsOptional skips null as well as a missing key.
        for key in ("shippingCarrier", "trackingUrl"):
            value = tracking.get(key)
            if value is not None and not isinstance(value, str):
                problems.append(f"{prefix}{key} must be a string")

    return problems


def _item_problems(items: object) -> list[str]:
    if not isinstance(items, list):
        return ["items must be an array", "items should not be empty"]
    if not items:
        return ["items should not be empty"]

    problems: list[str] = []
    if not all(isinstance(item, dict) for item in items):
        problems.append("each value in nested property items must be either object or array")

    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        prefix = f"items.{index}."
        problems += _unknown_property_problems(item, _ITEM_KEYS, prefix)
        if not isinstance(item.get("priceId"), str):
            problems.append(f"{prefix}priceId must be a string")
        problems += _quantity_problems(f"{prefix}qty", item.get("qty"))

    return problems


def _quantity_problems(name: str, value: object) -> list[str]:
    positive = f"{name} must be a positive number"
    integer = f"{name} must be an integer number"

    # JSON has one number type, so 2.0 is an integer to class-validator, and true is no number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [positive, integer]

    problems: list[str] = []
    if value <= 0:
        problems.append(positive)
    if not float(value).is_integer():
        problems.append(integer)
    return problems


def _non_empty_string_problems(name: str, value: object) -> list[str]:
    problems: list[str] = []
    if not isinstance(value, str):
        problems.append(f"{name} must be a string")
    if value is None or value == "":
        problems.append(f"{name} should not be empty")
    return problems


def _unknown_property_problems(
    entry: Mapping[str, Any], allowed: Sequence[str], prefix: str
) -> list[str]:
    return [f"{prefix}property {key} should not exist" for key in entry if key not in allowed]


def _alt_type_message(name: str) -> str:
    return f"{name} must be one of the following values: {ALT_TYPE}"
