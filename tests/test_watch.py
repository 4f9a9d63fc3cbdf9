"""Tests for importer.watch: the folders, which files are ready, and the lock."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from importer.errors import ConfigError, RunAbortedError
from importer.watch import (
    LOCK_FILE_NAME,
    SettleTracker,
    WatchFolders,
    fitted_name,
    folder_lock,
    is_candidate,
    is_export_name,
    is_open_elsewhere,
    move_into,
    printable,
)


def make_file(folder: Path, name: str, text: str = "Order ID,Tracking Number\n") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_folders_created(tmp_path: Path) -> None:
    folders = WatchFolders.create(tmp_path)
    assert all(folder.is_dir() for folder in (folders.inbox, folders.done, folders.failed))


def test_missing_folder_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        WatchFolders.create(tmp_path / "not-mounted")


def test_subfolder_that_cannot_be_made_is_config_error(tmp_path: Path) -> None:
    make_file(tmp_path, "inbox")
    with pytest.raises(ConfigError, match="cannot be used"):
        WatchFolders.create(tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        "~$orders.xlsx",
        ".~lock.orders.xlsx#",
        "orders.xlsx.crdownload",
        "orders.csv.part",
        "orders.tmp",
        ".hidden.csv",
    ],
)
def test_unfinished_file_not_candidate(tmp_path: Path, name: str) -> None:
    assert not is_candidate(make_file(tmp_path, name))


def test_export_is_candidate(tmp_path: Path) -> None:
    assert is_candidate(make_file(tmp_path, "orders 2026-12-01.csv"))


def test_symlink_not_candidate(tmp_path: Path) -> None:
    """A link could lead outside the watched folder, so it is never followed."""
    target = make_file(tmp_path, "elsewhere.csv")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert not is_candidate(link)


def test_new_file_not_settled(tmp_path: Path) -> None:
    tracker = SettleTracker(settle_seconds=5)
    path = make_file(tmp_path, "orders.csv")
    assert tracker.settled([path], now=0.0) == []


def test_unchanged_file_settles(tmp_path: Path) -> None:
    tracker = SettleTracker(settle_seconds=5)
    path = make_file(tmp_path, "orders.csv")
    tracker.settled([path], now=0.0)
    assert tracker.settled([path], now=5.0) == [path]


def test_growing_file_starts_over(tmp_path: Path) -> None:
    """A file still being written is not ready until it stops changing for the period."""
    tracker = SettleTracker(settle_seconds=5)
    path = make_file(tmp_path, "orders.csv")
    tracker.settled([path], now=0.0)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("6650a1b2c3d4e5f601000001,1Z999AA10123456784\n")
    assert tracker.settled([path], now=5.0) == []
    assert tracker.settled([path], now=10.0) == [path]


def test_vanished_file_forgotten(tmp_path: Path) -> None:
    tracker = SettleTracker(settle_seconds=5)
    path = make_file(tmp_path, "orders.csv")
    tracker.settled([path], now=0.0)
    path.unlink()
    assert tracker.settled([path], now=5.0) == []


def test_move_keeps_name(tmp_path: Path) -> None:
    folders = WatchFolders.create(tmp_path)
    path = make_file(folders.inbox, "orders.csv")
    assert move_into(path, folders.processing) == folders.processing / "orders.csv"


def test_move_numbers_taken_name(tmp_path: Path) -> None:
    """A file of the same name already in done/ is kept; the new one gets a number."""
    folders = WatchFolders.create(tmp_path)
    make_file(folders.done, "orders.csv")
    path = make_file(folders.inbox, "orders.csv")
    assert move_into(path, folders.done) == folders.done / "orders (2).csv"


_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from importer.watch import WatchFolders, folder_lock
    with folder_lock(WatchFolders.create(Path(sys.argv[1]))):
        print("locked", flush=True)
        time.sleep(60)
    """
)


@contextmanager
def lock_held_elsewhere(root: Path) -> Iterator[subprocess.Popen[str]]:
    """Run another process that takes the folder's lock and keeps it until killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "locked"
        yield process
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_second_watcher_refused(tmp_path: Path) -> None:
    folders = WatchFolders.create(tmp_path)
    with (
        lock_held_elsewhere(tmp_path),
        pytest.raises(ConfigError, match="Another watcher"),
        folder_lock(folders),
    ):
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGKILL")
def test_lock_of_killed_watcher_not_stuck(tmp_path: Path) -> None:
    """A watcher killed outright leaves no lock behind: the system releases it."""
    folders = WatchFolders.create(tmp_path)
    with lock_held_elsewhere(tmp_path) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        with folder_lock(folders):
            acquired = True
    assert acquired


@pytest.mark.parametrize("name", ["Thumbs.db", "desktop.ini", "DESKTOP.INI"])
def test_windows_system_file_not_export(name: str) -> None:
    assert not is_export_name(name)


@pytest.mark.parametrize(
    "owner",
    ["~$orders-2026-12-01.xlsx", "~$ders-2026-12-01.xlsx", ".~lock.orders-2026-12-01.xlsx#"],
)
def test_office_lock_file_marks_export_open(tmp_path: Path, owner: str) -> None:
    export = make_file(tmp_path, "orders-2026-12-01.xlsx")
    make_file(tmp_path, owner)
    assert is_open_elsewhere(export)


def test_export_without_lock_file_not_open(tmp_path: Path) -> None:
    export = make_file(tmp_path, "orders-2026-12-01.xlsx")
    make_file(tmp_path, "~$other.xlsx")
    assert not is_open_elsewhere(export)


def test_results_name_numbered_before_suffix(tmp_path: Path) -> None:
    """orders.results.xlsx taken gives orders (2).results.xlsx, which pairs with orders (2).csv."""
    folder = tmp_path / "done"
    folder.mkdir()
    make_file(folder, "orders.results.xlsx")
    results = make_file(tmp_path, "workbook.xlsx")

    moved = move_into(results, folder, "orders.results.xlsx")

    assert moved.name == "orders (2).results.xlsx"


# Python keeps a name's bytes that are not UTF-8 as surrogates, as os.listdir returns them.
_UNDECODABLE_STEM = os.fsdecode(b"caf\xe9")


def test_fitted_name_keeps_undecodable_bytes() -> None:
    assert os.fsencode(fitted_name(_UNDECODABLE_STEM, ".csv")) == b"caf\xe9.csv"


def test_fitted_name_shortens_undecodable_stem() -> None:
    name = fitted_name(_UNDECODABLE_STEM * 100, ".csv")
    assert len(os.fsencode(name)) <= 255
    assert name.endswith(".csv")


def test_fitted_name_cut_keeps_whole_characters() -> None:
    """A cut through a two-byte character would leave a byte that is not UTF-8."""
    name = fitted_name("é" * 200, ".csv")
    assert os.fsencode(name).decode("utf-8") == "é" * 125 + ".csv"


def test_printable_escapes_undecodable_byte() -> None:
    assert printable(_UNDECODABLE_STEM + ".csv") == "caf\\xe9.csv"


def test_printable_escapes_newline() -> None:
    assert printable("orders\nfake.csv") == "orders\\nfake.csv"


@pytest.mark.parametrize("name", ["watch.log", "NIGHTLY.LOG", "watch.log.1", "watch.log.12"])
def test_log_file_not_export(name: str) -> None:
    assert not is_export_name(name)


def test_name_with_log_inside_is_export() -> None:
    assert is_export_name("catalog.csv")


def test_lock_check_passes_while_file_kept(tmp_path: Path) -> None:
    folders = WatchFolders.create(tmp_path)
    with folder_lock(folders) as lock:
        lock.check()


def test_lock_check_fails_when_file_removed(tmp_path: Path) -> None:
    folders = WatchFolders.create(tmp_path)
    with folder_lock(folders) as lock:
        (tmp_path / LOCK_FILE_NAME).unlink()
        with pytest.raises(RunAbortedError, match="was removed or replaced"):
            lock.check()


def test_lock_check_fails_when_file_replaced(tmp_path: Path) -> None:
    """A new lock file of the same name is another watcher's to lock, not this one's."""
    folders = WatchFolders.create(tmp_path)
    with folder_lock(folders) as lock:
        (tmp_path / LOCK_FILE_NAME).unlink()
        make_file(tmp_path, LOCK_FILE_NAME, "")
        with pytest.raises(RunAbortedError, match="was removed or replaced"):
            lock.check()


def test_lock_check_fails_when_folder_removed(tmp_path: Path) -> None:
    root = tmp_path / "watched"
    root.mkdir()
    folders = WatchFolders.create(root)
    with folder_lock(folders) as lock:
        shutil.rmtree(root)
        with pytest.raises(RunAbortedError, match="was removed or replaced"):
            lock.check()
