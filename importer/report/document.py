"""The results of one input file as a JSON document, for programs and for the ledger.

The document contains everything the results workbook shows, plus the fields a
program needs to act on an order without reading prose (status, kind, the
order's rows). `from_document` rebuilds the FileResult, so the workbook and
the CSV files can be written again from a stored document.

Compatibility: a reader of schema version 1 ignores fields it does not know,
so fields may be added without a new version. A change that removes or renames
a field, or adds a status or kind value, raises SCHEMA_VERSION.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from importer.errors import ReportError
from importer.records import (
    ErrorKind,
    FileResult,
    Item,
    OrderResult,
    OrderStatus,
    Problem,
    RowResult,
    Severity,
    Tracking,
)
from importer.report.facts import (
    IGNORED_STATUS,
    common_errors,
    count_ignored_rows,
    duration_seconds,
    local_naive,
    next_steps,
    what_to_do,
)

SCHEMA_VERSION: Final = 1

# Stands in for the path in messages about a document that was not read from a file.
UNNAMED_DOCUMENT = Path("results document")


class _Part(BaseModel):
    # Fields a newer writer adds are dropped on reading, so an older reader still works.
    model_config = ConfigDict(extra="ignore")


class ProblemPart(_Part):
    """One thing wrong with an input row, or worth a warning."""

    message: str
    column: str | None = Field(default=None, description="The input column at fault, when one is.")
    severity: Severity = Severity.ERROR
    rows: list[int] = Field(
        default_factory=list, description="Every input row the problem is about."
    )


class RowPart(_Part):
    """One input row with its original cells."""

    number: int = Field(description="The row number a spreadsheet program shows for the row.")
    status: str = Field(description='The order status of the row\'s order, or "ignored".')
    order_id: str = Field(default="", description="The HighLevel order ID of the row's order.")
    problems: list[ProblemPart] = Field(default_factory=list)
    cells: list[str] = Field(
        default_factory=list, description="The row's cells as text, in the order of `headers`."
    )


class TrackingPart(_Part):
    number: str
    carrier: str = ""
    url: str = ""


class ItemPart(_Part):
    price_id: str = Field(description="The HighLevel price ID; empty when no price was found.")
    sku: str
    qty: int


class OrderPart(_Part):
    """The outcome of one order."""

    order_id: str = Field(description='The HighLevel order ID; "" when no order was found.')
    order_number: str = Field(default="", description="The order number the file gave, if any.")
    location_id: str
    status: OrderStatus
    kind: ErrorKind | None = Field(
        default=None, description="Why the order was not created; null when it was, or was skipped."
    )
    what_to_do: str = Field(default="", description="The next step for this order, in plain words.")
    message: str = ""
    fulfillment_id: str = ""
    http_status: int | None = None
    trace_id: str = ""
    notify_customer: bool | None = None
    finished_at: AwareDatetime | None = None
    seconds: float | None = Field(
        default=None,
        description="Time from the order's first request to its outcome; null when none was sent.",
    )
    rows: list[int] = Field(description="The input rows of the order.")
    trackings: list[TrackingPart] = Field(default_factory=list)
    items: list[ItemPart] = Field(default_factory=list)


class StoppedBy(_Part):
    """The failure that stopped the run."""

    type: str = Field(description="The error's class name, such as ApiUnavailableError.")
    message: str


class ErrorGroupPart(_Part):
    """Orders that share an error."""

    kind: ErrorKind | None
    message: str = Field(
        description="The error as one of these orders' messages gives it, as an example."
    )
    orders: int = Field(description="How many orders had this error.")


class ResultsDocument(_Part):
    """The results of importing one input file."""

    schema_version: Literal[1] = SCHEMA_VERSION
    file: str = Field(description="The input file's path.")
    sheet: str | None = Field(default=None, description="The sheet read, for a workbook.")
    template: str = Field(default="", description="The column template used.")
    template_score: float = Field(default=0.0, description="How well the template matched, 0 to 1.")
    template_match: str = Field(default="", description="How well the template matched, in words.")
    confirm_with: str = Field(
        default="", description="The options that confirm an unsure column match; empty when sure."
    )
    location_id: str = Field(default="", description="The location the run was for.")
    locations: list[str] = Field(
        default_factory=list, description="Every location the orders went to, sorted."
    )
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    duration_seconds: float | None = None
    dry_run: bool = False
    notify_setting: str = ""
    counts: dict[str, int] = Field(
        default_factory=dict,
        description='Orders per status, and input rows under "ignored".',
    )
    notes: list[str] = Field(default_factory=list)
    stopped_reason: str = Field(
        default="", description="Why the run stopped early; empty when it did not."
    )
    stopped_by: StoppedBy | None = None
    next_step: str = Field(
        default="", description="What the person who ran the import should do next."
    )
    common_errors: list[ErrorGroupPart] = Field(
        default_factory=list,
        description="The most common errors of the orders not created, most orders first. "
        "Built from the orders, so it is not read back.",
    )
    results_path: str | None = Field(default=None, description="Where the results were saved.")
    headers: list[str] = Field(default_factory=list, description="The input file's column names.")
    orders: list[OrderPart] = Field(default_factory=list)
    rows: list[RowPart] = Field(default_factory=list)


# Writing


def to_document(result: FileResult) -> ResultsDocument:
    """Build the document of one file's results."""
    return ResultsDocument(
        file=str(result.path),
        sheet=result.sheet,
        template=result.template,
        template_score=result.template_score,
        template_match=result.template_match,
        confirm_with=result.confirm_with,
        location_id=result.location_id,
        locations=sorted({order.location_id for order in result.orders if order.location_id}),
        started_at=_with_offset(result.started_at),
        finished_at=_optional_with_offset(result.finished_at),
        duration_seconds=duration_seconds(result),
        dry_run=result.dry_run,
        notify_setting=result.notify_setting,
        counts=_counts(result),
        notes=list(result.notes),
        stopped_reason=result.stopped_reason,
        stopped_by=_stopped_by(result.stopped_by),
        next_step=next_steps(result),
        common_errors=[
            ErrorGroupPart(kind=group.kind, message=group.message, orders=group.orders)
            for group in common_errors(result.orders)
        ],
        results_path=None if result.results_path is None else str(result.results_path),
        headers=list(result.headers),
        orders=[_order_part(order) for order in result.orders],
        rows=[_row_part(row) for row in result.rows],
    )


def dump_result(result: FileResult, *, indent: int | None = None) -> bytes:
    """Return one file's results as a UTF-8 JSON document, on one line unless `indent` is given."""
    return to_document(result).model_dump_json(indent=indent).encode("utf-8")


def _counts(result: FileResult) -> dict[str, int]:
    counts = {status.value: result.count(status) for status in OrderStatus}
    counts[IGNORED_STATUS] = count_ignored_rows(result.rows)
    return counts


def _stopped_by(error: Exception | None) -> StoppedBy | None:
    if error is None:
        return None
    return StoppedBy(type=type(error).__name__, message=str(error))


def _order_part(order: OrderResult) -> OrderPart:
    return OrderPart(
        order_id=order.order_id,
        order_number=order.order_number,
        location_id=order.location_id,
        status=order.status,
        kind=order.kind,
        what_to_do=what_to_do(order),
        message=order.message,
        fulfillment_id=order.fulfillment_id,
        http_status=order.http_status,
        trace_id=order.trace_id,
        notify_customer=order.notify_customer,
        finished_at=_optional_with_offset(order.finished_at),
        seconds=order.seconds,
        rows=list(order.rows),
        trackings=[TrackingPart(**vars(tracking)) for tracking in order.trackings],
        items=[ItemPart(**vars(item)) for item in order.items],
    )


def _row_part(row: RowResult) -> RowPart:
    return RowPart(
        number=row.number,
        status=row.status,
        order_id=row.order_id,
        problems=[_problem_part(problem) for problem in row.problems],
        cells=list(row.cells),
    )


def _problem_part(problem: Problem) -> ProblemPart:
    return ProblemPart(
        message=problem.message,
        column=problem.column,
        severity=problem.severity,
        rows=list(problem.rows),
    )


def _with_offset(moment: datetime) -> datetime:
    # The pipeline records local times without a zone; astimezone() reads them as local.
    return moment.astimezone()


def _optional_with_offset(moment: datetime | None) -> datetime | None:
    return None if moment is None else _with_offset(moment)


# Reading


def load_result(data: bytes, path: Path = UNNAMED_DOCUMENT) -> FileResult:
    """Rebuild one file's results from a JSON document written by `dump_result`.

    `path` names the document in error messages. Raises ReportError when the
    data is not a results document, or was written for a newer schema version.
    """
    try:
        content = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportError(path, f"this is not a JSON results document ({error}).") from error

    _check_version(content, path)
    try:
        document = ResultsDocument.model_validate(content)
    except ValidationError as error:
        raise ReportError(
            path,
            f"this results document is damaged or incomplete: {_first_error(error)}.",
        ) from error
    return from_document(document)


def _check_version(content: Any, path: Path) -> None:
    if not isinstance(content, dict):
        raise ReportError(path, "this is not a results document: it is not a JSON object.")
    version = content.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ReportError(
            path,
            f"this results document has schema version {version}, but this version of "
            f"ghl-fulfill reads only up to version {SCHEMA_VERSION}. Update ghl-fulfill.",
        )


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def from_document(document: ResultsDocument) -> FileResult:
    """Rebuild the FileResult that `to_document` was given.

    Times come back as local times without a zone, as the pipeline records
    them. The failure that stopped the run cannot be rebuilt as an exception,
    so `stopped_by` is None; `stopped_reason` still says why the run stopped.
    """
    result = FileResult(
        path=Path(document.file),
        started_at=_local_naive(document.started_at),
        finished_at=local_naive(document.finished_at),
        sheet=document.sheet,
        template=document.template,
        template_score=document.template_score,
        template_match=document.template_match,
        confirm_with=document.confirm_with,
        headers=tuple(document.headers),
        location_id=document.location_id,
        dry_run=document.dry_run,
        notify_setting=document.notify_setting,
        orders=[_order_result(part) for part in document.orders],
        rows=[_row_result(part) for part in document.rows],
        notes=list(document.notes),
        stopped_reason=document.stopped_reason,
        results_path=None if document.results_path is None else Path(document.results_path),
    )
    # The document stores the next step as shown. It was an override when the
    # counts give a different one, and is kept so the rebuilt results say the same.
    if next_steps(result) != document.next_step:
        result.next_step = document.next_step
    return result


def _order_result(part: OrderPart) -> OrderResult:
    return OrderResult(
        order_id=part.order_id,
        location_id=part.location_id,
        status=part.status,
        rows=tuple(part.rows),
        trackings=tuple(Tracking(t.number, t.carrier, t.url) for t in part.trackings),
        order_number=part.order_number,
        items=tuple(Item(i.price_id, i.sku, i.qty) for i in part.items),
        notify_customer=part.notify_customer,
        fulfillment_id=part.fulfillment_id,
        http_status=part.http_status,
        message=part.message,
        trace_id=part.trace_id,
        finished_at=local_naive(part.finished_at),
        kind=part.kind,
        seconds=part.seconds,
    )


def _row_result(part: RowPart) -> RowResult:
    return RowResult(
        number=part.number,
        cells=tuple(part.cells),
        order_id=part.order_id,
        status=part.status,
        problems=[
            Problem(
                message=problem.message,
                rows=tuple(problem.rows),
                column=problem.column,
                severity=problem.severity,
            )
            for problem in part.problems
        ],
    )


def _local_naive(moment: datetime) -> datetime:
    return moment.astimezone().replace(tzinfo=None)


# Schema


def results_schema() -> str:
    """Return the JSON Schema of the results document, as committed in docs/results-schema.json."""
    schema = ResultsDocument.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
