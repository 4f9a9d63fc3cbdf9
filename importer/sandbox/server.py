"""The sandbox's HTTP server: a ThreadingHTTPServer on loopback, run in a daemon thread.

The standard library's server was chosen because it adds no dependency and
runs inside the importer's own process for --sandbox and the tests, where an
ASGI app would need a server such as uvicorn started beside it. One thread
per connection is plenty for a local stand-in.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from importer.sandbox.api import (
    MAX_BODY_BYTES,
    ApiRequest,
    ApiResponse,
    RequestRecord,
    SandboxApi,
)
from importer.sandbox.faults import (
    MALFORMED_KINDS,
    FaultDecision,
    FaultInjector,
    FaultKind,
    FaultPlan,
    InjectedFault,
    error_body,
)
from importer.sandbox.malformed import (
    HTML_TYPE,
    JSON_TYPE,
    encode,
    html_page,
    huge_body,
    not_utf8,
    truncated,
    with_extra_fields,
    wrong_shape,
)
from importer.sandbox.ratelimit import RateLimiter
from importer.sandbox.seed import SandboxSeed
from importer.sandbox.store import CreatedFulfillment, SandboxStore

logger = logging.getLogger(__name__)

# How often serve_forever checks for shutdown; it bounds how long stop() waits.
_POLL_INTERVAL_SECONDS = 0.02

# An idle keep-alive connection is closed after this long, so its thread ends.
_IDLE_TIMEOUT_SECONDS = 30.0


class Sandbox:
    """A local stand-in for HighLevel's order and fulfillment endpoints.

    `tokens` maps each accepted token to the location ids it may use, or to None for
    every seeded location. The rate limits apply per (token, location): at most
    `max_requests` in any `interval_seconds`, and `daily_limit` per UTC day.
    `faults` injects latency, 5xx responses, timeouts, dropped connections and
    malformed responses (see FaultPlan), and set_faults() changes them while the
    sandbox runs.
    `latency_seconds` is short for faults=FaultPlan(latency_seconds=...).
    Use it as a context manager, or call start() and stop().
    """

    def __init__(
        self,
        seed: SandboxSeed,
        tokens: Mapping[str, Sequence[str] | None],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_requests: int = 100,
        interval_seconds: float = 10.0,
        daily_limit: int = 200_000,
        latency_seconds: float = 0.0,
        faults: FaultPlan | None = None,
    ) -> None:
        _check_loopback(host)
        if latency_seconds and faults is not None:
            raise ValueError("Give the latency in the FaultPlan when passing faults.")
        if faults is None:
            faults = FaultPlan(latency_seconds=latency_seconds)

        self.seed = seed
        self.host = host
        self.port = port
        self._faults = FaultInjector(faults)
        self._store = SandboxStore(seed)
        limiter = RateLimiter(
            max_requests=max_requests, interval_seconds=interval_seconds, daily_limit=daily_limit
        )
        self._api = SandboxApi(self._store, limiter, tokens=tokens, locations=seed.locations)
        self._server: _SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to use in place of https://services.leadconnectorhq.com."""
        if self._server is None:
            raise RuntimeError("The sandbox is not running. Call start() first.")
        port = self._server.server_address[1]
        url_host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{url_host}:{port}"

    def start(self) -> Sandbox:
        """Bind the port and serve requests in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("The sandbox is already running.")

        server = _SandboxHTTPServer((self.host, self.port), self._api, self._faults)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL_SECONDS},
            name=f"sandbox-{server.server_address[1]}",
            daemon=True,
        )
        thread.start()

        self._server = server
        self._thread = thread
        logger.info("HighLevel sandbox listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving, close the port and open connections; the stored state is kept."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return

        server.stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections()
        thread.join()

        self._server = None
        self._thread = None
        logger.info("HighLevel sandbox stopped")

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def fulfillment_log(self) -> list[CreatedFulfillment]:
        """Return the fulfillments created through the API, oldest first."""
        return self._store.fulfillment_log()

    def request_log(self) -> list[RequestRecord]:
        """Return every request handled, oldest first."""
        return self._api.request_log()

    def order_state(self, order_id: str) -> dict[str, Any]:
        """Return the order as GET returns it; KeyError if the seed has no such order."""
        return self._store.order_state(order_id)

    @property
    def faults(self) -> FaultPlan:
        """The fault plan in effect."""
        return self._faults.plan

    def set_faults(self, plan: FaultPlan) -> None:
        """Put `plan` in effect for the requests that arrive from now on, running or not.

        The random draws restart from plan.seed. Requests already being handled keep
        their faults, and the record of faults injected is kept.
        """
        self._faults.set_plan(plan)

    def fault_counts(self) -> dict[FaultKind, int]:
        """Count the faults injected so far, per kind, zeros included."""
        return self._faults.fault_counts()

    def fault_log(self) -> list[InjectedFault]:
        """Return the faults injected so far, oldest first.

        Requests that a fault stopped before the API (a 5xx, a drop before handling,
        a timeout without effect) are here and not in request_log().
        """
        return self._faults.fault_log()


def _check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"The sandbox only listens on a loopback address such as 127.0.0.1 or ::1, "
            f"got {host!r}."
        )


class _SandboxHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that passes requests to the sandbox API and tracks connections."""

    daemon_threads = True
    # The default backlog of 5 refuses connections when an importer opens a hundred at once.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], api: SandboxApi, faults: FaultInjector) -> None:
        if ipaddress.ip_address(address[0]).version == 6:
            self.address_family = socket.AF_INET6
        self.api = api
        self.faults = faults
        # Set by Sandbox.stop() so that delayed and held requests end at once.
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _SandboxRequestHandler)

    def add_connection(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def remove_connection(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        # Keep-alive connections outlive serve_forever; shutting them down ends their threads.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # A connection the client already closed raises OSError; it needs no shutdown.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a client that hangs up is routine.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("Connection from %s closed early: %s", client_address, error)
        else:
            logger.exception("The sandbox failed to handle a request from %s", client_address)


def _injected_error(status: int) -> ApiResponse:
    return ApiResponse(status, error_body(status))


class _SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_TIMEOUT_SECONDS
    # Headers and body go out in two writes. With Nagle's algorithm the second write waits
    # for the client's delayed ACK, which added about 40 ms to each keep-alive response.
    disable_nagle_algorithm = True
    server: _SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.add_connection(self.connection)

    def finish(self) -> None:
        self.server.remove_connection(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._handle_request()

    def do_POST(self) -> None:
        self._handle_request()

    def do_PUT(self) -> None:
        self._handle_request()

    def do_PATCH(self) -> None:
        self._handle_request()

    def do_DELETE(self) -> None:
        self._handle_request()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _handle_request(self) -> None:
        url = urlsplit(self.path)
        read = self._read_body()
        if read is None:
            return
        body, too_large = read
        decision = self.server.faults.decide(self.command, url.path, url.query)

        # These faults stop the request before it reaches the API, so nothing is stored.
        # An HTML page without effect stands for a proxy that never passed the request on.
        if decision.kind is FaultKind.DROP_BEFORE_HANDLING:
            self._record_fault(decision, url.path, None)
            self._drop_after_delay(decision)
            return
        if decision.kind is FaultKind.SERVER_ERROR:
            assert decision.error_status is not None
            self._record_fault(decision, url.path, decision.error_status)
            self._send_after_delay(decision, _injected_error(decision.error_status))
            return
        if decision.kind is FaultKind.TIMEOUT and not decision.takes_effect:
            self._record_fault(decision, url.path, None)
            self._send_after_hold(decision, _injected_error(504))
            return
        if decision.kind is FaultKind.HTML_PAGE and not decision.takes_effect:
            self._record_fault(decision, url.path, None)
            self._send_malformed_after_delay(decision, None)
            return

        request = ApiRequest(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            authorization=self.headers.get("Authorization"),
            version=self.headers.get("Version"),
            content_type=self.headers.get("Content-Type"),
            body=body,
            body_too_large=too_large,
        )
        response = self.server.api.handle(request)

        # These faults come after the API handled the request, so a valid create is stored.
        # Malformed responses garble the API's own response.
        if decision.kind is FaultKind.DROP_AFTER_HANDLING:
            self._record_fault(decision, url.path, response.status)
            self._drop_after_delay(decision)
        elif decision.kind is FaultKind.TIMEOUT:
            self._record_fault(decision, url.path, response.status)
            self._send_after_hold(decision, response)
        elif decision.kind in MALFORMED_KINDS:
            self._record_fault(decision, url.path, response.status)
            self._send_malformed_after_delay(decision, response)
        else:
            self._send_after_delay(decision, response)

    def _record_fault(self, decision: FaultDecision, path: str, status: int | None) -> None:
        assert decision.kind is not None
        self.server.faults.record(decision.kind, self.command, path, status)

    def _send_after_delay(self, decision: FaultDecision, response: ApiResponse) -> None:
        if self._wait(decision.delay_seconds):
            self._send(response)
        else:
            self._drop()

    def _send_after_hold(self, decision: FaultDecision, response: ApiResponse) -> None:
        # The client has usually given up by the end of the hold. Writing to its closed
        # socket raises a ConnectionError, which handle_error logs at debug level.
        if self._wait(decision.delay_seconds + decision.hold_seconds):
            self._send(response)
        else:
            self._drop()

    def _send_malformed_after_delay(
        self, decision: FaultDecision, response: ApiResponse | None
    ) -> None:
        """Send the malformed response of `decision`; `response` is None when the API never ran."""
        if not self._wait(decision.delay_seconds):
            self._drop()
        elif decision.kind is FaultKind.HTML_PAGE:
            assert decision.error_status is not None
            # A proxy's page carries none of the API's headers.
            self._write(decision.error_status, HTML_TYPE, html_page(decision.error_status), {})
        elif response is None:
            raise ValueError(f"A {decision.kind} fault needs the API's response.")
        elif decision.kind is FaultKind.HUGE_BODY:
            self._send_huge(response, decision.size_bytes)
        elif decision.kind is FaultKind.SLOW_DRIP:
            self._drip(response, decision)
        else:
            content_type, payload = _garbled(decision, response)
            self._write(response.status, content_type, payload, response.headers)

    def _send_huge(self, response: ApiResponse, size: int) -> None:
        """Send the padded body in chunks of a chunked body, so no Content-Length warns a client."""
        chunks = huge_body(response.body, size)
        self._start_response(response.status, JSON_TYPE, response.headers, None)
        # A client that stops reading and hangs up makes a write raise a ConnectionError,
        # which handle_error logs at debug level.
        for chunk in chunks:
            if self.server.stopping.is_set():
                self._drop()
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def _drip(self, response: ApiResponse, decision: FaultDecision) -> None:
        """Send the status, then a space of a chunked body every interval; never finish it.

        Leading spaces are valid JSON, so only a client with a deadline for the
        whole response notices. The connection is closed after `hold_seconds`.
        """
        self.close_connection = True
        self._start_response(response.status, JSON_TYPE, response.headers, None)
        ends = time.monotonic() + decision.hold_seconds
        while time.monotonic() < ends:
            self.wfile.write(b"1\r\n \r\n")
            if not self._wait(decision.interval_seconds):
                break
        self._drop()

    def _drop_after_delay(self, decision: FaultDecision) -> None:
        self._wait(decision.delay_seconds)
        self._drop()

    def _wait(self, seconds: float) -> bool:
        """Wait `seconds`; return False when the sandbox stops meanwhile."""
        if seconds <= 0:
            return True
        return not self.server.stopping.wait(seconds)

    def _drop(self) -> None:
        """Close the connection without a response, as a crashed server or a lost link would.

        Shutting the socket down sends the client a FIN at once, so an HTTP client
        sees the connection closed with no response (httpx raises RemoteProtocolError).
        """
        self.close_connection = True
        # A client that already closed its end raises OSError; the connection is gone anyway.
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_body(self) -> tuple[bytes, bool] | None:
        """Read the request body and whether it exceeds the size limit.

        Responds with 400 and returns None when the body cannot be read. A body above the limit
        is not read to its end, so the connection is closed after the response.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked_body()

        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self._reject_unreadable_body("The Content-Length header is invalid.")
            return None

        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return b"", True
        return self.rfile.read(length), False

    def _read_chunked_body(self) -> tuple[bytes, bool] | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                chunk_size = int(line, 16)
            except ValueError:
                self._reject_unreadable_body("The chunked request body is invalid.")
                return None

            if chunk_size == 0:
                break
            if size + chunk_size > MAX_BODY_BYTES:
                self.close_connection = True
                return b"", True

            chunks.append(self.rfile.read(chunk_size))
            self.rfile.readline(1024)
            size += chunk_size

        # Skip any trailer fields up to the blank line that ends the body.
        while self.rfile.readline(1024).strip():
            pass
        return b"".join(chunks), False

    def _reject_unreadable_body(self, message: str) -> None:
        # Where this body ends is unknown, so the connection cannot carry another request.
        self.close_connection = True
        logger.debug("Rejected a request from %s: %s", self.address_string(), message)
        body = {"statusCode": 400, "message": message, "error": "Bad Request"}
        self._send(ApiResponse(400, body))

    def _send(self, response: ApiResponse) -> None:
        self._write(response.status, JSON_TYPE, encode(response.body), response.headers)

    def _write(
        self, status: int, content_type: str, payload: bytes, headers: Mapping[str, str]
    ) -> None:
        self._start_response(status, content_type, headers, len(payload))
        self.wfile.write(payload)

    def _start_response(
        self, status: int, content_type: str, headers: Mapping[str, str], length: int | None
    ) -> None:
        """Send the status line and headers: no Content-Type for "", chunked for no length."""
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()


def _garbled(decision: FaultDecision, response: ApiResponse) -> tuple[str, bytes]:
    """Build the content type and body of a malformed response sent in one piece."""
    if decision.kind is FaultKind.TRUNCATED_JSON:
        return JSON_TYPE, truncated(response.body)
    if decision.kind is FaultKind.WRONG_SHAPE:
        assert decision.shape is not None
        return JSON_TYPE, encode(wrong_shape(response.body, decision.shape))
    if decision.kind is FaultKind.EXTRA_FIELDS:
        return JSON_TYPE, encode(with_extra_fields(response.body))
    if decision.kind is FaultKind.WRONG_CONTENT_TYPE:
        assert decision.content_type is not None
        return decision.content_type, encode(response.body)
    if decision.kind is FaultKind.EMPTY_BODY:
        return JSON_TYPE, b""
    if decision.kind is FaultKind.NOT_UTF8:
        return JSON_TYPE, not_utf8(response.body)
    raise ValueError(f"{decision.kind} is not a malformed body sent in one piece.")
