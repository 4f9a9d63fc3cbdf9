"""The columnar CSV reader must read every file exactly as the csv module does."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from importer.errors import InputFileError
from importer.load import LoadOptions, Table, columns, load_table
from importer.load import table as table_module
from importer.mapping import header_score, load_templates

TEMPLATES = load_templates()
HEADER = "Order ID,Tracking Number,Carrier,SKU,Qty"
CELLS = (
    "65a1b2c3d4e5f60718293a4b",
    "1Z999AA10123456784",
    "UPS Ground",
    "",
    " ",
    "\t",
    '"quoted, with comma"',
    '"line one\nline two"',
    '"say ""hi"""',
    "Zoë",
    "\u00a0",
    "Total",
    "Order ID",
)
# Cells that the two readers read differently, so the columnar reader declines them.
STRAY_QUOTES = ('24" box', '"closed" then text')
LINE_BREAKS = ("\n", "\r\n")


def score(cells: tuple[str, ...] | list[str]) -> int:
    return header_score(cells, TEMPLATES)


def read(path: Path, *, columnar: bool, monkeypatch: pytest.MonkeyPatch) -> Table | str:
    """Load a file with or without the columnar reader; an error becomes its message."""
    with monkeypatch.context() as patch:
        patch.setattr(columns, "MIN_BYTES", 0 if columnar else 10**12)
        try:
            return load_table(path, LoadOptions(), header_score=score)
        except InputFileError as error:
            return str(error)


def table_facts(table: Table | str) -> object:
    if isinstance(table, str):
        return table
    return (
        table.headers,
        table.header_row,
        list(table.rows),
        table.ignored,
        table.notes,
    )


class _Spy:
    """Count the calls of a function and pass them on."""

    def __init__(self, function: Callable[..., object]) -> None:
        self.function = function
        self.calls = 0

    def __call__(self, *args: object) -> object:
        self.calls += 1
        return self.function(*args)


def random_csv(generator: random.Random) -> str:
    lines = []
    if generator.random() < 0.2:
        lines.append("Shipments export,,")
    lines.append(HEADER)
    cells = CELLS + STRAY_QUOTES if generator.random() < 0.2 else CELLS
    for _ in range(generator.randrange(1, 12)):
        roll = generator.random()
        if roll < 0.08:
            lines.append("")
        elif roll < 0.12:
            lines.append(HEADER)
        else:
            width = 5 if generator.random() < 0.95 else generator.choice((4, 6))
            lines.append(",".join(generator.choice(cells) for _ in range(width)))
    if generator.random() < 0.2:
        lines.append("Total,,,,3")
    ending = generator.choice(LINE_BREAKS)
    text = ending.join(lines)
    return text + generator.choice(("", ending, ending * 2))


def test_columnar_reader_matches_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generator = random.Random(20261204)
    spy = _Spy(columns._parse_body)
    monkeypatch.setattr(columns, "_parse_body", spy)
    read_by_pyarrow = 0
    for case in range(250):
        path = tmp_path / f"case{case}.csv"
        path.write_text(random_csv(generator), encoding="utf-8", newline="")
        calls = spy.calls
        fast = read(path, columnar=True, monkeypatch=monkeypatch)
        read_by_pyarrow += spy.calls > calls and not isinstance(fast, str)
        slow = read(path, columnar=False, monkeypatch=monkeypatch)
        assert table_facts(fast) == table_facts(slow), path.read_text(encoding="utf-8")
    # The comparison means something only if pyarrow read a good share of the files.
    assert read_by_pyarrow > 60


def test_header_beyond_head_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "banner.csv"
    banner = "".join(f"Export line {line}\n" for line in range(40))
    path.write_text(banner + HEADER + "\n" + "A1,1Z1,UPS,S,1\n" * 50, encoding="utf-8")
    monkeypatch.setattr(columns, "HEAD_BYTES", 64)
    fast = read(path, columnar=True, monkeypatch=monkeypatch)
    slow = read(path, columnar=False, monkeypatch=monkeypatch)
    assert table_facts(fast) == table_facts(slow)


def test_short_head_reads_whole_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rows.csv"
    rows = "".join(f"A{row},1Z{row},UPS,S,1\n" for row in range(300))
    path.write_text(HEADER + "\n" + rows, encoding="utf-8")
    monkeypatch.setattr(columns, "HEAD_BYTES", 2000)
    table = read(path, columnar=True, monkeypatch=monkeypatch)
    assert not isinstance(table, str) and table.rows[-1].cells[0] == "A299"


def test_large_file_read_in_columns(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    rows = "".join(f"A{row},1Z{row},UPS,S,1\n" for row in range(60_000))
    path.write_text(HEADER + "\n" + rows, encoding="utf-8")
    table = load_table(path, header_score=score)
    assert table.rows.is_columnar


def test_invalid_utf8_body_falls_back_to_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    rows = "".join(f"A{row},1Z{row},UPS,S,1\n" for row in range(60_000))
    path.write_bytes((HEADER + "\n" + rows).encode() + "A9,1Z9,Café,S,1\n".encode("cp1252"))
    table = load_table(path, header_score=score)
    assert table.rows[-1].cells[2] == "Café"


def test_unclosed_quote_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "open.csv"
    path.write_text(HEADER + '\nA1,1Z1,UPS,"S,1\nA2,1Z2,UPS,S,1\n', encoding="utf-8")
    message = read(path, columnar=True, monkeypatch=monkeypatch)
    assert isinstance(message, str) and "never closed" in message


def test_whitespace_rules_agree_with_python() -> None:
    import sys

    import pyarrow as pa
    import pyarrow.compute as pc

    characters = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code < 0xE000]
    spaces = pc.utf8_is_space(pa.array(characters, pa.large_string())).to_pylist()
    differing = [
        char for char, space in zip(characters, spaces, strict=True) if space != char.isspace()
    ]
    assert differing == []


def test_unclosed_quote_near_end_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An open quote 1,300 rows before the end stops the file instead of swallowing the rest."""
    path = tmp_path / "open_late.csv"
    rows = [f"A{row},1Z{row},UPS,S,1" for row in range(3000)]
    # In the last column the open cell swallows the rest and still gives the row
    # its five cells, so nothing else is wrong with the file.
    rows[-1300] = rows[-1300].removesuffix(",1") + ',"24 box'
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setattr(columns, "HEAD_BYTES", 2000)
    message = read(path, columnar=True, monkeypatch=monkeypatch)
    assert isinstance(message, str) and "never closed" in message


def test_cell_over_limit_rejected_by_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quoted cell of 200,000 characters is rejected by the csv path as by pyarrow."""
    path = tmp_path / "long_cell.csv"
    path.write_text(HEADER + '\nA1,1Z1,UPS,"' + "x" * 200_000 + '",1\n', encoding="utf-8")
    by_rows = read(path, columnar=False, monkeypatch=monkeypatch)
    by_columns = read(path, columnar=True, monkeypatch=monkeypatch)
    assert (
        isinstance(by_rows, str) and "row 2, column D: the cell has 200,000 characters" in by_rows
    )
    assert by_columns == by_rows


@pytest.mark.parametrize("columnar", [True, False])
def test_rows_beyond_sheet_limit_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columnar: bool
) -> None:
    """A file with more rows than a results sheet can list is refused by both readers."""
    path = tmp_path / "many.csv"
    path.write_text(HEADER + "\n" + "A1,1Z1,UPS,S,1\n" * 30, encoding="utf-8")
    monkeypatch.setattr(table_module, "MAX_ROWS", 29)
    message = read(path, columnar=columnar, monkeypatch=monkeypatch)
    assert isinstance(message, str) and "split the file" in message
