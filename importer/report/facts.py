"""The values a run's results report, worded the same whatever form they are written in.

The workbook, the CSV files and the JSON document are all built from these
values, so a count or a next step reads the same in each.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

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

CellValue = str | int | float | datetime | None

IGNORED_STATUS = "ignored"

# Spreadsheet programs may read a value starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def summary_fields(result: FileResult) -> list[tuple[str, CellValue]]:
    """Return the (label, value) pairs of the run's summary: settings, counts, then advice."""
    fields = run_fields(result)
    fields += [(count.label, count.count) for count in status_counts(result)]
    fields += advice_fields(result)
    return fields


def results_title(result: FileResult) -> str:
    """Return the heading of the results, naming the input file: "Results of importing x.csv"."""
    title = f"Results of importing {result.path.name}"
    if result.dry_run:
        title += " (dry run, nothing sent)"
    return title


def run_fields(result: FileResult) -> list[tuple[str, CellValue]]:
    """Return the (label, value) pairs that describe the run: file, template, times, settings."""
    fields: list[tuple[str, CellValue]] = [("File", str(result.path))]
    if result.sheet is not None:
        fields.append(("Sheet", result.sheet))

    fields += [
        ("Template", result.template),
        ("Match score", result.template_score),
        ("Match", result.template_match),
        ("Location", locations_text(result)),
        ("Started", local_naive(result.started_at)),
        ("Finished", local_naive(result.finished_at)),
        ("Time zone", time_zone_text(result.started_at)),
        ("Duration (seconds)", duration_seconds(result)),
        ("Dry run", yes_no(result.dry_run)),
        ("Notify customers", result.notify_setting),
    ]
    return fields


def time_zone_text(moment: datetime) -> str:
    """Name the offset that the run's times are shown in: "UTC+01:00, this computer's time"."""
    # A time without a zone is this computer's local time, as datetime.now() gives it.
    offset = moment.astimezone().utcoffset() or timedelta()
    sign = "-" if offset < timedelta() else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}, this computer's time"


def advice_fields(result: FileResult) -> list[tuple[str, CellValue]]:
    """Return why the run stopped, the notes and the next step, as (label, value) pairs."""
    fields: list[tuple[str, CellValue]] = []
    if result.stopped_reason:
        fields.append(("Stopped because", result.stopped_reason))
    fields += [("Note", note) for note in result.notes]
    fields.append(("What to do next", next_steps(result)))
    return fields


@dataclass(frozen=True)
class StatusCount:
    """One count of the summary, with its share of the file's orders."""

    label: str  # "Orders created", as the summary shows it
    status: str  # the OrderStatus value or IGNORED_STATUS; "" for the totals
    count: int
    share: float | None  # count / orders, from 0.0 to 1.0; None for the totals and ignored rows


def status_counts(result: FileResult) -> list[StatusCount]:
    """Count the input rows, the orders, the orders of each status and the ignored rows."""
    orders = len(result.orders)
    counts = [
        StatusCount("Input rows", "", len(result.rows), None),
        StatusCount("Orders", "", orders, None),
    ]
    for status in counted_statuses(result):
        count = result.count(status)
        share = count / orders if orders else None
        counts.append(StatusCount(count_label(status), status.value, count, share))
    ignored = count_ignored_rows(result.rows)
    counts.append(StatusCount(count_label(IGNORED_STATUS), IGNORED_STATUS, ignored, None))
    return counts


_NAMED_LOCATIONS = 10


def locations_text(result: FileResult) -> str:
    """Name the run's location, or every location the orders went to when there are several."""
    locations = sorted({order.location_id for order in result.orders if order.location_id})
    if len(locations) <= 1:
        return locations[0] if locations else result.location_id
    named = ", ".join(locations[:_NAMED_LOCATIONS])
    more = len(locations) - _NAMED_LOCATIONS
    if more > 0:
        named += f" and {more} more"
    return f"{len(locations)} locations: {named}"


def counted_statuses(result: FileResult) -> list[OrderStatus]:
    statuses = [
        OrderStatus.CREATED,
        OrderStatus.SKIPPED,
        OrderStatus.REJECTED,
        OrderStatus.FAILED,
    ]
    if result.count(OrderStatus.DEFERRED):
        statuses.append(OrderStatus.DEFERRED)
    if result.dry_run:
        statuses.append(OrderStatus.READY)
    return statuses


def count_label(status: str) -> str:
    if status == IGNORED_STATUS:
        return "Rows ignored"
    return f"Orders {status}"


def count_ignored_rows(rows: Iterable[RowResult]) -> int:
    return sum(1 for row in rows if row.status == IGNORED_STATUS)


def duration_seconds(result: FileResult) -> float | None:
    if result.finished_at is None:
        return None
    return round((result.finished_at - result.started_at).total_seconds(), 1)


def next_steps(result: FileResult) -> str:
    """Build the plain-language next step from the counts and the stopped reason."""
    if result.next_step:
        return result.next_step
    steps: list[str] = []
    if result.stopped_reason == STOPPED_ON_REQUEST:
        steps.append("The import was stopped before it finished. Import the file again to go on.")
    elif result.stopped_reason:
        steps.append(
            'The import stopped before it finished. Fix the cause given under "Stopped '
            'because" and import the file again.'
        )
    if result.count(OrderStatus.REJECTED):
        steps.append(
            "Fix the rejected orders, in the Rows sheet of this workbook or in the input file "
            "(the Rows sheet gives each row's problem), and import that file again: orders "
            "already created are skipped."
        )
    if result.count(OrderStatus.FAILED):
        steps.append(
            "For each failed order, the What To Do column of the Orders sheet says whether "
            "importing again can help or the order needs a change in HighLevel first."
        )
    if _deferred_for_daily_limit(result):
        steps.append(
            "Orders deferred for HighLevel's daily limit of requests are sent by importing "
            "the file again after midnight UTC; nothing already created is sent twice."
        )
    # A stopped run's first sentence already tells the user to import again.
    elif result.count(OrderStatus.DEFERRED) and not result.stopped_reason:
        steps.append(
            "The deferred orders were not sent in this run (the reason is in the Orders "
            "sheet). Import the file again to send them; nothing already created is sent twice."
        )
    if result.dry_run and result.count(OrderStatus.READY):
        steps.append(
            "This was a dry run, so nothing was sent to HighLevel. "
            "Import the file again without a dry run to create the ready orders."
        )
    if result.confirm_with:
        steps.append(
            "The columns were matched by guesswork, so a real import stops until you confirm "
            f"them: check the Summary's notes and add {result.confirm_with} to the command."
        )

    if steps:
        return " ".join(steps)
    if (
        not result.orders
        and result.rows
        and all(row.status == IGNORED_STATUS for row in result.rows)
    ):
        return (
            "No orders were left to send: the Rows sheet says why each row was set aside "
            "(a blank or totals row, or an order that an earlier import created)."
        )
    if not result.orders:
        return "No orders were found in the file. Check that it is the right export."
    return "Nothing to do: every order was created or already fulfilled."


def _deferred_for_daily_limit(result: FileResult) -> bool:
    return any(
        order.status is OrderStatus.DEFERRED and order.kind is ErrorKind.DAILY_LIMIT
        for order in result.orders
    )


def item_text(item: Item) -> str:
    return f"{item.sku or item.price_id} \N{MULTIPLICATION SIGN} {item.qty}"


def compress_row_numbers(numbers: Iterable[int]) -> str:
    """Return row numbers as ranges for reading: (2, 3, 4, 7) -> "2-4, 7"."""
    ranges: list[list[int]] = []
    for number in sorted(set(numbers)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])

    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in ranges)


def format_problem(problem: Problem) -> str:
    """Return one problem as the Rows sheet shows it, e.g. 'Warning: Column "Qty": ...'."""
    text = problem.message
    if problem.column:
        text = f'Column "{problem.column}": {text}'
    if problem.severity is Severity.WARNING:
        text = f"Warning: {text}"
    elif problem.severity is Severity.NOTE:
        text = text[:1].upper() + text[1:]
    return text


def lines(values: Iterable[str]) -> str:
    return "\n".join(values)


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def local_naive(moment: datetime | None) -> datetime | None:
    """Return the time in the local zone without tzinfo, because Excel cells hold no zone."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone().replace(tzinfo=None)


# What to do about each order that was not created


# Each sentence ends by saying that importing again is safe, because the ledger
# and HighLevel's own fulfillments make a rerun skip every order already created
# (unless the user forces a resend with --force).
_WHAT_TO_DO = {
    ErrorKind.INPUT: (
        "Fix this order's rows in the input file as the Rows sheet describes, then import "
        "the file again, which skips the orders already created."
    ),
    ErrorKind.ORDER_NOT_FOUND: (
        "Check the order ID or order number and the location in the file against HighLevel, "
        "correct them and import the file again, which skips the orders already created."
    ),
    ErrorKind.ORDER_STATE: (
        "Open the order in HighLevel to see what is left to fulfill (it may be canceled, or "
        "shipped in part already), correct the quantities or remove the rows in the file, "
        "then import again, which skips the orders already created."
    ),
    ErrorKind.API_REJECTED: (
        "Read HighLevel's reason in the Message column, correct the order's rows or the order "
        "in HighLevel, then import the file again, which skips the orders already created."
    ),
    ErrorKind.ACCESS: (
        "Ask your HighLevel admin for a token that may use this order's location, then import "
        "the file again, which skips the orders already created."
    ),
    ErrorKind.UNAVAILABLE: (
        "HighLevel did not respond properly, so wait a few minutes and import the file again, "
        "which skips the orders already created."
    ),
    ErrorKind.UNCERTAIN: (
        "HighLevel may have created this fulfillment, so import the file again, which checks "
        "HighLevel first and skips the orders already created."
    ),
    ErrorKind.DAILY_LIMIT: (
        "HighLevel's daily limit of requests was reached, so import the file again after "
        "midnight UTC, which skips the orders already created."
    ),
    ErrorKind.STOPPED: (
        "The import stopped before this order, so import the file again to send it, which "
        "skips the orders already created."
    ),
    ErrorKind.BUSY: (
        "Another import was sending this order at the same time, so wait until it finishes "
        "and import the file again, which skips the orders already created."
    ),
}
_WHAT_TO_DO_UNSORTED = (
    "Read the Message column, fix what it names and import the file again, which skips the "
    "orders already created."
)
_DONE_STATUSES = (OrderStatus.CREATED, OrderStatus.SKIPPED, OrderStatus.READY)


def what_to_do(order: OrderResult) -> str:
    """Return the clerk's next step for one order; "" for an order that needs nothing."""
    if order.kind is not None:
        return _WHAT_TO_DO[order.kind]
    if order.status in _DONE_STATUSES:
        return ""
    return _WHAT_TO_DO_UNSORTED


_KIND_LABELS = {
    ErrorKind.INPUT: "Problem in the file",
    ErrorKind.ORDER_NOT_FOUND: "Order not found",
    ErrorKind.ORDER_STATE: "Order cannot be fulfilled",
    ErrorKind.API_REJECTED: "Rejected by HighLevel",
    ErrorKind.ACCESS: "No access",
    ErrorKind.UNAVAILABLE: "HighLevel unavailable",
    ErrorKind.UNCERTAIN: "Maybe created",
    ErrorKind.DAILY_LIMIT: "Daily limit reached",
    ErrorKind.STOPPED: "Import stopped",
    ErrorKind.BUSY: "Sent by another import",
}


def kind_label(kind: ErrorKind | None) -> str:
    """Name an error kind in a few words for a table: "Order not found"."""
    return "Other" if kind is None else _KIND_LABELS[kind]


# The most common errors and the slowest orders

_NOT_DONE = (OrderStatus.REJECTED, OrderStatus.FAILED, OrderStatus.DEFERRED)

# Parts of a message that name one order, row or value. They are removed to
# find the messages that say the same thing of different orders: row numbers,
# quoted values (not column names), and any word with a digit in it, which
# covers IDs, tracking numbers, quantities and HTTP status codes alike.
_ROW_NUMBERS = re.compile(r"\brows? \d+(?:(?:, |-)\d+)*")
_QUOTED = re.compile(r"""(column )?("[^"\n]*"|'[^'\n]*')""")
_WITH_DIGIT = re.compile(r"\S*\d\S*")
_SPACES = re.compile(r"\s+")
# The maximum length of a group's example message; the Orders sheet has each one whole.
_EXAMPLE_CHARACTERS = 300


def message_shape(line: str) -> str:
    """Return a message line without the order's own values, as the key to group errors by."""
    line = _ROW_NUMBERS.sub("row", line)
    line = _QUOTED.sub(_keep_column_name, line)
    line = _WITH_DIGIT.sub("", line)
    return _SPACES.sub(" ", line).strip()


def _keep_column_name(match: re.Match[str]) -> str:
    # A column name is the same for every order, so it stays.
    return match.group() if match.group(1) else ""


@dataclass(frozen=True)
class ErrorGroup:
    """Orders that share an error: its kind, one order's message as an example, and a count."""

    kind: ErrorKind | None
    message: str
    orders: int


# How many of the most common errors the results list.
COMMON_ERRORS = 5


def common_errors(orders: Iterable[OrderResult]) -> list[ErrorGroup]:
    """Return the COMMON_ERRORS most common errors of the orders not created."""
    return error_groups(orders)[:COMMON_ERRORS]


def more_errors_text(more: int) -> str:
    """Say how many errors the list of the most common ones leaves out."""
    kinds = "error" if more == 1 else "errors"
    return f"and {more} other {kinds}: the Orders sheet gives each order's own message"


def error_groups(orders: Iterable[OrderResult]) -> list[ErrorGroup]:
    """Return every error of the orders not created, the one of most orders first.

    Each line of an order's message is one error, counted once per order; ties
    keep the order in which the errors first appear.
    """
    counts: Counter[tuple[ErrorKind | None, str]] = Counter()
    examples: dict[tuple[ErrorKind | None, str], str] = {}
    for order in orders:
        if order.status not in _NOT_DONE:
            continue
        # One count per order and error, even when several of its rows have the error.
        keyed: dict[tuple[ErrorKind | None, str], str] = {}
        for line in order.message.splitlines() or [""]:
            keyed.setdefault((order.kind, message_shape(line)), line)
        for key, line in keyed.items():
            examples.setdefault(key, line.strip()[:_EXAMPLE_CHARACTERS])
            counts[key] += 1
    ranked = sorted(counts.items(), key=lambda entry: -entry[1])  # stable: ties keep their order
    return [ErrorGroup(kind, examples[(kind, shape)], count) for (kind, shape), count in ranked]


def slowest_orders(orders: Sequence[OrderResult], limit: int = 5) -> list[OrderResult]:
    """Return the `limit` orders that took the most seconds, slowest first."""
    timed = [order for order in orders if order.seconds is not None]
    timed.sort(key=lambda order: order.seconds or 0.0, reverse=True)
    return timed[:limit]


def order_reference(order: OrderResult) -> str:
    """Name an order as the user knows it: its HighLevel ID, else the file's order number."""
    return order.order_id or order.order_number
