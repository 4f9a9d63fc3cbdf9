"""Write the sandbox seed and workbook samples of the column template tests, and the starter sheets.

The CSV samples in this folder are plain text written by hand. This script
writes what is awkward to write by hand:

- seed.json: the orders the samples refer to, named "Order #2001" and up,
  with the items and prices of the sample shop's catalogue, which it copies
  from sample_data/sandbox_seed.json;
- shipmonk.xlsx: a ShipMonk shipped orders report as a workbook, with date
  cells and text cells as Excel stores them;
- templates/starter.csv and templates/starter.xlsx: the blank sheets for
  people who prepare fulfillments by hand, with the generic template's
  preferred headers and, in the workbook, a "How to fill" sheet.

Run from the project root after changing an order or a workbook row here:

    uv run python tests/data/templates/make_samples.py

seed.json is the same on every run, because its IDs are derived from the
order numbers. The workbook's cells are the same on every run, but its bytes
are not: openpyxl stamps the ZIP members with the time of saving.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

FOLDER = Path(__file__).resolve().parent
PROJECT = FOLDER.parents[2]
CATALOGUE_SEED = PROJECT / "sample_data" / "sandbox_seed.json"
STARTER_FOLDER = PROJECT / "templates"

LOCATION_ID = "Fm8kR2xQ7wLp4TzN9bVc"
LOCATION_NAME = "Northwind Outfitters"
CURRENCY = "USD"

# Order number -> (SKU, quantity ordered) of each line. The samples ship these orders.
ORDERS: dict[int, tuple[tuple[str, int], ...]] = {
    2001: (("TEE-BLK-M", 1), ("CAP-OLV", 1)),
    2002: (("HOODIE-GRY-L", 1), ("SOCK-WOOL-3PK", 2)),
    2003: (("JKT-RAIN-M", 1), ("BOTTLE-750", 1), ("GAITER-BLK", 1)),
    2004: (("FLEECE-GRN-M", 1), ("PACK-DAY-22", 1)),
    2005: (("BEANIE-RST", 2),),
    2011: (("TEE-SND-S", 1), ("CAP-BLK", 1)),
    2012: (("HOODIE-NVY-XL", 1),),
    2013: (("JKT-RAIN-L", 1), ("FLEECE-GRN-M", 1)),
    2014: (("SOCK-WOOL-3PK", 1),),
    2021: (("TEE-BLK-L", 1), ("GAITER-BLK", 1)),
    2022: (("HOODIE-GRY-M", 1),),
    2023: (("BOTTLE-750", 2), ("CAP-OLV", 1)),
    2024: (("PACK-DAY-22", 1), ("JKT-RAIN-M", 1)),
    2031: (("TEE-SND-S", 2),),
    2032: (("HOODIE-GRY-L", 1), ("BEANIE-RST", 1)),
    2033: (("CAP-BLK", 2),),
    2034: (("SOCK-WOOL-3PK", 1), ("GAITER-BLK", 1)),
    2036: (("FLEECE-GRN-M", 1),),
    2037: (("TEE-BLK-M", 1), ("TEE-SND-S", 1)),
    2038: (("JKT-RAIN-L", 1),),
    2041: (("HOODIE-NVY-XL", 1), ("TEE-BLK-M", 1)),
    2042: (("JKT-RAIN-M", 1), ("BOTTLE-750", 1), ("CAP-BLK", 1)),
    2043: (("PACK-DAY-22", 1),),
    2046: (("TEE-BLK-L", 2),),
    2047: (("HOODIE-GRY-M", 1), ("HOODIE-NVY-XL", 1)),
    2048: (("JKT-RAIN-M", 1),),
    2051: (("CAP-OLV", 2),),
    2052: (("TEE-SND-S", 1), ("SOCK-WOOL-3PK", 1)),
    2053: (("BEANIE-RST", 1), ("GAITER-BLK", 1)),
    2056: (("TEE-BLK-M", 1), ("HOODIE-GRY-L", 1)),
    2057: (("FLEECE-GRN-M", 2), ("CAP-BLK", 1)),
    2058: (("JKT-RAIN-L", 1), ("PACK-DAY-22", 1)),
    2061: (("SOCK-WOOL-3PK", 3),),
    2062: (("TEE-SND-S", 1), ("CAP-OLV", 1)),
    2063: (("HOODIE-GRY-M", 1), ("BOTTLE-750", 1)),
    2066: (("JKT-RAIN-M", 1), ("GAITER-BLK", 2)),
    2067: (("TEE-BLK-L", 1),),
    2068: (("HOODIE-NVY-XL", 1), ("BEANIE-RST", 1)),
    2071: (("TEE-SND-S", 1), ("HOODIE-GRY-M", 1)),
    2072: (("CAP-OLV", 1), ("JKT-RAIN-L", 1)),
    2073: (("PACK-DAY-22", 1),),
    2076: (("TEE-BLK-M", 1), ("SOCK-WOOL-3PK", 1)),
    2077: (("HOODIE-GRY-L", 1),),
    2078: (("CAP-BLK", 1), ("BOTTLE-750", 1)),
    2081: (("TEE-SND-S", 2), ("CAP-BLK", 1)),
    2082: (("HOODIE-NVY-XL", 1), ("JKT-RAIN-M", 1)),
    2083: (("FLEECE-GRN-M", 1),),
    2086: (("GAITER-BLK", 1), ("BEANIE-RST", 1)),
    2087: (("TEE-BLK-L", 1),),
    2088: (("JKT-RAIN-L", 1),),
    2091: (("TEE-BLK-M", 1), ("CAP-OLV", 1)),
    2092: (("HOODIE-GRY-M", 1),),
    2093: (("BOTTLE-750", 1), ("SOCK-WOOL-3PK", 1)),
}

CONTACTS = (
    "Ada Okafor",
    "Bruno Lindgren",
    "Chloe Marchetti",
    "Dev Raman",
    "Elif Kaya",
    "Farah Nasser",
    "Gus Whitfield",
    "Hana Sato",
)

# When order 2001 was placed. Each next order was placed an hour later.
FIRST_ORDER_AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
# The workbook's creation time, as the report's download time.
EXPORTED_AT = datetime(2026, 12, 2, 18, 0, 0)


def hex_id(*parts: object) -> str:
    """Derive a 24-hex ID, the shape of HighLevel's IDs, that is the same on every run."""
    text = "/".join(str(part) for part in parts)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


def order_id(number: int) -> str:
    return hex_id("templates-order", number)


# --- seed ----------------------------------------------------------------------------------


def read_catalogue(path: Path) -> dict[str, dict[str, Any]]:
    """Map each SKU of the sample shop to its line name, price and product records."""
    seed = json.loads(path.read_text(encoding="utf-8"))
    catalogue: dict[str, dict[str, Any]] = {}
    for order in seed["orders"]:
        for item in order["items"]:
            sku = item["price"]["sku"]
            catalogue.setdefault(
                sku, {"name": item["name"], "price": item["price"], "product": item["product"]}
            )
    return catalogue


def build_order(
    number: int, lines: Sequence[tuple[str, int]], catalogue: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    position = number - min(ORDERS)
    contact = CONTACTS[position % len(CONTACTS)]
    items = [build_item(number, sku, qty, catalogue[sku]) for sku, qty in lines]
    created_at = FIRST_ORDER_AT + timedelta(hours=position)
    return {
        "_id": order_id(number),
        "altId": LOCATION_ID,
        "name": f"Order #{number}",
        "status": "completed",
        "currency": CURRENCY,
        "amount": sum(item["price"]["amount"] * item["qty"] for item in items),
        "createdAt": created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "contactName": contact,
        "contactEmail": contact.lower().replace(" ", ".") + "@example.com",
        "items": items,
    }


def build_item(number: int, sku: str, qty: int, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "_id": hex_id("templates-item", number, sku),
        "name": entry["name"],
        "qty": qty,
        "price": dict(entry["price"]),
        "product": dict(entry["product"]),
    }


def build_seed() -> dict[str, Any]:
    catalogue = read_catalogue(CATALOGUE_SEED)
    return {
        "locations": [{"id": LOCATION_ID, "name": LOCATION_NAME}],
        "orders": [build_order(number, lines, catalogue) for number, lines in ORDERS.items()],
    }


# --- ShipMonk workbook ---------------------------------------------------------------------

SHIPMONK_HEADERS = (
    "Order Number",
    "Order Key",
    "Store",
    "Shipped Date",
    "Carrier",
    "Shipping Method",
    "Tracking Number",
    "SKU",
    "Item Name",
    "Quantity Shipped",
)
SHIPMONK_ROWS: tuple[tuple[str | date | int, ...], ...] = (
    (
        "#2066",
        "SM-88412066",
        "Northwind Outfitters",
        date(2026, 12, 2),
        "USPS",
        "USPS Ground Advantage",
        "9400130391942599623388",
        "JKT-RAIN-M",
        "Stormline Rain Jacket - Slate / M",
        1,
    ),
    (
        "#2066",
        "SM-88412066",
        "Northwind Outfitters",
        date(2026, 12, 2),
        "USPS",
        "USPS Ground Advantage",
        "9400130391942599623388",
        "GAITER-BLK",
        "Neck Gaiter - Black",
        2,
    ),
    (
        "#2067",
        "SM-88412067",
        "Northwind Outfitters",
        date(2026, 12, 2),
        "UPS",
        "UPS Ground",
        "1Z8R4F270383951242",
        "TEE-BLK-L",
        "Trail Tee - Black / L",
        1,
    ),
    (
        "#2068",
        "SM-88412068",
        "Northwind Outfitters",
        date(2026, 12, 2),
        "DHL Express",
        "DHL Express Worldwide",
        "2172379075",
        "HOODIE-NVY-XL",
        "Ridge Hoodie - Navy / XL",
        1,
    ),
    (
        "#2068",
        "SM-88412068",
        "Northwind Outfitters",
        date(2026, 12, 2),
        "DHL Express",
        "DHL Express Worldwide",
        "2172379075",
        "BEANIE-RST",
        "Ridge Beanie - Rust",
        1,
    ),
)


def shipmonk_workbook() -> bytes:
    """Build the report with real date cells and tracking numbers stored as text."""
    workbook = Workbook()
    workbook.properties.created = EXPORTED_AT
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Shipped Orders"
    sheet.append(SHIPMONK_HEADERS)
    for row in SHIPMONK_ROWS:
        sheet.append(row)
    for cell in sheet["D"][1:]:
        cell.number_format = "mm/dd/yyyy"

    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


# --- starter sheets -----------------------------------------------------------------------

# Each column of the starter sheets: the generic template's preferred header, whether it is
# required, what to write in it, an example, and the column's width in characters.
STARTER_COLUMNS: tuple[tuple[str, str, str, str, int], ...] = (
    (
        "Order ID",
        "Required",
        "The HighLevel order: its order number as the shop shows it (1001 or #1001), or its "
        "order ID (24 characters, digits and the letters a to f, from the order's page).",
        "1001",
        28,
    ),
    (
        "Tracking Number",
        "Required",
        "The tracking number exactly as printed on the label. The column is formatted as text, "
        "so a number that starts with 0 keeps its zeros.",
        "1Z999AA10123456784",
        26,
    ),
    (
        "Carrier",
        "Optional",
        "The carrier's name: UPS, FedEx, USPS, DHL Express, Canada Post and so on. Left empty, "
        "the carrier is taken from the tracking number where its format tells (UPS numbers "
        "start with 1Z).",
        "UPS",
        16,
    ),
    (
        "Tracking URL",
        "Optional",
        "The web page where the customer follows the package. Left empty, it is made from the "
        "carrier and the tracking number.",
        "https://www.ups.com/track?tracknum=1Z999AA10123456784",
        40,
    ),
    (
        "SKU",
        "Optional",
        "The SKU of one item in this package, one row per item. Leave SKU, Qty and Price ID "
        "empty when the package holds the whole order.",
        "TEE-BLK-M",
        18,
    ),
    (
        "Qty",
        "Optional",
        "How many of that item are in the package, as a whole number. Empty means 1.",
        "2",
        8,
    ),
    (
        "Price ID",
        "Optional",
        "HighLevel's price ID of the item, in place of the SKU: needed for an item without a "
        "SKU, or when two items of the order share one. A row with both is read by its price ID.",
        "698a19983fcb4b70f79a7ffc",
        28,
    ),
    (
        "Location ID",
        "Optional",
        "The HighLevel sub-account (location) of the order. Empty means the location the "
        "import runs with (--location-id or the settings file).",
        "Xk7pQ2mLw9RtY4vB8nZc",
        24,
    ),
    (
        "Notify Customer",
        "Optional",
        "yes to email the customer about this shipment, no to send no email. Empty leaves it "
        "to the import's setting (--notify-customer).",
        "yes",
        16,
    ),
)
STARTER_SHEET = "Fulfillments"
HOW_TO_SHEET = "How to fill"
HOW_TO_HEADERS = ("Column", "Required", "What to write", "Example")
HOW_TO_WIDTHS = (18, 10, 90, 54)
# Excel's "Text" number format: cells keep what is typed, such as leading zeros.
TEXT_FORMAT = "@"


def starter_csv() -> str:
    return ",".join(column[0] for column in STARTER_COLUMNS) + "\n"


def starter_workbook() -> bytes:
    """Build the blank sheet: bold frozen header, text columns, and a "How to fill" sheet."""
    workbook = Workbook()
    workbook.properties.created = EXPORTED_AT
    sheet = workbook.active
    assert sheet is not None
    sheet.title = STARTER_SHEET
    sheet.append([column[0] for column in STARTER_COLUMNS])
    for index, (_header, _required, _help, _example, width) in enumerate(STARTER_COLUMNS, 1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.cell(row=1, column=index).number_format = TEXT_FORMAT
        sheet.column_dimensions[letter].width = width
        sheet.column_dimensions[letter].number_format = TEXT_FORMAT
    sheet.freeze_panes = "A2"

    how_to = workbook.create_sheet(HOW_TO_SHEET)
    how_to.append(HOW_TO_HEADERS)
    for header, required, help_text, example, _width in STARTER_COLUMNS:
        how_to.append((header, required, help_text, example))
    for index, width in enumerate(HOW_TO_WIDTHS, 1):
        how_to.column_dimensions[get_column_letter(index)].width = width
        how_to.cell(row=1, column=index).font = Font(bold=True)
    for row in how_to.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    how_to.freeze_panes = "A2"

    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def main() -> None:
    seed = build_seed()
    (FOLDER / "seed.json").write_text(json.dumps(seed, indent=2) + "\n", encoding="utf-8")
    (FOLDER / "shipmonk.xlsx").write_bytes(shipmonk_workbook())
    (STARTER_FOLDER / "starter.csv").write_text(starter_csv(), encoding="utf-8")
    (STARTER_FOLDER / "starter.xlsx").write_bytes(starter_workbook())


if __name__ == "__main__":
    main()
