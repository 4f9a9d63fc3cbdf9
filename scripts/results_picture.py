"""Draw the pictures of the results workbook that the README shows.

Runs the README's quick-start import of the sample ShipStation export into the
built-in sandbox, in a temporary folder with a ledger of its own, then renders
the workbook with LibreOffice and poppler:

    uv run python scripts/results_picture.py

writes docs/images/results-summary.png and docs/images/results-orders.png.
Needs soffice (LibreOffice) and pdftoppm (poppler-utils) on PATH.

The Summary is drawn as the workbook prints it. The Orders sheet has 17
columns, too many to read on one page. Its picture is drawn from a copy that
hides the columns a clerk rarely needs (location, fulfillment ID, notify, HTTP
status, trace ID, finish time). The copy also hides all but the first few
created orders, so that every status of the sample shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "shipstation_shipments_2026-12-01.csv"
IMAGES = ROOT / "docs" / "images"
RESOLUTION_DPI = 80
COMMAND_SECONDS = 120

HIDDEN_ORDER_COLUMNS = (
    "Location",
    "Fulfillment ID",
    "Notify Customer",
    "HTTP Status",
    "Trace ID",
    "Finished At",
)
CREATED_ORDERS_SHOWN = 3
# openpyxl's paperSize code for ISO A3, wide enough for the Orders columns left.
PAPER_A3 = 8


def main() -> int:
    for program in ("soffice", "pdftoppm"):
        if shutil.which(program) is None:
            print(f"{program} is not on PATH; install LibreOffice and poppler-utils first.")
            return 1

    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="results-picture-") as name:
        folder = Path(name)
        workbook = import_sample(folder)
        draw_first_page(workbook, folder, IMAGES / "results-summary.png")
        orders = orders_copy(workbook, folder / "orders.xlsx")
        draw_first_page(orders, folder, IMAGES / "results-orders.png")

    print(f"Wrote {IMAGES / 'results-summary.png'} and {IMAGES / 'results-orders.png'}")
    return 0


def import_sample(folder: Path) -> Path:
    """Import a copy of the sample into the built-in sandbox; return the results workbook."""
    # A relative path, so that the Summary names the file as the README's command does.
    relative = Path("sample_data") / SAMPLE.name
    source = folder / relative
    source.parent.mkdir()
    shutil.copy(SAMPLE, source)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GHL_")}
    # A ledger of its own: with the user's ledger, a second run would show every order skipped.
    environment["XDG_DATA_HOME"] = str(folder / "data")
    completed = subprocess.run(
        ["uv", "run", "--project", str(ROOT), "ghl-fulfill", "import", str(relative), "--sandbox"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=COMMAND_SECONDS,
    )
    workbook = source.with_name(f"{source.stem}.results.xlsx")
    # The sample has mistakes on purpose, so exit code 1 is the expected outcome.
    if completed.returncode not in (0, 1) or not workbook.is_file():
        sys.exit(
            f"The sample import failed (exit code {completed.returncode}):\n{completed.stderr}"
        )
    return workbook


def orders_copy(workbook: Path, target: Path) -> Path:
    """Save a copy with only the Orders sheet, trimmed to one readable landscape page."""
    book = load_workbook(workbook)
    for name in ("Summary", "Rows"):
        del book[name]
    sheet = book["Orders"]

    headers = [cell.value for cell in sheet[1]]
    for header in HIDDEN_ORDER_COLUMNS:
        letter = get_column_letter(headers.index(header) + 1)
        sheet.column_dimensions[letter].hidden = True

    status_column = headers.index("Status")
    created = 0
    for row in sheet.iter_rows(min_row=2):
        if row[status_column].value == "created":
            created += 1
            sheet.row_dimensions[row[0].row].hidden = created > CREATED_ORDERS_SHOWN

    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER_A3
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    book.save(target)
    return target


def draw_first_page(workbook: Path, folder: Path, picture: Path) -> None:
    """Render the workbook's first printed page to a PNG file."""
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
        timeout=COMMAND_SECONDS,
    )
    pdf = folder / f"{workbook.stem}.pdf"
    stem = folder / picture.stem
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(RESOLUTION_DPI),
            "-singlefile",  # the first page only, named stem.png
            str(pdf),
            str(stem),
        ],
        check=True,
        capture_output=True,
        timeout=COMMAND_SECONDS,
    )
    shutil.move(stem.with_suffix(".png"), picture)


if __name__ == "__main__":
    sys.exit(main())
