"""Run one file through the pipeline: load, map, normalize, group, validate,
resolve, submit, report.

A bad row or a rejected order becomes a result, never an exception. The
results workbook is written even when the run stops part way (a rejected
token, Ctrl-C), and every order not sent by then is listed as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

from importer.client import ApiResponse, HighLevelClient
from importer.config import DEFAULT_SOURCE, Settings, require_location
from importer.errors import (
    AuthenticationError,
    DailyLimitError,
    InterruptedRunError,
    LocationAccessError,
    NoTokenError,
    ReportError,
    ResultsNotSavedError,
    RunAbortedError,
    UncertainMappingError,
)
from importer.group import Grouping, OrderGroup, group_shipments, group_unique_rows
from importer.ledger import (
    Entry,
    Event,
    FulfillmentState,
    LedgerError,
    OrderLine,
    Package,
    file_hash,
    tracking_key,
)
from importer.load import IgnoredRow, SourceRow, Table, load_table
from importer.mapping import (
    ColumnMapping,
    Template,
    confirmation_message,
    confirming_options,
    header_score,
    match_template,
)
from importer.normalize import ShipmentRow, Shipments, is_order_id, normalize_table
from importer.records import (
    STOPPED_ON_REQUEST,
    ErrorKind,
    FileResult,
    Item,
    OrderResult,
    OrderStatus,
    Problem,
    RowResult,
    Severity,
)
from importer.report import check_writable, default_results_path, dump_result, write_results
from importer.resolve import (
    CANCELED_STATUSES,
    Resolution,
    find_order_by_number,
    resolve_order,
)
from importer.stopping import StopRequest
from importer.submit import (
    LedgerRun,
    Submission,
    deferred_kind,
    deferred_message,
    send_once,
    submit_order,
)
from importer.validate import build_request, check_orders

logger = logging.getLogger(__name__)

Notice = Callable[[str], None]

# Tables with fewer rows are normalized and grouped one row at a time. Working
# a column at a time pays off only for larger files, and its first use costs
# about a second (pyarrow then loads pandas).
COLUMNAR_MIN_ROWS = 1000

# The maximum number of requests one order takes when nothing goes wrong: an
# order-number lookup, its fulfillments, the order, and the create request.
REQUESTS_PER_ORDER = 4
# How long a location's other workers wait for its first order before they start
# anyway: a first request that meets a timeout must not hold the location for its length.
_FIRST_ANSWER_WAIT_SECONDS = 5.0


@dataclass(frozen=True, kw_only=True)
class FileJob:
    """One input file and where its results go."""

    path: Path
    results_path: Path | None = None
    # The path that the results, notices and ledger name; `path` when None. A watched
    # folder imports a file from processing/ but names it as it was dropped in the inbox.
    shown_path: Path | None = None


async def import_file(
    job: FileJob,
    *,
    settings: Settings,
    templates: Sequence[Template],
    client: HighLevelClient | None,
    notice: Notice,
    show_progress: bool,
    ledger: LedgerRun | None = None,
    stop: StopRequest | None = None,
) -> FileResult:
    """Import one file and write its results workbook.

    With a ledger, each order is claimed in it before it is sent and its
    outcome is recorded, and orders it shows created are skipped. Once `stop`
    is requested, no new order starts; the orders left are deferred.

    A file that cannot be read raises InputFileError before anything is sent.
    A run that stops part way returns its result with `stopped_reason` set.
    """
    result = FileResult(
        path=job.shown_path or job.path, started_at=datetime.now(), dry_run=settings.dry_run
    )
    table = load_table(
        job.path,
        settings.load_options,
        header_score=lambda cells: header_score(cells, templates),
    )
    mapping = match_template(
        table, templates, forced=settings.template, overrides=settings.column_map
    )
    _describe_input(result, table, mapping, settings)
    _check_confidence(result, mapping, table, settings, notice)
    if not settings.dry_run and mapping.header_of("location_id") is None:
        require_location(settings, job.path)

    location_required = not (settings.dry_run and not settings.location_id)
    shipments, grouping = plan_orders(
        table,
        mapping,
        default_location=settings.location_id,
        require_location=location_required,
        strict_tracking=settings.strict_tracking,
    )
    result.notify_setting = _announce(notice, result.path, grouping.orders, settings, client)

    results_path = job.results_path or default_results_path(job.path)
    check_writable(results_path)
    outcomes: dict[str, OrderResult] = {}
    run = _Run(
        settings,
        client,
        mapping,
        _file_ledger(ledger, job.path, settings, shown=result.path),
        claimed={},
        rows_of=_row_finder(shipments),
        stop=stop or StopRequest(),
    )
    try:
        _save_planned_results(result, table, shipments, grouping, results_path, run)
        await _process_orders(grouping.orders, outcomes, run, show_progress)
        if run.stop.requested:
            result.stopped_reason = STOPPED_ON_REQUEST
    except RunAbortedError as error:
        result.stopped_reason = str(error)
        result.stopped_by = error
    except asyncio.CancelledError:
        # The task was cancelled; the results so far are still written below.
        result.stopped_reason = "the import was interrupted"
    finally:
        _finish(
            result,
            table,
            shipments,
            grouping.orders,
            grouping.rows_without_order,
            outcomes,
            in_flight=run.in_flight,
        )
        not_saved = _write_results_file(result, results_path, run)
    # After the workbook, so that a ledger failing here cannot cost the user the workbook.
    _record_history(result, grouping.orders, run)
    if not_saved is not None:
        raise not_saved
    return result


def _write_results_file(
    result: FileResult, results_path: Path, run: _Run
) -> ResultsNotSavedError | None:
    """Write the results file and save the results in the ledger.

    A results file that cannot be saved is returned as an error rather than
    raised, so that the caller still records the history of the orders sent.
    """
    try:
        result.results_path = write_results(result, results_path)
    except ReportError as error:
        return _not_saved(error, result, run)
    finally:
        # Also when the file cannot be saved: `ghl-fulfill report` then rebuilds it.
        _save_final_results(result, results_path, run)
    return None


def _not_saved(error: ReportError, result: FileResult, run: _Run) -> ResultsNotSavedError:
    if result.dry_run:
        step = "Nothing was sent (dry run); run it again with another --results."
    elif run.ledger is None:
        step = "Importing the file again sends nothing twice and writes the results."
    else:
        step = (
            "The orders above were sent, and their results are kept in the ledger: "
            f"`ghl-fulfill report {run.ledger.run_id} --results FOLDER` writes them "
            "to another place, and importing the file again sends nothing twice."
        )
    message = str(error).removeprefix(f"{error.path}: ")
    return ResultsNotSavedError(error.path, f"{message} {step}", result)


def _save_planned_results(
    result: FileResult,
    table: Table,
    shipments: Shipments,
    grouping: Grouping,
    results_path: Path,
    run: _Run,
) -> None:
    """Save in the ledger the results the file would have if the run ended before its first order.

    Every order the file does not reject is deferred in them. A run killed
    before it saves its final results leaves this document, and `ghl-fulfill
    report` lays the ledger's record of each package sent over it.
    """
    if run.ledger is None:
        return
    planned = dataclasses.replace(result, orders=[], rows=[], notes=list(result.notes))
    _finish(planned, table, shipments, grouping.orders, grouping.rows_without_order, {})
    for group, order in zip(grouping.orders, planned.orders, strict=True):
        if order.status is OrderStatus.DEFERRED and order.kind is None:
            order.kind = ErrorKind.STOPPED
        if order.status is OrderStatus.DEFERRED:
            # The ledger does not store it, and the report shows it for each order sent.
            order.notify_customer = _notify(group, run.settings)
    _save_results(run.ledger, planned, results_path, complete=False)


def _save_final_results(result: FileResult, results_path: Path, run: _Run) -> None:
    """Save the file's final results in the ledger; a failing ledger costs only the copy."""
    if run.ledger is None:
        return
    try:
        _save_results(run.ledger, result, results_path, complete=True)
    except LedgerError as error:
        logger.warning(
            "%s: the results could not be saved in the ledger, so `ghl-fulfill report` "
            "cannot rebuild them; the results file is the only copy. %s",
            result.path,
            error,
        )


def _save_results(
    ledger: LedgerRun, result: FileResult, results_path: Path, *, complete: bool
) -> None:
    # _file_ledger gives every ledger of a file run its file ID.
    assert ledger.file_id is not None
    ledger.ledger.save_results(
        ledger.run_id,
        ledger.file_id,
        input_path=result.path.resolve(),
        results_path=results_path.resolve(),
        document=dump_result(result),
        complete=complete,
    )


def _row_finder(shipments: Shipments) -> Callable[[Sequence[int]], list[ShipmentRow]]:
    """Find normalized rows by their row numbers, which rise through the table."""

    def rows_of(numbers: Sequence[int]) -> list[ShipmentRow]:
        positions = np.searchsorted(shipments.numbers, numbers)
        return [shipments.row(int(position)) for position in positions]

    return rows_of


def _file_ledger(
    ledger: LedgerRun | None, path: Path, settings: Settings, *, shown: Path
) -> LedgerRun | None:
    """Record the file in the ledger, by the hash of its content; None in a dry run."""
    if ledger is None or settings.dry_run:
        return None
    file_id = ledger.ledger.record_file(
        ledger.run_id, shown.resolve(), file_hash(path), path.stat().st_size
    )
    return dataclasses.replace(ledger, file_id=file_id)


# The history is written in batches, so that a million orders do not take a
# million transactions, and often enough that a killed run loses little of it.
_HISTORY_BATCH = 200
_HISTORY_SECONDS = 1.0


def _note_history(run: _Run, reference: str, outcome: OrderResult) -> None:
    """Queue an order's outcome for the ledger's history, writing the queue now and then."""
    if run.ledger is None:
        return
    run.history.append(_event(run.ledger, outcome))
    run.noted.add(reference)
    due = time.monotonic() - run.history_written >= _HISTORY_SECONDS
    if len(run.history) >= _HISTORY_BATCH or due:
        _write_history(run)


def _write_history(run: _Run) -> None:
    if run.ledger is not None and run.history:
        run.ledger.ledger.record_events(run.history)
    run.history.clear()
    run.history_written = time.monotonic()


def _record_history(result: FileResult, orders: Sequence[OrderGroup], run: _Run) -> None:
    """Write the outcomes not written yet: orders the file rejected or the run never reached."""
    if run.ledger is None:
        return
    for order, outcome in zip(orders, result.orders, strict=True):
        if order.order_id not in run.noted:
            run.history.append(_event(run.ledger, outcome))
    _write_history(run)


def _event(ledger: LedgerRun, order: OrderResult) -> Event:
    return Event(
        run_id=ledger.run_id,
        file_id=ledger.file_id,
        location_id=order.location_id,
        order_id=order.order_id,
        order_number=order.order_number,
        trackings=order.trackings,
        status=order.status.value,
        fulfillment_id=order.fulfillment_id,
        message=order.message,
    )


def plan_orders(
    table: Table,
    mapping: ColumnMapping,
    *,
    default_location: str,
    require_location: bool,
    strict_tracking: bool = False,
) -> tuple[Shipments, Grouping]:
    """Normalize, group and check the rows of a table: everything before the network."""
    columnar = len(table.rows) >= COLUMNAR_MIN_ROWS
    shipments = normalize_table(table, mapping, columnar=columnar, strict_tracking=strict_tracking)
    grouping = group_shipments(
        shipments, mapping=mapping, default_location=default_location, columnar=columnar
    )
    check_orders(grouping.orders, mapping, require_location=require_location)
    return shipments, grouping


def _check_confidence(
    result: FileResult, mapping: ColumnMapping, table: Table, settings: Settings, notice: Notice
) -> None:
    """Stop before anything is sent when the columns were matched by guesswork.

    A dry run goes on, so that the user can see what the proposed mapping
    would do, and states that a real run would stop.
    """
    if mapping.confident:
        return
    message = confirmation_message(mapping)
    result.confirm_with = " ".join(confirming_options(mapping))
    result.notes.append(message)
    if not settings.dry_run:
        raise UncertainMappingError(table.path, message)
    notice(f"{table.path}: {message}\nThis dry run goes on; a real run stops here until confirmed.")


def describe_match(mapping: ColumnMapping) -> str:
    """Say in words how well the template matched: "5 of 7 fields found, partial template"."""
    template = mapping.template
    text = f"{mapping.found_count} of {len(template.fields)} fields found"
    if mapping.confirmed:
        text += f", {len(mapping.confirmed)} set with --map"
    if not mapping.confident:
        text += ", needs confirmation"
    return text


def _describe_input(
    result: FileResult, table: Table, mapping: ColumnMapping, settings: Settings
) -> None:
    result.sheet = table.sheet
    result.headers = table.headers
    result.template = mapping.template.name
    result.template_score = mapping.score
    result.template_match = describe_match(mapping)
    result.location_id = settings.location_id
    result.notes.extend(table.notes)
    result.notes.extend(mapping.notes)


def _announce(
    notice: Notice,
    path: Path,
    orders: Sequence[OrderGroup],
    settings: Settings,
    client: HighLevelClient | None,
) -> str:
    """State before anything is sent whether customers will get an email; return the setting."""
    own_choice = sum(1 for order in orders if order.notify_customer is not None)
    setting = settings.notify_description
    if own_choice:
        setting += f", except {plural(own_choice, 'order')} whose rows set it themselves"
    line = f"{path}: {plural(len(orders), 'order')}; {setting}"
    if settings.notify_source == DEFAULT_SOURCE:
        line += "; turn them on with --notify-customer"
    notice(line + ".")
    if settings.dry_run and client is None:
        notice(
            "Dry run without a token: nothing will be sent, and orders, SKUs and quantities "
            "are not checked against HighLevel."
        )
    elif settings.dry_run:
        notice(f"Dry run: nothing will be sent; orders are checked against {settings.api_name}.")
    return setting


@dataclass
class _Run:
    """The settings, client, mapping and ledger that every order of a file is processed with."""

    settings: Settings
    client: HighLevelClient | None
    mapping: ColumnMapping
    ledger: LedgerRun | None
    # HighLevel order ID -> the file's reference to it, so that an order named
    # twice in one file ("#1001" on some rows, its ID on others) is sent once.
    claimed: dict[str, str]
    # The normalized rows with the given row numbers.
    rows_of: Callable[[Sequence[int]], list[ShipmentRow]] | None = None
    # The orders (by the file's reference) whose request may be on its way now.
    in_flight: set[str] = dataclasses.field(default_factory=set)
    # Outcomes waiting to be written to the ledger's history, and the orders queued so far.
    history: list[Event] = dataclasses.field(default_factory=list)
    noted: set[str] = dataclasses.field(default_factory=set)
    history_written: float = dataclasses.field(default_factory=time.monotonic)
    stop: StopRequest = dataclasses.field(default_factory=StopRequest)
    # Locations whose orders are no longer started today, with the reason.
    deferred: dict[str, str] = dataclasses.field(default_factory=dict)
    # Locations whose token is missing or refused: their orders are rejected unsent.
    refused: dict[str, LocationAccessError] = dataclasses.field(default_factory=dict)
    # The default token, when HighLevel rejected it in a run that has other tokens too.
    default_refused: AuthenticationError | None = None


async def _process_orders(
    orders: Sequence[OrderGroup],
    outcomes: dict[str, OrderResult],
    run: _Run,
    show_progress: bool,
) -> None:
    """Work through the orders, each location's at once and at its own pace.

    Every location has its own queue and `concurrency` workers, so that a
    location waiting for its rate limit never holds up the others.
    """
    run.claimed.update(
        (order.order_id, order.order_id) for order in orders if is_order_id(order.order_id)
    )
    queues = _queues_by_location(orders)
    with tqdm(total=len(orders), unit="order", disable=not show_progress, leave=False) as bar:

        async def work(
            location_id: str, queue: deque[OrderGroup], first_answer: asyncio.Event, lead: bool
        ) -> None:
            # One order of the location goes first, so that its response reports how
            # much of the day is left before the other workers start theirs.
            if not lead:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(first_answer.wait(), _FIRST_ANSWER_WAIT_SECONDS)
            try:
                while queue and not run.stop.requested:
                    order = queue.popleft()
                    outcome = await _order_outcome(order, location_id, run)
                    first_answer.set()
                    if outcome is None:
                        return  # stopped while sending: the order stays listed as in flight
                    outcomes[order.order_id] = outcome
                    _note_history(run, order.order_id, outcome)
                    bar.update()
            finally:
                first_answer.set()

        workers = []
        for location_id, queue in queues.items():
            first_answer = asyncio.Event()
            for number in range(min(run.settings.concurrency, len(queue))):
                job = work(location_id, queue, first_answer, lead=number == 0)
                workers.append(asyncio.create_task(job))
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)


def _queues_by_location(orders: Sequence[OrderGroup]) -> dict[str, deque[OrderGroup]]:
    """Split the orders by location, keeping the file's order within each."""
    queues: dict[str, deque[OrderGroup]] = {}
    for order in orders:
        queues.setdefault(order.location_id, deque()).append(order)
    return queues


async def _order_outcome(order: OrderGroup, location_id: str, run: _Run) -> OrderResult | None:
    """Process one order; None when the run was stopped while its request was on its way."""
    own_token = location_id in run.settings.location_tokens
    if not order.has_errors and run.client is not None and location_id:
        refused = run.refused.get(location_id)
        if refused is not None:
            return _no_access(order, refused, run)
        if run.default_refused is not None and not own_token:
            return _token_refused(order, str(run.default_refused), run)
        reason = run.deferred.get(location_id) or _daily_limit_near(location_id, run)
        if reason:
            run.deferred[location_id] = reason
            return _deferred(order, reason, ErrorKind.DAILY_LIMIT)

    stopwatch = _Stopwatch()
    try:
        outcome = await _process_order(order, run, stopwatch)
    except LocationAccessError as error:
        run_token = not own_token and not isinstance(error, NoTokenError)
        if error.location_id == run.settings.location_id and run_token:
            raise  # the run's own location and token: nothing can be sent
        run.refused.setdefault(error.location_id, error)
        outcome = _no_access(order, error, run)
    except AuthenticationError as error:
        if not run.settings.location_tokens:
            raise  # the one token of the run: nothing can be sent
        # The default token is refused, but locations with their own token go on.
        run.default_refused = error
        outcome = _token_refused(order, str(error), run)
    except (InterruptedRunError, DailyLimitError) as error:
        if isinstance(error, DailyLimitError):
            run.deferred.setdefault(location_id, deferred_message(error))
        if order.order_id in run.in_flight:
            return None
        outcome = _deferred(order, deferred_message(error), deferred_kind(error))
    outcome.seconds = stopwatch.seconds()
    return outcome


@dataclass
class _Stopwatch:
    """The time since an order's first request, for the Seconds of its result."""

    started: float | None = None

    def start(self) -> None:
        """Start at the first request; later calls keep that start."""
        if self.started is None:
            self.started = time.monotonic()

    def seconds(self) -> float | None:
        """Return the seconds since the start, or None when the order sent no request."""
        if self.started is None:
            return None
        return time.monotonic() - self.started


def _daily_limit_near(location_id: str, run: _Run) -> str:
    """Say why the location's orders must wait for tomorrow; "" while its day has room.

    An order is started only when the day's remaining requests cover it and
    the reserve kept for other tools, so that the limit is never run into.
    """
    assert run.client is not None
    remaining = run.client.daily_remaining(location_id)
    reserve = run.settings.daily_reserve
    if remaining is None or remaining >= reserve + REQUESTS_PER_ORDER:
        return ""
    return (
        f"not sent today: HighLevel's daily limit of API requests for location {location_id} "
        f"is nearly used up ({remaining} left, {reserve} kept for other tools by daily_reserve). "
        "Run the file again after midnight UTC; it sends only what is still missing"
    )


def _deferred(order: OrderGroup, message: str, kind: ErrorKind) -> OrderResult:
    outcome = _result_for(order, OrderStatus.DEFERRED)
    return _finished(outcome, OrderStatus.DEFERRED, message=message, kind=kind)


async def _process_order(order: OrderGroup, run: _Run, stopwatch: _Stopwatch) -> OrderResult:
    """Resolve and send one order, starting `stopwatch` at its first request."""
    settings, client = run.settings, run.client
    reference = order.order_id
    outcome = _result_for(order, OrderStatus.REJECTED)
    outcome.notify_customer = _notify(order, settings)
    if order.has_errors:
        message = _problem_text(order.problems)
        return _finished(outcome, OrderStatus.REJECTED, message=message, kind=ErrorKind.INPUT)
    if client is None or not order.location_id:
        return _finished(outcome, OrderStatus.READY, message=_unchecked_message(order))

    if not is_order_id(order.order_id):
        stopwatch.start()
        found = await _look_up_number(order, client, run, outcome)
        if found is None:
            return outcome
        order = found

    earlier = _created_earlier(order, run)
    if earlier is not None:
        outcome.fulfillment_id = earlier.fulfillment_id
        message = (
            f"already created on {earlier.date} (fulfillment {earlier.fulfillment_id}) by "
            f"import run {earlier.run_id}, with these tracking numbers"
        )
        return _finished(outcome, OrderStatus.SKIPPED, message=message)

    stopwatch.start()
    resolution = await resolve_order(client, order, run.mapping, _known_order(order, run))
    sent_before = ""
    new_package = _new_package(order, resolution, run)
    if new_package is not None:
        # Some packages of the order were sent by an earlier import: send the new ones.
        sent_before = resolution.earlier
        order = new_package
        outcome.trackings = tuple(order.trackings)
        resolution = await resolve_order(client, order, run.mapping)
    order.problems.extend(resolution.problems)
    _record_response(outcome, resolution.response)
    if resolution.status is not OrderStatus.READY:
        outcome.fulfillment_id = resolution.fulfillment_id
        message = resolution.message or _problem_text(resolution.problems)
        if resolution.status is OrderStatus.SKIPPED:
            _remember_found(order, resolution.fulfillment_id, message, run)
        return _finished(outcome, resolution.status, message=message, kind=resolution.kind)

    outcome.items = tuple(resolution.items)
    request = build_request(order, resolution.items, notify_customer=_notify(order, settings))
    if isinstance(request, Problem):
        order.problems.append(request)
        return _finished(
            outcome, OrderStatus.REJECTED, message=request.message, kind=ErrorKind.INPUT
        )
    if settings.dry_run:
        return _finished(outcome, OrderStatus.READY, message="valid; would be sent")

    run.in_flight.add(reference)
    if run.ledger is None:
        submission = await submit_order(
            client, order.order_id, request, existing=resolution.existing, retry=settings.retry
        )
    else:
        submission = await send_once(
            client,
            run.ledger,
            _package(order, resolution.items),
            request,
            existing=resolution.existing,
            retry=settings.retry,
            force=settings.force,
            order_lines=resolution.order_lines,
        )
    run.in_flight.discard(reference)
    outcome.fulfillment_id = submission.fulfillment_id
    outcome.http_status = submission.http_status
    outcome.trace_id = submission.trace_id
    message = submission.message
    if sent_before and submission.status is OrderStatus.CREATED:
        message = (
            "created for the new tracking numbers only; the order's other packages were "
            f"sent before (fulfillment {sent_before})"
        )
    kind = _submission_kind(submission, resolution)
    return _finished(outcome, submission.status, message=message, kind=kind)


def _submission_kind(submission: Submission, resolution: Resolution) -> ErrorKind | None:
    """Tell a rejection of a canceled order, which no change to the request can fix, apart."""
    canceled = resolution.order_status in CANCELED_STATUSES
    if submission.kind is ErrorKind.API_REJECTED and canceled:
        return ErrorKind.ORDER_STATE
    return submission.kind


def _new_package(order: OrderGroup, resolution: Resolution, run: _Run) -> OrderGroup | None:
    """Build the order's new packages from their rows, when the rows show their items.

    Every row of the order must give its tracking number, and every row of a
    new package must name an item; otherwise which items the new packages hold
    is unknown, and None leaves the order rejected.
    """
    if not resolution.new_trackings or run.rows_of is None:
        return None
    rows = run.rows_of(order.rows)
    new = {number.upper() for number in resolution.new_trackings}
    chosen = [row for row in rows if row.tracking_number.upper() in new]
    if any(not row.tracking_number for row in rows) or not all(row.names_item for row in chosen):
        return None

    grouping = group_unique_rows(chosen, mapping=run.mapping, default_location=order.location_id)
    if len(grouping.orders) != 1:
        return None
    return dataclasses.replace(
        grouping.orders[0], order_id=order.order_id, notify_customer=order.notify_customer
    )


def _no_access(order: OrderGroup, error: LocationAccessError, run: _Run) -> OrderResult:
    """Reject an order whose own location the token may not use; the others go on."""
    if isinstance(error, NoTokenError) or error.location_id in run.settings.location_tokens:
        message = str(error)
    else:
        message = (
            f"the token may not use location {error.location_id}, which these rows name; "
            "check the location ID, or import this location's orders with its own token"
        )
    problem = Problem(message, tuple(order.rows), run.mapping.header_of("location_id"))
    order.problems.append(problem)
    outcome = _result_for(order, OrderStatus.REJECTED)
    if not isinstance(error, NoTokenError):
        outcome.http_status = 403
    message = _problem_text([problem])
    return _finished(outcome, OrderStatus.REJECTED, message=message, kind=ErrorKind.ACCESS)


def _token_refused(order: OrderGroup, message: str, run: _Run) -> OrderResult:
    """Reject an order whose location uses the default token, which HighLevel rejected."""
    problem = Problem(message, tuple(order.rows))
    order.problems.append(problem)
    outcome = _result_for(order, OrderStatus.REJECTED)
    outcome.http_status = 401
    return _finished(outcome, OrderStatus.REJECTED, message=message, kind=ErrorKind.ACCESS)


def _package(order: OrderGroup, items: Sequence[Item]) -> Package:
    return Package(
        location_id=order.location_id,
        order_id=order.order_id,
        trackings=tuple(order.trackings),
        items=tuple(items),
    )


def _created_earlier(order: OrderGroup, run: _Run) -> Entry | None:
    """Return the ledger's record of these packages when an earlier run created them."""
    if run.ledger is None or run.settings.force:
        return None
    key = tracking_key(tracking.number for tracking in order.trackings)
    entry = run.ledger.ledger.find(order.location_id, order.order_id, key)
    if entry is None or entry.state is not FulfillmentState.CREATED:
        return None
    return entry


def _known_order(order: OrderGroup, run: _Run) -> list[OrderLine] | None:
    """Return the order's items as an earlier run read them, when the rows give price IDs."""
    if run.ledger is None or not order.items or not all(item.price_id for item in order.items):
        return None
    return run.ledger.ledger.known_order(order.location_id, order.order_id)


def _remember_found(order: OrderGroup, fulfillment_id: str, message: str, run: _Run) -> None:
    """Record in the ledger a fulfillment that HighLevel already has, so later runs need not ask."""
    if run.ledger is None or run.settings.dry_run:
        return
    run.ledger.ledger.record_outcome(
        _package(order, order.items),
        FulfillmentState.CREATED,
        run_id=run.ledger.run_id,
        file_id=run.ledger.file_id,
        fulfillment_id=fulfillment_id,
        message=message,
    )


async def _look_up_number(
    order: OrderGroup, client: HighLevelClient, run: _Run, outcome: OrderResult
) -> OrderGroup | None:
    """Find the HighLevel order of an order number; None when the outcome is final."""
    number = order.order_id
    claimed = run.claimed
    lookup = await find_order_by_number(client, number, order.location_id)
    column = run.mapping.header_of("order_id")
    if lookup.failure:
        _record_response(outcome, lookup.response)
        _finished(outcome, OrderStatus.FAILED, message=lookup.failure, kind=lookup.kind)
        return None
    if lookup.problem:
        order.problems.append(Problem(lookup.problem, tuple(order.rows), column))
        message = _problem_text(order.problems)
        _finished(outcome, OrderStatus.REJECTED, message=message, kind=lookup.kind)
        return None

    outcome.order_id = lookup.order_id
    other = claimed.setdefault(lookup.order_id, number)
    if other != number:
        problem = Problem(
            f'"{number}" is the HighLevel order {lookup.order_id}, which other rows of the file '
            f'name as "{other}"; write the order the same way on all its rows',
            tuple(order.rows),
            column,
        )
        order.problems.append(problem)
        message = _problem_text(order.problems)
        _finished(outcome, OrderStatus.REJECTED, message=message, kind=ErrorKind.INPUT)
        return None
    if lookup.warning:
        order.problems.append(
            Problem(lookup.warning, tuple(order.rows), column, severity=Severity.WARNING)
        )
    return dataclasses.replace(order, order_id=lookup.order_id)


def _record_response(outcome: OrderResult, response: ApiResponse | None) -> None:
    if response is not None and not response.ok:
        outcome.http_status = response.status_code
        outcome.trace_id = response.trace_id


def plural(count: int, noun: str) -> str:
    """Write a count with its noun, adding "s" unless the count is 1."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _notify(order: OrderGroup, settings: Settings) -> bool:
    if order.notify_customer is not None:
        return order.notify_customer
    return settings.notify_customer


def _finished(
    outcome: OrderResult, status: OrderStatus, *, message: str, kind: ErrorKind | None = None
) -> OrderResult:
    outcome.status = status
    outcome.message = message
    outcome.kind = kind
    outcome.finished_at = datetime.now()
    return outcome


def _unchecked_message(order: OrderGroup) -> str:
    if not is_order_id(order.order_id):
        return "valid so far; the order number was not looked up in HighLevel (no token)"
    if all(item.price_id for item in order.items) and order.items:
        return "valid; would be sent (quantities not checked: no token)"
    return "valid so far; items were not checked against HighLevel (no token)"


def _problem_text(problems: list[Problem]) -> str:
    errors = [problem for problem in problems if problem.is_error]
    return "\n".join(_describe_problem(problem) for problem in errors)


def _describe_problem(problem: Problem) -> str:
    where = []
    if problem.rows:
        label = "row" if len(problem.rows) == 1 else "rows"
        where.append(f"{label} {', '.join(str(row) for row in problem.rows)}")
    if problem.column:
        where.append(f'column "{problem.column}"')
    return f"{', '.join(where)}: {problem.message}" if where else problem.message


def _finish(
    result: FileResult,
    table: Table,
    rows: Iterable[ShipmentRow],
    orders: Sequence[OrderGroup],
    rows_without_order: list[ShipmentRow],
    outcomes: dict[str, OrderResult],
    *,
    in_flight: set[str] | None = None,
) -> None:
    """Give every order and every input row its final status.

    `in_flight` names the orders whose request was on its way when the run stopped.
    """
    in_flight = in_flight or set()
    result.finished_at = datetime.now()
    outcome_of: dict[str, OrderResult] = {}
    for order in orders:
        outcome = outcomes.get(order.order_id)
        if outcome is None and order.has_errors:
            # The file alone rejects it, whether or not the run reached it.
            rejected = _result_for(order, OrderStatus.REJECTED)
            message = _problem_text(order.problems)
            outcome = _finished(
                rejected, OrderStatus.REJECTED, message=message, kind=ErrorKind.INPUT
            )
        elif outcome is None:
            outcome = _not_sent(
                order, dry_run=result.dry_run, in_flight=order.order_id in in_flight
            )
        result.orders.append(outcome)
        outcome_of[order.order_id] = outcome

    order_problems = {order.order_id: order.problems for order in orders}
    without_order = {row.number for row in rows_without_order}
    by_number = {row.number: row for row in rows}

    ignored = {row.number: row.reason for row in table.ignored}
    every_row: list[SourceRow | IgnoredRow] = [*table.rows, *table.ignored]
    for source in sorted(every_row, key=lambda row: row.number):
        shipment = by_number.get(source.number)
        if shipment is None:
            # Ignored rows say why, so the user can check that no shipment was skipped.
            reason = ignored.get(source.number, "blank row")
            skipped = Problem(reason, (source.number,), severity=Severity.NOTE)
            result.rows.append(RowResult(source.number, source.cells, "", "ignored", [skipped]))
            continue

        outcome = None if source.number in without_order else outcome_of.get(shipment.order_id)
        status = outcome.status if outcome else OrderStatus.REJECTED
        problems = _row_problems(shipment, order_problems.get(shipment.order_id, []), outcome)
        result.rows.append(
            RowResult(source.number, source.cells, shipment.order_id, status.value, problems)
        )


def _row_problems(
    row: ShipmentRow, order_problems: list[Problem], outcome: OrderResult | None
) -> list[Problem]:
    """Collect the row's problems, its order's problems naming it, and why it was not sent."""
    problems = list(row.problems)
    for problem in order_problems:
        if row.number in problem.rows and problem not in problems:
            problems.append(problem)

    not_sent = outcome is not None and outcome.status in _NOT_SENT
    if outcome is not None and not_sent and not any(problem.is_error for problem in problems):
        problems.append(_why_not_sent(row.number, outcome, order_problems))
    return problems


_NOT_SENT = (OrderStatus.REJECTED, OrderStatus.FAILED, OrderStatus.DEFERRED)


def _why_not_sent(row_number: int, outcome: OrderResult, order_problems: list[Problem]) -> Problem:
    first_line = outcome.message.splitlines()[0] if outcome.message else "no reason given"
    if outcome.status is OrderStatus.DEFERRED:
        message = f"the order was deferred: {first_line}"
    elif outcome.status is OrderStatus.FAILED:
        message = f"the order was not created: {first_line}"
    else:
        bad_rows = sorted({row for p in order_problems if p.is_error for row in p.rows})
        where = f" (see row {', '.join(map(str, bad_rows))})" if bad_rows else ""
        message = f"this row is fine, but its order was rejected because of another row{where}"
    return Problem(message, (row_number,), severity=Severity.NOTE)


def _result_for(order: OrderGroup, status: OrderStatus) -> OrderResult:
    number = not is_order_id(order.order_id)
    return OrderResult(
        order_id="" if number else order.order_id,
        order_number=order.order_id if number else "",
        location_id=order.location_id,
        status=status,
        rows=tuple(order.rows),
        trackings=tuple(order.trackings),
        items=tuple(order.items),
    )


def _not_sent(order: OrderGroup, *, dry_run: bool, in_flight: bool = False) -> OrderResult:
    failed = _result_for(order, OrderStatus.FAILED)
    if dry_run:
        message = "not checked: the run stopped before this order"
        return _finished(failed, OrderStatus.FAILED, message=message, kind=ErrorKind.STOPPED)
    if in_flight:
        message = (
            "may have been created: the run stopped while this order was being sent. Run the "
            "file again: it checks HighLevel first and sends the order only if it is missing"
        )
        return _finished(failed, OrderStatus.FAILED, message=message, kind=ErrorKind.UNCERTAIN)
    message = "not sent: the run stopped before this order; run the file again to send it"
    return _deferred(order, message, ErrorKind.STOPPED)
