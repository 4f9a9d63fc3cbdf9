"""`ghl-fulfill report`: results rebuilt from the ledger, after a finished run or a killed one.

Imports run for real: in this process against the built-in sandbox, or in a
child process against a sandbox served from this process over loopback, whose
log of created fulfillments is the truth that the rebuilt results are checked
against.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from importer.cli import main
from importer.ledger import HEARTBEAT_SECONDS, LEDGER_FILE_NAME, Ledger
from importer.records import ErrorKind, FileResult, OrderResult, OrderStatus
from importer.report import load_result
from importer.report.facts import local_naive
from importer.sandbox import Sandbox
from importer.sandbox.synthetic import (
    location_ids,
    synthetic_orders,
    synthetic_seed,
    write_export,
)
from tests.test_ledger import cut_in_half, cut_to_first_page, overwrite_header

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


def import_sample(
    folder: Path, *names: str, sample: Path = MANUAL_SAMPLE, options: tuple[str, ...] = ()
) -> None:
    """Import copies of a sample into the built-in sandbox, in one run."""
    paths = []
    for name in names:
        path = folder / name
        shutil.copyfile(sample, path)
        paths.append(str(path))
    main(["import", *paths, "--sandbox", "--state-dir", str(folder / "state"), *options])


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


def test_rebuilt_document_names_no_path(workdir: Path) -> None:
    """Like the run's own results file, a rebuilt document has a null results_path."""
    import_sample(workdir, "monday.csv")

    main(["report", "1", "--state-dir", str(workdir / "state"), "--results-format", "json"])

    document = json.loads((workdir / "monday.run1.results.json").read_bytes())
    assert document["results_path"] is None


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


def test_dry_run_number_explained(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run number that a dry run seemed to have is explained: dry runs get none."""
    import_sample(workdir, "monday.csv")
    import_sample(workdir, "tuesday.csv", options=("--dry-run",))
    capsys.readouterr()

    code = main(["report", "2", "--state-dir", str(workdir / "state")])

    error = capsys.readouterr().err
    assert code == 2
    assert "there is no import run 2" in error
    assert "Dry runs (--dry-run) get no run number" in error
    assert "ghl-fulfill history" in error


def test_only_dry_runs_explained(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After dry runs alone there is no ledger, and the message still explains the missing run."""
    import_sample(workdir, "monday.csv", options=("--dry-run",))
    capsys.readouterr()

    code = main(["report", "1", "--state-dir", str(workdir / "state")])

    error = capsys.readouterr().err
    assert code == 2
    assert "Dry runs (--dry-run) get no run number" in error
    assert "ghl-fulfill history" in error


def test_dry_run_has_no_results(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = Ledger.open(workdir / "state")
    run_id = ledger.start_run("import", dry_run=True)
    ledger.finish_run(run_id, "done")
    ledger.close()

    code = main(["report", str(run_id), "--state-dir", str(workdir / "state")])

    assert code == 2
    assert "was a dry run" in capsys.readouterr().err


# --- a damaged ledger ----------------------------------------------------------------------------


# The ways of damaging a ledger file are shared with the ledger's own tests.


@pytest.mark.parametrize("damage", [overwrite_header, cut_in_half, cut_to_first_page])
def test_damaged_ledger_report_says_results_lost(
    workdir: Path, damage: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report names the damaged file, and explains that another folder does not help."""
    import_sample(workdir, "monday.csv")
    ledger_file = workdir / "state" / LEDGER_FILE_NAME
    assert callable(damage)
    damage(ledger_file)
    capsys.readouterr()

    code = main(["report", "1", "--state-dir", str(workdir / "state")])

    error = capsys.readouterr().err
    assert code == 2
    assert f"the ledger file {ledger_file} is damaged and cannot be read" in error
    assert "Choosing another state folder will not bring back the results of run 1" in error
    assert "import its file again with --state-dir set to a new folder" in error
    assert "nothing more is sent" not in error


def damage_results_document(ledger_file: Path) -> None:
    """Change bytes inside the stored results document, as a bad disk sector would."""
    with contextlib.closing(sqlite3.connect(ledger_file)) as db:
        document = db.execute("SELECT document FROM result_documents").fetchone()[0]
    data = bytearray(ledger_file.read_bytes())
    start = data.find(document[:100])
    assert start > 0
    data[start + 40 : start + 60] = bytes(20)
    ledger_file.write_bytes(bytes(data))


def test_damaged_results_names_csv_files(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """For CSV results, the message names the three files the run wrote, which exist."""
    import_sample(workdir, "ss.csv", options=("--results-format", "csv"))
    damage_results_document(workdir / "state" / LEDGER_FILE_NAME)
    capsys.readouterr()

    code = main(["report", "1", "--state-dir", str(workdir / "state")])

    error = capsys.readouterr().err
    assert code == 2
    assert str(workdir / "ss.results.summary.csv") in error
    assert str(workdir / "ss.results.orders.csv") in error
    assert str(workdir / "ss.results.rows.csv") in error
    assert "ss.results.csv" not in error


def test_damaged_results_without_files_says_import(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Results files that are gone are not offered; importing again is."""
    import_sample(workdir, "monday.csv")
    (workdir / "monday.results.xlsx").unlink()
    damage_results_document(workdir / "state" / LEDGER_FILE_NAME)
    capsys.readouterr()

    code = main(["report", "1", "--state-dir", str(workdir / "state")])

    error = capsys.readouterr().err
    assert code == 2
    assert "are gone from" in error
    assert "Import the file again" in error


# --- a run that ended after its history, before its final results -------------------------------


def orders_by_id(result: FileResult) -> dict[str, OrderResult]:
    return {order.order_id: order for order in result.orders}


@pytest.fixture
def final_results_lost(workdir: Path) -> tuple[FileResult, FileResult]:
    """Import with a ledger that keeps the planned results, and rebuild them from the history.

    A trigger drops the run's final save, as if the run had been killed just
    after it wrote its history. Returns the run's own results and the rebuilt ones.
    """
    state = workdir / "state"
    Ledger.open(state).close()
    with contextlib.closing(sqlite3.connect(state / LEDGER_FILE_NAME)) as db:
        db.execute(
            "CREATE TRIGGER keep_planned BEFORE UPDATE ON result_documents "
            "BEGIN SELECT RAISE(IGNORE); END"
        )
    import_sample(workdir, "monday.csv", options=("--results-format", "json"))
    own = load_result((workdir / "monday.results.json").read_bytes())

    main(["report", "1", "--state-dir", str(state), "--results-format", "json"])

    rebuilt = load_result((workdir / "monday.run1.results.json").read_bytes())
    return own, rebuilt


def test_history_orders_keep_http_status(final_results_lost: tuple[FileResult, FileResult]) -> None:
    """Orders rebuilt from the history take HighLevel's status code from their package record."""
    own, rebuilt = final_results_lost
    expected = {key: order.http_status for key, order in orders_by_id(own).items()}

    found = {key: order.http_status for key, order in orders_by_id(rebuilt).items()}

    assert any(status is not None for status in expected.values())
    assert found == expected


def test_history_orders_keep_notify(final_results_lost: tuple[FileResult, FileResult]) -> None:
    own, rebuilt = final_results_lost
    expected = {key: order.notify_customer for key, order in orders_by_id(own).items()}

    found = {key: order.notify_customer for key, order in orders_by_id(rebuilt).items()}

    assert found == expected


def test_history_orders_keep_outcome(final_results_lost: tuple[FileResult, FileResult]) -> None:
    """Statuses, fulfillments and messages rebuilt from the history are those of the run."""
    own, rebuilt = final_results_lost
    own_orders, rebuilt_orders = orders_by_id(own), orders_by_id(rebuilt)

    assert {key: order.status for key, order in rebuilt_orders.items()} == {
        key: order.status for key, order in own_orders.items()
    }
    assert {key: order.fulfillment_id for key, order in rebuilt_orders.items()} == {
        key: order.fulfillment_id for key, order in own_orders.items()
    }
    assert {key: order.message for key, order in rebuilt_orders.items()} == {
        key: order.message for key, order in own_orders.items()
    }


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
        self.killed_at: datetime | None = None  # local time, as the results give times

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
        agency.killed_at = datetime.now()
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


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_killed_run_times_from_ledger(killed_run: _SlowImport) -> None:
    """A killed run has no finish time; its orders take the times the ledger recorded."""
    agency = killed_run
    assert agency.killed_at is not None
    created_at = {
        entry.order_id: local_naive(datetime.fromisoformat(entry.created_at))
        for entry in agency.sandbox.fulfillment_log()
    }

    result = agency.report()

    created = [order for order in result.orders if order.status is OrderStatus.CREATED]
    unreached = [order for order in result.orders if order.kind is ErrorKind.STOPPED]
    assert result.finished_at is None
    assert created
    assert all(
        order.finished_at is not None and order.finished_at >= created_at[order.order_id]
        for order in created
    )
    assert unreached
    assert all(order.finished_at is None for order in unreached)


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_killed_run_reason_gives_last_activity(killed_run: _SlowImport) -> None:
    """The reason gives the run's last record in the ledger: at most a heartbeat before the kill."""
    agency = killed_run
    assert agency.killed_at is not None

    result = agency.report()

    found = re.search(r"last record in the ledger is from (\S+ \S+)", result.stopped_reason)
    assert found is not None
    last = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S")
    assert last <= agency.killed_at
    assert last >= agency.killed_at - timedelta(seconds=HEARTBEAT_SECONDS + 1)


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_killed_run_created_orders_keep_response(killed_run: _SlowImport) -> None:
    """Each created order shows HighLevel's status code and whether the customer was emailed."""
    agency = killed_run
    created_codes = {
        record.status for record in agency.sandbox.request_log() if record.method == "POST"
    }

    result = agency.report()

    created = [order for order in result.orders if order.status is OrderStatus.CREATED]
    assert created
    assert all(order.http_status in created_codes for order in created)
    assert all(order.notify_customer is not None for order in created)
