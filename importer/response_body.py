"""Read an HTTP response body from HighLevel, bounded in size and time, and parse its JSON.

The response may be an HTML page from a proxy, JSON cut off, bytes that are
not UTF-8, a body of gigabytes or a body that never ends. Whatever it is, the
result is the parsed JSON or a short problem in plain words for the results
workbook. No error of httpx or of the json module leaves this module, and no
excerpt of a body is longer than a line or contains control characters.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import httpx

# No response of the endpoints the importer uses comes near this size: a page of
# 100 orders is some hundreds of kilobytes.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024

EXCERPT_CHARACTERS = 80
EMPTY_PROBLEM = "the response was empty"
# An HTML page names itself in its <title>, near its start.
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TITLE_SEARCH_BYTES = 64 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class BodyRead:
    """The bytes of a body, or why it could not be read to its end."""

    content: bytes
    problem: str = ""


@dataclass(frozen=True)
class ParsedBody:
    """A body's JSON value, or None with the problem that kept it from being read."""

    value: Any
    problem: str = ""


async def read_body(
    response: httpx.Response, *, max_bytes: int, deadline: float, timeout_seconds: float
) -> BodyRead:
    """Read a streamed body until its end, `max_bytes`, or the event loop time `deadline`.

    A body past `max_bytes` is not read further: its bytes are dropped, so a
    huge body costs about `max_bytes` of memory (counted after decompression).

    NOTE: httpx decompresses each chunk received whole, so one gzip chunk of a
    compression bomb can expand far past `max_bytes` before the check sees it.
    """
    if _declared_length(response) > max_bytes:
        return BodyRead(b"", _too_large(max_bytes))

    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout_at(deadline):
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    return BodyRead(b"", _too_large(max_bytes))
                chunks.append(chunk)
    except TimeoutError:
        return BodyRead(b"", f"the response did not finish within {timeout_seconds:g} seconds")
    except (httpx.TransportError, httpx.DecodingError):
        return BodyRead(b"", "the connection closed before the response was complete")
    return BodyRead(b"".join(chunks))


def parse_body(content: bytes, content_type: str) -> ParsedBody:
    """Parse a body as JSON, whatever its Content-Type header, or describe why it is not JSON."""
    if not content.strip():
        return ParsedBody(None, EMPTY_PROBLEM)

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        json_problem = "the response is not valid UTF-8 text"
    else:
        try:
            return ParsedBody(json.loads(text, parse_constant=_reject_constant))
        except RecursionError:
            json_problem = "the response's JSON is nested too deeply to read"
        except ValueError as error:
            json_problem = _json_problem(error, text)

    if _is_html(content, content_type):
        return ParsedBody(None, _web_page_problem(content))
    return ParsedBody(None, json_problem)


def excerpt(text: str, limit: int = EXCERPT_CHARACTERS) -> str:
    """Shorten text to one line of at most `limit` characters, with no control characters.

    Control and format characters (Unicode categories C*) become spaces: they
    could move the cursor or reorder text in a terminal or a spreadsheet.
    """
    printable = "".join(" " if unicodedata.category(char)[0] == "C" else char for char in text)
    line = " ".join(printable.split())
    if len(line) <= limit:
        return line
    return line[: limit - 1].rstrip() + "…"


def _reject_constant(name: str) -> Any:
    # Python's json module reads NaN and Infinity, which JSON does not allow and no count can be.
    raise ValueError(f"{name} is not a JSON value")


def _declared_length(response: httpx.Response) -> int:
    value = response.headers.get("Content-Length", "").strip()
    return int(value) if value.isdigit() else 0


def _too_large(max_bytes: int) -> str:
    return f"the response was larger than {max_bytes / (1024 * 1024):g} MB, so it was not read"


def _json_problem(error: ValueError, text: str) -> str:
    if isinstance(error, json.JSONDecodeError) and _ends_early(error, text):
        return "the response's JSON ends early, as if it was cut off"
    return f'the response is not valid JSON (it starts "{excerpt(text, 40)}")'


def _ends_early(error: json.JSONDecodeError, text: str) -> bool:
    # A string cut off is reported where it starts; any other cut, at the end of the text.
    return error.msg.startswith("Unterminated string") or error.pos >= len(text.rstrip())


def _is_html(content: bytes, content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return media_type in _HTML_TYPES or content.lstrip()[:1] == b"<"


def _web_page_problem(content: bytes) -> str:
    match = _TITLE.search(content[:_TITLE_SEARCH_BYTES])
    title = ""
    if match is not None:
        title = excerpt(html.unescape(match.group(1).decode("utf-8", errors="replace")))
    if not title:
        return "the response was a web page instead of data from the API"
    return f'the response was a web page ("{title}") instead of data from the API'
