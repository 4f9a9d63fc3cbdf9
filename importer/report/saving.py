"""Save results files so that a crash or a file open in Excel never costs the user them.

Each file is written to a temporary file in the target folder and renamed into
place, so an interrupted write leaves the previous file intact.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from importer.errors import ReportError
from importer.records import FileResult
from importer.report.workbook import build_workbook

# How many "<stem> (n)" names to try when the requested file is locked.
MAX_ALTERNATIVE_NAMES = 99


def default_results_path(input_path: Path) -> Path:
    """Return the results workbook path next to the input: dec-01.csv -> dec-01.results.xlsx.

    The name never equals the input's, so importing a results workbook again
    does not overwrite it.
    """
    return input_path.with_name(f"{input_path.stem}.results.xlsx")


def check_writable(path: Path) -> None:
    """Raise ReportError when the workbook could not be saved at `path`, before anything is sent."""
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".ghl-fulfill-", suffix=".tmp"):
            pass
    except OSError as error:
        raise ReportError(
            path,
            f"the results workbook cannot be saved in this folder ({error.strerror}); "
            "nothing was sent. Choose another place with --results",
        ) from error


def write_results(result: FileResult, path: Path) -> Path:
    """Write the results workbook for one input file and return the path written.

    The workbook is saved to a temporary file in the target folder and renamed
    into place, so an interrupted write leaves the previous file intact. When
    the target cannot be replaced (PermissionError, as Windows raises for a file
    open in Excel), the workbook is saved as "<stem> (2).xlsx", "(3)" and so on.

    Raises ReportError when the folder cannot be written to, the path is a
    folder, or every alternative name is locked or taken.
    """
    if path.is_dir():
        raise ReportError(
            path,
            "this is a folder, not a workbook. Give a file name ending in .xlsx for the results.",
        )

    return save_replacing(path, lambda handle: build_workbook(result).save(handle))


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
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        handle = temporary.open("xb")
    except OSError as error:
        raise _unwritable(path, error) from error

    try:
        with handle:
            _save_durably(write, handle)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _unwritable(path, error) from error
        raise
    return temporary


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
        except PermissionError:
            # Windows raises this for a file open in Excel, Linux for a file marked immutable.
            continue
        except OSError as error:
            raise _unwritable(candidate, error) from error
        return candidate

    raise ReportError(
        path,
        f"cannot save the results workbook because this file and the next "
        f"{MAX_ALTERNATIVE_NAMES} numbered names are locked or taken. "
        "Close the results workbooks that are open in Excel, then try again.",
    )


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
        f"cannot save the results workbook ({reason}). Check that the folder exists "
        "and that you can write to it, or choose another path for the results.",
    )
