"""The parts of a watched folder: its subfolders, which files are ready, and its lock.

A watched folder contains inbox/, processing/, done/ and failed/. A file dropped
into inbox/ is taken only once it is complete. It must not be a temporary or
lock file, and its size and modification time must stay the same for a settle
period, because a program copying it in (or a network share) writes it in pieces. A taken file
is moved to processing/ first, so that a restarted watcher finds what it was
doing, and to done/ or failed/ at the end.

One watcher works on a folder at a time. Its lock is an operating-system file
lock, which the system releases when the process ends, however it ends.

NOTE: the command that runs a watcher on these parts is not built yet.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import filelock

from importer.errors import ConfigError

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
        """Return the folders of `root`, creating the missing ones."""
        folders = cls(
            root=root,
            inbox=root / INBOX,
            processing=root / PROCESSING,
            done=root / DONE,
            failed=root / FAILED,
        )
        try:
            for folder in (folders.inbox, folders.processing, folders.done, folders.failed):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"The watched folder {root} cannot be used: {error.strerror}. Check that it "
                "exists and that this user may create folders in it."
            ) from error
        return folders


def is_candidate(path: Path) -> bool:
    """Tell whether a directory entry may be an export to import, once it has settled.

    Symbolic links are never followed: a link could lead outside the folder.
    """
    name = path.name
    if name.startswith(_UNFINISHED_PREFIXES) or name.lower().endswith(_UNFINISHED_SUFFIXES):
        return False
    if path.is_symlink():
        return False
    return path.is_file()


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
            stamp = _stamp(path)
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


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


@contextmanager
def folder_lock(folders: WatchFolders) -> Iterator[None]:
    """Hold the folder's lock while the block runs; stop when another watcher holds it."""
    lock = filelock.FileLock(folders.root / LOCK_FILE_NAME, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise ConfigError(
            f"Another watcher is already working on {folders.root}. Stop it first, or watch "
            "another folder."
        ) from None
    try:
        yield
    finally:
        lock.release()


def move_into(path: Path, folder: Path) -> Path:
    """Move a file into `folder` under its own name, or a numbered one if that is taken.

    The move is a rename, so a file is never copied and never half-moved
    within one disk. The file's own name is kept for the user to find it.
    """
    target = folder / path.name
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{path.stem} ({number}){path.suffix}"
    os.replace(path, target)
    return target
