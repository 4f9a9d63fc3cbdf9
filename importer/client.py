"""The HighLevel API client: the only module that speaks HTTP.

Every request waits for a slot in its location's rate limiter and carries
that location's token. A request rejected with 429 waits as long as the
server requests and is sent again, because HighLevel did not process it. Reads
are also retried on server errors and lost connections. A create request is
not: HighLevel has no idempotency key, so the caller must first check
whether a lost request was stored (see importer.submit).

Every response is read with a deadline for the whole of it and a maximum
size, so that a body that never ends or never stops cannot hold or fill the
importer. A body that is not readable JSON (see importer.response_body) comes
back as an ApiResponse with a `problem`; reads are retried on it as on a
server error.

Once `stop` is called no new request starts; those on their way finish.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import certifi
import httpx

from importer.errors import (
    ApiUnavailableError,
    AuthenticationError,
    DailyLimitError,
    InterruptedRunError,
    LocationAccessError,
    NoTokenError,
)
from importer.ratelimit import LimiterStopped, RateHeaders, SlidingWindowLimiter
from importer.response_body import (
    EXCERPT_CHARACTERS,
    MAX_RESPONSE_BYTES,
    excerpt,
    parse_body,
    read_body,
)

logger = logging.getLogger(__name__)

API_VERSION = "2021-07-28"
# Connections kept open per location. Each location has a pool of its own,
# because httpcore looks through every connection of a pool, and every request
# waiting for one, whenever a request starts or ends. With one pool for fifty
# busy locations, that took more CPU time than the requests themselves.
MAX_CONNECTIONS = 16
DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"
_MAX_MESSAGE_LENGTH = 300
# A 429 asking for a longer wait than this defers the location's orders instead.
_LONGEST_WAIT_SECONDS = 120.0
_STOPPED_MESSAGE = "the import was stopped before this request was sent"


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how long to retry; waits grow from `wait_initial` to `wait_max` seconds."""

    max_attempts: int = 5
    wait_initial: float = 0.5
    wait_max: float = 8.0
    max_rate_limit_waits: int = 30


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    """The API's burst limit per location."""

    max_requests: int = 100
    interval_seconds: float = 10.0


@dataclass(frozen=True)
class ApiResponse:
    """An HTTP response from HighLevel, with its JSON body parsed.

    When the body was not readable JSON (empty, an HTML page, cut off, too
    large, too slow), `body` is None and `problem` gives the reason in a short
    plain sentence.
    """

    status_code: int
    body: Any
    headers: httpx.Headers
    problem: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def message(self) -> str:
        """The API's own error message, whichever error body shape it used, on one short line."""
        body = self.body if isinstance(self.body, dict) else {}
        message = body.get("message")
        if isinstance(message, list):
            message = "; ".join(str(part) for part in message)
        if isinstance(message, str) and message.strip():
            return excerpt(message, _MAX_MESSAGE_LENGTH)
        if self.problem:
            return f"HTTP {self.status_code}: {self.problem}"
        return f"HTTP {self.status_code} with no error message"

    @property
    def trace_id(self) -> str:
        body = self.body if isinstance(self.body, dict) else {}
        trace_id = body.get("traceId")
        return excerpt(trace_id, EXCERPT_CHARACTERS) if isinstance(trace_id, str) else ""


@dataclass(frozen=True)
class Credential:
    """A token and where it was set, for messages; the token itself is never shown."""

    token: str = field(repr=False)
    source: str


class TransportFailure(Exception):
    """No response came back (timeout, refused or dropped connection).

    For a create request this is ambiguous: HighLevel may have stored it.
    """


class HighLevelClient:
    """Sends requests with each location's token, rate limited per location.

    `location_tokens` gives the locations that have a token of their own; the
    others use `token`, when it is set. `timeout_seconds` bounds each request,
    from sending it to the last byte of its response. A body longer than
    `max_response_bytes` is not read. `observer`, when given, is called with
    each response's send time and status, for measurements.
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str = "",
        token_source: str = "",
        location_tokens: Mapping[str, Credential] | None = None,
        rate_limit: RateLimit = RateLimit(),
        retry: RetryPolicy = RetryPolicy(),
        timeout_seconds: float = 30.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_connections: int = MAX_CONNECTIONS,
        transport: httpx.AsyncBaseTransport | None = None,
        observer: Callable[[float, int], None] | None = None,
    ) -> None:
        self._default = Credential(token, token_source) if token else None
        self._location_tokens = dict(location_tokens or {})
        self._rate_limit = rate_limit
        self._retry = retry
        self._limiters: dict[str, SlidingWindowLimiter] = {}
        self._pools: dict[str, httpx.AsyncClient] = {}
        self._stopping = False
        self._base_url = base_url
        self._timeout = timeout_seconds
        self._max_response_bytes = max_response_bytes
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._transport = transport
        self._observer = observer
        # One TLS context for every location's pool: building one reads the CA file.
        self._tls = ssl.create_default_context(cafile=certifi.where())

    async def __aenter__(self) -> HighLevelClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()

    def stop(self) -> None:
        """Start no new request from now on; the requests on their way finish."""
        self._stopping = True
        for limiter in self._limiters.values():
            limiter.stop()

    def daily_remaining(self, location_id: str) -> int | None:
        """Requests the location may still make today, or None before its first response."""
        return self._limiter(location_id).daily_remaining

    async def get_order(self, order_id: str, location_id: str) -> ApiResponse:
        path = f"/payments/orders/{order_id}"
        params = {"altId": location_id, "altType": "location"}
        return await self._send("GET", path, location_id, params=params, idempotent=True)

    async def search_orders(
        self, location_id: str, search: str, *, limit: int, offset: int
    ) -> ApiResponse:
        """Read one page of the location's orders whose name matches `search` (List Orders)."""
        params = {
            "altId": location_id,
            "altType": "location",
            "search": search,
            "limit": str(limit),
            "offset": str(offset),
        }
        return await self._send(
            "GET", "/payments/orders", location_id, params=params, idempotent=True
        )

    async def list_fulfillments(self, order_id: str, location_id: str) -> ApiResponse:
        path = f"/payments/orders/{order_id}/fulfillments"
        params = {"altId": location_id, "altType": "location"}
        return await self._send("GET", path, location_id, params=params, idempotent=True)

    async def create_fulfillment(
        self, order_id: str, location_id: str, body: dict[str, object]
    ) -> ApiResponse:
        """Send one create request; raises TransportFailure when no response came back."""
        path = f"/payments/orders/{order_id}/fulfillments"
        return await self._send("POST", path, location_id, json=body, idempotent=False)

    async def _send(
        self,
        method: str,
        path: str,
        location_id: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, object] | None = None,
        idempotent: bool,
    ) -> ApiResponse:
        credential = self._credential(location_id)
        limiter = self._limiter(location_id)
        http = self._pool(location_id)
        failures = 0
        rate_limit_waits = 0
        while True:
            self._check_may_send(limiter, location_id)
            try:
                response = await self._send_once(
                    limiter, http, credential, method, path, params, json
                )
            except TransportFailure as error:
                failures += 1
                if not idempotent:
                    raise
                if failures >= self._retry.max_attempts:
                    raise ApiUnavailableError(self._unreachable_message(error, failures)) from error
                await self._back_off(failures, method, path, "no response")
                continue

            if response.status_code == 403:
                message = self._authentication_message(response, location_id, credential)
                raise LocationAccessError(message, location_id)
            if response.status_code == 401:
                message = self._authentication_message(response, location_id, credential)
                if location_id in self._location_tokens:
                    # That location's own token: the other locations can go on.
                    raise LocationAccessError(message, location_id)
                raise AuthenticationError(message)

            if response.status_code == 429:
                self._check_wait_is_short(response, location_id)
                rate_limit_waits += 1
                if rate_limit_waits > self._retry.max_rate_limit_waits:
                    return response
                self._wait_after_rate_limit(limiter, response, method, path)
                continue

            if idempotent and _worth_retrying(response):
                failures += 1
                if failures < self._retry.max_attempts:
                    reason = f"HTTP {response.status_code}"
                    if response.problem:
                        reason += f", {response.problem}"
                    await self._back_off(failures, method, path, reason)
                    continue
            return response

    def _check_may_send(self, limiter: SlidingWindowLimiter, location_id: str) -> None:
        if self._stopping:
            raise InterruptedRunError(_STOPPED_MESSAGE)
        if limiter.daily_remaining == 0:
            raise DailyLimitError(_daily_limit_message(location_id), location_id)

    def _check_wait_is_short(self, response: ApiResponse, location_id: str) -> None:
        """Give up on a location for today rather than wait for hours after a 429.

        HighLevel responds with 429 both for the burst limit (wait a few
        seconds) and for the daily limit (wait until the next day).
        """
        if _header_int(response.headers, "X-RateLimit-Daily-Remaining") == 0:
            raise DailyLimitError(_daily_limit_message(location_id), location_id)
        wait = _retry_after_seconds(response)
        if wait > _LONGEST_WAIT_SECONDS:
            raise DailyLimitError(
                f"HighLevel asked to wait {wait / 60:.0f} minutes before the next request "
                f"for location {location_id}.",
                location_id,
            )

    def _credential(self, location_id: str) -> Credential:
        credential = self._location_tokens.get(location_id, self._default)
        if credential is None:
            raise NoTokenError(_no_token_message(location_id), location_id)
        return credential

    async def _send_once(
        self,
        limiter: SlidingWindowLimiter,
        http: httpx.AsyncClient,
        credential: Credential,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json: dict[str, object] | None,
    ) -> ApiResponse:
        try:
            slot = await limiter.acquire()
        except LimiterStopped:
            raise InterruptedRunError(_STOPPED_MESSAGE) from None
        started = time.monotonic()
        deadline = asyncio.get_running_loop().time() + self._timeout
        headers = {"Authorization": f"Bearer {credential.token}"}
        request = http.build_request(method, path, params=params, json=json, headers=headers)
        try:
            response = await self._response_within(http, request, deadline)
        except TransportFailure as error:
            limiter.release(slot)
            logger.debug("%s %s: %s", method, path, error)
            raise
        except BaseException:
            limiter.release(slot)
            raise
        limiter.release(slot, _rate_headers(response.headers))
        if self._observer is not None:
            self._observer(started, response.status_code)

        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug("%s %s -> %s in %.0f ms", method, path, response.status_code, elapsed_ms)
        if response.problem:
            logger.info(
                "%s %s -> HTTP %s: %s", method, path, response.status_code, response.problem
            )
        return response

    async def _response_within(
        self, http: httpx.AsyncClient, request: httpx.Request, deadline: float
    ) -> ApiResponse:
        """Send the request and read its response by `deadline` (event loop time).

        Raises TransportFailure when no status line came back in time. Once one
        has, a body that is late, too large or cut off gives a response with a
        problem instead, because HighLevel did receive the request.
        """
        try:
            async with asyncio.timeout_at(deadline):
                streamed = await http.send(request, stream=True)
        except TimeoutError as error:
            message = f"no response from the API within {self._timeout:g} seconds"
            raise TransportFailure(message) from error
        except httpx.TransportError as error:
            raise TransportFailure(f"no response from the API ({type(error).__name__})") from error

        try:
            read = await read_body(
                streamed,
                max_bytes=self._max_response_bytes,
                deadline=deadline,
                timeout_seconds=self._timeout,
            )
        finally:
            # Closing a response not read to its end closes its connection too.
            await streamed.aclose()
        if read.problem:
            return ApiResponse(streamed.status_code, None, streamed.headers, read.problem)
        parsed = parse_body(read.content, streamed.headers.get("Content-Type", ""))
        return ApiResponse(streamed.status_code, parsed.value, streamed.headers, parsed.problem)

    def _pool(self, location_id: str) -> httpx.AsyncClient:
        """Return the location's own connections to the API, opened on first use."""
        pool = self._pools.get(location_id)
        if pool is None:
            pool = self._pools[location_id] = httpx.AsyncClient(
                base_url=self._base_url,
                headers={"Version": API_VERSION, "Accept": "application/json"},
                timeout=self._timeout,
                limits=self._limits,
                transport=self._transport,
                verify=self._tls,
            )
        return pool

    def _limiter(self, location_id: str) -> SlidingWindowLimiter:
        limiter = self._limiters.get(location_id)
        if limiter is None:
            limiter = self._limiters[location_id] = SlidingWindowLimiter(
                max_requests=self._rate_limit.max_requests,
                interval_seconds=self._rate_limit.interval_seconds,
            )
        return limiter

    def _wait_after_rate_limit(
        self, limiter: SlidingWindowLimiter, response: ApiResponse, method: str, path: str
    ) -> None:
        wait = _retry_after_seconds(response) or limiter.interval_seconds
        # HighLevel asked to wait, and the request is sent again: nothing for the user to do.
        logger.info("%s %s: rate limited (HTTP 429); waiting %.1f s", method, path, wait)
        limiter.pause(wait)

    async def _back_off(self, failures: int, method: str, path: str, reason: str) -> None:
        wait = min(self._retry.wait_max, self._retry.wait_initial * 2 ** (failures - 1))
        wait *= random.uniform(0.5, 1.0)  # spread retries of parallel requests apart
        logger.info("%s %s: %s; retry %d in %.1f s", method, path, reason, failures, wait)
        await asyncio.sleep(wait)

    def _unreachable_message(self, error: TransportFailure, attempts: int) -> str:
        return (
            f"The API at {self._base_url} could not be reached after {attempts} attempts "
            f"({error}). Check the network connection and the API address (GHL_BASE_URL); "
            "running the file again is safe."
        )

    def _authentication_message(
        self, response: ApiResponse, location_id: str, credential: Credential
    ) -> str:
        if response.status_code == 403:
            return (
                f"HighLevel refused access to location {location_id} with the token from "
                f"{credential.source} (HTTP 403: {response.message}). Use a token of that "
                "sub-account with the payments/orders.readonly and payments/orders.write scopes."
            )
        return (
            f"HighLevel rejected the token from {credential.source} (HTTP 401: "
            f"{response.message}). Check that the token is complete and has not been revoked."
        )


def _worth_retrying(response: ApiResponse) -> bool:
    """Return whether a read may work when sent again: after a 5xx or an unreadable success.

    A proxy's page or a body cut off on the way is often gone on the next try.
    """
    return response.status_code >= 500 or (response.ok and bool(response.problem))


def _retry_after_seconds(response: ApiResponse) -> float:
    """Read Retry-After, given in seconds or as a date; 0 when it is missing or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def _rate_headers(headers: httpx.Headers) -> RateHeaders:
    return RateHeaders(
        server_max=_header_int(headers, "X-RateLimit-Max"),
        remaining=_header_int(headers, "X-RateLimit-Remaining"),
        interval_ms=_header_int(headers, "X-RateLimit-Interval-Milliseconds"),
        daily_remaining=_header_int(headers, "X-RateLimit-Daily-Remaining"),
    )


def _daily_limit_message(location_id: str) -> str:
    return f"HighLevel's daily limit of API requests for location {location_id} is used up."


def _no_token_message(location_id: str) -> str:
    return (
        f"no token is set for location {location_id}: add it to the config file as "
        f'[locations.{location_id}] token = "...", or set the GHL_TOKEN_{location_id} '
        "environment variable"
    )


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    """Read a whole-number header, or None when it is missing or not a number."""
    value = headers.get(name, "").strip()
    return int(value) if value.isdigit() else None
