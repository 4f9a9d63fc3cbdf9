"""Match a file's headers to the canonical fields with a column template, and judge the match.

The template that finds the most fields wins. The match is trusted only
when no other template reads the file otherwise, its required columns were
found by their usual names, and no second column of a field is left unread;
otherwise the user confirms it with --template and --map.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from openpyxl.utils import get_column_letter

from importer.errors import InputFileError, MissingColumnsError, UsageError
from importer.load import SourceRow, Table
from importer.mapping.missing import closest, join, missing_message, quoted_list, resemblance
from importer.mapping.templates import (
    FIELD_LABELS,
    GENERIC_TEMPLATE,
    REQUIRED_FIELDS,
    TEMPLATE_FIELDS,
    Template,
    load_template,
    normalize_header,
)

# A header this close to a field's name (0 to 1, difflib's ratio) is proposed
# for the field when no header matches exactly; the user must confirm it.
_PROPOSAL_CUTOFF = 0.8


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
    # Why the match must be confirmed by the user before sending; empty when it need not be.
    doubts: tuple[str, ...] = ()
    confirmed: frozenset[str] = frozenset()  # fields the user mapped with --map
    proposed: frozenset[str] = frozenset()  # fields matched by a similar header only
    ambiguous: frozenset[str] = frozenset()  # fields with a second, unread column

    @property
    def confident(self) -> bool:
        return not self.doubts

    @property
    def found_count(self) -> int:
        """Count the template's fields that have a column."""
        return sum(1 for name in self.template.fields if name in self.columns)

    def header_of(self, field: str) -> str | None:
        """Return the file's header text for a field, or None when the field has no column."""
        index = self.columns.get(field)
        return None if index is None else self.headers[index]

    def values(self, row: SourceRow) -> dict[str, str]:
        """Return the raw cell text of each mapped field in a row."""
        return {name: row.cells[index] for name, index in self.columns.items()}


# --- matching -------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    template: Template
    columns: dict[str, int]
    confirmed: frozenset[str] = frozenset()
    proposed: frozenset[str] = frozenset()

    @property
    def required_count(self) -> int:
        return sum(1 for name in REQUIRED_FIELDS if name in self.columns)

    @property
    def is_candidate(self) -> bool:
        return self.required_count == len(REQUIRED_FIELDS)

    @property
    def own_count(self) -> int:
        """Count the fields found by the template's own header names."""
        return len(self.columns) - len(self.confirmed) - len(self.proposed)

    @property
    def score(self) -> float:
        found = sum(1 for name in self.template.fields if name in self.columns)
        return found / len(self.template.fields)


def match_template(
    table: Table,
    templates: Sequence[Template],
    *,
    forced: str | None = None,
    overrides: Mapping[str, str] | None = None,
) -> ColumnMapping:
    """Pick the template that fits the table's headers and map its fields to columns.

    A template fits when it finds both required fields. Among those, the one
    with the most matched fields wins. Ties go to the larger score (the share of
    its own fields it found), then to a specific template over "generic", and
    then to the earlier template.

    `overrides` maps fields to headers the user named with --map ("" leaves a
    field unread); they win over every template. `forced` names a template or
    a path to a .toml file and skips the choice.

    The mapping has doubts, and must be confirmed before anything is sent, when
    another template fits as well but reads other columns, or when a required
    field was found only by a header whose name is close to the usual one.
    Raises MissingColumnsError when nothing fits, InputFileError when a header
    that the chosen template reads is in more than one column or a --map
    header is not in the file, and UsageError when `forced` names no known
    template.
    """
    chosen = _user_columns(table, overrides or {})
    if forced is not None:
        template = _forced_template(forced, templates)
        match = _match(table.headers, template, chosen)
        if not match.is_candidate:
            raise MissingColumnsError(
                table.path, missing_message(table, match, forced=True, templates=templates)
            )
        return _column_mapping(table, match, doubts=())

    matches = [_match(table.headers, template, chosen) for template in templates]
    candidates = _fitting(matches)
    if candidates:
        best = _plainest(table, max(candidates, key=_rank), candidates)
        return _column_mapping(table, best, doubts=_rival_doubts(table, best, candidates))

    proposals = [_propose(table.headers, match) for match in matches]
    fitting = [proposal for proposal in proposals if proposal.is_candidate]
    if fitting:
        best = max(fitting, key=_proposal_rank)
        return _column_mapping(table, best, doubts=_proposal_doubts(table, best))

    nearest = closest(matches)
    raise MissingColumnsError(
        table.path, missing_message(table, nearest, forced=False, templates=templates)
    )


def _fitting(matches: Sequence[_Match]) -> list[_Match]:
    """Return the matches that find both required fields.

    Columns named with --map fit every template alike, so a template counts
    only when it also finds a column by its own names; when none does, the
    generic template reads the file, as it assumes nothing about the tool.
    """
    candidates = [match for match in matches if match.is_candidate]
    own = [match for match in candidates if match.own_count]
    if own or not candidates:
        return own
    generic = [match for match in candidates if match.template.name == GENERIC_TEMPLATE]
    return generic or candidates[:1]


def _plainest(table: Table, best: _Match, candidates: Sequence[_Match]) -> _Match:
    """Prefer the generic template to a tool's when both read the file alike.

    A sheet with a few common headers ("Order ID", "Tracking Number") fits many
    tools' templates; naming one of them in the summary would suggest the
    file came from that tool. A tool's template keeps the file only when it
    finds every one of its fields, or reads the file differently.
    """
    if best.template.name == GENERIC_TEMPLATE or best.score == 1:
        return best
    for other in candidates:
        same = not _difference(table.headers, best, other) and len(other.columns) == len(
            best.columns
        )
        if other.template.name == GENERIC_TEMPLATE and same:
            return other
    return best


def header_score(cells: Sequence[str], templates: Sequence[Template]) -> int:
    """Count the distinct fields that the best-fitting template finds among a row's cells.

    The loader calls it on the rows at the top of a file to tell the header
    row from titles and export banners above it.
    """
    return max((len(_match(cells, template, {}).columns) for template in templates), default=0)


def _rank(match: _Match) -> tuple[int, float, bool]:
    return (len(match.columns), match.score, match.template.name != GENERIC_TEMPLATE)


def _proposal_rank(match: _Match) -> tuple[int, int, bool, float]:
    # A guess should assume as little as it can about the tool, so among
    # templates that found nothing by their own names, the generic one wins.
    exact = len(match.columns) - len(match.proposed)
    return (exact, len(match.columns), match.template.name == GENERIC_TEMPLATE, match.score)


def find_template(name: str, templates: Sequence[Template]) -> Template:
    """Find a template by name or read it from a .toml path; raises UsageError when unknown."""
    return _forced_template(name, templates)


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


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """Read --map FIELD=HEADER options; raises UsageError on a malformed one."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        field_name, equals, header = pair.partition("=")
        field_name = field_name.strip().lower()
        if not equals or not field_name:
            raise UsageError(
                f'--map "{pair}": write the field, "=" and the header, like '
                '--map order_id="Order Number"'
            )
        if field_name not in TEMPLATE_FIELDS:
            raise UsageError(
                f'--map "{pair}": "{field_name}" is not a field; '
                f"use one of {', '.join(TEMPLATE_FIELDS)}"
            )
        if field_name in overrides:
            raise UsageError(f'--map names the field "{field_name}" twice; keep one')
        overrides[field_name] = header.strip()
    return overrides


def _user_columns(table: Table, overrides: Mapping[str, str]) -> dict[str, int | None]:
    """Find the column of each --map header; None for a field the user left unread."""
    positions = _first_positions(table.headers)
    chosen: dict[str, int | None] = {}
    for name, header in overrides.items():
        if not header and name in REQUIRED_FIELDS:
            raise UsageError(
                f"--map {name}= would leave the {FIELD_LABELS[name]} unread, but every row "
                f'needs it; name its column instead, like --map {name}="Header"'
            )
        if not header:
            chosen[name] = None
            continue
        index = positions.get(normalize_header(header))
        if index is None:
            raise InputFileError(
                table.path,
                f'--map {name}="{header}": the file has no column "{header}". '
                f"Headers in the file: {quoted_list(table.headers)}",
            )
        chosen[name] = index
    return chosen


def _first_positions(headers: Sequence[str]) -> dict[str, int]:
    """Map each normalized header to the first column that has it."""
    positions: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = normalize_header(header)
        if key and key not in positions:
            positions[key] = index
    return positions


def _match(headers: Sequence[str], template: Template, chosen: Mapping[str, int | None]) -> _Match:
    positions = _first_positions(headers)
    columns = {name: index for name, index in chosen.items() if index is not None}
    used = set(columns.values())
    for name, aliases in template.fields.items():
        if name in chosen:
            continue
        for alias in aliases:
            index = positions.get(normalize_header(alias))
            if index is not None and index not in used:
                columns[name] = index
                used.add(index)
                break
    return _Match(template=template, columns=columns, confirmed=frozenset(columns) & set(chosen))


def _propose(headers: Sequence[str], match: _Match) -> _Match:
    """Add, for each missing required field, the unused header closest to one of its names."""
    columns = dict(match.columns)
    proposed = set()
    for name in REQUIRED_FIELDS:
        if name in columns:
            continue
        used = set(columns.values())
        scored = [
            (resemblance(header, match.template, name), -index)
            for index, header in enumerate(headers)
            if index not in used and normalize_header(header)
        ]
        ratio, negative_index = max(scored, default=(0.0, 0))
        if ratio >= _PROPOSAL_CUTOFF:
            columns[name] = -negative_index
            proposed.add(name)
    return _Match(match.template, columns, match.confirmed, frozenset(proposed))


def _rival_doubts(table: Table, best: _Match, candidates: Sequence[_Match]) -> tuple[str, ...]:
    """Name the templates that fit as well as the chosen one but would read the file otherwise."""
    doubts = []
    for other in candidates:
        if other is best or len(other.columns) != len(best.columns):
            continue
        difference = _difference(table.headers, best, other)
        if difference:
            doubts.append(
                f'template "{other.template.name}" fits as well as "{best.template.name}", '
                f"but {difference}"
            )
    return tuple(doubts)


def _difference(headers: Sequence[str], best: _Match, other: _Match) -> str:
    """Describe the first way two matches would read the file differently, or return ""."""
    for name in TEMPLATE_FIELDS:
        mine, theirs = best.columns.get(name), other.columns.get(name)
        if mine == theirs:
            continue
        if theirs is None:
            return f'it does not read the {FIELD_LABELS[name]} from "{headers[mine or 0]}"'
        return f'it reads the {FIELD_LABELS[name]} from "{headers[theirs]}"'
    if best.template.default_carrier != other.template.default_carrier:
        carrier = other.template.default_carrier or "no carrier"
        return f"it gives {carrier} to rows without a carrier"
    # Order prefixes are left out: they only shorten an order number before
    # the lookup, which still needs an exact match of the order's name.
    return ""


def _proposal_doubts(table: Table, match: _Match) -> tuple[str, ...]:
    doubts = []
    for name in REQUIRED_FIELDS:
        if name in match.proposed:
            header = table.headers[match.columns[name]]
            usual = match.template.fields.get(name, (FIELD_LABELS[name],))[0]
            doubts.append(
                f'the {FIELD_LABELS[name]} column was taken to be "{header}", '
                f'whose name is only close to "{usual}"'
            )
    return tuple(doubts)


def _column_mapping(table: Table, match: _Match, *, doubts: Sequence[str]) -> ColumnMapping:
    """Build the mapping of a chosen match; raises InputFileError on a repeated mapped header."""
    _reject_repeated_mapped_headers(table, match.columns)

    used = set(match.columns.values())
    second_columns = _second_columns(table.headers, match, _FIELDS_READ_ONCE)
    doubts = [
        *doubts,
        *(_second_column_doubt(table.headers, match, *pair) for pair in second_columns),
    ]
    other_order_columns = _second_columns(table.headers, match, ("order_id",))
    notes = [
        *_unused_repeat_notes(table.headers, used),
        *(
            _other_order_column_note(table.headers, match, index)
            for _, index in other_order_columns
        ),
    ]
    return ColumnMapping(
        template=match.template,
        columns=MappingProxyType(dict(match.columns)),
        headers=table.headers,
        score=match.score,
        unmatched_headers=tuple(
            header for index, header in enumerate(table.headers) if index not in used
        ),
        notes=tuple(notes),
        doubts=tuple(doubts),
        confirmed=match.confirmed,
        proposed=match.proposed,
        ambiguous=frozenset(name for name, _ in second_columns),
    )


# Fields whose second column, left unread, would change what is sent: another
# package or another item. A second order column is usually another system's
# number for the same order (a shop's and a warehouse's), so it gets a note.
_FIELDS_READ_ONCE = ("tracking_number", "price_id", "sku", "qty", "location_id")


def _second_columns(
    headers: Sequence[str], match: _Match, fields: Sequence[str]
) -> list[tuple[str, int]]:
    """Find unread columns that carry a name the template gives a field it reads elsewhere."""
    used = set(match.columns.values())
    found = []
    for name in fields:
        if name not in match.columns or name in match.confirmed:
            continue
        names = {normalize_header(alias) for alias in match.template.fields.get(name, ())}
        for index, header in enumerate(headers):
            if index not in used and normalize_header(header) in names:
                found.append((name, index))
                break
    return found


def _other_order_column_note(headers: Sequence[str], match: _Match, index: int) -> str:
    read = headers[match.columns["order_id"]]
    return (
        f'the orders are read from "{read}"; the column "{headers[index]}" is not read. If '
        f'the orders are not found, run again with --map order_id="{headers[index]}"'
    )


def _second_column_doubt(headers: Sequence[str], match: _Match, name: str, index: int) -> str:
    read = headers[match.columns[name]]
    return (
        f'the file has two {FIELD_LABELS[name]} columns, "{read}" and "{headers[index]}", '
        f'and only "{read}" would be read'
    )


def describe_mapping(mapping: ColumnMapping) -> list[str]:
    """List which column each field is read from, one line per field."""
    lines = []
    for name in TEMPLATE_FIELDS:
        header = mapping.header_of(name)
        if header is None:
            continue
        how = " (close name, please confirm)" if name in mapping.proposed else ""
        how = " (from --map)" if name in mapping.confirmed else how
        lines.append(f'  {FIELD_LABELS[name]:<17} <- "{header}"{how}')
    return lines


def confirmation_message(mapping: ColumnMapping) -> str:
    """Explain why a mapping needs the user's word, what it proposes and how to confirm it."""
    template = mapping.template
    lines = [
        f'the columns were matched with template "{template.name}", but not surely enough '
        "to send anything:"
    ]
    lines += [f"- {doubt}" for doubt in mapping.doubts]
    lines.append("Proposed mapping:")
    lines += describe_mapping(mapping)
    if mapping.unmatched_headers:
        lines.append("Columns not read: " + quoted_list(mapping.unmatched_headers))
    lines.append(
        "If the mapping is right, run again with: " + " ".join(confirming_options(mapping))
    )
    lines.append(
        'To read a field from another column, change its --map option (--map FIELD="Header"); '
        "to try another template, change --template. See `ghl-fulfill templates`."
    )
    return "\n".join(lines)


def confirming_options(mapping: ColumnMapping) -> list[str]:
    """Return the command-line options that confirm an unsure mapping without changing it."""
    options = [f"--template {mapping.template.name}"]
    for name in TEMPLATE_FIELDS:
        header = mapping.header_of(name)
        if name in mapping.proposed | mapping.ambiguous and header is not None:
            options.append(f'--map {name}="{header}"')
    return options


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
        return join(letters)
    return join(
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
