"""Rebuild the results of an import run from the ledger, also of a run that was killed.

An import saves each file's results document in the ledger twice: once its
orders are planned, with every order that the file does not reject deferred,
and at the end, with the final results. A run killed between the two leaves
the planned document. The ledger's history and its record of each package
that the run claimed then tell what happened to the orders the run reached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from importer.errors import ImporterError, UsageError
from importer.ledger import (
    DamagedDocumentError,
    FulfillmentState,
    HistoryLine,
    Ledger,
    RunPackage,
    RunRecord,
    StoredResults,
)
from importer.records import ErrorKind, FileResult, OrderResult, OrderStatus, Problem, Severity
from importer.report import csv_paths, load_result
from importer.report.facts import local_naive, next_steps
from importer.resolve import response_kind

UNCERTAIN_MESSAGE = (
    "may have been created: the import ended while this order was being sent. Import the "
    "file again: it checks HighLevel first and sends the order only if it is missing"
)
RERUN_STEP = (
    "Import the file again to finish: orders already created are skipped, and an order that "
    "may have been created is checked in HighLevel before anything is sent."
)

DRY_RUN_NOTE = "Dry runs (--dry-run) get no run number, because they record nothing in the ledger."


class RunNotFoundError(UsageError):
    """The ledger has no run with the requested ID."""


class RunStillActiveError(ImporterError):
    """The run is still importing, so its results are not final."""


class NoStoredResultsError(ImporterError):
    """The ledger contains no readable results of the run: none were stored, or they are damaged."""


@dataclass
class RebuiltFile:
    """One input file of a run, with its results as rebuilt from the ledger."""

    result: FileResult
    # The file's current path as the ledger records it. A watched folder moves the
    # file after the run, while the results keep the path it was imported from.
    input_path: Path
    results_path: Path  # the results file that the run wrote, or was to write
    # False when the run ended before its final results: they were rebuilt from the
    # planned results and the ledger's records of the packages the run sent.
    complete: bool


def rebuild_run(ledger: Ledger, run_id: int) -> list[RebuiltFile]:
    """Return the results of every file of a run, in the order the run read the files.

    Raises RunNotFoundError for an unknown run, RunStillActiveError for a run
    whose process still runs, and NoStoredResultsError for a run without stored
    results.
    """
    record = ledger.run_record(run_id)
    if record is None:
        raise RunNotFoundError(
            f"there is no import run {run_id} in the ledger {ledger.path}. {DRY_RUN_NOTE} "
            "`ghl-fulfill history` lists the runs with their numbers; if the import used "
            "another state folder, name it with --state-dir."
        )
    if ledger.run_is_alive(run_id):
        raise RunStillActiveError(
            f"import run {run_id} is still running, so its results are not final yet. Wait "
            "until it ends (its results file is written then), or stop it with Ctrl-C."
        )
    try:
        stored = ledger.stored_results(run_id)
    except DamagedDocumentError as error:
        raise NoStoredResultsError(_damaged_document_message(error)) from error
    if not stored:
        raise NoStoredResultsError(_no_results_message(record, ledger.run_files(run_id)))
    return [_rebuild_file(ledger, record, item) for item in stored]


def results_files(results_path: Path) -> tuple[Path, ...]:
    """Return the files a results path names: the three CSV files for a .csv path."""
    return csv_paths(results_path) if results_path.suffix.lower() == ".csv" else (results_path,)


def _damaged_document_message(error: DamagedDocumentError) -> str:
    """Name the results files that the run wrote, which show the same results, if they exist."""
    # NOTE: a file saved under a "(2)" name, because the usual one was locked, is not found.
    expected = results_files(Path(error.results_path))
    if not error.complete:
        return f"{error}, and the run ended before it wrote its results file. {RERUN_STEP}"
    written = [str(path) for path in expected if path.is_file()]
    if written:
        return f"{error}. The results files the run wrote show the same: {', '.join(written)}."
    missing = ", ".join(str(path) for path in expected)
    return f"{error}, and the results the run wrote are gone from {missing}. {RERUN_STEP}"


def _no_results_message(record: RunRecord, files: Sequence[tuple[int, str]]) -> str:
    started = f"{record.command}, started {record.started_at[:16].replace('T', ' ')} UTC"
    if record.dry_run:
        return (
            f"import run {record.id} ({started}) was a dry run, and dry runs store no results "
            "in the ledger. Run the dry run again to see its results."
        )
    if not files:
        return (
            f"import run {record.id} ({started}) stored no results: it ended before it "
            "planned the orders of any file. Import the files again."
        )
    paths = ", ".join(path for _, path in files)
    return (
        f"import run {record.id} ({started}) stored no results in the ledger: it ran before "
        f"ghl-fulfill kept results there. Its results file is beside its input ({paths}), and "
        "`ghl-fulfill history` lists what it did with each order."
    )


def _rebuild_file(ledger: Ledger, record: RunRecord, stored: StoredResults) -> RebuiltFile:
    name = Path(f"{stored.input_path} (results of run {record.id} in the ledger)")
    result = load_result(stored.document, name)
    rebuilt = RebuiltFile(
        result, Path(stored.input_path), Path(stored.results_path), stored.complete
    )
    if stored.complete:
        return rebuilt

    events = ledger.run_events(record.id, stored.file_id)
    packages = ledger.run_packages(record.id, stored.file_id)
    lay_over(result, events, packages)
    # The planned results carry the time they were planned, which is not when the run ended.
    result.finished_at = None
    result.stopped_reason = _unfinished_reason(record.id, ledger.last_activity(record.id))
    remaining = next_steps(dataclasses.replace(result, stopped_reason="", next_step=""))
    result.next_step = f"{RERUN_STEP} {remaining}".strip()
    return rebuilt


def _unfinished_reason(run_id: int, last_activity: str | None) -> str:
    reason = (
        f"import run {run_id} ended before it finished: it was killed, it crashed or was "
        "stopped at once, or its computer stopped."
    )
    if last_activity is not None:
        moment = datetime.fromisoformat(last_activity).astimezone()
        reason += f" Its last record in the ledger is from {moment:%Y-%m-%d %H:%M:%S %Z}."
    return f"{reason} These results were rebuilt from the ledger"


def lay_over(
    result: FileResult, events: Sequence[HistoryLine], packages: Sequence[RunPackage]
) -> None:
    """Give each order that the planned results defer what the run's ledger records show.

    The history gives the outcome of an order as the run decided it. An order
    without history, because the run died before writing it, takes the state
    of its package: created, still sending (so it may have been created), or
    failed. The rest stay deferred: the run never claimed them, so nothing of
    them was sent. Every order's finished_at becomes the time of its history
    event or package record, or None without either.
    """
    # NOTE: a later run that checks or sends one of this run's packages replaces the
    # package's record, and the history is written about once a second. So an order
    # can stay deferred here although this run sent it: its record was replaced
    # before this run wrote its history. The later run's results show the order.
    outcome_of = {_event_reference(event): event for event in events}
    package_of = _packages_by_tracking(packages)
    for order in result.orders:
        event = outcome_of.get(_order_reference(order))
        package = _package_for(order, package_of)
        order.finished_at = _recorded_at(event, package)
        if order.status is not OrderStatus.DEFERRED:
            continue  # rejected by the file alone, before anything was sent
        planned = (order.status, order.message)
        planned_message = order.message
        if event is not None:
            _take_event(order, event, package)
        elif package is not None:
            _take_package(order, package)
        else:
            # Never reached: a finished run shows no email setting for such an order either.
            order.notify_customer = None
        if (order.status, order.message) != planned:
            _update_rows(result, order, planned_message)


def _recorded_at(event: HistoryLine | None, package: RunPackage | None) -> datetime | None:
    """Return when the ledger recorded the order's outcome, in local time like the pipeline's."""
    if event is not None:
        moment = event.at
    elif package is not None:
        moment = package.updated_at
    else:
        return None
    return local_naive(datetime.fromisoformat(moment))


def _event_reference(event: HistoryLine) -> tuple[str, str]:
    if event.order_number:
        return (event.location_id, f"#{event.order_number}")
    return (event.location_id, event.order_id)


def _order_reference(order: OrderResult) -> tuple[str, str]:
    if order.order_number:
        return (order.location_id, f"#{order.order_number}")
    return (order.location_id, order.order_id)


def _packages_by_tracking(packages: Iterable[RunPackage]) -> dict[tuple[str, str], RunPackage]:
    """Index packages by location and tracking number, which name one package of one order."""
    index = {}
    for package in packages:
        for number in package.tracking_numbers:
            index[(package.location_id, number.upper())] = package
    return index


def _package_for(
    order: OrderResult, package_of: dict[tuple[str, str], RunPackage]
) -> RunPackage | None:
    """Find the package the run sent for an order, by its tracking numbers.

    An order given by its number has no order ID in the planned results, and
    an order with packages sent before sends only its new tracking numbers, so
    a package matches on any one tracking number.
    """
    for tracking in order.trackings:
        package = package_of.get((order.location_id, tracking.number.upper()))
        if package is not None and (not order.order_id or package.order_id == order.order_id):
            return package
    return None


def _take_event(order: OrderResult, event: HistoryLine, package: RunPackage | None) -> None:
    """Take the order's outcome from its history event, and HighLevel's response from its package.

    The history stores no HTTP status, so only the package record has it.
    """
    status = OrderStatus(event.status)
    order.status = status
    order.message = event.message
    order.fulfillment_id = event.fulfillment_id
    order.order_id = event.order_id
    order.kind = _kind_of(status, package)
    if package is not None:
        order.fulfillment_id = package.fulfillment_id or event.fulfillment_id
        order.http_status = package.http_status


def _kind_of(status: OrderStatus, package: RunPackage | None) -> ErrorKind | None:
    """Tell why an order in the history was not created, as far as the ledger shows it."""
    # NOTE: the history stores an order's message but not its kind. So an order deferred
    # for the daily request limit is reported as stopped, and a rejected order, or one
    # that failed before it was sent, gets no kind.
    if status in (OrderStatus.CREATED, OrderStatus.SKIPPED, OrderStatus.READY):
        return None
    if status is OrderStatus.DEFERRED:
        return ErrorKind.STOPPED
    if status is OrderStatus.FAILED and package is not None:
        return _failure_kind(package)
    return None


def _take_package(order: OrderResult, package: RunPackage) -> None:
    order.order_id = package.order_id
    order.http_status = package.http_status
    if package.state is FulfillmentState.CREATED:
        # NOTE: a fulfillment that the run found already in HighLevel in the second
        # before it died is listed as created here, with a message that it was found.
        order.status = OrderStatus.CREATED
        order.fulfillment_id = package.fulfillment_id
        order.message = package.message
        order.kind = None
    elif package.state is FulfillmentState.SENDING:
        order.status = OrderStatus.FAILED
        order.message = UNCERTAIN_MESSAGE
        order.kind = ErrorKind.UNCERTAIN
    elif package.state is FulfillmentState.DEFERRED:
        order.message = package.message or order.message
    else:
        order.status = OrderStatus.FAILED
        order.message = package.message
        order.kind = _failure_kind(package)


def _failure_kind(package: RunPackage) -> ErrorKind:
    if package.http_status is not None:
        return response_kind(package.http_status)
    # No response, or only server errors: the last attempt may have been stored.
    return ErrorKind.UNCERTAIN


def _update_rows(result: FileResult, order: OrderResult, planned_message: str) -> None:
    """Give the order's rows its new status, and replace the planned reason it was not sent."""
    numbers = set(order.rows)
    planned_line = _first_line(planned_message)
    for row in result.rows:
        if row.number not in numbers:
            continue
        row.status = order.status.value
        row.problems = [
            problem for problem in row.problems if not _is_reason(problem, row.number, planned_line)
        ]
        reason = _not_created_reason(order, row.number)
        if reason is not None:
            row.problems.append(reason)


def _is_reason(problem: Problem, row_number: int, planned_line: str) -> bool:
    """Tell whether a problem is the planned results' note that the row's order was deferred."""
    # Results stored by earlier versions give the note as a warning.
    return (
        problem.severity in (Severity.NOTE, Severity.WARNING)
        and problem.rows == (row_number,)
        and problem.message.endswith(planned_line)
    )


def _not_created_reason(order: OrderResult, row_number: int) -> Problem | None:
    verbs = {
        OrderStatus.FAILED: "was not created",
        OrderStatus.DEFERRED: "was deferred",
        OrderStatus.REJECTED: "was rejected",
    }
    verb = verbs.get(order.status)
    if verb is None:
        return None
    message = f"the order {verb}: {_first_line(order.message) or 'no reason given'}"
    return Problem(message, (row_number,), severity=Severity.NOTE)


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""
