"""Fault injection for the sandbox: latency, 5xx responses, timeouts and dropped connections.

A FaultPlan sets how often each fault happens. The FaultInjector draws one
FaultDecision per request from a seeded random generator, so a run with the same
seed and the same order of requests meets the same faults. The HTTP handler
applies the decision: 5xx responses and drops before handling stop the request
before the API sees it, so nothing is stored. Drops after handling and timeouts
that take effect let the API handle the request first, so a create is stored.

The injected faults are mutually exclusive: one draw per request picks at most
one of them, so each rate is the share of requests that meet that fault. Latency
is drawn separately and can delay any request, faulted or not.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

logger = logging.getLogger(__name__)

_CREATE_FULFILLMENT_PATH = re.compile(r"/payments/orders/[^/]+/fulfillments/?")

# NOTE: HighLevel's 502, 503 and 504 bodies are not documented. A gateway in front of the
# API may send them in another shape, or as HTML. The sandbox uses NestJS's error shape.
_GATEWAY_ERROR_TEXTS = {
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_INJECTABLE_ERROR_STATUSES = (500, 502, 503)

# Rates such as 0.33 + 0.56 + 0.11 add up to slightly more than 1 in binary floating point.
_RATE_TOLERANCE = 1e-9


class FaultScope(StrEnum):
    """The requests that a fault can hit."""

    CREATE_FULFILLMENT = "create_fulfillment"  # POST /payments/orders/{orderId}/fulfillments
    EVERY_REQUEST = "every_request"


class FaultKind(StrEnum):
    """A fault that the sandbox injected into one request."""

    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    DROP_BEFORE_HANDLING = "drop_before_handling"
    DROP_AFTER_HANDLING = "drop_after_handling"

    @property
    def label(self) -> str:
        """A plural label for counts printed to people."""
        return _KIND_LABELS[self]


_KIND_LABELS = {
    FaultKind.SERVER_ERROR: "server errors",
    FaultKind.TIMEOUT: "timeouts",
    FaultKind.DROP_BEFORE_HANDLING: "drops before handling",
    FaultKind.DROP_AFTER_HANDLING: "drops after handling",
}


@dataclass(frozen=True)
class FaultPlan:
    """How often the sandbox injects each fault; rates are probabilities per request, 0 to 1.

    Latency: every request in `latency_scope` waits `latency_seconds` before the
    response, or a uniformly drawn time from `latency_seconds` to `latency_max_seconds`
    when the maximum is set.

    Server errors: the share `error_rate` of requests gets a status drawn from
    `error_statuses` with a JSON error body, and the API never sees the request.

    Timeouts: the share `timeout_rate` of requests is held for `timeout_hold_seconds`,
    which should be longer than the client's timeout. With `timeout_takes_effect`
    the API handles the request first (a create is stored, as when a server finishes
    the work but the response comes too late) and the held response is sent afterwards.
    Without it the API never sees the request and a 504 is sent after the hold.

    Dropped connections: the share `drop_before_rate` is closed without a response
    before the API sees the request, so nothing is stored. The share
    `drop_after_rate` is closed without a response after the API handled it, so a
    valid create is stored.

    The four rates must add up to 1 or less. `seed` makes the draws repeatable;
    None seeds from the operating system.
    """

    latency_seconds: float = 0.0
    latency_max_seconds: float | None = None
    latency_scope: FaultScope = FaultScope.EVERY_REQUEST

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    error_scope: FaultScope = FaultScope.EVERY_REQUEST

    timeout_rate: float = 0.0
    # Longer than the importer client's default timeout of 30 s.
    timeout_hold_seconds: float = 40.0
    timeout_takes_effect: bool = True
    timeout_scope: FaultScope = FaultScope.EVERY_REQUEST

    drop_before_rate: float = 0.0
    drop_after_rate: float = 0.0
    drop_scope: FaultScope = FaultScope.EVERY_REQUEST

    seed: int | None = None

    def __post_init__(self) -> None:
        _check_seconds("latency_seconds", self.latency_seconds)
        if self.latency_max_seconds is not None:
            _check_seconds("latency_max_seconds", self.latency_max_seconds)
            if self.latency_max_seconds < self.latency_seconds:
                raise ValueError(
                    f"latency_max_seconds ({self.latency_max_seconds}) must not be less than "
                    f"latency_seconds ({self.latency_seconds})."
                )
        _check_seconds("timeout_hold_seconds", self.timeout_hold_seconds)

        for name in ("error_rate", "timeout_rate", "drop_before_rate", "drop_after_rate"):
            _check_rate(name, getattr(self, name))
        if self.total_rate > 1.0 + _RATE_TOLERANCE:
            raise ValueError(
                f"error_rate, timeout_rate, drop_before_rate and drop_after_rate add up to "
                f"{self.total_rate:g}; one request meets at most one fault, so the sum "
                "must be 1 or less."
            )

        if not self.error_statuses:
            raise ValueError("error_statuses must name at least one status, such as 500.")
        for status in self.error_statuses:
            if status not in _INJECTABLE_ERROR_STATUSES:
                raise ValueError(f"error_statuses may contain 500, 502 and 503, got {status}.")

    @property
    def injects_faults(self) -> bool:
        """Whether the plan adds latency or any other fault."""
        return bool(self.latency_seconds or self.latency_max_seconds or self.total_rate)

    @property
    def total_rate(self) -> float:
        """The share of requests that meet a fault other than latency."""
        return self.error_rate + self.timeout_rate + self.drop_before_rate + self.drop_after_rate

    def describe(self) -> str:
        """Summarize the plan in one line for people testing by hand."""
        parts: list[str] = []
        if self.latency_max_seconds is not None:
            parts.append(
                f"latency {self.latency_seconds * 1000:g}-{self.latency_max_seconds * 1000:g} ms"
            )
        elif self.latency_seconds:
            parts.append(f"latency {self.latency_seconds * 1000:g} ms")
        if self.error_rate:
            parts.append(f"{self.error_rate:.0%} server errors")
        if self.drop_before_rate or self.drop_after_rate:
            drop_rate = self.drop_before_rate + self.drop_after_rate
            parts.append(f"{drop_rate:.0%} dropped connections")
        if self.timeout_rate:
            parts.append(f"{self.timeout_rate:.0%} timeouts of {self.timeout_hold_seconds:g} s")
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        return ", ".join(parts) or "no faults"


@dataclass(frozen=True)
class FaultDecision:
    """The faults drawn for one request: a delay, and at most one other fault."""

    delay_seconds: float = 0.0
    kind: FaultKind | None = None
    error_status: int | None = None
    hold_seconds: float = 0.0
    takes_effect: bool = True


@dataclass(frozen=True)
class InjectedFault:
    """One fault the sandbox injected.

    `status` is the status the API produced for the request, or None when the
    request never reached the API (so nothing was stored). An injected 5xx has
    the injected status.
    """

    kind: FaultKind
    method: str
    path: str
    status: int | None


class FaultInjector:
    """Thread-safe holder of the plan in effect, its random generator and the faults injected."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = plan or FaultPlan()
        self._random = random.Random(self._plan.seed)
        self._log: list[InjectedFault] = []

    @property
    def plan(self) -> FaultPlan:
        with self._lock:
            return self._plan

    def set_plan(self, plan: FaultPlan) -> None:
        """Put `plan` in effect for requests that arrive from now on, reseeded from plan.seed.

        Requests already being handled keep the plan they started with. The record of
        faults injected is kept.
        """
        with self._lock:
            self._plan = plan
            self._random = random.Random(plan.seed)

    def decide(self, method: str, path: str) -> FaultDecision:
        """Draw the faults for one request.

        Every request takes three draws, whatever its scope, so the faults of the
        n-th request depend only on the seed and n.
        """
        with self._lock:
            plan = self._plan
            fault_draw = self._random.random()
            latency_draw = self._random.random()
            status_draw = self._random.random()

        is_create = method == "POST" and _CREATE_FULFILLMENT_PATH.fullmatch(path) is not None
        delay = 0.0
        if _in_scope(plan.latency_scope, is_create):
            delay = _latency(plan, latency_draw)

        kind = _fault_kind(plan, fault_draw, is_create)
        if kind is FaultKind.SERVER_ERROR:
            status = plan.error_statuses[int(status_draw * len(plan.error_statuses))]
            return FaultDecision(delay, kind, error_status=status)
        if kind is FaultKind.TIMEOUT:
            return FaultDecision(
                delay,
                kind,
                hold_seconds=plan.timeout_hold_seconds,
                takes_effect=plan.timeout_takes_effect,
            )
        return FaultDecision(delay, kind)

    def record(self, kind: FaultKind, method: str, path: str, status: int | None) -> None:
        """Add one injected fault to the record."""
        logger.debug("Injected %s into %s %s (status %s)", kind.value, method, path, status)
        with self._lock:
            self._log.append(InjectedFault(kind, method, path, status))

    def fault_log(self) -> list[InjectedFault]:
        with self._lock:
            return list(self._log)

    def fault_counts(self) -> dict[FaultKind, int]:
        """Count the injected faults of each kind, every kind listed, zeros included."""
        with self._lock:
            counts = Counter(fault.kind for fault in self._log)
        return {kind: counts[kind] for kind in FaultKind}


def error_body(status: int) -> dict[str, object]:
    """Build the JSON body of an injected 500, 502, 503 or 504."""
    if status == 500:
        # The body that NestJS's default exception filter sends for an unexpected exception.
        return {"statusCode": 500, "message": "Internal server error"}
    text = _GATEWAY_ERROR_TEXTS[status]
    return {"statusCode": status, "message": text, "error": text}


def plan_from_options(
    *,
    latency: str | None = None,
    error_rate: str | None = None,
    drop_rate: str | None = None,
    timeout_rate: str | None = None,
    seed: int | None = None,
) -> FaultPlan:
    """Build the plan of the `ghl-fulfill sandbox` options; ValueError names the invalid option.

    Faults hit every request. Dropped connections are split evenly between drops
    before and after handling, and timeouts take effect.
    """
    low, high = _parse_latency_ms(latency) if latency else (0.0, 0.0)
    errors = _parse_rate("--error-rate", error_rate)
    drops = _parse_rate("--drop-rate", drop_rate)
    timeouts = _parse_rate("--timeout-rate", timeout_rate)

    total = errors + drops + timeouts
    if total > 1.0 + _RATE_TOLERANCE:
        raise ValueError(
            f"--error-rate, --drop-rate and --timeout-rate add up to {total:g}; "
            "lower them so that they add up to 1 or less."
        )
    return FaultPlan(
        latency_seconds=low,
        latency_max_seconds=high if high != low else None,
        error_rate=errors,
        drop_before_rate=drops / 2,
        drop_after_rate=drops / 2,
        timeout_rate=timeouts,
        seed=seed,
    )


def _parse_latency_ms(text: str) -> tuple[float, float]:
    """Parse "200" or "50-400" in milliseconds into a minimum and maximum in seconds."""
    low_text, separator, high_text = text.partition("-")
    try:
        low = float(low_text)
        high = float(high_text) if separator else low
    except ValueError:
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or high < 0:
        raise ValueError(
            f"--latency {text!r} is invalid; give milliseconds such as 200, "
            "or a range such as 50-400."
        )
    if high < low:
        raise ValueError(
            f"--latency {text!r} has its maximum below its minimum; write the smaller number "
            "first, such as 50-400."
        )
    return low / 1000, high / 1000


def _parse_rate(option: str, text: str | None) -> float:
    if text is None:
        return 0.0
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate <= 1.0:
        raise ValueError(
            f"{option} {text!r} is invalid; give a share from 0 to 1, such as 0.1 for 10%."
        )
    return rate


def _check_seconds(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a number of seconds, 0 or more, got {value}.")


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability from 0 to 1, got {value}.")


def _in_scope(scope: FaultScope, is_create: bool) -> bool:
    return scope is FaultScope.EVERY_REQUEST or is_create


def _latency(plan: FaultPlan, draw: float) -> float:
    if plan.latency_max_seconds is None:
        return plan.latency_seconds
    return plan.latency_seconds + (plan.latency_max_seconds - plan.latency_seconds) * draw


def _fault_kind(plan: FaultPlan, draw: float, is_create: bool) -> FaultKind | None:
    """Map one uniform draw to a fault, each fault owning a slice of [0, 1) as wide as its rate.

    A request outside a fault's scope meets no fault in that fault's slice, so the
    slices, and the draws, do not depend on the request's scope.
    """
    slices = (
        (FaultKind.DROP_BEFORE_HANDLING, plan.drop_before_rate, plan.drop_scope),
        (FaultKind.SERVER_ERROR, plan.error_rate, plan.error_scope),
        (FaultKind.TIMEOUT, plan.timeout_rate, plan.timeout_scope),
        (FaultKind.DROP_AFTER_HANDLING, plan.drop_after_rate, plan.drop_scope),
    )
    start = 0.0
    for kind, rate, scope in slices:
        if draw < start + rate:
            return kind if _in_scope(scope, is_create) else None
        start += rate
    return None
