"""`ghl-fulfill import`: read the files, send their orders, print what happened."""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import dataclasses
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple, TextIO

from importer.cli.common import (
    EXIT_ABORTED,
    EXIT_OK,
    EXIT_SOME_ORDERS_NOT_DONE,
    EXIT_USAGE,
    notice,
    positive_int,
)
from importer.cli.sandbox_command import load_sandbox_seed
from importer.client import HighLevelClient
from importer.config import SANDBOX_SOURCE, Settings, load_settings, require_credentials
from importer.errors import InputFileError, ResultsNotSavedError, UsageError
from importer.ledger import (
    HEARTBEAT_SECONDS,
    Ledger,
    LedgerError,
    default_state_dir,
)
from importer.mapping import (
    Template,
    load_templates,
    parse_overrides,
)
from importer.pipeline import FileJob, import_file, plural
from importer.records import FileResult, OrderStatus
from importer.report import (
    RESULTS_FORMATS,
    SUMMARY_ENDING,
    csv_paths,
    default_results_path,
    remove_unfinished_files,
)
from importer.sandbox import Sandbox
from importer.stopping import StopRequest
from importer.submit import LedgerRun

_SHOWN_PROBLEMS = 10


def add_import_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "import",
        parents=[common],
        help="import shipping exports",
        description="Create a HighLevel fulfillment for every order in the files.",
    )
    command.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="export file: CSV, XLSX, XLSM, ODS or XLS",
    )
    command.add_argument(
        "--dry-run", action="store_true", help="check everything and report, but send nothing"
    )
    command.add_argument(
        "--force",
        action="store_true",
        help="send orders that the ledger shows created, when their fulfillment was deleted in "
        "HighLevel (one still there is never sent twice)",
    )
    command.add_argument(
        "--results",
        type=Path,
        metavar="FILE",
        help="where to write the results, ending in .xlsx, .csv or .json (default: "
        "<input name>.results.xlsx beside the input)",
    )
    add_results_format_option(command)
    add_settings_options(command)


def add_results_format_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--results-format",
        choices=RESULTS_FORMATS,
        help="results as a workbook (xlsx), three CSV files <name>.summary.csv, .orders.csv "
        "and .rows.csv (csv), or a JSON document (json) (default: xlsx, or the --results suffix)",
    )


def add_settings_options(command: argparse.ArgumentParser) -> None:
    """Add the options that `import` and `watch` share: where to send, and how to read files."""
    command.add_argument(
        "--sandbox",
        action="store_true",
        help="import into the built-in sandbox of the API, seeded with the sample orders",
    )
    command.add_argument(
        "--template",
        metavar="NAME|PATH",
        help="column template name or .toml file (default: detected; see `ghl-fulfill templates`)",
    )
    command.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        help='read a field from the named column, such as --map order_id="Order Number"; '
        "repeat for more fields; FIELD= leaves a field unread",
    )
    command.add_argument(
        "--templates-dir", type=Path, metavar="DIR", help="folder of your own column templates"
    )
    command.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="folder of the ledger that remembers what was sent (default: your data folder)",
    )
    command.add_argument(
        "--strict-tracking",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="reject rows whose tracking number fails its check digit or belongs to another "
        "carrier (default: warn)",
    )
    command.add_argument(
        "--notify-customer",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send customers HighLevel's fulfillment email (default: off)",
    )
    command.add_argument("--location-id", metavar="ID", help="HighLevel location (sub-account) ID")
    command.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="file whose first line is the HighLevel token; it replaces GHL_TOKEN and the "
        "config file's token",
    )
    command.add_argument("--config", type=Path, metavar="FILE", help="settings file (TOML)")
    command.add_argument(
        "--delimiter",
        type=_delimiter,
        metavar="CHAR",
        help='CSV delimiter: "," ";" "|" or "tab" (default: detected)',
    )
    command.add_argument(
        "--encoding",
        type=_encoding,
        metavar="NAME",
        help="text encoding of a CSV file, such as utf-8 or cp1252 (default: detected)",
    )
    command.add_argument(
        "--sheet",
        type=_sheet,
        metavar="NAME|N",
        help="workbook sheet by name, or by position counting from 1 (default: the first "
        "sheet with a matching header)",
    )
    command.add_argument(
        "--header-row",
        type=positive_int,
        metavar="N",
        help="row number of the header, as the spreadsheet shows it (default: detected)",
    )


def run_import(args: argparse.Namespace, token_holder: list[str]) -> int:
    paths = _unique_paths(args.paths)
    results_format = results_format_of(args.results, args.results_format)
    if args.results:
        _check_results_path(args.results, paths)

    settings = settings_from_args(args, force=args.force, dry_run=args.dry_run)
    templates = load_templates(user_folder=settings.templates_dir)
    with sandbox_if_asked(args.sandbox, settings) as settings:
        if not settings.dry_run:
            require_credentials(settings)
        hide_tokens(settings, token_holder)
        jobs = [
            FileJob(
                path=path, results_path=args.results or default_results_path(path, results_format)
            )
            for path in paths
        ]
        show_progress = sys.stderr.isatty() and not args.verbose
        stop = StopRequest()
        with (
            open_ledger(settings, sandbox=args.sandbox) as ledger,
            stop_on_signals(stop, _IMPORT_STOPPING),
        ):
            return asyncio.run(_import_all(jobs, settings, templates, show_progress, ledger, stop))


def settings_from_args(args: argparse.Namespace, *, force: bool, dry_run: bool) -> Settings:
    """Load the settings, with the command's options above the environment and config file."""
    return load_settings(
        config_path=args.config,
        environ=os.environ,
        flags={
            "location_id": args.location_id,
            "token_file": args.token_file,
            "notify_customer": args.notify_customer,
            "template": args.template,
            "column_map": parse_overrides(args.map) or None,
            "templates_dir": args.templates_dir,
            "strict_tracking": args.strict_tracking,
            "state_dir": args.state_dir,
            "force": force or None,
            "dry_run": dry_run or None,
            "delimiter": args.delimiter,
            "encoding": args.encoding,
            "sheet": args.sheet,
            "header_row": args.header_row,
        },
        cwd=Path.cwd(),
    )


def hide_tokens(settings: Settings, token_holder: list[str]) -> None:
    """Give the log's secret filter every token of the run."""
    token_holder.append(settings.token)
    token_holder.extend(credential.token for credential in settings.location_tokens.values())


_IMPORT_STOPPING = (
    "Stopping: no new orders are sent; the ones on their way finish and the results are written."
)


class StopNotice(NamedTuple):
    """A message that a stop signal prompts."""

    text: str
    event: str  # "stopping" for the first signal, "quit" for a later one
    signal: str  # the signal as the user sent it: "Ctrl-C", "SIGTERM" or "SIGHUP"


# Writes a StopNotice. It runs on a thread of its own, never inside the signal handler,
# so it may log: a handler that logged could reenter a stream that was being written.
StopAnnouncer = Callable[[StopNotice], None]


@dataclasses.dataclass
class ReceivedSignal:
    """The first stop signal a run received, as the user sent it; "" before one arrives."""

    name: str = ""


@contextlib.contextmanager
def stop_on_signals(
    stop: StopRequest,
    stopping: str,
    quit_at_once: str = "",
    *,
    announce: StopAnnouncer | None = None,
    before_quit: Callable[[], None] | None = None,
    quit_code: int = EXIT_ABORTED,
    received: ReceivedSignal | None = None,
) -> Iterator[None]:
    """Stop gracefully on the first Ctrl-C, SIGTERM or SIGHUP, and at once on a later one.

    The first lets the requests on their way finish and writes the results;
    a later one exits on the spot with `quit_code`, after `quit_at_once` and
    `before_quit` (given at most _QUIT_GRACE_SECONDS). `stopping` is the
    message for the first. `announce` writes both messages, to stderr as
    plain text by default. `received` gets the first signal's name. Either
    way the ledger records what was sent, so running the file again sends
    only what is missing.

    A signal within a second of the first counts as the same one: a service
    manager and a wrapper such as `uv run` may both send SIGTERM for one stop.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    write = announce or _say_notice
    first_at: list[float] = []
    quitting: list[bool] = []

    def handle(number: int, frame: object) -> None:
        if quitting:
            os._exit(quit_code)  # a third signal while the last lines are written
        if first_at and time.monotonic() - first_at[0] < _SAME_STOP_SECONDS:
            return
        name = _signal_name(number)
        if stop.requested:
            quitting.append(True)
            notice = StopNotice(quit_at_once or _IMPORT_QUIT, "quit", name)
            _quit_soon(write, notice, before_quit, quit_code)
            return
        first_at.append(time.monotonic())
        if received is not None:
            received.name = name
        again = "Press Ctrl-C again" if number == signal.SIGINT else f"Send {name} again"
        notice = StopNotice(f"{stopping} {again} to quit at once.", "stopping", name)
        if announce is None:
            _say_notice(notice)
        else:
            _run_aside(announce, notice)
        stop.request()

    previous = {number: signal.signal(number, handle) for number in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_SAME_STOP_SECONDS = 1.0
# How long the last messages may take after a later signal before the process exits anyway,
# so that a stuck log file cannot keep it running.
_QUIT_GRACE_SECONDS = 2.0
_IMPORT_QUIT = (
    "Stopped at once; the results workbook was not written. Run the file again "
    "to finish: nothing already sent is sent twice."
)


def _signal_name(number: int) -> str:
    if number == signal.SIGINT:
        return "Ctrl-C"
    return signal.Signals(number).name


def _run_aside(write: StopAnnouncer, notice: StopNotice) -> None:
    # Not a daemon thread: the process waits for the message before it exits.
    threading.Thread(target=write, args=(notice,)).start()


def _quit_soon(
    write: StopAnnouncer, notice: StopNotice, before_quit: Callable[[], None] | None, code: int
) -> None:
    """Write the last messages on another thread, then exit with `code`, whatever they do."""

    def quit_now() -> None:
        try:
            write(notice)
            if before_quit is not None:
                before_quit()
        finally:
            # A results file cut off half way is of no use, and would stay hidden beside the input.
            remove_unfinished_files()
            os._exit(code)

    deadline = threading.Timer(_QUIT_GRACE_SECONDS, os._exit, (code,))
    deadline.daemon = True
    deadline.start()
    threading.Thread(target=quit_now, daemon=True).start()


def _say_notice(notice: StopNotice) -> None:
    _say_now(notice.text)


def _say_now(message: str) -> None:
    """Write to stderr without Python's buffered streams, which the main thread may be using."""
    with contextlib.suppress(OSError, ValueError):
        os.write(sys.stderr.fileno(), (message + "\n").encode("utf-8", "replace"))


@contextlib.contextmanager
def open_ledger(settings: Settings, *, sandbox: bool) -> Iterator[Ledger | None]:
    """Open the ledger for a run that sends; a dry run neither needs nor changes it.

    The built-in sandbox starts empty on every run, so unless a state folder is
    named its runs use a ledger of their own that ends with the run: the
    user's ledger must not claim that sandbox orders were fulfilled in HighLevel.
    """
    if settings.dry_run:
        yield None
        return
    with contextlib.ExitStack() as stack:
        folder = settings.state_dir
        if folder is None and sandbox:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ghl-sandbox-")))
        ledger = Ledger.open(folder or default_state_dir())
        stack.callback(ledger.close)
        yield ledger


def _unique_paths(paths: list[Path]) -> list[Path]:
    """Drop a file named twice on the command line, so that it is imported once."""
    unique: dict[Path, Path] = {}
    for path in paths:
        key = path.resolve()
        if key in unique:
            notice(f"{path} is named more than once; it is imported once.")
            continue
        unique[key] = path
    return list(unique.values())


def _check_results_path(results: Path, inputs: list[Path]) -> None:
    """Reject a results path that would overwrite an input or cannot be written."""
    if len(inputs) > 1:
        raise UsageError("--results can only be used with one input file.")
    # A CSV results path names the three files' stem, and no file itself.
    written = csv_paths(results) if results.suffix.lower() == ".csv" else ()
    for path in (results, *written):
        if path.resolve() == inputs[0].resolve():
            raise UsageError(
                f"--results {results} names the input file {path}, which must not be "
                "replaced; give another name for the results."
            )
    if results.parent.exists() and not results.parent.is_dir():
        raise UsageError(
            f"--results {results}: {results.parent} is a file, not a folder; "
            "give a path in a folder."
        )
    if not results.parent.is_dir():
        raise UsageError(
            f"--results {results}: the folder {results.parent} does not exist; create it first."
        )


def results_format_of(results: Path | None, requested: str | None) -> str:
    """Return the results format: the one requested, else the --results suffix, else xlsx.

    Raises UsageError when the --results suffix is not a results format or
    does not match --results-format.
    """
    if results is None:
        return requested or "xlsx"
    suffix = results.suffix.lower().removeprefix(".")
    if suffix not in RESULTS_FORMATS:
        raise UsageError(f"--results {results}: give a file name ending in .xlsx, .csv or .json.")
    if requested is not None and suffix != requested:
        raise UsageError(
            f"--results {results} does not end in .{requested}, the --results-format given; "
            f"name the file {results.with_suffix('.' + requested).name} or leave out "
            "--results-format."
        )
    return suffix


async def _import_all(
    jobs: list[FileJob],
    settings: Settings,
    templates: Sequence[Template],
    show_progress: bool,
    ledger: Ledger | None = None,
    stop: StopRequest | None = None,
) -> int:
    stop = stop or StopRequest()
    run = None
    if ledger is not None:
        run = LedgerRun(ledger, ledger.start_run("import", dry_run=settings.dry_run))
    heartbeat = asyncio.create_task(_beat(run))
    outcome = "aborted"
    try:
        exit_code = await _import_jobs(jobs, settings, templates, show_progress, run, stop)
        outcome = {EXIT_OK: "done", EXIT_SOME_ORDERS_NOT_DONE: "some orders not done"}.get(
            exit_code, "aborted"
        )
        return exit_code
    finally:
        heartbeat.cancel()
        if run is not None:
            # A ledger that failed during the run has reported it already.
            with contextlib.suppress(LedgerError):
                run.ledger.finish_run(run.run_id, outcome)


async def _beat(run: LedgerRun | None) -> None:
    """Tell other imports sharing the ledger that this run is alive."""
    if run is None:
        return
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        run.ledger.heartbeat(run.run_id)


async def _import_jobs(
    jobs: list[FileJob],
    settings: Settings,
    templates: Sequence[Template],
    show_progress: bool,
    run: LedgerRun | None,
    stop: StopRequest,
) -> int:
    exit_code = EXIT_OK
    client = client_for(settings)
    if client is not None:
        stop.on_request(client.stop)
    try:
        for job in jobs:
            if stop.requested:
                print(f"{job.path}: not imported, because the import was stopped.", file=sys.stderr)
                exit_code = EXIT_ABORTED
                continue
            try:
                result = await import_file(
                    job,
                    settings=settings,
                    templates=templates,
                    client=client,
                    notice=notice,
                    show_progress=show_progress,
                    ledger=run,
                    stop=stop,
                )
            except InputFileError as error:
                print(f"error: {error}", file=sys.stderr)
                exit_code = max(exit_code, EXIT_USAGE)
                continue
            except ResultsNotSavedError as error:
                # The orders were sent: the user needs the summary of what happened to them.
                if isinstance(error.result, FileResult):
                    print_summary(error.result, sys.stdout)
                print(f"error: {error}", file=sys.stderr)
                exit_code = max(exit_code, EXIT_ABORTED)
                continue

            print_summary(result, sys.stdout)
            if result.stopped_reason:
                print(f"error: {result.stopped_reason}", file=sys.stderr)
                return EXIT_ABORTED
            exit_code = max(exit_code, _exit_code_of(result))
    except asyncio.CancelledError:
        # SIGTERM arrived between files or while a file was being read,
        # before any order of it was sent.
        print("error: the import was stopped before it finished.", file=sys.stderr)
        return EXIT_ABORTED
    finally:
        if client is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await client.aclose()
    return exit_code


def client_for(settings: Settings) -> HighLevelClient | None:
    if not settings.has_token:
        return None
    return HighLevelClient(
        base_url=settings.base_url,
        token=settings.token,
        token_source=settings.token_source,
        location_tokens=settings.location_tokens,
        rate_limit=settings.rate_limit,
        retry=settings.retry,
        timeout_seconds=settings.timeout_seconds,
    )


def _exit_code_of(result: FileResult) -> int:
    if result.count(OrderStatus.DEFERRED):
        return EXIT_ABORTED
    if result.count(OrderStatus.REJECTED) or result.count(OrderStatus.FAILED):
        return EXIT_SOME_ORDERS_NOT_DONE
    if _rows_without_order(result):
        return EXIT_SOME_ORDERS_NOT_DONE
    return EXIT_OK


def _rows_without_order(result: FileResult) -> list[int]:
    """Rows rejected before they could join an order: their order ID is missing."""
    return [
        row.number
        for row in result.rows
        if not row.order_id and row.status == OrderStatus.REJECTED.value
    ]


def print_summary(result: FileResult, out: TextIO) -> None:
    """Print what happened to a file: counts per status and the first problems."""
    print(f"{result.path}: template {result.template} ({result.template_match})", file=out)
    shown: tuple[OrderStatus, ...]
    if result.dry_run:
        shown = (OrderStatus.READY, OrderStatus.SKIPPED, OrderStatus.REJECTED, OrderStatus.FAILED)
    else:
        shown = (OrderStatus.CREATED, OrderStatus.SKIPPED, OrderStatus.REJECTED, OrderStatus.FAILED)
    if result.count(OrderStatus.DEFERRED):
        shown += (OrderStatus.DEFERRED,)
    counts = [f"{result.count(status)} {status.value}" for status in shown]
    if not result.orders:
        print("  no orders found: the file has no data rows with an order", file=out)
    else:
        print(f"  {plural(len(result.orders), 'order')}: {', '.join(counts)}", file=out)
    for note in result.notes[:_SHOWN_PROBLEMS]:
        print(f"  note: {note}", file=out)
    emailed = sum(
        1
        for order in result.orders
        if order.status is OrderStatus.CREATED and order.notify_customer
    )
    if emailed:
        print(f"  {plural(emailed, 'customer')} emailed by HighLevel", file=out)

    # Failed orders first: some may have been created, and the user must see them.
    listed_first = (OrderStatus.FAILED, OrderStatus.REJECTED, OrderStatus.DEFERRED)
    not_done = sorted(
        (order for order in result.orders if order.status in listed_first),
        key=lambda order: listed_first.index(order.status),
    )
    for order in not_done[:_SHOWN_PROBLEMS]:
        first_line = order.message.splitlines()[0] if order.message else ""
        print(
            f"  {order.status.value:<8} {order.order_id or order.order_number or '(no order ID)'}: "
            f"{first_line}",
            file=out,
        )
    orphans = _rows_without_order(result)
    if orphans:
        numbers = ", ".join(str(number) for number in orphans[:_SHOWN_PROBLEMS])
        hidden = len(orphans) - _SHOWN_PROBLEMS
        more = f" and {hidden} more" if hidden > 0 else ""
        label = "row" if len(orphans) == 1 else "rows"
        print(f"  rejected {label} without an order ID: {numbers}{more}", file=out)
    if len(not_done) > _SHOWN_PROBLEMS:
        print(f"  ... and {len(not_done) - _SHOWN_PROBLEMS} more in the results", file=out)
    if result.results_path is None:
        print("  Results: not saved (see the error below)", file=out)
    else:
        print(f"  Results: {_results_files_text(result.results_path)}", file=out)


def _results_files_text(results_path: Path) -> str:
    """Name every results file written: for CSV, the orders and rows files beside the summary."""
    if not results_path.name.endswith(SUMMARY_ENDING):
        return str(results_path)
    stem_path = results_path.with_name(results_path.name.removesuffix(SUMMARY_ENDING) + ".csv")
    return ", ".join(str(path) for path in csv_paths(stem_path))


@contextlib.contextmanager
def sandbox_if_asked(use_sandbox: bool, settings: Settings) -> Iterator[Settings]:
    if not use_sandbox:
        yield settings
        return

    seed = load_sandbox_seed(None)
    token = secrets.token_urlsafe(24)
    location_id = settings.location_id
    if location_id not in seed.locations:
        if location_id:
            notice(f"The sandbox has no location {location_id}; using {seed.locations[0]}.")
        location_id = seed.locations[0]
    with Sandbox(seed, tokens={token: None}) as sandbox:
        notice(f"Using the built-in sandbox at {sandbox.base_url}; nothing is sent to HighLevel.")
        yield dataclasses.replace(
            settings,
            base_url=sandbox.base_url,
            token=token,
            token_source=SANDBOX_SOURCE,
            location_id=location_id,
            location_source="the sandbox's seed",
        )


def _delimiter(text: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delimiter = named.get(text.lower(), text)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise argparse.ArgumentTypeError(f"{text!r} is not one delimiter character")
    return delimiter


def _encoding(text: str) -> str:
    try:
        return codecs.lookup(text).name
    except LookupError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a known text encoding; try utf-8, utf-16 or cp1252"
        ) from None


def _sheet(text: str) -> str | int:
    if text.isdigit():
        return positive_int(text)
    return text
