"""Turn the raw cells of a row into clean shipment values, noting every problem.

Repairs are made only where nothing can be lost (surrounding spaces, a ".0"
that a spreadsheet added to a number); anything else is reported on the row
with the column it came from, and the row's order is rejected later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from importer import carriers
from importer.load import SourceRow
from importer.mapping import ColumnMapping
from importer.records import Problem, Severity

ORDER_ID = re.compile(r"^[0-9a-f]{24}$")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_FLOAT_SUFFIX = re.compile(r"^(\d+)\.0+$")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")
_WHOLE_NUMBER = re.compile(r"^-?\d+(\.0+)?$")
_TRUE_WORDS = {"yes", "y", "true", "1", "x"}
_FALSE_WORDS = {"no", "n", "false", "0"}


@dataclass
class ShipmentRow:
    """One input row with its values cleaned and its problems listed."""

    number: int
    cells: tuple[str, ...]
    order_id: str = ""
    tracking_number: str = ""
    carrier: str = ""
    tracking_url: str = ""
    price_id: str = ""
    sku: str = ""
    qty: int | None = None
    location_id: str = ""
    notify_customer: bool | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(problem.is_error for problem in self.problems)

    @property
    def names_item(self) -> bool:
        return bool(self.price_id or self.sku)


class _RowReader:
    """Reads one row's mapped cells and records problems against its columns."""

    def __init__(self, row: SourceRow, mapping: ColumnMapping) -> None:
        self.row = row
        self.mapping = mapping
        self.values = mapping.values(row)
        self.problems: list[Problem] = []

    def text(self, field_name: str) -> str:
        return clean_text(self.values.get(field_name, ""))

    def error(self, field_name: str, message: str) -> None:
        self._add(field_name, message, Severity.ERROR)

    def warning(self, field_name: str, message: str) -> None:
        self._add(field_name, message, Severity.WARNING)

    def _add(self, field_name: str, message: str, severity: Severity) -> None:
        column = self.mapping.header_of(field_name)
        self.problems.append(Problem(message, (self.row.number,), column, severity))


def clean_text(value: str) -> str:
    """Remove invisible characters and collapse every kind of space into one."""
    visible = value.translate(_INVISIBLE)
    return _SPACES.sub(" ", visible).strip()


def normalize_row(row: SourceRow, mapping: ColumnMapping) -> ShipmentRow:
    """Clean one mapped row; problems are recorded on the result, never raised."""
    reader = _RowReader(row, mapping)
    shipment = ShipmentRow(number=row.number, cells=row.cells)

    shipment.order_id = _read_order_id(reader)
    shipment.tracking_number = _read_tracking_number(reader)
    shipment.carrier = _read_carrier(reader, shipment.tracking_number)
    shipment.tracking_url = _read_tracking_url(reader, shipment.carrier, shipment.tracking_number)
    shipment.price_id = _read_price_id(reader)
    shipment.sku = reader.text("sku")
    shipment.qty = _read_qty(reader)
    shipment.location_id = reader.text("location_id")
    shipment.notify_customer = _read_notify_customer(reader)

    if shipment.qty is not None and not shipment.names_item:
        reader.error("qty", "a quantity is given but no SKU or price ID says which item it is for")
    shipment.problems = reader.problems
    return shipment


def _read_order_id(reader: _RowReader) -> str:
    value = reader.text("order_id").lstrip("'")
    if not value:
        reader.error("order_id", "the order ID is missing")
        return ""

    if ORDER_ID.match(value.lower()):
        return value.lower()
    reader.error(
        "order_id",
        f"{value!r} is not a HighLevel order ID (24 characters, 0-9 and a-f); "
        "use the order ID shown in HighLevel's order page address",
    )
    return value


def _read_tracking_number(reader: _RowReader) -> str:
    value = reader.text("tracking_number").lstrip("'").replace(" ", "")
    if not value:
        reader.error("tracking_number", "the tracking number is missing")
        return ""

    if _SCIENTIFIC.match(value):
        reader.error(
            "tracking_number",
            f"{value} lost its digits when a spreadsheet showed it as a number; "
            "re-export the file with this column formatted as text",
        )
        return value

    repaired = _FLOAT_SUFFIX.match(value)
    if repaired:
        reader.warning(
            "tracking_number",
            f"{value} was read as {repaired.group(1)}: a spreadsheet had added '.0' to it",
        )
        return repaired.group(1)
    return value


def _read_carrier(reader: _RowReader, tracking_number: str) -> str:
    value = reader.text("carrier")
    if value:
        known = carriers.find_carrier(value)
        return known.name if known else value

    detected = carriers.detect_carrier(tracking_number)
    return detected.name if detected else ""


def _read_tracking_url(reader: _RowReader, carrier_name: str, tracking_number: str) -> str:
    value = reader.text("tracking_url")
    if value:
        if not value.lower().startswith(("https://", "http://")):
            reader.error("tracking_url", f"{value!r} is not a web address (http:// or https://)")
        return value

    carrier = carriers.find_carrier(carrier_name)
    if carrier is None or not tracking_number:
        return ""
    return carriers.tracking_url(carrier, tracking_number)


def _read_price_id(reader: _RowReader) -> str:
    value = reader.text("price_id").lstrip("'")
    if " " in value:
        reader.error("price_id", f"{value!r} is not a price ID: it contains spaces")
    return value


def _read_qty(reader: _RowReader) -> int | None:
    value = reader.text("qty")
    if not value:
        return None

    if not _WHOLE_NUMBER.match(value):
        reader.error("qty", f"{value!r} is not a whole number of items")
        return None
    qty = int(value.split(".")[0])
    if qty < 1:
        reader.error("qty", f"the quantity must be at least 1, not {value}")
        return None
    return qty


def _read_notify_customer(reader: _RowReader) -> bool | None:
    value = reader.text("notify_customer").casefold()
    if not value:
        return None
    if value in _TRUE_WORDS:
        return True
    if value in _FALSE_WORDS:
        return False
    reader.error("notify_customer", f"{value!r} is not yes or no")
    return None
