"""The watcher: it takes complete files from the inbox and imports each once.

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
import errno
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from importer.errors import (
    AuthenticationError,
    ConfigError,
    InputFileError,
    LocationAccessError,
    ReportError,
    RunAbortedError,
    UsageError,
)
from importer.ledger import (
    HEARTBEAT_SECONDS,
    Ledger,
    LedgerError,
    WatchedContent,
    file_hash,
)
from importer.records import STOPPED_ON_REQUEST, FileResult, OrderStatus
from importer.report import write_results
from importer.stopping import StopRequest
from importer.submit import LedgerRun
from importer.watch.folders import (
    DEFAULT_SETTLE_SECONDS,
    DONE,
    FAILED,
    PROCESSING,
    RESULTS_SUFFIX,
    HeldLock,
    SettleTracker,
    WatchFolders,
    file_stamp,
    fitted_name,
    is_candidate,
    is_export_name,
    is_open_elsewhere,
    is_open_for_writing,
    move_into,
    printable,
    unsafe_entry_reason,
)

logger = logging.getLogger("importer.watch")

DEFAULT_POLL_SECONDS = 5.0
# A file deferred for the daily request limit is tried again after this long.
# Each try costs a request or two per location until the day's count resets.
DEFERRED_RETRY_SECONDS = 3600.0


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
    # The watcher's own log file, never taken from the inbox, nor its rotated copies.
    log_file: Path | None = None


# Imports one file into HighLevel: (file, results workbook, ledger run, the path that the
# results and the ledger name) -> result.
FileImporter = Callable[[Path, Path, LedgerRun, Path], Awaitable[FileResult]]


_DAILY_LIMIT = "the day's API request limit is nearly used up"
_HEADER_ONLY = "the file has a header but no rows"
# Failed orders named in the log per file; the results workbook lists every one.
_LOGGED_FAILURES = 10
# The outcome of an import whose file changed while it was read.
_CHANGED_WHILE_READ = "file changed while read"


class Watcher:
    """Take complete files from the inbox, one at a time, and import each once."""

    def __init__(
        self,
        folders: WatchFolders,
        ledger: Ledger,
        import_file: FileImporter,
        stop: StopRequest,
        options: WatchOptions,
        *,
        lock: HeldLock | None = None,
        stop_cause: Callable[[], str] | None = None,
    ) -> None:
        """`lock` is checked at every poll; `stop_cause` names the signal that asked to stop."""
        self.folders = folders
        self.files: list[WatchedFile] = []
        # The failure that stopped the watcher (a refused token, a broken ledger), if any.
        self.stopped_by: Exception | None = None
        self._ledger = ledger
        self._import_file = import_file
        self._stop = stop
        self._options = options
        self._lock = lock
        self._stop_cause = stop_cause
        self._tracker = SettleTracker(options.settle_seconds)
        # Files in processing/ and when to import them again.
        self._retry_at: dict[Path, float] = {}
        self._told: set[str] = set()
        # With `once`: the inbox files left for the next run.
        self.left: list[Path] = []
        # Why an inbox file was not taken yet, in words, for the --once summary.
        self._waiting_reason: dict[Path, str] = {}

    async def run(self) -> None:
        """Watch until stopped; with `once`, until the files present are taken."""
        self._announce()
        self._queue_unfinished()
        deadline = self._once_deadline()
        while not self._stopping() and self._lock_held() and self._folders_unlinked():
            taken = await self._import_unfinished()
            for path in self._settled_inbox():
                if self._stopping():
                    break
                taken = await self._take_safely(path) or taken
            if taken:
                deadline = self._once_deadline()
            elif self._options.once and self._once_finished(deadline):
                break
            await self._pause(self._poll_seconds())

    def _poll_seconds(self) -> float:
        """With `once`, look again after the settle period when that is shorter than the poll
        period: a scheduled run waits only for its files to settle."""
        if self._options.once:
            return min(self._options.poll_seconds, self._options.settle_seconds)
        return self._options.poll_seconds

    def _lock_held(self) -> bool:
        """Tell whether this watcher still holds the folder's lock; stop it when it does not."""
        if self._lock is None:
            return True
        try:
            self._lock.check()
        except RunAbortedError as error:
            self.stopped_by = error
            return False
        return True

    def _folders_unlinked(self) -> bool:
        """Tell whether the subfolders are still real folders; stop the watcher when one is a link.

        A subfolder replaced by a link while the watcher runs would lead its
        moves outside the watched folder.
        """
        try:
            self.folders.check_not_linked()
        except ConfigError as error:
            self.stopped_by = error
            return False
        return True

    def _once_deadline(self) -> float:
        """With `once`: when to stop waiting for inbox files that keep changing."""
        return time.monotonic() + 3 * self._options.settle_seconds + self._options.poll_seconds

    async def _take_safely(self, path: Path) -> bool:
        """Take a file; a failure of one file is logged, and the watcher goes on."""
        try:
            return await self._take(path)
        except (LedgerError, ReportError):
            raise
        except Exception as error:
            # A bug: the file is tried again at the next check, and the failure logged once.
            logger.debug("unexpected failure", exc_info=True)
            self._tell_once(
                f"bug:{path.name}",
                f"{printable(path.name)}: unexpected failure ({type(error).__name__}: {error}). "
                "This is a bug in ghl-fulfill; please report it. The file is tried again.",
            )
            return False

    def _stopping(self) -> bool:
        return self._stop.requested or self.stopped_by is not None

    def _announce(self) -> None:
        options = self._options
        logger.info(
            "Watching %s: files are taken once unchanged for %s, checked every %s.",
            self.folders.inbox,
            _seconds_text(options.settle_seconds),
            _seconds_text(options.poll_seconds),
            # A scheduled run prints only its files' lines, so that cron mails nothing when
            # the inbox is empty. The console handler skips records marked file_only.
            extra={
                "fields": {"event": "watch_started", "folder": str(self.folders.root)},
                "file_only": options.once,
            },
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
            reason = unsafe_entry_reason(path)
            if reason is None:
                await self._import_safely(path, name=path.name, resumed=True)
            elif path.exists() or path.is_symlink():
                self._tell_not_read(path, reason)
        return bool(due)

    async def _import_safely(self, path: Path, *, name: str, resumed: bool) -> None:
        """Import a file in processing/. A bug met by one file is logged, the file stays in
        processing/ for the next start, and the watcher goes on."""
        try:
            await self._import(path, name=name, resumed=resumed)
        except (LedgerError, ReportError):
            raise
        except Exception as error:
            logger.debug("unexpected failure", exc_info=True)
            reason = (
                f"unexpected failure ({type(error).__name__}: {error}). This is a bug in "
                "ghl-fulfill; please report it"
            )
            logger.error(
                "%s: %s. The file stays in processing/.",
                printable(name),
                reason,
                extra={"fields": {"event": "file_kept", "file": name, "reason": reason}},
            )
            self.files.append(WatchedFile(name, path, Destination.KEPT, problem=reason))

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
            if self._is_own_log(entry):
                continue
            if is_candidate(entry):
                files.append(entry)
            elif is_export_name(entry.name):
                self._tell_skipped(entry)
        return files

    def _is_own_log(self, entry: Path) -> bool:
        """Tell whether an inbox entry is the watcher's log file or one of its rotated copies."""
        log_file = self._options.log_file
        if log_file is None:
            return False
        if not entry.name.startswith(log_file.name):
            return False
        backup = entry.name[len(log_file.name) :]
        if backup and not (backup[:1] == "." and backup[1:].isdigit()):
            return False
        with contextlib.suppress(OSError):
            return entry.parent.resolve() == log_file.parent.resolve()
        return False

    def _tell_skipped(self, entry: Path) -> None:
        reason = unsafe_entry_reason(entry)
        if reason == "is a folder":
            self._tell_once(
                f"folder:{entry.name}",
                f"{printable(str(entry))} is a folder; only files directly in the inbox are "
                "imported.",
            )
        elif reason is not None:
            self._tell_once(
                f"unsafe:{reason}:{entry.name}",
                f"{printable(str(entry))} {reason}; it is left alone. Copy the file itself "
                "into the inbox.",
            )

    def _tell_not_read(self, path: Path, reason: str) -> None:
        """Log, once, that an entry in processing/ is left unread because it is not a plain file."""
        self._tell_once(
            f"unsafe:{reason}:{path}",
            f"{printable(str(path))} {reason}; it was not read and stays where it is. "
            "Remove it, and drop the file itself into the inbox.",
        )

    def _once_finished(self, deadline: float) -> bool:
        """With `once`: finished when the inbox is empty, or when its files are still changing."""
        waiting = self._inbox_files()
        if not waiting:
            return True
        if time.monotonic() < deadline:
            return False
        for path in waiting:
            why = self._waiting_reason.get(path, "was still changing")
            logger.warning(
                "%s %s; it is left in the inbox for the next run.",
                printable(str(path)),
                why,
                extra={"fields": {"event": "file_left", "file": path.name, "reason": why}},
            )
        self.left = waiting
        return True

    async def _pause(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stopping() and time.monotonic() < end:
            await asyncio.sleep(min(0.2, end - time.monotonic()))

    def _tell_once(self, key: str, message: str, event: str = "warning") -> None:
        """Log a warning the first time only: the same file is checked every few seconds."""
        if key not in self._told:
            self._told.add(key)
            logger.warning(message, extra={"fields": {"event": event}})

    # --- one file ---------------------------------------------------------------------------

    async def _take(self, path: Path) -> bool:
        """Move a settled inbox file into processing/ and import it; False if it must wait."""
        name = printable(path.name)
        if is_open_elsewhere(path):
            self._wait(path, "is open in Excel or LibreOffice, or still downloading")
            return False
        if is_open_for_writing(path):
            self._wait(path, "is still open for writing by another program")
            return False
        try:
            moved = _move_to_processing(path, self.folders.processing)
        except FileNotFoundError:
            return False
        except OSError as error:
            # Windows rejects moving a file that another program has open.
            self._wait(
                path,
                f"could not be moved into processing/ ({error.strerror}); the user running "
                "the watcher needs permission to change both inbox/ and processing/",
            )
            return False
        self._waiting_reason.pop(path, None)
        logger.debug("Took %s into processing/.", name)
        # The entry may have been swapped for a link after it was checked; the rename moved
        # the link itself, which is never read.
        reason = unsafe_entry_reason(moved)
        if reason is not None:
            self._tell_not_read(moved, reason)
            return True
        await self._import_safely(moved, name=path.name, resumed=False)
        return True

    def _wait(self, path: Path, reason: str) -> None:
        """Leave an inbox file where it is for now, and log why, once."""
        self._waiting_reason[path] = reason
        self._tell_once(
            f"{reason}:{path.name}",
            f"{printable(str(path))} {reason}; it is taken once that changes.",
            event="file_waiting",
        )

    async def _import(self, path: Path, *, name: str, resumed: bool) -> None:
        """Import a file in processing/, again as long as it changes while it is read."""
        while True:
            outcome = await self._import_once(path, name=name, resumed=resumed)
            if outcome != _CHANGED_WHILE_READ:
                return
            resumed = True
            if not await self._until_settled(path):
                return  # stopped: the file stays in processing/ for the next start

    async def _import_once(self, path: Path, *, name: str, resumed: bool) -> str:
        started = time.monotonic()
        stamp = file_stamp(path)
        try:
            sha256 = file_hash(path)
        except OSError as error:
            self._finish_unreadable(path, name, f"could not be read ({error.strerror})", "")
            return "file not read"
        earlier = None if resumed else self._ledger.imported_content(sha256)
        if earlier is not None:
            self._finish_duplicate(path, name, earlier)
            return "duplicate"

        run_id = self._ledger.start_run("watch", dry_run=False)
        heartbeat = asyncio.create_task(_beat(self._ledger, run_id))
        try:
            outcome = await self._import_in_run(path, name, sha256, run_id, started, stamp)
        finally:
            heartbeat.cancel()
        with contextlib.suppress(LedgerError):
            self._ledger.finish_run(run_id, outcome)
        return outcome

    async def _until_settled(self, path: Path) -> bool:
        """Wait until a file stays unchanged for the settle period; False when stopped first."""
        tracker = SettleTracker(self._options.settle_seconds)
        while not self._stopping() and path.exists():
            if tracker.settled([path], time.monotonic()) and not is_open_for_writing(path):
                return True
            await self._pause(self._options.poll_seconds)
        return False

    async def _import_in_run(
        self,
        path: Path,
        name: str,
        sha256: str,
        run_id: int,
        started: float,
        stamp: tuple[int, int] | None,
    ) -> str:
        """Import a file as one run of the ledger, move it, and return the run's outcome."""
        results = self.folders.processing / _hidden_results_name(path)
        run = LedgerRun(self._ledger, run_id)
        try:
            result = await self._import_file(path, results, run, self._dropped_path(name))
        except (InputFileError, ConfigError) as error:
            self._finish_unreadable(path, name, _without_path(error, path), sha256, run_id)
            return "file not read"
        except (ReportError, LedgerError, UsageError) as error:
            # A usage error comes from the settings, so every next file would meet it too.
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
        if file_stamp(path) != stamp and not result.stopped_reason:
            self._tell_changed(path, name, result)
            return _CHANGED_WHILE_READ
        return self._finish(path, name, result, results, sha256, run_id, started)

    def _dropped_path(self, name: str) -> Path:
        """Return the path a file had in the inbox, as the results and the ledger name it.

        Undecodable bytes are escaped, because the ledger and the workbook store UTF-8 text.
        """
        return self.folders.inbox / printable(name)

    def _tell_changed(self, path: Path, name: str, result: FileResult) -> None:
        logger.warning(
            "%s: %s. The file changed while it was imported, so a program is still writing "
            "it. It stays in processing/ and is imported again once it stops changing; the "
            "orders already sent are not sent again.",
            printable(name),
            _counts_text(result),
            extra={"fields": _fields("file_changed", name, path, None, result)},
        )

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
        """Move an imported file to done/ or failed/ by its outcome, or keep it to import again."""
        if result.stopped_reason or result.count(OrderStatus.DEFERRED):
            self._keep(path, name, result.stopped_reason, result, stopped_by=result.stopped_by)
            return "aborted"
        header_only = not result.rows
        if header_only:
            _mark_header_only(result, results)
        done = _all_done(result) and not header_only
        destination = Destination.DONE if done else Destination.FAILED
        try:
            moved, moved_results = _move_with_results(path, results, self.folders, destination)
        except OSError as error:
            self._keep_unmoved(path, name, result, destination, error)
            return "aborted"
        # So that `ghl-fulfill report` finds the file and its workbook where they are now.
        stored_results = None if moved_results is None else _stored_path(moved_results)
        self._ledger.move_results(run_id, _stored_path(moved), stored_results)
        self._ledger.record_watched_file(
            WatchedContent(
                sha256, printable(name), str(_stored_path(moved)), destination.value, run_id
            )
        )
        problem = _HEADER_ONLY if header_only else ""
        watched = WatchedFile(
            name, moved, destination, moved_results, result, problem, unreadable=header_only
        )
        self._log_finished(watched, sha256, time.monotonic() - started)
        self.files.append(watched)
        if header_only:
            return "file not read"
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
        if reason == STOPPED_ON_REQUEST and self._stop_cause is not None:
            reason = f"the watcher was stopped ({self._stop_cause()})"
        counts = f"{_counts_text(result)}; " if result is not None else ""
        results = self.folders.processing / _hidden_results_name(path)
        shown_results = results if results.exists() else None
        logger.warning(
            "%s: %sstopped: %s. The file stays in processing/ and is %s.",
            printable(name),
            counts,
            reason.rstrip("."),
            later,
            extra={
                "fields": _fields("file_kept", name, path, shown_results, result, reason=reason)
            },
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
        """Move a file that could not be imported to failed/, with a workbook giving the reason."""
        moved = _move_or_keep(path, self.folders.failed)
        result = FileResult(
            path=self._dropped_path(name), started_at=datetime.now(), finished_at=datetime.now()
        )
        result.stopped_reason = f"{printable(name)}: {problem}"
        results = _write_beside(result, moved)
        if sha256:
            self._ledger.record_watched_file(
                WatchedContent(
                    sha256,
                    printable(name),
                    str(_stored_path(moved)),
                    Destination.FAILED.value,
                    run_id,
                )
            )
        logger.warning(
            "%s: %s. Moved to %s%s.",
            printable(name),
            problem.rstrip("."),
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
        result = FileResult(
            path=self._dropped_path(name), started_at=datetime.now(), finished_at=datetime.now()
        )
        result.notes.append(note)
        result.next_step = "Nothing to do: the orders of this content were sent before."
        results = _write_beside(result, moved)
        logger.info(
            "%s has the same content as %s, imported on %s (UTC); not imported again. Moved to %s.",
            printable(name),
            printable(earlier.name),
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
            printable(watched.name),
            watched.problem or _counts_text(result),
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
        _log_failed_orders(watched.name, result)

    def _shown(self, path: Path | None) -> str:
        """Name a path within the watched folder as done/orders.csv, for short log lines."""
        if path is None:
            return "(none)"
        with contextlib.suppress(ValueError):
            return printable(path.relative_to(self.folders.root).as_posix())
        return printable(str(path))


async def _beat(ledger: Ledger, run_id: int) -> None:
    """Tell other imports sharing the ledger that this run is alive."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        ledger.heartbeat(run_id)


def _stops_watcher(error: Exception | None) -> bool:
    """Tell whether a failure stops the watcher, because every next file would meet it too.

    Those are a refused token, a ledger that fails, a results folder that
    cannot be written, and an invalid setting.
    """
    if isinstance(error, AuthenticationError):
        return not isinstance(error, LocationAccessError)
    return isinstance(error, ReportError | LedgerError | UsageError)


def _stored_path(path: Path) -> Path:
    """Return a path as the ledger stores it: UTF-8 text, with undecodable bytes escaped."""
    return Path(printable(str(path)))


def _mark_header_only(result: FileResult, results: Path) -> None:
    """Say in the results workbook that the file has no rows, so that it goes to failed/.

    An export with a header alone usually comes from a wrong filter or date
    range, and a file in done/ would hide that nothing was imported.
    """
    result.stopped_reason = _HEADER_ONLY
    result.next_step = (
        "Check the filter or date range of the export, export the file again and drop it "
        "into the inbox."
    )
    if results.exists():
        try:
            write_results(result, results)
        except ReportError as error:
            logger.warning("The results workbook could not be written again: %s", error)


def _log_failed_orders(name: str, result: FileResult) -> None:
    """Log one warning per failed order, for the first few; the workbook lists every one."""
    failed = [order for order in result.orders if order.status is OrderStatus.FAILED]
    for order in failed[:_LOGGED_FAILURES]:
        order_id = order.order_id or order.order_number or "(no order ID)"
        message = order.message.splitlines()[0] if order.message else ""
        logger.warning(
            "%s: order %s failed: %s",
            printable(name),
            order_id,
            message,
            extra={"fields": {"event": "order_failed", "file": name, "order": order_id}},
        )
    if len(failed) > _LOGGED_FAILURES:
        logger.warning(
            "%s: %d more orders failed; the results workbook lists them.",
            printable(name),
            len(failed) - _LOGGED_FAILURES,
            extra={"fields": {"event": "order_failed", "file": name}},
        )


def _all_done(result: FileResult) -> bool:
    """Tell whether every order was created or skipped and every row was part of an order."""
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
    """Build the fields of a file's log line, for log collectors reading --log-format json."""
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
    return moved, move_into(results, folder, f"{moved.stem}{RESULTS_SUFFIX}")


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
    target = moved.with_name(fitted_name(moved.stem, RESULTS_SUFFIX))
    number = 1
    while target.exists():
        number += 1
        target = moved.with_name(fitted_name(moved.stem, f" ({number}){RESULTS_SUFFIX}"))
    try:
        return write_results(result, target)
    except ReportError as error:
        logger.warning("The results workbook could not be written: %s", error)
        return None


def _without_path(error: Exception, path: Path) -> str:
    """Return the error's message without the processing/ path it starts with."""
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


def _hidden_results_name(path: Path) -> str:
    """Name the workbook of a file in processing/: hidden, so it is never taken as an export,
    and short, whatever the length of the file's name."""
    digest = hashlib.sha256(path.name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f".ghl-fulfill-{digest}{RESULTS_SUFFIX}"


def _move_to_processing(path: Path, processing: Path) -> Path:
    """Move an inbox file into processing/; across disks, copy it and remove the original.

    An inbox on another disk than processing/ (a share mounted on inbox/ alone)
    cannot be renamed into it. The copy is written under a hidden name and
    renamed when complete, so a copy cut short is never taken for the file.
    """
    try:
        return move_into(path, processing)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    partial = processing / f".ghl-fulfill-copy-{os.getpid()}.tmp"
    shutil.copy2(path, partial, follow_symlinks=False)
    try:
        path.unlink()
    except OSError:
        partial.unlink()
        raise
    return move_into(partial, processing, path.name)
