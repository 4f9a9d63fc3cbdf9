"""Column templates: the canonical fields and the header names each shipping tool uses for them.

A column template (templates/*.toml) lists, for each canonical field, the
header names that carrier or warehouse exports use for it. Headers are
compared after normalize_header, so case, spacing, underscores, hyphens and
camelCase do not matter.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from importer.errors import ConfigError

FIELDS: tuple[str, ...] = (
    "order_id",
    "tracking_number",
    "carrier",
    "tracking_url",
    "price_id",
    "sku",
    "qty",
    "location_id",
    "notify_customer",
)
# A column of shipping services ("UPS Ground", "Priority Mail") is read only to
# name the carrier when the file has no carrier column, or the carrier cell is empty.
SERVICE_FIELD = "service"
TEMPLATE_FIELDS: tuple[str, ...] = (*FIELDS, SERVICE_FIELD)
REQUIRED_FIELDS: tuple[str, ...] = ("order_id", "tracking_number")
FIELD_LABELS: dict[str, str] = {
    "order_id": "order ID",
    "tracking_number": "tracking number",
    "carrier": "carrier",
    "tracking_url": "tracking URL",
    "price_id": "price ID",
    "sku": "SKU",
    "qty": "quantity",
    "location_id": "location ID",
    "notify_customer": "notify customer",
    SERVICE_FIELD: "shipping service",
}
GENERIC_TEMPLATE = "generic"
# How sure a template is of its tool's header names: "verified" against the
# tool's own sample, "partial" when only some names are publicly known, and
# "unverified" when the layout is built from the tool's documented fields.
CONFIDENCE_LEVELS: tuple[str, ...] = ("verified", "partial", "unverified")

_TEMPLATE_KEYS = frozenset(
    {"name", "description", "source", "confidence", "fields", "carrier", "order"}
)
_CARRIER_KEYS = frozenset({"default"})
_ORDER_KEYS = frozenset({"prefixes"})

_LOWER_THEN_UPPER = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_ACRONYM_THEN_WORD = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")
_LETTER_THEN_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)")
_SEPARATORS = re.compile(r"[^\w#]|_")


@dataclass(frozen=True)
class Template:
    """A column template: for each canonical field, the header names that may hold it."""

    name: str
    description: str
    source: str  # where the header names come from and how well they are verified
    fields: Mapping[str, tuple[str, ...]]  # field -> aliases, tried in order
    path: Path
    confidence: str = "unverified"  # one of CONFIDENCE_LEVELS
    # The carrier of every shipment in the file when the row names none, for
    # tools that ship with one carrier only (UPS WorldShip, FedEx Ship Manager).
    default_carrier: str = ""
    # Text the tool prints before its order numbers ("#", "SO-"), removed before
    # the order is looked up in HighLevel.
    order_prefixes: tuple[str, ...] = ()


def normalize_header(text: str) -> str:
    """Reduce a header to lowercase words separated by single spaces.

    "Order ID", "order_id", "orderId" and "ORDER-ID" all become "order id".
    A "#" is kept as a word of its own ("Tracking#" becomes "tracking #"), and
    a digit after a letter starts a new word ("Reference1" becomes "reference 1").
    """
    text = text.replace("\ufeff", "").replace("\xa0", " ")
    text = _LOWER_THEN_UPPER.sub(" ", text)
    text = _ACRONYM_THEN_WORD.sub(" ", text)
    text = _LETTER_THEN_DIGIT.sub(" ", text)
    text = text.replace("#", " # ")
    return " ".join(_SEPARATORS.sub(" ", text).casefold().split())


# --- templates ------------------------------------------------------------------


def templates_folder() -> Path:
    """Return the folder of the built-in templates.

    An installed wheel carries them in importer/templates; a source checkout
    keeps them in templates/ next to the package.
    """
    packaged = Path(__file__).parents[1] / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parents[2] / "templates"


def load_templates(
    folder: Path | None = None, *, user_folder: Path | None = None
) -> list[Template]:
    """Read every *.toml file in a folder, sorted by file name, then those of the user's folder.

    Raises ConfigError naming the file and key when a template is invalid, when
    two templates share a name, or when a folder contains no templates.
    """
    templates = _folder_templates(templates_folder() if folder is None else folder)
    if user_folder is not None:
        templates += _folder_templates(user_folder)

    seen: dict[str, Path] = {}
    for template in templates:
        if template.name in seen:
            raise ConfigError(
                f'{template.path}: key "name": the name "{template.name}" is already used by '
                f"{seen[template.name]}; give each template its own name"
            )
        seen[template.name] = template.path
    return templates


def _folder_templates(folder: Path) -> list[Template]:
    if not folder.is_dir():
        raise ConfigError(f"{folder}: the column template folder was not found")
    templates = [load_template(path) for path in sorted(folder.glob("*.toml"))]
    if not templates:
        raise ConfigError(f"{folder}: no column templates (*.toml files) were found in the folder")
    return templates


def load_template(path: Path) -> Template:
    """Read and validate one template file; raises ConfigError naming the file and key."""
    try:
        with path.open("rb") as stream:
            document = tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: the template is not valid TOML ({error})") from error
    except OSError as error:
        raise ConfigError(f"{path}: the template could not be read ({error})") from error

    unknown = sorted(set(document) - _TEMPLATE_KEYS)
    if unknown:
        raise ConfigError(
            f'{path}: unknown key "{unknown[0]}"; a template has only the keys '
            "name, description, source, confidence, [fields], [carrier] and [order]"
        )

    carrier = _read_table(path, document, "carrier", _CARRIER_KEYS)
    order = _read_table(path, document, "order", _ORDER_KEYS)
    return Template(
        name=_required_text(path, document, "name"),
        description=_optional_text(path, document, "description"),
        source=_optional_text(path, document, "source"),
        fields=MappingProxyType(_read_fields(path, document.get("fields"))),
        path=path,
        confidence=_read_confidence(path, document),
        default_carrier=_optional_text(path, carrier, "default", prefix="carrier."),
        order_prefixes=_read_prefixes(path, order),
    )


def _read_table(
    path: Path, document: Mapping[str, object], key: str, allowed: frozenset[str]
) -> Mapping[str, object]:
    table = document.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f'{path}: "{key}" must be a table, written [{key}] on a line of its own')
    unknown = sorted(set(table) - allowed)
    if unknown:
        keys = ", ".join(sorted(allowed))
        raise ConfigError(f'{path}: unknown key "{key}.{unknown[0]}"; [{key}] has only: {keys}')
    return table


def _read_confidence(path: Path, document: Mapping[str, object]) -> str:
    value = document.get("confidence", "unverified")
    if value not in CONFIDENCE_LEVELS:
        levels = ", ".join(f'"{level}"' for level in CONFIDENCE_LEVELS)
        raise ConfigError(f'{path}: key "confidence" must be one of {levels}')
    return str(value)


def _read_prefixes(path: Path, order: Mapping[str, object]) -> tuple[str, ...]:
    prefixes = order.get("prefixes", [])
    if not isinstance(prefixes, list) or not all(
        isinstance(prefix, str) and prefix.strip() for prefix in prefixes
    ):
        raise ConfigError(
            f'{path}: key "order.prefixes" must be a list of text in quotes, like ["#", "SO-"]'
        )
    # The longest prefix is tried first, so that "SO-" is removed before "S" would be.
    return tuple(sorted((prefix.strip() for prefix in prefixes), key=len, reverse=True))


def _required_text(path: Path, document: Mapping[str, object], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f'{path}: key "{key}" is missing or empty; add {key} = "..."')
    return value.strip()


def _optional_text(
    path: Path, document: Mapping[str, object], key: str, *, prefix: str = ""
) -> str:
    value = document.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f'{path}: key "{prefix}{key}" must be text in quotes')
    return value.strip()


def _read_fields(path: Path, table: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise ConfigError(
            f'{path}: the [fields] table is missing; add [fields] with order_id = ["..."] '
            'and tracking_number = ["..."]'
        )

    fields: dict[str, tuple[str, ...]] = {}
    for name, aliases in table.items():
        if name not in TEMPLATE_FIELDS:
            raise ConfigError(
                f'{path}: key "fields.{name}" is not a known field; '
                f"use one of {', '.join(TEMPLATE_FIELDS)}"
            )
        fields[name] = _read_aliases(path, name, aliases)

    for name in REQUIRED_FIELDS:
        if name not in fields:
            raise ConfigError(
                f'{path}: key "fields.{name}" is missing; every template must name the '
                f"{FIELD_LABELS[name]} column"
            )
    return fields


def _read_aliases(path: Path, name: str, aliases: object) -> tuple[str, ...]:
    example = f'{name} = ["Header Name"]'
    if not isinstance(aliases, list) or not aliases:
        raise ConfigError(
            f'{path}: key "fields.{name}" must be a non-empty list of header names, like {example}'
        )
    if not all(isinstance(alias, str) and normalize_header(alias) for alias in aliases):
        raise ConfigError(
            f'{path}: key "fields.{name}" must list header names as text in quotes, like {example}'
        )
    return tuple(str(alias) for alias in aliases)
