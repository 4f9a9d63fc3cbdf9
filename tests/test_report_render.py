"""Render a results workbook with LibreOffice and check the text that the PDF shows.

openpyxl reads back what was written, but not whether a spreadsheet program
shows it: a column too narrow shows ##### and a row too low hides its text.
These tests need LibreOffice (soffice) and poppler's pdftotext, and are
skipped where either is missing, as on CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

SAMPLE = (
    Path(__file__).resolve().parents[1] / "sample_data" / "shipstation_shipments_2026-12-01.csv"
)
RENDER_SECONDS = 120

pytestmark = [
    pytest.mark.skipif(
        shutil.which("soffice") is None,
        reason="LibreOffice (soffice) is not installed, so the workbook cannot be rendered",
    ),
    pytest.mark.skipif(
        shutil.which("pdftotext") is None,
        reason="poppler's pdftotext is not installed, so the rendered PDF cannot be read",
    ),
]


def render_pdf(workbook: Path, folder: Path) -> Path:
    """Convert a workbook to PDF with LibreOffice, in a profile of its own."""
    # A profile per run, because two soffice processes on one profile clash.
    profile = (folder / "libreoffice-profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(workbook),
        ],
        check=True,
        capture_output=True,
        timeout=RENDER_SECONDS,
    )
    return folder / f"{workbook.stem}.pdf"


def pdf_text(pdf: Path) -> str:
    """Return the PDF's text line by line as laid out, each run of spaces made one space."""
    completed = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "\n".join(" ".join(line.split()) for line in completed.stdout.splitlines())


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Import the README's sample file into the sandbox; return the workbook and its PDF's text."""
    folder = tmp_path_factory.mktemp("render")
    source = folder / SAMPLE.name
    shutil.copy(SAMPLE, source)
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GHL_")}
    # A ledger of its own, so that no earlier import makes the orders skipped.
    environment["XDG_DATA_HOME"] = str(folder / "data")
    subprocess.run(
        [sys.executable, "-m", "importer", "import", str(source), "--sandbox"],
        cwd=folder,
        env=environment,
        capture_output=True,
        check=False,  # the sample has mistakes on purpose, so the import exits with 1
        timeout=RENDER_SECONDS,
    )
    workbook = folder / f"{source.stem}.results.xlsx"
    return workbook, pdf_text(render_pdf(workbook, folder))


def summary_value(workbook: Path, label: str) -> object:
    book = load_workbook(workbook, read_only=True)
    try:
        rows = book["Summary"].iter_rows(min_row=2, max_col=2, values_only=True)
        return next(value for name, value in rows if name == label)
    finally:
        book.close()


def first_order_advice(workbook: Path) -> str:
    book = load_workbook(workbook, read_only=True)
    try:
        header, *rows = book["Orders"].iter_rows(values_only=True)
        column = header.index("What To Do")
        return next(str(row[column]) for row in rows if row[column])
    finally:
        book.close()


def test_render_shows_file_name(sample_run: tuple[Path, str]) -> None:
    _, text = sample_run
    assert f"Results of importing {SAMPLE.name}" in text


@pytest.mark.parametrize("label", ["Orders created", "Orders rejected", "Orders failed"])
def test_render_shows_count(sample_run: tuple[Path, str], label: str) -> None:
    """Each count shows next to its label, as a number and not as #####."""
    workbook, text = sample_run
    count = summary_value(workbook, label)
    assert re.search(rf"^{label} {count}\b", text, re.MULTILINE)


def test_render_shows_no_hashes(sample_run: tuple[Path, str]) -> None:
    """No number is too wide for its column, which LibreOffice shows as ###."""
    _, text = sample_run
    assert "###" not in text


def test_render_shows_what_to_do(sample_run: tuple[Path, str]) -> None:
    """The start of an order's advice is readable in the PDF (the rest wraps onto more lines)."""
    workbook, text = sample_run
    opening = " ".join(first_order_advice(workbook).split()[:6])
    assert opening in text


def test_render_shows_next_step(sample_run: tuple[Path, str]) -> None:
    workbook, text = sample_run
    opening = " ".join(str(summary_value(workbook, "What to do next")).split()[:6])
    assert opening in text
