"""A results file that cannot be saved after orders were sent: the run still accounts for them."""

from __future__ import annotations

import errno
import os
import time
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pytest
from openpyxl import load_workbook

from importer import pipeline
from importer.cli import main
from importer.errors import ReportError
from importer.records import FileResult
from importer.report import remove_unfinished_files
from importer.report.saving import save_replacing

PROJECT = Path(__file__).resolve().parents[1]
MANUAL_SAMPLE = PROJECT / "sample_data" / "manual_fulfillments.csv"


@pytest.fixture
def results_unsaved(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every results file fail to save, as one held open by another program would.

    The check before sending still passes, so the orders are sent first.
    """
    monkeypatch.setattr(pipeline, "write_results", _failing_writer)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(MANUAL_SAMPLE.read_bytes())
    return path


def _import(export: Path, state: Path) -> int:
    return main(["import", str(export), "--sandbox", "--state-dir", str(state)])


@pytest.mark.usefixtures("results_unsaved")
def test_unsaved_results_exit_code_3(export: Path, tmp_path: Path) -> None:
    assert _import(export, tmp_path / "state") == 3


@pytest.mark.usefixtures("results_unsaved")
def test_unsaved_results_summary_printed(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(export, tmp_path / "state")
    assert "10 created" in capsys.readouterr().out


@pytest.mark.usefixtures("results_unsaved")
def test_unsaved_results_names_report_command(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(export, tmp_path / "state")
    assert "`ghl-fulfill report 1 --results FOLDER`" in capsys.readouterr().err


@pytest.mark.usefixtures("results_unsaved")
def test_unsaved_results_history_recorded(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(export, tmp_path / "state")
    capsys.readouterr()
    main(["history", "--state-dir", str(tmp_path / "state")])
    assert capsys.readouterr().out.count(" created ") == 10


def test_unsaved_results_rebuilt_by_report(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "write_results", _failing_writer)
        _import(export, state)
    monkeypatch.chdir(tmp_path)
    main(["report", "1", "--state-dir", str(state)])
    orders = load_workbook(tmp_path / "export.run1.results.xlsx")["Orders"]
    statuses = [row[3] for row in orders.iter_rows(min_row=2, values_only=True)]
    assert statuses.count("created") == 10


def test_busy_target_uses_second_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A target that is a mount point in use (EBUSY) falls back to "(2)", as a locked file does."""
    target = tmp_path / "dec-01.results.xlsx"
    real_replace = os.replace

    def replace(source: str | Path, destination: str | Path) -> None:
        if Path(destination) == target:
            raise OSError(errno.EBUSY, "Device or resource busy", str(destination))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    result = FileResult(path=tmp_path / "dec-01.csv", started_at=datetime.now())
    written = pipeline.write_results(result, target)
    assert written == tmp_path / "dec-01.results (2).xlsx"


def _failing_writer(result: FileResult, path: Path) -> Path:
    raise ReportError(path, "cannot save the results (Device or resource busy).")


def test_old_leftover_temporary_removed(tmp_path: Path) -> None:
    """A hidden temporary file of a run killed while writing is removed by the next save."""
    target = tmp_path / "dec-01.results.xlsx"
    leftover = tmp_path / ".dec-01.results.xlsx.0a1b2c3d.tmp"
    leftover.write_bytes(b"")
    an_hour_ago = time.time() - 3600
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    pipeline.write_results(
        FileResult(path=tmp_path / "dec-01.csv", started_at=datetime.now()), target
    )
    assert not leftover.exists()


def test_recent_temporary_kept(tmp_path: Path) -> None:
    """A temporary file changed a moment ago may belong to a run still writing, so it stays."""
    target = tmp_path / "dec-01.results.xlsx"
    recent = tmp_path / ".dec-01.results.xlsx.0a1b2c3d.tmp"
    recent.write_bytes(b"")
    pipeline.write_results(
        FileResult(path=tmp_path / "dec-01.csv", started_at=datetime.now()), target
    )
    assert recent.exists()


def test_unfinished_file_removed_before_quit(tmp_path: Path) -> None:
    """The file being written is deleted when the process must quit at once."""
    seen: list[bool] = []

    def write_then_quit(handle: BinaryIO) -> None:
        handle.write(b"half a workbook")
        remove_unfinished_files()
        seen.append(any(tmp_path.glob(".*.tmp")))
        raise _Quit

    with pytest.raises(_Quit):
        save_replacing(tmp_path / "dec-01.results.xlsx", write_then_quit)
    assert seen == [False]


class _Quit(Exception):
    """Stands for os._exit, which would end the test process."""
