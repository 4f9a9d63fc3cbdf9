"""Malformed files through the whole import in a dry run: a message or a result, never a crash.

Hypothesis picks the seeds, and the generator of tests/fuzz_cases.py makes
each file from random.Random(seed). Drawing every choice through Hypothesis
would let a failing file shrink, but it costs 10 ms a case, half the time
budget of this test. So a failure prints the seed and the file's bytes instead. The run
is derandomized, so CI sees the same cases every time. benchmarks/fuzz.py runs
the same generator over many more seeds.
"""

from __future__ import annotations

import io
import random
import time
import zipfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.mapping import load_templates
from tests.fuzz_cases import FuzzCase, describe, generate_case, run_case
from tests.workbook_parts import sheet_xml, xlsx_bytes

CASES = 2_000
# Generous for a file of a few kilobytes; a case past it is taken for a hang.
CASE_SECONDS = 10


def test_fuzz_pipeline_ends_cleanly(tmp_path: Path) -> None:
    """Every generated file ends in an ImporterError with a message or in a file result."""
    templates = load_templates()
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=CASES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.integers(min_value=0, max_value=2**32 - 1))
    def run(seed: int) -> None:
        case = generate_case(random.Random(seed))
        try:
            outcomes[run_case(case, tmp_path, templates, CASE_SECONDS)] += 1
        except BaseException as error:
            raise AssertionError(
                f"seed {seed}: {type(error).__name__}: {error}\n{describe(case)}"
            ) from error

    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started

    print(f"\nfuzz: {sum(outcomes.values()):,} cases in {elapsed:.1f} s: {dict(outcomes)}")
    assert sum(outcomes.values()) >= CASES


def test_formula_without_reference_read(tmp_path: Path) -> None:
    """A formula cell without an r attribute once crashed the formula check."""
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Order ID</t></is></c></row>'
        '<row r="2"><c><f>SUM(A1:A2)</f></c></row>'
    )
    case = FuzzCase("xlsx", ".xlsx", xlsx_bytes(sheet_xml(rows)))

    outcome = run_case(case, tmp_path, load_templates())

    assert outcome in {"imported", "MissingColumnsError", "InputFileError"}


def test_cell_reference_far_below_row(tmp_path: Path) -> None:
    """A cell A99999999999 inside row 9 is measured by its own reference, not its row's.

    The workbook reader places the cell by its reference; measuring by the row
    let it allocate 77 GB and abort the process.
    """
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Order ID</t></is></c></row>'
        '<row r="9"><c r="A99999999999" t="e"><v>#DIV/0!</v></c></row>'
    )
    case = FuzzCase("xlsx", ".xlsx", xlsx_bytes(sheet_xml(rows)))

    outcome = run_case(case, tmp_path, load_templates())

    assert outcome == "InputFileError"


def test_far_reference_among_cells_without(tmp_path: Path) -> None:
    """A sheet measured by parsing (some cells lack r) still places a cell by its reference."""
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Order ID</t></is></c></row>'
        '<row><c t="inlineStr"><is><t>x</t></is></c></row>'
        '<row r="5"><c r="A99999999999" t="e"><v>#DIV/0!</v></c></row>'
    )
    case = FuzzCase("xlsx", ".xlsx", xlsx_bytes(sheet_xml(rows)))

    outcome = run_case(case, tmp_path, load_templates())

    assert outcome == "InputFileError"


def test_member_with_empty_name(tmp_path: Path) -> None:
    """A ZIP member with an empty name once raised IndexError in zipfile's is_dir."""
    buffer = io.BytesIO(xlsx_bytes(sheet_xml("")))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(zipfile.ZipInfo(""), b"x")
    case = FuzzCase("xlsx", ".xlsx", buffer.getvalue())

    outcome = run_case(case, tmp_path, load_templates())

    assert outcome == "InputFileError"
