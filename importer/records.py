"""Records passed between pipeline stages and into the results workbook.

Row numbers are the numbers a spreadsheet program shows for the row: the
header row has its own number and the first data row follows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

# The stopped reason of a run stopped with Ctrl-C or SIGTERM, which has nothing to fix.
STOPPED_ON_REQUEST = "the import was stopped (Ctrl-C or SIGTERM)"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    # Not a problem of the row: why it was set aside, or what happened to its order.
    NOTE = "note"


class OrderStatus(StrEnum):
    CREATED = "created"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    FAILED = "failed"
    # Not sent in this run, and safe to send in the next: the daily request limit
    # was nearly used up, or the run was stopped before the order's turn.
    DEFERRED = "deferred"
    READY = "ready"  # dry run only: valid and would be sent


class ErrorKind(StrEnum):
    """The reason an order was not created, grouped by what the user does about it."""

    INPUT = "input"  # the file's rows for the order have problems
    ORDER_NOT_FOUND = "order_not_found"  # no such order in the location
    ORDER_STATE = "order_state"  # the order cannot take this fulfillment (nothing left, cancelled)
    API_REJECTED = "api_rejected"  # HighLevel refused the request as it was (400, 422)
    ACCESS = "access"  # the token may not do this (401, 403)
    UNAVAILABLE = "unavailable"  # HighLevel did not respond, or failed, after the retries
    UNCERTAIN = "uncertain"  # sent, but whether it was created is not known
    DAILY_LIMIT = "daily_limit"  # not sent: the day's requests were used up
    STOPPED = "stopped"  # not sent: the run stopped first
    BUSY = "busy"  # another import is sending the same order


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) with the input, tied to where it is."""

    message: str
    rows: tuple[int, ...] = ()
    column: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True)
class Tracking:
    number: str
    carrier: str = ""
    url: str = ""


@dataclass(frozen=True)
class Item:
    """A fulfilled item as the file names it; price_id is filled in by resolve."""

    price_id: str
    sku: str
    qty: int


@dataclass
class OrderResult:
    """The outcome of one order, shown as one row of the Orders sheet."""

    order_id: str  # the HighLevel order ID; "" when an order number found none
    location_id: str
    status: OrderStatus
    rows: tuple[int, ...]
    trackings: tuple[Tracking, ...] = ()
    order_number: str = ""  # the order number the file gave instead of an order ID
    items: tuple[Item, ...] = ()
    notify_customer: bool | None = None
    fulfillment_id: str = ""
    http_status: int | None = None
    message: str = ""
    trace_id: str = ""
    finished_at: datetime | None = None
    kind: ErrorKind | None = None  # why it was not created; None when it was, or was skipped
    # Time spent on the order in this run, from its first request to its outcome,
    # waits for the rate limit and retries included; None when nothing was sent.
    seconds: float | None = None


@dataclass
class RowResult:
    """One input row with its original cells: the Rows sheet has one row per result."""

    number: int
    cells: tuple[str, ...]
    order_id: str
    status: str  # an OrderStatus value, or "ignored" for rows that hold no shipment
    problems: list[Problem] = field(default_factory=list)


@dataclass
class FileResult:
    """Everything the results workbook reports about one input file."""

    path: Path
    started_at: datetime
    finished_at: datetime | None = None
    sheet: str | None = None
    template: str = ""
    template_score: float = 0.0
    template_match: str = ""  # how well the template matched, in words
    # The options that confirm an unsure column match; "" when the match is sure.
    confirm_with: str = ""
    headers: tuple[str, ...] = ()
    location_id: str = ""
    dry_run: bool = False
    notify_setting: str = ""
    orders: list[OrderResult] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped_reason: str = ""
    # A next step that replaces the one the counts give, for a file that was not imported.
    next_step: str = ""
    # The failure that stopped the run, when one did; None for Ctrl-C or SIGTERM.
    stopped_by: Exception | None = None
    results_path: Path | None = None

    def count(self, status: OrderStatus) -> int:
        return sum(1 for order in self.orders if order.status is status)
