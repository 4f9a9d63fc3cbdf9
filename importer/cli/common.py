"""Exit codes, notices, option types and secret-hiding logging, shared by the commands."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Literal

from importer.errors import ConfigError

logger = logging.getLogger("importer")

EXIT_OK = 0
EXIT_SOME_ORDERS_NOT_DONE = 1
EXIT_USAGE = 2
EXIT_ABORTED = 3

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
# 1 MB here is 1,048,576 bytes.
BYTES_PER_MB = 1024 * 1024
DEFAULT_LOG_MAX_MB = 10
DEFAULT_LOG_BACKUPS = 5


def notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 up")
    return int(text)


def int_in_range(low: int, high: int) -> Callable[[str], int]:
    """Return an argparse type that accepts a whole number from low to high."""

    def parse(text: str) -> int:
        number = _whole_number(text)
        if number is None or not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        return number

    return parse


def _whole_number(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return int(text)
    except ValueError:
        # int() rejects strings of more than 4300 digits.
        return None


class _HideSecrets(logging.Filter):
    """Replace any secret in a log record with a placeholder, whichever library logged it.

    It covers the message, the traceback and the values of the record's fields,
    because the JSON format writes each of them.
    """

    def __init__(self, secrets_to_hide: list[str]) -> None:
        super().__init__()
        self._secrets = secrets_to_hide

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self._hide(record.getMessage()), None
        # The traceback is formatted here, once, so that every handler writes the hidden text.
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._hide(record.exc_text)
        if record.stack_info:
            record.stack_info = self._hide(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            record.__dict__["fields"] = self._hide_in_value(fields)
        return True

    def _hide(self, text: str) -> str:
        for secret in self._secrets:
            if secret and secret in text:
                text = text.replace(secret, "[token hidden]")
        return text

    def _hide_in_value(self, value: object) -> object:
        """Return a copy with each string hidden, leaving the caller's dict unchanged."""
        if isinstance(value, str):
            return self._hide(value)
        if isinstance(value, Mapping):
            return {self._hide(str(key)): self._hide_in_value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._hide_in_value(item) for item in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        # The JSON format writes any other value with str(), so the secret is hidden in that text.
        return self._hide(str(value))


class _ConsoleSelection(logging.Filter):
    """Pass WARNING and above from every logger, and every level from the named loggers."""

    def __init__(self, logger_names: Sequence[str]) -> None:
        super().__init__()
        # logging.Filter(name) matches the logger and its children ("a.b" passes "a.b.c").
        self._named = [logging.Filter(name) for name in logger_names]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return any(named.filter(record) for named in self._named)


class _JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, then the record's fields.

    Fields come from extra={"fields": {...}} and never replace the keys above.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            for key, value in fields.items():
                entry.setdefault(str(key), value)
        return json.dumps(_json_value(entry), ensure_ascii=False, allow_nan=False)


def _utc_timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_value(value: object) -> object:
    """Return the value with whatever JSON cannot contain turned into its str() text."""
    if isinstance(value, str):
        return _utf8_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        # NaN and infinity have no JSON spelling.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return _utf8_text(str(value))


def _utf8_text(text: str) -> str:
    """Escape the lone surrogates that UTF-8 cannot encode, as \\xNN or \\uNNNN text.

    Python keeps a file name's bytes that are not UTF-8 as surrogates (U+DC80
    to U+DCFF stand for the bytes 0x80 to 0xFF), and a log collector rejects
    a JSON line that contains them.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_utf8_char(char) for char in text)
    return text


def _utf8_char(char: str) -> str:
    if "\udc80" <= char <= "\udcff":
        return f"\\x{ord(char) - 0xDC00:02x}"
    if "\ud800" <= char <= "\udfff":
        return f"\\u{ord(char):04x}"
    return char


class _RotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose file also stays under its maximum size when no backup is kept."""

    def doRollover(self) -> None:
        if self.backupCount > 0:
            super().doRollover()
            return
        # With backupCount 0, Python 3.11's handler reopens the full file for appending on
        # every record, so the file would grow without limit. Empty it instead.
        if self.stream is not None:
            self.stream.seek(0)
            self.stream.truncate()


_TRACEBACK_FORMATTER = logging.Formatter()
_CONSOLE_TEXT_LAYOUT = "%(levelname)s %(name)s: %(message)s"
_FILE_TEXT_LAYOUT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The handlers that the last configure_logging call added to the root logger.
_installed_handlers: list[logging.Handler] = []


def configure_logging(
    *,
    verbose: bool,
    log_file: Path | None,
    secrets_to_hide: list[str],
    log_format: LogFormat = "text",
    log_max_bytes: int = DEFAULT_LOG_MAX_MB * BYTES_PER_MB,
    log_backups: int = DEFAULT_LOG_BACKUPS,
    console_loggers: Sequence[str] = (),
) -> None:
    """Set up the console and log file handlers on the root logger.

    The console shows warnings only, INFO as well from console_loggers and their
    children, and every level with --verbose. The log file gets INFO and above,
    or every level with --verbose. It is rotated when it reaches log_max_bytes,
    keeping log_backups older files (FILE.1 is the newest). log_format "json"
    writes one JSON object per line to both. secrets_to_hide is read at each
    record, so a token added to it later is hidden too. The handlers of an
    earlier call are removed and closed first.
    """
    remove_log_handlers()
    root = logging.getLogger()
    if verbose:
        root.setLevel(logging.DEBUG)
    elif log_file is not None or console_loggers:
        root.setLevel(logging.INFO)
    else:
        root.setLevel(logging.WARNING)
    hide = _HideSecrets(secrets_to_hide)

    console = _console_handler(verbose, console_loggers)
    # A command whose log lines are its output runs for long: its lines carry the time.
    layout = _FILE_TEXT_LAYOUT if console_loggers else _CONSOLE_TEXT_LAYOUT
    console.setFormatter(_formatter(log_format, layout))
    console.addFilter(hide)
    _install(root, console)

    if log_file is not None:
        handler = _file_handler(log_file, log_max_bytes, log_backups)
        handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        handler.setFormatter(_formatter(log_format, _FILE_TEXT_LAYOUT))
        handler.addFilter(hide)
        _install(root, handler)

    # httpcore's debug lines describe every socket operation; they add nothing for a user.
    logging.getLogger("httpcore").setLevel(logging.INFO)
    # httpx logs each request at INFO: with --verbose only, or a night's log file would be
    # all requests and rotate the lines that matter away.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)


def remove_log_handlers() -> None:
    """Remove the handlers that configure_logging added from the root logger, and close them."""
    root = logging.getLogger()
    while _installed_handlers:
        handler = _installed_handlers.pop()
        root.removeHandler(handler)
        handler.close()


def _install(root: logging.Logger, handler: logging.Handler) -> None:
    root.addHandler(handler)
    _installed_handlers.append(handler)


# Pass as `extra` to log a record to the log file only, for a message already printed.
FILE_ONLY = {"file_only": True}


def _not_file_only(record: logging.LogRecord) -> bool:
    return not getattr(record, "file_only", False)


def _console_handler(verbose: bool, console_loggers: Sequence[str]) -> logging.Handler:
    console = logging.StreamHandler(sys.stderr)
    console.addFilter(_not_file_only)
    if verbose:
        console.setLevel(logging.DEBUG)
    elif console_loggers:
        console.setLevel(logging.INFO)
        console.addFilter(_ConsoleSelection(console_loggers))
    else:
        console.setLevel(logging.WARNING)
    return console


def _file_handler(log_file: Path, max_bytes: int, backups: int) -> logging.Handler:
    # Rotation assumes that one process writes the file, because another process would
    # go on writing to the renamed file. Give each scheduled job its own log file.
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        # A file name that is not UTF-8 is written escaped instead of failing the record.
        return _RotatingFileHandler(
            log_file,
            maxBytes=max_bytes,
            backupCount=backups,
            encoding="utf-8",
            errors="backslashreplace",
        )
    except OSError as error:
        raise ConfigError(
            f"The log file {log_file} cannot be written: {error.strerror}."
        ) from error


def _formatter(log_format: LogFormat, text_layout: str) -> logging.Formatter:
    if log_format == "json":
        return _JsonFormatter()
    return logging.Formatter(text_layout)
