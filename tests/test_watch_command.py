"""A real watcher process on a temporary folder, sending to the sandbox over loopback.

The sandbox runs in the test process, so its log of created fulfillments
shows whether any order was sent twice across the watcher's restarts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest

from importer.cli import main
from importer.sandbox import FaultPlan, FaultScope, Sandbox
from importer.sandbox.synthetic import (
    SyntheticOrder,
    location_ids,
    synthetic_orders,
    synthetic_seed,
    write_export,
)
from importer.watch import watcher

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")

_SETTLE = "1"
_TOKEN = "watch-token"


class _WatchedFolder:
    """A watched folder, the sandbox holding its orders, and the watcher processes started."""

    def __init__(self, tmp_path: Path, *, per_location: int = 10, latency: float = 0.0) -> None:
        self.tmp_path = tmp_path
        self.root = tmp_path / "watched"
        self.root.mkdir()
        self.orders = synthetic_orders(location_ids(2), per_location)
        self.config = tmp_path / "ghl-fulfill.toml"
        self.config.write_text(
            f'state_dir = "{tmp_path / "state"}"\nrate_limit_requests = 100000\n',
            encoding="utf-8",
        )
        self.sandbox = Sandbox(
            synthetic_seed(self.orders),
            tokens={_TOKEN: None},
            max_requests=100_000,
            latency_seconds=latency,
        ).start()
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, *options: str) -> subprocess.Popen[str]:
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("GHL_")
        }
        environment.update(GHL_BASE_URL=self.sandbox.base_url, GHL_TOKEN=_TOKEN)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "importer",
                "watch",
                str(self.root),
                "--poll",
                "0.2",
                "--settle",
                _SETTLE,
                "--config",
                str(self.config),
                *options,
            ],
            cwd=self.tmp_path,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes.append(process)
        return process

    def export(self, name: str, orders: list[SyntheticOrder] | None = None) -> Path:
        """Write an export outside the inbox, to be dropped into it whole."""
        path = self.tmp_path / name
        write_export(path, self.orders if orders is None else orders)
        return path

    def drop(self, export: Path, name: str | None = None) -> None:
        inbox = self.root / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / (name or export.name)).write_bytes(export.read_bytes())

    def created_per_order(self) -> Counter[str]:
        return Counter(entry.order_id for entry in self.sandbox.fulfillment_log())

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
        self.sandbox.stop()


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[_WatchedFolder]:
    folder = _WatchedFolder(tmp_path)
    yield folder
    folder.close()


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def summary_text(workbook: Path) -> str:
    book = openpyxl.load_workbook(workbook, read_only=True)
    try:
        rows = book["Summary"].iter_rows(values_only=True)
        return "\n".join(" ".join(str(cell) for cell in row if cell is not None) for row in rows)
    finally:
        book.close()


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


def test_slow_file_taken_only_when_complete(watched: _WatchedFolder) -> None:
    """A file written in chunks, more often than the settle period, is left until it is whole."""
    watched.start()
    lines = watched.export("slow.csv").read_bytes().splitlines(keepends=True)
    inbox_file = watched.root / "inbox" / "slow.csv"
    assert wait_for(lambda: (watched.root / "inbox").is_dir())

    taken_early = False
    with inbox_file.open("wb") as stream:
        for start in range(0, len(lines), 3):
            stream.writelines(lines[start : start + 3])
            stream.flush()
            time.sleep(0.3)
            taken_early = taken_early or not inbox_file.exists()

    assert not taken_early
    assert wait_for(lambda: (watched.root / "done" / "slow.csv").exists())
    assert len(watched.created_per_order()) == len(watched.orders)


def test_two_files_at_once_both_imported(watched: _WatchedFolder) -> None:
    half = len(watched.orders) // 2
    first = watched.export("morning.csv", watched.orders[:half])
    second = watched.export("evening.csv", watched.orders[half:])
    watched.drop(first)
    watched.drop(second)

    process = watched.start("--once")
    process.communicate(timeout=60)
    done = sorted(path.name for path in (watched.root / "done").iterdir())

    assert process.returncode == 0
    assert done == [
        "evening.csv",
        "evening.results.xlsx",
        "morning.csv",
        "morning.results.xlsx",
    ]
    assert len(watched.created_per_order()) == len(watched.orders)


def test_same_content_twice_imported_once(watched: _WatchedFolder) -> None:
    """The second name of the same content is not imported, and its results say why."""
    export = watched.export("orders.csv")
    watched.drop(export, "orders.csv")
    watched.drop(export, "second.csv")

    process = watched.start("--once")
    process.communicate(timeout=60)
    per_order = watched.created_per_order()
    copy_results = watched.root / "done" / "second.results.xlsx"

    assert process.returncode == 0
    assert max(per_order.values()) == 1
    assert len(per_order) == len(watched.orders)
    assert "same content as orders.csv" in summary_text(copy_results)
    assert "Nothing to do" in summary_text(copy_results)


def test_same_content_later_not_imported(watched: _WatchedFolder) -> None:
    """Content imported by an earlier run of the watcher is known by its hash."""
    export = watched.export("orders.csv")
    watched.drop(export)
    watched.start("--once").communicate(timeout=60)
    requests_before = len(watched.sandbox.request_log())

    watched.drop(export, "resent.csv")
    process = watched.start("--once")
    process.communicate(timeout=60)

    assert process.returncode == 0
    assert len(watched.sandbox.request_log()) == requests_before
    assert (watched.root / "done" / "resent.csv").exists()


def test_corrupt_file_failed_and_watcher_goes_on(watched: _WatchedFolder) -> None:
    process = watched.start()
    broken = watched.tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this zip stops here")
    watched.drop(broken)
    assert wait_for(lambda: (watched.root / "failed" / "broken.xlsx").exists())

    watched.drop(watched.export("good.csv"))
    good_done = wait_for(lambda: (watched.root / "done" / "good.csv").exists())
    still_running = process.poll() is None
    explanation = summary_text(watched.root / "failed" / "broken.results.xlsx")
    code, _, stderr = stop(process)

    assert good_done
    assert still_running
    assert code == 0
    assert "could not be read as an Excel workbook" in explanation
    assert "broken.xlsx: could not be read" in stderr


def test_second_watcher_on_folder_refused(watched: _WatchedFolder) -> None:
    first = watched.start()
    assert wait_for(lambda: (watched.root / ".ghl-fulfill-watch.lock").exists())
    time.sleep(0.5)

    second = watched.start("--once")
    _, stderr = second.communicate(timeout=60)
    stop(first)

    assert second.returncode == 2
    assert "Another watcher is already working" in stderr


def test_sigterm_restart_sends_each_order_once(tmp_path: Path) -> None:
    """Stopped inside a file, the watcher leaves it in processing/; the next start finishes it."""
    watched = _WatchedFolder(tmp_path, per_location=150, latency=0.03)
    try:
        watched.drop(watched.export("big.csv"))
        process = watched.start()
        assert wait_for(lambda: len(watched.sandbox.fulfillment_log()) >= 20)
        code, _, stderr = stop(process)
        left_in_processing = (watched.root / "processing" / "big.csv").exists()
        sent_before_restart = len(watched.sandbox.fulfillment_log())

        restart = watched.start("--once")
        restart.communicate(timeout=120)
        per_order = watched.created_per_order()
    finally:
        watched.close()

    assert code == 0
    assert "stays in processing/" in stderr
    assert left_in_processing
    assert sent_before_restart < len(watched.orders)
    assert restart.returncode == 0
    assert (watched.root / "done" / "big.csv").exists()
    assert len(per_order) == len(watched.orders)
    assert max(per_order.values()) == 1


# --- the watcher run in this process, with --once ------------------------------------------


@pytest.fixture
def once(watched: _WatchedFolder, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """Run `ghl-fulfill watch --once` on the watched folder in this process."""
    monkeypatch.setenv("GHL_BASE_URL", watched.sandbox.base_url)
    monkeypatch.setenv("GHL_TOKEN", _TOKEN)

    def run(*options: str) -> int:
        arguments = ["watch", str(watched.root), "--once", "--poll", "0.1", "--settle", "0.3"]
        return main([*arguments, "--config", str(watched.config), *options])

    return run


def test_rejected_order_sends_file_to_failed(
    watched: _WatchedFolder, once: Callable[..., int]
) -> None:
    export = watched.export("orders.csv")
    export.write_text(export.read_text() + "loc-x,not-an-order,1Z999,UPS,,1\n")
    watched.drop(export)

    code = once()

    assert code == 1
    assert (watched.root / "failed" / "orders.results.xlsx").exists()


def test_unreadable_file_exit_code_2(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    (watched.root / "inbox").mkdir(parents=True)
    (watched.root / "inbox" / "photo.xlsx").write_bytes(b"\x89PNG not a workbook")
    assert once() == 2


def test_refused_token_keeps_file_and_stops(
    watched: _WatchedFolder, once: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GHL_TOKEN", "a-token-the-sandbox-refuses")
    watched.drop(watched.export("orders.csv"))

    code = once()

    assert code == 3
    assert (watched.root / "processing" / "orders.csv").exists()


def test_daily_limit_keeps_file_in_processing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched = _WatchedFolder(tmp_path)
    watched.sandbox.stop()
    watched.sandbox = Sandbox(
        synthetic_seed(watched.orders), tokens={_TOKEN: None}, daily_limit=8
    ).start()
    watched.config.write_text(watched.config.read_text() + "daily_reserve = 0\n")
    monkeypatch.setenv("GHL_BASE_URL", watched.sandbox.base_url)
    monkeypatch.setenv("GHL_TOKEN", _TOKEN)
    watched.drop(watched.export("orders.csv"))
    try:
        code = main(
            [
                "watch",
                str(watched.root),
                "--once",
                "--poll",
                "0.1",
                "--settle",
                "0.3",
                "--config",
                str(watched.config),
            ]
        )
    finally:
        watched.close()

    assert code == 3
    assert (watched.root / "processing" / "orders.csv").exists()


def test_file_left_in_processing_resumed(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    processing = watched.root / "processing"
    processing.mkdir(parents=True)
    (processing / "orders.csv").write_bytes(watched.export("orders.csv").read_bytes())

    code = once()

    assert code == 0
    assert (watched.root / "done" / "orders.csv").exists()


def test_name_taken_in_done_numbered(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    done = watched.root / "done"
    done.mkdir(parents=True)
    (done / "orders.csv").write_text("an earlier day's file", encoding="utf-8")
    watched.drop(watched.export("orders.csv"))

    once()

    assert (done / "orders (2).results.xlsx").exists()


def test_file_open_in_excel_left_in_inbox(
    watched: _WatchedFolder, once: Callable[..., int]
) -> None:
    watched.drop(watched.export("orders.csv"))
    (watched.root / "inbox" / "~$orders.csv").write_bytes(b"owner")

    code = once()

    assert code == 3
    assert (watched.root / "inbox" / "orders.csv").exists()


def test_windows_thumbnail_file_left_alone(
    watched: _WatchedFolder, once: Callable[..., int]
) -> None:
    (watched.root / "inbox").mkdir(parents=True)
    (watched.root / "inbox" / "Thumbs.db").write_bytes(b"\x00" * 64)

    code = once()

    assert code == 0
    assert (watched.root / "inbox" / "Thumbs.db").exists()


def test_folder_in_inbox_named_in_warning(
    watched: _WatchedFolder, once: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    (watched.root / "inbox" / "december").mkdir(parents=True)
    once()
    assert "december is a folder" in capsys.readouterr().err


def test_json_log_line_per_file(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    """With --log-format json, each file's outcome is one JSON line carrying its counts."""
    watched.drop(watched.export("orders.csv"))
    log_file = watched.tmp_path / "watch.log"

    once("--log-file", str(log_file), "--log-format", "json")
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    finished = [line for line in lines if line.get("event") == "file_finished"]

    assert len(finished) == 1
    assert finished[0]["created"] == len(watched.orders)


def test_token_not_in_log(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    watched.drop(watched.export("orders.csv"))
    log_file = watched.tmp_path / "watch.log"
    once("--log-file", str(log_file), "--verbose")
    assert _TOKEN not in log_file.read_text(encoding="utf-8")


def test_run_outcome_recorded_in_ledger(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    """Each file is one run of the ledger, finished with the file's outcome."""
    watched.drop(watched.export("orders.csv"))
    once()
    with contextlib.closing(sqlite3.connect(watched.tmp_path / "state" / "ledger.sqlite3")) as db:
        outcomes = db.execute("SELECT command, outcome FROM runs").fetchall()
    assert outcomes == [("watch", "done")]


def test_done_folder_removed_is_made_again(
    watched: _WatchedFolder, once: Callable[..., int]
) -> None:
    once()
    (watched.root / "done").rmdir()
    watched.drop(watched.export("orders.csv"))

    code = once()

    assert code == 0
    assert (watched.root / "done" / "orders.csv").exists()


def test_config_error_written_to_log_file(
    watched: _WatchedFolder,
    once: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A nightly run's reader looks in the log file, so the error that ended the run is there."""
    monkeypatch.delenv("GHL_TOKEN")
    log_file = watched.tmp_path / "nightly.log"

    code = once("--log-file", str(log_file))
    printed = capsys.readouterr().err

    assert code == 2
    assert "error: " in log_file.read_text(encoding="utf-8")
    assert printed.count("error: ") == 1


def test_missing_watched_folder_is_config_error(
    watched: _WatchedFolder, once: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped folder or a share not mounted must not look like an empty inbox."""
    watched.root.rmdir()
    code = once()
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_long_file_name_imported(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    """A name near the file system's limit leaves no room for longer names made from it."""
    name = "L" * 250 + ".csv"
    watched.drop(watched.export("orders.csv"), name)

    code = once()

    assert code == 0
    assert (watched.root / "done" / name).exists()


def test_file_open_for_writing_not_taken(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    """A writer that pauses longer than the settle period still has the file open."""
    inbox = watched.root / "inbox"
    inbox.mkdir()
    export = watched.export("orders.csv").read_bytes()
    (inbox / "orders.csv").write_bytes(export[: len(export) // 2])
    # Another process, as the watcher does not count its own open files.
    writer = subprocess.Popen(
        [sys.executable, "-c", _HOLD_OPEN, str(inbox / "orders.csv")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    writer.stdout.readline()
    try:
        code = once()
        still_in_inbox = (inbox / "orders.csv").exists()
    finally:
        writer.communicate(timeout=10)

    assert code == 3
    assert still_in_inbox


_HOLD_OPEN = """
import sys
with open(sys.argv[1], "ab"):
    print("open", flush=True)
    sys.stdin.read()
"""


def test_download_in_progress_not_taken(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    """Firefox writes an empty NAME beside NAME.part until the download ends."""
    inbox = watched.root / "inbox"
    inbox.mkdir()
    (inbox / "orders.csv").write_bytes(b"")
    (inbox / "orders.csv.part").write_bytes(b"Location ID,Order ID")

    once()

    assert not (watched.root / "failed" / "orders.csv").exists()


def test_control_character_in_name_escaped(
    watched: _WatchedFolder, once: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    """A name cannot start a new log line that looks like another file's."""
    watched.drop(watched.export("orders.csv"), "orders\nfake.csv")
    once()
    assert "orders\\nfake.csv" in capsys.readouterr().err


def test_once_empty_inbox_prints_nothing(
    once: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    """cron mails whatever a job prints: a night with nothing to do must print nothing."""
    once()
    assert capsys.readouterr().err == ""


def test_bug_keeps_file_and_goes_on(
    watched: _WatchedFolder, once: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected failure leaves that file in processing/, and the next file goes on."""
    real_hash = watcher.file_hash

    def hash_failing_on_first(path: Path) -> str:
        if path.name == "a-first.csv":
            raise RuntimeError("planted failure")
        return real_hash(path)

    monkeypatch.setattr(watcher, "file_hash", hash_failing_on_first)
    export = watched.export("orders.csv")
    watched.drop(export, "a-first.csv")
    watched.drop(export, "b-second.csv")

    code = once()

    assert code == 3
    assert (watched.root / "processing" / "a-first.csv").exists()
    assert (watched.root / "done" / "b-second.csv").exists()


# --- checks at start, names, logs and stops ----------------------------------------------


def test_unknown_template_stops_at_start(
    watched: _WatchedFolder, once: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every file would fail alike, so the watcher does not start."""
    watched.drop(watched.export("orders.csv"))

    code = once("--template", "no-such-template")
    printed = capsys.readouterr().err

    assert code == 2
    assert 'unknown template "no-such-template"' in printed
    assert "shipstation" in printed
    assert (watched.root / "inbox" / "orders.csv").exists()


def test_unknown_template_in_config_stops_at_start(
    watched: _WatchedFolder, once: Callable[..., int]
) -> None:
    watched.config.write_text(watched.config.read_text() + 'template = "no-such-template"\n')
    watched.drop(watched.export("orders.csv"))

    code = once()

    assert code == 2
    assert (watched.root / "inbox" / "orders.csv").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="other systems reject names not in UTF-8")
def test_undecodable_name_imported(
    watched: _WatchedFolder, once: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    """A name whose bytes are not UTF-8 is imported, and logged escaped."""
    name = os.fsdecode(b"caf\xe9.csv")
    watched.drop(watched.export("orders.csv"), name)
    log_file = watched.tmp_path / "watch.log"

    code = once("--log-file", str(log_file), "--log-format", "json")
    printed = capsys.readouterr().err
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    finished = [line for line in lines if line.get("event") == "file_finished"]

    assert code == 0
    assert os.path.exists(os.fsencode(watched.root / "done") + b"/caf\xe9.csv")
    assert "Logging error" not in printed
    assert finished[0]["file"] == "caf\\xe9.csv"


def test_lock_file_removed_stops_watcher(watched: _WatchedFolder) -> None:
    """Without its lock file, a second watcher could start on the same folder."""
    process = watched.start()
    lock_file = watched.root / ".ghl-fulfill-watch.lock"
    assert wait_for(lambda: (watched.root / "inbox").is_dir())

    lock_file.unlink()
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 3
    assert "lock file" in stderr


def test_watched_folder_removed_stops_watcher(watched: _WatchedFolder) -> None:
    process = watched.start()
    assert wait_for(lambda: (watched.root / "inbox").is_dir())

    shutil.rmtree(watched.root)
    process.communicate(timeout=30)

    assert process.returncode == 3
    assert not watched.root.exists()


def _started_big_import(tmp_path: Path, *options: str) -> tuple[_WatchedFolder, Path]:
    """Start a watcher on a file that takes some seconds to import; return the log file."""
    watched = _WatchedFolder(tmp_path, per_location=150, latency=0.03)
    log_file = tmp_path / "watch.log"
    watched.drop(watched.export("big.csv"))
    watched.start("--log-file", str(log_file), *options)
    assert wait_for(lambda: len(watched.sandbox.fulfillment_log()) >= 20)
    return watched, log_file


def test_second_signal_logs_end_line(tmp_path: Path) -> None:
    """Quitting at once mid-file is a routine stop for a service: the next start finishes it."""
    watched, log_file = _started_big_import(tmp_path, "--log-format", "json")
    # Requests now take long, so the first signal's stop is still waiting for them.
    watched.sandbox.set_faults(FaultPlan(latency_seconds=10.0))
    process = watched.processes[0]
    try:
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        time.sleep(1.5)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
        lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    finally:
        watched.close()
    events = [line.get("event") for line in lines]

    assert process.returncode == 0
    assert "watch_quit" in events
    assert lines[-1]["event"] == "watch_stopped"
    assert lines[-1]["exit_code"] == 0
    assert (watched.root / "processing" / "big.csv").exists()


def test_stop_messages_are_json_lines(tmp_path: Path) -> None:
    watched, _ = _started_big_import(tmp_path, "--log-format", "json")
    try:
        code, _, stderr = stop(watched.processes[0])
    finally:
        watched.close()
    events = [json.loads(line).get("event") for line in stderr.splitlines()]

    assert code == 0
    assert "watch_stopping" in events


def test_sighup_named_in_kept_file_line(tmp_path: Path) -> None:
    watched, _ = _started_big_import(tmp_path)
    process = watched.processes[0]
    try:
        process.send_signal(signal.SIGHUP)
        _, stderr = process.communicate(timeout=60)
    finally:
        watched.close()

    assert "stopped (SIGHUP)" in stderr
    assert "Ctrl-C or SIGTERM" not in stderr


def test_end_line_has_exit_code(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    watched.drop(watched.export("orders.csv"))
    log_file = watched.tmp_path / "watch.log"

    once("--log-file", str(log_file), "--log-format", "json")
    last = json.loads(log_file.read_text(encoding="utf-8").splitlines()[-1])

    assert last["event"] == "watch_stopped"
    assert last["exit_code"] == 0


def test_json_error_line_has_event(
    once: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GHL_TOKEN")
    once("--log-format", "json")
    line = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert line["event"] == "error"


def test_retries_not_warned_failed_order_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Retries go to the log file only; each order that failed in the end is one warning."""
    watched = _WatchedFolder(tmp_path, per_location=1)
    watched.sandbox.stop()
    watched.sandbox = Sandbox(
        synthetic_seed(watched.orders),
        tokens={_TOKEN: None},
        faults=FaultPlan(error_rate=1.0, error_scope=FaultScope.CREATE_FULFILLMENT, seed=1),
    ).start()
    monkeypatch.setenv("GHL_BASE_URL", watched.sandbox.base_url)
    monkeypatch.setenv("GHL_TOKEN", _TOKEN)
    watched.drop(watched.export("orders.csv"))
    arguments = ["watch", str(watched.root), "--once", "--poll", "0.1", "--settle", "0.3"]
    try:
        code = main([*arguments, "--config", str(watched.config)])
    finally:
        watched.close()
    printed = capsys.readouterr().err

    assert code == 1
    assert "(attempt" not in printed
    assert "retry" not in printed
    assert printed.count("failed: not created after") == len(watched.orders)


def test_workbook_names_dropped_file(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    watched.drop(watched.export("orders.csv"))
    once()
    summary = summary_text(watched.root / "done" / "orders.results.xlsx")
    assert str(watched.root / "inbox" / "orders.csv") in summary
    assert "processing" not in summary


def test_history_finds_file_by_inbox_path(
    watched: _WatchedFolder, once: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    watched.drop(watched.export("orders.csv"))
    once()
    capsys.readouterr()

    main(["history", "--file", str(watched.root / "inbox" / "orders.csv"), *_state(watched)])
    printed = capsys.readouterr().out

    assert printed.count("created") == len(watched.orders)


def test_history_finds_file_by_done_path(
    watched: _WatchedFolder, once: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    watched.drop(watched.export("orders.csv"))
    once()
    capsys.readouterr()

    main(["history", "--file", str(watched.root / "done" / "orders.csv"), *_state(watched)])
    printed = capsys.readouterr().out

    assert printed.count("created") == len(watched.orders)


def _state(watched: _WatchedFolder) -> list[str]:
    return ["--state-dir", str(watched.tmp_path / "state")]


def test_notice_escapes_control_character(
    watched: _WatchedFolder, once: Callable[..., int]
) -> None:
    """The line naming the customer email setting names the file too."""
    watched.drop(watched.export("orders.csv"), "orders\nfake.csv")
    log_file = watched.tmp_path / "watch.log"

    once("--log-file", str(log_file))

    assert "orders\nfake.csv" not in log_file.read_text(encoding="utf-8")


def test_log_file_in_inbox_not_imported(watched: _WatchedFolder, once: Callable[..., int]) -> None:
    log_file = watched.root / "inbox" / "nightly.txt"

    code = once("--log-file", str(log_file))

    assert code == 0
    assert log_file.exists()
    assert list((watched.root / "failed").iterdir()) == []


def test_header_only_file_failed(
    watched: _WatchedFolder, once: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    """An export with no rows usually comes from a wrong filter; done/ would hide that."""
    watched.drop(watched.export("empty.csv", []))

    code = once()
    printed = capsys.readouterr().err

    assert code == 2
    assert (watched.root / "failed" / "empty.csv").exists()
    assert "the file has a header but no rows" in printed
    assert "header but no rows" in summary_text(watched.root / "failed" / "empty.results.xlsx")


def test_once_waits_settle_period_not_poll(
    watched: _WatchedFolder, once: Callable[..., int]
) -> None:
    watched.drop(watched.export("orders.csv"))
    started = time.monotonic()

    once("--poll", "30")

    assert time.monotonic() - started < 15
    assert (watched.root / "done" / "orders.csv").exists()
