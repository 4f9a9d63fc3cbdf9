"""The ghl-fulfill command: the only package that parses arguments, prints and
chooses exit codes.

Exit codes: 0 every order created or skipped as already done; 1 some orders
rejected or failed; 2 usage, configuration or unreadable file; 3 run aborted
(token rejected, interrupted), with the results so far written.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from importer import __version__
from importer.cli.common import (
    BYTES_PER_MB,
    DEFAULT_LOG_BACKUPS,
    DEFAULT_LOG_MAX_MB,
    EXIT_ABORTED,
    FILE_ONLY,
    LOG_FORMATS,
    configure_logging,
    int_in_range,
    remove_log_handlers,
)
from importer.cli.history_command import add_history_command, run_history
from importer.cli.importing import add_import_command, run_import
from importer.cli.report_command import add_report_command, run_report
from importer.cli.sandbox_command import add_sandbox_command, run_sandbox
from importer.cli.templates_command import add_templates_command, run_templates
from importer.cli.watch_command import add_watch_command, run_watch
from importer.errors import ImporterError

logger = logging.getLogger("importer")

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    token_holder: list[str] = []
    try:
        configure_logging(
            verbose=args.verbose,
            log_file=args.log_file,
            secrets_to_hide=token_holder,
            log_format=args.log_format,
            log_max_bytes=args.log_max_mb * BYTES_PER_MB,
            log_backups=args.log_backups,
            # The watcher's line per file is its output, for a person or a log collector.
            console_loggers=("importer.watch",) if args.command == "watch" else (),
        )
        if args.command == "import":
            return run_import(args, token_holder)
        if args.command == "watch":
            return run_watch(args, token_holder)
        if args.command == "templates":
            return run_templates(args, sys.stdout)
        if args.command == "history":
            return run_history(args, sys.stdout)
        if args.command == "report":
            return run_report(args, sys.stdout)
        return run_sandbox(args)
    except ImporterError as error:
        _report_error(f"error: {error}", args.log_format)
        return error.exit_code
    except KeyboardInterrupt:
        print("Stopped. Run the same command again to finish the work.", file=sys.stderr)
        return EXIT_ABORTED
    except BrokenPipeError:
        # The program reading the output (such as head) has exited. Later writes
        # would fail again, so they go nowhere; the results workbook is written.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ABORTED
    except MemoryError:
        _report_error(
            "error: this computer ran out of memory. The file is too large to import at once: "
            "split it into smaller files, or lower max_rows or max_sheet_cells in "
            "ghl-fulfill.toml so that such files are refused early. Orders already sent are "
            "in the ledger and are not sent again.",
            args.log_format,
        )
        return EXIT_ABORTED
    except Exception as error:
        # An unexpected exception is a bug: one line here, the details with --verbose
        # and in the log file.
        file_only = {} if args.verbose else FILE_ONLY
        logger.error("unexpected failure", exc_info=True, extra=file_only)
        print(
            f"error: unexpected failure ({type(error).__name__}: {error}). This is a bug in "
            "ghl-fulfill; run again with --verbose to see the details and please report it.",
            file=sys.stderr,
        )
        return EXIT_ABORTED
    finally:
        # This closes the log file, and keeps handlers from piling up when tests call
        # main several times in one process.
        remove_log_handlers()


def _report_error(message: str, log_format: str) -> None:
    """Print the error and log it to the log file, where a nightly run's reader looks.

    With --log-format json the console gets the error as a JSON line instead.
    """
    fields = {"fields": {"event": "error"}}
    if log_format == "json" and logging.getLogger().handlers:
        logger.error(message, extra=fields)
        return
    print(message, file=sys.stderr)
    logger.error(message, extra={**FILE_ONLY, **fields})


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", "-v", action="store_true", help="log each step and request")
    common.add_argument(
        "--log-file", type=Path, metavar="FILE", help="also write the log to FILE, rotated by size"
    )
    common.add_argument(
        "--log-max-mb",
        type=int_in_range(1, 10_000),
        default=DEFAULT_LOG_MAX_MB,
        metavar="N",
        help=f"rotate the log file when it reaches N MB, from 1 to 10000 ({DEFAULT_LOG_MAX_MB})",
    )
    common.add_argument(
        "--log-backups",
        type=int_in_range(0, 1000),
        default=DEFAULT_LOG_BACKUPS,
        metavar="N",
        help=f"keep N rotated log files, FILE.1 to FILE.N, from 0 to 1000 ({DEFAULT_LOG_BACKUPS})",
    )
    common.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="text, or json for one JSON object per line on the console and in FILE (text)",
    )

    parser = argparse.ArgumentParser(
        prog="ghl-fulfill",
        description="Import shipping exports into HighLevel as order fulfillments.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_import_command(commands, common)
    add_watch_command(commands, common)
    add_templates_command(commands, common)
    add_history_command(commands, common)
    add_report_command(commands, common)
    add_sandbox_command(commands, common)
    return parser
