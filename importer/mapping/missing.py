"""The message when no template finds the required columns: what is missing and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from importer.load import Table
from importer.mapping.templates import (
    FIELD_LABELS,
    GENERIC_TEMPLATE,
    REQUIRED_FIELDS,
    Template,
    normalize_header,
)

if TYPE_CHECKING:
    from importer.mapping.match import _Match

_CLOSE_MATCH_CUTOFF = 0.6
_MAX_CLOSE_MATCHES = 3


def closest(matches: Sequence[_Match]) -> _Match:
    """Return the match that came nearest to fitting, preferring "generic" on ties."""

    def nearness(match: _Match) -> tuple[int, int, bool]:
        return (match.required_count, len(match.columns), match.template.name == GENERIC_TEMPLATE)

    return max(matches, key=nearness)


def missing_message(
    table: Table, match: _Match, *, forced: bool, templates: Sequence[Template]
) -> str:
    template = match.template
    missing = [name for name in REQUIRED_FIELDS if name not in match.columns]
    labels = join([FIELD_LABELS[name] for name in missing])
    noun = "column was" if len(missing) == 1 else "columns were"

    if forced:
        lines = [f'the {labels} {noun} not found with template "{template.name}".']
    else:
        lines = [f"the {labels} {noun} not found, so no column template fits this file."]
        if match.required_count:
            found = join([FIELD_LABELS[name] for name in match.columns])
            lines.append(f'The closest template is "{template.name}", which found the {found}.')

    lines.append("Headers in the file: " + quoted_list(table.headers))
    suggestions = _close_headers(table.headers, template, missing, set(match.columns.values()))
    for name in missing:
        lines.append(_missing_field_line(template, name, suggestions[name]))

    lines.append(
        "To fix it, rename the columns as shown above, name the columns with "
        '--map FIELD="Header", or pick another template with --template NAME '
        "(`ghl-fulfill templates` lists them)."
    )
    return "\n".join(lines)


def _missing_field_line(template: Template, name: str, close: Sequence[str]) -> str:
    line = f"- {FIELD_LABELS[name]}: no column matches"
    aliases = template.fields.get(name, ())
    if aliases:
        line += f'; rename the column that holds it to "{aliases[0]}"'
    if close:
        line += f" (closest headers in the file: {quoted_list(close)})"
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
        ratios = {name: resemblance(header, template, name) for name in missing}
        best = max(ratios.values())
        for name, ratio in ratios.items():
            if ratio >= _CLOSE_MATCH_CUTOFF and ratio == best:
                scored[name].append((ratio, index))

    suggestions: dict[str, list[str]] = {}
    for name, pairs in scored.items():
        pairs.sort(key=lambda pair: (-pair[0], pair[1]))
        suggestions[name] = [headers[index] for _, index in pairs[:_MAX_CLOSE_MATCHES]]
    return suggestions


def resemblance(header: str, template: Template, name: str) -> float:
    """Return how closely a header resembles the field's nearest alias, from 0 to 1."""
    aliases = template.fields.get(name) or (FIELD_LABELS[name],)
    key = normalize_header(header)
    return max(
        difflib.SequenceMatcher(None, key, normalize_header(alias)).ratio() for alias in aliases
    )


def quoted_list(items: Sequence[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
