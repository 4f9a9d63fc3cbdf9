"""`ghl-fulfill report`: results rebuilt from the ledger, after a finished run or a killed one.

Imports run for real: in this process against the built-in sandbox, or in a
child process against a sandbox served from this process over loopback, whose
log of created fulfillments is the truth that the rebuilt results are checked
against.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from importer.cli import main
from importer.ledger import LEDGER_FILE_NAME, Ledger
from importer.records import ErrorKind, FileResult, OrderStatus
from importer.report import load_result
from importer.sandbox import Sandbox
from importer.sandbox.synthetic import (
    location_ids,
    synthetic_orders,
    synthetic_seed,
    write_export,
)

PROJECT = Path(__file__).resolve().parents[1]
MANUAL_SAMPLE = PROJECT / "sample_data" / "manual_fulfillments.csv"
UPS_SAMPLE = PROJECT / "sample_data" / "ups_worldship_2026-12-01.xlsx"
LEDGER_V3 = PROJECT / "tests" / "data" / "ledger_v3.sqlite3"
_TOKEN = "report-token"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in a folder of the test's own, where the report writes by default."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def workbook_values(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}
    finally:
        book.close()


def import_sample(folder: Path, *names: str, sample: Path = MANUAL_SAMPLE) -> None:
    """Import copies of a sample into the built-in sandbox, in one run."""
    paths = []
    for name in names:
        path = folder / name
        shutil.copyfile(sample, path)
        paths.append(str(path))
    main(["import", *paths, "--sandbox", "--state-dir", str(folder / "state")])


# --- a finished run ------------------------------------------------------------------------------


def test_finished_run_rebuilt_as_its_workbook(workdir: Path) -> None:
    """The results of a finished run, rebuilt, hold the values of the workbook it wrote."""
    import_sample(workdir, "monday.csv")

    code = main(["report", "1", "--state-dir", str(workdir / "state")])

    assert code == 0
    rebuilt = workbook_values(workdir / "monday.run1.results.xlsx")
    assert rebuilt == workbook_values(workdir / "monday.results.xlsx")


def test_report_leaves_runs_workbook_alone(workdir: Path) -> None:
    """The workbook beside the input, which the user may have edited, is not written over."""
    import_sample(workdir, "monday.csv")
    workbook = workdir / "monday.results.xlsx"
    before = workbook.read_bytes()

    main(["report", "1", "--state-dir", str(workdir / "state")])

    assert workbook.read_bytes() == before


def test_results_over_runs_workbook_rejected(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_sample(workdir, "monday.csv")
    capsys.readouterr()

    code = main(
        ["report", "1", "--state-dir", str(workdir / "state"), "--results", "monday.results.xlsx"]
    )

    assert code == 2
    assert "would overwrite the results file of the run" in capsys.readouterr().err


def test_results_over_input_rejected(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_sample(workdir, "monday.xlsx", sample=UPS_SAMPLE)
    capsys.readouterr()

    code = main(["report", "1", "--state-dir", str(workdir / "state"), "--results", "monday.xlsx"])

    assert code == 2
    assert "would overwrite the input file of the run" in capsys.readouterr().err


def test_results_format_json_gives_document(workdir: Path) -> None:
    """--results-format json writes the results document, which reads back whole."""
    import_sample(workdir, "monday.csv")

    main(["report", "1", "--state-dir", str(workdir / "state"), "--results-format", "json"])

    result = load_result((workdir / "monday.run1.results.json").read_bytes())
    assert result.count(OrderStatus.CREATED) == 10
    assert result.count(OrderStatus.REJECTED) == 1


def test_each_file_of_run_rebuilt(workdir: Path) -> None:
    """A run of several files gets one results file each, named apart when the names match."""
    (workdir / "other").mkdir()
    import_sample(workdir, "monday.csv", "other/monday.csv")

    code = main(["report", "1", "--state-dir", str(workdir / "state")])

    assert code == 0
    assert (workdir / "monday.run1.results.xlsx").is_file()
    assert (workdir / "monday (2).run1.results.xlsx").is_file()


def test_results_file_with_several_files_rejected(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_sample(workdir, "monday.csv", "tuesday.csv")
    capsys.readouterr()

    code = main(["report", "1", "--state-dir", str(workdir / "state"), "--results", "out.xlsx"])

    assert code == 2
    assert "give a folder" in capsys.readouterr().err


def test_results_folder_takes_each_file(workdir: Path) -> None:
    import_sample(workdir, "monday.csv", "tuesday.csv")
    (workdir / "reports").mkdir()

    main(["report", "1", "--state-dir", str(workdir / "state"), "--results", "reports"])

    written = sorted(path.name for path in (workdir / "reports").iterdir())
    assert written == ["monday.run1.results.xlsx", "tuesday.run1.results.xlsx"]


# --- runs that cannot be rebuilt -----------------------------------------------------------------


def test_unknown_run_named(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_sample(workdir, "monday.csv")
    capsys.readouterr()

    code = main(["report", "7", "--state-dir", str(workdir / "state")])

    assert code == 2
    error = capsys.readouterr().err
    assert "there is no import run 7" in error
    assert "ghl-fulfill history" in error


def test_no_ledger_names_state_folder(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", "1", "--state-dir", str(workdir / "empty")])

    assert code == 2
    assert "--state-dir" in capsys.readouterr().err


def test_run_before_results_stored(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run recorded by a version 3 ledger has no results there: the message names its input."""
    (workdir / "state").mkdir()
    shutil.copyfile(LEDGER_V3, workdir / "state" / LEDGER_FILE_NAME)

    code = main(["report", "1", "--state-dir", str(workdir / "state")])

    assert code == 2
    error = capsys.readouterr().err
    assert "stored no results in the ledger" in error
    assert "manual_fulfillments.csv" in error


def test_dry_run_has_no_results(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = Ledger.open(workdir / "state")
    run_id = ledger.start_run("import", dry_run=True)
    ledger.finish_run(run_id, "done")
    ledger.close()

    code = main(["report", str(run_id), "--state-dir", str(workdir / "state")])

    assert code == 2
    assert "was a dry run" in capsys.readouterr().err


# --- a run killed part way -----------------------------------------------------------------------


class _SlowImport:
    """A sandbox with latency in this process, and imports of its export in child processes."""

    def __init__(self, folder: Path, orders: int) -> None:
        self.folder = folder
        self.orders = synthetic_orders(location_ids(2), orders // 2)
        self.export = folder / "agency.csv"
        write_export(self.export, self.orders)
        self.state = folder / "state"
        (folder / "ghl-fulfill.toml").write_text(
            f'state_dir = "{self.state}"\nrate_limit_requests = 100000\n', encoding="utf-8"
        )
        self.sandbox = Sandbox(
            synthetic_seed(self.orders),
            tokens={_TOKEN: None},
            max_requests=100_000,
            latency_seconds=0.03,
        ).start()

    def start(self) -> subprocess.Popen[str]:
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("GHL_")
        }
        environment.update(GHL_BASE_URL=self.sandbox.base_url, GHL_TOKEN=_TOKEN)
        return subprocess.Popen(
            [sys.executable, "-m", "importer", "import", str(self.export)],
            cwd=self.folder,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_for_created(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.sandbox.fulfillment_log()) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def created_ids(self) -> dict[str, str]:
        """Return the fulfillment the sandbox created for each order."""
        return {entry.order_id: entry.fulfillment_id for entry in self.sandbox.fulfillment_log()}

    def created_per_order(self) -> Counter[str]:
        return Counter(entry.order_id for entry in self.sandbox.fulfillment_log())

    def report(self) -> FileResult:
        """Rebuild run 1 as a results document and read it."""
        code = main(["report", "1", "--state-dir", str(self.state), "--results-format", "json"])
        assert code == 0
        return load_result((self.folder / "agency.run1.results.json").read_bytes())


@pytest.fixture
def killed_run(workdir: Path) -> Iterator[_SlowImport]:
    """Start an import of 400 orders and SIGKILL it once it has created some of them."""
    agency = _SlowImport(workdir, orders=400)
    process = agency.start()
    try:
        agency.wait_for_created(40)
        process.send_signal(signal.SIGKILL)
        # Waiting reaps the process, so that the ledger no longer finds it alive.
        process.communicate(timeout=60)
        # Requests that reached the sandbox before the kill finish within its latency.
        time.sleep(0.5)
        yield agency
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        agency.sandbox.stop()


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_live_run_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The report of a run that still runs is refused, because its results are not final."""
    agency = _SlowImport(workdir, orders=400)
    process = agency.start()
    try:
        agency.wait_for_created(20)
        code = main(["report", "1", "--state-dir", str(agency.state)])
    finally:
        process.kill()
        process.communicate()
        agency.sandbox.stop()

    assert code == 2
    assert "import run 1 is still running" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_killed_run_created_orders_match_sandbox(
    killed_run: _SlowImport,
) -> None:
    """Each order the rebuilt results list created was created, with the same fulfillment."""
    agency = killed_run
    created = agency.created_ids()

    result = agency.report()

    listed = {
        order.order_id: order.fulfillment_id
        for order in result.orders
        if order.status is OrderStatus.CREATED
    }
    assert listed
    assert all(created.get(order_id) == fulfillment for order_id, fulfillment in listed.items())


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_killed_run_misses_no_created_order(killed_run: _SlowImport) -> None:
    """An order the sandbox created is listed created, or as one that may have been created."""
    agency = killed_run
    created = agency.created_ids()

    result = agency.report()

    may_exist = {
        order.order_id
        for order in result.orders
        if order.status is OrderStatus.CREATED or order.kind is ErrorKind.UNCERTAIN
    }
    assert set(created) <= may_exist


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_killed_run_rest_deferred_or_uncertain(killed_run: _SlowImport) -> None:
    """Every order not created is deferred, or failed as uncertain; none is lost."""
    agency = killed_run

    result = agency.report()

    others = [order for order in result.orders if order.status is not OrderStatus.CREATED]
    deferred = [order for order in others if order.status is OrderStatus.DEFERRED]
    uncertain = [order for order in others if order.kind is ErrorKind.UNCERTAIN]
    assert len(result.orders) == 400
    assert deferred
    assert len(deferred) + len(uncertain) == len(others)
    assert all(order.kind is ErrorKind.STOPPED for order in deferred)
    assert all(order.status is OrderStatus.FAILED for order in uncertain)
    assert all("checks HighLevel first" in order.message for order in uncertain)


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_killed_run_rows_follow_orders(killed_run: _SlowImport) -> None:
    """Each input row takes its order's rebuilt status."""
    agency = killed_run

    result = agency.report()

    status_of = {order.order_id: order.status.value for order in result.orders}
    assert all(row.status == status_of[row.order_id] for row in result.rows)


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_killed_run_report_says_how_it_ended(
    killed_run: _SlowImport, capsys: pytest.CaptureFixture[str]
) -> None:
    agency = killed_run
    capsys.readouterr()

    result = agency.report()

    assert "import run 1 ended before it finished" in result.stopped_reason
    assert "ended before it finished" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_killed_run_then_import_sends_rest_once(killed_run: _SlowImport) -> None:
    """After the report, importing the file again creates each remaining order exactly once."""
    agency = killed_run
    agency.report()

    rerun = agency.start()
    rerun.communicate(timeout=120)
    per_order = agency.created_per_order()

    assert rerun.returncode == 0
    assert len(per_order) == 400
    assert max(per_order.values()) == 1
