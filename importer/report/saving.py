"""Save results files so that a crash or a file open in Excel never costs the user them.

Each file is written to a temporary file in the target folder and renamed into
place, so an interrupted write leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import BinaryIO

from importer.errors import ReportError
from importer.records import FileResult
from importer.report.document import dump_result
from importer.report.flat import csv_paths, orders_table, rows_table, summary_table, write_table
from importer.report.workbook import build_workbook

logger = logging.getLogger(__name__)

# Errors of a rename whose target is in use (a mount point, a running program,
# a folder of that name) rather than of the folder, so another name can still work.
_IN_USE_ERRNOS = frozenset({errno.EBUSY, errno.ETXTBSY, errno.EISDIR})

_TEMPORARY_SUFFIX = ".tmp"
# A temporary results file untouched this long belongs to a run that was
# killed: a run still writing a large workbook changes its file every second.
_LEFTOVER_SECONDS = 600
# The temporary files being written now, for remove_unfinished_files.
_unfinished: set[Path] = set()

# How many "<stem> (n)" names to try when the requested file is locked.
MAX_ALTERNATIVE_NAMES = 99


# The results formats, by the suffix of the results path.
RESULTS_FORMATS = ("xlsx", "csv", "json")


def default_results_path(input_path: Path, results_format: str = "xlsx") -> Path:
    """Return the results path next to the input: dec-01.csv -> dec-01.results.xlsx.

    The name never equals the input's, so importing a results file again does
    not overwrite it. For CSV the path names no file itself: its stem starts
    the names of the three CSV files (see `csv_paths`).
    """
    return input_path.with_name(f"{input_path.stem}.results.{results_format}")


def check_writable(path: Path) -> None:
    """Raise ReportError when the workbook could not be saved at `path`, before anything is sent."""
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".ghl-fulfill-", suffix=".tmp"):
            pass
    except OSError as error:
        raise ReportError(
            path,
            f"the results cannot be saved in this folder ({error.strerror}); "
            "nothing was sent. Choose another place with --results",
        ) from error


def write_results(result: FileResult, path: Path) -> Path:
    """Write the results of one input file in the format the path's suffix names.

    A path ending in .json gets the JSON document, one ending in .csv the three
    CSV files named by `csv_paths`, and any other path the workbook. Returns
    the path written: for CSV, the summary file's.

    Each file is saved to a temporary file in the target folder and renamed
    into place, so an interrupted write leaves the previous file intact. When
    the target cannot be replaced (PermissionError, as Windows raises for a file
    open in Excel), the file is saved as "<stem> (2).xlsx", "(3)" and so on.

    Raises ReportError when the folder cannot be written to, the path is a
    folder, or every alternative name is locked or taken.
    """
    if path.is_dir():
        raise ReportError(
            path,
            "this is a folder, not a file. Give a file name ending in .xlsx, .csv or .json "
            "for the results.",
        )

    suffix = path.suffix.lower()
    if suffix == ".json":
        return save_replacing(path, lambda handle: _write_document(handle, result))
    if suffix == ".csv":
        return write_csv_results(result, path)
    return save_replacing(path, lambda handle: build_workbook(result).save(handle))


def write_csv_results(result: FileResult, path: Path) -> Path:
    """Write the summary, orders and rows CSV files and return the summary file's path.

    The summary is written last, so that it can name a file that was saved
    under a "(n)" name because the usual one was locked.
    """
    summary_path, orders_path, rows_path = csv_paths(path)
    moved: list[str] = []
    for wanted, table in ((orders_path, orders_table(result)), (rows_path, rows_table(result))):
        written = save_replacing(wanted, partial(write_table, table=table))
        if written != wanted:
            logger.warning("%s is locked, so these results were saved as %s.", wanted, written)
            moved.append(f"{wanted.name} is locked, so these results were saved as {written.name}")

    return save_replacing(
        summary_path, lambda handle: write_table(handle, summary_table(result, moved))
    )


def _write_document(handle: BinaryIO, result: FileResult) -> None:
    handle.write(dump_result(result, indent=2))


def save_replacing(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Write a results file through `write` and return the path it was saved at.

    The content goes to a new hidden file next to `path`, which is then renamed
    over `path`, or to the first free "<stem> (n)" name when `path` is locked.
    """
    temporary = _save_temporary(path, write)
    try:
        return _move_into_place(temporary, path)
    finally:
        # After a successful move the temporary file no longer exists.
        temporary.unlink(missing_ok=True)


def _save_temporary(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Save the content to a new hidden file next to path and return its path.

    The file is opened before anything is built: a write-only workbook that is
    built but never saved leaves openpyxl's row writers open.
    """
    _remove_leftovers(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}{_TEMPORARY_SUFFIX}")
    try:
        handle = temporary.open("xb")
    except OSError as error:
        raise _unwritable(path, error) from error

    _unfinished.add(temporary)
    try:
        with handle:
            _save_durably(write, handle)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _unwritable(path, error) from error
        raise
    finally:
        _unfinished.discard(temporary)
    return temporary


def remove_unfinished_files() -> None:
    """Delete the temporary files of results still being written, before a forced exit."""
    for temporary in list(_unfinished):
        with contextlib.suppress(OSError):
            temporary.unlink()


def _remove_leftovers(path: Path) -> None:
    """Delete the temporary files that a killed run left beside path, once they are old."""
    cutoff = time.time() - _LEFTOVER_SECONDS
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*{_TEMPORARY_SUFFIX}"):
        with contextlib.suppress(OSError):
            if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                leftover.unlink()


def _save_durably(write: Callable[[BinaryIO], None], handle: BinaryIO) -> None:
    write(handle)
    handle.flush()
    # Without fsync, a crash right after the rename can leave an empty file on some file systems.
    os.fsync(handle.fileno())


def _move_into_place(temporary: Path, path: Path) -> Path:
    """Rename the saved file to path, or to the first free "(n)" name when path is locked."""
    for candidate in _candidate_paths(path):
        try:
            os.replace(temporary, candidate)
        except OSError as error:
            if not _target_in_use(error):
                raise _unwritable(candidate, error) from error
            continue
        return candidate

    raise ReportError(
        path,
        f"cannot save the results because this file and the next "
        f"{MAX_ALTERNATIVE_NAMES} numbered names are locked or taken. "
        "Close the results files that are open in Excel or another program, then try again.",
    )


def _target_in_use(error: OSError) -> bool:
    # PermissionError is what Windows raises for a file open in Excel, and Linux
    # for a file marked immutable.
    return isinstance(error, PermissionError) or error.errno in _IN_USE_ERRNOS


def _candidate_paths(path: Path) -> Iterator[Path]:
    """Yield path, then each "<stem> (n)" name not already taken by an earlier run."""
    yield path
    for number in range(2, MAX_ALTERNATIVE_NAMES + 2):
        alternative = path.with_name(f"{path.stem} ({number}){path.suffix}")
        # An existing alternative may hold results the user still needs.
        if not alternative.exists():
            yield alternative


def _unwritable(path: Path, error: OSError) -> ReportError:
    reason = error.strerror or str(error)
    return ReportError(
        path,
        f"cannot save the results ({reason}). Check that the folder exists "
        "and that you can write to it, or choose another path for the results.",
    )
