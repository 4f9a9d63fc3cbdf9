"""The parts of a watched folder: its subfolders, which files are ready, and its lock.

A watched folder contains inbox/, processing/, done/ and failed/. A file dropped
into inbox/ is taken only once it is complete. It must not be a temporary or
lock file, and its size and modification time must stay the same for a settle
period, because a program copying it in (or a network share) writes it in pieces. A taken file
is moved to processing/ first, so that a restarted watcher finds what it was
doing, and to done/ or failed/ at the end.

One watcher works on a folder at a time. Its lock is an operating-system file
lock, which the system releases when the process ends, however it ends.

The watcher imports one file at a time. Before a file is imported, the hash
of its content is looked up in the ledger: content that an earlier file
imported in full is not imported again, whatever its name. A file stopped part
way (SIGTERM, Ctrl-C, a refused token) stays in processing/ and is imported
again when the watcher next starts. A file deferred for the daily request
limit is imported again an hour later, and one stopped because HighLevel was
out of reach 15 minutes later. The ledger then sends only what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import filelock

from importer.errors import (
    AuthenticationError,
    ConfigError,
    InputFileError,
    LocationAccessError,
    ReportError,
)
from importer.ledger import (
    HEARTBEAT_SECONDS,
    Ledger,
    LedgerError,
    WatchedContent,
    file_hash,
)
from importer.records import FileResult, OrderStatus
from importer.report import write_results
from importer.stopping import StopRequest
from importer.submit import LedgerRun

logger = logging.getLogger(__name__)

INBOX = "inbox"
PROCESSING = "processing"
DONE = "done"
FAILED = "failed"
LOCK_FILE_NAME = ".ghl-fulfill-watch.lock"
DEFAULT_SETTLE_SECONDS = 5.0
DEFAULT_POLL_SECONDS = 5.0
# A file deferred for the daily request limit is tried again after this long.
# Each try costs a request or two per location until the day's count resets.
DEFERRED_RETRY_SECONDS = 3600.0

# Names that programs give files they are still writing, or lock files beside
# an open one: Excel's ~$book.xlsx, LibreOffice's .~lock.book.xlsx#, browsers'
# .crdownload and .part, and copies in progress (.tmp).
_UNFINISHED_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", "#")
_UNFINISHED_PREFIXES = ("~$", ".", "~")
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
    if not is_export_name(path.name):
        return False
    if path.is_symlink():
        return False
    return path.is_file()


def is_export_name(name: str) -> bool:
    """Tell whether a name may be an export's: not a temporary, lock or system file."""
    lowered = name.lower()
    if name.startswith(_UNFINISHED_PREFIXES) or lowered.endswith(_UNFINISHED_SUFFIXES):
        return False
    return lowered not in _SYSTEM_NAMES


def is_open_elsewhere(path: Path) -> bool:
    """Tell whether Excel or LibreOffice has the file open, from the lock file they put beside it.

    Excel names its lock file ~$ and the workbook's name, or ~$ and the name
    without its first two characters for longer names; LibreOffice names its
    lock .~lock.NAME#.
    """
    name = path.name
    owners = (f"~${name}", f"~${name[2:]}", f".~lock.{name}#")
    return any((path.parent / owner).exists() for owner in owners)


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


def move_into(path: Path, folder: Path, name: str | None = None) -> Path:
    """Move a file into `folder` under `name` (its own by default), numbered if that is taken.

    The move is a rename, so a file is never copied and never half-moved
    within one disk. The file's own name is kept for the user to find it.
    """
    wanted = Path(name or path.name)
    target = folder / wanted.name
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{_stem(wanted.name)} ({number}){_suffix(wanted.name)}"
    os.replace(path, target)
    return target


_RESULTS_SUFFIX = ".results.xlsx"


def _stem(name: str) -> str:
    return name[: -len(_RESULTS_SUFFIX)] if name.endswith(_RESULTS_SUFFIX) else Path(name).stem


def _suffix(name: str) -> str:
    return _RESULTS_SUFFIX if name.endswith(_RESULTS_SUFFIX) else Path(name).suffix


# --- the watcher ------------------------------------------------------------------------


class Destination(StrEnum):
    """The folder a taken file ends in."""

    DONE = DONE
    FAILED = FAILED
    KEPT = PROCESSING  # stopped part way: imported again later


@dataclass
class WatchedFile:
    """The outcome of one file the watcher took."""

    name: str  # its name in the inbox
    path: Path  # where it is now
    destination: Destination
    results_path: Path | None = None
    result: FileResult | None = None
    # Why the file could not be imported, or why it stays in processing/.
    problem: str = ""
    unreadable: bool = False
    earlier: WatchedContent | None = None  # an earlier import of the same content


@dataclass(frozen=True)
class WatchOptions:
    once: bool = False
    poll_seconds: float = DEFAULT_POLL_SECONDS
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    deferred_retry_seconds: float = DEFERRED_RETRY_SECONDS


# Imports one file into HighLevel: (file, results workbook, ledger run) -> result.
FileImporter = Callable[[Path, Path, LedgerRun], Awaitable[FileResult]]


_DAILY_LIMIT = "the day's API request limit is nearly used up"


class Watcher:
    """Take complete files from the inbox, one at a time, and import each once."""

    def __init__(
        self,
        folders: WatchFolders,
        ledger: Ledger,
        import_file: FileImporter,
        stop: StopRequest,
        options: WatchOptions,
    ) -> None:
        self.folders = folders
        self.files: list[WatchedFile] = []
        # The failure that stopped the watcher (a refused token, a broken ledger), if any.
        self.stopped_by: Exception | None = None
        self._ledger = ledger
        self._import_file = import_file
        self._stop = stop
        self._options = options
        self._tracker = SettleTracker(options.settle_seconds)
        # Files in processing/ and when to import them again.
        self._retry_at: dict[Path, float] = {}
        self._told: set[str] = set()

    async def run(self) -> None:
        """Watch until stopped; with `once`, until the files present are taken."""
        self._announce()
        self._queue_unfinished()
        deadline = time.monotonic() + 3 * self._options.settle_seconds + self._options.poll_seconds
        while not self._stopping():
            taken = await self._import_unfinished()
            for path in self._settled_inbox():
                if self._stopping():
                    break
                taken = await self._take(path) or taken
            if self._options.once and not taken and self._once_finished(deadline):
                break
            await self._pause(self._options.poll_seconds)

    def _stopping(self) -> bool:
        return self._stop.requested or self.stopped_by is not None

    def _announce(self) -> None:
        options = self._options
        logger.info(
            "Watching %s: files are taken once unchanged for %s, checked every %s.",
            self.folders.inbox,
            _seconds_text(options.settle_seconds),
            _seconds_text(options.poll_seconds),
            extra={"fields": {"event": "watch_started", "folder": str(self.folders.root)}},
        )

    # --- which files ------------------------------------------------------------------------

    def _queue_unfinished(self) -> None:
        """Import again the files an earlier watcher left in processing/, before new ones."""
        for path in sorted(self.folders.processing.iterdir()):
            if is_candidate(path):
                self._retry_at[path] = 0.0

    async def _import_unfinished(self) -> bool:
        now = time.monotonic()
        due = sorted(path for path, at in self._retry_at.items() if at <= now)
        for path in due:
            if self._stopping():
                break
            del self._retry_at[path]
            if path.is_file():
                await self._import(path, name=path.name, resumed=True)
        return bool(due)

    def _settled_inbox(self) -> list[Path]:
        return self._tracker.settled(self._inbox_files(), time.monotonic())

    def _inbox_files(self) -> list[Path]:
        try:
            entries = list(self.folders.inbox.iterdir())
        except FileNotFoundError:
            # Someone removed the inbox: make it again, so that files can be dropped.
            with contextlib.suppress(OSError):
                self.folders.inbox.mkdir(exist_ok=True)
            return []
        except OSError as error:
            # A network share that is briefly away: tell once, and look again later.
            self._tell_once(
                f"inbox:{error.errno}",
                f"The inbox {self.folders.inbox} cannot be read ({error.strerror}); "
                "it is checked again.",
            )
            return []
        files = []
        for entry in entries:
            if is_candidate(entry):
                files.append(entry)
            elif is_export_name(entry.name):
                self._tell_skipped(entry)
        return files

    def _tell_skipped(self, entry: Path) -> None:
        if entry.is_symlink():
            self._tell_once(
                f"link:{entry.name}",
                f"{entry} is a link; it is left alone. Copy the file itself into the inbox.",
            )
        elif entry.is_dir():
            self._tell_once(
                f"folder:{entry.name}",
                f"{entry} is a folder; only files directly in the inbox are imported.",
            )

    def _once_finished(self, deadline: float) -> bool:
        """With `once`: finished when the inbox is empty, or when its files are still changing."""
        waiting = self._inbox_files()
        if not waiting:
            return True
        if time.monotonic() < deadline:
            return False
        for path in waiting:
            why = "is open in Excel or LibreOffice" if is_open_elsewhere(path) else "is changing"
            logger.warning(
                "%s %s; it is left for the next run.",
                path,
                why,
                extra={"fields": {"event": "file_left", "file": path.name}},
            )
        return True

    async def _pause(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stopping() and time.monotonic() < end:
            await asyncio.sleep(min(0.2, end - time.monotonic()))

    def _tell_once(self, key: str, message: str) -> None:
        if key not in self._told:
            self._told.add(key)
            logger.warning(message)

    # --- one file ---------------------------------------------------------------------------

    async def _take(self, path: Path) -> bool:
        """Move a settled inbox file into processing/ and import it; False if it must wait."""
        if is_open_elsewhere(path):
            self._tell_once(
                f"open:{path.name}",
                f"{path} is open in Excel or LibreOffice; it is taken once it is closed.",
            )
            return False
        try:
            moved = move_into(path, self.folders.processing)
        except FileNotFoundError:
            return False
        except OSError as error:
            # Windows refuses to move a file another program has open.
            self._tell_once(
                f"move:{path.name}",
                f"{path} cannot be moved into processing/ ({error.strerror}); it is tried again.",
            )
            return False
        await self._import(moved, name=path.name, resumed=False)
        return True

    async def _import(self, path: Path, *, name: str, resumed: bool) -> None:
        started = time.monotonic()
        try:
            sha256 = file_hash(path)
        except OSError as error:
            self._finish_unreadable(path, name, f"it could not be read ({error.strerror})", "")
            return
        earlier = None if resumed else self._ledger.imported_content(sha256)
        if earlier is not None:
            self._finish_duplicate(path, name, earlier)
            return

        run_id = self._ledger.start_run("watch", dry_run=False)
        heartbeat = asyncio.create_task(_beat(self._ledger, run_id))
        try:
            outcome = await self._import_in_run(path, name, sha256, run_id, started)
        finally:
            heartbeat.cancel()
        with contextlib.suppress(LedgerError):
            self._ledger.finish_run(run_id, outcome)

    async def _import_in_run(
        self, path: Path, name: str, sha256: str, run_id: int, started: float
    ) -> str:
        """Import a file as one run of the ledger, move it, and return the run's outcome."""
        results = self.folders.processing / f".{path.stem}{_RESULTS_SUFFIX}"
        try:
            result = await self._import_file(path, results, LedgerRun(self._ledger, run_id))
        except (InputFileError, ConfigError) as error:
            self._finish_unreadable(path, name, _without_path(error, path), sha256, run_id)
            return "file not read"
        except (ReportError, LedgerError) as error:
            self._keep(path, name, str(error), None, stopped_by=error)
            return "aborted"
        except Exception as error:
            # A bug: the file goes to failed/ with the failure, and the watcher goes on.
            logger.debug("unexpected failure", exc_info=True)
            problem = (
                f"unexpected failure ({type(error).__name__}: {error}). This is a bug in "
                "ghl-fulfill; please report it"
            )
            self._finish_unreadable(path, name, problem, sha256, run_id)
            return "aborted"
        return self._finish(path, name, result, results, sha256, run_id, started)

    def _finish(
        self,
        path: Path,
        name: str,
        result: FileResult,
        results: Path,
        sha256: str,
        run_id: int,
        started: float,
    ) -> str:
        """Move an imported file where its outcome says, or keep it to import again."""
        if result.stopped_reason or result.count(OrderStatus.DEFERRED):
            self._keep(path, name, result.stopped_reason, result, stopped_by=result.stopped_by)
            return "aborted"
        destination = Destination.DONE if _all_done(result) else Destination.FAILED
        try:
            moved, moved_results = _move_with_results(path, results, self.folders, destination)
        except OSError as error:
            self._keep_unmoved(path, name, result, destination, error)
            return "aborted"
        self._ledger.record_watched_file(
            WatchedContent(sha256, name, str(moved), destination.value, run_id)
        )
        watched = WatchedFile(name, moved, destination, moved_results, result)
        self._log_finished(watched, sha256, time.monotonic() - started)
        self.files.append(watched)
        return "done" if destination is Destination.DONE else "some orders not done"

    def _keep(
        self,
        path: Path,
        name: str,
        reason: str,
        result: FileResult | None,
        *,
        stopped_by: Exception | None,
    ) -> None:
        """Leave a file stopped part way in processing/, to be imported again later."""
        later, reason = self._when_again(path, reason, stopped_by)
        counts = f"{_counts_text(result)}; " if result is not None else ""
        logger.warning(
            "%s: %sstopped: %s. The file stays in processing/ and is %s.",
            name,
            counts,
            reason,
            later,
            extra={"fields": _fields("file_kept", name, path, None, result, reason=reason)},
        )
        self.files.append(WatchedFile(name, path, Destination.KEPT, None, result, reason))

    def _keep_unmoved(
        self,
        path: Path,
        name: str,
        result: FileResult,
        destination: Destination,
        error: OSError,
    ) -> None:
        """Leave an imported file that cannot be moved in processing/, to be imported again.

        The next import sends nothing twice: the ledger has every order it sent.
        """
        later = "imported again at the next run"
        if not self._options.once:
            self._retry_at[path] = time.monotonic() + self._options.deferred_retry_seconds / 4
            later = "imported again in 15 minutes"
        reason = f"it could not be moved to {destination.value}/ ({error.strerror})"
        logger.error(
            "%s: %s; %s. The file stays in processing/ and is %s.",
            name,
            _counts_text(result),
            reason,
            later,
            extra={"fields": _fields("file_kept", name, path, None, result, reason=reason)},
        )
        self.files.append(WatchedFile(name, path, Destination.KEPT, None, result, reason))

    def _when_again(self, path: Path, reason: str, stopped_by: Exception | None) -> tuple[str, str]:
        """Schedule a kept file's next import; return when that is, in words, and the reason."""
        if _stops_watcher(stopped_by):
            self.stopped_by = stopped_by
            return "imported again when the watcher is started again", reason
        if self._options.once:
            return "imported again at the next run", reason or _DAILY_LIMIT
        if self._stop.requested:
            return "imported again when the watcher next starts", reason
        # The daily request limit, or HighLevel out of reach: try again later.
        wait = self._options.deferred_retry_seconds
        if stopped_by is not None:
            wait /= 4
        self._retry_at[path] = time.monotonic() + wait
        return f"imported again in {wait / 60:g} minutes", reason or _DAILY_LIMIT

    def _finish_unreadable(
        self, path: Path, name: str, problem: str, sha256: str, run_id: int | None = None
    ) -> None:
        """Move a file that could not be imported to failed/, with a workbook that says why."""
        moved = _move_or_keep(path, self.folders.failed)
        result = FileResult(path=moved, started_at=datetime.now(), finished_at=datetime.now())
        result.stopped_reason = f"the file could not be imported: {problem}"
        results = _write_beside(result, moved)
        if sha256:
            self._ledger.record_watched_file(
                WatchedContent(sha256, name, str(moved), Destination.FAILED.value, run_id)
            )
        logger.warning(
            "%s could not be imported: %s. Moved to %s%s.",
            name,
            problem,
            self._shown(moved),
            f", results in {self._shown(results)}" if results else "",
            extra={
                "fields": _fields("file_unreadable", name, moved, results, None, problem=problem)
            },
        )
        self.files.append(
            WatchedFile(name, moved, Destination.FAILED, results, None, problem, unreadable=True)
        )

    def _finish_duplicate(self, path: Path, name: str, earlier: WatchedContent) -> None:
        """Move a file whose content was imported before to done/, importing nothing."""
        moved = _move_or_keep(path, self.folders.done)
        when = _utc_minutes(earlier.finished_at)
        note = (
            f"This file has the same content as {earlier.name}, imported on {when} (UTC), "
            f"which created or skipped all its orders; it is now {earlier.moved_to}. This file "
            "was not imported again and nothing was sent."
        )
        result = FileResult(path=moved, started_at=datetime.now(), finished_at=datetime.now())
        result.notes.append(note)
        results = _write_beside(result, moved)
        logger.info(
            "%s has the same content as %s, imported on %s (UTC); not imported again. Moved to %s.",
            name,
            earlier.name,
            when,
            self._shown(moved),
            extra={
                "fields": _fields(
                    "file_duplicate", name, moved, results, None, same_as=earlier.moved_to
                )
            },
        )
        self.files.append(
            WatchedFile(name, moved, Destination.DONE, results, result, note, earlier=earlier)
        )

    def _log_finished(self, watched: WatchedFile, sha256: str, seconds: float) -> None:
        result = watched.result
        assert result is not None
        level = logging.INFO if watched.destination is Destination.DONE else logging.WARNING
        logger.log(
            level,
            "%s: %s. Moved to %s, results in %s.",
            watched.name,
            _counts_text(result),
            self._shown(watched.path),
            self._shown(watched.results_path),
            extra={
                "fields": _fields(
                    "file_finished",
                    watched.name,
                    watched.path,
                    watched.results_path,
                    result,
                    sha256=sha256,
                    seconds=round(seconds, 3),
                )
            },
        )

    def _shown(self, path: Path | None) -> str:
        """Name a path within the watched folder as done/orders.csv, for short log lines."""
        if path is None:
            return "(none)"
        with contextlib.suppress(ValueError):
            return path.relative_to(self.folders.root).as_posix()
        return str(path)


async def _beat(ledger: Ledger, run_id: int) -> None:
    """Tell other imports sharing the ledger that this run is alive."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        ledger.heartbeat(run_id)


def _stops_watcher(error: Exception | None) -> bool:
    """A refused token, a ledger that fails or a results folder that cannot be written
    stop the watcher: every next file would meet the same failure."""
    if isinstance(error, AuthenticationError):
        return not isinstance(error, LocationAccessError)
    return isinstance(error, ReportError | LedgerError)


def _all_done(result: FileResult) -> bool:
    """Every order created or skipped, and every row part of an order or ignored."""
    finished = (OrderStatus.CREATED, OrderStatus.SKIPPED)
    if any(order.status not in finished for order in result.orders):
        return False
    return not any(row.status == OrderStatus.REJECTED.value for row in result.rows)


def _counts_text(result: FileResult | None) -> str:
    if result is None:
        return ""
    if not result.orders:
        return "no orders"
    counts = [
        f"{result.count(status)} {status.value}"
        for status in OrderStatus
        if result.count(status) or status is OrderStatus.CREATED
    ]
    label = "order" if len(result.orders) == 1 else "orders"
    text = f"{len(result.orders)} {label}: {', '.join(counts)}"
    lone_rows = _rows_without_order(result)
    if lone_rows:
        text += f"; {lone_rows} {'row' if lone_rows == 1 else 'rows'} without an order ID"
    return text


def _rows_without_order(result: FileResult) -> int:
    return sum(
        1 for row in result.rows if not row.order_id and row.status == OrderStatus.REJECTED.value
    )


def _fields(
    event: str,
    name: str,
    path: Path,
    results: Path | None,
    result: FileResult | None,
    **more: object,
) -> dict[str, object]:
    """The fields of a file's log line, for log collectors reading --log-format json."""
    fields: dict[str, object] = {
        "event": event,
        "file": name,
        "path": str(path),
        "results": str(results) if results else "",
    }
    if result is not None:
        fields["orders"] = len(result.orders)
        fields.update({status.value: result.count(status) for status in OrderStatus})
        fields["rows_without_order"] = _rows_without_order(result)
    fields.update(more)
    return fields


def _move_with_results(
    path: Path, results: Path, folders: WatchFolders, destination: Destination
) -> tuple[Path, Path | None]:
    """Move a file and its results workbook into done/ or failed/, named alike."""
    folder = folders.done if destination is Destination.DONE else folders.failed
    # Someone may have removed the folder while the watcher ran.
    folder.mkdir(exist_ok=True)
    moved = move_into(path, folder)
    if not results.exists():
        return moved, None
    return moved, move_into(results, folder, f"{moved.stem}{_RESULTS_SUFFIX}")


def _move_or_keep(path: Path, folder: Path) -> Path:
    """Move a file; where even that fails, say so and leave it where it is."""
    try:
        folder.mkdir(exist_ok=True)
        return move_into(path, folder)
    except OSError as error:
        logger.warning("%s could not be moved into %s/ (%s).", path, folder.name, error.strerror)
        return path


def _write_beside(result: FileResult, moved: Path) -> Path | None:
    """Write a results workbook beside a file; a failure is logged, not raised."""
    target = moved.with_name(f"{moved.stem}{_RESULTS_SUFFIX}")
    number = 1
    while target.exists():
        number += 1
        target = moved.with_name(f"{moved.stem} ({number}){_RESULTS_SUFFIX}")
    try:
        return write_results(result, target)
    except ReportError as error:
        logger.warning("The results workbook could not be written: %s", error)
        return None


def _without_path(error: Exception, path: Path) -> str:
    """The error's message without the processing/ path it starts with."""
    text = str(error)
    prefix = f"{path}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _seconds_text(seconds: float) -> str:
    return f"{seconds:g} second" if seconds == 1 else f"{seconds:g} seconds"


def _utc_minutes(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso
