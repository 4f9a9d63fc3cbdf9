"""Bodies of the sandbox's malformed responses, built from the body the API produced.

The HTTP handler (importer.sandbox.server) sends them; see MALFORMED_KINDS in
importer.sandbox.faults for what each kind stands for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http import HTTPStatus

from importer.sandbox.faults import WrongShape

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=UTF-8"

# The size of each write of a huge body, so that the sandbox never keeps it whole in memory.
CHUNK_BYTES = 64 * 1024

# The top-level fields that the importer reads from the three endpoints' responses.
_REQUIRED_FIELDS = ("data", "items", "_id", "totalCount")

# Modelled on the error pages that Cloudflare and nginx send: markup, a style
# sheet and a script around a short title, and several kilobytes in all.
_HTML_PAGE = """<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html lang="en-US">
<head>
<title>{title}</title>
<meta charset="UTF-8" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<style>{style}</style>
<script>{script}</script>
</head>
<body>
<div id="cf-wrapper"><div id="cf-error-details">
<h1><span class="cf-error-type">Error</span> <span class="cf-error-code">{status}</span></h1>
<h2 class="cf-subheadline">{reason}</h2>
<p>The web server reported an error. Please try again in a few minutes.</p>
<p>Ray ID: <strong>8f2c1d9e7a6b5c4d</strong> &bull; Performance &amp; security by a proxy</p>
</div></div>
</body>
</html>
"""
_STYLE = "body{margin:0;padding:0;font-family:system-ui,sans-serif}" * 40
_SCRIPT = "(function(){window._cf_chl_opt={cvId:'3',cType:'managed'};})();" * 20


def encode(body: object) -> bytes:
    """Encode a body as the API does: compact JSON in UTF-8."""
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def html_page(status: int) -> bytes:
    """Build a proxy's HTML error page; a 200 gets the page of a browser check."""
    if status == 200:
        title, reason = "Just a moment...", "Checking your browser before accessing the site."
    else:
        reason = HTTPStatus(status).phrase
        title = f"{status} {reason}"
    page = _HTML_PAGE.format(
        title=title, style=_STYLE, script=_SCRIPT, status=status, reason=reason
    )
    return page.encode("utf-8")


def truncated(body: object) -> bytes:
    """Return the first half of the body's JSON, as a proxy that cut it short would."""
    payload = encode(body)
    return payload[: len(payload) // 2]


def wrong_shape(body: object, shape: WrongShape) -> object:
    if shape is WrongShape.LIST:
        return [body]
    if shape is WrongShape.STRING:
        return "OK"
    if shape is WrongShape.NULL:
        return None
    if shape is WrongShape.MISSING_FIELDS:
        if not isinstance(body, dict):
            return body
        return {key: value for key, value in body.items() if key not in _REQUIRED_FIELDS}
    return _ids_as_numbers(body)


def _ids_as_numbers(value: object) -> object:
    if isinstance(value, dict):
        return {key: 5 if key == "_id" else _ids_as_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_ids_as_numbers(item) for item in value]
    return value


def with_extra_fields(value: object) -> object:
    """Add fields the API does not document to every object of the body."""
    if isinstance(value, dict):
        extended = {key: with_extra_fields(item) for key, item in value.items()}
        extended["sandboxExtra"] = {"note": "a field the importer does not know", "n": [1, 2.5]}
        extended["futureFlag"] = None
        return extended
    if isinstance(value, list):
        return [with_extra_fields(item) for item in value]
    return value


def not_utf8(body: object) -> bytes:
    """Add a field whose text is in Latin-1, as a server with the wrong encoding would."""
    payload = encode(body)
    field = '"note":"caf\xe9 cr\xe8me"'.encode("latin-1")
    if payload == b"{}":
        return b"{" + field + b"}"
    if payload.startswith(b"{"):
        return b"{" + field + b"," + payload[1:]
    return payload + b"\xff"


def huge_body(body: object, size: int) -> Iterator[bytes]:
    """Pad the body to `size` bytes of valid JSON, made and returned chunk by chunk.

    The body never sits whole in memory. It is longer than `size` only when the
    API's own body does not fit in it.
    """
    head = b'{"padding":"'
    tail = b'","body":' + encode(body) + b"}"
    padding = max(size - len(head) - len(tail), 0)
    return _padded_chunks(head, padding, tail)


def _padded_chunks(head: bytes, padding: int, tail: bytes) -> Iterator[bytes]:
    yield head
    block = b"x" * CHUNK_BYTES
    while padding > 0:
        size = min(padding, CHUNK_BYTES)
        yield block[:size]
        padding -= size
    yield tail
