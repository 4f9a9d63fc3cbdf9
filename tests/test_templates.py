"""Tests for the built-in column templates, each with a sample export in its tool's layout.

Every file in tests/data/templates/ is made-up data in a shipping tool's layout,
with that tool's real header names where they are known (see each template's
comment). Each sample must pick its own template without doubt, and importing
it into a sandbox seeded with tests/data/templates/seed.json must store the
fulfillments written below. The expectations were written by hand from the
samples, never copied from a run of the tool.

Most samples name orders by number ("#2001", "1-2071"), which the import looks
up through HighLevel's List Orders endpoint. make_samples.py in that folder
writes the seed, the ShipMonk workbook and the starter sheets.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from importer.carriers import validate_check_digit
from importer.client import HighLevelClient
from importer.config import Settings
from importer.load import Table, load_table
from importer.mapping import (
    CONFIDENCE_LEVELS,
    FIELDS,
    ColumnMapping,
    header_score,
    load_templates,
    match_template,
    templates_folder,
)
from importer.pipeline import FileJob, import_file
from importer.records import FileResult
from importer.sandbox import CreatedFulfillment, Sandbox, load_seed

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES_FOLDER = Path(__file__).resolve().parent / "data" / "templates"
SEED_PATH = SAMPLES_FOLDER / "seed.json"
TEMPLATES_FOLDER = PROJECT / "templates"
TEMPLATES = load_templates()

TOKEN = "templates-test-token-5d81c0"
LOCATION_ID = "Fm8kR2xQ7wLp4TzN9bVc"

# The public tracking pages of the carriers in the samples, as the carriers publish them.
UPS_PAGE = "https://www.ups.com/track?tracknum={}"
FEDEX_PAGE = "https://www.fedex.com/fedextrack/?trknbr={}"
USPS_PAGE = "https://tools.usps.com/go/TrackConfirmAction?tLabels={}"
DHL_EXPRESS_PAGE = "https://www.dhl.com/en/express/tracking.html?AWB={}"

# A tracking as HighLevel stores it: (number, carrier, tracking URL).
Tracking = tuple[str, str, str]


def ups(number: str) -> Tracking:
    return (number, "UPS", UPS_PAGE.format(number))


def fedex(number: str) -> Tracking:
    return (number, "FedEx", FEDEX_PAGE.format(number))


def usps(number: str) -> Tracking:
    return (number, "USPS", USPS_PAGE.format(number))


def dhl_express(number: str) -> Tracking:
    return (number, "DHL Express", DHL_EXPRESS_PAGE.format(number))


def given(number: str, carrier: str, url: str) -> Tracking:
    """A tracking whose URL comes from the file, which the import keeps as written."""
    return (number, carrier, url)


@dataclass(frozen=True)
class Fulfillment:
    """One fulfillment as the sandbox stores it, with items named by SKU."""

    trackings: frozenset[Tracking]
    items: Mapping[str, int]  # SKU -> quantity


def shipped(trackings: Sequence[Tracking], items: Mapping[str, int]) -> Fulfillment:
    return Fulfillment(frozenset(trackings), dict(items))


@dataclass(frozen=True)
class Sample:
    file_name: str
    fulfillments: Mapping[int, Fulfillment]  # order number -> the one fulfillment it gets

    @property
    def path(self) -> Path:
        return SAMPLES_FOLDER / self.file_name


# Keyed by the template that each sample must pick.
SAMPLES: dict[str, Sample] = {
    "shipstation": Sample(
        "shipstation.csv",
        {
            2001: shipped([fedex("762607309195")], {"TEE-BLK-M": 1, "CAP-OLV": 1}),
            2002: shipped([ups("1Z8R4F270321225447")], {"HOODIE-GRY-L": 1, "SOCK-WOOL-3PK": 2}),
            # "Stamps.com" in Shipment - Carrier is ShipStation's USPS postage account.
            # GAITER-BLK is not in the file and stays open.
            2003: shipped([usps("9205596750532677845285")], {"JKT-RAIN-M": 1, "BOTTLE-750": 1}),
            # Two packages, one item in each: one fulfillment with both tracking numbers.
            2004: shipped(
                [ups("1Z8R4F270310199523"), ups("1Z8R4F270388303666")],
                {"FLEECE-GRN-M": 1, "PACK-DAY-22": 1},
            ),
            # Printed as "#2005".
            2005: shipped([usps("9400110703370936057290")], {"BEANIE-RST": 2}),
        },
    ),
    "shippo": Sample(
        "shippo.csv",
        {
            # Shippo names no items, so each order ships whole. The URLs are Shippo's.
            2011: shipped(
                [
                    given(
                        "9400118964149135933200",
                        "USPS",
                        "https://tools.usps.com/go/TrackConfirmAction_input"
                        "?origTrackNum=9400118964149135933200",
                    )
                ],
                {"TEE-SND-S": 1, "CAP-BLK": 1},
            ),
            2012: shipped(
                [
                    given(
                        "1Z8R4F270323336994",
                        "UPS",
                        "https://www.ups.com/track?loc=en_US&tracknum=1Z8R4F270323336994",
                    )
                ],
                {"HOODIE-NVY-XL": 1},
            ),
            2013: shipped(
                [
                    given(
                        "739206853557",
                        "FedEx",
                        "https://www.fedex.com/fedextrack/?tracknumbers=739206853557",
                    ),
                    given(
                        "721850544555",
                        "FedEx",
                        "https://www.fedex.com/fedextrack/?tracknumbers=721850544555",
                    ),
                ],
                {"JKT-RAIN-L": 1, "FLEECE-GRN-M": 1},
            ),
            # Shippo's carrier token "dhl_express".
            2014: shipped(
                [
                    given(
                        "3993300533",
                        "DHL Express",
                        "https://www.dhl.com/en/express/tracking.html?AWB=3993300533&brand=DHL",
                    )
                ],
                {"SOCK-WOOL-3PK": 1},
            ),
        },
    ),
    "pirate_ship": Sample(
        "pirate_ship.csv",
        {
            2021: shipped([usps("9400182626199560890672")], {"TEE-BLK-L": 1, "GAITER-BLK": 1}),
            2022: shipped([ups("1Z8R4F270377462498")], {"HOODIE-GRY-M": 1}),
            2023: shipped([usps("9205595722528931275875")], {"BOTTLE-750": 2, "CAP-OLV": 1}),
            # Two labels for one order.
            2024: shipped(
                [usps("9400138445789589576837"), usps("9400134345311354312260")],
                {"PACK-DAY-22": 1, "JKT-RAIN-M": 1},
            ),
        },
    ),
    "easypost_shipments": Sample(
        "easypost_shipments.csv",
        {
            2031: shipped([usps("9400129483783668212645")], {"TEE-SND-S": 2}),
            2032: shipped([ups("1Z8R4F270344019190")], {"HOODIE-GRY-L": 1, "BEANIE-RST": 1}),
            2033: shipped([fedex("745146001256")], {"CAP-BLK": 2}),
            # reference "2034", written without "#".
            2034: shipped([usps("9205593797384733564858")], {"SOCK-WOOL-3PK": 1, "GAITER-BLK": 1}),
        },
    ),
    "easypost_trackers": Sample(
        "easypost_trackers.csv",
        {
            # public_url is EasyPost's tracking page.
            2036: shipped(
                [
                    given(
                        "9400134528647938541865",
                        "USPS",
                        "https://track.easypost.com/"
                        "djE6dHJrXzVlOWQxYzNiN2EyZjRlNmQ4YzBiMWEzZjVlN2Q5YzJi",
                    )
                ],
                {"FLEECE-GRN-M": 1},
            ),
            2037: shipped(
                [
                    given(
                        "1Z8R4F270321035189",
                        "UPS",
                        "https://track.easypost.com/"
                        "djE6dHJrXzhiMmQ0ZjZhMWMzZTViN2Q5ZjBhMmM0ZTZiOGQwZjFh",
                    )
                ],
                {"TEE-BLK-M": 1, "TEE-SND-S": 1},
            ),
            2038: shipped(
                [
                    given(
                        "711716169684",
                        "FedEx",
                        "https://track.easypost.com/"
                        "djE6dHJrXzBmMmU0ZDZjOGIxYTNmNWU3ZDljMGIyYTRmNmU4ZDFj",
                    )
                ],
                {"JKT-RAIN-L": 1},
            ),
        },
    ),
    "ups_worldship": Sample(
        "ups_worldship.csv",
        {
            # Reference 1 contains HighLevel order IDs. An empty Reference 2 ships the whole order.
            2041: shipped([ups("1Z8R4F270306612182")], {"HOODIE-NVY-XL": 1, "TEE-BLK-M": 1}),
            # One SKU per package in Reference 2, so CAP-BLK stays open.
            2042: shipped(
                [ups("1Z8R4F270217079259"), ups("1Z8R4F270288202286")],
                {"JKT-RAIN-M": 1, "BOTTLE-750": 1},
            ),
            2043: shipped([ups("1Z8R4F270145626795")], {"PACK-DAY-22": 1}),
        },
    ),
    "fedex_ship_manager": Sample(
        "fedex_ship_manager.csv",
        {
            2046: shipped([fedex("759747111546")], {"TEE-BLK-L": 2}),
            2047: shipped(
                [fedex("715522406570"), fedex("791736087109")],
                {"HOODIE-GRY-M": 1, "HOODIE-NVY-XL": 1},
            ),
            # "Priority Overnight" has no carrier name in it, and Ship Manager ships FedEx only.
            2048: shipped([fedex("708331535705")], {"JKT-RAIN-M": 1}),
        },
    ),
    "usps_click_n_ship": Sample(
        "usps_click_n_ship.csv",
        {
            # The file has no carrier column: every Click-N-Ship label is a USPS label.
            2051: shipped([usps("9205597046760761080798")], {"CAP-OLV": 2}),
            2052: shipped([usps("9400151151637005715380")], {"TEE-SND-S": 1, "SOCK-WOOL-3PK": 1}),
            2053: shipped([usps("9205599217635887233192")], {"BEANIE-RST": 1, "GAITER-BLK": 1}),
        },
    ),
    "veeqo": Sample(
        "veeqo.csv",
        {
            2056: shipped([usps("9400152409032226931716")], {"TEE-BLK-M": 1, "HOODIE-GRY-L": 1}),
            # Ships the 2 fleeces only, so CAP-BLK stays open.
            2057: shipped([ups("1Z8R4F270372057560")], {"FLEECE-GRN-M": 2}),
            2058: shipped([fedex("797886485433")], {"JKT-RAIN-L": 1, "PACK-DAY-22": 1}),
        },
    ),
    "shipbob": Sample(
        "shipbob.csv",
        {
            2061: shipped([usps("9400172600566208564685")], {"SOCK-WOOL-3PK": 3}),
            2062: shipped([ups("1Z8R4F270392109494")], {"TEE-SND-S": 1, "CAP-OLV": 1}),
            # Two shipments with two carriers: one fulfillment with both tracking numbers.
            2063: shipped(
                [fedex("763407656513"), usps("9205590187493327576448")],
                {"HOODIE-GRY-M": 1, "BOTTLE-750": 1},
            ),
        },
    ),
    "shipmonk": Sample(
        "shipmonk.xlsx",
        {
            2066: shipped([usps("9400130391942599623388")], {"JKT-RAIN-M": 1, "GAITER-BLK": 2}),
            2067: shipped([ups("1Z8R4F270383951242")], {"TEE-BLK-L": 1}),
            2068: shipped([dhl_express("2172379075")], {"HOODIE-NVY-XL": 1, "BEANIE-RST": 1}),
        },
    ),
    "ordoro": Sample(
        "ordoro.csv",
        {
            # Order IDs "1-2071": Ordoro's sales channel number before the order number.
            2071: shipped([usps("9205598952426432336517")], {"TEE-SND-S": 1, "HOODIE-GRY-M": 1}),
            2072: shipped(
                [ups("1Z8R4F270316422967"), ups("1Z8R4F270206292388")],
                {"CAP-OLV": 1, "JKT-RAIN-L": 1},
            ),
            # Shipper "DHL".
            2073: shipped([dhl_express("6229227152")], {"PACK-DAY-22": 1}),
        },
    ),
    "ebay": Sample(
        "ebay.csv",
        {
            # Custom Label is the SKU. Without a quantity column, each row ships one.
            2076: shipped([usps("9400118768569464834319")], {"TEE-BLK-M": 1, "SOCK-WOOL-3PK": 1}),
            2077: shipped([ups("1Z8R4F270248595099")], {"HOODIE-GRY-L": 1}),
            # BOTTLE-750 is not in the file and stays open.
            2078: shipped([fedex("760611300268")], {"CAP-BLK": 1}),
        },
    ),
    "woocommerce_ast": Sample(
        "woocommerce_ast.csv",
        {
            2081: shipped([usps("9400136589055998339387")], {"TEE-SND-S": 2, "CAP-BLK": 1}),
            # status_shipped 2 (partially shipped): JKT-RAIN-M stays open.
            2082: shipped([ups("1Z8R4F270321468819")], {"HOODIE-NVY-XL": 1}),
            # No sku: the whole order.
            2083: shipped([fedex("758412169093")], {"FLEECE-GRN-M": 1}),
        },
    ),
    "aftership": Sample(
        "aftership.csv",
        {
            2086: shipped([usps("9400176132811027962337")], {"GAITER-BLK": 1, "BEANIE-RST": 1}),
            2087: shipped([ups("1Z8R4F270397369936")], {"TEE-BLK-L": 1}),
            2088: shipped([dhl_express("7354265870")], {"JKT-RAIN-L": 1}),
        },
    ),
    "generic": Sample(
        "generic.csv",
        {
            # HighLevel order IDs. CAP-OLV is not in the file and stays open.
            2091: shipped([ups("1Z8R4F270366392334")], {"TEE-BLK-M": 1}),
            # Named by price ID, not SKU.
            2092: shipped([fedex("783259911336")], {"HOODIE-GRY-M": 1}),
            2093: shipped(
                [
                    given(
                        "9205594893880712399157",
                        "USPS",
                        "https://tools.usps.com/go/TrackConfirmAction"
                        "?qtc_tLabels1=9205594893880712399157",
                    )
                ],
                {"BOTTLE-750": 1, "SOCK-WOOL-3PK": 1},
            ),
        },
    ),
}

# Sheets in this repository that are not tool exports, and the template each must pick.
REPOSITORY_SHEETS = [
    ("sample_data/manual_fulfillments.csv", "generic"),
    ("sample_data/agency_locations_2026-12-01.csv", "generic"),
    ("sample_data/shipstation_shipments_2026-12-01.csv", "shipstation"),
    ("sample_data/ups_worldship_2026-12-01.xlsx", "ups_worldship"),
    *(
        (path.relative_to(PROJECT).as_posix(), "generic")
        for path in sorted((PROJECT / "tests" / "data" / "exports").glob("*.csv"))
    ),
]

# Header rows of sheets prepared by hand.
HAND_MADE_HEADERS = [
    "Order ID,Tracking Number,Carrier,Tracking URL,Price ID,Qty,Notify Customer",
    "Order ID,Tracking Number,Carrier,SKU,Qty",
    "Order ID,Tracking Number,Carrier,Tracking URL",
    "Order #,Tracking #,Carrier,SKU,Qty",
    "orderId,trackingNo,carrier",
    "Order Number,Tracking Number,Carrier,Tracking URL,SKU,Quantity",
    "GHL Order ID,Tracking,Shipping Carrier,Item SKU,Qty Shipped,Send Email",
]


# --- helpers -----------------------------------------------------------------------------


SEED_ORDERS: list[dict[str, Any]] = json.loads(SEED_PATH.read_text(encoding="utf-8"))["orders"]
# Order number -> HighLevel order ID, from the seed's order names ("Order #2001").
ORDER_IDS: dict[int, str] = {
    int(order["name"].removeprefix("Order #")): order["_id"] for order in SEED_ORDERS
}
# The sample shop's catalogue: SKU -> HighLevel price ID.
PRICE_IDS: dict[str, str] = {
    item["price"]["sku"]: item["price"]["_id"] for order in SEED_ORDERS for item in order["items"]
}


def load_sample(path: Path) -> Table:
    return load_table(path, header_score=lambda cells: header_score(cells, TEMPLATES))


def detect(path: Path) -> ColumnMapping:
    return match_template(load_sample(path), TEMPLATES)


def write_sheet(folder: Path, header_line: str) -> Path:
    path = folder / "hand_made.csv"
    path.write_text(header_line + "\n", encoding="utf-8")
    return path


def import_into_sandbox(path: Path, tmp_path: Path) -> tuple[FileResult, list[CreatedFulfillment]]:
    """Import a file into a fresh sandbox, and return the result and the fulfillments it stored."""
    with Sandbox(load_seed(SEED_PATH), tokens={TOKEN: None}) as sandbox:
        settings = Settings(
            token=TOKEN,
            token_source="the test token",
            location_id=LOCATION_ID,
            base_url=sandbox.base_url,
        )
        result = asyncio.run(run_import(path, settings, tmp_path / "results.xlsx"))
        return result, sandbox.fulfillment_log()


async def run_import(path: Path, settings: Settings, results_path: Path) -> FileResult:
    async with HighLevelClient(
        base_url=settings.base_url, token=settings.token, token_source=settings.token_source
    ) as client:
        return await import_file(
            FileJob(path=path, results_path=results_path),
            settings=settings,
            templates=TEMPLATES,
            client=client,
            notice=lambda _line: None,
            show_progress=False,
        )


def stored_fulfillments(log: Sequence[CreatedFulfillment]) -> dict[str, list[Fulfillment]]:
    """Group the created fulfillments by order ID, with items named by SKU."""
    sku_of = {price_id: sku for sku, price_id in PRICE_IDS.items()}
    stored: dict[str, list[Fulfillment]] = {}
    for entry in log:
        trackings = frozenset(
            (
                tracking["trackingNumber"],
                tracking.get("shippingCarrier"),
                tracking.get("trackingUrl"),
            )
            for tracking in entry.body["trackings"]
        )
        items = {
            sku_of.get(item["priceId"], item["priceId"]): item["qty"]
            for item in entry.body["items"]
        }
        stored.setdefault(entry.order_id, []).append(Fulfillment(trackings, items))
    return stored


def expected_fulfillments(sample: Sample) -> dict[str, list[Fulfillment]]:
    return {ORDER_IDS[number]: [fulfillment] for number, fulfillment in sample.fulfillments.items()}


def describe_outcomes(result: FileResult) -> str:
    """List each order's status and message, to show why a fulfillment is missing."""
    lines = [f"{order.order_id}: {order.status.value} {order.message}" for order in result.orders]
    return "\n".join(lines)


def ups_check_digit_valid(number: str) -> bool:
    """Check a "1Z" number's check digit: letters count as (code point - 3) mod 10, and every
    second character after "1Z" counts double; the sum plus the check digit is a multiple of 10."""
    body, check = number[2:17], number[17]
    total = 0
    for position, character in enumerate(body):
        value = int(character) if character.isdigit() else (ord(character) - 3) % 10
        total += value * (2 if position % 2 else 1)
    return str(-total % 10) == check


# --- each sample picks its template and imports ------------------------------------------


def test_every_builtin_template_has_sample() -> None:
    """Each built-in template has a sample export below, so none goes untested."""
    assert sorted(SAMPLES) == sorted(template.name for template in TEMPLATES)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_detects_own_template(name: str) -> None:
    """A tool's sample export picks that tool's template."""
    mapping = detect(SAMPLES[name].path)

    assert mapping.template.name == name


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_detection_confident(name: str) -> None:
    """No other template fits a sample as well while reading other columns."""
    mapping = detect(SAMPLES[name].path)

    assert mapping.doubts == ()


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_import_stores_fulfillments(name: str, tmp_path: Path) -> None:
    """Importing a sample stores one fulfillment per order with the sample's trackings and items."""
    sample = SAMPLES[name]

    result, log = import_into_sandbox(sample.path, tmp_path)

    assert stored_fulfillments(log) == expected_fulfillments(sample), describe_outcomes(result)


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_tracking_numbers_valid(name: str) -> None:
    """The samples' tracking numbers pass their carrier's check digit, as real ones do."""
    for fulfillment in SAMPLES[name].fulfillments.values():
        for number, carrier, _url in fulfillment.trackings:
            if carrier == "UPS":
                assert ups_check_digit_valid(number), number
            else:
                assert validate_check_digit(carrier, number) is True, number


def test_sample_orders_in_seed() -> None:
    """Every order a sample ships is in the seed, so a missing fulfillment is the import's fault."""
    numbers = {number for sample in SAMPLES.values() for number in sample.fulfillments}

    assert numbers <= set(ORDER_IDS)


# --- other sheets still pick the template they picked before -----------------------------


@pytest.mark.parametrize(("relative_path", "expected"), REPOSITORY_SHEETS)
def test_repository_sheet_keeps_template(relative_path: str, expected: str) -> None:
    """The sample data and export fixtures pick the same template as before the tool templates."""
    mapping = detect(PROJECT / relative_path)

    assert (mapping.template.name, mapping.doubts) == (expected, ())


@pytest.mark.parametrize("header_line", HAND_MADE_HEADERS)
def test_hand_made_sheet_detected_generic(header_line: str, tmp_path: Path) -> None:
    """Sheets with plain headers written by hand pick the generic template without doubt."""
    mapping = detect(write_sheet(tmp_path, header_line))

    assert (mapping.template.name, mapping.doubts) == ("generic", ())


# --- starter sheets ----------------------------------------------------------------------


@pytest.mark.parametrize("file_name", ["starter.csv", "starter.xlsx"])
def test_starter_sheet_detected_generic(file_name: str) -> None:
    """The blank starter sheets pick the generic template."""
    mapping = detect(TEMPLATES_FOLDER / file_name)

    assert (mapping.template.name, mapping.doubts) == ("generic", ())


@pytest.mark.parametrize("file_name", ["starter.csv", "starter.xlsx"])
def test_starter_sheet_has_every_field(file_name: str) -> None:
    """The starter sheets have a column for every field."""
    mapping = detect(TEMPLATES_FOLDER / file_name)

    assert set(mapping.columns) == set(FIELDS)


def test_starter_workbook_header_bold_and_frozen() -> None:
    """The starter workbook's header row is bold and frozen, so it stays in view."""
    sheet = load_workbook(TEMPLATES_FOLDER / "starter.xlsx")["Fulfillments"]

    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])


def test_starter_workbook_columns_text() -> None:
    """Every column is formatted as text, so Excel keeps the leading zeros of tracking numbers."""
    sheet = load_workbook(TEMPLATES_FOLDER / "starter.xlsx")["Fulfillments"]
    letters = [get_column_letter(index) for index in range(1, sheet.max_column + 1)]

    assert [sheet.column_dimensions[letter].number_format for letter in letters] == ["@"] * len(
        letters
    )


def test_starter_workbook_explains_each_column() -> None:
    """The "How to fill" sheet has a row for each column of the blank sheet."""
    workbook = load_workbook(TEMPLATES_FOLDER / "starter.xlsx")
    headers = [cell.value for cell in workbook["Fulfillments"][1]]
    explained = [row[0] for row in workbook["How to fill"].iter_rows(min_row=2, values_only=True)]

    assert explained == headers


# --- template files and their documentation ----------------------------------------------


@pytest.mark.parametrize("path", sorted(templates_folder().glob("*.toml")), ids=lambda p: p.stem)
def test_template_states_confidence(path: Path) -> None:
    """Each built-in template states how sure its header names are, instead of the default."""
    document = tomllib.loads(path.read_text(encoding="utf-8"))

    assert document.get("confidence") in CONFIDENCE_LEVELS


@pytest.mark.parametrize("name", SAMPLES)
def test_readme_lists_template(name: str) -> None:
    """templates/README.md lists each built-in template with its confidence."""
    template = next(template for template in TEMPLATES if template.name == name)
    readme = (TEMPLATES_FOLDER / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith(f"| `{name}` |")]

    assert [f"| {template.confidence} |" in row for row in rows] == [True]
