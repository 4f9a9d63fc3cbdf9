import json
from pathlib import Path
from typing import Any

import pytest

from importer.sandbox import SandboxSeed, SeedError, load_seed


def write_seed(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_seed_locations_in_file_order(seed_path: Path) -> None:
    """Locations keep the file's order, so the first one is the default."""
    seed = load_seed(seed_path)

    assert seed.locations == ["3SwdhCu3svxI8AKsPJt6", "Vq7Lm2Pz9KxR4tBn8cWd"]
    assert seed.location_names["3SwdhCu3svxI8AKsPJt6"] == "Northwind Outfitters"


def test_load_seed_orders(seed_path: Path) -> None:
    """Orders, items, prices and seeded fulfillments are read."""
    seed = load_seed(seed_path)
    order = seed.orders[1]

    assert len(seed.orders) == 4
    assert order.id == "6650a1b2c3d4e5f601000002"
    assert order.items[0].price.sku == "TEE-SND-L"
    assert order.items[1].price.sku is None
    assert order.fulfillments[0].items[0].qty == 1
    assert order.fulfillments[0].trackings[0].carrier == "UPS"


def test_from_dict_matches_load_seed(seed_path: Path, seed_data: dict[str, Any]) -> None:
    """SandboxSeed.from_dict parses the same document as load_seed."""
    assert SandboxSeed.from_dict(seed_data) == load_seed(seed_path)


def test_seed_timestamp_normalized(tmp_path: Path, seed_data: dict[str, Any]) -> None:
    """Timestamps with another zone are converted to UTC with milliseconds and Z."""
    seed_data["orders"][0]["createdAt"] = "2026-11-28T17:04:05+02:00"

    seed = load_seed(write_seed(tmp_path, seed_data))

    assert seed.orders[0].created_at == "2026-11-28T15:04:05.000Z"


def test_seed_optional_contact(tmp_path: Path, seed_data: dict[str, Any]) -> None:
    """An order without contact fields gets empty contact name and email."""
    seed = load_seed(write_seed(tmp_path, seed_data))

    assert seed.orders[2].contact_name == ""
    assert seed.orders[2].contact_email == ""


def test_seed_bad_json_names_file(tmp_path: Path) -> None:
    """Invalid JSON raises SeedError naming the file, line and column."""
    path = tmp_path / "broken.json"
    path.write_text('{"locations": [}', encoding="utf-8")

    with pytest.raises(SeedError) as caught:
        load_seed(path)

    assert str(path) in str(caught.value)
    assert "line 1, column 16" in str(caught.value)
    assert caught.value.json_path is None


def test_seed_missing_file_names_file(tmp_path: Path) -> None:
    """A file that does not exist raises SeedError naming it."""
    path = tmp_path / "absent.json"

    with pytest.raises(SeedError) as caught:
        load_seed(path)

    assert str(path) in str(caught.value)
    assert "cannot be read" in str(caught.value)


def test_seed_error_is_value_error() -> None:
    """SeedError is a ValueError, so callers may catch either."""
    assert issubclass(SeedError, ValueError)


def test_seed_missing_field_names_path(tmp_path: Path, seed_data: dict[str, Any]) -> None:
    """A missing required key raises SeedError naming the file and the key's JSON path."""
    del seed_data["orders"][1]["items"][0]["price"]["currency"]
    path = write_seed(tmp_path, seed_data)

    with pytest.raises(SeedError) as caught:
        load_seed(path)

    assert caught.value.source == str(path)
    assert caught.value.json_path == "$.orders[1].items[0].price.currency"
    assert "is required but missing" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "json_path", "problem"),
    [
        (lambda data: data.update(locations=[]), "$.locations", "at least one"),
        (lambda data: data.pop("orders"), "$.orders", "required"),
        (lambda data: data["orders"][0].update(_id="1001"), "$.orders[0]._id", "24 lowercase"),
        (lambda data: data["orders"][0].update(status="paid"), "$.orders[0].status", "paid"),
        (lambda data: data["orders"][0].update(amount="61"), "$.orders[0].amount", "number"),
        (
            lambda data: data["orders"][0].update(createdAt="yesterday"),
            "$.orders[0].createdAt",
            "ISO-8601",
        ),
        (
            lambda data: data["orders"][0].update(createdAt="2026-11-28T15:04:05"),
            "$.orders[0].createdAt",
            "zone",
        ),
        (
            lambda data: data["orders"][0].update(altId="Zz9Zz9Zz9Zz9Zz9Zz9Zz"),
            "$.orders[0].altId",
            "not in $.locations",
        ),
        (lambda data: data["orders"][0].update(items=[]), "$.orders[0].items", "at least one"),
        (
            lambda data: data["orders"][0]["items"][0].update(qty=0),
            "$.orders[0].items[0].qty",
            "positive integer",
        ),
        (
            lambda data: data["orders"][0]["items"][0].update(qty=True),
            "$.orders[0].items[0].qty",
            "positive integer",
        ),
        (
            lambda data: data["orders"][0].update(contactname="Dana"),
            "$.orders[0].contactname",
            "unknown key",
        ),
        (
            lambda data: data["orders"].append(data["orders"][0]),
            "$.orders[4]._id",
            "listed twice",
        ),
        (
            lambda data: data["locations"].append(data["locations"][0]),
            "$.locations[2].id",
            "listed twice",
        ),
        (
            lambda data: data["orders"][0]["items"].append(data["orders"][0]["items"][0]),
            "$.orders[0].items[2].price._id",
            "already used",
        ),
        (
            lambda data: data["orders"][1]["fulfillments"][0]["items"][0].update(qty=4),
            "$.orders[1].fulfillments[0].items[0].qty",
            "the order has 3",
        ),
        (
            lambda data: data["orders"][1]["fulfillments"][0]["items"][0].update(
                priceId="6650a1b2c3d4e5f601000205"
            ),
            "$.orders[1].fulfillments[0].items[0].priceId",
            "not an item of this order",
        ),
        (
            lambda data: data["orders"][1]["fulfillments"][0]["trackings"][0].pop("trackingNumber"),
            "$.orders[1].fulfillments[0].trackings[0].trackingNumber",
            "required",
        ),
    ],
)
def test_seed_invalid_entry_names_path(
    tmp_path: Path, seed_data: dict[str, Any], change: Any, json_path: str, problem: str
) -> None:
    """Each kind of bad entry raises SeedError with the JSON path of that entry."""
    change(seed_data)
    path = write_seed(tmp_path, seed_data)

    with pytest.raises(SeedError) as caught:
        load_seed(path)

    assert caught.value.json_path == json_path
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}: {json_path}: ")


def test_seed_root_not_object(tmp_path: Path) -> None:
    """A document that is not an object is reported at the root path."""
    with pytest.raises(SeedError) as caught:
        load_seed(write_seed(tmp_path, ["not", "a", "seed"]))

    assert caught.value.json_path == "$"
    assert "an array" in caught.value.problem


def test_from_dict_names_source(seed_data: dict[str, Any]) -> None:
    """from_dict errors name the source label given by the caller."""
    seed_data["orders"][0]["items"][0]["qty"] = -1

    with pytest.raises(SeedError, match=r"^fixtures: \$\.orders\[0\]\.items\[0\]\.qty: "):
        SandboxSeed.from_dict(seed_data, source="fixtures")
