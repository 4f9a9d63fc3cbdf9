"""Exit codes, notices, option types and secret-hiding logging, shared by the commands."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from importer.errors import ConfigError

logger = logging.getLogger("importer")

EXIT_OK = 0
EXIT_SOME_ORDERS_NOT_DONE = 1
EXIT_USAGE = 2
EXIT_ABORTED = 3


def notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 up")
    return int(text)


class _HideSecrets(logging.Filter):
    """Replace any secret in a log record with a placeholder, whichever library logged it."""

    def __init__(self, secrets_to_hide: list[str]) -> None:
        super().__init__()
        self._secrets = secrets_to_hide

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self._secrets:
            if secret and secret in message:
                message = message.replace(secret, "[token hidden]")
        record.msg, record.args = message, None
        return True


def configure_logging(*, verbose: bool, log_file: Path | None, secrets_to_hide: list[str]) -> None:
    """Quiet by default: warnings only; --verbose logs each step, --log-file keeps a copy."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose or log_file else logging.WARNING)
    hide = _HideSecrets(secrets_to_hide)

    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console.addFilter(hide)
    root.addHandler(console)

    if log_file is not None:
        try:
            handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as error:
            raise ConfigError(
                f"The log file {log_file} cannot be written: {error.strerror}."
            ) from error
        handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(hide)
        root.addHandler(handler)

    # httpcore's debug lines describe every socket operation; they add nothing for a user.
    logging.getLogger("httpcore").setLevel(logging.INFO)
