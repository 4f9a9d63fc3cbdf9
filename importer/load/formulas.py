"""Find XLSX cells whose formula has no saved value, or whose value is an error.

calamine returns the value a workbook saved for each formula. A workbook
written by a program that does not calculate (a script, some exports) saves
no value, and calamine then returns an empty cell: a Qty of "=1+1" would read
as empty and mean 1. Such cells, and error values like #DIV/0!, are shown as
what they are, so that the row is rejected with the cell named.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeElementTree
from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
)
from openpyxl.utils.exceptions import CellCoordinatesException

from importer.load.archive import sheet_targets
from importer.load.records import RawRow

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

Cell = tuple[int, int]  # (row, column), counted from 1

# How many replaced cells a note names before "and N more".
_NAMED_CELLS = 10


def mark_formula_cells(
    archive: zipfile.ZipFile, sheet_name: str, rows: Sequence[RawRow]
) -> tuple[list[RawRow], list[str]]:
    """Replace the text of formula cells without a value, and of error cells; return notes."""
    member = _sheet_member(archive, sheet_name)
    if member is None:
        return list(rows), []
    data = archive.read(member)
    # Most exports hold no formula at all; a byte search keeps them off the XML parser.
    if b"<f" not in data and b'"e"' not in data:
        return list(rows), []

    cells = _formula_cells(data)
    if not cells:
        return list(rows), []
    return _replace(rows, cells), [_note(sorted(cells))]


def _formula_cells(data: bytes) -> dict[Cell, str]:
    cells: dict[Cell, str] = {}
    # defusedxml rejects entity declarations; the archive check has already
    # turned away any member with a DTD, so this is a second guard.
    for _, element in SafeElementTree.iterparse(io.BytesIO(data)):
        if element.tag != _MAIN + "c":
            continue
        text = _damaged_text(element)
        position = _position(element.get("r", "")) if text is not None else None
        if text is not None and position is not None:
            cells[position] = text
        element.clear()
    return cells


def _position(reference: str) -> Cell | None:
    # A cell without a valid reference cannot be matched to the row calamine
    # gave, so its formula is left as calamine read it.
    try:
        column_letters, row = coordinate_from_string(reference)
        return row, column_index_from_string(column_letters)
    except (CellCoordinatesException, ValueError):
        return None


def _damaged_text(cell: ElementTree.Element) -> str | None:
    value = cell.find(_MAIN + "v")
    formula = cell.find(_MAIN + "f")
    if cell.get("t") == "e":
        return value.text if value is not None and value.text else "#ERROR"
    if formula is not None and (value is None or value.text is None):
        return f"={formula.text}" if formula.text else "=(a formula without a saved value)"
    return None


def _replace(rows: Sequence[RawRow], cells: dict[Cell, str]) -> list[RawRow]:
    replaced = []
    for row in rows:
        columns = {column: text for (number, column), text in cells.items() if number == row.number}
        if not columns:
            replaced.append(row)
            continue
        width = max(len(row.cells), max(columns))
        values = list(row.cells) + [""] * (width - len(row.cells))
        for column, text in columns.items():
            values[column - 1] = text
        replaced.append(RawRow(row.number, tuple(values)))
    return replaced


def _note(cells: Sequence[Cell]) -> str:
    """Say how many cells were replaced, and name the first of them, such as C5."""
    held = "1 cell holds" if len(cells) == 1 else f"{len(cells)} cells hold"
    named = ", ".join(f"{get_column_letter(column)}{row}" for row, column in cells[:_NAMED_CELLS])
    if len(cells) > _NAMED_CELLS:
        named += f" and {len(cells) - _NAMED_CELLS} more"
    return (
        f"{held} a formula without a saved value or an error value ({named}); open the file "
        "in Excel and save it again so that the values are stored"
    )


def _sheet_member(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    return sheet_targets(archive).get(sheet_name)
