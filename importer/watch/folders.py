"""The parts of a watched folder: its subfolders, which files are ready, and its lock.

A watched folder contains inbox/, processing/, done/ and failed/. A file dropped
into inbox/ is taken only once it is complete. It must not be a temporary or
lock file, and its size and modification time must stay the same for a settle
period, because a program copying it in (or a network share) writes it in
pieces. A taken file is moved to processing/ first, so that a restarted
watcher finds what it was doing, and to done/ or failed/ at the end.

One watcher works on a folder at a time. Its lock is an operating-system file
lock, which the system releases when the process ends, however it ends.

Links are never followed inside the watched folder, because whoever may drop
files into the inbox could otherwise make the watcher read or move files
elsewhere. An inbox entry that is a symbolic link, or a file with more than
one name (a hard link, which may be a file from another folder), is left
alone. The four subfolders must be real folders: a subfolder that is a link
stops the watcher with a message. A mount point is a real folder, so a share
mounted on inbox/ works. The watched folder itself may be a link, because the
user names it on the command line.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import filelock

from importer.errors import (
    ConfigError,
    RunAbortedError,
)

logger = logging.getLogger("importer.watch")

INBOX = "inbox"
PROCESSING = "processing"
DONE = "done"
FAILED = "failed"
LOCK_FILE_NAME = ".ghl-fulfill-watch.lock"
DEFAULT_SETTLE_SECONDS = 5.0

# Names that programs give files they are still writing, or lock files beside
# an open one: Excel's ~$book.xlsx, LibreOffice's .~lock.book.xlsx#, browsers'
# .crdownload and .part, and copies in progress (.tmp).
_UNFINISHED_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", "#")
_UNFINISHED_PREFIXES = ("~$", ".", "~")
_DOWNLOAD_SUFFIXES = (".part", ".partial", ".crdownload", ".download")
# Log files, and the backups that log rotation numbers (app.log.1): a log written
# into the inbox must not be imported as an export.
_LOG_NAME = re.compile(r"\.log(\.\d+)?$", re.IGNORECASE)
# The maximum length of a file name on most file systems, in bytes.
_MAX_NAME_BYTES = 255
# Windows writes these files into folders it shows, and they are never exports.
_SYSTEM_NAMES = ("thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class WatchFolders:
    """The watched folder and its four subfolders."""

    root: Path
    inbox: Path
    processing: Path
    done: Path
    failed: Path

    @classmethod
    def create(cls, root: Path) -> WatchFolders:
        """Return the folders of `root`, creating the missing ones within it.

        `root` itself must exist: a mistyped path, or a network share that is
        not mounted, would otherwise look like an empty inbox every night.
        """
        if not root.is_dir():
            raise ConfigError(
                f"The watched folder {root} does not exist, or is not a folder. Create it (or "
                "mount the share it is on), then start the watcher again."
            )
        folders = cls(
            root=root,
            inbox=root / INBOX,
            processing=root / PROCESSING,
            done=root / DONE,
            failed=root / FAILED,
        )
        folders.check_not_linked()
        try:
            for folder in folders.subfolders:
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"The watched folder {root} cannot be used: {error.strerror}. Check that it "
                "exists and that this user may create folders in it."
            ) from error
        return folders

    @property
    def subfolders(self) -> tuple[Path, Path, Path, Path]:
        return (self.inbox, self.processing, self.done, self.failed)

    def check_not_linked(self) -> None:
        """Raise ConfigError when a subfolder is a symbolic link.

        Through a linked subfolder the watcher would take files from, or move
        them to, a place outside the watched folder.
        """
        for folder in self.subfolders:
            if folder.is_symlink():
                raise ConfigError(
                    f"{folder} is a link to another place, and the watcher does not follow "
                    f"links. Replace it with a real folder named {folder.name} (a share may be "
                    "mounted on it), or watch the folder the link points to."
                )


def is_candidate(path: Path) -> bool:
    """Tell whether a directory entry may be an export to import, once it has settled.

    Only a regular file with one name qualifies; see `unsafe_entry_reason`.
    """
    return is_export_name(path.name) and unsafe_entry_reason(path) is None


def unsafe_entry_reason(path: Path) -> str | None:
    """Say why a directory entry must not be read or moved; None for a regular file.

    The entry itself is examined (lstat), so a symbolic link is reported as a
    link and never followed. A file with more than one name (a hard link) may
    be a file of another folder that the person dropping it could not read.
    """
    try:
        status = path.lstat()
    except OSError as error:
        return f"could not be examined ({error.strerror})"
    if stat.S_ISLNK(status.st_mode):
        return "is a link"
    if stat.S_ISDIR(status.st_mode):
        return "is a folder"
    if not stat.S_ISREG(status.st_mode):
        return "is not a regular file"
    if status.st_nlink > 1:
        return f"has {status.st_nlink} names (hard links), so it may belong to another folder"
    return None


def is_export_name(name: str) -> bool:
    """Tell whether a name may be an export's: not a temporary, lock, log or system file."""
    lowered = name.lower()
    if name.startswith(_UNFINISHED_PREFIXES) or lowered.endswith(_UNFINISHED_SUFFIXES):
        return False
    if _LOG_NAME.search(name):
        return False
    return lowered not in _SYSTEM_NAMES


def printable(text: str) -> str:
    """Escape control characters and undecodable bytes in a file name, for logs and workbooks.

    A control character could forge a log line. A byte that is not UTF-8
    (Python keeps it in the name as a lone surrogate) cannot be written to a
    UTF-8 log or workbook, so it is shown as \\xNN.
    """
    return "".join(_printable_char(char) for char in text)


def _printable_char(char: str) -> str:
    if "\udc80" <= char <= "\udcff":
        return f"\\x{ord(char) - 0xDC00:02x}"
    if char.isprintable():
        return char
    return repr(char)[1:-1]


def is_open_elsewhere(path: Path) -> bool:
    """Tell whether Excel or LibreOffice has the file open, from the lock file they put beside it.

    Excel names its lock file ~$ and the workbook's name, or ~$ and the name
    without its first two characters for longer names; LibreOffice names its
    lock .~lock.NAME#.
    """
    name = path.name
    owners = (f"~${name}", f"~${name[2:]}", f".~lock.{name}#")
    # Firefox writes an empty NAME beside NAME.part until the download ends.
    downloads = tuple(f"{name}{suffix}" for suffix in _DOWNLOAD_SUFFIXES)
    try:
        return any((path.parent / other).exists() for other in (*owners, *downloads))
    except OSError:
        # A name near the system's length limit has no room for a lock file's longer name.
        return False


def is_open_for_writing(path: Path) -> bool:
    """Tell whether a process on this machine has the file open for writing.

    Only Linux shows this, through /proc, and only for the processes this
    user may inspect: a program writing over a network share from another
    machine is not seen. Elsewhere this returns False, and the settle
    period alone guards against a half-written file.
    """
    fd_folders = Path("/proc")
    if not (fd_folders / "self" / "fdinfo").is_dir():
        return False
    try:
        wanted = path.stat()
    except OSError:
        return False
    own = str(os.getpid())
    file_id = (wanted.st_dev, wanted.st_ino)
    processes = (entry for entry in fd_folders.iterdir() if entry.name.isdigit())
    return any(_process_writes(process, file_id) for process in processes if process.name != own)


def _process_writes(process: Path, file_id: tuple[int, int]) -> bool:
    try:
        descriptors = list(os.scandir(process / "fd"))
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            opened = os.stat(descriptor.path)
        except OSError:
            continue
        if (opened.st_dev, opened.st_ino) == file_id and _written(process, descriptor.name):
            return True
    return False


def _written(process: Path, descriptor: str) -> bool:
    """Tell whether a file descriptor was opened for writing, from its flags in fdinfo."""
    try:
        info = (process / "fdinfo" / descriptor).read_text()
    except OSError:
        return False
    for line in info.splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)
    return False


@dataclass
class SettleTracker:
    """Tell which files have kept their size and modification time for the settle period."""

    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    # Path -> (size, modification time, when that pair was first seen).
    _seen: dict[Path, tuple[int, int, float]] = field(default_factory=dict)

    def settled(self, paths: Iterable[Path], now: float) -> list[Path]:
        """Return the paths unchanged for the settle period, in name order.

        A file that changes starts its settle period again; a file that is gone
        is forgotten.
        """
        ready = []
        present = set()
        for path in sorted(paths):
            stamp = file_stamp(path)
            if stamp is None:
                continue
            present.add(path)
            size, modified = stamp
            earlier = self._seen.get(path)
            if earlier is None or earlier[:2] != (size, modified):
                self._seen[path] = (size, modified, now)
                continue
            if now - earlier[2] >= self.settle_seconds:
                ready.append(path)
        for missing in set(self._seen) - present:
            del self._seen[missing]
        return ready


def file_stamp(path: Path) -> tuple[int, int] | None:
    """Return a file's size and modification time (ns), or None when it cannot be read."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


@dataclass(frozen=True)
class HeldLock:
    """The lock file a watcher holds, and which file it was when the lock was taken."""

    path: Path
    file_id: tuple[int, int]

    def check(self) -> None:
        """Raise RunAbortedError when the lock file was removed or replaced.

        Once the file is gone, a second watcher could lock a new one and work
        on the same files, so the watcher that held the old one must stop.
        """
        try:
            status = self.path.stat()
        except OSError:
            status = None
        if status is not None and (status.st_dev, status.st_ino) == self.file_id:
            return
        raise RunAbortedError(
            f"The watcher's lock file {self.path} was removed or replaced, or the watched "
            "folder was, so another watcher could start on the same files. This watcher "
            "stopped; a file it was importing stays in processing/. Check that no other "
            "watcher works on the folder, then start this one again."
        )


@contextmanager
def folder_lock(folders: WatchFolders) -> Iterator[HeldLock]:
    """Hold the folder's lock while the block runs; stop when another watcher holds it."""
    path = folders.root / LOCK_FILE_NAME
    lock = filelock.FileLock(path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise ConfigError(
            f"Another watcher is already working on {folders.root}. Stop it first, or watch "
            "another folder."
        ) from None
    except OSError as error:
        raise ConfigError(
            f"The watcher's lock file {path} cannot be opened ({error.strerror}). Run the "
            "watcher as the user who owns the folder, or delete the lock file when no watcher "
            "is running."
        ) from error
    try:
        # NOTE: the file is identified by a stat after locking: a file swapped in between
        # the two calls would go unnoticed.
        status = path.stat()
        yield HeldLock(path, (status.st_dev, status.st_ino))
    finally:
        lock.release()


def move_into(path: Path, folder: Path, name: str | None = None) -> Path:
    """Move a file into `folder` under `name` (its own by default), numbered if that is taken.

    The move is a rename of the entry itself, so a file is never copied and
    never half-moved within one disk, and a link would be moved as a link,
    never followed. The file's own name is kept for the user to find it.
    Raises OSError (ELOOP) when the entry or either folder is a symbolic
    link, and ValueError when `name` is not a single file name.
    """
    wanted = name or path.name
    _check_file_name(wanted)
    _check_not_link(path)
    _check_not_link(path.parent)
    _check_not_link(folder)
    number = 1
    target = folder / _numbered_name(wanted, number)
    # lexists: a dangling link in the folder is an entry too, not to be replaced.
    while os.path.lexists(target):
        number += 1
        target = folder / _numbered_name(wanted, number)
    # NOTE: an entry made at `target` between the check above and the rename is replaced.
    os.replace(path, target)
    return target


def _numbered_name(wanted: str, number: int) -> str:
    """Fit `wanted` to the file system, with " (number)" before its suffix from 2 up."""
    ending = _suffix(wanted) if number == 1 else f" ({number}){_suffix(wanted)}"
    name = fitted_name(_stem(wanted), ending)
    _check_file_name(name)
    return name


def _check_file_name(name: str) -> None:
    """Raise ValueError for a name that is not one entry of a folder, such as ../x."""
    separators = {os.sep, os.altsep or os.sep, "/"}
    if name in ("", ".", "..") or "\0" in name or any(sep in name for sep in separators):
        raise ValueError(f"{printable(name)!r} is not a file name")


def _check_not_link(path: Path) -> None:
    if path.is_symlink():
        raise OSError(
            errno.ELOOP, f"{path.name} is a link, and the watcher does not follow links", str(path)
        )


def fitted_name(stem: str, ending: str) -> str:
    """Join a stem and an ending, shortening the stem so that the name fits a file system.

    The length is counted in the file system's bytes (os.fsencode), which also
    encodes a name holding bytes that are not UTF-8.
    """
    room = max(0, _MAX_NAME_BYTES - len(os.fsencode(ending)))
    encoded = os.fsencode(stem)
    if len(encoded) <= room:
        return stem + ending
    # Cut before a UTF-8 continuation byte, never through a character.
    while 0 < room < len(encoded) and encoded[room] & 0xC0 == 0x80:
        room -= 1
    return os.fsdecode(encoded[:room]) + ending


RESULTS_SUFFIX = ".results.xlsx"


def _stem(name: str) -> str:
    return name[: -len(RESULTS_SUFFIX)] if name.endswith(RESULTS_SUFFIX) else Path(name).stem


def _suffix(name: str) -> str:
    return RESULTS_SUFFIX if name.endswith(RESULTS_SUFFIX) else Path(name).suffix
