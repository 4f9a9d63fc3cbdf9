"""Fault injection for the sandbox: latency, 5xx responses, timeouts, dropped connections
and malformed responses.

A FaultPlan sets how often each fault happens. The FaultInjector draws one
FaultDecision per request from a seeded random generator, so a run with the same
seed and the same order of requests meets the same faults. The HTTP handler
applies the decision: 5xx responses and drops before handling stop the request
before the API sees it, so nothing is stored. Drops after handling and timeouts
that take effect let the API handle the request first, so a create is stored.
Malformed responses garble the API's own response, so a create is stored too,
except an HTML page without effect, which stands for a proxy that never passed
the request on.

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
from typing import TypeVar

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
    # Malformed responses (see MALFORMED_KINDS).
    HTML_PAGE = "html_page"
    TRUNCATED_JSON = "truncated_json"
    WRONG_SHAPE = "wrong_shape"
    EXTRA_FIELDS = "extra_fields"
    HUGE_BODY = "huge_body"
    WRONG_CONTENT_TYPE = "wrong_content_type"
    EMPTY_BODY = "empty_body"
    NOT_UTF8 = "not_utf8"
    SLOW_DRIP = "slow_drip"

    @property
    def label(self) -> str:
        """A plural label for counts printed to people."""
        return _KIND_LABELS[self]


_KIND_LABELS = {
    FaultKind.SERVER_ERROR: "server errors",
    FaultKind.TIMEOUT: "timeouts",
    FaultKind.DROP_BEFORE_HANDLING: "drops before handling",
    FaultKind.DROP_AFTER_HANDLING: "drops after handling",
    FaultKind.HTML_PAGE: "HTML pages",
    FaultKind.TRUNCATED_JSON: "truncated JSON bodies",
    FaultKind.WRONG_SHAPE: "JSON bodies of the wrong shape",
    FaultKind.EXTRA_FIELDS: "bodies with unknown fields",
    FaultKind.HUGE_BODY: "huge bodies",
    FaultKind.WRONG_CONTENT_TYPE: "wrong content types",
    FaultKind.EMPTY_BODY: "empty bodies",
    FaultKind.NOT_UTF8: "bodies that are not UTF-8",
    FaultKind.SLOW_DRIP: "slow drips",
}

# The faults that replace or garble a response's body, or the way it is sent:
#   html_page           an HTML error page, as a proxy or Cloudflare sends, with a status
#                       drawn from FaultPlan.html_statuses
#   truncated_json      the first half of the JSON body, with a Content-Length that fits it
#   wrong_shape         valid JSON of another shape, drawn from FaultPlan.wrong_shapes
#   extra_fields        the right body with fields HighLevel does not document, which a
#                       client must accept
#   huge_body           the right body padded to FaultPlan.huge_body_bytes, sent as a
#                       chunked body, so that no Content-Length gives its size away
#   wrong_content_type  the right body sent as text/plain, or with no Content-Type
#   empty_body          the right status with an empty body
#   not_utf8            the right body with a field in Latin-1 bytes, so not UTF-8
#   slow_drip           the right status, then one space of a chunked body every
#                       FaultPlan.drip_interval_seconds, never finished
MALFORMED_KINDS = (
    FaultKind.HTML_PAGE,
    FaultKind.TRUNCATED_JSON,
    FaultKind.WRONG_SHAPE,
    FaultKind.EXTRA_FIELDS,
    FaultKind.HUGE_BODY,
    FaultKind.WRONG_CONTENT_TYPE,
    FaultKind.EMPTY_BODY,
    FaultKind.NOT_UTF8,
    FaultKind.SLOW_DRIP,
)


class WrongShape(StrEnum):
    """A JSON body of a shape the API does not send."""

    LIST = "list"  # the right body inside a list
    STRING = "string"  # a JSON string
    NULL = "null"
    MISSING_FIELDS = "missing_fields"  # the right body without "data", "items", "_id", "totalCount"
    WRONG_TYPES = "wrong_types"  # the right body with every "_id" a number


# The two ways a wrong content type is sent: another type, or no Content-Type header at all.
WRONG_CONTENT_TYPES = ("text/plain; charset=utf-8", "")

_HTML_STATUSES = (200, 500, 502, 503, 504)

_Choice = TypeVar("_Choice")


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

    Malformed responses: the share `malformed_rate` gets one of `malformed_kinds`,
    drawn with equal chances (see MALFORMED_KINDS). The API handles the request
    first, so a valid create is stored, except for an HTML page when
    `html_takes_effect` is off. A huge body is `huge_body_bytes` long. A slow drip
    sends one byte every `drip_interval_seconds` and closes the connection after
    `drip_seconds`, unless the client has hung up before.

    The five rates must add up to 1 or less. `seed` makes the draws repeatable;
    None seeds from the operating system.

    `target_contains`, when not empty, limits every fault but latency to the
    requests whose path and query contain one of its texts, such as an order
    ID (which its reads and creates name) or "search=1002" (a lookup of order
    number 1002). Other requests draw as usual but meet no fault.
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

    malformed_rate: float = 0.0
    malformed_kinds: tuple[FaultKind, ...] = MALFORMED_KINDS
    malformed_scope: FaultScope = FaultScope.EVERY_REQUEST
    html_statuses: tuple[int, ...] = (502, 503, 200)
    html_takes_effect: bool = True
    wrong_shapes: tuple[WrongShape, ...] = tuple(WrongShape)
    huge_body_bytes: int = 50 * 1024 * 1024
    drip_interval_seconds: float = 1.0
    drip_seconds: float = 300.0

    target_contains: tuple[str, ...] = ()
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

        for name in _RATE_NAMES:
            _check_rate(name, getattr(self, name))
        if self.total_rate > 1.0 + _RATE_TOLERANCE:
            raise ValueError(
                f"error_rate, timeout_rate, drop_before_rate, drop_after_rate and "
                f"malformed_rate add up to {self.total_rate:g}; one request meets at most "
                "one fault, so the sum must be 1 or less."
            )

        if not self.error_statuses:
            raise ValueError("error_statuses must name at least one status, such as 500.")
        for status in self.error_statuses:
            if status not in _INJECTABLE_ERROR_STATUSES:
                raise ValueError(f"error_statuses may contain 500, 502 and 503, got {status}.")
        self._check_malformed()

    def _check_malformed(self) -> None:
        if not self.malformed_kinds:
            raise ValueError("malformed_kinds must name at least one kind, such as html_page.")
        for kind in self.malformed_kinds:
            if kind not in MALFORMED_KINDS:
                raise ValueError(f"malformed_kinds may contain only malformed kinds, got {kind}.")
        if not self.html_statuses:
            raise ValueError("html_statuses must name at least one status, such as 502.")
        for status in self.html_statuses:
            if status not in _HTML_STATUSES:
                raise ValueError(
                    f"html_statuses may contain 200, 500, 502, 503 and 504, got {status}."
                )
        if not self.wrong_shapes:
            raise ValueError("wrong_shapes must name at least one shape, such as list.")
        if self.huge_body_bytes < 0:
            raise ValueError(f"huge_body_bytes must be 0 or more, got {self.huge_body_bytes}.")
        _check_seconds("drip_interval_seconds", self.drip_interval_seconds)
        if self.drip_interval_seconds == 0:
            raise ValueError("drip_interval_seconds must be more than 0, such as 1.0.")
        _check_seconds("drip_seconds", self.drip_seconds)

    @property
    def injects_faults(self) -> bool:
        """Whether the plan adds latency or any other fault."""
        return bool(self.latency_seconds or self.latency_max_seconds or self.total_rate)

    @property
    def total_rate(self) -> float:
        """The share of requests that meet a fault other than latency."""
        rates: list[float] = [getattr(self, name) for name in _RATE_NAMES]
        return sum(rates)

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
        if self.malformed_rate:
            kinds = ", ".join(kind.value for kind in self.malformed_kinds)
            parts.append(f"{self.malformed_rate:.0%} malformed responses ({kinds})")
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        return ", ".join(parts) or "no faults"


_RATE_NAMES = (
    "error_rate",
    "timeout_rate",
    "drop_before_rate",
    "drop_after_rate",
    "malformed_rate",
)


@dataclass(frozen=True)
class FaultDecision:
    """The faults drawn for one request: a delay, and at most one other fault.

    `error_status` is the status of an injected 5xx or HTML page. `shape` is set
    for a wrong shape, and `content_type` for a wrong content type ("" for none).
    A huge body is `size_bytes` long. A slow drip sends a byte every
    `interval_seconds` for `hold_seconds`.
    """

    delay_seconds: float = 0.0
    kind: FaultKind | None = None
    error_status: int | None = None
    hold_seconds: float = 0.0
    takes_effect: bool = True
    shape: WrongShape | None = None
    content_type: str | None = None
    size_bytes: int = 0
    interval_seconds: float = 0.0


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

    def decide(self, method: str, path: str, query: str = "") -> FaultDecision:
        """Draw the faults for one request.

        Every request takes three draws, whatever its scope and target, so the
        faults of the n-th request depend only on the seed and n.
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
        if not _is_target(plan, f"{path}?{query}"):
            kind = None
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
        if kind in MALFORMED_KINDS:
            return _malformed_decision(plan, delay, status_draw)
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
    malformed_rate: str | None = None,
    malformed: str | None = None,
    seed: int | None = None,
) -> FaultPlan:
    """Build the plan of the `ghl-fulfill sandbox` options; ValueError names the invalid option.

    Faults hit every request. Dropped connections are split evenly between drops
    before and after handling, and timeouts take effect. `malformed` is a
    comma-separated list of malformed kinds; None draws from all of them.
    """
    low, high = _parse_latency_ms(latency) if latency else (0.0, 0.0)
    errors = _parse_rate("--error-rate", error_rate)
    drops = _parse_rate("--drop-rate", drop_rate)
    timeouts = _parse_rate("--timeout-rate", timeout_rate)
    malformed_share = _parse_rate("--malformed-rate", malformed_rate)
    kinds = _parse_malformed_kinds(malformed) if malformed is not None else MALFORMED_KINDS

    total = errors + drops + timeouts + malformed_share
    if total > 1.0 + _RATE_TOLERANCE:
        raise ValueError(
            f"--error-rate, --drop-rate, --timeout-rate and --malformed-rate add up to "
            f"{total:g}; lower them so that they add up to 1 or less."
        )
    return FaultPlan(
        latency_seconds=low,
        latency_max_seconds=high if high != low else None,
        error_rate=errors,
        drop_before_rate=drops / 2,
        drop_after_rate=drops / 2,
        timeout_rate=timeouts,
        malformed_rate=malformed_share,
        malformed_kinds=kinds,
        seed=seed,
    )


def _parse_malformed_kinds(text: str) -> tuple[FaultKind, ...]:
    names = [name.strip().lower().replace("-", "_") for name in text.split(",") if name.strip()]
    known = {kind.value: kind for kind in MALFORMED_KINDS}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise ValueError(
            f"--malformed {text!r} is invalid; give one or more of "
            f"{', '.join(known)}, separated by commas."
        )
    return tuple(dict.fromkeys(known[name] for name in names))


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


def _is_target(plan: FaultPlan, target: str) -> bool:
    return not plan.target_contains or any(text in target for text in plan.target_contains)


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
        # Last, so that plans without malformed responses draw as before. HTML_PAGE stands
        # for every malformed kind here: _malformed_decision picks which one.
        (FaultKind.HTML_PAGE, plan.malformed_rate, plan.malformed_scope),
    )
    start = 0.0
    for kind, rate, scope in slices:
        if draw < start + rate:
            return kind if _in_scope(scope, is_create) else None
        start += rate
    return None


def _malformed_decision(plan: FaultPlan, delay: float, draw: float) -> FaultDecision:
    """Pick the malformed kind and its variant from one uniform draw.

    The whole part of draw * len(kinds) picks the kind, and the fraction left
    over picks the variant, so a request still takes only three draws.
    """
    position = draw * len(plan.malformed_kinds)
    kind = _pick(plan.malformed_kinds, draw)
    variant_draw = position - int(position)
    if kind is FaultKind.HTML_PAGE:
        status = _pick(plan.html_statuses, variant_draw)
        return FaultDecision(delay, kind, error_status=status, takes_effect=plan.html_takes_effect)
    if kind is FaultKind.WRONG_SHAPE:
        return FaultDecision(delay, kind, shape=_pick(plan.wrong_shapes, variant_draw))
    if kind is FaultKind.WRONG_CONTENT_TYPE:
        return FaultDecision(delay, kind, content_type=_pick(WRONG_CONTENT_TYPES, variant_draw))
    if kind is FaultKind.HUGE_BODY:
        return FaultDecision(delay, kind, size_bytes=plan.huge_body_bytes)
    if kind is FaultKind.SLOW_DRIP:
        return FaultDecision(
            delay,
            kind,
            hold_seconds=plan.drip_seconds,
            interval_seconds=plan.drip_interval_seconds,
        )
    return FaultDecision(delay, kind)


def _pick(choices: tuple[_Choice, ...], draw: float) -> _Choice:
    return choices[min(int(draw * len(choices)), len(choices) - 1)]
