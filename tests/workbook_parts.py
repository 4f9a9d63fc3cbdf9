"""Build XLSX and ODS files part by part, so tests can put hostile XML where a reader looks."""

from __future__ import annotations

import io
import zipfile

XLSX_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

CONTENT_TYPES = (
    _XML_DECLARATION
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
PACKAGE_RELATIONSHIPS = (
    _XML_DECLARATION + f'<Relationships xmlns="{_PACKAGE}">'
    f'<Relationship Id="rId1" Type="{_OFFICE}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    _XML_DECLARATION + f'<workbook xmlns="{XLSX_MAIN}" xmlns:r="{_OFFICE}"><sheets>'
    '<sheet name="Shipments" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELATIONSHIPS = (
    _XML_DECLARATION + f'<Relationships xmlns="{_PACKAGE}">'
    f'<Relationship Id="rId1" Type="{_OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_OFFICE}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)

# Nine levels of ten references each: expanded, the last entity is 10**9 "lol"s.
BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{level} "' + f"&lol{level - 1 if level > 1 else ''};" * 10 + '">'
        for level in range(1, 10)
    )
    + "]>"
)
PASSWD_ENTITY = '<!DOCTYPE sst [<!ENTITY passwd SYSTEM "file:///etc/passwd">]>'


def inline_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(rows: str, doctype: str = "") -> str:
    """A worksheet whose sheetData is `rows`, the <row> elements as XML text."""
    return (
        _XML_DECLARATION + doctype + f'<worksheet xmlns="{XLSX_MAIN}"><sheetData>'
        f"{rows}</sheetData></worksheet>"
    )


def shared_strings_xml(texts: list[str], doctype: str = "") -> str:
    items = "".join(f"<si><t>{text}</t></si>" for text in texts)
    return (
        _XML_DECLARATION + doctype + f'<sst xmlns="{XLSX_MAIN}" count="{len(texts)}" '
        f'uniqueCount="{len(texts)}">{items}</sst>'
    )


def xlsx_bytes(
    sheet: str,
    shared_strings: str | None = None,
    extra: dict[str, bytes] | None = None,
    workbook: str = WORKBOOK,
) -> bytes:
    """A one-sheet workbook named "Shipments" with the given worksheet and shared strings XML."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELATIONSHIPS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELATIONSHIPS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared_strings or shared_strings_xml([]))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


_ODS_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)
ODS_MEDIA_TYPE = "application/vnd.oasis.opendocument.spreadsheet"


def ods_cell(text: str | None, repeated: int = 1) -> str:
    repeat = f' table:number-columns-repeated="{repeated}"' if repeated > 1 else ""
    if text is None:
        return f"<table:table-cell{repeat}/>"
    return (
        f'<table:table-cell office:value-type="string"{repeat}><text:p>{text}</text:p>'
        "</table:table-cell>"
    )


def ods_row(cells: str, repeated: int = 1) -> str:
    repeat = f' table:number-rows-repeated="{repeated}"' if repeated > 1 else ""
    return f"<table:table-row{repeat}>{cells}</table:table-row>"


def ods_bytes(rows: str, doctype: str = "") -> bytes:
    """An OpenDocument spreadsheet with one sheet, "Shipments", whose rows are `rows`."""
    content = (
        _XML_DECLARATION + doctype + f"<office:document-content {_ODS_NAMESPACES} "
        'office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="Shipments">{rows}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        _XML_DECLARATION + '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MEDIA_TYPE}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # OpenDocument requires the media type first and stored, so readers can sniff it.
        archive.writestr("mimetype", ODS_MEDIA_TYPE, zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
