"""End-to-end runs of `ghl-fulfill import` as a subprocess against a sandbox of the HighLevel API.

Every expected status, tracking number and item below was written by hand from
sample_data/README.md and the sample files, never copied from an earlier run of the tool, so
these tests check the tool against the description of the data.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import weakref
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from importer.sandbox import CreatedFulfillment, RequestRecord, Sandbox, load_seed

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
SEED_PATH = SAMPLE_DATA / "sandbox_seed.json"
LOCATION_ID = "Xk7pQ2mLw9RtY4vB8nZc"  # Northwind Outfitters, the first location of the seed
SALTMARSH_ID = "Rb3Tn8QeV5yHs2KdW7mJ"
FERNHILL_ID = "Lp6Wc9ZsA4mGx1NhF8dQ"
MISTYPED_LOCATION_ID = "Lp6Wc9ZsA4mGx1NhF8dO"  # Fernhill's ID mistyped: no location of the seed
TOKEN = "e2e-test-token-7c41b9f2d05a"
WRONG_TOKEN = "e2e-wrong-token-18d3a6fe92c7"

# The sandbox allows 100 requests per 10 s by default, as HighLevel does. One run of a sample
# file sends up to about 100 requests (two reads and a create per order), and the rerun tests
# send two runs back to back, so the default limit would respond with 429 and make the tool wait.
SANDBOX_MAX_REQUESTS = 10_000
# Path of a request about one order or its fulfillments. Group 1 is the order ID.
ORDER_PATH = re.compile(r"/payments/orders/([0-9a-f]{24})(?:/fulfillments)?/?$")
RUN_TIMEOUT_SECONDS = 120
MISSING_FILE_NAME = "missing_export.csv"
VERBOSE_LOG_NAME = "run.log"

# The catalogues of sample_data/README.md: SKU -> HighLevel price ID. No SKU is in two shops'
# catalogues, so one map serves all three.
PRICE_IDS = {
    "TEE-BLK-M": "698a19983fcb4b70f79a7ffc",
    "TEE-BLK-L": "698a19d43bce14ab261db1d4",
    "TEE-SND-S": "698a1a102a438f2a3172f442",
    "HOODIE-GRY-M": "698a1a4ce427f474114d9fce",
    "HOODIE-GRY-L": "698a1a8815d25341edc5fe85",
    "HOODIE-NVY-XL": "698a1ac423eb71643ac5c727",
    "FLEECE-GRN-M": "698a1b0009c9c31ae2f93909",
    "JKT-RAIN-M": "698a1b3c2cc9d354d76fd970",
    "JKT-RAIN-L": "698a1b78a946a04e9ff35ab3",
    "CAP-OLV": "698a1bb42a162b8dc835698d",
    "CAP-BLK": "698a1bf089fb1806dc3fe287",
    "BEANIE-RST": "698a1c2ca5ea88f7f5301958",
    "SOCK-WOOL-3PK": "698a1c68d755df988d8960a3",
    "BOTTLE-750": "698a1ca465304a98408287b0",
    "PACK-DAY-22": "698a1ce09476c36e9cfce8d0",
    "GAITER-BLK": "698a1d1c5d5428b382dab138",
    "COF-ESP-340": "69de648002ff349d4f876aa3",
    "COF-ESP-1KG": "69de64bce06c85afbaec4ef7",
    "COF-DEC-340": "69de64f83c95ad20819ed6b6",
    "MUG-ENM-WHT": "69de65344d317c68022dd18d",
    "MUG-ENM-BLU": "69de65708eca73657965c0fe",
    "GRINDER-HND": "69de65aca71dba495552da89",
    "FILTER-02-100": "69de65e88fde5639132a29cf",
    "KETTLE-GOOSE": "69de66244f7b56bf55724a8a",
    "NB-A5-DOT": "6a2013bc7f8eb3335f062fe2",
    "NB-A5-LINE": "6a2013f83974497269842a22",
    "NB-A6-DOT": "6a201434ad1885a37130f0c4",
    "PEN-BRASS": "6a2014701cfac13b6d1e96f0",
    "INK-BLU-50": "6a2014aca4726041ac374eed",
    "INK-BLK-50": "6a2014e8d8d12f2491df3dbe",
    "CARD-SET-12": "6a2015242c8d3f9a794085f1",
    "WASHI-3PK": "6a201560c938600d475df378",
}


@dataclass(frozen=True)
class ExpectedOrder:
    """One order's outcome as sample_data/README.md describes it."""

    status: str
    rows: tuple[int, ...]
    tracking_numbers: frozenset[str] = frozenset()
    items: Mapping[str, int] = field(default_factory=dict)  # SKU -> quantity
    notify_cell: bool | None = None  # the row's Notify Customer cell; None leaves it to the run
    # The location that the import reads the order from and sends it to, or None for an order
    # that must be rejected before any request.
    location: str | None = LOCATION_ID


def created(
    rows: tuple[int, ...],
    tracking_numbers: str,
    items: Mapping[str, int],
    notify: bool | None = None,
    *,
    location: str = LOCATION_ID,
) -> ExpectedOrder:
    trackings = frozenset(tracking_numbers.split())
    return ExpectedOrder("created", rows, trackings, items, notify, location)


def not_created(
    status: str, rows: tuple[int, ...], *, location: str | None = LOCATION_ID
) -> ExpectedOrder:
    return ExpectedOrder(status, rows, location=location)


@dataclass(frozen=True)
class SampleFile:
    """A sample export, the options it is imported with and what the import must do with it."""

    key: str
    file_name: str
    orders: Mapping[str, ExpectedOrder]
    problem_columns: Mapping[int, str]  # row -> header that its Problems cell must name
    options: tuple[str, ...]
    notify_setting: bool  # the run's setting that the options choose

    @property
    def path(self) -> Path:
        return SAMPLE_DATA / self.file_name


SHIPSTATION = SampleFile(
    key="shipstation",
    file_name="shipstation_shipments_2026-12-01.csv",
    orders={
        "6afbe032ffe639edfab29266": not_created("rejected", (2, 3)),
        "6afbeec4c5ae6baf669198ff": created(
            (4, 5), "710738686770 722613447179", {"TEE-BLK-M": 1, "BEANIE-RST": 1}
        ),
        "6afd2d65dfe116edc4fb842e": created(
            (6, 7), "9205592452812367942894", {"TEE-SND-S": 2, "SOCK-WOOL-3PK": 1}
        ),
        "6afc5de09f5bc740f239f9f8": not_created("rejected", (8, 9)),
        "6afd86742a9c0346889de982": created(
            (10, 11), "1Z4W72E80307481264", {"TEE-SND-S": 1, "HOODIE-NVY-XL": 1}
        ),
        "6afe09264a8b25bdcff9aed3": created((12,), "9205594370042796335405", {"GAITER-BLK": 1}),
        "6afe2a8b2365898de8960457": created(
            (13, 14), "1Z4W72E80315452397", {"TEE-SND-S": 1, "HOODIE-NVY-XL": 1}
        ),
        "6afe630bcff5de4a41e1e2df": created((15,), "9205592264015080818904", {"TEE-BLK-L": 1}),
        "6afee0f770c9aeb36ef1b9bf": created(
            (16, 17, 18, 19),
            "750509100637",
            {"FLEECE-GRN-M": 1, "SOCK-WOOL-3PK": 1, "TEE-SND-S": 1, "JKT-RAIN-L": 1},
        ),
        "6aff7197b6e279012e74e132": created(
            (20, 21), "1Z4W72E80218137304", {"SOCK-WOOL-3PK": 3, "HOODIE-NVY-XL": 2}
        ),
        "6afffc6da43d749e06f39d51": created(
            (22, 23), "1Z4W72E80218576689", {"JKT-RAIN-L": 1, "BEANIE-RST": 2}
        ),
        "6b001f751b42cc3d9e80879f": not_created("failed", (24, 25)),
        "6b00777af4950938f59f9824": created(
            (26, 27), "719206830234", {"HOODIE-GRY-L": 1, "HOODIE-GRY-M": 1}
        ),
        "6b009a94e1a5153b74afdade": created(
            (28, 29, 30),
            "1Z4W72E80230119980",
            {"TEE-SND-S": 1, "FLEECE-GRN-M": 3, "HOODIE-GRY-M": 2},
        ),
        "6b00cf29a5ecf79dd15e9099": created(
            (31, 32), "714095563780", {"FLEECE-GRN-M": 1, "GAITER-BLK": 1}
        ),
        "6b023782a194af99340b4a30": created((33,), "766490782012", {"CAP-BLK": 1}),
        "6b02a7faf50be354bfdc17d2": created(
            (34, 35, 71), "736472721707", {"SOCK-WOOL-3PK": 1, "BOTTLE-750": 2}
        ),
        "6b03b3e042575cb4ccd62a21": not_created("skipped", (36, 37)),
        "6b03d8727e1ed6620dc026a6": created(
            (38, 39, 40), "722385653310", {"SOCK-WOOL-3PK": 1, "GAITER-BLK": 1, "BOTTLE-750": 1}
        ),
        "6b04168e3e7d946301d4c9b5": created(
            (41, 42, 43, 44),
            "1Z4W72E80366909398",
            {"HOODIE-NVY-XL": 1, "CAP-OLV": 2, "HOODIE-GRY-L": 1, "JKT-RAIN-L": 3},
        ),
        "6b046ae0b067a9d848a06198": created((45,), "1Z4W72E80373389179", {"SOCK-WOOL-3PK": 1}),
        "6b049a38a5a63fa4e06fe234": created(
            (46, 47, 48), "727566773497 765806641194", {"HOODIE-GRY-L": 2, "CAP-OLV": 1}
        ),
        "6b065c45566403b87a7fcf72": created(
            (49, 50, 51),
            "1Z4W72E80245171136 1Z4W72E80251102583",
            {"PACK-DAY-22": 3, "JKT-RAIN-L": 2, "FLEECE-GRN-M": 1},
        ),
        "6b07117944f761f5db36a0ee": not_created("rejected", (52, 53)),
        "6b073f64f017f6578106460a": created((54,), "700443685010", {"JKT-RAIN-M": 1}),
        "6b0764f3b3b6725a56af25bd": not_created("rejected", (55, 56)),
        "6b0881d8d0172035a6d62aab": created(
            (57, 58), "9400122632880693646157", {"HOODIE-NVY-XL": 1, "BOTTLE-750": 1}
        ),
        "6b08c8621e126e92a36597da": created(
            (59, 60, 61, 62),
            "717738517500",
            {"BOTTLE-750": 3, "GAITER-BLK": 2, "HOODIE-NVY-XL": 1, "HOODIE-GRY-L": 1},
        ),
        "6b09cc707133a26ade4c74a1": created((63,), "700227639751", {"JKT-RAIN-L": 1}),
        "6b0a76b79b3e803e21fc0b3c": not_created("rejected", (64,)),
        "6b0aeaba13fc48052fd9089f": created(
            (65, 66), "1Z4W72E80213239703", {"HOODIE-GRY-M": 1, "JKT-RAIN-L": 1}
        ),
        "6b0b40adf52a936db46de3fb": created((67,), "1Z4W72E80386510235", {"JKT-RAIN-M": 2}),
        "6b0ba659939f740c5223a900": created((68,), "9400163123257578563708", {"PACK-DAY-22": 1}),
        "6b0bdcf0f28dfeab985dde4b": created(
            (69, 70), "1Z4W72E80276518249", {"HOODIE-GRY-M": 1, "PACK-DAY-22": 3}
        ),
    },
    problem_columns={
        3: "Item - SKU",  # HOODIE-GREY-M is on no item of the order
        8: "Order - Number",  # no such order at the location
        9: "Order - Number",
        52: "Item - Qty",  # "two" is not a whole number
        55: "Item - Qty",  # 2 of TEE-BLK-M, but the order has 1
        64: "Shipment - Tracking Number",  # empty
    },
    options=(),
    notify_setting=False,
)
SHIPSTATION_REPEATED_ROW = 71

UPS_WORLDSHIP = SampleFile(
    key="ups_worldship",
    file_name="ups_worldship_2026-12-01.xlsx",
    orders={
        "6afb5cee83959dcf9a9cc295": created(
            (2,), "1Z4W72E81327170374", {"HOODIE-NVY-XL": 1, "TEE-BLK-M": 1}
        ),
        "6afb7f38a97b8e685474c050": created(
            (3, 4),
            "1Z4W72E80203832670 1Z4W72E80241202798",
            {"SOCK-WOOL-3PK": 3, "PACK-DAY-22": 1, "BEANIE-RST": 2},
        ),
        "6afc540d92470f3049fd942f": created(
            (5, 6), "1Z4W72E80297618548 1Z4W72E80228716517", {"JKT-RAIN-M": 2}
        ),
        "6afc64b081db0a4844833faa": created(
            (7,), "1Z4W72E80356692560", {"TEE-BLK-L": 1, "HOODIE-GRY-M": 1, "HOODIE-NVY-XL": 1}
        ),
        "6afcbb125f664d5696508a43": created((8,), "1Z4W72E81354782395", {"BOTTLE-750": 1}),
        "6afcf8b475e0c45930b48026": not_created("rejected", (9, 10)),
        "6afd6c268720525592643127": created(
            (11,), "1Z4W72E80208266283", {"BOTTLE-750": 1, "HOODIE-GRY-M": 1}
        ),
        "6afdb7c00a88e6618909f51d": created(
            (12,),
            "1Z4W72E80342917772",
            {"HOODIE-NVY-XL": 1, "JKT-RAIN-L": 1, "BEANIE-RST": 3, "HOODIE-GRY-L": 2},
        ),
        "6afea64dc5b1c2cd13e6c773": created((13,), "1Z4W72E80318941460", {"SOCK-WOOL-3PK": 1}),
        "6aff07ffaee3bc2c205d647d": not_created("skipped", (14,)),
        "6aff44911ee7396b2de88464": created((15,), "1Z4W72E80210711144", {"FLEECE-GRN-M": 1}),
        "6b011ba9ef08fd30a4d0e387": created((16,), "1Z4W72E80378198161", {"HOODIE-GRY-M": 1}),
        "6b016d84bc1093b1addf2e43": created(
            (17, 18),
            "1Z4W72E80363138968 1Z4W72E80358731175",
            {"TEE-BLK-M": 1, "JKT-RAIN-L": 1},
        ),
        "6b01bca73cbfcae32354aaa9": created((19,), "1Z4W72E80398196634", {"HOODIE-GRY-L": 1}),
        "6b025c1bcf00dbdbcf4a25b5": created(
            (20,), "1Z4W72E80382367283", {"TEE-BLK-M": 1, "GAITER-BLK": 1}
        ),
        "6b02d86ea8f7bb44552af786": created(
            (21,), "1Z4W72E80267729369", {"GAITER-BLK": 2, "HOODIE-GRY-M": 1, "CAP-BLK": 2}
        ),
        "6b032186581094e8e8c795ea": created((22,), "1Z4W72E80369886685", {"TEE-BLK-L": 1}),
        "6b03548092f739bcabbcf65a": not_created("rejected", (23,)),
        "6b036a126f33cd2cfdcef23b": created(
            (24,), "1Z4W72E80316367764", {"HOODIE-GRY-L": 1, "TEE-BLK-L": 1}
        ),
        "6b04dd1b4bcb529bbcd0f58e": not_created("rejected", (25,)),
        "6b050b39e7b972c4ad3c7396": created(
            (26, 27, 28),
            "1Z4W72E80380748820 1Z4W72E80394026100 1Z4W72E80398022884",
            {"CAP-BLK": 1, "HOODIE-NVY-XL": 1, "BOTTLE-750": 1, "PACK-DAY-22": 1},
        ),
        "6b058b2e6cfa2a798a69a1db": created(
            (29,), "1Z4W72E80341456334", {"CAP-BLK": 1, "TEE-SND-S": 1}
        ),
        "6b060a18fc642ab695ec7855": created(
            (30,), "1Z4W72E80251508387", {"FLEECE-GRN-M": 1, "PACK-DAY-22": 1}
        ),
        "6b07a604bb74d959c1600716": created(
            (31,), "1Z4W72E80310664122", {"FLEECE-GRN-M": 1, "PACK-DAY-22": 3}
        ),
        "6b07f1ed3cb31dadfd2455f9": created(
            (32, 33), "1Z4W72E80350446346 1Z4W72E80305278309", {"TEE-BLK-L": 1, "CAP-BLK": 1}
        ),
        "6b0812034f53fd4e0484a3d7": created((34,), "1Z4W72E80231841054", {"HOODIE-GRY-M": 1}),
        "6b02f560db18329d1f446f42": not_created("rejected", (35,)),
        "6b08f97a4b2cf80c3eb109e7": created(
            (36,),
            "1Z4W72E80372508032",
            {"CAP-OLV": 2, "HOODIE-GRY-M": 1, "TEE-SND-S": 2, "HOODIE-GRY-L": 1},
        ),
        "6b09209ea5e2f6c19d2076f2": created(
            (37,), "1Z4W72E80343168937", {"BOTTLE-750": 3, "CAP-OLV": 3}
        ),
        "6b0960aca26e2899fe58867e": created(
            (38,), "1Z4W72E80238224182", {"TEE-SND-S": 3, "JKT-RAIN-M": 2}
        ),
        "6b0995fc36e2bbe4c855b60c": created(
            (39,), "1Z4W72E80250328485", {"TEE-SND-S": 1, "SOCK-WOOL-3PK": 1}
        ),
        "6b0a379c512ac10fcf42d2ad": created(
            (40,), "1Z4W72E80288311001", {"TEE-BLK-L": 2, "JKT-RAIN-M": 1, "CAP-BLK": 2}
        ),
        "6b0ac52ee14e35d48769ff21": created((41,), "1Z4W72E80378324827", {"JKT-RAIN-L": 1}),
        "6b0b5bef18b72d7b6c7db2d4": created(
            (42,), "1Z4W72E80324963523", {"SOCK-WOOL-3PK": 1, "BEANIE-RST": 1}
        ),
    },
    problem_columns={
        9: "Reference 2",  # HOODIE-NVY-XL on two packages, but the order has 1
        10: "Reference 2",
        23: "Tracking Number",  # empty
        25: "Reference 2",  # empty, but the order is already partly fulfilled
        35: "Reference 1",  # no such order at the location
    },
    options=("--notify-customer",),
    notify_setting=True,
)

MANUAL = SampleFile(
    key="manual",
    file_name="manual_fulfillments.csv",
    orders={
        "6afb2607207fe629c6a23c3a": created((2,), "796799488569", {"JKT-RAIN-M": 1}, True),
        "6affbc3322ba75b8da9ac0e2": created((3,), "8745873345", {"TEE-SND-S": 2}, True),
        "6b014aa9ce41d0d34d84fac7": created(
            (4, 5),
            "9205594600443443074391 9205594035438386868147",
            {"BOTTLE-750": 2, "SOCK-WOOL-3PK": 1},
        ),
        "6b01fa9dd66a8e860c152403": created(
            (6,),
            "9205597771001767172131",
            {"PACK-DAY-22": 1, "JKT-RAIN-L": 2, "HOODIE-NVY-XL": 1},
            False,
        ),
        "6b05535b3e42640c1a50a3d7": created(
            (7, 8), "9205592454418661430327", {"TEE-SND-S": 2, "HOODIE-GRY-L": 3}, False
        ),
        "6b05b075952faca24653bc92": created(
            (9, 10),
            "4692253882 7917875932",
            {"GAITER-BLK": 2, "SOCK-WOOL-3PK": 1, "TEE-BLK-L": 2},
            True,
        ),
        "6b05fd42a5fe2475b7585e99": created((11,), "4282870373", {"TEE-SND-S": 1}),
        "6b06821890b782c50043f6ae": created(
            (12,), "708067900807", {"JKT-RAIN-L": 1, "PACK-DAY-22": 1}, True
        ),
        "6b06de69d98b2dfdbe905e32": created((13,), "755736234823", {"CAP-OLV": 2}),
        "6b08658660964c4ddb412541": created(
            (14,), "5857487543", {"CAP-OLV": 2, "JKT-RAIN-L": 2}, True
        ),
        "6b0a16426ecc27082383fbd1": not_created("rejected", (15, 16)),
    },
    problem_columns={16: "Price ID"},  # HOODIE-GRY-M's price ID is not on the order
    # With notification on for the run, the rows that leave Notify Customer empty get it too,
    # and the rows with "no" show that a cell beats the run's setting.
    options=("--notify-customer",),
    notify_setting=True,
)

# Rows of three locations mixed in one sheet. Rows with an empty Location ID take the run's
# location, LOCATION_ID.
AGENCY = SampleFile(
    key="agency",
    file_name="agency_locations_2026-12-01.csv",
    orders={
        "6b0842f030ba87980135b2fd": created(
            (2,), "768642283949", {"FILTER-02-100": 1}, location=SALTMARSH_ID
        ),
        "6b0b6a4a1d06b9182eb660b7": created(
            (3,), "9205592497555512465116", {"INK-BLK-50": 2}, location=FERNHILL_ID
        ),
        "6b0c781fe320d48081777d78": created(
            (4,), "1Z4W72E80381410674", {"HOODIE-NVY-XL": 1}, location=LOCATION_ID
        ),
        # Fernhill's order, under its ID with the last character mistyped
        "6b09832064e57d6c9a00651c": not_created("rejected", (5, 6), location=MISTYPED_LOCATION_ID),
        "6b0a028d164836da791009ca": created(
            (7, 8, 9, 10),
            "9205597160511059329704",
            {"COF-ESP-340": 1, "GRINDER-HND": 1, "COF-ESP-1KG": 1, "FILTER-02-100": 1},
            location=SALTMARSH_ID,
        ),
        "6b0a25baf1e16bbf8e31ca16": created(
            (11, 12),
            "9205599381005609536537",
            {"NB-A6-DOT": 1, "NB-A5-LINE": 1},
            location=FERNHILL_ID,
        ),
        "6b0b0dfe2d6137c4c19b5b20": created(
            (13, 14, 15),
            "9195001141",
            {"CARD-SET-12": 1, "NB-A6-DOT": 1, "INK-BLK-50": 1},
            location=FERNHILL_ID,
        ),
        "6b0cb47f4d1e5130692ac11c": created(
            (16,),
            "788805332943",
            {"CAP-OLV": 2, "GAITER-BLK": 1, "TEE-SND-S": 1},
            location=LOCATION_ID,
        ),
        # empty Location ID: the run's location
        "6b0d95af5776b504af871a80": created(
            (17,), "1Z4W72E80332968012", {"TEE-BLK-L": 1, "CAP-OLV": 1}, location=LOCATION_ID
        ),
        "6b09de4fbd5e5b753316aa5e": created(
            (18, 19),
            "9205599880625789029221",
            {"PEN-BRASS": 1, "CARD-SET-12": 1},
            location=FERNHILL_ID,
        ),
        # the last row leaves Location ID empty
        "6b0ad1d965361a9ceb47559d": created(
            (20, 21, 22),
            "6481867733",
            {"PEN-BRASS": 1, "CARD-SET-12": 3, "NB-A5-LINE": 1},
            location=FERNHILL_ID,
        ),
        "6b0d4bf04a4bcf83a992e018": created(
            (23, 24), "708832544397", {"TEE-BLK-M": 1, "TEE-BLK-L": 1}, location=LOCATION_ID
        ),
        "6b0952f808eefce565612950": created(
            (25,), "704163454530", {"COF-ESP-1KG": 1}, location=SALTMARSH_ID
        ),
        "6b0cf6f22a71eafe1e3f0286": created(
            (26, 27, 28),
            "735143490991",
            {"HOODIE-GRY-L": 1, "TEE-BLK-L": 1, "TEE-BLK-M": 1},
            location=LOCATION_ID,
        ),
        "6b0a92947517e2e5e2a226f1": created(
            (29,), "9205593044953294285950", {"INK-BLK-50": 1}, location=FERNHILL_ID
        ),
        "6b0c1e14ee4d08f6255706f1": created(
            (30, 31, 32, 33),
            "1Z4W72E80319748972",
            {"HOODIE-GRY-M": 1, "TEE-BLK-M": 1, "CAP-OLV": 1, "BEANIE-RST": 2},
            location=LOCATION_ID,
        ),
        "6b09c019087d88a206fccede": created(
            (34,), "700984916320", {"COF-ESP-340": 1, "COF-ESP-1KG": 1}, location=SALTMARSH_ID
        ),
        "6b0b395d03095bbc03b77039": created(
            (35, 36, 37),
            "9205592792138048174572",
            {"INK-BLK-50": 1, "NB-A6-DOT": 1, "CARD-SET-12": 1},
            location=FERNHILL_ID,
        ),
        "6b0dc49badb9b8cadd053b24": created(
            (38, 39, 40),
            "1Z4W72E80340505514 787307561834",
            {"HOODIE-GRY-L": 1, "TEE-BLK-M": 2, "PACK-DAY-22": 1},
            location=LOCATION_ID,
        ),
        "6b0a55ac59c5b45e688e7f48": created(
            (41,), "6480337883", {"NB-A5-LINE": 1}, location=FERNHILL_ID
        ),
        "6b09ab987c12fd41fff07528": created(
            (42, 43), "745784637261", {"COF-DEC-340": 1, "COF-ESP-1KG": 1}, location=SALTMARSH_ID
        ),
        "6b0d336f3682bf1d82b454d9": created(
            (44, 45, 46),
            "1Z4W72E80399104490",
            {"BOTTLE-750": 1, "JKT-RAIN-M": 1, "TEE-SND-S": 1},
            location=LOCATION_ID,
        ),
        # the first row leaves Location ID empty: the other rows give the location
        "6b08e306047645df3f7cc86b": created(
            (47, 48, 49),
            "789015186829",
            {"COF-ESP-340": 1, "COF-DEC-340": 2, "KETTLE-GOOSE": 1},
            location=SALTMARSH_ID,
        ),
        "6b091843a0c022300d49aa71": created(
            (50, 51),
            "712387074130 790744391800",
            {"MUG-ENM-WHT": 1, "MUG-ENM-BLU": 1},
            location=SALTMARSH_ID,
        ),
        # Saltmarsh's order, under Fernhill's location
        "6b08692a9de316e0ed366ceb": not_created("rejected", (52, 53), location=FERNHILL_ID),
        "6b0c4cfd50f1f0dde3f90f04": created(
            (54, 55, 56),
            "733628712025",
            {"HOODIE-NVY-XL": 1, "JKT-RAIN-M": 1, "GAITER-BLK": 1},
            location=LOCATION_ID,
        ),
        "6b080595287604cc4a0367d8": created(
            (57, 58, 59),
            "768742084920",
            {"FILTER-02-100": 2, "GRINDER-HND": 1, "COF-ESP-340": 3},
            location=SALTMARSH_ID,
        ),
        "6b08c11c06ef1e8a161680ca": created(
            (60, 61),
            "9205595727942435147028",
            {"COF-ESP-1KG": 2, "COF-ESP-340": 2},
            location=SALTMARSH_ID,
        ),
        "6b099d31d5fee1917c30c485": created(
            (62,), "9205591629153304239336", {"WASHI-3PK": 2, "NB-A5-LINE": 1}, location=FERNHILL_ID
        ),
        # empty Location ID: the run's location
        "6b0e12d117bbad96418186e5": created(
            (63,), "1Z4W72E80390391571", {"GAITER-BLK": 1}, location=LOCATION_ID
        ),
    },
    problem_columns={
        5: "Location ID",  # a location that the token may not use
        6: "Location ID",
        52: "Order ID",  # no such order at the location that the rows name
        53: "Order ID",
    },
    options=(),
    notify_setting=False,
)

SAMPLES = (SHIPSTATION, UPS_WORLDSHIP, MANUAL, AGENCY)


@dataclass(frozen=True)
class ImportRun:
    """One finished CLI run and what its sandbox had recorded by then."""

    process: subprocess.CompletedProcess[str]
    folder: Path
    results_path: Path
    fulfillments: list[CreatedFulfillment]
    requests: list[RequestRecord]


@dataclass(frozen=True)
class PendingRun:
    """A CLI run started in the background."""

    process: subprocess.Popen[str]
    folder: Path
    results_path: Path
    sandbox: Sandbox | None


# Expectations derived from the tables


def created_orders(sample: SampleFile) -> dict[str, ExpectedOrder]:
    return {oid: order for oid, order in sample.orders.items() if order.status == "created"}


def expected_statuses(sample: SampleFile) -> dict[str, str]:
    return {order_id: order.status for order_id, order in sample.orders.items()}


def expected_row_statuses(sample: SampleFile) -> dict[int, str]:
    return {row: order.status for order in sample.orders.values() for row in order.rows}


def expected_price_quantities(order: ExpectedOrder) -> list[tuple[str, int]]:
    return sorted((PRICE_IDS[sku], qty) for sku, qty in order.items.items())


def expected_notify(sample: SampleFile, order: ExpectedOrder) -> bool:
    return sample.notify_setting if order.notify_cell is None else order.notify_cell


def expected_summary_line(sample: SampleFile) -> str:
    counts = Counter(order.status for order in sample.orders.values())
    statuses = ("created", "skipped", "rejected", "failed")
    listed = ", ".join(f"{counts[status]} {status}" for status in statuses)
    return f"{len(sample.orders)} orders: {listed}"


def seeded_fulfillment_ids() -> dict[str, str]:
    """Map each seeded order that has an earlier fulfillment to that fulfillment's ID."""
    seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    return {
        order["_id"]: order["fulfillments"][0]["_id"]
        for order in seed["orders"]
        if order.get("fulfillments")
    }


def input_row_numbers(path: Path) -> list[int]:
    """Return the spreadsheet row numbers of the file's data rows (the header is row 1)."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            count = sum(1 for _ in csv.reader(handle)) - 1
    else:
        workbook = load_workbook(path, read_only=True)
        count = workbook.worksheets[0].max_row - 1
        workbook.close()
    return list(range(2, count + 2))


# What the sandbox received


def posted_tracking_numbers(run: ImportRun) -> dict[str, frozenset[str]]:
    return {
        entry.order_id: frozenset(t["trackingNumber"] for t in entry.body["trackings"])
        for entry in run.fulfillments
    }


def posted_price_quantities(run: ImportRun) -> dict[str, list[tuple[str, int]]]:
    return {
        entry.order_id: sorted((item["priceId"], item["qty"]) for item in entry.body["items"])
        for entry in run.fulfillments
    }


def post_count(run: ImportRun) -> int:
    return sum(1 for request in run.requests if request.method == "POST")


def requested_locations(run: ImportRun) -> dict[str, set[str]]:
    """Map each order ID that a read request named to the altId values of those requests."""
    locations: dict[str, set[str]] = {}
    for request in run.requests:
        match = ORDER_PATH.match(request.path)
        if match and request.method == "GET":
            locations.setdefault(match.group(1), set()).add(request.query.get("altId", ""))
    return locations


# The results workbook


def read_sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    workbook = load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in workbook[name].iter_rows(values_only=True)]
    finally:
        workbook.close()


def orders_sheet(run: ImportRun) -> list[dict[str, Any]]:
    header, *rows = read_sheet(run.results_path, "Orders")
    return [dict(zip(header, row, strict=False)) for row in rows]


def sheet_statuses(run: ImportRun) -> dict[str, str]:
    return {row["Order ID"]: row["Status"] for row in orders_sheet(run)}


def sheet_fulfillment_ids(run: ImportRun, status: str) -> dict[str, str]:
    return {
        row["Order ID"]: row["Fulfillment ID"]
        for row in orders_sheet(run)
        if row["Status"] == status
    }


def rows_sheet(run: ImportRun) -> list[tuple[Any, ...]]:
    """Return the Rows sheet's data rows; each starts with Row, Order Status and Problems."""
    return read_sheet(run.results_path, "Rows")[1:]


def row_problems(run: ImportRun) -> dict[int, str]:
    return {row[0]: row[2] or "" for row in rows_sheet(run)}


def workbook_text(path: Path) -> str:
    """Return every cell of every sheet as one text, for searching."""
    workbook = load_workbook(path, read_only=True)
    try:
        cells = [
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ]
    finally:
        workbook.close()
    return "\n".join(cells)


# Running the CLI
#
# Each run starts a Python process whose imports take about 2 s (measured with
# `python -X importtime` on a 2-core machine), so the fixtures below start their runs
# together, wait for all of them and share them between tests.


def start_sandbox() -> Sandbox:
    return Sandbox(load_seed(SEED_PATH), tokens={TOKEN: None}, max_requests=SANDBOX_MAX_REQUESTS)


def environment(**variables: str) -> dict[str, str]:
    """Return this process's environment without GHL_* variables, plus `variables`."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("GHL_")}
    return {**inherited, **variables}


# One ledger folder per sandbox: a fresh sandbox has no fulfillments, so a ledger
# shared with another sandbox's runs would skip its orders as already sent.
_LEDGER_FOLDERS: weakref.WeakKeyDictionary[Sandbox, str] = weakref.WeakKeyDictionary()


def sandbox_environment(sandbox: Sandbox, token: str = TOKEN) -> dict[str, str]:
    state = _LEDGER_FOLDERS.get(sandbox)
    if state is None:
        state = _LEDGER_FOLDERS[sandbox] = tempfile.mkdtemp(prefix="ghl-e2e-ledger-")
        atexit.register(shutil.rmtree, state, ignore_errors=True)
    return environment(
        GHL_BASE_URL=sandbox.base_url,
        GHL_TOKEN=token,
        GHL_LOCATION_ID=LOCATION_ID,
        GHL_STATE_DIR=state,
    )


def copy_sample(sample: SampleFile, folder: Path) -> Path:
    target = folder / sample.file_name
    shutil.copyfile(sample.path, target)
    return target


def launch(
    args: list[str], folder: Path, env: dict[str, str], sandbox: Sandbox | None = None
) -> PendingRun:
    """Start `ghl-fulfill import ARGS` in `folder`; args[0] is the input file's name."""
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", "import", *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results_path = folder / f"{Path(args[0]).stem}.results.xlsx"
    return PendingRun(process, folder, results_path, sandbox)


def launch_import(
    sample: SampleFile, folder: Path, sandbox: Sandbox, *options: str, token: str = TOKEN
) -> PendingRun:
    """Start importing a copy of the sample file into the sandbox with the sample's options."""
    input_path = copy_sample(sample, folder)
    args = [input_path.name, *sample.options, *options]
    return launch(args, folder, sandbox_environment(sandbox, token), sandbox)


def launch_shipstation(folder: Path, env: dict[str, str], *options: str) -> PendingRun:
    """Start importing a copy of the ShipStation sample with `env` and no sandbox to inspect."""
    input_path = copy_sample(SHIPSTATION, folder)
    return launch([input_path.name, *options], folder, env)


def finish(pending: PendingRun) -> ImportRun:
    """Wait for the run to end and take a copy of what its sandbox recorded."""
    try:
        stdout, stderr = pending.process.communicate(timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        pending.process.kill()
        pending.process.communicate()
        raise

    process = subprocess.CompletedProcess(
        pending.process.args, pending.process.returncode, stdout, stderr
    )
    sandbox = pending.sandbox
    return ImportRun(
        process=process,
        folder=pending.folder,
        results_path=pending.results_path,
        fulfillments=sandbox.fulfillment_log() if sandbox else [],
        requests=sandbox.request_log() if sandbox else [],
    )


def finish_all(pending: Mapping[str, PendingRun]) -> dict[str, ImportRun]:
    return {key: finish(run) for key, run in pending.items()}


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[dict[str, Sandbox]]:
    """A sandbox per sample file, kept for the module so that a second run finds the first."""
    with contextlib.ExitStack() as stack:
        yield {sample.key: stack.enter_context(start_sandbox()) for sample in SAMPLES}


@pytest.fixture(scope="module")
def first_runs(
    sandboxes: dict[str, Sandbox], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ImportRun]:
    """Import each sample file once, each into its own sandbox."""
    pending = {
        sample.key: launch_import(
            sample, tmp_path_factory.mktemp(f"{sample.key}-first"), sandboxes[sample.key]
        )
        for sample in SAMPLES
    }
    return finish_all(pending)


@pytest.fixture(scope="module")
def second_runs(
    first_runs: dict[str, ImportRun],
    sandboxes: dict[str, Sandbox],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, ImportRun]:
    """Import each sample file again into the sandbox that the first run filled."""
    pending = {
        sample.key: launch_import(
            sample, tmp_path_factory.mktemp(f"{sample.key}-second"), sandboxes[sample.key]
        )
        for sample in SAMPLES
    }
    return finish_all(pending)


@pytest.fixture(scope="module")
def dry_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ImportRun]]:
    """Import each sample file with --dry-run into a fresh sandbox."""
    with contextlib.ExitStack() as stack:
        pending = {
            sample.key: launch_import(
                sample,
                tmp_path_factory.mktemp(f"{sample.key}-dry"),
                stack.enter_context(start_sandbox()),
                "--dry-run",
            )
            for sample in SAMPLES
        }
        yield finish_all(pending)


@dataclass(frozen=True)
class SingleRuns:
    """The runs that check errors, --sandbox and the token's secrecy, on the ShipStation file."""

    wrong_token: ImportRun
    builtin_sandbox: ImportRun
    missing_token: ImportRun
    missing_file: ImportRun
    verbose: ImportRun


@pytest.fixture(scope="module")
def single_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SingleRuns]:
    mktemp = tmp_path_factory.mktemp
    with contextlib.ExitStack() as stack:
        wrong_token_sandbox = stack.enter_context(start_sandbox())
        verbose_sandbox = stack.enter_context(start_sandbox())
        missing_file_env = sandbox_environment(stack.enter_context(start_sandbox()))
        log_options = ("--verbose", "--log-file", VERBOSE_LOG_NAME)
        pending = {
            "wrong_token": launch_import(
                SHIPSTATION, mktemp("wrong-token"), wrong_token_sandbox, token=WRONG_TOKEN
            ),
            "builtin_sandbox": launch_shipstation(
                mktemp("builtin-sandbox"), environment(), "--sandbox"
            ),
            "missing_token": launch_shipstation(mktemp("missing-token"), environment()),
            "missing_file": launch([MISSING_FILE_NAME], mktemp("missing-file"), missing_file_env),
            "verbose": launch_import(SHIPSTATION, mktemp("verbose"), verbose_sandbox, *log_options),
        }
        yield SingleRuns(**finish_all(pending))


by_sample = pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.key)


# One import of each sample file


@by_sample
def test_import_exits_one(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """A file with rejected or failed orders ends with exit code 1."""
    run = first_runs[sample.key]

    assert run.process.returncode == 1, run.process.stderr


@by_sample
def test_import_posts_once_per_created_order(
    sample: SampleFile, first_runs: dict[str, ImportRun]
) -> None:
    """The sandbox stores one fulfillment per created order and none for any other order."""
    run = first_runs[sample.key]

    stored = Counter(entry.order_id for entry in run.fulfillments)

    assert stored == dict.fromkeys(created_orders(sample), 1)


@by_sample
def test_import_body_location(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """Every body names the order's location as altId with altType "location"."""
    run = first_runs[sample.key]

    sent = {
        entry.order_id: (entry.body["altId"], entry.body["altType"]) for entry in run.fulfillments
    }
    expected = {
        order_id: (order.location, "location") for order_id, order in created_orders(sample).items()
    }

    assert sent == expected


@by_sample
def test_import_reads_order_location(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """Every read request about an order names the location that sample_data/README.md gives."""
    run = first_runs[sample.key]

    requested = requested_locations(run)
    expected = {
        order_id: {sample.orders[order_id].location} if order_id in sample.orders else set()
        for order_id in requested
    }

    assert requested == expected


@by_sample
def test_import_body_notify_customer(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """notifyCustomer is the row's Notify Customer cell when set, else the run's setting."""
    run = first_runs[sample.key]

    sent = {entry.order_id: entry.body["notifyCustomer"] for entry in run.fulfillments}
    expected = {
        order_id: expected_notify(sample, order)
        for order_id, order in created_orders(sample).items()
    }

    assert sent == expected


@by_sample
def test_import_body_tracking_numbers(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """Each body carries every tracking number of its order, each package once."""
    run = first_runs[sample.key]

    expected = {
        order_id: order.tracking_numbers for order_id, order in created_orders(sample).items()
    }

    assert posted_tracking_numbers(run) == expected


@by_sample
def test_import_body_items(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """Each body lists every shipped price ID once with its total quantity."""
    run = first_runs[sample.key]

    expected = {
        order_id: expected_price_quantities(order)
        for order_id, order in created_orders(sample).items()
    }

    assert posted_price_quantities(run) == expected


@by_sample
def test_orders_sheet_one_row_per_order(
    sample: SampleFile, first_runs: dict[str, ImportRun]
) -> None:
    """The Orders sheet lists every order of the file exactly once."""
    run = first_runs[sample.key]

    listed = sorted(row["Order ID"] for row in orders_sheet(run))

    assert listed == sorted(sample.orders)


@by_sample
def test_orders_sheet_statuses(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """Each order has the status that sample_data/README.md expects."""
    run = first_runs[sample.key]

    assert sheet_statuses(run) == expected_statuses(sample)


@by_sample
def test_orders_sheet_created_ids(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """A created order shows the fulfillment ID that the sandbox assigned to it."""
    run = first_runs[sample.key]

    assigned = {entry.order_id: entry.fulfillment_id for entry in run.fulfillments}

    assert sheet_fulfillment_ids(run, "created") == assigned


@by_sample
def test_orders_sheet_skipped_ids(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """A skipped order shows the ID of the seeded fulfillment that it repeats."""
    run = first_runs[sample.key]

    seeded = seeded_fulfillment_ids()
    expected = {
        order_id: seeded[order_id]
        for order_id, order in sample.orders.items()
        if order.status == "skipped"
    }

    assert sheet_fulfillment_ids(run, "skipped") == expected


@by_sample
def test_rows_sheet_every_input_row(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """The Rows sheet has one row for every data row of the input, in order."""
    run = first_runs[sample.key]

    listed = [row[0] for row in rows_sheet(run)]

    assert listed == input_row_numbers(sample.path)


@by_sample
def test_rows_sheet_order_statuses(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """Every input row shows the status of its order."""
    run = first_runs[sample.key]

    listed = {row[0]: row[1] for row in rows_sheet(run)}

    assert listed == expected_row_statuses(sample)


@by_sample
def test_rows_sheet_problem_columns(sample: SampleFile, first_runs: dict[str, ImportRun]) -> None:
    """Each row with a problem has a Problems cell that names the column at fault."""
    problems = row_problems(first_runs[sample.key])

    missing = {
        row: (header, problems.get(row))
        for row, header in sample.problem_columns.items()
        if header not in problems.get(row, "")
    }

    assert not missing, f"row: (expected column, Problems cell) = {missing}"


def test_rows_sheet_repeated_row_warning(first_runs: dict[str, ImportRun]) -> None:
    """A row that repeats another cell for cell gets a warning in its Problems cell."""
    problems = row_problems(first_runs[SHIPSTATION.key])

    assert "Warning" in problems[SHIPSTATION_REPEATED_ROW]


# Importing the same file twice


@by_sample
def test_rerun_creates_nothing(
    sample: SampleFile, first_runs: dict[str, ImportRun], second_runs: dict[str, ImportRun]
) -> None:
    """A second run of the same file adds no fulfillment to those that the first run made."""
    assert second_runs[sample.key].fulfillments == first_runs[sample.key].fulfillments


@by_sample
def test_rerun_skips_created_orders(
    sample: SampleFile, first_runs: dict[str, ImportRun], second_runs: dict[str, ImportRun]
) -> None:
    """Every order that the first run created is "skipped" in the second run's workbook."""
    created_first = sheet_fulfillment_ids(first_runs[sample.key], "created")
    statuses_second = sheet_statuses(second_runs[sample.key])

    rerun = {order_id: statuses_second.get(order_id) for order_id in created_first}

    assert rerun == dict.fromkeys(created_first, "skipped")


# Dry run


@by_sample
def test_dry_run_posts_nothing(sample: SampleFile, dry_runs: dict[str, ImportRun]) -> None:
    """--dry-run reads orders from the sandbox but sends no create request."""
    assert post_count(dry_runs[sample.key]) == 0


@by_sample
def test_dry_run_marks_ready(sample: SampleFile, dry_runs: dict[str, ImportRun]) -> None:
    """--dry-run shows every order that a real run would create as "ready"."""
    statuses = sheet_statuses(dry_runs[sample.key])
    would_create = created_orders(sample)

    dry_statuses = {order_id: statuses.get(order_id) for order_id in would_create}

    assert dry_statuses == dict.fromkeys(would_create, "ready")


# A token that the API rejects


def test_wrong_token_exits_three(single_runs: SingleRuns) -> None:
    """A token that the API rejects stops the run with exit code 3."""
    process = single_runs.wrong_token.process

    assert process.returncode == 3, process.stderr


def test_wrong_token_message_names_variable(single_runs: SingleRuns) -> None:
    """The error message names GHL_TOKEN as the source of the rejected token."""
    assert "GHL_TOKEN" in single_runs.wrong_token.process.stderr


def test_wrong_token_value_not_shown(single_runs: SingleRuns) -> None:
    """The error never shows the token's value."""
    assert WRONG_TOKEN not in single_runs.wrong_token.process.stderr


def test_wrong_token_no_traceback(single_runs: SingleRuns) -> None:
    """A rejected token ends with a message, not a traceback."""
    assert "Traceback" not in single_runs.wrong_token.process.stderr


def test_wrong_token_posts_nothing(single_runs: SingleRuns) -> None:
    """No create request is sent after the token was rejected."""
    assert post_count(single_runs.wrong_token) == 0


def test_wrong_token_workbook_lists_orders(single_runs: SingleRuns) -> None:
    """The results workbook is still written and lists every order of the file."""
    listed = sorted(row["Order ID"] for row in orders_sheet(single_runs.wrong_token))

    assert listed == sorted(SHIPSTATION.orders)


# The built-in sandbox


def test_builtin_sandbox_exits_one(single_runs: SingleRuns) -> None:
    """--sandbox imports the ShipStation sample, which has rejected and failed orders."""
    process = single_runs.builtin_sandbox.process

    assert process.returncode == 1, process.stderr


def test_builtin_sandbox_summary_counts(single_runs: SingleRuns) -> None:
    """The summary on stdout gives the counts per status that sample_data/README.md lists."""
    assert expected_summary_line(SHIPSTATION) in single_runs.builtin_sandbox.process.stdout


def test_builtin_sandbox_writes_workbook(single_runs: SingleRuns) -> None:
    """--sandbox writes the results workbook beside the input."""
    assert single_runs.builtin_sandbox.results_path.is_file()


# Usage errors


def test_missing_token_exits_two(single_runs: SingleRuns) -> None:
    """Without a token, --dry-run or --sandbox the command stops with exit code 2."""
    process = single_runs.missing_token.process

    assert process.returncode == 2, process.stderr


def test_missing_token_one_line(single_runs: SingleRuns) -> None:
    """The missing token is reported in one line that names GHL_TOKEN."""
    lines = single_runs.missing_token.process.stderr.strip().splitlines()

    assert len(lines) == 1, lines
    assert "GHL_TOKEN" in lines[0]


def test_missing_token_no_traceback(single_runs: SingleRuns) -> None:
    """A missing token ends with a message, not a traceback."""
    assert "Traceback" not in single_runs.missing_token.process.stderr


def test_missing_file_exits_two(single_runs: SingleRuns) -> None:
    """A file that does not exist stops the command with exit code 2."""
    process = single_runs.missing_file.process

    assert process.returncode == 2, process.stderr


def test_missing_file_named(single_runs: SingleRuns) -> None:
    """The error names the file that does not exist."""
    assert MISSING_FILE_NAME in single_runs.missing_file.process.stderr


def test_missing_file_no_traceback(single_runs: SingleRuns) -> None:
    """A missing file ends with a message, not a traceback."""
    assert "Traceback" not in single_runs.missing_file.process.stderr


# The token stays secret


def test_verbose_log_file_written(single_runs: SingleRuns) -> None:
    """--log-file receives the requests of a verbose run, so the checks below see real lines."""
    log = (single_runs.verbose.folder / VERBOSE_LOG_NAME).read_text(encoding="utf-8")

    assert "/payments/orders/" in log


def test_token_not_in_stdout(single_runs: SingleRuns) -> None:
    """A verbose run never prints the token on stdout."""
    assert TOKEN not in single_runs.verbose.process.stdout


def test_token_not_in_stderr(single_runs: SingleRuns) -> None:
    """A verbose run never prints the token on stderr."""
    assert TOKEN not in single_runs.verbose.process.stderr


def test_token_not_in_log_file(single_runs: SingleRuns) -> None:
    """A verbose run never writes the token to the log file."""
    log = (single_runs.verbose.folder / VERBOSE_LOG_NAME).read_text(encoding="utf-8")

    assert TOKEN not in log


def test_token_not_in_workbook(single_runs: SingleRuns) -> None:
    """No cell of the results workbook contains the token."""
    assert TOKEN not in workbook_text(single_runs.verbose.results_path)
