"""Tests for importer.ledger and for imports that keep a ledger: nothing is fulfilled twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from importer.cli import main
from importer.config import Settings
from importer.ledger import (
    LEDGER_FILE_NAME,
    STALE_SECONDS,
    ClaimResult,
    DamagedDocumentError,
    DamagedLedgerError,
    Event,
    FulfillmentState,
    Ledger,
    LedgerError,
    Package,
    WatchedContent,
    tracking_key,
)
from importer.mapping import load_templates
from importer.pipeline import FileJob, import_file
from importer.records import FileResult, Item, OrderStatus, Tracking
from importer.report import load_result
from importer.sandbox import Sandbox, load_seed
from importer.submit import LedgerRun
from tests.api_fixtures import make_client

PROJECT = Path(__file__).resolve().parents[1]
SEED = load_seed(PROJECT / "sample_data" / "sandbox_seed.json")
LOCATION = "Xk7pQ2mLw9RtY4vB8nZc"
TOKEN = "ledger-test-token-8a1f"
ORDER = "6afb2607207fe629c6a23c3a"
OTHER_ORDER = "6affbc3322ba75b8da9ac0e2"
# Two orders of the sample seed, each shipped whole in one package.
EXPORT = (
    "Order ID,Tracking Number,Carrier\n"
    f"{ORDER},796799488569,FedEx\n"
    f"{OTHER_ORDER},8745873345,DHL Express\n"
)


def package(order_id: str = ORDER, number: str = "796799488569") -> Package:
    return Package(LOCATION, order_id, (Tracking(number, "FedEx"),), (Item("price1", "", 1),))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(tmp_path / "state")
    yield opened
    opened.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SEED, tokens={TOKEN: None}, max_requests=10_000) as running:
        yield running


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return path


def run_import(sandbox: Sandbox, path: Path, ledger: Ledger, *, force: bool = False) -> FileResult:
    settings = Settings(token=TOKEN, location_id=LOCATION, base_url=sandbox.base_url, force=force)

    async def scenario() -> FileResult:
        run = LedgerRun(ledger, ledger.start_run("import", dry_run=False))
        client = make_client(sandbox, token=TOKEN, max_requests=10_000)
        async with client:
            result = await import_file(
                FileJob(path=path, results_path=path.with_suffix(".results.xlsx")),
                settings=settings,
                templates=load_templates(),
                client=client,
                notice=lambda _: None,
                show_progress=False,
                ledger=run,
            )
        ledger.finish_run(run.run_id, "done")
        return result

    return asyncio.run(scenario())


def statuses(result: FileResult) -> dict[str, OrderStatus]:
    return {order.order_id: order.status for order in result.orders}


# --- the ledger itself -------------------------------------------------------------------------


def test_tracking_key_ignores_case_and_order() -> None:
    """One package's tracking numbers make one key, however the file writes them."""
    assert tracking_key(["b2", "A1", "a1"]) == "A1 B2"


def test_fingerprint_ignores_item_order() -> None:
    """The same items in another order give the same fingerprint."""
    first = Package(LOCATION, ORDER, (Tracking("T1"),), (Item("p1", "", 1), Item("p2", "", 2)))
    second = Package(LOCATION, ORDER, (Tracking("t1"),), (Item("p2", "", 2), Item("p1", "", 1)))
    assert first.fingerprint == second.fingerprint


def test_first_claim_granted(ledger: Ledger) -> None:
    """A package that no run has sent may be sent."""
    run = ledger.start_run("import", dry_run=False)
    assert ledger.claim(package(), run_id=run, file_id=None, force=False).result is (
        ClaimResult.CLAIMED
    )


def test_created_package_not_claimed_again(ledger: Ledger) -> None:
    """A package an earlier run created is not sent again."""
    first = ledger.start_run("import", dry_run=False)
    ledger.claim(package(), run_id=first, file_id=None, force=False)
    ledger.record_outcome(package(), FulfillmentState.CREATED, run_id=first, fulfillment_id="f1")
    ledger.finish_run(first, "done")

    second = ledger.start_run("import", dry_run=False)
    claim = ledger.claim(package(), run_id=second, file_id=None, force=False)
    assert claim.result is ClaimResult.CREATED
    assert claim.entry is not None
    assert claim.entry.fulfillment_id == "f1"


def test_force_claims_created_package(ledger: Ledger) -> None:
    """--force claims a package that was created before."""
    first = ledger.start_run("import", dry_run=False)
    ledger.record_outcome(package(), FulfillmentState.CREATED, run_id=first, fulfillment_id="f1")

    second = ledger.start_run("import", dry_run=False)
    claim = ledger.claim(package(), run_id=second, file_id=None, force=True)
    assert claim.result is ClaimResult.CLAIMED


def test_package_sent_by_live_run_is_busy(tmp_path: Path) -> None:
    """A second connection (another process) cannot claim what a live run is sending."""
    first_ledger = Ledger.open(tmp_path)
    second_ledger = Ledger.open(tmp_path)
    try:
        first = first_ledger.start_run("import", dry_run=False)
        first_ledger.claim(package(), run_id=first, file_id=None, force=False)
        second = second_ledger.start_run("import", dry_run=False)
        claim = second_ledger.claim(package(), run_id=second, file_id=None, force=False)
    finally:
        first_ledger.close()
        second_ledger.close()
    assert claim.result is ClaimResult.BUSY


def test_package_of_finished_run_claimed(ledger: Ledger) -> None:
    """A package left "sending" by a run that ended may be claimed (and checked first)."""
    first = ledger.start_run("import", dry_run=False)
    ledger.claim(package(), run_id=first, file_id=None, force=False)
    ledger.finish_run(first, "aborted")

    second = ledger.start_run("import", dry_run=False)
    assert ledger.claim(package(), run_id=second, file_id=None, force=False).result is (
        ClaimResult.CLAIMED
    )


def test_run_of_dead_process_not_alive(ledger: Ledger, tmp_path: Path) -> None:
    """A run whose process no longer exists is not alive, even with a fresh heartbeat."""
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    run = ledger.start_run("import", dry_run=False)
    ledger._db.execute("UPDATE runs SET pid = ? WHERE id = ?", (int(finished.stdout), run))
    assert not ledger.run_is_alive(run)


def test_stale_remote_run_not_alive(ledger: Ledger) -> None:
    """A run of another machine that stopped writing its heartbeat is taken to have died."""
    run = ledger.start_run("import", dry_run=False)
    old = (datetime.now(UTC) - timedelta(seconds=STALE_SECONDS + 5)).isoformat()
    ledger._db.execute(
        "UPDATE runs SET heartbeat_at = ?, host = 'other-host' WHERE id = ?", (old, run)
    )
    assert not ledger.run_is_alive(run)


def test_stopped_process_with_stale_heartbeat_alive(ledger: Ledger) -> None:
    """A run of this machine whose process exists is alive, even with an old heartbeat.

    A process stopped with Ctrl-Z writes no heartbeat but sends when it resumes.
    """
    run = ledger.start_run("import", dry_run=False)
    old = (datetime.now(UTC) - timedelta(seconds=STALE_SECONDS + 5)).isoformat()
    ledger._db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (old, run))
    assert ledger.run_is_alive(run)


def test_own_live_run_alive(ledger: Ledger) -> None:
    """This process's unfinished run is alive."""
    assert ledger.run_is_alive(ledger.start_run("import", dry_run=False))


def test_unusable_state_folder_is_config_error(tmp_path: Path) -> None:
    """A state folder that is a file is refused with a message naming it."""
    blocker = tmp_path / "state"
    blocker.write_text("not a folder", encoding="utf-8")
    from importer.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        Ledger.open(blocker)
    assert str(blocker) in str(caught.value)


# --- imports that keep a ledger ------------------------------------------------------------------


def test_rerun_skips_without_asking_highlevel(
    sandbox: Sandbox, export: Path, ledger: Ledger
) -> None:
    """A second run skips what the first created, and reads nothing from HighLevel for it."""
    run_import(sandbox, export, ledger)
    requests_before = len(sandbox.request_log())

    result = run_import(sandbox, export, ledger)

    assert statuses(result) == {ORDER: OrderStatus.SKIPPED, OTHER_ORDER: OrderStatus.SKIPPED}
    assert len(sandbox.request_log()) == requests_before


def test_rerun_message_names_earlier_fulfillment(
    sandbox: Sandbox, export: Path, ledger: Ledger
) -> None:
    """A skipped order's message names the date and fulfillment of its creation."""
    first = run_import(sandbox, export, ledger)
    created = {order.order_id: order.fulfillment_id for order in first.orders}

    second = run_import(sandbox, export, ledger)

    skipped = next(order for order in second.orders if order.order_id == ORDER)
    assert f"(fulfillment {created[ORDER]})" in skipped.message


def test_sending_left_by_dead_run_checked_before_resending(
    sandbox: Sandbox, export: Path, ledger: Ledger
) -> None:
    """An order stored by HighLevel but left "sending" is found on the order, not sent again."""
    run_import(sandbox, export, ledger)
    # As if the run had died after the request went out and before the response was recorded.
    ledger._db.execute("UPDATE fulfillments SET state = 'sending', fulfillment_id = ''")

    result = run_import(sandbox, export, ledger)

    assert statuses(result)[ORDER] is OrderStatus.SKIPPED
    assert len(sandbox.fulfillment_log()) == 2


def test_sending_never_stored_is_sent(sandbox: Sandbox, export: Path, ledger: Ledger) -> None:
    """An order claimed by a run that died before sending is sent by the next run."""
    dead = ledger.start_run("import", dry_run=False)
    items = (Item("698a1b3c2cc9d354d76fd970", "", 1),)
    claimed = Package(LOCATION, ORDER, (Tracking("796799488569"),), items)
    ledger.claim(claimed, run_id=dead, file_id=None, force=False)
    ledger.finish_run(dead, "aborted")

    result = run_import(sandbox, export, ledger)

    assert statuses(result)[ORDER] is OrderStatus.CREATED


def test_force_sends_again(export: Path, ledger: Ledger) -> None:
    """--force sends what the ledger shows created, and the message states it."""
    with Sandbox(SEED, tokens={TOKEN: None}, max_requests=10_000) as first:
        run_import(first, export, ledger)
    # A new sandbox has no fulfillments, as if they had been deleted in HighLevel.
    with Sandbox(SEED, tokens={TOKEN: None}, max_requests=10_000) as second:
        result = run_import(second, export, ledger, force=True)

    again = next(order for order in result.orders if order.order_id == ORDER)
    assert again.status is OrderStatus.CREATED
    assert again.message == "created again on purpose (--force)"


def test_history_lists_each_run(sandbox: Sandbox, export: Path, ledger: Ledger) -> None:
    """The history of an order shows what every run did with it."""
    run_import(sandbox, export, ledger)
    run_import(sandbox, export, ledger)

    lines = ledger.history(order=ORDER)

    assert [line.status for line in lines] == ["created", "skipped"]


def test_history_by_file_content(sandbox: Sandbox, export: Path, ledger: Ledger) -> None:
    """A file's history is found by its content too, under any name."""
    run_import(sandbox, export, ledger)
    copy = export.with_name("renamed.csv")
    copy.write_bytes(export.read_bytes())

    assert len(ledger.history(file_path=copy)) == 2


# --- two processes on one ledger ------------------------------------------------------------------


def _import_process(
    path: Path, sandbox: Sandbox, state: Path, results: Path
) -> subprocess.Popen[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GHL_")}
    environment |= {
        "GHL_TOKEN": TOKEN,
        "GHL_LOCATION_ID": LOCATION,
        "GHL_BASE_URL": sandbox.base_url,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "importer",
            "import",
            str(path),
            "--state-dir",
            str(state),
            "--results",
            str(results),
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# One of the two tees of the order: a second, duplicate fulfillment would still fit the
# order's quantities, so only the ledger keeps it from being created.
PARTIAL_EXPORT = (
    f"Order ID,Tracking Number,Carrier,SKU,Qty\n{ORDER},796799488569,FedEx,TEE-BLK-L,1\n"
)


def test_two_processes_send_each_order_once(tmp_path: Path) -> None:
    """Two imports of one file started together on one ledger create each fulfillment once."""
    path = tmp_path / "export.csv"
    path.write_text(PARTIAL_EXPORT, encoding="utf-8")
    # The latency keeps both imports sending at the same time.
    with Sandbox(SEED, tokens={TOKEN: None}, max_requests=10_000, latency_seconds=0.2) as sandbox:
        processes = [
            _import_process(path, sandbox, tmp_path / "state", tmp_path / f"results{n}.xlsx")
            for n in range(2)
        ]
        for process in processes:
            process.communicate(timeout=120)
        created = Counter(entry.order_id for entry in sandbox.fulfillment_log())

    assert created == Counter({ORDER: 1})


def test_history_command_prints_runs(tmp_path: Path, sandbox: Sandbox, export: Path) -> None:
    """`ghl-fulfill history --order ID` prints what the imports did with the order."""
    state = tmp_path / "state"
    _import_process(export, sandbox, state, tmp_path / "results.xlsx").communicate(timeout=120)

    shown = subprocess.run(
        [sys.executable, "-m", "importer", "history", "--state-dir", str(state), "--order", ORDER],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert f"created   {ORDER}" in shown.stdout


# --- a second package of an order ---------------------------------------------------------------

TEE_L_PRICE = "698a19d43bce14ab261db1d4"
FIRST_PACKAGE = f"{ORDER},796799488569,FedEx,TEE-BLK-L,1\n"
SECOND_PACKAGE = f"{ORDER},1Z999AA10123456784,UPS,TEE-BLK-L,1\n"
PACKAGE_HEADERS = "Order ID,Tracking Number,Carrier,SKU,Qty\n"


def test_second_package_sent_alone(sandbox: Sandbox, tmp_path: Path, ledger: Ledger) -> None:
    """A file that lists an earlier package and a new one sends only the new one."""
    first = tmp_path / "monday.csv"
    first.write_text(PACKAGE_HEADERS + FIRST_PACKAGE, encoding="utf-8")
    second = tmp_path / "tuesday.csv"
    second.write_text(PACKAGE_HEADERS + FIRST_PACKAGE + SECOND_PACKAGE, encoding="utf-8")
    run_import(sandbox, first, ledger)

    run_import(sandbox, second, ledger)

    latest = sandbox.fulfillment_log()[-1].body
    assert [tracking["trackingNumber"] for tracking in latest["trackings"]] == [
        "1Z999AA10123456784"
    ]
    assert latest["items"] == [{"priceId": TEE_L_PRICE, "qty": 1}]


def test_second_package_message_names_earlier(
    sandbox: Sandbox, tmp_path: Path, ledger: Ledger
) -> None:
    """The order's message states that only the new package was sent."""
    first = tmp_path / "monday.csv"
    first.write_text(PACKAGE_HEADERS + FIRST_PACKAGE, encoding="utf-8")
    second = tmp_path / "tuesday.csv"
    second.write_text(PACKAGE_HEADERS + FIRST_PACKAGE + SECOND_PACKAGE, encoding="utf-8")
    run_import(sandbox, first, ledger)

    order = run_import(sandbox, second, ledger).orders[0]

    assert order.status is OrderStatus.CREATED
    assert order.message.startswith("created for the new tracking numbers only")


def test_second_package_without_items_rejected(
    sandbox: Sandbox, tmp_path: Path, ledger: Ledger
) -> None:
    """A new package whose rows name no items is not guessed at: the order is rejected."""
    whole_order = f"{ORDER},796799488569,FedEx,,\n"
    first = tmp_path / "monday.csv"
    first.write_text(PACKAGE_HEADERS + whole_order, encoding="utf-8")
    second = tmp_path / "tuesday.csv"
    second.write_text(
        PACKAGE_HEADERS + whole_order + f"{ORDER},1Z999AA10123456784,UPS,,\n", encoding="utf-8"
    )
    run_import(sandbox, first, ledger)

    order = run_import(sandbox, second, ledger).orders[0]

    assert order.status is OrderStatus.REJECTED
    assert "do not show which items the new package holds" in order.message


def test_row_without_item_beside_item_rows_rejected(
    sandbox: Sandbox, tmp_path: Path, ledger: Ledger
) -> None:
    """A row naming no item next to rows naming theirs rejects the order: nothing is guessed."""
    path = tmp_path / "mixed.csv"
    path.write_text(
        PACKAGE_HEADERS + FIRST_PACKAGE + f"{ORDER},796799488569,FedEx,,\n", encoding="utf-8"
    )

    order = run_import(sandbox, path, ledger).orders[0]

    assert order.status is OrderStatus.REJECTED
    assert not sandbox.fulfillment_log()


def test_damaged_ledger_file_is_config_error(tmp_path: Path) -> None:
    """A ledger file that is not a database is refused with a message naming the folder."""
    from importer.errors import ConfigError
    from importer.ledger import LEDGER_FILE_NAME

    (tmp_path / LEDGER_FILE_NAME).write_bytes(b"not a database at all" * 100)

    with pytest.raises(ConfigError) as caught:
        Ledger.open(tmp_path)
    assert "--state-dir" in str(caught.value)


# --- a damaged ledger file -----------------------------------------------------------------------


def overwrite_header(path: Path) -> None:
    with path.open("r+b") as stream:
        stream.write(b"X" * 32)


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def cut_to_first_page(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:3000])


def corrupt_history_pages(path: Path) -> None:
    """Overwrite the first page of the history table, as a failing disk might."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    with path.open("r+b") as stream:
        stream.seek((root - 1) * page_size)
        stream.write(b"\xff" * 64)


DAMAGES = [overwrite_header, cut_in_half, cut_to_first_page, corrupt_history_pages]


@pytest.fixture
def recorded_state(tmp_path: Path, sandbox: Sandbox, export: Path) -> Path:
    """A state folder whose ledger recorded one import of the export."""
    state = tmp_path / "state"
    ledger = Ledger.open(state)
    try:
        run_import(sandbox, export, ledger)
    finally:
        ledger.close()
    return state


def test_overwritten_header_is_damaged_ledger(recorded_state: Path) -> None:
    ledger_file = recorded_state / LEDGER_FILE_NAME
    overwrite_header(ledger_file)

    with pytest.raises(DamagedLedgerError) as caught:
        Ledger.open(recorded_state)
    assert caught.value.path == ledger_file


def test_corrupt_page_read_is_damage(recorded_state: Path) -> None:
    """A page found corrupt while reading marks the LedgerError as damage, not a full disk."""
    corrupt_history_pages(recorded_state / LEDGER_FILE_NAME)
    ledger = Ledger.open(recorded_state)

    try:
        with pytest.raises(LedgerError) as caught:
            ledger.history()
    finally:
        ledger.close()
    assert caught.value.damaged


@pytest.mark.parametrize("damage", DAMAGES)
def test_history_of_damaged_ledger_names_file(
    recorded_state: Path, damage: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`history` names the damaged file, the loss and the next step, and nothing about sending."""
    ledger_file = recorded_state / LEDGER_FILE_NAME
    damage(ledger_file)
    capsys.readouterr()

    code = main(["history", "--state-dir", str(recorded_state)])

    error = capsys.readouterr().err
    assert code == 2
    assert f"the ledger file {ledger_file} is damaged and cannot be read" in error
    assert "Choosing another state folder will not bring back the history" in error
    assert "choose a new state folder with --state-dir" in error
    assert "nothing more is sent" not in error


@pytest.mark.parametrize("damage", DAMAGES)
def test_import_with_damaged_ledger_names_file(
    recorded_state: Path, export: Path, damage: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """An import names the damaged file and explains why a new state folder is safe to use."""
    ledger_file = recorded_state / LEDGER_FILE_NAME
    damage(ledger_file)
    capsys.readouterr()

    code = main(["import", str(export), "--sandbox", "--state-dir", str(recorded_state)])

    error = capsys.readouterr().err
    assert code != 0
    assert f"the ledger file {ledger_file} is damaged" in error
    assert "Choose a new state folder with --state-dir" in error
    assert "reads each order's fulfillments in HighLevel before it sends" in error


def test_new_ledger_skips_fulfillments_in_highlevel(
    sandbox: Sandbox, export: Path, tmp_path: Path
) -> None:
    """Importing again with a new, empty ledger creates nothing twice: HighLevel is read first."""
    first = Ledger.open(tmp_path / "first")
    second = Ledger.open(tmp_path / "second")
    try:
        run_import(sandbox, export, first)
        created = len(sandbox.fulfillment_log())
        again = run_import(sandbox, export, second)
    finally:
        first.close()
        second.close()

    assert created == 2
    assert len(sandbox.fulfillment_log()) == created
    assert set(statuses(again).values()) == {OrderStatus.SKIPPED}


def test_ledger_failure_during_run_stops_it(ledger: Ledger) -> None:
    """A ledger that cannot be written while sending raises LedgerError, which stops the run."""
    from importer.errors import RunAbortedError

    run = ledger.start_run("import", dry_run=False)
    ledger._db.close()  # as if the file had become unusable

    with pytest.raises(RunAbortedError):
        ledger.claim(package(), run_id=run, file_id=None, force=False)


def test_imported_content_returns_latest_done(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path)
    ledger.record_watched_file(WatchedContent("abc", "monday.csv", "done/monday.csv", "done", None))
    ledger.record_watched_file(
        WatchedContent("abc", "again.csv", "failed/again.csv", "failed", None)
    )
    found = ledger.imported_content("abc")
    assert found is not None
    assert found.name == "monday.csv"


def test_failed_content_not_imported_content(tmp_path: Path) -> None:
    """Content that went to failed/ may be dropped again to retry it."""
    ledger = Ledger.open(tmp_path)
    ledger.record_watched_file(
        WatchedContent("abc", "orders.csv", "failed/orders.csv", "failed", None)
    )
    assert ledger.imported_content("abc") is None


# --- results documents (schema version 4) ------------------------------------------------------

# A ledger that version 3 of the schema wrote: one import of sample_data/manual_fulfillments.csv
# into the built-in sandbox (10 orders created, 1 rejected), made by the code before results
# documents were stored.
LEDGER_V3 = PROJECT / "tests" / "data" / "ledger_v3.sqlite3"


@pytest.fixture
def ledger_v3(tmp_path: Path) -> Path:
    """Return a state folder holding a copy of the version 3 ledger."""
    folder = tmp_path / "state_v3"
    folder.mkdir()
    shutil.copyfile(LEDGER_V3, folder / LEDGER_FILE_NAME)
    return folder


def schema_version(folder: Path) -> int:
    with contextlib.closing(sqlite3.connect(folder / LEDGER_FILE_NAME)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_v3_ledger_upgraded_in_place(ledger_v3: Path) -> None:
    """Opening a version 3 ledger brings it to version 4, with a table for results documents."""
    assert schema_version(ledger_v3) == 3

    Ledger.open(ledger_v3).close()

    assert schema_version(ledger_v3) == 4
    with contextlib.closing(sqlite3.connect(ledger_v3 / LEDGER_FILE_NAME)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "result_documents" in tables


def test_v3_ledger_keeps_its_records(ledger_v3: Path) -> None:
    """The upgrade keeps the runs, packages and history that version 3 recorded."""
    ledger = Ledger.open(ledger_v3)
    try:
        lines = ledger.history()
        entry = ledger.find(LOCATION, ORDER, "796799488569")
        run = ledger.run_record(1)
    finally:
        ledger.close()

    assert len(lines) == 11
    assert entry is not None
    assert entry.state is FulfillmentState.CREATED
    assert run is not None
    assert run.outcome == "some orders not done"


def test_v3_ledger_stores_results_after_upgrade(ledger_v3: Path) -> None:
    """A run recorded by version 3 can get a results document once the ledger is upgraded."""
    ledger = Ledger.open(ledger_v3)
    try:
        ledger.save_results(
            1,
            1,
            input_path=Path("in.csv"),
            results_path=Path("in.results.xlsx"),
            document=b"{}",
            complete=True,
        )
        stored = ledger.stored_results(1)
    finally:
        ledger.close()
    assert [item.document for item in stored] == [b"{}"]


def test_newer_ledger_version_left_alone(tmp_path: Path) -> None:
    """A ledger of a later schema version keeps its number: this version does not downgrade it."""
    Ledger.open(tmp_path).close()
    with contextlib.closing(sqlite3.connect(tmp_path / LEDGER_FILE_NAME)) as db:
        db.execute("PRAGMA user_version = 9")
        db.commit()

    Ledger.open(tmp_path).close()

    assert schema_version(tmp_path) == 9


def save_document(
    ledger: Ledger, run_id: int, file_id: int, document: bytes, **options: Any
) -> None:
    values: dict[str, Any] = {
        "input_path": Path("/exports/monday.csv"),
        "results_path": Path("/exports/monday.results.xlsx"),
        "complete": False,
    }
    values.update(options)
    ledger.save_results(run_id, file_id, document=document, **values)


def test_results_document_stored_compressed(ledger: Ledger) -> None:
    """The document is stored compressed and returned as it was given."""
    run = ledger.start_run("import", dry_run=False)
    file_id = ledger.record_file(run, Path("/exports/monday.csv"), "abc", 10)
    document = json.dumps({"orders": [{"status": "deferred"}] * 500}).encode()

    save_document(ledger, run, file_id, document)

    stored_size = ledger._db.execute("SELECT length(document) FROM result_documents").fetchone()
    assert stored_size[0] < len(document) / 10
    assert [item.document for item in ledger.stored_results(run)] == [document]


def test_final_results_replace_planned(ledger: Ledger) -> None:
    """Saving a file's results again replaces the document the run saved before."""
    run = ledger.start_run("import", dry_run=False)
    file_id = ledger.record_file(run, Path("/exports/monday.csv"), "abc", 10)

    save_document(ledger, run, file_id, b'{"planned": true}')
    save_document(ledger, run, file_id, b'{"final": true}', complete=True)

    stored = ledger.stored_results(run)
    assert [(item.document, item.complete) for item in stored] == [(b'{"final": true}', True)]


def test_results_of_each_file_in_reading_order(ledger: Ledger) -> None:
    run = ledger.start_run("import", dry_run=False)
    first = ledger.record_file(run, Path("/exports/monday.csv"), "abc", 10)
    second = ledger.record_file(run, Path("/exports/tuesday.csv"), "def", 10)
    other_run = ledger.start_run("import", dry_run=False)
    other = ledger.record_file(other_run, Path("/exports/monday.csv"), "abc", 10)

    save_document(ledger, run, second, b"2", input_path=Path("/exports/tuesday.csv"))
    save_document(ledger, run, first, b"1")
    save_document(ledger, other_run, other, b"other")

    assert [item.document for item in ledger.stored_results(run)] == [b"1", b"2"]


def test_moved_results_paths_recorded(ledger: Ledger) -> None:
    """A watched folder's move of the file and its workbook is recorded for the report."""
    run = ledger.start_run("watch", dry_run=False)
    file_id = ledger.record_file(run, Path("/watched/processing/monday.csv"), "abc", 10)
    save_document(ledger, run, file_id, b"{}")

    ledger.move_results(run, Path("/watched/done/monday.csv"), Path("/watched/done/r.xlsx"))

    stored = ledger.stored_results(run)[0]
    assert stored.input_path == "/watched/done/monday.csv"
    assert stored.results_path == "/watched/done/r.xlsx"


def test_damaged_results_document_keeps_paths(ledger: Ledger) -> None:
    """The error carries the run's results path, so that `report` can name the files written."""
    run = ledger.start_run("import", dry_run=False)
    file_id = ledger.record_file(run, Path("/exports/monday.csv"), "abc", 10)
    save_document(ledger, run, file_id, b"{}", complete=True)
    ledger._db.execute("UPDATE result_documents SET document = ?", (b"not zlib data",))

    with pytest.raises(DamagedDocumentError) as caught:
        ledger.stored_results(run)
    assert caught.value.results_path == "/exports/monday.results.xlsx"
    assert caught.value.complete
    assert "/exports/monday.csv" in str(caught.value)


def test_run_packages_only_of_run_and_file(ledger: Ledger) -> None:
    """The packages of a run are those whose latest record the run wrote for the file."""
    run = ledger.start_run("import", dry_run=False)
    file_id = ledger.record_file(run, Path("/exports/monday.csv"), "abc", 10)
    ledger.claim(package(), run_id=run, file_id=file_id, force=False)
    ledger.claim(package(OTHER_ORDER, "8745873345"), run_id=run, file_id=file_id, force=False)
    later = ledger.start_run("import", dry_run=False)
    ledger.record_outcome(
        package(OTHER_ORDER, "8745873345"), FulfillmentState.CREATED, run_id=later, file_id=None
    )

    packages = ledger.run_packages(run, file_id)

    assert [(item.order_id, item.state) for item in packages] == [(ORDER, FulfillmentState.SENDING)]
    assert packages[0].tracking_numbers == ("796799488569",)


def test_run_package_has_time_of_record(ledger: Ledger) -> None:
    """A package gives the time its record was last written, which dates the order's outcome."""
    run = ledger.start_run("import", dry_run=False)
    file_id = ledger.record_file(run, Path("/exports/monday.csv"), "abc", 10)
    ledger.claim(package(), run_id=run, file_id=file_id, force=False)
    before = datetime.now(UTC)
    ledger.record_outcome(
        package(), FulfillmentState.CREATED, run_id=run, file_id=file_id, http_status=201
    )
    after = datetime.now(UTC)

    recorded = datetime.fromisoformat(ledger.run_packages(run, file_id)[0].updated_at)

    # The ledger keeps milliseconds, so the time may read up to 1 ms before `before`.
    assert before - timedelta(milliseconds=1) <= recorded <= after


def test_last_activity_is_latest_record(ledger: Ledger) -> None:
    """A run's last activity is its latest heartbeat, history event or package record."""
    run = ledger.start_run("import", dry_run=False)
    file_id = ledger.record_file(run, Path("/exports/monday.csv"), "abc", 10)
    ledger.heartbeat(run)
    ledger.claim(package(), run_id=run, file_id=file_id, force=False)
    event = Event(run, file_id, LOCATION, ORDER, "", (Tracking("796799488569"),), "failed", "", "")
    ledger.record_events([event])

    latest = ledger.history()[-1].at

    assert ledger.last_activity(run) == latest


def test_last_activity_of_unknown_run_none(ledger: Ledger) -> None:
    assert ledger.last_activity(42) is None


def test_dry_run_stores_no_results(export: Path, ledger: Ledger) -> None:
    """A dry run sends nothing and records no file, so it stores no results document."""
    run = LedgerRun(ledger, ledger.start_run("import", dry_run=True))
    settings = Settings(dry_run=True)

    asyncio.run(
        import_file(
            FileJob(path=export, results_path=export.with_suffix(".results.xlsx")),
            settings=settings,
            templates=load_templates(),
            client=None,
            notice=lambda _: None,
            show_progress=False,
            ledger=run,
        )
    )

    assert ledger.stored_results(run.run_id) == []


def test_import_stores_complete_results(sandbox: Sandbox, export: Path, ledger: Ledger) -> None:
    """An import that finishes stores the results its workbook shows, marked complete."""
    result = run_import(sandbox, export, ledger)

    stored = ledger.stored_results(1)

    assert [item.complete for item in stored] == [True]
    assert load_result(stored[0].document).orders == result.orders
