"""Check a workbook's ZIP archive before the workbook reader unpacks it.

calamine, the workbook reader, has no limits of its own: it unpacks what the
archive holds, and it builds each sheet as a grid of rows times columns at 32
bytes a cell. A ZIP bomb, or a sheet with one cell at A1 and one at
XFD1048576, would take all memory and stop the process (calamine aborts when
an allocation fails, which no except clause catches). So every member is
unpacked here first, in chunks and counting bytes, and each worksheet's
extent is measured from its cell references, before calamine reads the file.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from importer.errors import InputFileError
from importer.load.limits import (
    BYTES_PER_MB,
    raise_with,
    too_many_columns,
    too_many_rows,
    too_many_sheet_cells,
)
from importer.load.records import LoadOptions

_CHUNK_BYTES = 4 * 1024 * 1024
# A member that unpacks to less than this cannot exhaust memory whatever its
# compression ratio, and small XML members of real workbooks (styles, a sheet
# of a few empty rows) often compress more than 100 to 1.
RATIO_FLOOR_BYTES = 1024 * 1024
# Excel and LibreOffice never write a document type declaration, and one is
# what entity expansion attacks (billion laughs, external entities) need.
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
# The byte order marks of UTF-16 and UTF-32, big and little endian.
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_XML_SUFFIXES = (".xml", ".rels", ".vml")
# A start tag of a row or a cell: the reference when it has one, else an
# empty match. The reference is searched for up to the tag's end.
_ROW_TAG = re.compile(rb"<(?:[\w.-]+:)?row(?:\s[^>]*?\br=[\"'](\d+)|[\s>/])")
_CELL_TAG = re.compile(rb"<(?:[\w.-]+:)?c(?:\s[^>]*?\br=[\"']([A-Za-z]*)(\d*)|[\s>/])")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass
class SheetExtent:
    """How far a sheet's cells reach: what the reader's grid of the sheet spans."""

    name: str
    rows: int = 0  # the last row number reached
    columns: int = 0  # the last column number reached
    row_of_last_column: int = 0  # a row with a cell in that last column


def check_archive(path: Path, data: bytes, options: LoadOptions, *, xlsx: bool) -> None:
    """Raise InputFileError when the archive or an Excel worksheet in it goes over a load limit.

    The sheets of an OpenDocument file are measured as their merges are read
    (importer.load.workbooks). ZIP errors (a damaged archive, an encrypted
    member, an unknown compression method) propagate for the caller to word.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        # ZipInfo.is_dir raises IndexError for a member with an empty name.
        members = [info for info in archive.infolist() if not info.filename.endswith("/")]
        check_declared_sizes(path, members, len(data), options)

        # The declared sizes are checked, so reading xl/workbook.xml whole is bounded.
        worksheets = worksheet_members(archive) if xlsx else {}
        unpacked = 0
        for info in members:
            sheet = worksheets.get(info.filename)
            unpacked += _check_member(path, archive, info, options, unpacked, sheet)
        _check_ratio(path, unpacked, len(data), options, None)


def check_declared_sizes(
    path: Path, members: list[zipfile.ZipInfo], packed: int, options: LoadOptions
) -> None:
    """Check the sizes the central directory declares, before anything is unpacked."""
    declared = sum(info.file_size for info in members)
    if declared > options.max_uncompressed_bytes:
        raise _too_large_unpacked(path, declared, options)
    for info in members:
        _check_ratio(path, info.file_size, info.compress_size, options, info.filename)
    _check_ratio(path, declared, packed, options, None)


def _check_member(
    path: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    options: LoadOptions,
    unpacked_before: int,
    sheet: str | None,
) -> int:
    """Unpack one member in chunks, counting its bytes; return its unpacked size.

    zipfile stops a member at the size the central directory declares and then
    raises BadZipFile on the CRC, so a member whose declared size is false
    never unpacks further than that. The counts are checked all the same.
    """
    scan = _XmlScan(info.filename, sheet) if _is_xml(info.filename) else None
    size = 0
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            size += len(chunk)
            if unpacked_before + size > options.max_uncompressed_bytes:
                raise _too_large_unpacked(path, unpacked_before + size, options)
            _check_ratio(path, size, info.compress_size, options, info.filename)
            if scan is not None:
                scan.feed(path, chunk)
    if scan is not None:
        scan.finish(path)
        if scan.sheet is not None:
            extent = scan.sheet.extent()
            if scan.sheet.cells_without_reference:
                extent = _walk_sheet(archive, info, scan.sheet.name)
            check_extent(path, extent, options)
    return size


def _is_xml(name: str) -> bool:
    return name.lower().endswith(_XML_SUFFIXES)


def _check_ratio(
    path: Path, unpacked: int, packed: int, options: LoadOptions, member: str | None
) -> None:
    if unpacked <= RATIO_FLOOR_BYTES or unpacked <= options.max_compression_ratio * packed:
        return
    what = f'its part "{member}"' if member is not None else "it"
    ratio = unpacked / max(packed, 1)
    raise InputFileError(
        path,
        f"{what} unpacks to {ratio:,.0f} times its packed size, more than the limit of "
        f"{options.max_compression_ratio:,} times, as a ZIP bomb does; "
        f"{raise_with('max_compression_ratio')}",
    )


def _too_large_unpacked(path: Path, size: int, options: LoadOptions) -> InputFileError:
    limit_mb = options.max_uncompressed_bytes / BYTES_PER_MB
    return InputFileError(
        path,
        f"unpacks to more than {size / BYTES_PER_MB:,.1f} MB, more than the limit of "
        f"{limit_mb:,.1f} MB for a workbook's contents; {raise_with('max_uncompressed_mb')}",
    )


def check_extent(path: Path, extent: SheetExtent, options: LoadOptions) -> None:
    """Raise InputFileError when a sheet reaches past the row, column or cell limit."""
    if extent.rows > options.max_rows:
        raise too_many_rows(path, extent.rows, options.max_rows, extent.name)
    if extent.columns > options.max_columns:
        raise too_many_columns(
            path, extent.columns, options.max_columns, extent.row_of_last_column, extent.name
        )
    if extent.rows * extent.columns > options.max_sheet_cells:
        raise too_many_sheet_cells(path, extent, options.max_sheet_cells)


class _XmlScan:
    """Scan an XML member chunk by chunk for a DTD and, in a worksheet, for cell references.

    Each chunk is scanned up to its last ">", and the rest is kept for the next
    one, so no start tag is ever cut in two.
    """

    def __init__(self, member: str, sheet: str | None) -> None:
        self.member = member
        self.sheet = _SheetScan(sheet) if sheet is not None else None
        self._rest = bytearray()
        self._started = False

    def feed(self, path: Path, chunk: bytes) -> None:
        if not self._started and chunk:
            self._started = True
            self._check_utf8(path, chunk)
        end = chunk.rfind(b">")
        if end < 0:
            self._rest += chunk
            return
        segment = bytes(self._rest) + chunk[: end + 1]
        self._rest = bytearray(chunk[end + 1 :])
        self._scan(path, segment)

    def finish(self, path: Path) -> None:
        self._scan(path, bytes(self._rest))
        self._rest = bytearray()

    def _check_utf8(self, path: Path, start: bytes) -> None:
        # In UTF-16 or UTF-32 a declaration such as <!DOCTYPE has NUL bytes between
        # its letters, so the search for it would miss it.
        if start.startswith(_WIDE_BOMS) or b"\0" in start[:4]:
            raise InputFileError(
                path,
                f'its part "{self.member}" is XML in UTF-16 or UTF-32, which Excel and '
                "LibreOffice never write; the file was not read. Open the original in Excel "
                "and save it again as .xlsx",
            )

    def _scan(self, path: Path, segment: bytes) -> None:
        if _DOCTYPE.search(segment):
            raise InputFileError(
                path,
                f'its part "{self.member}" contains an XML document type declaration '
                "(<!DOCTYPE or <!ENTITY), which Excel and LibreOffice never write and which "
                "attacks on XML readers use; the file was not read. Open the original in "
                "Excel and save it again as .xlsx",
            )
        if self.sheet is not None:
            self.sheet.scan(segment)


class _SheetScan:
    """The largest row and column references of a worksheet's XML, found with regexes.

    Reading 1.2 MB of sheet XML this way took 15 milliseconds on the
    development machine, and an XML parser 70. So the parser is used only for
    a sheet whose cells lack references (see _walk_sheet).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.last_row = 0
        self.rows_without_reference = 0
        self.cells_without_reference = False
        self.last_column = 0
        self.row_of_last_column = 0

    def scan(self, segment: bytes) -> None:
        rows = _ROW_TAG.findall(segment)
        numbers = [int(number) for number in rows if number]
        self.rows_without_reference += len(rows) - len(numbers)
        self.last_row = max(self.last_row, *numbers) if numbers else self.last_row

        references = _CELL_TAG.findall(segment)
        letters = {column for column, _ in references}
        self.cells_without_reference |= b"" in letters
        widest = max(letters, key=lambda text: (len(text), text.upper()), default=b"")
        column = column_number(widest.decode("ascii")) if widest else 0
        if column > self.last_column:
            self.last_column = column
            self.row_of_last_column = _row_of(segment, widest)
        # The reader places a cell by its own reference, whatever row it sits in.
        digits = {row.lstrip(b"0") for _, row in references}
        highest = max(digits, key=lambda text: (len(text), text), default=b"")
        self.last_row = max(self.last_row, int(highest or b"0"))

    def extent(self) -> SheetExtent:
        # A row without a reference follows the one before it, so at worst
        # each one adds a row past the largest reference.
        rows = self.last_row + self.rows_without_reference
        return SheetExtent(self.name, rows, self.last_column, self.row_of_last_column)


def _row_of(segment: bytes, letters: bytes) -> int:
    found = re.search(rb"\br=[\"']" + re.escape(letters) + rb"(\d+)", segment)
    return int(found.group(1)) if found else 0


def column_number(letters: str) -> int:
    """Turn column letters (A, Z, AA, XFD) into the column's number, counted from 1."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _walk_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> SheetExtent:
    """Measure a sheet whose cells lack references by parsing it, as calamine places them.

    A row or cell without a reference comes right after the one before it.
    The member's size was checked before, so parsing it is bounded.
    """
    extent = SheetExtent(name)
    row = column = 0
    with archive.open(info) as stream:
        for event, element in SafeElementTree.iterparse(stream, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start" and tag == "row":
                row = _row_reference(element.get("r")) or row + 1
                column = 0
            elif event == "start" and tag == "c":
                # The reader places a cell by its own reference, whatever row it sits in.
                reference = element.get("r") or ""
                letters = reference.rstrip("0123456789")
                column = column_number(letters) or column + 1
                cell_row = _row_reference(reference[len(letters) :]) or row
                extent.rows = max(extent.rows, cell_row)
                if column > extent.columns:
                    extent.columns, extent.row_of_last_column = column, cell_row
            elif event == "end" and tag in ("row", "c"):
                element.clear()
    return extent


def _row_reference(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def worksheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Map the ZIP member of each worksheet to its sheet name, through xl/workbook.xml.

    Members under xl/worksheets/ that the workbook does not name are included
    under their member name, because a reader may still open them.
    """
    members = {
        name: name
        for name in archive.namelist()
        if name.startswith("xl/worksheets/") and _is_xml(name)
    }
    for sheet_name, member in sheet_targets(archive).items():
        members[member] = sheet_name
    return members


def sheet_targets(archive: zipfile.ZipFile) -> dict[str, str]:
    """Map each sheet name of xl/workbook.xml to its ZIP member, through the relationships.

    Returns an empty mapping when either file is missing or is not valid XML;
    the workbook reader then reports the damage.
    """
    try:
        workbook = SafeElementTree.fromstring(archive.read("xl/workbook.xml"))
        relations = SafeElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, DefusedXmlException):
        return {}

    targets = {
        relation.get("Id"): relation.get("Target", "")
        for relation in relations.iter(_PACKAGE_RELATIONSHIPS + "Relationship")
    }
    members = {}
    for sheet in workbook.iter(_MAIN + "sheet"):
        target = targets.get(sheet.get(_RELATIONSHIPS + "id"), "")
        name = sheet.get("name")
        if not target or name is None:
            continue
        if target.startswith("/"):
            members[name] = target.lstrip("/")
        else:
            members[name] = posixpath.normpath(posixpath.join("xl", target))
    return members
