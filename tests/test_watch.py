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

from importer.cli import main
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
from importer.watch.folders import unsafe_entry_reason

PROJECT = Path(__file__).resolve().parents[1]
MANUAL_SAMPLE = PROJECT / "sample_data" / "manual_fulfillments.csv"
posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX links and names")


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


# --- links and odd names: nothing is read or moved through a link ------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the watched one, holding a file that must stay where it is."""
    folder = tmp_path / "outside"
    folder.mkdir()
    make_file(folder, "secret.csv", "Order ID,Tracking Number\nnot,for the inbox\n")
    return folder


@pytest.fixture
def folders(tmp_path: Path) -> WatchFolders:
    (tmp_path / "watched").mkdir()
    return WatchFolders.create(tmp_path / "watched")


def test_symlink_to_outside_file_not_candidate(folders: WatchFolders, outside: Path) -> None:
    link = folders.inbox / "orders.csv"
    link.symlink_to(outside / "secret.csv")
    assert not is_candidate(link)


def test_symlink_to_outside_folder_not_candidate(folders: WatchFolders, outside: Path) -> None:
    link = folders.inbox / "orders.csv"
    link.symlink_to(outside, target_is_directory=True)
    assert unsafe_entry_reason(link) == "is a link"


def test_symlink_loop_not_candidate(folders: WatchFolders) -> None:
    link = folders.inbox / "loop.csv"
    link.symlink_to(link)
    assert unsafe_entry_reason(link) == "is a link"


def test_dangling_symlink_not_candidate(folders: WatchFolders, tmp_path: Path) -> None:
    link = folders.inbox / "gone.csv"
    link.symlink_to(tmp_path / "nothing-here.csv")
    assert not is_candidate(link)


def test_hard_link_to_outside_file_not_candidate(folders: WatchFolders, outside: Path) -> None:
    """A second name of a file elsewhere is left alone: its dropper may not be able to read it."""
    link = folders.inbox / "orders.csv"
    os.link(outside / "secret.csv", link)
    assert unsafe_entry_reason(link) == (
        "has 2 names (hard links), so it may belong to another folder"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipe_not_candidate(folders: WatchFolders) -> None:
    """Opening a named pipe would block the watcher until something writes to it."""
    pipe = folders.inbox / "orders.csv"
    os.mkfifo(pipe)
    assert unsafe_entry_reason(pipe) == "is not a regular file"


@pytest.mark.parametrize("subfolder", ["inbox", "processing", "done", "failed"])
def test_linked_subfolder_rejected(tmp_path: Path, outside: Path, subfolder: str) -> None:
    root = tmp_path / "watched"
    root.mkdir()
    (root / subfolder).symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match="is a link to another place") as raised:
        WatchFolders.create(root)
    assert str(root / subfolder) in str(raised.value)


def test_dangling_linked_subfolder_rejected(tmp_path: Path) -> None:
    """A link to nothing is refused too, and not replaced by a folder of the link's name."""
    root = tmp_path / "watched"
    root.mkdir()
    (root / "done").symlink_to(tmp_path / "not-mounted", target_is_directory=True)
    with pytest.raises(ConfigError, match="is a link"):
        WatchFolders.create(root)


def test_linked_watched_folder_accepted(tmp_path: Path) -> None:
    """The user names the watched folder on the command line, so it may be a link."""
    (tmp_path / "real").mkdir()
    (tmp_path / "watched").symlink_to(tmp_path / "real", target_is_directory=True)
    folders = WatchFolders.create(tmp_path / "watched")
    assert (tmp_path / "real" / "inbox").is_dir()
    assert folders.inbox == tmp_path / "watched" / "inbox"


def test_subfolder_linked_later_fails_check(folders: WatchFolders, outside: Path) -> None:
    folders.done.rmdir()
    folders.done.symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match="done"):
        folders.check_not_linked()


def test_move_into_leaves_link_entry(folders: WatchFolders, outside: Path) -> None:
    """A link met by a move raises, and neither the link nor the file it names is moved."""
    link = folders.inbox / "orders.csv"
    link.symlink_to(outside / "secret.csv")
    with pytest.raises(OSError, match="does not follow links"):
        move_into(link, folders.processing)
    assert link.is_symlink()
    assert (outside / "secret.csv").is_file()
    assert list(folders.processing.iterdir()) == []


def test_move_into_linked_folder_rejected(folders: WatchFolders, outside: Path) -> None:
    path = make_file(folders.inbox, "orders.csv")
    folders.done.rmdir()
    folders.done.symlink_to(outside, target_is_directory=True)
    with pytest.raises(OSError, match="does not follow links"):
        move_into(path, folders.done)
    assert sorted(entry.name for entry in outside.iterdir()) == ["secret.csv"]


@pytest.mark.parametrize("name", ["../escape.csv", "sub/orders.csv", "..", ".", "", "a\x00b"])
def test_move_into_path_as_name_rejected(folders: WatchFolders, tmp_path: Path, name: str) -> None:
    path = make_file(folders.inbox, "orders.csv")
    with pytest.raises(ValueError, match="is not a file name"):
        move_into(path, folders.done, name or ".")
    assert path.is_file()
    assert not (folders.root / "escape.csv").exists()


@posix_only
@pytest.mark.parametrize(
    "name",
    [
        pytest.param("..orders.csv", id="leading-dots"),
        pytest.param("orders..csv", id="double-dot-inside"),
        pytest.param("...", id="three-dots"),
        pytest.param("-rf.csv", id="leading-dash"),
        pytest.param("--help", id="option-like"),
        pytest.param("a\\..\\b.csv", id="backslashes"),
        pytest.param("orders\n2026.csv", id="newline"),
        pytest.param("orders\r.csv", id="carriage-return"),
        pytest.param("orders\x01\x7f.csv", id="control-characters"),
        pytest.param(os.fsdecode(b"orders\xff\xfe.csv"), id="undecodable-bytes"),
        pytest.param("x" * 250 + ".csv", id="long"),
    ],
)
def test_odd_name_moved_within_folder(folders: WatchFolders, name: str) -> None:
    path = folders.inbox / name
    path.write_text("Order ID\n", encoding="utf-8")
    moved = move_into(path, folders.done)
    assert moved.parent == folders.done
    assert moved.name == name
    assert moved.is_file()


@posix_only
def test_odd_name_numbered_within_folder(folders: WatchFolders) -> None:
    """A taken odd name gets its number inside the same folder."""
    name = "..\\..\\-orders\n.csv"
    make_file(folders.done, name)
    moved = move_into(make_file(folders.inbox, name), folders.done)
    assert moved == folders.done / "..\\..\\-orders\n (2).csv"


def test_long_name_numbered_within_folder(folders: WatchFolders) -> None:
    name = "é" * 120 + ".csv"
    make_file(folders.done, name)
    moved = move_into(make_file(folders.inbox, name), folders.done)
    assert moved.parent == folders.done
    assert moved.name.endswith(" (2).csv")


def test_move_does_not_replace_dangling_link(folders: WatchFolders, tmp_path: Path) -> None:
    """A dangling link of the same name is an entry too: the file gets a number instead."""
    (folders.done / "orders.csv").symlink_to(tmp_path / "nothing-here.csv")
    moved = move_into(make_file(folders.inbox, "orders.csv"), folders.done)
    assert moved.name == "orders (2).csv"
    assert (folders.done / "orders.csv").is_symlink()


def run_watch_once(root: Path, state: Path) -> int:
    return main(
        [
            "watch",
            str(root),
            "--once",
            "--sandbox",
            "--settle",
            "0.2",
            "--poll",
            "0.1",
            "--state-dir",
            str(state),
        ]
    )


def test_watcher_leaves_links_in_inbox(
    folders: WatchFolders, outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real watcher run over links of each kind imports only the plain file."""
    shutil.copy(MANUAL_SAMPLE, outside / "export.csv")
    secret_before = (outside / "secret.csv").read_bytes()
    (folders.inbox / "to-file.csv").symlink_to(outside / "export.csv")
    (folders.inbox / "to-folder.csv").symlink_to(outside, target_is_directory=True)
    (folders.inbox / "loop.csv").symlink_to(folders.inbox / "loop.csv")
    os.link(outside / "secret.csv", folders.inbox / "hard-link.csv")
    shutil.copy(MANUAL_SAMPLE, folders.inbox / "plain.csv")

    run_watch_once(folders.root, tmp_path / "state")

    linked = {"to-file.csv", "to-folder.csv", "loop.csv", "hard-link.csv"}
    assert {entry.name for entry in folders.inbox.iterdir()} == linked
    # The sample has one rejected order, so the plain file ends in failed/.
    moved_files = [*folders.done.iterdir(), *folders.failed.iterdir()]
    assert sorted(entry.name for entry in moved_files) == ["plain.csv", "plain.results.xlsx"]
    assert list(folders.processing.iterdir()) == []
    assert (outside / "secret.csv").read_bytes() == secret_before
    assert sorted(entry.name for entry in outside.iterdir()) == ["export.csv", "secret.csv"]
    output = capsys.readouterr().err
    for name in linked:
        assert f"{name} " in output
    assert output.count("it is left alone") == len(linked)


def test_watcher_refuses_linked_subfolder(
    tmp_path: Path, outside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "watched"
    (root / "inbox").mkdir(parents=True)
    shutil.copy(MANUAL_SAMPLE, root / "inbox" / "plain.csv")
    (root / "failed").symlink_to(outside, target_is_directory=True)

    code = run_watch_once(root, tmp_path / "state")

    assert code == 2
    assert f"{root / 'failed'} is a link" in capsys.readouterr().err
    assert (root / "inbox" / "plain.csv").is_file()
