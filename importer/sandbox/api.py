"""Request handling of the sandbox: the three HighLevel order endpoints, without HTTP transport.

Checks run in this order: the JSON body parser, the token, the rate limit, the
route, the Version header, then the endpoint's own checks (location access,
validation, business rules). Within an endpoint this is the order of Express and
NestJS, where the body parser runs before guards and guards run before validation.

Errors come in the shapes HighLevel uses: NestJS's `{statusCode, message, error}`
for transport, access and validation errors, `{statusCode, message}` for a missing
order, and `{status, message, name, traceId}` for a fulfillment that breaks a
business rule.

NOTE: HighLevel documents the error shapes but not the order of its gateway checks
or the exact wording of the Version, 405 and business-rule messages; those are
modelled, not copied from responses.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from importer.sandbox.ratelimit import RateLimiter
from importer.sandbox.store import FulfillmentRejectedError, OrderNotFoundError, SandboxStore
from importer.sandbox.validation import (
    fulfillment_body_problems,
    list_page_problems,
    query_problems,
)

API_VERSION = "2021-07-28"

# Express's JSON body parser rejects bodies above 100 kB by default.
MAX_BODY_BYTES = 100 * 1024


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request, reduced to what the endpoints read."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str | None = None
    version: str | None = None
    content_type: str | None = None
    body: bytes = b""
    body_too_large: bool = False


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestRecord:
    """One request the sandbox handled, for tests that check what a client sent."""

    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass(frozen=True)
class _ParsedBody:
    value: object
    error: str | None = None


_Endpoint = Callable[[str, ApiRequest, str, _ParsedBody], ApiResponse]


class SandboxApi:
    """Request handler over a store, with token checks and rate limits.

    `tokens` maps each accepted token to the location ids it may use, or to None
    for every location in `locations`.
    """

    def __init__(
        self,
        store: SandboxStore,
        limiter: RateLimiter,
        *,
        tokens: Mapping[str, Sequence[str] | None],
        locations: Sequence[str],
    ) -> None:
        self._store = store
        self._limiter = limiter
        self._tokens = {token: _allowed(scope, locations) for token, scope in tokens.items()}
        self._lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._routes: list[tuple[re.Pattern[str], dict[str, _Endpoint]]] = [
            (re.compile(r"/payments/orders/?()"), {"GET": self._list_orders}),
            (re.compile(r"/payments/orders/([^/]+)/?"), {"GET": self._get_order}),
            (
                re.compile(r"/payments/orders/([^/]+)/fulfillments/?"),
                {"GET": self._list_fulfillments, "POST": self._create_fulfillment},
            ),
        ]

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Build the response to one request and add the request to the request log."""
        if request.body_too_large:
            response = _nest_error(413, "request entity too large", "Payload Too Large")
        else:
            response = self._authenticate_and_route(request)

        with self._lock:
            self._log.append(
                RequestRecord(request.method, request.path, dict(request.query), response.status)
            )
        return response

    def request_log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def _authenticate_and_route(self, request: ApiRequest) -> ApiResponse:
        token = _bearer_token(request.authorization)
        if token is None or token not in self._tokens:
            return _nest_error(401, "Invalid token: access token is invalid", "Unauthorized")

        body = _parse_body(request) if request.method == "POST" else _ParsedBody({})
        location = _body_location(body) or request.query.get("altId", "")
        decision = self._limiter.acquire((token, location))

        if decision.allowed:
            response = self._route(request, token, body)
        else:
            message = "Too many requests, please try again later."
            response = ApiResponse(429, {"statusCode": 429, "message": message})

        return ApiResponse(response.status, response.body, response.headers | decision.headers())

    def _route(self, request: ApiRequest, token: str, body: _ParsedBody) -> ApiResponse:
        for pattern, endpoints in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue

            endpoint = endpoints.get(request.method)
            if endpoint is None:
                message = f"Method {request.method} is not allowed on {request.path}"
                response = _nest_error(405, message, "Method Not Allowed")
                return ApiResponse(405, response.body, {"Allow": ", ".join(endpoints)})

            version_problem = _version_problem(request.version)
            if version_problem:
                return ApiResponse(400, {"statusCode": 400, "message": version_problem})

            return endpoint(match[1], request, token, body)

        return _nest_error(404, f"Cannot {request.method} {request.path}", "Not Found")

    def _get_order(
        self, order_id: str, request: ApiRequest, token: str, body: _ParsedBody
    ) -> ApiResponse:
        rejection = self._check_query(request.query, token)
        if rejection:
            return rejection

        try:
            order = self._store.order(order_id, request.query["altId"])
        except OrderNotFoundError:
            return _order_not_found()
        return ApiResponse(200, order)

    def _list_orders(
        self, _: str, request: ApiRequest, token: str, body: _ParsedBody
    ) -> ApiResponse:
        rejection = self._check_query(request.query, token)
        if rejection:
            return rejection
        page = list_page_problems(request.query)
        if isinstance(page, list):
            return _nest_error(422, page, "Unprocessable Entity")

        limit, offset = page
        orders, total = self._store.search_orders(
            request.query["altId"], request.query.get("search", ""), limit=limit, offset=offset
        )
        return ApiResponse(200, {"data": orders, "totalCount": total})

    def _list_fulfillments(
        self, order_id: str, request: ApiRequest, token: str, body: _ParsedBody
    ) -> ApiResponse:
        rejection = self._check_query(request.query, token)
        if rejection:
            return rejection

        try:
            fulfillments = self._store.fulfillments(order_id, request.query["altId"])
        except OrderNotFoundError:
            return _order_not_found()
        return ApiResponse(200, {"status": True, "data": fulfillments})

    def _create_fulfillment(
        self, order_id: str, request: ApiRequest, token: str, body: _ParsedBody
    ) -> ApiResponse:
        if body.error:
            return _nest_error(400, body.error, "Bad Request")
        if not isinstance(body.value, dict):
            return _nest_error(400, "The request body must be a JSON object.", "Bad Request")

        # NestJS runs access guards before validation pipes, so 403 comes before 422.
        location = _body_location(body)
        if location and not self._may_use(token, location):
            return _forbidden()

        problems = fulfillment_body_problems(body.value)
        if problems:
            return _nest_error(422, problems, "Unprocessable Entity")

        try:
            fulfillment = self._store.create_fulfillment(order_id, body.value, token)
        except OrderNotFoundError:
            return _order_not_found()
        except FulfillmentRejectedError as error:
            return _business_error(error)
        return ApiResponse(201, {"status": True, "data": fulfillment})

    def _check_query(self, query: Mapping[str, str], token: str) -> ApiResponse | None:
        problems = query_problems(query)
        if problems:
            return _nest_error(422, problems, "Unprocessable Entity")
        if not self._may_use(token, query["altId"]):
            return _forbidden()
        return None

    def _may_use(self, token: str, location: str) -> bool:
        return location in self._tokens[token]


def _allowed(scope: Sequence[str] | None, locations: Sequence[str]) -> frozenset[str]:
    return frozenset(locations if scope is None else scope)


def _bearer_token(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def _version_problem(version: str | None) -> str | None:
    if version is None:
        return f"Version header is missing; send Version: {API_VERSION}."
    if version.strip() != API_VERSION:
        return f"Version header {version!r} is not supported; send Version: {API_VERSION}."
    return None


def _parse_body(request: ApiRequest) -> _ParsedBody:
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    # Express's JSON parser leaves an empty body, or one of another type, as an empty object.
    if not request.body or media_type != "application/json":
        return _ParsedBody({})

    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return _ParsedBody(None, "The request body is not valid UTF-8.")

    try:
        return _ParsedBody(json.loads(text, parse_constant=_reject_constant))
    except json.JSONDecodeError as error:
        return _ParsedBody(None, f"Invalid JSON at position {error.pos}: {error.msg}")
    except ValueError as error:
        return _ParsedBody(None, str(error))


def _reject_constant(name: str) -> Any:
    # Python's json module accepts NaN and Infinity; JSON and JavaScript's parser do not.
    raise ValueError(f"Invalid JSON: {name} is not a JSON value")


def _body_location(body: _ParsedBody) -> str:
    if isinstance(body.value, dict):
        alt_id = body.value.get("altId")
        if isinstance(alt_id, str):
            return alt_id
    return ""


def _nest_error(status: int, message: str | list[str], error: str) -> ApiResponse:
    return ApiResponse(status, {"statusCode": status, "message": message, "error": error})


def _forbidden() -> ApiResponse:
    message = "The token is not authorized for this location."
    return ApiResponse(403, {"statusCode": 403, "message": message})


def _order_not_found() -> ApiResponse:
    return ApiResponse(400, {"statusCode": 400, "message": "Order not found"})


def _business_error(error: FulfillmentRejectedError) -> ApiResponse:
    body = {
        "status": error.status,
        "message": error.message,
        "name": error.name,
        "traceId": str(uuid.uuid4()),
    }
    return ApiResponse(error.status, body)
