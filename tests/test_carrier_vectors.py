"""Tests that every test number of the public tracking-number data set is classified right.

tests/data/tracking_number_vectors.json contains the valid and invalid test numbers
of each format of jkeen/tracking_number_data (MIT licence), commit
b79ce4bfc04519ef4bc85bf7c6f321795aadf3d3, as the data set's own files list them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from importer.carriers import (
    FORMATS,
    INTERNATIONAL_MAIL,
    NUMBER_PATTERNS,
    FormatFit,
    TrackingStatus,
    carrier_formats,
    carrier_names,
    check_tracking,
    claiming_carriers,
    detect_carrier,
    find_carrier,
    fit_format,
)

_DATA_SET = json.loads(
    (Path(__file__).parent / "data" / "tracking_number_vectors.json").read_text(encoding="utf-8")
)

# The data set files DHL eCommerce's formats under "DHL", which the registry reads as
# DHL Express.
_CARRIER_OF_FORMAT = {"DHL E-Commerce": "DHL eCommerce", "DHL E-Commerce (14)": "DHL eCommerce"}
# The postal operator that an S10 number's country code names, where the registry has
# it; the operators of other countries are International Mail.
_S10_POSTS = {
    "GB": "Royal Mail",
    "US": "USPS",
    "CA": "Canada Post",
    "AU": "Australia Post",
    "NL": "PostNL",
    "DE": "Deutsche Post",
    "FR": "La Poste",
}

# Why a valid number of one carrier can also be a valid number of another, by the pair
# of formats (as the registry names them) that both take it.
OVERLAPS = {
    frozenset({"Old Dominion", "DHL Express (10 or 11)"}): (
        "eleven digits: one Old Dominion PRO number in seven also passes DHL's mod 7"
    ),
    frozenset({"Purolator (12)", "FedEx Express (12)"}): (
        "twelve digits: one Purolator number in ten also passes FedEx's mod 11 check"
    ),
    frozenset({"Purolator (alpha + 9)", "DHL Express (Piece ID)"}): (
        "J, two letters and nine digits fits both, and neither has a check digit"
    ),
    frozenset({"USPS IMpb (92, 93, 95)", "FedEx Express (34)"}): (
        "34 digits: FedEx's check digit covers only the 13 digits before it, so one USPS "
        "number with a routing code in ten also passes it"
    ),
}


@dataclass(frozen=True)
class Vector:
    format_name: str  # the data set's name of the format
    carrier: str  # the carrier of the format, as the registry names it
    owner: str  # the carrier detect_carrier names for a valid number
    number: str  # spaces removed, as the importer passes it

    def __str__(self) -> str:
        return f"{self.format_name}:{self.number}"


def _carrier_of(vector_format: dict[str, Any]) -> str:
    name = _CARRIER_OF_FORMAT.get(vector_format["format_name"])
    if name is not None:
        return name
    carrier = find_carrier(vector_format["carrier"])
    assert carrier is not None, f"the registry does not know {vector_format['carrier']!r}"
    return carrier.name


def _owner_of(vector_format: dict[str, Any], number: str) -> str:
    if vector_format["format_id"] == "s10":
        return _S10_POSTS.get(number[-2:], INTERNATIONAL_MAIL)
    return _carrier_of(vector_format)


def _vectors(kind: str) -> list[Vector]:
    vectors = {
        Vector(fmt["format_name"], _carrier_of(fmt), _owner_of(fmt, number), number): None
        for fmt in _DATA_SET["formats"]
        for number in ("".join(raw.split()) for raw in fmt[kind])
    }
    return list(vectors)


VALID = _vectors("valid")
INVALID = _vectors("invalid")
_VALID_FOR_CARRIER = {(vector.carrier, vector.number) for vector in VALID}


def _others_claiming(vector: Vector) -> list[str]:
    """List the other carriers in whose own formats the number is valid."""
    return [
        carrier.name for carrier in claiming_carriers(vector.number) if carrier.name != vector.owner
    ]


def _valid_format_names(number: str) -> frozenset[str]:
    return frozenset(f.name for f in FORMATS if fit_format(f, number) is FormatFit.VALID)


AMBIGUOUS = [vector for vector in VALID if _others_claiming(vector)]
UNAMBIGUOUS = [vector for vector in VALID if not _others_claiming(vector)]
# An invalid number of one format may be listed as valid in another format of the same
# carrier ("331426749957" for Purolator): it is then a valid number of that carrier.
INVALID_ELSEWHERE_VALID = [v for v in INVALID if (v.carrier, v.number) in _VALID_FOR_CARRIER]
INVALID_FOR_CARRIER = [v for v in INVALID if (v.carrier, v.number) not in _VALID_FOR_CARRIER]


def test_data_set_has_vectors() -> None:
    """The copy of the data set is read and has numbers of both kinds."""
    assert len(VALID) > 100
    assert len(INVALID) > 50


@pytest.mark.parametrize("vector", VALID, ids=str)
def test_valid_vector_fits_its_format(vector: Vector) -> None:
    """A valid number is valid in the registry's version of its data set format."""
    formats = [f for f in FORMATS if f.data_set_name == vector.format_name]
    assert formats, f"no format follows {vector.format_name!r}"
    assert any(fit_format(f, vector.number) is FormatFit.VALID for f in formats)


@pytest.mark.parametrize("vector", VALID, ids=str)
def test_valid_vector_valid_for_carrier(vector: Vector) -> None:
    """A valid number is VALID for its format's carrier."""
    assert check_tracking(vector.carrier, vector.number).status is TrackingStatus.VALID


@pytest.mark.parametrize("vector", VALID, ids=str)
def test_valid_vector_claimed_by_owner(vector: Vector) -> None:
    """A valid number is claimed by its carrier, or for S10 by its country's post."""
    assert vector.owner in [carrier.name for carrier in claiming_carriers(vector.number)]


@pytest.mark.parametrize("vector", UNAMBIGUOUS, ids=str)
def test_unambiguous_vector_detected(vector: Vector) -> None:
    """A number that only its carrier claims is detected as that carrier."""
    carrier = detect_carrier(vector.number)
    assert carrier is not None
    assert carrier.name == vector.owner


@pytest.mark.parametrize("vector", AMBIGUOUS, ids=str)
def test_ambiguous_vector_not_detected(vector: Vector) -> None:
    """A number that two carriers' formats take gets no carrier: a guess may be wrong."""
    assert detect_carrier(vector.number) is None


@pytest.mark.parametrize("vector", AMBIGUOUS, ids=str)
def test_ambiguous_vector_explained(vector: Vector) -> None:
    """Every overlap of two carriers' formats among the test numbers is explained in OVERLAPS."""
    assert _valid_format_names(vector.number) in OVERLAPS


@pytest.mark.parametrize("overlap", OVERLAPS, ids=lambda names: " & ".join(sorted(names)))
def test_overlap_occurs(overlap: frozenset[str]) -> None:
    """Each explained overlap occurs among the test numbers, so the list stays current."""
    assert any(_valid_format_names(vector.number) == overlap for vector in AMBIGUOUS)


@pytest.mark.parametrize("vector", INVALID, ids=str)
def test_invalid_vector_fails_its_format(vector: Vector) -> None:
    """An invalid number is not valid in the registry's version of its data set format."""
    formats = [f for f in FORMATS if f.data_set_name == vector.format_name]
    assert formats, f"no format follows {vector.format_name!r}"
    assert all(fit_format(f, vector.number) is not FormatFit.VALID for f in formats)


@pytest.mark.parametrize("vector", INVALID_FOR_CARRIER, ids=str)
def test_invalid_vector_not_valid_for_carrier(vector: Vector) -> None:
    """An invalid number is not VALID for its format's carrier."""
    assert check_tracking(vector.carrier, vector.number).status is not TrackingStatus.VALID


@pytest.mark.parametrize("vector", INVALID_FOR_CARRIER, ids=str)
def test_invalid_vector_not_detected_as_carrier(vector: Vector) -> None:
    """An invalid number is not detected as its format's carrier or, for S10, its country's post."""
    carrier = detect_carrier(vector.number)
    assert carrier is None or carrier.name not in (vector.carrier, vector.owner)


@pytest.mark.parametrize("vector", INVALID_ELSEWHERE_VALID, ids=str)
def test_invalid_vector_valid_in_other_format(vector: Vector) -> None:
    """A number invalid in one format but listed valid in another of its carrier is valid there."""
    check = check_tracking(vector.carrier, vector.number)
    valid_format = next(f for f in FORMATS if f.name == check.format_name)
    assert check.status is TrackingStatus.VALID
    assert valid_format.data_set_name != vector.format_name


def _blameless(number: str) -> list[str]:
    """List the carriers with formats, none of which the number is valid in."""
    valid = _valid_format_names(number)
    return [
        name
        for name in carrier_names()
        if carrier_formats(name) and not valid & {f.name for f in carrier_formats(name)}
    ]


_NOT_DISTINCTIVE = [
    vector
    for vector in UNAMBIGUOUS
    if not any(f.distinctive for f in FORMATS if f.name in _valid_format_names(vector.number))
]


@pytest.mark.parametrize("vector", _NOT_DISTINCTIVE, ids=str)
def test_plain_number_never_blames_carrier(vector: Vector) -> None:
    """A number valid only in formats that are not distinctive never makes another carrier wrong."""
    blamed = [
        name
        for name in _blameless(vector.number)
        if check_tracking(name, vector.number).status is TrackingStatus.OTHER_CARRIER
    ]
    assert blamed == []


_DISTINCTIVE = [vector for vector in UNAMBIGUOUS if vector not in _NOT_DISTINCTIVE]


@pytest.mark.parametrize("vector", _DISTINCTIVE, ids=str)
def test_distinctive_number_names_its_carrier(vector: Vector) -> None:
    """A number of a distinctive format, under a carrier with other formats, names its carrier."""
    others = {
        check_tracking(name, vector.number).other
        for name in _blameless(vector.number)
        if check_tracking(name, vector.number).status is not TrackingStatus.BAD_CHECK_DIGIT
    }
    assert {carrier.name if carrier else None for carrier in others} == {vector.owner}


@pytest.mark.parametrize("vector", VALID + INVALID, ids=str)
def test_number_pattern_agrees_with_detection(vector: Vector) -> None:
    """A test number that a pattern matches is detected as that pattern's carrier."""
    named = [name for pattern, name in NUMBER_PATTERNS if re.search(pattern, vector.number)]
    detected = detect_carrier(vector.number)
    assert named in ([], [detected.name if detected else ""])
