"""Match a file's headers to the canonical fields with a column template.

A column template (templates/*.toml) lists, for each canonical field, the
header names that carrier or warehouse exports use for it. Headers are
compared after normalize_header, so case, spacing, underscores, hyphens and
camelCase do not matter.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from openpyxl.utils import get_column_letter

from importer.errors import ConfigError, InputFileError, MissingColumnsError, UsageError
from importer.load import SourceRow, Table

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
}
GENERIC_TEMPLATE = "generic"

_TEMPLATE_KEYS = frozenset({"name", "description", "source", "fields"})
_CLOSE_MATCH_CUTOFF = 0.6
_MAX_CLOSE_MATCHES = 3

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


@dataclass(frozen=True)
class ColumnMapping:
    """The columns of one table that hold each canonical field."""

    template: Template
    columns: Mapping[str, int]  # field -> column index in Table.headers
    headers: tuple[str, ...]
    # Matched fields divided by the fields the template defines, so 1.0 means the
    # file has a column for every field of the template.
    score: float
    unmatched_headers: tuple[str, ...]  # file headers that no field uses
    notes: tuple[str, ...] = ()  # facts about the match worth telling the user

    def header_of(self, field: str) -> str | None:
        """Return the file's header text for a field, or None when the field has no column."""
        index = self.columns.get(field)
        return None if index is None else self.headers[index]

    def values(self, row: SourceRow) -> dict[str, str]:
        """Return the raw cell text of each mapped field in a row."""
        return {name: row.cells[index] for name, index in self.columns.items()}


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
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parents[1] / "templates"


def load_templates(folder: Path | None = None) -> list[Template]:
    """Read every *.toml file in a folder, sorted by file name.

    Raises ConfigError naming the file and key when a template is invalid, when
    two templates share a name, or when the folder contains no templates.
    """
    folder = templates_folder() if folder is None else folder
    if not folder.is_dir():
        raise ConfigError(f"{folder}: the column template folder was not found")

    templates = [load_template(path) for path in sorted(folder.glob("*.toml"))]
    if not templates:
        raise ConfigError(f"{folder}: no column templates (*.toml files) were found in the folder")

    seen: dict[str, Path] = {}
    for template in templates:
        if template.name in seen:
            raise ConfigError(
                f'{template.path}: key "name": the name "{template.name}" is already used by '
                f"{seen[template.name]}; give each template its own name"
            )
        seen[template.name] = template.path
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
            "name, description, source and [fields]"
        )

    return Template(
        name=_required_text(path, document, "name"),
        description=_optional_text(path, document, "description"),
        source=_optional_text(path, document, "source"),
        fields=MappingProxyType(_read_fields(path, document.get("fields"))),
        path=path,
    )


def _required_text(path: Path, document: Mapping[str, object], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f'{path}: key "{key}" is missing or empty; add {key} = "..."')
    return value.strip()


def _optional_text(path: Path, document: Mapping[str, object], key: str) -> str:
    value = document.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f'{path}: key "{key}" must be text in quotes')
    return value.strip()


def _read_fields(path: Path, table: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise ConfigError(
            f'{path}: the [fields] table is missing; add [fields] with order_id = ["..."] '
            'and tracking_number = ["..."]'
        )

    fields: dict[str, tuple[str, ...]] = {}
    for name, aliases in table.items():
        if name not in FIELDS:
            raise ConfigError(
                f'{path}: key "fields.{name}" is not a known field; use one of {", ".join(FIELDS)}'
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


# --- matching -------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    template: Template
    columns: dict[str, int]

    @property
    def required_count(self) -> int:
        return sum(1 for name in REQUIRED_FIELDS if name in self.columns)

    @property
    def is_candidate(self) -> bool:
        return self.required_count == len(REQUIRED_FIELDS)

    @property
    def score(self) -> float:
        return len(self.columns) / len(self.template.fields)


def match_template(
    table: Table, templates: Sequence[Template], *, forced: str | None = None
) -> ColumnMapping:
    """Pick the template that fits the table's headers and map its fields to columns.

    A template fits when it finds both required fields. Among those, the one
    with the most matched fields wins. Ties go to the larger score (the share of
    its own fields it found), then to a specific template over "generic", and
    then to the earlier template.

    `forced` names a template or a path to a .toml file and skips the choice.
    Raises MissingColumnsError when nothing fits, InputFileError when a header
    that the chosen template reads is in more than one column, and UsageError
    when `forced` names no known template.
    """
    if forced is not None:
        template = _forced_template(forced, templates)
        match = _match(table.headers, template)
        if not match.is_candidate:
            raise MissingColumnsError(
                table.path, _missing_message(table, match, forced=True, templates=templates)
            )
        return _column_mapping(table, match)

    matches = [_match(table.headers, template) for template in templates]
    candidates = [match for match in matches if match.is_candidate]
    if not candidates:
        closest = _closest(matches)
        raise MissingColumnsError(
            table.path, _missing_message(table, closest, forced=False, templates=templates)
        )

    best = max(candidates, key=_rank)
    return _column_mapping(table, best)


def header_score(cells: Sequence[str], templates: Sequence[Template]) -> int:
    """Count the distinct fields that the best-fitting template finds among a row's cells.

    The loader calls it on the rows at the top of a file to tell the header
    row from titles and export banners above it.
    """
    return max((len(_match(cells, template).columns) for template in templates), default=0)


def _rank(match: _Match) -> tuple[int, float, bool]:
    return (len(match.columns), match.score, match.template.name != GENERIC_TEMPLATE)


def _forced_template(forced: str, templates: Sequence[Template]) -> Template:
    for template in templates:
        if template.name == forced:
            return template

    path = Path(forced)
    if path.suffix.lower() == ".toml":
        if not path.is_file():
            raise UsageError(f"{forced}: template file not found; check the path")
        return load_template(path)

    names = ", ".join(template.name for template in templates)
    raise UsageError(
        f'unknown template "{forced}"; use one of {names} or the path of a .toml template file'
    )


def _first_positions(headers: Sequence[str]) -> dict[str, int]:
    """Map each normalized header to the first column that has it."""
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = normalize_header(header)
        if key and key not in positions:
            positions[key] = index
    return positions


def _match(headers: Sequence[str], template: Template) -> _Match:
    positions = _first_positions(headers)
    used: set[int] = set()
    columns: dict[str, int] = {}
    for name, aliases in template.fields.items():
        for alias in aliases:
            index = positions.get(normalize_header(alias))
            if index is not None and index not in used:
                columns[name] = index
                used.add(index)
                break
    return _Match(template=template, columns=columns)


def _column_mapping(table: Table, match: _Match) -> ColumnMapping:
    """Build the mapping of a chosen match; raises InputFileError on a repeated mapped header."""
    _reject_repeated_mapped_headers(table, match.columns)

    used = set(match.columns.values())
    return ColumnMapping(
        template=match.template,
        columns=MappingProxyType(dict(match.columns)),
        headers=table.headers,
        score=match.score,
        unmatched_headers=tuple(
            header for index, header in enumerate(table.headers) if index not in used
        ),
        notes=tuple(_unused_repeat_notes(table.headers, used)),
    )


def _columns_by_header(headers: Sequence[str]) -> dict[str, list[int]]:
    """Map each normalized header to every column that has it, in file order."""
    columns: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        key = normalize_header(header)
        if key:
            columns.setdefault(key, []).append(index)
    return columns


def _reject_repeated_mapped_headers(table: Table, columns: Mapping[str, int]) -> None:
    """Raise InputFileError when a header that a field reads from is in several columns.

    The import cannot know which of the columns contains the field, and reading
    the first could fulfill orders with the wrong order ID or tracking number.
    """
    by_header = _columns_by_header(table.headers)
    lines = []
    for name, index in columns.items():
        same = by_header[normalize_header(table.headers[index])]
        if len(same) > 1:
            lines.append(_repeated_header_line(table.headers, name, index, same))

    if lines:
        raise InputFileError(table.path, "\n".join(lines))


def _repeated_header_line(
    headers: Sequence[str], name: str, index: int, same: Sequence[int]
) -> str:
    header = headers[index]
    to_remove = "one of them" if len(same) == 2 else "all but one of them"
    return (
        f'the {FIELD_LABELS[name]} header "{header}" is in {len(same)} columns '
        f"({_column_list(headers, same)}), so the import cannot tell which one to read. "
        f'Rename or delete {to_remove} so that only one column is called "{header}".'
    )


def _column_list(headers: Sequence[str], indexes: Sequence[int]) -> str:
    """Name columns by letter, and add each header as written when their spellings differ."""
    letters = [get_column_letter(index + 1) for index in indexes]
    if len({headers[index] for index in indexes}) == 1:
        return _join(letters)
    return _join(
        [f'{letter} "{headers[index]}"' for letter, index in zip(letters, indexes, strict=True)]
    )


def _unused_repeat_notes(headers: Sequence[str], used: set[int]) -> list[str]:
    notes = []
    for same in _columns_by_header(headers).values():
        if len(same) < 2 or used.intersection(same):
            continue
        notes.append(
            f'the file has {len(same)} columns named "{headers[same[0]]}" '
            f"(columns {_column_list(headers, same)}); no field reads that header, "
            "so the import ignores them"
        )
    return notes


# --- the message when nothing fits -------------------------------------------------


def _closest(matches: Sequence[_Match]) -> _Match:
    """Return the match that came nearest to fitting, preferring "generic" on ties."""

    def nearness(match: _Match) -> tuple[int, int, bool]:
        return (match.required_count, len(match.columns), match.template.name == GENERIC_TEMPLATE)

    return max(matches, key=nearness)


def _missing_message(
    table: Table, match: _Match, *, forced: bool, templates: Sequence[Template]
) -> str:
    template = match.template
    missing = [name for name in REQUIRED_FIELDS if name not in match.columns]
    labels = _join([FIELD_LABELS[name] for name in missing])
    noun = "column was" if len(missing) == 1 else "columns were"

    if forced:
        lines = [f'the {labels} {noun} not found with template "{template.name}".']
    else:
        lines = [f"the {labels} {noun} not found, so no column template fits this file."]
        if match.required_count:
            found = _join([FIELD_LABELS[name] for name in match.columns])
            lines.append(f'The closest template is "{template.name}", which found the {found}.')

    lines.append("Headers in the file: " + _quoted_list(table.headers))
    suggestions = _close_headers(table.headers, template, missing, set(match.columns.values()))
    for name in missing:
        lines.append(_missing_field_line(template, name, suggestions[name]))

    names = ", ".join(other.name for other in templates)
    lines.append(
        "To fix it, rename the columns as shown above, or pick another template with "
        f"--template (available: {names})."
    )
    return "\n".join(lines)


def _missing_field_line(template: Template, name: str, close: Sequence[str]) -> str:
    line = f"- {FIELD_LABELS[name]}: no column matches"
    aliases = template.fields.get(name, ())
    if aliases:
        line += f'; rename the column that holds it to "{aliases[0]}"'
    if close:
        line += f" (closest headers in the file: {_quoted_list(close)})"
    return line


def _close_headers(
    headers: Sequence[str], template: Template, missing: Sequence[str], used: set[int]
) -> dict[str, list[str]]:
    """Suggest up to three unused headers for each missing field, best first.

    A header is suggested only for the missing field it resembles most, so
    "Trackng Number" is offered for the tracking number and not also for the
    order ID.
    """
    scored: dict[str, list[tuple[float, int]]] = {name: [] for name in missing}
    for index, header in enumerate(headers):
        if index in used:
            continue
        ratios = {name: _resemblance(header, template, name) for name in missing}
        best = max(ratios.values())
        for name, ratio in ratios.items():
            if ratio >= _CLOSE_MATCH_CUTOFF and ratio == best:
                scored[name].append((ratio, index))

    suggestions: dict[str, list[str]] = {}
    for name, pairs in scored.items():
        pairs.sort(key=lambda pair: (-pair[0], pair[1]))
        suggestions[name] = [headers[index] for _, index in pairs[:_MAX_CLOSE_MATCHES]]
    return suggestions


def _resemblance(header: str, template: Template, name: str) -> float:
    """Return how closely a header resembles the field's nearest alias, from 0 to 1."""
    aliases = template.fields.get(name) or (FIELD_LABELS[name],)
    key = normalize_header(header)
    return max(
        difflib.SequenceMatcher(None, key, normalize_header(alias)).ratio() for alias in aliases
    )


def _quoted_list(items: Sequence[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
