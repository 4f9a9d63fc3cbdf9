"""Generate malformed CSV, XLSX, ODS and other files for the fuzz test and its benchmark.

Each case starts from a plausible shipping export and breaks it in one or
more ways that real files and hostile ones do: truncated archives, wrong
encodings, huge cells, NUL bytes, control characters, formula cells, deeply
nested XML, bad cell references and random bytes. All choices come from the
`random.Random` passed in, so a seed (or Hypothesis's own Random) replays a case.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from importer.config import Settings
from importer.errors import ImporterError
from importer.mapping import Template
from importer.pipeline import FileJob, import_file
from tests.workbook_parts import (
    BILLION_LAUGHS,
    PASSWD_ENTITY,
    ods_bytes,
    ods_cell,
    ods_row,
    shared_strings_xml,
    sheet_xml,
    xlsx_bytes,
)

HEADERS = ["Order ID", "Tracking Number", "Carrier", "SKU", "Qty", "Ship Date"]
SUFFIXES = [".csv", ".xlsx", ".ods", ".xls", ".txt", ".tsv", ".xlsm", ""]
_NASTY_TEXT = [
    "",
    " ",
    "=1+1",
    "+SUM(A1:A2)",
    "-2",
    "@cmd",
    '"',
    '""',
    "a\x00b",
    "\x01\x02\x1b[31m",
    "\ufeff",
    "\u202e",
    "\ud7ff",
    "1E+15",
    "0012345",
    "\r",
    "\n\n",
    "&amp;",
    "<b>",
    "]]>",
    "Total",
    "#DIV/0!",
]


@dataclass(frozen=True)
class FuzzCase:
    kind: str  # the generator that made the case
    suffix: str  # the file name's ending, which may not match the content
    data: bytes


def generate_case(rng: random.Random) -> FuzzCase:
    """Make one malformed file from the choices of `rng`."""
    kind, make = rng.choice(_GENERATORS)
    data = make(rng)
    if rng.random() < 0.3:
        data = _mutate(rng, data)
    suffix = rng.choice(SUFFIXES)
    return FuzzCase(kind, suffix, data)


# --- cell values and tables ------------------------------------------------------------


def _cell(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(["65a1b2c3d4e5f60718293a4b", "1Z999AA10123456784", "UPS", "TEE-M", "1"])
    if roll < 0.75:
        return rng.choice(_NASTY_TEXT)
    if roll < 0.9:
        return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 12)))
    if roll < 0.97:
        return "x" * rng.choice([100, 5000, 32_767, 32_768, 40_000])
    return str(rng.random() * 10 ** rng.randrange(0, 20))


def _table(rng: random.Random) -> list[list[str]]:
    width = rng.randrange(1, len(HEADERS) + 3)
    header = (HEADERS * 2)[:width]
    if rng.random() < 0.2:
        header = [_cell(rng) for _ in range(width)]
    rows = [header]
    for _ in range(rng.randrange(0, 12)):
        row_width = width if rng.random() < 0.8 else rng.randrange(0, width + 4)
        rows.append([_cell(rng) for _ in range(row_width)])
    return rows


# --- CSV and other text ----------------------------------------------------------------


def _csv(rng: random.Random) -> bytes:
    delimiter = rng.choice([",", ";", "\t", "|", ",", ","])
    lines = []
    for row in _table(rng):
        cells = [f'"{cell}"' if rng.random() < 0.3 else cell for cell in row]
        lines.append(delimiter.join(cells))
    if rng.random() < 0.1:
        lines.insert(0, f"sep={delimiter}")
    ending = rng.choice(["\n", "\r\n", "\r", "\n"])
    text = ending.join(lines) + (ending if rng.random() < 0.8 else "")
    encoding = rng.choice(
        ["utf-8", "utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le", "latin-1"]
    )
    return text.encode(encoding, errors="replace")


def _html(rng: random.Random) -> bytes:
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td colspan="{rng.choice(["1", "2", "0", "-1", "x", "99999999"])}">{cell}</td>'
            if rng.random() < 0.2
            else f"<td>{cell}</td>"
            for cell in row
        )
        + "</tr>"
        for row in _table(rng)
    )
    nested = "<table><tr><td>" * rng.choice([0, 1, 50, 2000])
    page = f"<html><body>{nested}<table>{rows}</table></body></html>"
    if rng.random() < 0.3:
        page = page.replace("<tr>", '<tr><td rowspan="2">r</td>', 1)
    return page.encode("utf-8", errors="replace")


def _random_bytes(rng: random.Random) -> bytes:
    prefix = rng.choice(
        [
            b"",
            b"PK\x03\x04",
            b"PK\x05\x06",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            b"\xff\xfe",
            b"\xef\xbb\xbf",
        ]
    )
    return prefix + rng.randbytes(rng.randrange(0, 3000))


# --- workbooks ---------------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _reference(rng: random.Random, row: int, column: int) -> str:
    letters = ""
    number = column
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    roll = rng.random()
    if roll < 0.9:
        return f"{letters}{row}"
    return rng.choice(["", "A0", "1A", "ZZZZ1", "XFD1048576", "a1", "A99999999999", "Ä1", "A-1"])


def _xlsx_cell(rng: random.Random, reference: str, text: str, shared: list[str]) -> str:
    attribute = f' r="{reference}"' if reference else ""
    roll = rng.random()
    if roll < 0.5:
        return f'<c{attribute} t="inlineStr"><is><t>{_escape(text)}</t></is></c>'
    if roll < 0.7:
        shared.append(_escape(text))
        index = len(shared) - 1 if rng.random() < 0.9 else rng.choice([-1, 10**6, "x"])
        return f'<c{attribute} t="s"><v>{index}</v></c>'
    if roll < 0.8:
        return f"<c{attribute}><f>{_escape(text) or 'SUM(A1:A2)'}</f></c>"
    if roll < 0.9:
        return f'<c{attribute} t="e"><v>#DIV/0!</v></c>'
    return f"<c{attribute}><v>{rng.choice(['1', '1e308', 'nan', '-0', 'x', '1E+15'])}</v></c>"


def _xlsx(rng: random.Random) -> bytes:
    shared: list[str] = []
    rows = []
    for row_number, row in enumerate(_table(rng), start=1):
        cells = "".join(
            _xlsx_cell(rng, _reference(rng, row_number, column), text, shared)
            for column, text in enumerate(row, start=1)
        )
        row_attribute = f' r="{row_number}"' if rng.random() < 0.95 else ""
        rows.append(f"<row{row_attribute}>{cells}</row>")
    body = "".join(rows)
    doctype = ""
    roll = rng.random()
    if roll < 0.05:
        doctype = BILLION_LAUGHS
    elif roll < 0.1:
        doctype = PASSWD_ENTITY
    elif roll < 0.15:
        depth = rng.choice([100, 10_000, 100_000])
        body += "<x>" * depth + "</x>" * depth
    sheet = sheet_xml(body, doctype if rng.random() < 0.5 else "")
    strings = shared_strings_xml(shared, doctype if rng.random() < 0.5 else "")
    extra = {}
    if rng.random() < 0.05:
        extra["xl/media/image1.bin"] = bytes(rng.choice([2**20, 3 * 2**20]))
    return xlsx_bytes(sheet, strings, extra)


def _ods(rng: random.Random) -> bytes:
    rows = []
    for row in _table(rng):
        cells = "".join(
            ods_cell(_escape(text) if text else None, rng.choice([1, 1, 1, 2, 5000, 20_000]))
            for text in row
        )
        repeats = rng.choice([1, 1, 1, 3, 1_000_001])
        rows.append(ods_row(cells, repeats))
    body = "".join(rows)
    if rng.random() < 0.1:
        body = body.replace("number-rows-repeated", "number-rows-spanned", 1)
    if rng.random() < 0.05:
        body = body.replace('repeated="', 'repeated="x', 1)
    doctype = BILLION_LAUGHS if rng.random() < 0.05 else ""
    return ods_bytes(body, doctype)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """Damage the bytes: cut them short, flip bytes, or insert NUL and control bytes."""
    if not data:
        return data
    roll = rng.random()
    if roll < 0.4:
        return data[: rng.randrange(0, len(data))]
    if roll < 0.7:
        damaged = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        return bytes(damaged)
    position = rng.randrange(len(data) + 1)
    insert = rng.choice([b"\x00", b"\x00" * 3, b"\x1a", b"\x0b\x0c", b"\xff", b'"', b"\r"])
    return data[:position] + insert + data[position:]


_GENERATORS: list[tuple[str, Callable[[random.Random], bytes]]] = [
    ("csv", _csv),
    ("csv", _csv),
    ("xlsx", _xlsx),
    ("xlsx", _xlsx),
    ("ods", _ods),
    ("html", _html),
    ("random bytes", _random_bytes),
]


# --- running a case through the pipeline -------------------------------------------------


class CaseTimeoutError(BaseException):
    """A case ran past its time limit; a BaseException, so no except clause swallows it."""


def run_case(case: FuzzCase, folder: Path, templates: Sequence[Template], seconds: int = 10) -> str:
    """Import the case's file in a dry run without a client; return the kind of outcome.

    The outcome is "imported" or the name of the ImporterError raised. Any
    other exception propagates, and CaseTimeoutError is raised after `seconds`.
    """
    path = folder / f"case{case.suffix}"
    path.write_bytes(case.data)
    job = FileJob(path=path, results_path=folder / "case.results.xlsx")
    previous = signal.signal(signal.SIGALRM, _time_out)
    signal.alarm(seconds)
    try:
        asyncio.run(
            import_file(
                job,
                settings=Settings(dry_run=True),
                templates=templates,
                client=None,
                notice=lambda _: None,
                show_progress=False,
            )
        )
    except ImporterError as error:
        if not str(error).strip():
            raise AssertionError(f"{type(error).__name__} without a message") from error
        return type(error).__name__
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return "imported"


def _time_out(signal_number: int, frame: object) -> None:
    raise CaseTimeoutError


def describe(case: FuzzCase) -> str:
    """Show a case so it can be rebuilt: its kind, suffix and bytes as a Python literal."""
    shown = case.data if len(case.data) <= 4000 else case.data[:4000]
    cut = "" if len(case.data) <= 4000 else f" (first 4,000 of {len(case.data):,} bytes)"
    return f"kind={case.kind} suffix={case.suffix!r}{cut}\ndata={shown!r}"
