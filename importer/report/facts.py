"""What a run's results say, in the same words whatever form they are written in.

The workbook, the CSV files and the JSON document are all built from these
values, so a count or a next step reads the same in each.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from importer.records import (
    STOPPED_ON_REQUEST,
    FileResult,
    Item,
    OrderStatus,
    Problem,
    RowResult,
)

CellValue = str | int | float | datetime | None

IGNORED_STATUS = "ignored"

# Spreadsheet programs may read a value starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def summary_fields(result: FileResult) -> list[tuple[str, CellValue]]:
    """Return the (label, value) pairs of the Summary sheet, in display order."""
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
        ("Duration (seconds)", duration_seconds(result)),
        ("Dry run", yes_no(result.dry_run)),
        ("Notify customers", result.notify_setting),
        ("Input rows", len(result.rows)),
        ("Orders", len(result.orders)),
    ]
    fields += [(count_label(status), result.count(status)) for status in counted_statuses(result)]
    fields.append((count_label(IGNORED_STATUS), count_ignored_rows(result.rows)))

    if result.stopped_reason:
        fields.append(("Stopped because", result.stopped_reason))
    fields += [("Note", note) for note in result.notes]
    fields.append(("What to do next", next_steps(result)))
    return fields


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
            "The import stopped before it finished. Fix the cause given above "
            "and import the file again."
        )
    if result.count(OrderStatus.REJECTED):
        steps.append(
            "Fix the rejected orders in the input file (the Rows sheet gives each row's "
            "problem) and import it again: orders already created are skipped."
        )
    if result.count(OrderStatus.FAILED):
        steps.append(
            "Read the message of each failed order in the Orders sheet, "
            "then import the file again to retry them."
        )
    if result.count(OrderStatus.DEFERRED):
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
    if not result.orders:
        return "No orders were found in the file. Check that it is the right export."
    return "Nothing to do: every order was created or already fulfilled."


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
    if not problem.is_error:
        text = f"Warning: {text}"
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
