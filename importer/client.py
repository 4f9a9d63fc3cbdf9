"""The HighLevel API client: the only module that speaks HTTP.

Every request waits for a slot in its location's rate limiter. A request
rejected with 429 waits as long as the server asks and is sent again,
because HighLevel did not process it. Reads are also retried on server errors and lost connections.
A create request is not: HighLevel has no idempotency key, so the caller must
first check whether a lost request was stored (see importer.submit).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from importer.errors import ApiUnavailableError, AuthenticationError, LocationAccessError
from importer.ratelimit import SlidingWindowLimiter

logger = logging.getLogger(__name__)

API_VERSION = "2021-07-28"
DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"
_MAX_MESSAGE_LENGTH = 300


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
    """An HTTP response from HighLevel, with the JSON body parsed when there is one."""

    status_code: int
    body: Any
    text: str
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def message(self) -> str:
        """The API's own error message, whichever error body shape it used."""
        body = self.body if isinstance(self.body, dict) else {}
        message = body.get("message")
        if isinstance(message, list):
            message = "; ".join(str(part) for part in message)
        if not message:
            message = self.text.strip() or f"HTTP {self.status_code} with an empty response"
        return str(message)[:_MAX_MESSAGE_LENGTH]

    @property
    def trace_id(self) -> str:
        body = self.body if isinstance(self.body, dict) else {}
        return str(body.get("traceId") or "")


class TransportFailure(Exception):
    """No response came back (timeout, refused or dropped connection).

    For a create request this is ambiguous: HighLevel may have stored it.
    """


class HighLevelClient:
    """Sends requests for one token, rate limited per location."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        token_source: str,
        rate_limit: RateLimit = RateLimit(),
        retry: RetryPolicy = RetryPolicy(),
        timeout_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token_source = token_source
        self._rate_limit = rate_limit
        self._retry = retry
        self._limiters: dict[str, SlidingWindowLimiter] = {}
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Version": API_VERSION,
                "Accept": "application/json",
            },
            timeout=timeout_seconds,
            transport=transport,
        )

    async def __aenter__(self) -> HighLevelClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

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
        limiter = self._limiter(location_id)
        failures = 0
        rate_limit_waits = 0
        while True:
            try:
                response = await self._send_once(limiter, method, path, params, json)
            except TransportFailure as error:
                failures += 1
                if not idempotent:
                    raise
                if failures >= self._retry.max_attempts:
                    raise ApiUnavailableError(self._unreachable_message(error, failures)) from error
                await self._back_off(failures, method, path, "no response")
                continue

            if response.status_code == 403:
                message = self._authentication_message(response, location_id)
                raise LocationAccessError(message, location_id)
            if response.status_code == 401:
                raise AuthenticationError(self._authentication_message(response, location_id))

            if response.status_code == 429:
                rate_limit_waits += 1
                if rate_limit_waits > self._retry.max_rate_limit_waits:
                    return response
                self._wait_after_rate_limit(limiter, response, method, path)
                continue

            if response.status_code >= 500 and idempotent:
                failures += 1
                if failures < self._retry.max_attempts:
                    await self._back_off(failures, method, path, f"HTTP {response.status_code}")
                    continue
            return response

    async def _send_once(
        self,
        limiter: SlidingWindowLimiter,
        method: str,
        path: str,
        params: dict[str, str] | None,
        json: dict[str, object] | None,
    ) -> ApiResponse:
        slot = await limiter.acquire()
        started = time.monotonic()
        try:
            response = await self._http.request(method, path, params=params, json=json)
        except httpx.TransportError as error:
            logger.debug("%s %s: no response (%s)", method, path, type(error).__name__)
            raise TransportFailure(f"no response from the API ({type(error).__name__})") from error
        finally:
            limiter.release(slot)
        limiter.observe(
            remaining=_header_int(response.headers, "X-RateLimit-Remaining"),
            server_max=_header_int(response.headers, "X-RateLimit-Max"),
        )

        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug("%s %s -> %s in %.0f ms", method, path, response.status_code, elapsed_ms)
        return _to_api_response(response)

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
        wait = _retry_after_seconds(response) or self._rate_limit.interval_seconds
        logger.warning("%s %s: rate limited (HTTP 429); waiting %.1f s", method, path, wait)
        limiter.pause(wait)

    async def _back_off(self, failures: int, method: str, path: str, reason: str) -> None:
        wait = min(self._retry.wait_max, self._retry.wait_initial * 2 ** (failures - 1))
        wait *= random.uniform(0.5, 1.0)  # spread retries of parallel requests apart
        logger.warning("%s %s: %s; retry %d in %.1f s", method, path, reason, failures, wait)
        await asyncio.sleep(wait)

    def _unreachable_message(self, error: TransportFailure, attempts: int) -> str:
        return (
            f"The API at {self._http.base_url} could not be reached after {attempts} attempts "
            f"({error}). Check the network connection and the API address (GHL_BASE_URL); "
            "running the file again is safe."
        )

    def _authentication_message(self, response: ApiResponse, location_id: str) -> str:
        if response.status_code == 403:
            return (
                f"HighLevel refused access to location {location_id} with the token from "
                f"{self._token_source} (HTTP 403: {response.message}). Use a token of that "
                "sub-account with the payments/orders.readonly and payments/orders.write scopes."
            )
        return (
            f"HighLevel rejected the token from {self._token_source} (HTTP 401: "
            f"{response.message}). Check that the token is complete and has not been revoked."
        )


def _to_api_response(response: httpx.Response) -> ApiResponse:
    text = response.text
    try:
        body = response.json() if text else None
    except ValueError:
        body = None
    return ApiResponse(response.status_code, body, text[:2000], response.headers)


def _retry_after_seconds(response: ApiResponse) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return 0.0


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    """Read a whole-number header, or None when it is missing or not a number."""
    value = headers.get(name, "").strip()
    return int(value) if value.isdigit() else None
