"""Write the export fixtures whose exact bytes a text editor would change.

These are the workbooks (XLSX, ODS) and the text files whose encoding is the
point of the test: Windows-1252, UTF-16 with a byte order mark, and UTF-8 with
a byte order mark. The other fixtures in this folder are plain UTF-8 text
written by hand.

Run from the project root after changing a fixture here:

    uv run python tests/data/exports/make_fixtures.py

The output is the same on every run: the workbook timestamps and the dates of
the ZIP members are fixed. The deflated bytes can still differ between zlib
builds, so tests/test_export_shapes.py compares ZIP members, not whole files.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

HEADERS = ("Order ID", "Tracking Number", "Carrier", "SKU", "Qty")

# The export date of every fixture, written as the workbooks' creation and modification time.
EXPORTED_AT = datetime(2026, 12, 1, 8, 0, 0)
_ZIP_DATE = (2026, 12, 1, 8, 0, 0)  # EXPORTED_AT as the date of every ZIP member
_UNIX = 3  # ZipInfo.create_system, fixed so that Windows writes the same headers
# openpyxl writes the time of saving into docProps/core.xml, so it is replaced by EXPORTED_AT.
_MODIFIED_STAMP = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")

ODS_MEDIA_TYPE = "application/vnd.oasis.opendocument.spreadsheet"


# --- text files whose encoding matters ---------------------------------------------


def semicolon_cp1252() -> bytes:
    """Build a CSV as Excel saves it in a European locale: semicolons, Windows-1252, CRLF."""
    lines = [
        "Order ID;Tracking Number;Carrier;SKU;Qty;Ship To;City",
        "67504747652274a1e5395a8c;1Z4F29E80312887642;UPS;TEE-BLK-M;1;Zoë Brontë;Köln",
        "6750e3be0895d1ca59f34cac;794612345670;FedEx;HOODIE-GRY-M;2;José Núñez;Málaga",
        # The en dash is 0x96 in Windows-1252 and a control character in Latin-1.
        "67505658cd749e17a32a6a3a;0073245199861209;Canada Post;CAP-OLV;1;"
        "François Lefèvre \N{EN DASH} Atelier;Montréal",
    ]
    return "\r\n".join(lines).encode("cp1252") + b"\r\n"


def unicode_text_utf16() -> bytes:
    """Build what Excel's "Unicode Text" format saves: UTF-16 LE with a BOM, tabs, CRLF."""
    lines = [
        "Order ID\tTracking Number\tCarrier\tSKU\tQty\tShip To",
        "6750f3e78e6e783563f06d22\t1ZA8V4170392615504\tUPS\tTEE-SND-S\t1\tŁucja Wróbel",
        "6750aaffa4573292f91eef1d\t9400111899223197428497\tUSPS\tCAP-BLK\t3\t山田 太郎",
    ]
    text = "\r\n".join(lines) + "\r\n"
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def bom_pipe() -> bytes:
    """Build a UTF-8 file with a byte order mark whose columns are separated by pipes."""
    lines = [
        "|".join(HEADERS),
        "67506d77cb7a4b927b18099b|1ZA8V4170311820943|UPS Ground|JKT-RAIN-M|1",
        "6750c488f126d3aa8fc8dece|612903147255|FedEx|FLEECE-GRN-M|1",
    ]
    return codecs.BOM_UTF8 + ("\n".join(lines) + "\n").encode("utf-8")


# --- Excel workbooks ---------------------------------------------------------------


def notes_sheet_first() -> bytes:
    """Build a workbook whose first sheet contains notes and whose second contains the data."""
    workbook = _new_workbook()
    notes = workbook.create_sheet("Notes")
    notes.append(["Shipments of Northwind Outfitters, exported 2026-12-01"])
    notes.append(["Keep the Tracking Number column formatted as text."])
    notes.append(["Questions: warehouse@example.com"])

    data = workbook.create_sheet("Shipments")
    _append_rows(
        data,
        [
            HEADERS,
            ("6750d42030bf835deac7b543", "1Z9R06W20374412988", "UPS", "TEE-BLK-L", 1),
            ("675033aecff694abbb01b563", "398841023310", "FedEx", "CAP-OLV", 2),
        ],
    )
    return _workbook_bytes(workbook)


def banner_row() -> bytes:
    """Build a workbook with a title merged across the columns above the header."""
    workbook = _new_workbook()
    sheet = workbook.create_sheet("Shipments")
    _append_rows(
        sheet,
        [
            ("Northwind Outfitters - shipped 2026-12-01",),
            HEADERS,
            ("67505d426997c2595e912211", "1Z9R06W20319067723", "UPS", "HOODIE-NVY-XL", 1),
            ("67506a44b78c08854a846842", "772159386408", "FedEx", "TEE-SND-S", 1),
        ],
    )
    sheet.merge_cells("A1:E1")
    return _workbook_bytes(workbook)


def merged_order_id() -> bytes:
    """Build a workbook where the order ID, tracking and carrier cells span three item rows."""
    workbook = _new_workbook()
    sheet = workbook.create_sheet("Shipments")
    _append_rows(
        sheet,
        [
            HEADERS,
            ("6750674c980fca8dee1dcce8", "1Z6Y84X10355021478", "UPS", "TEE-BLK-M", 1),
            (None, None, None, "TEE-BLK-L", 1),
            (None, None, None, "CAP-OLV", 2),
            ("675041f4a5b5ad3cf5360ba9", "551208761436", "FedEx", "JKT-RAIN-L", 1),
        ],
    )
    for column in "ABC":
        sheet.merge_cells(f"{column}2:{column}4")
    return _workbook_bytes(workbook)


def numeric_tracking() -> bytes:
    """Build a workbook whose tracking numbers are number cells, as Excel stores typed digits."""
    workbook = _new_workbook()
    sheet = workbook.create_sheet("Shipments")
    _append_rows(
        sheet,
        [
            HEADERS,
            ("67502dee64544f9664a371e5", 794612345670, "FedEx", "TEE-BLK-M", 1),
            ("6750048e7d8f4f53f0b0d74b", 612903147255182, "FedEx Ground", "CAP-BLK", 1),
            # Excel keeps 15 significant digits, so this 22-digit USPS number is stored rounded.
            ("675087c3b5ce2126e3ca3947", 9.40011189922320e21, "USPS", "HOODIE-GRY-L", 1),
            # Canada Post's 0073245199861209 stored as a number loses its two leading zeros.
            ("6750c17988120875edcb0c45", 73245199861209, "Canada Post", "TEE-SND-S", 1),
            # Typing Canada Post's 7324519986120917 into Excel stores 7324519986120910,
            # because Excel turns every digit after the 15th into a zero.
            ("675059047709f1a4422a9bfd", 7324519986120910, "Canada Post", "CAP-OLV", 1),
        ],
    )
    for row in range(2, 7):
        sheet.cell(row, 2).number_format = "0"
    return _workbook_bytes(workbook)


def _new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    workbook.properties.creator = "Northwind warehouse"
    workbook.properties.created = EXPORTED_AT
    return workbook


def _append_rows(sheet: Worksheet, rows: Sequence[Sequence[object]]) -> None:
    for row in rows:
        sheet.append(list(row))


def _workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _repack(buffer.getvalue(), _fix_modified_time)


def _fix_modified_time(member: bytes) -> bytes:
    stamp = EXPORTED_AT.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return _MODIFIED_STAMP.sub(rb"\g<1>" + stamp + rb"\g<2>", member)


def _repack(archive: bytes, rewrite: Callable[[bytes], bytes]) -> bytes:
    """Copy a ZIP archive member by member with fixed dates, passing each member through rewrite."""
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive)) as source,
        zipfile.ZipFile(output, "w") as target,
    ):
        for member in source.infolist():
            target.writestr(
                _fixed_info(member.filename, member.compress_type), rewrite(source.read(member))
            )
    return output.getvalue()


def _fixed_info(name: str, compress_type: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = compress_type
    info.create_system = _UNIX
    info.external_attr = 0o644 << 16
    return info


# --- OpenDocument ------------------------------------------------------------------


def shipments_ods() -> bytes:
    """Build an OpenDocument spreadsheet by hand: mimetype, manifest and content.xml only.

    The first order ID spans two item rows (number-rows-spanned and a covered
    cell), one tracking number is a float cell, and each row ends in one empty
    cell repeated with number-columns-repeated, the form ODS writers use for
    runs of empty cells.
    """
    rows = [
        _ods_row(*(_ods_text(header) for header in HEADERS)),
        _ods_row(
            _ods_text("6750c3698e3feb947e0fa5f9", rows_spanned=2),
            _ods_text("1Z5E07W40388134622"),
            _ods_text("UPS"),
            _ods_text("FLEECE-GRN-M"),
            _ods_float(1),
        ),
        _ods_row(
            "<table:covered-table-cell/>",
            _ods_text("1Z5E07W40388134622"),
            _ods_text("UPS"),
            _ods_text("CAP-OLV"),
            _ods_float(1),
        ),
        _ods_row(
            _ods_text("6750b3e236a3305ae95cdff4"),
            _ods_float(482077351906),
            _ods_text("FedEx"),
            _ods_text("TEE-BLK-L"),
            _ods_float(2),
        ),
    ]
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<office:document-content"
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' office:version="1.3">'
        "<office:body><office:spreadsheet>"
        '<table:table table:name="Shipments">'
        '<table:table-column table:number-columns-repeated="1024"/>'
        + "".join(rows)
        + "</table:table></office:spreadsheet></office:body></office:document-content>\n"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MEDIA_TYPE}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>\n"
    )

    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        # The format requires "mimetype" first and uncompressed, so readers find it at offset 30.
        archive.writestr(_fixed_info("mimetype", zipfile.ZIP_STORED), ODS_MEDIA_TYPE)
        archive.writestr(_fixed_info("META-INF/manifest.xml", zipfile.ZIP_DEFLATED), manifest)
        archive.writestr(_fixed_info("content.xml", zipfile.ZIP_DEFLATED), content)
    return output.getvalue()


def _ods_row(*cells: str) -> str:
    # One repeated empty cell pads the row to 1024 columns, none of which may become a header.
    padding = f'<table:table-cell table:number-columns-repeated="{1024 - len(cells)}"/>'
    return "<table:table-row>" + "".join(cells) + padding + "</table:table-row>"


def _ods_text(text: str, *, rows_spanned: int = 1) -> str:
    span = f' table:number-rows-spanned="{rows_spanned}"' if rows_spanned > 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{span}>'
        f"<text:p>{text}</text:p></table:table-cell>"
    )


def _ods_float(value: int) -> str:
    return (
        f'<table:table-cell office:value-type="float" office:value="{value}">'
        f"<text:p>{value}</text:p></table:table-cell>"
    )


# --- writing -----------------------------------------------------------------------

FIXTURES: dict[str, Callable[[], bytes]] = {
    "semicolon_cp1252.csv": semicolon_cp1252,
    "unicode_text_utf16.txt": unicode_text_utf16,
    "bom_pipe.csv": bom_pipe,
    "notes_sheet_first.xlsx": notes_sheet_first,
    "banner_row.xlsx": banner_row,
    "merged_order_id.xlsx": merged_order_id,
    "numeric_tracking.xlsx": numeric_tracking,
    "shipments.ods": shipments_ods,
}


def write_fixtures(folder: Path) -> list[Path]:
    """Write every generated fixture into folder and return the paths written."""
    paths = []
    for name, build in FIXTURES.items():
        path = folder / name
        path.write_bytes(build())
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_fixtures(Path(__file__).parent):
        print(f"wrote {written} ({written.stat().st_size:,} bytes)")
