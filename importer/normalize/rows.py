"""Turn the raw cells of a row into clean shipment values, noting every problem.

Repairs are made only where nothing can be lost: surrounding spaces, quote
marks around an ID, a ".0" that a spreadsheet added to a number. Anything else
is reported on the row with the column it came from, and the row's order is
rejected later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from importer import carriers
from importer.load import SourceRow
from importer.mapping import SERVICE_FIELD, ColumnMapping
from importer.records import Problem, Severity

ORDER_ID = re.compile(r"^[0-9a-f]{24}$")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_TEXT_FORMULA = re.compile(r'="([^"]*)"')
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_FLOAT_SUFFIX = re.compile(r"^(\d+)\.0+$")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")
_WHOLE_NUMBER = re.compile(r"^-?\d+(\.0+)?$")
# Far above any real order, and it keeps int() clear of Python's 4300-digit limit,
# which raises ValueError on longer text.
_MAX_QTY_DIGITS = 9
_TRACKING_CHARACTERS = re.compile(r"[A-Za-z0-9-]+")
_DIGIT = re.compile(r"[0-9]")
# 2026-12-01 or 2026-1-5: a spreadsheet's date in a tracking number column.
DATE = re.compile(r"(19|20)[0-9]{2}-[0-9]{1,2}-[0-9]{1,2}")
# The shortest numbers of the carriers known here have 10 characters; some local
# couriers use 8. A shorter value is more likely a cell typed by mistake.
MIN_TRACKING_NUMBER = 8
UPS_LENGTH = 18  # "1Z", a 15-character serial and a check digit
_LOCATION_ID = re.compile(r"[A-Za-z0-9]+")
# An order number as shop and shipping tools print it: "1001", "SO-1001",
# "12-34567-89012" (eBay). It names an order only once looked up in HighLevel.
MAX_ORDER_NUMBER = 64
_ORDER_LEAD = re.compile(r"^(?:order\s+|order\s*#)?#?\s*", re.IGNORECASE)
_ORDER_NUMBER = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._/-]{{0,{MAX_ORDER_NUMBER - 1}}}")
# Word processors and web pages put these around a value, and no ID or tracking number has them.
_SMART_QUOTES = "\u201c\u201d\u201e\u2018\u2019\u201a\u00ab\u00bb"
_QUOTE_MARKS = _SMART_QUOTES + "\"'"
# Excel's mark that stores a cell as text. Excel does not show it, so it is removed silently.
_TEXT_MARK = "'"
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@")
_TRUE_WORDS = {"yes", "y", "true", "1", "x"}
_FALSE_WORDS = {"no", "n", "false", "0"}

# The importer's own length limits, which importer.validate also enforces (HighLevel's
# API description sets none). They are checked here so that the user reads these
# messages, not the validation library's.
MAX_TRACKING_NUMBER = 100
MAX_CARRIER = 100
MAX_TRACKING_URL = 2000
# HighLevel location IDs are 20 letters and digits, and the longer limit lets other formats pass.
MAX_LOCATION_ID = 64
# A message shows at most this many characters of a cell, so a huge cell cannot flood it.
MAX_SHOWN = 40


def is_order_id(reference: str) -> bool:
    """Tell a HighLevel order ID (24 lowercase hex digits) from an order number."""
    return ORDER_ID.match(reference) is not None


@dataclass(slots=True)
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

    def __init__(self, row: SourceRow, mapping: ColumnMapping, *, strict_tracking: bool) -> None:
        self.row = row
        self.mapping = mapping
        self.values = mapping.values(row)
        self.problems: list[Problem] = []
        self.strict_tracking = strict_tracking

    def text(self, field_name: str) -> str:
        return clean_text(self.values.get(field_name, ""))

    def error(self, field_name: str, message: str) -> None:
        self._add(field_name, message, Severity.ERROR)

    def warning(self, field_name: str, message: str) -> None:
        self._add(field_name, message, Severity.WARNING)

    def doubt(self, field_name: str, message: str) -> None:
        """Record a doubt about a tracking number: an error only with --strict-tracking."""
        self._add(field_name, message, Severity.ERROR if self.strict_tracking else Severity.WARNING)

    def _add(self, field_name: str, message: str, severity: Severity) -> None:
        column = self.mapping.header_of(field_name)
        self.problems.append(Problem(message, (self.row.number,), column, severity))


def clean_text(value: str) -> str:
    """Remove invisible characters and collapse every kind of space into one."""
    if value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()  # nothing else to clean: the common case, kept fast
    visible = value.translate(_INVISIBLE)
    return _SPACES.sub(" ", visible).strip()


def shorten(value: str) -> str:
    """Cut a cell value for a message to MAX_SHOWN characters, the last being "…"."""
    if len(value) <= MAX_SHOWN:
        return value
    return value[: MAX_SHOWN - 1] + "…"


def normalize_row(
    row: SourceRow, mapping: ColumnMapping, *, strict_tracking: bool = False
) -> ShipmentRow:
    """Clean one mapped row; problems are recorded on the result, never raised.

    A value rejected for its length is passed on empty, so that later stages do
    not report it a second time in the validation library's words. Other
    rejected values are kept, so the results workbook shows what the file said.
    """
    reader = _RowReader(row, mapping, strict_tracking=strict_tracking)
    shipment = ShipmentRow(number=row.number, cells=row.cells)

    shipment.order_id = _read_order_id(reader)
    shipment.tracking_number = _read_tracking_number(reader)
    shipment.carrier = _read_carrier(reader, shipment.tracking_number)
    if not _check_lost_zeros(reader, shipment.tracking_number, shipment.carrier):
        _check_number_fits_carrier(reader, shipment.tracking_number, shipment.carrier)
    shipment.tracking_url = _read_tracking_url(reader, shipment.carrier, shipment.tracking_number)
    shipment.price_id = _read_price_id(reader)
    # A SKU such as "1001.0" is kept as given: a spreadsheet may have added the
    # ".0" to a numeric SKU, but a SKU can also end in ".0".
    shipment.sku = _read_id_text(reader, "sku")
    shipment.qty = _read_qty(reader)
    shipment.location_id = _read_location_id(reader)
    shipment.notify_customer = _read_notify_customer(reader)

    if shipment.qty is not None and not shipment.names_item:
        reader.error("qty", "a quantity is given but no SKU or price ID says which item it is for")
    shipment.problems = reader.problems
    return shipment


def _read_id_text(reader: _RowReader, field_name: str) -> str:
    """Read the text of an ID or code, removing the quote marks around it.

    A single leading apostrophe is removed silently. Other quote marks are
    removed with a warning that names them, unless nothing is left: then the
    cell counts as empty.
    """
    value = reader.text(field_name)
    if value.startswith(_TEXT_MARK) and not _is_wrapped(value):
        value = value[1:]

    # Exports write ="0012345" so that Excel keeps the leading zeros; a file
    # saved as CSV without Excel keeps the formula text itself.
    formula = _TEXT_FORMULA.fullmatch(value)
    if formula:
        value = formula.group(1)

    unquoted, removed = _strip_quote_marks(value)
    if removed and unquoted:
        reader.warning(
            field_name,
            f"{shorten(value)!r} was read as {shorten(unquoted)!r}, "
            f"without its quote marks ({shorten(' '.join(removed))})",
        )
    return unquoted


def _is_wrapped(value: str) -> bool:
    """Tell whether quote marks wrap the value: smart ones in any pair, plain ones matching."""
    if len(value) < 2 or value[0] not in _QUOTE_MARKS or value[-1] not in _QUOTE_MARKS:
        return False
    if value[0] in _SMART_QUOTES and value[-1] in _SMART_QUOTES:
        return True
    return value[0] == value[-1]


def _strip_quote_marks(value: str) -> tuple[str, list[str]]:
    """Remove quote marks around a value and smart quotes at either end.

    Returns the value and the marks removed. A plain quote mark at one end
    stays, because a code such as a SKU may end in one (an inch mark), except
    an apostrophe at the start: that is Excel's text mark typed twice.
    """
    removed: list[str] = []
    while value:
        if _is_wrapped(value):
            removed += [value[0], value[-1]]
            value = value[1:-1].strip()
        elif value[0] in _SMART_QUOTES or value[0] == _TEXT_MARK:
            removed.append(value[0])
            value = value[1:].strip()
        elif value[-1] in _SMART_QUOTES:
            removed.append(value[-1])
            value = value[:-1].strip()
        else:
            break
    return value, removed


def _read_order_id(reader: _RowReader) -> str:
    value = _read_id_text(reader, "order_id")
    if not value:
        reader.error("order_id", "the order ID is missing")
        return ""

    if ORDER_ID.match(value.lower()):
        return value.lower()
    return _read_order_number(reader, value)


def _read_order_number(reader: _RowReader, value: str) -> str:
    """Read an order number as shipping tools print it ("#1001", "SO-1001").

    The template's prefixes and a "#" are removed, so that "#1001" and "1001"
    are one order; the number is looked up in HighLevel before sending.
    """
    if _SCIENTIFIC.match(value):
        reader.error(
            "order_id",
            f"{shorten(value)!r} lost its digits when a spreadsheet showed it as a number; "
            "re-export the file with this column formatted as text",
        )
        return value

    number = strip_order_prefixes(value, reader.mapping.template.order_prefixes)
    repaired = _FLOAT_SUFFIX.match(number)
    if repaired:
        reader.warning(
            "order_id",
            f"{shorten(value)!r} was read as {repaired.group(1)}: "
            "a spreadsheet had added '.0' to it",
        )
        number = repaired.group(1)

    if not _ORDER_NUMBER.fullmatch(number):
        reader.error(
            "order_id",
            f"{shorten(value)!r} is neither a HighLevel order ID (24 characters, 0-9 and a-f) "
            "nor an order number (letters, digits and - _ / . only); use the order ID shown "
            "in HighLevel's order page address",
        )
        return value
    return number


def strip_order_prefixes(value: str, prefixes: tuple[str, ...]) -> str:
    """Remove a template's order prefixes (longest first, ignoring case), then "Order #"."""
    folded = value.casefold()
    for prefix in prefixes:
        if folded.startswith(prefix.casefold()) and len(value) > len(prefix):
            value = value[len(prefix) :].lstrip()
            break
    return _ORDER_LEAD.sub("", value)


def _read_tracking_number(reader: _RowReader) -> str:
    raw = reader.values.get("tracking_number", "")
    value = _read_id_text(reader, "tracking_number")
    if not value:
        reader.error("tracking_number", "the tracking number is missing")
        return ""

    several = _several_numbers(raw, value)
    if several:
        reader.error(
            "tracking_number",
            f"the cell holds {several} tracking numbers; put each package on a row of its own",
        )
        return value
    value = value.replace(" ", "")

    if _SCIENTIFIC.match(value):
        reader.error(
            "tracking_number",
            f"{shorten(value)!r} lost its digits when a spreadsheet showed it as a number; "
            "re-export the file with this column formatted as text",
        )
        return value

    repaired = _FLOAT_SUFFIX.match(value)
    if repaired:
        reader.warning(
            "tracking_number",
            f"{shorten(value)!r} was read as {shorten(repaired.group(1))}: "
            "a spreadsheet had added '.0' to it",
        )
        value = repaired.group(1)
    return _check_tracking_number(reader, value)


def _several_numbers(raw: str, value: str) -> int:
    """Count the tracking numbers in a cell that contains more than one, or return 0.

    Labels print a number in groups ("1Z 999 AA1 0123 4567 84"), so spaces
    alone do not split it, unless each group is a whole number of some
    carrier. A line break never falls inside one number.
    """
    lines = [line for line in raw.splitlines() if line.strip()]
    if len(lines) > 1:
        return len(lines)
    parts = value.split(" ")
    if len(parts) > 1 and all(carriers.detect_carrier(part) for part in parts):
        return len(parts)
    return 0


def _too_long(reader: _RowReader, field_name: str, value: str, *, limit: int, noun: str) -> bool:
    """Report a value longer than `limit` characters; returns whether it was too long."""
    if len(value) <= limit:
        return False
    reader.error(
        field_name,
        f"{shorten(value)!r} is {len(value)} characters long; {noun} has at most {limit}",
    )
    return True


def _check_tracking_number(reader: _RowReader, value: str) -> str:
    if _too_long(
        reader, "tracking_number", value, limit=MAX_TRACKING_NUMBER, noun="a tracking number"
    ):
        return ""

    if not _TRACKING_CHARACTERS.fullmatch(value):
        reader.error(
            "tracking_number",
            f"{shorten(value)!r} contains characters that tracking numbers do not have "
            f"({_character_list(value, _TRACKING_CHARACTERS)}); check the cell",
        )
        return value

    not_a_number = _not_a_tracking_number(value)
    if not_a_number:
        reader.error("tracking_number", f"{shorten(value)!r} {not_a_number}")
    elif value.upper().startswith("1Z") and len(value) != UPS_LENGTH:
        reader.doubt(
            "tracking_number",
            f"{shorten(value)!r} starts like a UPS number, but has {len(value)} characters "
            f"instead of {UPS_LENGTH}; check it for a missing or extra character",
        )
    elif len(value) < MIN_TRACKING_NUMBER:
        reader.doubt(
            "tracking_number",
            f"{shorten(value)!r} is shorter than any carrier's tracking numbers "
            f"({MIN_TRACKING_NUMBER} characters or more); check the cell",
        )
    return value


def _not_a_tracking_number(value: str) -> str:
    """Say why a value cannot be a tracking number, or return ""."""
    if not _DIGIT.search(value):
        return "is not a tracking number: it has no digits; check that the column holds them"
    if not value.strip("0-"):
        return "is not a tracking number: it is only zeros"
    if DATE.fullmatch(value):
        return "is a date, not a tracking number; check that the column holds tracking numbers"
    return ""


def _character_list(value: str, allowed: re.Pattern[str]) -> str:
    """List the characters of a value that the pattern rejects, each once, in order."""
    rejected = dict.fromkeys(char for char in value if not allowed.fullmatch(char))
    return ", ".join(_show_character(char) for char in rejected)


def _show_character(char: str) -> str:
    # A control or other invisible character is named by its code point, which
    # the user can look up, because in quotes it would look like nothing.
    if char.isprintable():
        return f'"{char}"'
    return f"U+{ord(char):04X}"


def _read_carrier(reader: _RowReader, tracking_number: str) -> str:
    value = reader.text("carrier")
    if not value:
        return _carrier_from_elsewhere(reader, tracking_number)

    if _too_long(reader, "carrier", value, limit=MAX_CARRIER, noun="a carrier name"):
        return ""

    if value.startswith(_FORMULA_STARTS):
        # HighLevel shows the carrier to the customer, and a value like this
        # would run as a formula in any spreadsheet that later opens it.
        reader.error(
            "carrier",
            f"{shorten(value)!r} looks like a spreadsheet formula, not a carrier name; "
            "write the carrier's name, such as UPS or FedEx",
        )
        return value

    known = carriers.find_carrier(value)
    return known.name if known else value


def _carrier_from_elsewhere(reader: _RowReader, tracking_number: str) -> str:
    """Name the carrier of a row whose carrier cell is empty or missing.

    In order: the shipping service ("UPS Ground"), the template's carrier for
    single-carrier tools, and the tracking number's format.
    """
    service = reader.text(SERVICE_FIELD)
    carrier = infer_carrier(service, reader.mapping.template.default_carrier, tracking_number)
    if service and not carrier:
        reader.warning(
            SERVICE_FIELD,
            f"the service {shorten(service)!r} does not say which carrier it is, and the "
            "tracking number does not show it either, so no carrier is sent; add a carrier "
            "column to name it",
        )
    return carrier


def infer_carrier(service: str, default: str, tracking_number: str) -> str:
    """Name the carrier from a service name, a template's carrier or the number, or return ""."""
    from_service = carriers.find_carrier(service) if service else None
    if from_service is not None:
        return from_service.name

    if default:
        known = carriers.find_carrier(default)
        return known.name if known else default

    detected = carriers.detect_carrier(tracking_number) if tracking_number else None
    return detected.name if detected is not None else ""


def has_tracking_doubt(carrier_name: str, tracking_number: str) -> bool:
    """Tell whether _check_number_fits_carrier would report the number."""
    status = carriers.check_tracking(carrier_name, tracking_number).status
    return status in (
        carriers.TrackingStatus.BAD_CHECK_DIGIT,
        carriers.TrackingStatus.OTHER_CARRIER,
    )


def _check_number_fits_carrier(reader: _RowReader, tracking_number: str, carrier_name: str) -> None:
    """Report a number that fails its carrier's check digit or is another carrier's number."""
    if not tracking_number or not carrier_name:
        return
    check = carriers.check_tracking(carrier_name, tracking_number)
    if check.status is carriers.TrackingStatus.BAD_CHECK_DIGIT:
        reader.doubt(
            "tracking_number",
            f"{shorten(tracking_number)!r} has the form of {_a(check.format_name)} number, but its "
            "check digit is wrong: check it for a typing mistake",
        )
    elif check.status is carriers.TrackingStatus.OTHER_CARRIER and check.other is not None:
        reader.doubt(
            "tracking_number",
            f"{shorten(tracking_number)!r} is {_a(check.other.name)} number "
            f"({check.format_name}), but the row says {carrier_name}: check the carrier "
            "and the number",
        )


def _a(name: str) -> str:
    """Put "a" or "an" before a carrier or format name."""
    # "U" is left out: UPS and USPS are read letter by letter, "a UPS number".
    return f"an {name}" if name[:1].upper() in "AEIO" else f"a {name}"


def _check_lost_zeros(reader: _RowReader, tracking_number: str, carrier_name: str) -> bool:
    """Report a tracking number that a spreadsheet shortened by dropping its leading zeros.

    The guessed number goes only into the message, because a wrong number can
    pass a check digit by chance (one time in ten for most formats). Returns
    whether it was reported.
    """
    guess = carriers.guess_lost_zeros(carrier_name, tracking_number)
    if guess is None:
        return False

    reader.error(
        "tracking_number",
        f"{shorten(tracking_number)!r} looks like {_a(carrier_name)} number that lost its "
        f"leading zeros (probably {shorten(guess)}); re-export the file with this column "
        "formatted as text",
    )
    return True


def _read_tracking_url(reader: _RowReader, carrier_name: str, tracking_number: str) -> str:
    value = reader.text("tracking_url")
    if value:
        return _check_tracking_url(reader, value)

    carrier = carriers.find_carrier(carrier_name)
    if carrier is None or not tracking_number:
        return ""
    return carriers.tracking_url(carrier, tracking_number)


def _check_tracking_url(reader: _RowReader, value: str) -> str:
    if _too_long(reader, "tracking_url", value, limit=MAX_TRACKING_URL, noun="a tracking URL"):
        return ""

    if not value.lower().startswith(("https://", "http://")):
        reader.error(
            "tracking_url", f"{shorten(value)!r} is not a web address (http:// or https://)"
        )
    return value


def _read_price_id(reader: _RowReader) -> str:
    value = _read_id_text(reader, "price_id")
    if " " in value:
        reader.error("price_id", f"{shorten(value)!r} is not a price ID: it contains spaces")
    return value


def _read_qty(reader: _RowReader) -> int | None:
    value = reader.text("qty")
    if not value:
        return None

    if not _WHOLE_NUMBER.match(value):
        reader.error("qty", f"{shorten(value)!r} is not a whole number of items")
        return None
    qty = _whole_number(value)
    if qty is None:
        reader.error("qty", f"{shorten(value)!r} is too large to be a quantity of items")
        return None
    if qty < 1:
        reader.error("qty", f"the quantity must be at least 1, not {shorten(value)}")
        return None
    return qty


def _whole_number(value: str) -> int | None:
    """Convert text that matches _WHOLE_NUMBER, or return None when it has too many digits."""
    whole = value.split(".")[0]
    digits = whole.lstrip("-").lstrip("0") or "0"
    if len(digits) > _MAX_QTY_DIGITS:
        return None
    return -int(digits) if whole.startswith("-") else int(digits)


def _read_location_id(reader: _RowReader) -> str:
    value = _read_id_text(reader, "location_id")
    if not value:
        return ""

    if _too_long(reader, "location_id", value, limit=MAX_LOCATION_ID, noun="a location ID"):
        return ""

    if not _LOCATION_ID.fullmatch(value):
        # Every request sends the location ID, so only the characters of real IDs pass.
        reader.error(
            "location_id",
            f"{shorten(value)!r} is not a HighLevel location ID, which has only letters and "
            f"digits ({_character_list(value, _LOCATION_ID)} found); copy the ID from the "
            "HighLevel address, where it follows /location/",
        )
    return value


def _read_notify_customer(reader: _RowReader) -> bool | None:
    value = reader.text("notify_customer").casefold()
    if not value:
        return None
    if value in _TRUE_WORDS:
        return True
    if value in _FALSE_WORDS:
        return False
    reader.error("notify_customer", f"{shorten(value)!r} is not yes or no")
    return None
