"""Write the sample shipping exports in sample_data/ and the sandbox seed that matches them.

Every name, address, order and tracking number is invented, and e-mail addresses are at
example.com. A fixed random seed makes every run write the same bytes, so a diff after a
rerun means that this script changed. README.md, also written here, lists every order of every
file with the status the import must give it.

Run from the project root: uv run python sample_data/generate.py
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import textwrap
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

RANDOM_SEED = 20261201
# The agency sheet draws from a generator of its own, so that its orders and rows leave the bytes
# of the other files, and of the seed orders those files name, as they were.
AGENCY_RANDOM_SEED = 20261202
OUTPUT_DIR = Path(__file__).resolve().parent

CURRENCY = "USD"


@dataclass(frozen=True)
class Location:
    """A HighLevel location (sub-account): one shop of the agency."""

    id: str
    name: str


NORTHWIND = Location("Xk7pQ2mLw9RtY4vB8nZc", "Northwind Outfitters")
SALTMARSH = Location("Rb3Tn8QeV5yHs2KdW7mJ", "Saltmarsh Coffee Roasters")
FERNHILL = Location("Lp6Wc9ZsA4mGx1NhF8dQ", "Fernhill Paper Co.")
# The built-in sandbox uses the first location when the run sets none, so Northwind stays first.
LOCATIONS = (NORTHWIND, SALTMARSH, FERNHILL)
# Fernhill's ID with its last character mistyped: valid in form, but no location of the seed.
MISTYPED_LOCATION_ID = "Lp6Wc9ZsA4mGx1NhF8dO"

SHIPSTATION_FILE = "shipstation_shipments_2026-12-01.csv"
WORLDSHIP_FILE = "ups_worldship_2026-12-01.xlsx"
MANUAL_FILE = "manual_fulfillments.csv"
AGENCY_FILE = "agency_locations_2026-12-01.csv"
SEED_FILE = "sandbox_seed.json"
README_FILE = "README.md"

SHIPSTATION_HEADER = (
    "Order - Number",
    "Date - Shipped Date",
    "Ship To - Name",
    "Ship To - City",
    "Shipment - Carrier",
    "Shipment - Service",
    "Shipment - Tracking Number",
    "Item - SKU",
    "Item - Name",
    "Item - Qty",
)
WORLDSHIP_HEADER = (
    "Ship Date",
    "Tracking Number",
    "Service Type",
    "Reference 1",
    "Reference 2",
    "Ship To Company or Name",
    "Ship To City",
    "Ship To State",
    "Ship To Postal Code",
    "Package Weight",
)
MANUAL_HEADER = (
    "Order ID",
    "Tracking Number",
    "Carrier",
    "Tracking URL",
    "Price ID",
    "Qty",
    "Notify Customer",
)
AGENCY_HEADER = ("Location ID", "Order ID", "Tracking Number", "Carrier", "SKU", "Qty")

# Orders each file carries, planted unknown orders included. The seed contains every order
# except the unknown ones, numbered without gaps.
SHIPSTATION_ORDERS = 34
WORLDSHIP_ORDERS = 34
MANUAL_ORDERS = 11
UNKNOWN_ORDERS = 2
FIRST_ORDER_NUMBER = 1001
# Orders of each location that only the agency sheet names, so that no order appears in two
# files. Northwind's are numbered after its orders in the other files.
AGENCY_ORDERS_PER_LOCATION = 10

ORDERS_START = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
ORDER_INTERVAL = timedelta(hours=4)
CATALOGUE_CREATED = datetime(2026, 2, 9, 17, 30, tzinfo=UTC)

# openpyxl stamps the save time into the workbook, so the XLSX gets this fixed time instead.
WORKBOOK_TIME = datetime(2026, 12, 1, 18, 0, 0)

# SKU, product name, variant (the price's name), price in cents.
CATALOGUE = (
    ("TEE-BLK-M", "Trail Tee", "Black / M", 2450),
    ("TEE-BLK-L", "Trail Tee", "Black / L", 2450),
    ("TEE-SND-S", "Trail Tee", "Sand / S", 2450),
    ("HOODIE-GRY-M", "Ridge Hoodie", "Grey / M", 6800),
    ("HOODIE-GRY-L", "Ridge Hoodie", "Grey / L", 6800),
    ("HOODIE-NVY-XL", "Ridge Hoodie", "Navy / XL", 6800),
    ("FLEECE-GRN-M", "Summit Fleece", "Forest / M", 8900),
    ("JKT-RAIN-M", "Stormline Rain Jacket", "Slate / M", 14900),
    ("JKT-RAIN-L", "Stormline Rain Jacket", "Slate / L", 14900),
    ("CAP-OLV", "Canyon Cap", "Olive", 2200),
    ("CAP-BLK", "Canyon Cap", "Black", 2200),
    ("BEANIE-RST", "Ridge Beanie", "Rust", 2600),
    ("SOCK-WOOL-3PK", "Merino Hiking Socks", "Natural, 3-Pack", 2700),
    ("BOTTLE-750", "Insulated Bottle", "750 ml", 3200),
    ("PACK-DAY-22", "Daypack", "22 L", 7900),
    ("GAITER-BLK", "Neck Gaiter", "Black", 1800),
)
# The other shops sell other goods. HighLevel keeps products per location, so each shop has its
# own product and price IDs.
SALTMARSH_CATALOGUE = (
    ("COF-ESP-340", "Harbor Espresso Beans", "340 g", 1800),
    ("COF-ESP-1KG", "Harbor Espresso Beans", "1 kg", 4600),
    ("COF-DEC-340", "Low Tide Decaf Beans", "340 g", 1900),
    ("MUG-ENM-WHT", "Enamel Camp Mug", "White", 1600),
    ("MUG-ENM-BLU", "Enamel Camp Mug", "Blue", 1600),
    ("GRINDER-HND", "Hand Grinder", "Steel", 5900),
    ("FILTER-02-100", "Paper Filters", "Size 02, 100-Pack", 700),
    ("KETTLE-GOOSE", "Gooseneck Kettle", "1 L", 4800),
)
FERNHILL_CATALOGUE = (
    ("NB-A5-DOT", "Field Notebook", "A5 / Dot Grid", 1400),
    ("NB-A5-LINE", "Field Notebook", "A5 / Lined", 1400),
    ("NB-A6-DOT", "Field Notebook", "A6 / Dot Grid", 1100),
    ("PEN-BRASS", "Brass Pen", "Raw", 3800),
    ("INK-BLU-50", "Fountain Pen Ink", "Blue, 50 ml", 1200),
    ("INK-BLK-50", "Fountain Pen Ink", "Black, 50 ml", 1200),
    ("CARD-SET-12", "Letterpress Cards", "Set of 12", 2200),
    ("WASHI-3PK", "Washi Tape", "3-Pack", 900),
)

FIRST_NAMES = (
    "Dana", "Marisol", "Theo", "Priya", "Jonah", "Keiko", "Rafael", "Ingrid", "Malik", "Sofia",
    "Callum", "Noor", "Beatriz", "Emeka", "Hollis", "Wren", "Anders", "Lucia", "Tobias", "Amara",
    "Declan", "Yusuf", "Greta", "Soren", "Imani", "Ezra", "Paloma", "Quentin", "Linnea", "Rowan",
)  # fmt: skip
LAST_NAMES = (
    "Whitfield", "Ortega", "Lindqvist", "Raman", "Adeyemi", "Tanaka", "Castellanos", "Brennan",
    "Okafor", "Haldane", "Moreau", "Vasquez", "Kowalski", "Ferreira", "Abernathy", "Sato",
    "MacLeod", "Nakamura", "Delacroix", "Hargrove", "Petrov", "Ellingson", "Quiroga", "Fairbairn",
)  # fmt: skip
NAME_SUFFIXES = ("Jr.", "III")

# City, state, ZIP code. The New England codes start with 0, which spreadsheets drop unless the
# cell is text.
ADDRESSES = (
    ("Boston", "MA", "02134"),
    ("Providence", "RI", "02903"),
    ("Portland", "ME", "04101"),
    ("Burlington", "VT", "05401"),
    ("Hartford", "CT", "06103"),
    ("Manchester", "NH", "03101"),
    ("Montclair", "NJ", "07042"),
    ("Denver", "CO", "80202"),
    ("Boulder", "CO", "80302"),
    ("Seattle", "WA", "98101"),
    ("Portland", "OR", "97201"),
    ("Bend", "OR", "97701"),
    ("Missoula", "MT", "59801"),
    ("Bozeman", "MT", "59715"),
    ("Salt Lake City", "UT", "84101"),
    ("Asheville", "NC", "28801"),
    ("Madison", "WI", "53703"),
    ("Duluth", "MN", "55802"),
    ("Flagstaff", "AZ", "86001"),
    ("Ithaca", "NY", "14850"),
    ("Chattanooga", "TN", "37402"),
    ("Marquette", "MI", "49855"),
)

UPS_ACCOUNT = "4W72E8"
UPS_SERVICE_CODES = {"Ground": "03", "2nd Day Air": "02", "Next Day Air Saver": "13"}

TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "DHL Express": "https://www.dhl.com/us-en/home/tracking/tracking-express.html?tracking-id={}",
}

PACKAGE_COUNTS = {2: "Two", 3: "Three"}

Cell = str | int | float | date | None


# --- Tracking numbers ------------------------------------------------------------------------


def ups_check_digit(body: str) -> int:
    """Compute the UPS check digit of the 15 characters after "1Z".

    A letter counts as (code point - 3) mod 10, every second character counts double, and the
    check digit brings the sum up to a multiple of 10.
    """
    total = 0
    for position, character in enumerate(body):
        value = int(character) if character.isdigit() else (ord(character) - 3) % 10
        total += value * (2 if position % 2 else 1)
    return -total % 10


def usps_check_digit(body: str) -> int:
    """Compute the USPS IMpb check digit: the rightmost digit and every second one to its left
    count three times, and the check digit brings the sum up to a multiple of 10."""
    total = 0
    for position, character in enumerate(reversed(body)):
        total += int(character) * (1 if position % 2 else 3)
    return -total % 10


def fedex_check_digit(body: str) -> int:
    """Compute the check digit of a 12-digit FedEx number from its first 11 digits.

    The digits are weighted 3, 1, 7 from the left, and their sum modulo 11, then modulo 10, is
    the check digit.
    """
    weights = (3, 1, 7) * 4
    total = sum(int(digit) * weight for digit, weight in zip(body, weights, strict=False))
    return total % 11 % 10


def dhl_express_check_digit(body: str) -> int:
    """Compute the DHL Express check digit: the number before it, modulo 7."""
    return int(body) % 7


class TrackingNumbers:
    """Draw tracking numbers that pass their carrier's check and are unique across the files."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: set[str] = set()

    def drawing_from(self, rng: random.Random) -> TrackingNumbers:
        """Return tracking numbers drawn from rng that repeat none issued here, before or after."""
        numbers = TrackingNumbers(rng)
        numbers._issued = self._issued
        return numbers

    def ups(self, service: str) -> str:
        code = UPS_SERVICE_CODES[service]
        return self._unique(lambda: self._ups_number(code))

    def fedex(self) -> str:
        return self._unique(self._fedex_number)

    def usps_priority(self) -> str:
        return self._unique(self._usps_priority_number)

    def usps_ground_advantage(self) -> str:
        return self._unique(self._usps_ground_advantage_number)

    def dhl_express(self) -> str:
        return self._unique(self._dhl_express_number)

    def _unique(self, draw: Callable[[], str]) -> str:
        while True:
            number = draw()
            if number not in self._issued:
                self._issued.add(number)
                return number

    def _digits(self, count: int) -> str:
        return "".join(self._rng.choice("0123456789") for _ in range(count))

    def _ups_number(self, service_code: str) -> str:
        body = UPS_ACCOUNT + service_code + self._digits(7)
        return f"1Z{body}{ups_check_digit(body)}"

    def _fedex_number(self) -> str:
        body = "7" + self._digits(10)
        return f"{body}{fedex_check_digit(body)}"

    def _usps_priority_number(self) -> str:
        # 92 + service 055 + a 9-digit mailer ID (starting with 9) + a 7-digit serial.
        body = "92055" + "9" + self._digits(8) + self._digits(7)
        return f"{body}{usps_check_digit(body)}"

    def _usps_ground_advantage_number(self) -> str:
        # 94 + service 001 + a 6-digit mailer ID (not starting with 9) + a 10-digit serial.
        body = "94001" + self._rng.choice("12345678") + self._digits(5) + self._digits(10)
        return f"{body}{usps_check_digit(body)}"

    def _dhl_express_number(self) -> str:
        body = self._rng.choice("123456789") + self._digits(8)
        return f"{body}{dhl_express_check_digit(body)}"


# --- Catalogue and orders --------------------------------------------------------------------


class IdFactory:
    """Make 24-hex ids shaped like MongoDB ObjectIds, creation time first, as HighLevel ids look."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: set[str] = set()

    def drawing_from(self, rng: random.Random) -> IdFactory:
        """Return ids drawn from rng that repeat none issued here, before or after."""
        ids = IdFactory(rng)
        ids._issued = self._issued
        return ids

    def new(self, created_at: datetime) -> str:
        while True:
            candidate = f"{int(created_at.timestamp()):08x}{self._rng.getrandbits(64):016x}"
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate


@dataclass(frozen=True)
class Product:
    """One price of one product: an order line names the price, the sheets name its SKU."""

    sku: str
    product_name: str
    variant: str
    price_cents: int
    product_id: str
    price_id: str

    @property
    def item_name(self) -> str:
        return f"{self.product_name} - {self.variant}"


@dataclass(frozen=True)
class Line:
    item_id: str
    product: Product
    qty: int


@dataclass(frozen=True)
class Address:
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True)
class SeededTracking:
    number: str
    carrier: str

    @property
    def url(self) -> str:
        return TRACKING_URLS[self.carrier].format(self.number)


@dataclass(frozen=True)
class SeededFulfillment:
    """A fulfillment made before the import, stored in the seed."""

    id: str
    created_at: datetime
    trackings: tuple[SeededTracking, ...]
    items: tuple[tuple[Product, int], ...]
    purpose: str


@dataclass
class Order:
    """An order as the seed stores it. The number is None for an order planted as unknown."""

    id: str
    number: int | None
    created_at: datetime
    contact_name: str
    contact_email: str
    address: Address
    lines: list[Line]
    location: Location
    status: str = "completed"
    fulfillments: list[SeededFulfillment] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"Order #{self.number}" if self.number is not None else "(not in the seed)"

    def line(self, sku: str) -> Line:
        return next(line for line in self.lines if line.product.sku == sku)


def build_catalogue(
    ids: IdFactory,
    entries: Sequence[tuple[str, str, str, int]] = CATALOGUE,
    created_at: datetime = CATALOGUE_CREATED,
) -> dict[str, Product]:
    """Create a shop's products. Variants of one product share its product id."""
    product_ids: dict[str, str] = {}
    catalogue: dict[str, Product] = {}

    for sku, product_name, variant, price_cents in entries:
        if product_name not in product_ids:
            product_ids[product_name] = ids.new(created_at)
        price_id = ids.new(created_at + timedelta(minutes=len(catalogue)))
        product = Product(
            sku, product_name, variant, price_cents, product_ids[product_name], price_id
        )
        catalogue[sku] = product

    return catalogue


def draw_contacts(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Draw distinct customers as (name, e-mail). A few names carry a suffix after a comma."""
    pairs = rng.sample([(first, last) for first in FIRST_NAMES for last in LAST_NAMES], count)
    contacts = []

    for first, last in pairs:
        name = f"{first} {last}"
        if rng.random() < 0.08:
            name = f"{name}, {rng.choice(NAME_SUFFIXES)}"
        email = f"{first.lower()}.{last.lower()}@example.com"
        contacts.append((name, email))

    return contacts


@dataclass(frozen=True)
class OrderSeries:
    """Order numbers of one location without gaps, from first_number on.

    Order first_number is created shortly after start, and each later number one
    ORDER_INTERVAL after the one before. unknown_count orders are planted as unknown: a file
    names them, but the seed lacks them.
    """

    location: Location
    first_number: int
    count: int
    start: datetime
    unknown_count: int = 0

    @property
    def next_number(self) -> int:
        return self.first_number + self.count

    @property
    def next_start(self) -> datetime:
        return self.start + ORDER_INTERVAL * self.count


NORTHWIND_SERIES = OrderSeries(
    NORTHWIND,
    FIRST_ORDER_NUMBER,
    SHIPSTATION_ORDERS + WORLDSHIP_ORDERS + MANUAL_ORDERS - UNKNOWN_ORDERS,
    ORDERS_START,
    UNKNOWN_ORDERS,
)


class OrderBook:
    """Every order of one series of a shop.

    Numbers come from a pool shuffled once, so each file's orders are spread over the whole
    order history and the seed's numbers have no gaps.
    """

    def __init__(
        self,
        rng: random.Random,
        ids: IdFactory,
        catalogue: dict[str, Product],
        series: OrderSeries,
    ) -> None:
        self._rng = rng
        self._ids = ids
        self._series = series
        self.catalogue = catalogue
        self._numbers = list(range(series.first_number, series.next_number))
        rng.shuffle(self._numbers)
        self._contacts = draw_contacts(rng, series.count + series.unknown_count)
        self.orders: list[Order] = []

    @property
    def location(self) -> Location:
        return self._series.location

    @property
    def numbers_left(self) -> int:
        return len(self._numbers)

    def new_order(
        self,
        items: Sequence[tuple[str, int]] = (),
        *,
        line_count: int | None = None,
        status: str = "completed",
    ) -> Order:
        """Create an order with the given (SKU, qty) items, or with random ones."""
        number = self._numbers.pop()
        created_at = self._created_at(number)
        order = self._order(number, created_at, items, line_count)
        order.status = status
        self.orders.append(order)
        return order

    def unknown_order(self, line_count: int) -> Order:
        """Create an order that only a file names: its id is valid, but the seed lacks it."""
        created_at = self._series.start + timedelta(days=self._rng.randrange(1, 12))
        return self._order(None, created_at, (), line_count)

    def new_id(self, created_at: datetime) -> str:
        return self._ids.new(created_at)

    def check_complete(self) -> None:
        if self._numbers:
            raise RuntimeError(f"{len(self._numbers)} order numbers unused: fix the order counts")

    def _created_at(self, number: int) -> datetime:
        # ORDER_INTERVAL between orders is longer than the jitter, so the numbers follow the
        # creation times.
        offset = ORDER_INTERVAL * (number - self._series.first_number)
        jitter = timedelta(minutes=self._rng.randrange(0, 200), seconds=self._rng.randrange(60))
        return self._series.start + offset + jitter

    def _order(
        self,
        number: int | None,
        created_at: datetime,
        items: Sequence[tuple[str, int]],
        line_count: int | None,
    ) -> Order:
        if not items:
            items = self._random_items(line_count)
        lines = [Line(self._ids.new(created_at), self.catalogue[sku], qty) for sku, qty in items]
        contact_name, contact_email = self._contacts.pop()
        address = Address(*self._rng.choice(ADDRESSES))
        order_id = self._ids.new(created_at)
        return Order(
            order_id,
            number,
            created_at,
            contact_name,
            contact_email,
            address,
            lines,
            self._series.location,
        )

    def _random_items(self, line_count: int | None) -> list[tuple[str, int]]:
        if line_count is None:
            line_count = self._rng.choices((1, 2, 3, 4), weights=(4, 4, 2, 1))[0]
        skus = self._rng.sample(sorted(self.catalogue), line_count)
        return [(sku, self._rng.choices((1, 2, 3), weights=(6, 2, 1))[0]) for sku in skus]


# --- Cases: one order of one file and what the import must do with it ------------------------


@dataclass
class Case:
    """One order of one file: its rows, the status the import must give it, and the reason.

    sent and trackings describe the fulfillment that the import must create: its (SKU, qty)
    pairs and its count of tracking numbers. Both are empty unless the status is "created".
    """

    order: Order
    rows: list[list[Cell]]
    status: str
    reason: str
    sent: list[tuple[str, int]] = field(default_factory=list)
    trackings: int = 0
    notify: str = ""
    row_numbers: list[int] = field(default_factory=list)
    # The location that the import must read the order from: the agency sheet names it. Empty
    # for an order that the import must reject before any request.
    location_id: str = ""


def all_items(order: Order) -> list[tuple[str, int]]:
    return [(line.product.sku, line.qty) for line in order.lines]


def describe_items(items: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{sku} x{qty}" for sku, qty in items)


def lay_out(rng: random.Random, cases: list[Case]) -> list[Case]:
    """Order cases by order number, as exports sort them, and put unknown orders among them."""
    known = sorted((case for case in cases if case.order.number is not None), key=order_number)
    for case in (case for case in cases if case.order.number is None):
        known.insert(rng.randrange(1, len(known)), case)
    return known


def order_number(case: Case) -> int:
    return case.order.number or 0


def number_rows(cases: list[Case]) -> list[list[Cell]]:
    """Number the rows as a spreadsheet shows them (header is row 1) and return them in order."""
    rows: list[list[Cell]] = []
    for case in cases:
        for row in case.rows:
            rows.append(row)
            case.row_numbers.append(len(rows) + 1)
    return rows


def append_repeated_row(rows: list[list[Cell]], case: Case, index: int) -> None:
    """Repeat one of the case's rows at the end, as when two exports are pasted together."""
    original_number = case.row_numbers[index]
    rows.append(list(case.rows[index]))
    case.row_numbers.append(len(rows) + 1)

    sku = case.rows[index][SHIPSTATION_HEADER.index("Item - SKU")]
    ordered = case.order.line(str(sku)).qty
    case.reason = (
        f"Row {len(rows) + 1} repeats row {original_number} cell for cell, as when two exports "
        f"are pasted together. It is counted once and gets a warning. Counted twice, {sku} "
        f"would exceed the {ordered} ordered."
    )


# --- ShipStation shipments export ------------------------------------------------------------


@dataclass(frozen=True)
class ShipStationPackage:
    shipped: str
    carrier: str
    service: str
    tracking: str


class ShipStationExport:
    """Build the ShipStation shipments export: one row per shipped item."""

    def __init__(self, rng: random.Random, book: OrderBook, numbers: TrackingNumbers) -> None:
        self._rng = rng
        self._book = book
        self._services: tuple[tuple[str, str, Callable[[], str]], ...] = (
            ("UPS", "UPS® Ground", lambda: numbers.ups("Ground")),
            ("UPS", "UPS® 2nd Day Air", lambda: numbers.ups("2nd Day Air")),
            ("FedEx", "FedEx Home Delivery", numbers.fedex),
            ("FedEx", "FedEx Ground", numbers.fedex),
            ("USPS", "USPS Priority Mail", numbers.usps_priority),
            ("USPS", "USPS Ground Advantage", numbers.usps_ground_advantage),
        )
        self.repeated_case: Case | None = None

    def build(self) -> list[Case]:
        book = self._book
        cases = [
            self.unknown_order(),
            self.empty_tracking(),
            self.quantity_too_high(),
            self.unknown_sku(),
            self.repeated_row(),
            self.already_fulfilled(),
            self.canceled(),
            self.quantity_in_words(),
            self.multi_package(book.new_order(line_count=2)),
            self.multi_package(book.new_order(line_count=3)),
            self.split_item(),
            self.partial(),
        ]
        while len(cases) < SHIPSTATION_ORDERS:
            cases.append(self.plain(book.new_order()))
        return cases

    def plain(self, order: Order) -> Case:
        package = self._package()
        rows = [self._row(order, package, line) for line in order.lines]
        reason = "All items ship in one package."
        return Case(order, rows, "created", reason, all_items(order), trackings=1)

    def multi_package(self, order: Order) -> Case:
        first, second = self._packages(2)
        split = len(order.lines) // 2
        rows = [self._row(order, first, line) for line in order.lines[:split]]
        rows += [self._row(order, second, line) for line in order.lines[split:]]
        reason = (
            "Two packages with the items split between them: one fulfillment with both "
            "tracking numbers and all items."
        )
        return Case(order, rows, "created", reason, all_items(order), trackings=2)

    def split_item(self) -> Case:
        order = self._book.new_order([("HOODIE-GRY-L", 2), ("CAP-OLV", 1)])
        hoodie, cap = order.lines
        first, second = self._packages(2)
        rows = [
            self._row(order, first, hoodie, qty=1),
            self._row(order, first, cap),
            self._row(order, second, hoodie, qty=1),
        ]
        reason = (
            "HOODIE-GRY-L ships one in each of two packages, on two rows that add up to the "
            "2 ordered."
        )
        return Case(order, rows, "created", reason, all_items(order), trackings=2)

    def partial(self) -> Case:
        order = self._book.new_order([("JKT-RAIN-L", 1), ("BEANIE-RST", 2), ("PACK-DAY-22", 1)])
        package = self._package()
        rows = [self._row(order, package, line) for line in order.lines[:2]]
        reason = "Ships 2 of the 3 ordered items. PACK-DAY-22 is not in the file and stays open."
        return Case(order, rows, "created", reason, all_items(order)[:2], trackings=1)

    def unknown_order(self) -> Case:
        case = self.plain(self._book.unknown_order(line_count=2))
        case.status, case.sent, case.trackings = "rejected", [], 0
        case.reason = "The order ID is 24 hex characters, but no such order exists at the location."
        return case

    def empty_tracking(self) -> Case:
        order = self._book.new_order([("BOTTLE-750", 1)])
        package = self._package()
        row = self._row(order, package, order.lines[0])
        row[SHIPSTATION_HEADER.index("Shipment - Tracking Number")] = ""
        reason = "The order's only row has an empty Shipment - Tracking Number."
        return Case(order, [row], "rejected", reason)

    def quantity_too_high(self) -> Case:
        order = self._book.new_order([("TEE-BLK-M", 1), ("SOCK-WOOL-3PK", 2)])
        tee, socks = order.lines
        package = self._package()
        rows = [self._row(order, package, tee, qty=2), self._row(order, package, socks)]
        reason = "Item - Qty is 2 for TEE-BLK-M, but the order has 1."
        return Case(order, rows, "rejected", reason)

    def unknown_sku(self) -> Case:
        order = self._book.new_order([("CAP-BLK", 1), ("HOODIE-GRY-M", 1)])
        cap, hoodie = order.lines
        package = self._package()
        typo = self._row(order, package, hoodie)
        typo[SHIPSTATION_HEADER.index("Item - SKU")] = "HOODIE-GREY-M"
        rows = [self._row(order, package, cap), typo]
        reason = "SKU HOODIE-GREY-M is on no item of the order (its hoodie is HOODIE-GRY-M)."
        return Case(order, rows, "rejected", reason)

    def repeated_row(self) -> Case:
        order = self._book.new_order([("SOCK-WOOL-3PK", 1), ("BOTTLE-750", 2)])
        case = self.plain(order)
        # The reason names row numbers, so append_repeated_row writes it after layout.
        self.repeated_case = case
        return case

    def already_fulfilled(self) -> Case:
        order = self._book.new_order([("FLEECE-GRN-M", 1), ("GAITER-BLK", 2)])
        case = self.plain(order)
        tracking_column = SHIPSTATION_HEADER.index("Shipment - Tracking Number")
        carrier_column = SHIPSTATION_HEADER.index("Shipment - Carrier")
        first_row = case.rows[0]
        tracking = SeededTracking(str(first_row[tracking_column]), str(first_row[carrier_column]))
        created_at = datetime(2026, 12, 1, 17, 42, 10, tzinfo=UTC)
        fulfillment = SeededFulfillment(
            self._book.new_id(created_at),
            created_at,
            (tracking,),
            tuple((line.product, line.qty) for line in order.lines),
            f"Makes the {SHIPSTATION_FILE} rows of this order a repeat: skipped.",
        )
        order.fulfillments.append(fulfillment)
        case.status, case.sent, case.trackings = "skipped", [], 0
        case.reason = (
            "The seed already holds a fulfillment of this order with the same tracking number "
            "and the same items, as after an earlier import of the same export."
        )
        return case

    def canceled(self) -> Case:
        case = self.plain(self._book.new_order(line_count=2, status="canceled"))
        case.status, case.sent, case.trackings = "failed", [], 0
        case.reason = "The rows are valid, but the order is canceled, so the API rejects it."
        return case

    def quantity_in_words(self) -> Case:
        order = self._book.new_order([("TEE-SND-S", 2), ("CAP-OLV", 1)])
        case = self.plain(order)
        case.rows[0][SHIPSTATION_HEADER.index("Item - Qty")] = "two"
        case.status, case.sent, case.trackings = "rejected", [], 0
        case.reason = 'Item - Qty of TEE-SND-S is "two", which is not a whole number.'
        return case

    def _package(self) -> ShipStationPackage:
        return self._packages(1)[0]

    def _packages(self, count: int) -> list[ShipStationPackage]:
        carrier, service, draw_tracking = self._rng.choice(self._services)
        shipped = self._rng.choices(("11/30/2026", "12/1/2026"), weights=(1, 4))[0]
        return [
            ShipStationPackage(shipped, carrier, service, draw_tracking()) for _ in range(count)
        ]

    def _row(
        self, order: Order, package: ShipStationPackage, line: Line, qty: int | None = None
    ) -> list[Cell]:
        return [
            order.id,
            package.shipped,
            order.contact_name,
            order.address.city,
            package.carrier,
            package.service,
            package.tracking,
            line.product.sku,
            line.product.item_name,
            str(line.qty if qty is None else qty),
        ]


# --- UPS WorldShip export --------------------------------------------------------------------


class WorldShipExport:
    """Build the UPS WorldShip export: one row per package.

    Reference 1 is the order ID. Reference 2 is empty for a package that carries the whole
    order, or names the one SKU (qty 1) that the package carries.
    """

    def __init__(self, rng: random.Random, book: OrderBook, numbers: TrackingNumbers) -> None:
        self._rng = rng
        self._book = book
        self._numbers = numbers

    def build(self) -> list[Case]:
        book = self._book
        cases = [
            self.unknown_order(),
            self.missing_tracking(),
            self.same_sku_twice_too_many(),
            self.partly_fulfilled_whole_order(),
            self.already_fulfilled(),
            self.whole_order(book.new_order(line_count=2), packages=2),
            self.whole_order(book.new_order(line_count=3), packages=2),
            self.whole_order(book.new_order(line_count=4), packages=3),
            self.sku_per_package(),
            self.single_sku_of_several(),
            self.same_sku_twice(),
        ]
        while len(cases) < WORLDSHIP_ORDERS:
            cases.append(self.whole_order(book.new_order(), packages=1))
        return cases

    def whole_order(self, order: Order, packages: int) -> Case:
        service, shipped = self._service(), self._ship_date()
        rows = [self._row(order, service, shipped) for _ in range(packages)]
        if packages == 1:
            reason = "One package with an empty Reference 2: the whole order."
        else:
            count = PACKAGE_COUNTS[packages]
            reason = (
                f"{count} packages with an empty Reference 2: one fulfillment with "
                f"{count.lower()} tracking numbers and all items."
            )
        return Case(order, rows, "created", reason, all_items(order), trackings=packages)

    def sku_per_package(self) -> Case:
        order = self._book.new_order([("TEE-BLK-L", 1), ("CAP-BLK", 1)])
        service, shipped = self._service(), self._ship_date()
        rows = [self._row(order, service, shipped, line.product.sku) for line in order.lines]
        reason = "Two packages, each naming one SKU in Reference 2."
        return Case(order, rows, "created", reason, all_items(order), trackings=2)

    def single_sku_of_several(self) -> Case:
        order = self._book.new_order([("BOTTLE-750", 1), ("SOCK-WOOL-3PK", 3), ("CAP-OLV", 2)])
        rows = [self._row(order, self._service(), self._ship_date(), "BOTTLE-750")]
        reason = "One package naming BOTTLE-750 in Reference 2. The other items stay open."
        return Case(order, rows, "created", reason, [("BOTTLE-750", 1)], trackings=1)

    def same_sku_twice(self) -> Case:
        order = self._book.new_order([("JKT-RAIN-M", 2)])
        service, shipped = self._service(), self._ship_date()
        rows = [self._row(order, service, shipped, "JKT-RAIN-M") for _ in range(2)]
        reason = "JKT-RAIN-M is named on two packages, 1 + 1 = the 2 ordered."
        return Case(order, rows, "created", reason, [("JKT-RAIN-M", 2)], trackings=2)

    def unknown_order(self) -> Case:
        case = self.whole_order(self._book.unknown_order(line_count=1), packages=1)
        case.status, case.sent, case.trackings = "rejected", [], 0
        case.reason = "Reference 1 is 24 hex characters, but no such order exists at the location."
        return case

    def missing_tracking(self) -> Case:
        order = self._book.new_order(line_count=2)
        row = self._row(order, self._service(), self._ship_date())
        row[WORLDSHIP_HEADER.index("Tracking Number")] = None
        reason = "The order's only row has an empty Tracking Number cell."
        return Case(order, [row], "rejected", reason)

    def same_sku_twice_too_many(self) -> Case:
        order = self._book.new_order([("HOODIE-NVY-XL", 1), ("BEANIE-RST", 1)])
        service, shipped = self._service(), self._ship_date()
        rows = [self._row(order, service, shipped, "HOODIE-NVY-XL") for _ in range(2)]
        reason = (
            "HOODIE-NVY-XL is named on two packages, 2 in all, but the order has 1: "
            "quantity too high."
        )
        return Case(order, rows, "rejected", reason)

    def partly_fulfilled_whole_order(self) -> Case:
        order = self._book.new_order([("PACK-DAY-22", 1), ("TEE-BLK-M", 2), ("GAITER-BLK", 1)])
        earlier = SeededTracking(self._numbers.ups("Ground"), "UPS")
        created_at = datetime(2026, 11, 30, 15, 20, tzinfo=UTC)
        purpose = f"Leaves the order partly fulfilled: the {WORLDSHIP_FILE} row is rejected."
        self._seed_fulfillment(order, created_at, earlier, 1, purpose)
        rows = [self._row(order, self._service(), self._ship_date())]
        reason = (
            "The seed already fulfilled PACK-DAY-22 x1 with another tracking number. This row "
            "has an empty Reference 2, so which items this package carries is ambiguous."
        )
        return Case(order, rows, "rejected", reason)

    def already_fulfilled(self) -> Case:
        order = self._book.new_order([("FLEECE-GRN-M", 1), ("CAP-OLV", 1)])
        row = self._row(order, self._service(), self._ship_date())
        tracking = SeededTracking(str(row[WORLDSHIP_HEADER.index("Tracking Number")]), "UPS")
        created_at = datetime(2026, 12, 1, 16, 5, tzinfo=UTC)
        purpose = f"Makes the {WORLDSHIP_FILE} row of this order a repeat: skipped."
        self._seed_fulfillment(order, created_at, tracking, len(order.lines), purpose)
        reason = (
            "The seed already holds a fulfillment of the whole order with this row's tracking "
            "number."
        )
        return Case(order, [row], "skipped", reason)

    def _seed_fulfillment(
        self,
        order: Order,
        created_at: datetime,
        tracking: SeededTracking,
        line_count: int,
        purpose: str,
    ) -> None:
        """Record a fulfillment made before the import, covering the first line_count lines."""
        items = tuple((line.product, line.qty) for line in order.lines[:line_count])
        fulfillment_id = self._book.new_id(created_at)
        fulfillment = SeededFulfillment(fulfillment_id, created_at, (tracking,), items, purpose)
        order.fulfillments.append(fulfillment)

    def _service(self) -> str:
        return self._rng.choices(tuple(UPS_SERVICE_CODES), weights=(6, 2, 1))[0]

    def _ship_date(self) -> date:
        return self._rng.choices((date(2026, 11, 30), date(2026, 12, 1)), weights=(1, 5))[0]

    def _row(self, order: Order, service: str, shipped: date, sku: str = "") -> list[Cell]:
        weight = round(self._rng.uniform(0.4, 6.5), 1)
        return [
            shipped,
            self._numbers.ups(service),
            f"UPS {service}",
            order.id,
            sku or None,
            order.contact_name,
            order.address.city,
            order.address.state,
            order.address.postal_code,
            weight,
        ]


# --- Hand-made sheet (generic template) ------------------------------------------------------


class ManualSheet:
    """Build the hand-made sheet: a row per package, or per item when Price ID is filled."""

    def __init__(self, book: OrderBook, numbers: TrackingNumbers) -> None:
        self._book = book
        self._draw = {
            "DHL Express": numbers.dhl_express,
            "FedEx": numbers.fedex,
            "USPS": numbers.usps_priority,
        }

    def build(self) -> list[Case]:
        book = self._book
        return [
            self.whole_order(book.new_order(line_count=2), "DHL Express", "yes", with_url=True),
            self.whole_order(book.new_order(line_count=1), "FedEx", "", with_url=False),
            self.priced_items(book.new_order(line_count=2), "USPS", "no"),
            self.one_of_several(),
            self.two_packages(),
            self.price_not_on_order(),
            self.items_over_two_packages(),
            self.fewer_than_ordered(),
            self.whole_order(book.new_order(line_count=3), "USPS", "no", with_url=True),
            self.whole_order(book.new_order(line_count=2), "FedEx", "yes", with_url=False),
            self.whole_order(book.new_order(line_count=1), "DHL Express", "", with_url=False),
        ]

    def whole_order(self, order: Order, carrier: str, notify: str, *, with_url: bool) -> Case:
        tracking = self._draw[carrier]()
        rows = [self._row(order, carrier, tracking, notify, with_url=with_url)]
        reason = "No Price ID: the whole order ships in one package."
        return Case(order, rows, "created", reason, all_items(order), 1, notify)

    def priced_items(self, order: Order, carrier: str, notify: str) -> Case:
        tracking = self._draw[carrier]()
        rows = [
            self._row(order, carrier, tracking, notify, line.product, line.qty, with_url=True)
            for line in order.lines
        ]
        reason = "One row per item with Price ID and Qty, all in one package."
        return Case(order, rows, "created", reason, all_items(order), 1, notify)

    def one_of_several(self) -> Case:
        order = self._book.new_order([("JKT-RAIN-M", 1), ("BEANIE-RST", 1), ("TEE-BLK-L", 2)])
        jacket = order.lines[0].product
        tracking = self._draw["FedEx"]()
        rows = [self._row(order, "FedEx", tracking, "yes", jacket, 1, with_url=True)]
        reason = "One Price ID row for JKT-RAIN-M. The other items stay open."
        return Case(order, rows, "created", reason, [("JKT-RAIN-M", 1)], 1, "yes")

    def two_packages(self) -> Case:
        order = self._book.new_order(line_count=3)
        rows = [
            self._row(order, "DHL Express", self._draw["DHL Express"](), "yes", with_url=False)
            for _ in range(2)
        ]
        reason = (
            "Two rows without Price ID: one fulfillment with both tracking numbers and all items."
        )
        return Case(order, rows, "created", reason, all_items(order), 2, "yes")

    def price_not_on_order(self) -> Case:
        order = self._book.new_order([("HOODIE-GRY-L", 1), ("CAP-BLK", 1)])
        hoodie = order.lines[0].product
        wrong = self._book.catalogue["HOODIE-GRY-M"]
        tracking = self._draw["USPS"]()
        rows = [
            self._row(order, "USPS", tracking, "no", hoodie, 1, with_url=False),
            self._row(order, "USPS", tracking, "no", wrong, 1, with_url=False),
        ]
        reason = (
            f"Price ID {wrong.price_id} (HOODIE-GRY-M) is not on the order, which has "
            "HOODIE-GRY-L and CAP-BLK."
        )
        return Case(order, rows, "rejected", reason, notify="no")

    def items_over_two_packages(self) -> Case:
        order = self._book.new_order([("BOTTLE-750", 2), ("SOCK-WOOL-3PK", 1)])
        bottle, socks = order.lines
        rows = [
            self._row(order, "USPS", self._draw["USPS"](), "", bottle.product, 2, with_url=True),
            self._row(order, "USPS", self._draw["USPS"](), "", socks.product, 1, with_url=True),
        ]
        reason = "Each item ships in its own package: one fulfillment with both tracking numbers."
        return Case(order, rows, "created", reason, all_items(order), 2, "")

    def fewer_than_ordered(self) -> Case:
        order = self._book.new_order([("TEE-SND-S", 3)])
        tracking = self._draw["DHL Express"]()
        tee = order.lines[0].product
        rows = [self._row(order, "DHL Express", tracking, "yes", tee, 2, with_url=True)]
        reason = "Qty 2 of the 3 ordered TEE-SND-S, so one stays open."
        return Case(order, rows, "created", reason, [("TEE-SND-S", 2)], 1, "yes")

    def _row(
        self,
        order: Order,
        carrier: str,
        tracking: str,
        notify: str,
        product: Product | None = None,
        qty: int = 0,
        *,
        with_url: bool,
    ) -> list[Cell]:
        """Build a row naming one price, or the whole order when product is None."""
        url = TRACKING_URLS[carrier].format(tracking) if with_url else ""
        price_id = product.price_id if product else ""
        qty_cell = str(qty) if product else ""
        return [order.id, tracking, carrier, url, price_id, qty_cell, notify]


# --- Agency sheet for several locations (generic template) -----------------------------------


# Carriers that each shop ships with.
AGENCY_CARRIERS = {
    NORTHWIND.id: ("UPS", "FedEx"),
    SALTMARSH.id: ("USPS", "FedEx"),
    FERNHILL.id: ("USPS", "DHL Express"),
}


class AgencySheet:
    """Build the sheet of an agency that runs the three shops: a row per item, or per package
    when SKU and Qty are empty, and a Location ID on each row.

    An empty Location ID leaves the order to the run's location, which is Northwind's.
    """

    def __init__(
        self, rng: random.Random, books: Sequence[OrderBook], numbers: TrackingNumbers
    ) -> None:
        self._rng = rng
        self._books = {book.location.id: book for book in books}
        self._draw: dict[str, Callable[[], str]] = {
            "UPS": lambda: numbers.ups("Ground"),
            "FedEx": numbers.fedex,
            "USPS": numbers.usps_priority,
            "DHL Express": numbers.dhl_express,
        }

    def build(self) -> list[Case]:
        northwind = self._books[NORTHWIND.id]
        saltmarsh = self._books[SALTMARSH.id]
        fernhill = self._books[FERNHILL.id]
        cases = [
            self.whole_order(northwind.new_order(line_count=2), location_cell=""),
            self.whole_order(northwind.new_order(line_count=1), location_cell=""),
            self.whole_order(northwind.new_order(line_count=3)),
            self.two_packages(northwind.new_order(line_count=3)),
            self.one_of_several(northwind.new_order(line_count=3)),
            self.whole_order(saltmarsh.new_order(line_count=2)),
            self.two_packages(saltmarsh.new_order(line_count=2)),
            self.other_location(saltmarsh.new_order(line_count=2), FERNHILL),
            self.first_row_without_location(saltmarsh.new_order(line_count=3)),
            self.whole_order(fernhill.new_order(line_count=2)),
            self.later_row_without_location(fernhill.new_order(line_count=3)),
            self.mistyped_location(fernhill.new_order(line_count=2)),
        ]
        for book in self._books.values():
            while book.numbers_left:
                cases.append(self.by_item(book.new_order()))
        return cases

    def by_item(self, order: Order) -> Case:
        rows = self._item_rows(order, self._package(order), order.lines)
        reason = "A row per item with SKU and Qty, all in one package."
        return self._created(order, rows, all_items(order), 1, reason)

    def whole_order(self, order: Order, location_cell: str | None = None) -> Case:
        """Build one row for a package of the whole order. location_cell "" leaves the
        Location ID empty, and None fills in the order's location."""
        cell = order.location.id if location_cell is None else location_cell
        carrier, tracking = self._package(order)
        rows: list[list[Cell]] = [[cell, order.id, tracking, carrier, "", ""]]
        if cell:
            reason = "No SKU: the whole order ships in one package."
        else:
            reason = (
                "Location ID is empty, so the order is read from the run's location, "
                f"{NORTHWIND.name}. No SKU: the whole order ships in one package."
            )
        return self._created(order, rows, all_items(order), 1, reason)

    def two_packages(self, order: Order) -> Case:
        split = len(order.lines) // 2
        rows = self._item_rows(order, self._package(order), order.lines[:split])
        rows += self._item_rows(order, self._package(order), order.lines[split:])
        reason = (
            "Two packages with the items split between them: one fulfillment with both "
            "tracking numbers and all items."
        )
        return self._created(order, rows, all_items(order), 2, reason)

    def one_of_several(self, order: Order) -> Case:
        first = order.lines[0]
        rows = self._item_rows(order, self._package(order), [first])
        reason = (
            f"Ships only {first.product.sku} of the {len(order.lines)} ordered items. "
            "The others stay open."
        )
        return self._created(order, rows, [(first.product.sku, first.qty)], 1, reason)

    def other_location(self, order: Order, named: Location) -> Case:
        rows = self._item_rows(order, self._package(order), order.lines, location_id=named.id)
        reason = (
            f"The order belongs to {order.location.name}, but its rows name {named.name}, "
            "which has no order with this ID."
        )
        return Case(order, rows, "rejected", reason, location_id=named.id)

    def first_row_without_location(self, order: Order) -> Case:
        rows = self._item_rows(order, self._package(order), order.lines)
        rows[0][AGENCY_HEADER.index("Location ID")] = ""
        reason = (
            "The first row leaves Location ID empty. The order's other rows name "
            f"{order.location.name}, so the whole order goes there."
        )
        return self._created(order, rows, all_items(order), 1, reason)

    def later_row_without_location(self, order: Order) -> Case:
        rows = self._item_rows(order, self._package(order), order.lines)
        rows[-1][AGENCY_HEADER.index("Location ID")] = ""
        reason = (
            "The last row leaves Location ID empty. The order's other rows name "
            f"{order.location.name}, so the whole order goes there."
        )
        return self._created(order, rows, all_items(order), 1, reason)

    def mistyped_location(self, order: Order) -> Case:
        rows = self._item_rows(
            order, self._package(order), order.lines, location_id=MISTYPED_LOCATION_ID
        )
        reason = (
            f"Location ID {MISTYPED_LOCATION_ID} is the ID of {order.location.name} with its "
            "last character mistyped. The seed has no such location, and the sandbox refuses "
            "the token access to it (HTTP 403)."
        )
        return Case(order, rows, "rejected", reason, location_id=MISTYPED_LOCATION_ID)

    def _created(
        self,
        order: Order,
        rows: list[list[Cell]],
        sent: list[tuple[str, int]],
        trackings: int,
        reason: str,
    ) -> Case:
        return Case(order, rows, "created", reason, sent, trackings, location_id=order.location.id)

    def _package(self, order: Order) -> tuple[str, str]:
        """Draw a carrier of the order's shop and a tracking number of that carrier."""
        carrier = self._rng.choice(AGENCY_CARRIERS[order.location.id])
        return carrier, self._draw[carrier]()

    def _item_rows(
        self,
        order: Order,
        package: tuple[str, str],
        lines: Sequence[Line],
        *,
        location_id: str | None = None,
    ) -> list[list[Cell]]:
        carrier, tracking = package
        location_cell = order.location.id if location_id is None else location_id
        return [
            [location_cell, order.id, tracking, carrier, line.product.sku, str(line.qty)]
            for line in lines
        ]


# --- Writers ---------------------------------------------------------------------------------


def write_csv(path: Path, header: Sequence[str], rows: list[list[Cell]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_worldship_xlsx(path: Path, rows: list[list[Cell]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Shipments"
    sheet.append(WORLDSHIP_HEADER)
    for row in rows:
        sheet.append(row)

    date_column = WORLDSHIP_HEADER.index("Ship Date") + 1
    postal_column = WORLDSHIP_HEADER.index("Ship To Postal Code") + 1
    weight_column = WORLDSHIP_HEADER.index("Package Weight") + 1
    for row_number in range(2, len(rows) + 2):
        sheet.cell(row_number, date_column).number_format = "m/d/yyyy"
        # "@" marks the cell as text, so Excel keeps the leading zero of "02134".
        sheet.cell(row_number, postal_column).number_format = "@"
        sheet.cell(row_number, weight_column).number_format = "0.0"

    widths = (11, 21, 24, 27, 15, 26, 16, 13, 19, 15)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width

    save_workbook_reproducibly(workbook, path)


def save_workbook_reproducibly(workbook: Workbook, path: Path) -> None:
    """Save with fixed timestamps, because openpyxl writes the current time into the
    document properties and every zip entry, which would change the bytes on each run."""
    workbook.properties.created = WORKBOOK_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)

    fixed_modified = WORKBOOK_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    zip_time = WORKBOOK_TIME.timetuple()[:6]
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + fixed_modified, data)
            fixed_entry = zipfile.ZipInfo(entry.filename, date_time=zip_time)
            fixed_entry.external_attr = entry.external_attr
            target.writestr(fixed_entry, data, compress_type=zipfile.ZIP_DEFLATED)


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def seed_document(orders: list[Order]) -> dict[str, object]:
    return {
        "locations": [{"id": location.id, "name": location.name} for location in LOCATIONS],
        "orders": [
            seed_order(order) for order in sorted(orders, key=lambda order: order.number or 0)
        ],
    }


def seed_order(order: Order) -> dict[str, object]:
    amount_cents = sum(line.product.price_cents * line.qty for line in order.lines)
    entry: dict[str, object] = {
        "_id": order.id,
        "altId": order.location.id,
        "name": order.name,
        "status": order.status,
        "currency": CURRENCY,
        "amount": amount_cents / 100,
        "createdAt": timestamp(order.created_at),
        "contactName": order.contact_name,
        "contactEmail": order.contact_email,
        "items": [seed_item(line) for line in order.lines],
    }
    if order.fulfillments:
        entry["fulfillments"] = [seed_fulfillment(item) for item in order.fulfillments]
    return entry


def seed_item(line: Line) -> dict[str, object]:
    product = line.product
    return {
        "_id": line.item_id,
        "name": product.item_name,
        "qty": line.qty,
        "price": {
            "_id": product.price_id,
            "name": product.variant,
            "sku": product.sku,
            "amount": product.price_cents / 100,
            "currency": CURRENCY,
        },
        "product": {"_id": product.product_id, "name": product.product_name},
    }


def seed_fulfillment(fulfillment: SeededFulfillment) -> dict[str, object]:
    trackings = [
        {
            "trackingNumber": tracking.number,
            "shippingCarrier": tracking.carrier,
            "trackingUrl": tracking.url,
        }
        for tracking in fulfillment.trackings
    ]
    items = [{"priceId": product.price_id, "qty": qty} for product, qty in fulfillment.items]
    return {
        "_id": fulfillment.id,
        "createdAt": timestamp(fulfillment.created_at),
        "trackings": trackings,
        "items": items,
    }


def write_seed(path: Path, orders: list[Order]) -> None:
    text = json.dumps(seed_document(orders), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


# --- README ----------------------------------------------------------------------------------


README_INTRO = """\
# Sample data

Invented shipping exports for three shops that one agency runs as HighLevel locations
(sub-accounts), and the sandbox seed that holds their orders. Every name, address, order and
tracking number is invented, and e-mail addresses are at example.com. Each tracking number passes
its carrier's check-digit rule.

{locations}
{default_note}
`generate.py` writes every file in this folder, this README included. Edit the generator, not
its output, and rerun it from the project root:

    uv run python sample_data/generate.py

A fixed random seed makes every run write the same bytes.

| File | What it is |
| --- | --- |
| `{shipstation}` | ShipStation shipments export (template `shipstation`), a row per item. |
| `{worldship}` | UPS WorldShip export (template `ups_worldship`), a row per package. |
| `{manual}` | Sheet made by hand (template `generic`): Price ID rows and whole-order rows. |
| `{agency}` | An agency's sheet for all three shops (template `generic`), with Location ID. |
| `{seed}` | Seed of the local sandbox API: the locations and every order the files name. |

Row numbers are the ones a spreadsheet program shows: the header is row 1 and the first data
row is row 2, in the XLSX as in the CSV files. No order appears in two files. The tables list
every order of each file, and "Fulfillment" is what the import must send for a created order.
"""

SHIPSTATION_NOTES = """\
Order - Number is the HighLevel order ID. Shipment - Carrier is "UPS", "FedEx" or "USPS", and
Date - Shipped Date reads like 12/1/2026. Rows of one package share its tracking number, so an
order shipped in two packages has two tracking numbers.
"""

WORLDSHIP_NOTES = """\
Ship Date cells are real dates, Ship To Postal Code cells are text (leading zeros kept, as in
"02134") and Package Weight is a number in pounds. Reference 1 is the order ID. An empty
Reference 2 means that the package carries the whole order. A SKU in Reference 2 means that the
package carries one of that item, because the sheet has no quantity column.
"""

MANUAL_NOTES = """\
A row without Price ID and Qty means the whole order. Notify Customer is "yes", "no" or empty,
and an empty cell leaves the choice to the run's setting.
"""

AGENCY_NOTES = (
    "The rows of the three shops are mixed, as an agency's sheet for all its sub-accounts has "
    "them. Location ID names the shop of the row's order, and an empty cell leaves the order to "
    f"the run's location, {NORTHWIND.name}. A row without SKU and Qty means the whole order. "
    "Location is the location that the import must read the order from and send its "
    'fulfillment to, and "-" means that the import must reject the order before it sends any '
    "request."
)


@dataclass(frozen=True)
class FileTable:
    """One sample file's section of the README: its notes, its orders and its extra columns."""

    file_name: str
    notes: str
    cases: list[Case]
    with_notify: bool = False
    with_location: bool = False


def readme_text(
    catalogues: dict[Location, dict[str, Product]],
    files: list[FileTable],
    orders: list[Order],
) -> str:
    parts = [
        README_INTRO.format(
            locations=locations_table(orders),
            default_note=fill_paragraph(
                f"{NORTHWIND.name} is the first location of the seed, so the built-in sandbox "
                "(`--sandbox`) uses it when the run sets no location. Only "
                f"`{AGENCY_FILE}` names the other two shops."
            ),
            shipstation=SHIPSTATION_FILE,
            worldship=WORLDSHIP_FILE,
            manual=MANUAL_FILE,
            agency=AGENCY_FILE,
            seed=SEED_FILE,
        ),
    ]
    for location, catalogue in catalogues.items():
        parts.append(catalogue_section(location, catalogue))
    for table in files:
        parts.append(file_section(table))
    parts.append(seed_section(orders))
    return "\n".join(parts)


def locations_table(orders: list[Order]) -> str:
    lines = ["| Location ID | Shop | Orders |", "| --- | --- | --- |"]
    for location in LOCATIONS:
        own = [order for order in orders if order.location == location]
        lines.append(f"| `{location.id}` | {location.name} | {orders_range(own)} |")
    return "\n".join(lines) + "\n"


def catalogue_section(location: Location, catalogue: dict[str, Product]) -> str:
    lines = [
        f"## Catalogue of {location.name}",
        "",
        "| SKU | Item name | Price (USD) | Product ID | Price ID |",
        "| --- | --- | --- | --- | --- |",
    ]
    for product in catalogue.values():
        price = f"{product.price_cents / 100:.2f}"
        lines.append(
            f"| {product.sku} | {product.item_name} | {price} "
            f"| `{product.product_id}` | `{product.price_id}` |"
        )
    return "\n".join(lines) + "\n"


def file_section(table: FileTable) -> str:
    counts = {status: 0 for status in ("created", "skipped", "rejected", "failed")}
    for case in table.cases:
        counts[case.status] += 1
    totals = ", ".join(f"{count} {status}" for status, count in counts.items())

    headers = ["Rows", "Order", "Order ID", "Expected", "Fulfillment"]
    if table.with_location:
        headers.insert(1, "Location")
    if table.with_notify:
        headers.append("Notify")
    headers.append("Reason")
    lines = [
        f"## {table.file_name}",
        "",
        table.notes,
        f"{len(table.cases)} orders: {totals}.",
        "",
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]

    for case in table.cases:
        lines.append("| " + " | ".join(case_cells(case, table)) + " |")

    return "\n".join(lines) + "\n"


def case_cells(case: Case, table: FileTable) -> list[str]:
    rows = ", ".join(str(number) for number in case.row_numbers)
    fulfillment = "-"
    if case.status == "created":
        plural = "s" if case.trackings > 1 else ""
        fulfillment = f"{case.trackings} tracking number{plural}: {describe_items(case.sent)}"

    cells = [rows, case.order.name, f"`{case.order.id}`", case.status, fulfillment]
    if table.with_location:
        cells.insert(1, f"`{case.location_id}`" if case.location_id else "-")
    if table.with_notify:
        cells.append(case.notify or "empty")
    cells.append(case.reason.replace("|", "\\|"))
    return cells


def seed_section(orders: list[Order]) -> str:
    canceled = ", ".join(
        f"{order.name} (`{order.id}`)" for order in orders if order.status == "canceled"
    )
    summary = (
        f"The {len(LOCATIONS)} locations listed at the top, in that order, and {len(orders)} "
        "orders: every order of the files except the ones planted as unknown. Every order's "
        f'status is "completed" except {canceled}, which is "canceled". These orders start with '
        "fulfillments made before the import:"
    )
    lines = [
        f"## {SEED_FILE}",
        "",
        fill_paragraph(summary).rstrip("\n"),
        "",
        "| Order | Order ID | Fulfillment ID | Tracking number | Items | Purpose |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for order in sorted(orders, key=lambda order: order.number or 0):
        for fulfillment in order.fulfillments:
            numbers = ", ".join(tracking.number for tracking in fulfillment.trackings)
            items = describe_items([(product.sku, qty) for product, qty in fulfillment.items])
            lines.append(
                f"| {order.name} | `{order.id}` | `{fulfillment.id}` | {numbers} | {items} "
                f"| {fulfillment.purpose} |"
            )
    return "\n".join(lines) + "\n"


def fill_paragraph(text: str) -> str:
    """Wrap a paragraph at 100 characters, never inside a word or an ID."""
    return textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False) + "\n"


def orders_range(orders: list[Order]) -> str:
    numbers = sorted(order.number for order in orders if order.number is not None)
    return f"#{numbers[0]} to #{numbers[-1]}"


# --- Main ------------------------------------------------------------------------------------


def agency_books(
    rng: random.Random, ids: IdFactory, northwind_catalogue: dict[str, Product]
) -> list[OrderBook]:
    """Create the orders that only the agency sheet names, a book per shop.

    Northwind's orders number on from those of the other files. The other two shops get
    catalogues of their own.
    """
    saltmarsh_catalogue = build_catalogue(
        ids, SALTMARSH_CATALOGUE, datetime(2026, 4, 14, 16, 0, tzinfo=UTC)
    )
    fernhill_catalogue = build_catalogue(
        ids, FERNHILL_CATALOGUE, datetime(2026, 6, 3, 11, 45, tzinfo=UTC)
    )
    count = AGENCY_ORDERS_PER_LOCATION
    northwind_series = OrderSeries(
        NORTHWIND, NORTHWIND_SERIES.next_number, count, NORTHWIND_SERIES.next_start
    )
    saltmarsh_series = OrderSeries(SALTMARSH, 3001, count, datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    fernhill_series = OrderSeries(FERNHILL, 5001, count, datetime(2026, 11, 27, 11, 0, tzinfo=UTC))
    return [
        OrderBook(rng, ids, northwind_catalogue, northwind_series),
        OrderBook(rng, ids, saltmarsh_catalogue, saltmarsh_series),
        OrderBook(rng, ids, fernhill_catalogue, fernhill_series),
    ]


def main() -> None:
    rng = random.Random(RANDOM_SEED)
    ids = IdFactory(rng)
    catalogue = build_catalogue(ids)
    book = OrderBook(rng, ids, catalogue, NORTHWIND_SERIES)
    numbers = TrackingNumbers(rng)

    shipstation = ShipStationExport(rng, book, numbers)
    shipstation_cases = lay_out(rng, shipstation.build())
    worldship_cases = lay_out(rng, WorldShipExport(rng, book, numbers).build())
    manual_cases = lay_out(rng, ManualSheet(book, numbers).build())
    book.check_complete()

    agency_rng = random.Random(AGENCY_RANDOM_SEED)
    books = agency_books(agency_rng, ids.drawing_from(agency_rng), catalogue)
    agency_sheet = AgencySheet(agency_rng, books, numbers.drawing_from(agency_rng))
    agency_cases = agency_sheet.build()
    # Shuffle the orders, so that the three shops' rows are mixed as in an unsorted sheet.
    agency_rng.shuffle(agency_cases)
    for agency_book in books:
        agency_book.check_complete()

    shipstation_rows = number_rows(shipstation_cases)
    assert shipstation.repeated_case is not None
    append_repeated_row(shipstation_rows, shipstation.repeated_case, index=0)
    worldship_rows = number_rows(worldship_cases)
    manual_rows = number_rows(manual_cases)
    agency_rows = number_rows(agency_cases)

    all_orders = book.orders + [order for agency_book in books for order in agency_book.orders]
    write_csv(OUTPUT_DIR / SHIPSTATION_FILE, SHIPSTATION_HEADER, shipstation_rows)
    write_worldship_xlsx(OUTPUT_DIR / WORLDSHIP_FILE, worldship_rows)
    write_csv(OUTPUT_DIR / MANUAL_FILE, MANUAL_HEADER, manual_rows)
    write_csv(OUTPUT_DIR / AGENCY_FILE, AGENCY_HEADER, agency_rows)
    write_seed(OUTPUT_DIR / SEED_FILE, all_orders)

    files = [
        FileTable(SHIPSTATION_FILE, SHIPSTATION_NOTES, shipstation_cases),
        FileTable(WORLDSHIP_FILE, WORLDSHIP_NOTES, worldship_cases),
        FileTable(MANUAL_FILE, MANUAL_NOTES, manual_cases, with_notify=True),
        FileTable(AGENCY_FILE, fill_paragraph(AGENCY_NOTES), agency_cases, with_location=True),
    ]
    catalogues = {
        NORTHWIND: catalogue,
        SALTMARSH: books[1].catalogue,
        FERNHILL: books[2].catalogue,
    }
    readme = readme_text(catalogues, files, all_orders)
    (OUTPUT_DIR / README_FILE).write_text(readme, encoding="utf-8")


if __name__ == "__main__":
    main()
