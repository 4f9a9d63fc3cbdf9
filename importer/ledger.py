"""The ledger: what each run sent, so that no fulfillment is created twice.

HighLevel has no idempotency key, so a fulfillment sent twice is created twice
and may email the customer twice. The ledger is one SQLite file in the state
folder. Before an order is sent it is claimed ("sending"); after HighLevel's
response it is marked with the outcome. A later run skips what the ledger shows
created, and an order left "sending" by a run that died is checked against
HighLevel (its fulfillments are read) before anything is sent again.

Two processes may share the ledger: a claim is made in one write transaction,
so only one of them sends an order; the other waits for the outcome.

Orders are keyed by location, HighLevel order ID and the set of tracking
numbers, which is what makes two fulfillments the same package.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from importer.errors import ConfigError, RunAbortedError
from importer.records import Item, Tracking

LEDGER_FILE_NAME = "ledger.sqlite3"
# A run that has not written its heartbeat for this long is taken to have died.
STALE_SECONDS = 30.0
HEARTBEAT_SECONDS = 5.0
# Why an empty ledger is safe to start over with: importer.resolve reads the order's
# fulfillments in HighLevel before it sends an order, whatever the ledger contains.
NEW_LEDGER_CHECK = (
    "With a new ledger, ghl-fulfill reads each order's fulfillments in HighLevel before it "
    "sends the order, and skips a package whose tracking numbers are already there."
)
# Another process may hold the write lock while it claims or records an order;
# those transactions take milliseconds, so a long wait means something is stuck.
_BUSY_TIMEOUT_MS = 30_000
_SCHEMA_VERSION = 4

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    heartbeat_at TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    command TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    outcome TEXT
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_hash ON files(sha256);
CREATE TABLE IF NOT EXISTS fulfillments (
    id INTEGER PRIMARY KEY,
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    tracking_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    fulfillment_id TEXT NOT NULL DEFAULT '',
    http_status INTEGER,
    message TEXT NOT NULL DEFAULT '',
    order_number TEXT NOT NULL DEFAULT '',
    trackings TEXT NOT NULL,
    items TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    file_id INTEGER REFERENCES files(id),
    claimed_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (location_id, order_id, tracking_key)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    file_id INTEGER REFERENCES files(id),
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    order_number TEXT NOT NULL,
    tracking_key TEXT NOT NULL,
    status TEXT NOT NULL,
    fulfillment_id TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_order ON events(order_id);
CREATE TABLE IF NOT EXISTS orders (
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    items TEXT NOT NULL,
    read_at TEXT NOT NULL,
    PRIMARY KEY (location_id, order_id)
);
CREATE INDEX IF NOT EXISTS events_by_number ON events(order_number);
CREATE TABLE IF NOT EXISTS watched_files (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    moved_to TEXT NOT NULL,
    outcome TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id),
    finished_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS watched_files_by_hash ON watched_files(sha256);
"""

# Each upgrade brings a ledger from the version before it to its key's version,
# in place. IF NOT EXISTS, because a ledger opened by an older version of the
# tool gets that version's number again but keeps the newer tables.
_UPGRADES = {
    # The results of each file of a run, so that they can be rebuilt after the
    # run was killed: `document` is a zlib-compressed JSON results document, and
    # `complete` is 1 once the run wrote its final results for the file.
    4: """
CREATE TABLE IF NOT EXISTS result_documents (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    file_id INTEGER NOT NULL REFERENCES files(id),
    input_path TEXT NOT NULL,
    results_path TEXT NOT NULL,
    document BLOB NOT NULL,
    complete INTEGER NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (run_id, file_id)
)
""",
}


# The outcome of a watched file whose orders were all created or skipped.
WATCHED_DONE = "done"


class WatchedContent(NamedTuple):
    """A file a watched folder imported: its content's hash, its name and where it went."""

    sha256: str
    name: str  # the file's name in the inbox
    moved_to: str  # the path it was moved to: in done/ or failed/
    outcome: str  # "done" or "failed"
    run_id: int | None
    finished_at: str = ""  # ISO 8601 in UTC; set by the ledger


class StoredResults(NamedTuple):
    """The results document of one file of a run, as the run saved it."""

    run_id: int
    file_id: int
    input_path: str
    results_path: str  # the workbook the run wrote, or was to write
    document: bytes  # the JSON results document, decompressed
    complete: bool  # False while the run has saved only the planned results
    saved_at: str  # ISO 8601 in UTC


@dataclass(frozen=True)
class RunRecord:
    """A run of `ghl-fulfill import` or of a watched folder, as the runs table stores it."""

    id: int
    started_at: str
    finished_at: str | None  # None while it runs, and for a run that was killed
    command: str
    dry_run: bool
    outcome: str | None


class RunPackage(NamedTuple):
    """A package whose latest record in the ledger belongs to a given run."""

    location_id: str
    order_id: str
    tracking_numbers: tuple[str, ...]
    state: FulfillmentState
    fulfillment_id: str
    http_status: int | None
    message: str
    updated_at: str  # ISO 8601 in UTC: when the run last wrote the record


class LedgerError(RunAbortedError):
    """The ledger file could not be read or written."""

    def __init__(self, message: str, *, reason: str = "", damaged: bool = False) -> None:
        super().__init__(message)
        self.reason = reason  # SQLite's own message, such as "database is locked"
        self.damaged = damaged  # the file is not a database, or SQLite found it corrupt


class DamagedDocumentError(LedgerError):
    """A results document in the ledger cannot be decompressed."""

    def __init__(
        self, message: str, *, reason: str, input_path: str, results_path: str, complete: bool
    ) -> None:
        super().__init__(message, reason=reason)
        self.input_path = input_path
        self.results_path = results_path  # the results path the run was given
        self.complete = complete  # whether the run saved its final results


class DamagedLedgerError(ConfigError):
    """The ledger file is not a database, or SQLite found its pages corrupt, when opening it."""

    def __init__(self, path: Path, reason: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class FulfillmentState(StrEnum):
    SENDING = "sending"
    CREATED = "created"
    REJECTED = "rejected"
    FAILED = "failed"
    # Claimed, but the run stopped before the request was sent: nothing went out.
    DEFERRED = "deferred"


class OrderLine(NamedTuple):
    """An item of an order as HighLevel lists it: which price, and how many were ordered."""

    price_id: str
    sku: str
    name: str
    ordered: int


@dataclass(frozen=True)
class Entry:
    """An order's package as the ledger records it."""

    location_id: str
    order_id: str
    tracking_key: str
    fingerprint: str
    state: FulfillmentState
    fulfillment_id: str
    run_id: int
    updated_at: str
    items: tuple[tuple[str, int], ...]

    @property
    def date(self) -> str:
        return self.updated_at[:10]


class ClaimResult(StrEnum):
    CLAIMED = "claimed"  # this run may send it
    CREATED = "created"  # created already, by this or an earlier run
    BUSY = "busy"  # another live run is sending it now


@dataclass(frozen=True)
class Claim:
    result: ClaimResult
    entry: Entry | None = None


@dataclass(frozen=True)
class Package:
    """The trackings and items of one fulfillment request, keyed as the ledger stores them."""

    location_id: str
    order_id: str
    trackings: tuple[Tracking, ...]
    items: tuple[Item, ...]
    order_number: str = ""

    @property
    def tracking_key(self) -> str:
        return tracking_key(tracking.number for tracking in self.trackings)

    @property
    def item_key(self) -> tuple[tuple[str, int], ...]:
        return tuple(
            sorted((item.price_id or item.sku.casefold(), item.qty) for item in self.items)
        )

    @property
    def fingerprint(self) -> str:
        document = {
            "location": self.location_id,
            "order": self.order_id,
            "trackings": self.tracking_key,
            "items": self.item_key,
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Event:
    """One order's outcome in a run, for the history."""

    run_id: int
    file_id: int | None
    location_id: str
    order_id: str
    order_number: str
    trackings: Sequence[Tracking]
    status: str
    fulfillment_id: str
    message: str


@dataclass(frozen=True)
class HistoryLine:
    """One event of `ghl-fulfill history`."""

    at: str
    run_id: int
    file_path: str
    location_id: str
    order_id: str
    order_number: str
    tracking_key: str
    status: str
    fulfillment_id: str
    message: str


def tracking_key(numbers: Iterable[str]) -> str:
    """Return the tracking numbers of a package as one text: upper case, sorted, unique."""
    return " ".join(sorted({number.upper() for number in numbers}))


def file_hash(path: Path) -> str:
    """Return the SHA-256 of a file's bytes, which names its content whatever the file's name."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_state_dir() -> Path:
    """Return the user's data folder for ghl-fulfill, as the platform defines it."""
    from platformdirs import user_data_path

    return user_data_path("ghl-fulfill", appauthor=False)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def is_damage(error: sqlite3.Error) -> bool:
    """Tell whether SQLite found the file damaged: not a database, or with corrupt pages."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return False
    # Extended result codes keep the primary code in the low byte.
    return (code & 0xFF) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class Ledger:
    """The ledger file of one state folder; open it with Ledger.open()."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, folder: Path) -> Ledger:
        """Open or create the ledger in a folder.

        Raises DamagedLedgerError for a damaged ledger file, and ConfigError when
        the folder cannot be used.
        """
        path = folder / LEDGER_FILE_NAME
        try:
            folder.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            # WAL with synchronous=FULL makes every claim durable before the request goes out.
            connection.execute("PRAGMA synchronous = FULL")
            connection.executescript(_SCHEMA)
            _upgrade(connection)
        except sqlite3.Error as error:
            if is_damage(error):
                raise DamagedLedgerError(
                    path,
                    str(error),
                    f"the ledger file {path} is damaged and cannot be read ({error}). Choose a "
                    "new state folder with --state-dir or GHL_STATE_DIR and run the command "
                    f"again. {NEW_LEDGER_CHECK}",
                ) from error
            raise _unusable_folder(folder, error) from error
        except OSError as error:
            raise _unusable_folder(folder, error) from error
        return cls(connection, path)

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run statements in one write transaction, taken before anything is read.

        A failure of the ledger file (a full disk, a damaged file) raises
        LedgerError, which stops the run: sending on without a record could
        send an order twice on the next run.
        """
        with self._failures():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextlib.contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as error:
            if is_damage(error):
                raise LedgerError(
                    f"the ledger file {self.path} is damaged ({error}), so nothing more is "
                    "sent. Choose a new state folder with --state-dir or GHL_STATE_DIR and run "
                    f"the command again. {NEW_LEDGER_CHECK}",
                    reason=str(error),
                    damaged=True,
                ) from error
            raise LedgerError(
                f"the ledger {self.path} could not be read or written ({error}); the disk may "
                "be full or the file damaged, so nothing more is sent. Free disk space, or move "
                "the file aside (or choose another folder with --state-dir), and run again: "
                "orders already fulfilled in HighLevel are still found there and not sent twice",
                reason=str(error),
            ) from error

    # --- runs and files ------------------------------------------------------------------

    def start_run(self, command: str, *, dry_run: bool) -> int:
        now = _now()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO runs (started_at, heartbeat_at, host, pid, command, dry_run) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (now, now, socket.gethostname(), os.getpid(), command, int(dry_run)),
            )
        return int(cursor.lastrowid or 0)

    def heartbeat(self, run_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (_now(), run_id))

    def finish_run(self, run_id: int, outcome: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?",
                (_now(), outcome, run_id),
            )

    def record_file(self, run_id: int, path: Path, sha256: str, size: int) -> int:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO files (run_id, path, sha256, size, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (run_id, str(path), sha256, size, _now()),
            )
        return int(cursor.lastrowid or 0)

    def run_record(self, run_id: int) -> RunRecord | None:
        with self._failures():
            row = self._db.execute(
                "SELECT id, started_at, finished_at, command, dry_run, outcome FROM runs "
                "WHERE id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            return None
        return RunRecord(int(row[0]), row[1], row[2], row[3], bool(row[4]), row[5])

    def last_activity(self, run_id: int) -> str | None:
        """Return the latest time the run wrote to the ledger (ISO 8601 in UTC), or None.

        That is its last heartbeat, history event or package record. A later run
        that replaces one of the run's package records hides that record's time.
        """
        with self._failures():
            row = self._db.execute(
                "SELECT MAX(moment) FROM ("
                "SELECT heartbeat_at AS moment FROM runs WHERE id = ? "
                "UNION ALL SELECT MAX(at) FROM events WHERE run_id = ? "
                "UNION ALL SELECT MAX(updated_at) FROM fulfillments WHERE run_id = ?)",
                (run_id, run_id, run_id),
            ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def run_files(self, run_id: int) -> list[tuple[int, str]]:
        """Return the ID and path of each file the run recorded, in the order it read them."""
        with self._failures():
            rows = self._db.execute(
                "SELECT id, path FROM files WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [(int(file_id), str(path)) for file_id, path in rows]

    # --- results documents -----------------------------------------------------------------

    def save_results(
        self,
        run_id: int,
        file_id: int,
        *,
        input_path: Path,
        results_path: Path,
        document: bytes,
        complete: bool,
    ) -> None:
        """Store a file's JSON results document, replacing the one the run saved before."""
        compressed = zlib.compress(document)
        with self._write() as db:
            db.execute(
                "INSERT INTO result_documents (run_id, file_id, input_path, results_path, "
                "document, complete, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (run_id, file_id) DO UPDATE SET input_path = excluded.input_path, "
                "results_path = excluded.results_path, document = excluded.document, "
                "complete = excluded.complete, saved_at = excluded.saved_at",
                (
                    run_id,
                    file_id,
                    str(input_path),
                    str(results_path),
                    compressed,
                    int(complete),
                    _now(),
                ),
            )

    def move_results(self, run_id: int, input_path: Path, results_path: Path | None) -> None:
        """Record where a watched folder moved a run's input file and its results workbook."""
        with self._write() as db:
            db.execute(
                "UPDATE result_documents SET input_path = ?, "
                "results_path = COALESCE(?, results_path) WHERE run_id = ?",
                (str(input_path), None if results_path is None else str(results_path), run_id),
            )

    def stored_results(self, run_id: int) -> list[StoredResults]:
        """Return the results documents of a run's files, in the order the run read the files.

        Raises DamagedDocumentError when a stored document cannot be decompressed.
        """
        with self._failures():
            rows = self._db.execute(
                "SELECT run_id, file_id, input_path, results_path, document, complete, saved_at "
                "FROM result_documents WHERE run_id = ? ORDER BY file_id",
                (run_id,),
            ).fetchall()
        stored = []
        for run, file_id, input_path, results_path, document, complete, saved_at in rows:
            try:
                data = zlib.decompress(document)
            except zlib.error as error:
                raise DamagedDocumentError(
                    f"the results of {input_path} in run {run} are damaged in the ledger "
                    f"{self.path} ({error})",
                    reason=str(error),
                    input_path=input_path,
                    results_path=results_path,
                    complete=bool(complete),
                ) from error
            stored.append(
                StoredResults(
                    int(run), int(file_id), input_path, results_path, data, bool(complete), saved_at
                )
            )
        return stored

    def run_packages(self, run_id: int, file_id: int) -> list[RunPackage]:
        """Return the packages of a file whose latest record was written by the run.

        A later run that sends or checks the same package replaces its record,
        so such a package is not returned.
        """
        with self._failures():
            rows = self._db.execute(
                "SELECT location_id, order_id, trackings, state, fulfillment_id, http_status, "
                "message, updated_at FROM fulfillments WHERE run_id = ? AND file_id = ? "
                "ORDER BY id",
                (run_id, file_id),
            ).fetchall()
        return [_run_package(row) for row in rows]

    def run_events(self, run_id: int, file_id: int) -> list[HistoryLine]:
        """Return the history of a file in a run, oldest first."""
        with self._failures():
            rows = self._db.execute(
                "SELECT events.at, events.run_id, COALESCE(files.path, ''), events.location_id, "
                "events.order_id, events.order_number, events.tracking_key, events.status, "
                "events.fulfillment_id, events.message FROM events "
                "LEFT JOIN files ON files.id = events.file_id "
                "WHERE events.run_id = ? AND events.file_id = ? ORDER BY events.id",
                (run_id, file_id),
            ).fetchall()
        return [HistoryLine(*row) for row in rows]

    # --- watched folders -------------------------------------------------------------------

    def record_watched_file(self, file: WatchedContent) -> None:
        """Remember how a watched folder's file ended, by the hash of its content."""
        with self._write() as db:
            db.execute(
                "INSERT INTO watched_files (sha256, name, moved_to, outcome, run_id, finished_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (file.sha256, file.name, file.moved_to, file.outcome, file.run_id, _now()),
            )

    def imported_content(self, sha256: str) -> WatchedContent | None:
        """Return the latest import of this content that created or skipped all its orders."""
        with self._failures():
            row = self._db.execute(
                "SELECT sha256, name, moved_to, outcome, run_id, finished_at FROM watched_files "
                "WHERE sha256 = ? AND outcome = ? ORDER BY id DESC LIMIT 1",
                (sha256, WATCHED_DONE),
            ).fetchone()
        return None if row is None else WatchedContent(*row)

    # --- orders ----------------------------------------------------------------------------

    def find(self, location_id: str, order_id: str, key: str) -> Entry | None:
        """Return the ledger's record of a package, or None when it has none."""
        with self._failures():
            row = self._db.execute(
                "SELECT location_id, order_id, tracking_key, fingerprint, state, fulfillment_id, "
                "run_id, updated_at, items FROM fulfillments "
                "WHERE location_id = ? AND order_id = ? AND tracking_key = ?",
                (location_id, order_id, key),
            ).fetchone()
        return None if row is None else _entry(row)

    def claim(
        self,
        package: Package,
        *,
        run_id: int,
        file_id: int | None,
        force: bool,
        order_items: Sequence[OrderLine] = (),
    ) -> Claim:
        """Mark a package "sending" for this run, unless it is created or another run sends it.

        With `force`, a package created earlier is claimed again. `order_items`
        are the order's items as HighLevel listed them, kept so that a later
        run need not read the order again (see `known_order`).
        """
        key = package.tracking_key
        with self._write() as db:
            if order_items:
                _remember_order(db, package.location_id, package.order_id, order_items)
            entry = self.find(package.location_id, package.order_id, key)
            if entry is not None and entry.state is FulfillmentState.CREATED and not force:
                return Claim(ClaimResult.CREATED, entry)
            if (
                entry is not None
                and entry.state is FulfillmentState.SENDING
                and entry.run_id != run_id
                and self.run_is_alive(entry.run_id)
            ):
                return Claim(ClaimResult.BUSY, entry)

            _upsert(db, package, FulfillmentState.SENDING, run_id=run_id, file_id=file_id)
        return Claim(ClaimResult.CLAIMED)

    def record_outcome(
        self,
        package: Package,
        state: FulfillmentState,
        *,
        run_id: int,
        file_id: int | None = None,
        fulfillment_id: str = "",
        http_status: int | None = None,
        message: str = "",
    ) -> None:
        """Record HighLevel's response to a package, or a fulfillment found on the order.

        A package that was never claimed (found already fulfilled in HighLevel)
        gets a record of its own, so that later runs need not ask HighLevel.
        """
        with self._write() as db:
            _upsert(
                db,
                package,
                state,
                run_id=run_id,
                file_id=file_id,
                fulfillment_id=fulfillment_id,
                http_status=http_status,
                message=message,
            )

    def known_order(self, location_id: str, order_id: str) -> list[OrderLine] | None:
        """Return the order's items as an earlier run read them from HighLevel, or None."""
        with self._failures():
            row = self._db.execute(
                "SELECT items FROM orders WHERE location_id = ? AND order_id = ?",
                (location_id, order_id),
            ).fetchone()
        if row is None:
            return None
        return [OrderLine(*line) for line in json.loads(row[0])]

    def record_events(self, events: Sequence[Event]) -> None:
        """Add the outcomes of a file's orders to the history, in one transaction."""
        now = _now()
        with self._write() as db:
            db.executemany(
                "INSERT INTO events (at, run_id, file_id, location_id, order_id, order_number, "
                "tracking_key, status, fulfillment_id, message) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        now,
                        event.run_id,
                        event.file_id,
                        event.location_id,
                        event.order_id,
                        event.order_number,
                        tracking_key(tracking.number for tracking in event.trackings),
                        event.status,
                        event.fulfillment_id,
                        event.message,
                    )
                    for event in events
                ],
            )

    # --- liveness -------------------------------------------------------------------------

    def run_is_alive(self, run_id: int) -> bool:
        """Tell whether a run may still be sending: not finished, and its process is alive."""
        with self._failures():
            row = self._db.execute(
                "SELECT finished_at, heartbeat_at, host, pid FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        if row is None or row[0] is not None:
            return False
        _, heartbeat_at, host, pid = row
        if host == socket.gethostname() and sys.platform != "win32":
            # The process is the surest sign: one stopped with Ctrl-Z writes no heartbeat
            # but may still send the order when it resumes.
            return _process_exists(int(pid))
        age = datetime.now(UTC) - datetime.fromisoformat(heartbeat_at)
        return age.total_seconds() <= STALE_SECONDS

    # --- history ---------------------------------------------------------------------------

    def history(
        self, *, order: str | None = None, file_path: Path | None = None, limit: int = 200
    ) -> list[HistoryLine]:
        """Return the latest events, oldest first, for an order (ID or number) or a file."""
        clauses, values = [], []
        if order:
            clauses.append("(events.order_id = ? OR events.order_number = ?)")
            values += [order.lower(), order.lstrip("#")]
        if file_path is not None:
            clauses.append("(files.path = ? OR files.sha256 = ?)")
            values += [str(file_path.resolve()), _hash_if_file(file_path)]
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._failures():
            rows = self._db.execute(
                "SELECT events.at, events.run_id, COALESCE(files.path, ''), events.location_id, "
                "events.order_id, events.order_number, events.tracking_key, events.status, "
                "events.fulfillment_id, events.message FROM events "
                f"LEFT JOIN files ON files.id = events.file_id {where} "
                "ORDER BY events.id DESC LIMIT ?",
                (*values, limit),
            ).fetchall()
        return [HistoryLine(*row) for row in reversed(rows)]


def _upgrade(connection: sqlite3.Connection) -> None:
    """Bring the ledger to the current schema version in place; a newer one is left as it is."""
    if _user_version(connection) >= _SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have upgraded it meanwhile.
        version = _user_version(connection)
        for target, statement in sorted(_UPGRADES.items()):
            if version < target:
                connection.execute(statement)
        if version < _SCHEMA_VERSION:
            connection.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _user_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _unusable_folder(folder: Path, error: OSError | sqlite3.Error) -> ConfigError:
    return ConfigError(
        f"the state folder {folder} cannot be used for the ledger ({error}); "
        "choose another with --state-dir or GHL_STATE_DIR"
    )


def _remember_order(
    db: sqlite3.Connection, location_id: str, order_id: str, items: Sequence[OrderLine]
) -> None:
    db.execute(
        "INSERT INTO orders (location_id, order_id, items, read_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (location_id, order_id) DO UPDATE SET items = excluded.items, "
        "read_at = excluded.read_at",
        (location_id, order_id, json.dumps([list(item) for item in items]), _now()),
    )


def _upsert(
    db: sqlite3.Connection,
    package: Package,
    state: FulfillmentState,
    *,
    run_id: int,
    file_id: int | None,
    fulfillment_id: str = "",
    http_status: int | None = None,
    message: str = "",
) -> None:
    """Write a package's record, replacing the one of its key; a claim also sets claimed_at."""
    now = _now()
    db.execute(
        "INSERT INTO fulfillments (location_id, order_id, tracking_key, fingerprint, state, "
        "fulfillment_id, http_status, message, order_number, trackings, items, run_id, "
        "file_id, claimed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (location_id, order_id, tracking_key) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, state = excluded.state, "
        "fulfillment_id = excluded.fulfillment_id, http_status = excluded.http_status, "
        "message = excluded.message, order_number = excluded.order_number, "
        "trackings = excluded.trackings, items = excluded.items, run_id = excluded.run_id, "
        "file_id = excluded.file_id, updated_at = excluded.updated_at, claimed_at = "
        "CASE WHEN excluded.state = 'sending' THEN excluded.claimed_at ELSE claimed_at END",
        (
            package.location_id,
            package.order_id,
            package.tracking_key,
            package.fingerprint,
            state.value,
            fulfillment_id,
            http_status,
            message,
            package.order_number,
            json.dumps([tracking.number for tracking in package.trackings]),
            json.dumps(package.item_key),
            run_id,
            file_id,
            now,
            now,
        ),
    )


def _entry(row: Sequence[object]) -> Entry:
    items = tuple((str(name), int(qty)) for name, qty in json.loads(str(row[8])))
    return Entry(
        location_id=str(row[0]),
        order_id=str(row[1]),
        tracking_key=str(row[2]),
        fingerprint=str(row[3]),
        state=FulfillmentState(str(row[4])),
        fulfillment_id=str(row[5]),
        run_id=int(str(row[6])),
        updated_at=str(row[7]),
        items=items,
    )


def _run_package(row: Sequence[object]) -> RunPackage:
    location_id, order_id, trackings, state, fulfillment_id, http_status, message, updated = row
    return RunPackage(
        location_id=str(location_id),
        order_id=str(order_id),
        tracking_numbers=tuple(json.loads(str(trackings))),
        state=FulfillmentState(str(state)),
        fulfillment_id=str(fulfillment_id),
        http_status=None if http_status is None else int(str(http_status)),
        message=str(message),
        updated_at=str(updated),
    )


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _hash_if_file(path: Path) -> str:
    try:
        return file_hash(path)
    except OSError:
        return ""
