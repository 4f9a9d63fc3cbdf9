"""Check the load options and the file itself, and recognize its format from its first bytes."""

from __future__ import annotations

import os
from pathlib import Path

from importer.errors import InputFileError, UsageError
from importer.load.records import CONFIG_FILE, LoadOptions

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# An OpenDocument file stores its uncompressed "mimetype" member first, so the
# media type sits at a fixed offset of the ZIP archive.
_ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
_ODS_MIMETYPE_OFFSET = 30
_SNIFF_BYTES = 8192
_BYTES_PER_MB = 1024 * 1024


# --- options and the file itself ---------------------------------------------------


def check_options(options: LoadOptions) -> None:
    """Raise UsageError naming the option when a forced value cannot work."""
    delimiter = options.delimiter
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise UsageError(
            f"delimiter {delimiter!r} is not valid; set --delimiter (or delimiter in "
            f'{CONFIG_FILE}) to one character other than a quote, such as ";" or "|"'
        )

    if options.encoding is not None:
        _check_encoding(options.encoding)

    if options.header_row is not None and options.header_row < 1:
        raise UsageError(
            f"header row {options.header_row} is not valid; set --header-row (or header_row "
            f"in {CONFIG_FILE}) to a row number from 1 up"
        )

    if isinstance(options.sheet, int) and options.sheet < 1:
        raise UsageError(
            f"sheet {options.sheet} is not valid; set --sheet (or sheet in {CONFIG_FILE}) "
            "to a sheet name or a position from 1 up"
        )


def _check_encoding(encoding: str) -> None:
    try:
        # Decoding one byte, unlike codecs.lookup, also rejects codecs such as
        # base64 that exist but do not turn bytes into text. Python skips the
        # lookup for empty input, so the byte must be there.
        b"x".decode(encoding)
    except UnicodeDecodeError:
        pass  # the codec exists; one byte is too short for UTF-16 and the like
    except LookupError:
        raise UsageError(
            f'encoding "{encoding}" is not a known text encoding; set --encoding '
            f"(or encoding in {CONFIG_FILE}) to a name such as utf-8, utf-16 or cp1252"
        ) from None


def text_option_notes(options: LoadOptions) -> list[str]:
    # A delimiter or encoding set in the settings file applies to every file of a
    # run, so a workbook among them is read with a note instead of being rejected.
    settings = (("delimiter", options.delimiter), ("encoding", options.encoding))
    return [
        f"the {name} setting does not apply to a workbook and was not used"
        for name, value in settings
        if value is not None
    ]


def stat_file(path: Path) -> os.stat_result:
    try:
        state = path.stat()
    except FileNotFoundError as error:
        raise InputFileError(path, "file not found; check the folder and the file name") from error
    except OSError as error:
        raise InputFileError(path, os_error_message(error)) from error

    if path.is_dir():
        raise InputFileError(
            path, "is a folder, not a file; give the path of a CSV or XLSX file inside it"
        )
    return state


def check_size(path: Path, state: os.stat_result, limit: int) -> None:
    if state.st_size <= limit:
        return
    raise InputFileError(
        path,
        f"is {state.st_size / _BYTES_PER_MB:,.1f} MB, more than the limit of "
        f"{limit / _BYTES_PER_MB:,.1f} MB; check that it is the right file, or raise the "
        f"limit with max_file_mb in {CONFIG_FILE}",
    )


def check_unchanged(path: Path, before: os.stat_result) -> None:
    """Raise when the file changed while it was read, as an export still being written does."""
    try:
        after = path.stat()
    except OSError as error:
        raise InputFileError(path, os_error_message(error)) from error

    if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
        return
    raise InputFileError(
        path,
        "is still being written (it changed while it was read); "
        "try again when the export has finished",
    )


def lock_file_note(path: Path) -> list[str]:
    # Excel creates "~$<name>" beside a workbook it has open. The file on disk is
    # still readable, but it lacks whatever the user has not saved yet.
    lock = path.with_name("~$" + path.name)
    if not lock.exists():
        return []
    return [
        f'the workbook seems to be open in Excel (its lock file "{lock.name}" is beside it); '
        "changes not saved in Excel are not part of this import"
    ]


# --- recognizing the file ---------------------------------------------------


def read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError as error:
        raise InputFileError(path, os_error_message(error)) from error

    if not head:
        raise InputFileError(
            path, "the file is empty (0 bytes); export the shipments again and check it has rows"
        )
    return head


def os_error_message(error: OSError) -> str:
    reason = error.strerror or str(error)
    return (
        f"could not be read ({reason}); check that you may open the file "
        "and that no other program has it locked"
    )


def sniff(head: bytes) -> str:
    """Return "ods", "zip", "ole2", "text" or "binary" from the first bytes of a file."""
    if head.startswith(ZIP_MAGIC):
        if head[_ODS_MIMETYPE_OFFSET:].startswith(_ODS_MIMETYPE):
            return "ods"
        return "zip"
    if head.startswith(_OLE2_MAGIC):
        return "ole2"
    if head.startswith(UTF16_BOMS) or b"\x00" not in head:
        return "text"
    return "binary"


# Text has no NUL bytes and few control characters; random or binary data has
# many of both. UTF-16 text without a byte order mark is half NUL bytes. A
# short file is still text with one NUL byte, but with no other control byte.
_MAX_NUL_SHARE = 0.01
_MAX_CONTROL_SHARE = 0.01
_CONTROL_BYTES = bytes(code for code in range(32) if chr(code) not in "\t\n\r\f")


def is_text_with_nul(head: bytes) -> bool:
    """Tell whether the start of a file is text apart from a few NUL bytes.

    A CSV export can carry a stray NUL byte in a cell. The text reader then
    reports its row, where a file of unknown format would get no row at all.
    """
    nul_count = head.count(b"\x00")
    if not nul_count or nul_count > max(len(head) * _MAX_NUL_SHARE, 1):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES)) - nul_count
    return controls <= len(head) * _MAX_CONTROL_SHARE


def renamed_note(path: Path, content: str) -> list[str]:
    return [
        f'read as {content} because that is what the file contains, despite its name "{path.name}"'
    ]
