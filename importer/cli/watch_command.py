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
    add_settings_options,
    client_for,
    hide_tokens,
    open_ledger,
    sandbox_if_asked,
    settings_from_args,
    stop_on_signals,
)
from importer.cli.sandbox_command import seconds
from importer.config import Settings, require_credentials
from importer.errors import ImporterError
from importer.ledger import Ledger
from importer.mapping import Template, load_templates
from importer.pipeline import FileJob, import_file
from importer.records import FileResult
from importer.stopping import StopRequest
from importer.submit import LedgerRun
from importer.watch import (
    DEFAULT_POLL_SECONDS,
    DEFAULT_SETTLE_SECONDS,
    Destination,
    Watcher,
    WatchFolders,
    WatchOptions,
    folder_lock,
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
    folders = WatchFolders.create(args.folder)
    options = WatchOptions(once=args.once, poll_seconds=args.poll, settle_seconds=args.settle)
    stop = StopRequest()
    with (
        folder_lock(folders),
        sandbox_if_asked(args.sandbox, settings) as settings,
    ):
        require_credentials(settings, dry_run_hint=False)
        hide_tokens(settings, token_holder)
        # A scheduled run prints only its files' lines; the log file gets the rest.
        quiet = FILE_ONLY if args.once else {}
        logger.info("Orders are sent to %s.", settings.base_url, extra=quiet)
        with (
            open_ledger(settings, sandbox=args.sandbox) as ledger,
            stop_on_signals(stop, _WATCH_STOPPING, _WATCH_QUIT),
        ):
            assert ledger is not None  # a watcher never runs dry
            watcher = asyncio.run(_watch(folders, settings, templates, ledger, stop, options))
    code = _exit_code(watcher, once=args.once)
    _log_end(watcher, code, once=args.once)
    return code


_WHERE = {
    Destination.DONE: "done",
    Destination.FAILED: "failed",
    Destination.KEPT: "left in processing",
}


def _log_end(watcher: Watcher, code: int, *, once: bool) -> None:
    """Log the watcher's last line: the files it took, by where they went, and its exit code."""
    where = Counter(file.destination for file in watcher.files)
    counts = ", ".join(f"{where[destination]} {_WHERE[destination]}" for destination in Destination)
    fields = {destination.value: where[destination] for destination in Destination}
    logger.info(
        "The watcher stopped after %d %s (%s); exit code %d.",
        len(watcher.files),
        "file" if len(watcher.files) == 1 else "files",
        counts,
        code,
        extra={
            "fields": {"event": "watch_stopped", "files": len(watcher.files), **fields},
            "file_only": once,
        },
    )


async def _watch(
    folders: WatchFolders,
    settings: Settings,
    templates: Sequence[Template],
    ledger: Ledger,
    stop: StopRequest,
    options: WatchOptions,
) -> Watcher:
    client = client_for(settings)
    if client is not None:
        stop.on_request(client.stop)

    async def import_one(path: Path, results: Path, run: LedgerRun) -> FileResult:
        return await import_file(
            FileJob(path=path, results_path=results),
            settings=settings,
            templates=templates,
            client=client,
            notice=_file_notices.info,
            show_progress=False,
            ledger=run,
            stop=stop,
        )

    watcher = Watcher(folders, ledger, import_one, stop, options)
    try:
        await watcher.run()
    finally:
        if client is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await client.aclose()
    if watcher.stopped_by is not None:
        logger.error("The watcher stopped: %s", watcher.stopped_by)
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
