"""`ghl-fulfill watch`: import the files dropped into a folder, unattended."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from importer.cli.common import (
    EXIT_ABORTED,
    EXIT_OK,
    EXIT_SOME_ORDERS_NOT_DONE,
    EXIT_USAGE,
    FILE_ONLY,
)
from importer.cli.importing import (
    ReceivedSignal,
    StopNotice,
    add_settings_options,
    client_for,
    hide_tokens,
    open_ledger,
    sandbox_if_asked,
    settings_from_args,
    stop_on_signals,
)
from importer.cli.sandbox_command import seconds
from importer.client import HighLevelClient
from importer.config import Settings, require_credentials
from importer.errors import ConfigError, ImporterError, UsageError
from importer.ledger import Ledger
from importer.load.files import check_options
from importer.mapping import Template, find_template, load_templates
from importer.pipeline import FileJob, import_file
from importer.records import FileResult
from importer.stopping import StopRequest
from importer.submit import LedgerRun
from importer.watch import (
    DEFAULT_POLL_SECONDS,
    DEFAULT_SETTLE_SECONDS,
    Destination,
    FileImporter,
    HeldLock,
    Watcher,
    WatchFolders,
    WatchOptions,
    folder_lock,
    printable,
)

logger = logging.getLogger("importer.watch")
# Notices about each file (the customer email setting, columns matched) go to the log file.
_file_notices = logging.getLogger("importer.pipeline")

_WATCH_QUIT = (
    "Stopped at once. A file being imported stays in processing/; start the watcher again "
    "to finish it: nothing already sent is sent twice."
)
_WATCH_STOPPING = (
    "Stopping: no new orders are sent; the ones on their way finish. A file stopped part way "
    "stays in processing/ and is finished when the watcher starts again."
)


def add_watch_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "watch",
        parents=[common],
        help="import the files dropped into a folder",
        description="Import every export dropped into DIR/inbox/. Each file is moved to "
        "processing/ while it is imported, then to done/ (every order created or skipped) or "
        "failed/ (anything rejected, failed or unreadable), with its results workbook beside it.",
    )
    command.add_argument(
        "folder",
        type=Path,
        metavar="DIR",
        help="the watched folder; inbox/, processing/, done/ and failed/ are created in it",
    )
    command.add_argument(
        "--once",
        action="store_true",
        help="import the files waiting in the inbox, then exit (for cron and other schedulers)",
    )
    command.add_argument(
        "--poll",
        type=seconds,
        default=DEFAULT_POLL_SECONDS,
        metavar="SECONDS",
        help=f"how often the inbox is checked (default: {DEFAULT_POLL_SECONDS:g})",
    )
    command.add_argument(
        "--settle",
        type=seconds,
        default=DEFAULT_SETTLE_SECONDS,
        metavar="SECONDS",
        help="how long a file must stay unchanged before it is taken, so that a file still "
        f"being copied is not read half-written (default: {DEFAULT_SETTLE_SECONDS:g})",
    )
    add_settings_options(command)


def run_watch(args: argparse.Namespace, token_holder: list[str]) -> int:
    settings = settings_from_args(args, force=False, dry_run=False)
    templates = load_templates(user_folder=settings.templates_dir)
    check_file_settings(settings, templates)
    folders = WatchFolders.create(args.folder)
    options = WatchOptions(
        once=args.once, poll_seconds=args.poll, settle_seconds=args.settle, log_file=args.log_file
    )
    with (
        folder_lock(folders) as lock,
        sandbox_if_asked(args.sandbox, settings) as settings,
    ):
        require_credentials(settings, dry_run_hint=False)
        hide_tokens(settings, token_holder)
        # A scheduled run prints only its files' lines; the log file gets the rest.
        quiet = FILE_ONLY if args.once else {}
        logger.info("Orders are sent to %s.", settings.base_url, extra=quiet)
        with open_ledger(settings, sandbox=args.sandbox) as ledger:
            assert ledger is not None  # a watcher never runs dry
            watcher = _run_watcher(folders, settings, templates, ledger, lock, options)
    code = _exit_code(watcher, once=args.once)
    _log_end(watcher, code, once=args.once)
    return code


def check_file_settings(settings: Settings, templates: Sequence[Template]) -> None:
    """Check the settings that every file is read with before the watcher starts.

    Raises ConfigError: a template that is not found, or an invalid delimiter,
    encoding, sheet or header row, would otherwise fail each file dropped.
    """
    try:
        if settings.template:
            find_template(settings.template, templates)
        check_options(settings.load_options)
    except UsageError as error:
        raise ConfigError(f"{error}. The watcher did not start.") from None


def _run_watcher(
    folders: WatchFolders,
    settings: Settings,
    templates: Sequence[Template],
    ledger: Ledger,
    lock: HeldLock,
    options: WatchOptions,
) -> Watcher:
    """Run the watcher until it stops, with the stop signals handled, and return it."""
    stop = StopRequest()
    client = client_for(settings)
    if client is not None:
        stop.on_request(client.stop)
    received = ReceivedSignal()
    watcher = Watcher(
        folders,
        ledger,
        _file_importer(settings, templates, client, stop),
        stop,
        options,
        lock=lock,
        stop_cause=lambda: received.name,
    )
    # Quitting at once leaves a file in processing/, which the next start finishes, so a
    # service that is stopped is not failed. A scheduled run reports the file it left.
    quit_code = EXIT_ABORTED if options.once else EXIT_OK
    with stop_on_signals(
        stop,
        _WATCH_STOPPING,
        _WATCH_QUIT,
        announce=_log_stop_notice,
        before_quit=lambda: _log_end(watcher, quit_code, once=options.once, at_once=True),
        quit_code=quit_code,
        received=received,
    ):
        asyncio.run(_watch(watcher, client))
    return watcher


def _log_stop_notice(notice: StopNotice) -> None:
    """Log the message of a stop signal, as a JSON line too with --log-format json."""
    level = logging.INFO if notice.event == "stopping" else logging.WARNING
    logger.log(
        level,
        notice.text,
        extra={"fields": {"event": f"watch_{notice.event}", "signal": notice.signal}},
    )


_WHERE = {
    Destination.DONE: "done",
    Destination.FAILED: "failed",
    Destination.KEPT: "left in processing",
}


def _log_end(watcher: Watcher, code: int, *, once: bool, at_once: bool = False) -> None:
    """Log the watcher's last line: the files it took, by where they went, and its exit code."""
    where = Counter(file.destination for file in watcher.files)
    counts = ", ".join(f"{where[destination]} {_WHERE[destination]}" for destination in Destination)
    fields = {destination.value: where[destination] for destination in Destination}
    logger.info(
        "The watcher %s after %d %s (%s); exit code %d.",
        "quit at once" if at_once else "stopped",
        len(watcher.files),
        "file" if len(watcher.files) == 1 else "files",
        counts,
        code,
        extra={
            "fields": {
                "event": "watch_stopped",
                "files": len(watcher.files),
                **fields,
                "exit_code": code,
                "at_once": at_once,
            },
            "file_only": once,
        },
    )


def _file_importer(
    settings: Settings,
    templates: Sequence[Template],
    client: HighLevelClient | None,
    stop: StopRequest,
) -> FileImporter:
    async def import_one(
        path: Path, results: Path, run: LedgerRun, dropped_path: Path
    ) -> FileResult:
        return await import_file(
            FileJob(path=path, results_path=results, shown_path=dropped_path),
            settings=settings,
            templates=templates,
            client=client,
            notice=_log_file_notice,
            show_progress=False,
            ledger=run,
            stop=stop,
        )

    return import_one


def _log_file_notice(message: str) -> None:
    # The notice names the file, and a name must not start a log line of its own.
    _file_notices.info(printable(message))


async def _watch(watcher: Watcher, client: HighLevelClient | None) -> Watcher:
    try:
        await watcher.run()
    finally:
        if client is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await client.aclose()
    if watcher.stopped_by is not None:
        logger.error(
            "The watcher stopped: %s",
            watcher.stopped_by,
            extra={"fields": {"event": "watch_error", "error": type(watcher.stopped_by).__name__}},
        )
    return watcher


def _exit_code(watcher: Watcher, *, once: bool) -> int:
    """Choose the exit code: a scheduler's run reports its worst file, a service its stop."""
    if isinstance(watcher.stopped_by, ImporterError):
        return watcher.stopped_by.exit_code
    if watcher.stopped_by is not None:
        return EXIT_ABORTED
    if not once:
        # Stopping a service is routine, also inside a file: the next start finishes it.
        return EXIT_OK
    code = EXIT_ABORTED if watcher.left else EXIT_OK
    for file in watcher.files:
        if file.destination is Destination.KEPT:
            code = max(code, EXIT_ABORTED)
        elif file.unreadable:
            code = max(code, EXIT_USAGE)
        elif file.destination is Destination.FAILED:
            code = max(code, EXIT_SOME_ORDERS_NOT_DONE)
    return code
