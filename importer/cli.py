"""The ghl-fulfill command: the only module that parses arguments, prints and
chooses exit codes.

Exit codes: 0 every order created or skipped as already done; 1 some orders
rejected or failed; 2 usage, configuration or unreadable file; 3 run aborted
(token rejected, interrupted), with the results so far written.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import dataclasses
import logging
import os
import secrets
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from importer import __version__
from importer.client import HighLevelClient
from importer.config import SANDBOX_SOURCE, Settings, load_settings, require_credentials
from importer.errors import ConfigError, ImporterError, InputFileError, UsageError
from importer.ledger import (
    HEARTBEAT_SECONDS,
    LEDGER_FILE_NAME,
    HistoryLine,
    Ledger,
    default_state_dir,
)
from importer.mapping import (
    REQUIRED_FIELDS,
    TEMPLATE_FIELDS,
    Template,
    find_template,
    load_templates,
    parse_overrides,
)
from importer.pipeline import FileJob, import_file, plural
from importer.records import FileResult, OrderStatus
from importer.sandbox import Sandbox, SandboxSeed, SeedError, load_seed
from importer.sandbox.faults import FaultPlan, plan_from_options
from importer.submit import LedgerRun

logger = logging.getLogger("importer")

EXIT_OK = 0
EXIT_SOME_ORDERS_NOT_DONE = 1
EXIT_USAGE = 2
EXIT_ABORTED = 3
_SHOWN_PROBLEMS = 10


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    token_holder: list[str] = []
    try:
        configure_logging(
            verbose=args.verbose, log_file=args.log_file, secrets_to_hide=token_holder
        )
        if args.command == "import":
            return run_import(args, token_holder)
        if args.command == "templates":
            return run_templates(args, sys.stdout)
        if args.command == "history":
            return run_history(args, sys.stdout)
        return run_sandbox(args)
    except ImporterError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Stopped. Run the same command again to finish the work.", file=sys.stderr)
        return EXIT_ABORTED
    except BrokenPipeError:
        # The program reading the output (such as head) has exited. Later writes
        # would fail again, so they go nowhere; the results workbook is written.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ABORTED
    except Exception as error:
        # An unexpected exception is a bug: one line here, the details with --verbose.
        logger.debug("unexpected failure", exc_info=True)
        print(
            f"error: unexpected failure ({type(error).__name__}: {error}). This is a bug in "
            "ghl-fulfill; run again with --verbose to see the details and please report it.",
            file=sys.stderr,
        )
        return EXIT_ABORTED


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", "-v", action="store_true", help="log each step and request")
    common.add_argument("--log-file", type=Path, metavar="FILE", help="also write the log to FILE")

    parser = argparse.ArgumentParser(
        prog="ghl-fulfill",
        description="Import shipping exports into HighLevel as order fulfillments.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_import_command(commands, common)
    _add_templates_command(commands, common)
    _add_history_command(commands, common)
    _add_sandbox_command(commands, common)
    return parser


def _add_import_command(
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
        "--force",
        action="store_true",
        help="send orders again even when an earlier import created them with these tracking "
        "numbers",
    )
    command.add_argument(
        "--strict-tracking",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="reject rows whose tracking number fails its check digit or belongs to another "
        "carrier (default: warn)",
    )
    command.add_argument(
        "--results", type=Path, metavar="FILE", help="results workbook (default: beside the input)"
    )
    command.add_argument(
        "--notify-customer",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send customers HighLevel's fulfillment email (default: off)",
    )
    command.add_argument("--location-id", metavar="ID", help="HighLevel location (sub-account) ID")
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
        type=_positive_int,
        metavar="N",
        help="row number of the header, as the spreadsheet shows it (default: detected)",
    )


def _add_templates_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "templates",
        parents=[common],
        help="list the column templates, or show one",
        description="List the column templates, or show which headers one reads for each field.",
    )
    command.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    command.add_argument("name", nargs="?", metavar="NAME|PATH", help="template to show")
    command.add_argument("--config", type=Path, metavar="FILE", help="settings file (TOML)")
    command.add_argument(
        "--templates-dir", type=Path, metavar="DIR", help="folder of your own column templates"
    )


def _add_history_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "history",
        parents=[common],
        help="show what earlier imports did, and when",
        description="Show what earlier imports did with each order, newest last.",
    )
    command.add_argument("--order", metavar="ID|NUMBER", help="only this order")
    command.add_argument("--file", type=Path, metavar="PATH", help="only imports of this file")
    command.add_argument(
        "--limit", type=_positive_int, default=200, metavar="N", help="at most N lines (200)"
    )
    command.add_argument("--config", type=Path, metavar="FILE", help="settings file (TOML)")
    command.add_argument("--state-dir", type=Path, metavar="DIR", help="folder of the ledger")


def _add_sandbox_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "sandbox",
        parents=[common],
        help="run the local sandbox of the HighLevel API",
        description="Serve a local stand-in of the HighLevel order API on 127.0.0.1.",
    )
    command.add_argument(
        "--port", type=_port, default=0, help="port to listen on (default: any free port)"
    )
    command.add_argument("--seed", type=Path, metavar="FILE", help="orders to serve (JSON)")
    command.add_argument("--token", help="token the sandbox accepts (default: a random one)")
    faults = command.add_argument_group(
        "faults", "Make the sandbox slow or unreliable, to test how the importer copes."
    )
    faults.add_argument(
        "--latency",
        metavar="MS",
        help="delay each response by MS milliseconds, or by a random time within a range "
        "such as 50-400",
    )
    faults.add_argument(
        "--error-rate",
        metavar="SHARE",
        help="share of requests (0 to 1) that get HTTP 500, 502 or 503 and are not handled, "
        "so nothing is stored",
    )
    faults.add_argument(
        "--drop-rate",
        metavar="SHARE",
        help="share of requests (0 to 1) whose connection is closed without a response: "
        "half before the sandbox handles the request, half after (a create is then stored)",
    )
    faults.add_argument(
        "--timeout-rate",
        metavar="SHARE",
        help="share of requests (0 to 1) that are handled (a create is stored) but get their "
        f"response only after {FaultPlan().timeout_hold_seconds:g} seconds, when the client "
        "has timed out",
    )
    faults.add_argument(
        "--fault-seed",
        type=int,
        metavar="N",
        help="seed the random faults so that a run can be repeated (default: a random seed)",
    )


def run_import(args: argparse.Namespace, token_holder: list[str]) -> int:
    paths = _unique_paths(args.paths)
    if args.results:
        _check_results_path(args.results, paths)

    settings = load_settings(
        config_path=args.config,
        environ=os.environ,
        flags={
            "location_id": args.location_id,
            "notify_customer": args.notify_customer,
            "template": args.template,
            "column_map": parse_overrides(args.map) or None,
            "templates_dir": args.templates_dir,
            "strict_tracking": args.strict_tracking,
            "state_dir": args.state_dir,
            "force": args.force or None,
            "dry_run": args.dry_run or None,
            "delimiter": args.delimiter,
            "encoding": args.encoding,
            "sheet": args.sheet,
            "header_row": args.header_row,
        },
        cwd=Path.cwd(),
    )
    templates = load_templates(user_folder=settings.templates_dir)
    with _sandbox_if_asked(args.sandbox, settings) as settings:
        if not settings.dry_run:
            require_credentials(settings)
        token_holder.append(settings.token)
        jobs = [FileJob(path=path, results_path=args.results) for path in paths]
        show_progress = sys.stderr.isatty() and not args.verbose
        with _open_ledger(settings, sandbox=args.sandbox) as ledger:
            return asyncio.run(_import_all(jobs, settings, templates, show_progress, ledger))


@contextlib.contextmanager
def _open_ledger(settings: Settings, *, sandbox: bool) -> Iterator[Ledger | None]:
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


def run_templates(args: argparse.Namespace, out: TextIO) -> int:
    settings = load_settings(
        config_path=args.config,
        environ={},
        flags={"templates_dir": args.templates_dir},
        cwd=Path.cwd(),
    )
    templates = load_templates(user_folder=settings.templates_dir)
    if args.action == "list":
        if args.name:
            raise UsageError(
                f'"templates list" takes no name; to see one, use: templates show {args.name}'
            )
        print_templates(templates, out)
        return EXIT_OK
    if not args.name:
        raise UsageError("name the template to show, such as: ghl-fulfill templates show generic")
    print_template(find_template(args.name, templates), out)
    return EXIT_OK


def run_history(args: argparse.Namespace, out: TextIO) -> int:
    settings = load_settings(
        config_path=args.config,
        environ=os.environ,
        flags={"state_dir": args.state_dir},
        cwd=Path.cwd(),
    )
    folder = settings.state_dir or default_state_dir()
    if not (folder / LEDGER_FILE_NAME).is_file():
        print(f"No imports are recorded in {folder} yet.", file=out)
        return EXIT_OK
    ledger = Ledger.open(folder)
    try:
        lines = ledger.history(order=args.order, file_path=args.file, limit=args.limit)
    finally:
        ledger.close()
    if not lines:
        print("No recorded import matches.", file=out)
    for line in lines:
        print(_history_text(line), file=out)
    return EXIT_OK


def _history_text(line: HistoryLine) -> str:
    order = line.order_id or "(not found)"
    if line.order_number:
        order += f" (#{line.order_number})"
    parts = [line.at[:19].replace("T", " "), f"run {line.run_id}", f"{line.status:<8}", order]
    if line.tracking_key:
        parts.append(f"tracking {line.tracking_key}")
    if line.fulfillment_id:
        parts.append(f"fulfillment {line.fulfillment_id}")
    if line.file_path:
        parts.append(f"file {line.file_path}")
    text = "  ".join(parts)
    first_line = line.message.splitlines()[0] if line.message else ""
    return f"{text}\n    {first_line}" if first_line else text


def print_templates(templates: Sequence[Template], out: TextIO) -> None:
    """List the templates: name, how sure its header names are, and what it is for."""
    width = max(len(template.name) for template in templates)
    print(f"{'NAME':<{width}}  {'CONFIDENCE':<10}  DESCRIPTION", file=out)
    for template in templates:
        print(
            f"{template.name:<{width}}  {template.confidence:<10}  {template.description}", file=out
        )
    print(
        "\nThe template is picked from the file's headers; force one with --template NAME. "
        "See one with: ghl-fulfill templates show NAME",
        file=out,
    )


def print_template(template: Template, out: TextIO) -> None:
    """Show a template's header names for each field, and its quirks."""
    print(f"{template.name}: {template.description}", file=out)
    print(f"File: {template.path}", file=out)
    print(f"Confidence: {template.confidence}. {template.source}", file=out)
    print("Fields (as --map names them), with the header names tried in order:", file=out)
    for name in TEMPLATE_FIELDS:
        aliases = template.fields.get(name)
        if aliases:
            label = name + (" (required)" if name in REQUIRED_FIELDS else "")
            print(f"  {label:<26} {', '.join(repr(alias) for alias in aliases)}", file=out)
    if template.default_carrier:
        print(f"Carrier of rows that name none: {template.default_carrier}", file=out)
    if template.order_prefixes:
        prefixes = ", ".join(repr(prefix) for prefix in template.order_prefixes)
        print(f"Removed before order numbers: {prefixes}", file=out)


def _unique_paths(paths: list[Path]) -> list[Path]:
    """Drop a file named twice on the command line, so that it is imported once."""
    unique: dict[Path, Path] = {}
    for path in paths:
        key = path.resolve()
        if key in unique:
            _notice(f"{path} is named more than once; it is imported once.")
            continue
        unique[key] = path
    return list(unique.values())


def _check_results_path(results: Path, inputs: list[Path]) -> None:
    """Reject a results path that would overwrite an input or cannot be written."""
    if len(inputs) > 1:
        raise UsageError("--results can only be used with one input file.")
    if results.suffix.lower() != ".xlsx":
        raise UsageError(f"--results {results}: give a file name ending in .xlsx.")
    if results.resolve() == inputs[0].resolve():
        raise UsageError(f"--results {results} is the input file; give another name.")
    if not results.parent.is_dir():
        raise UsageError(
            f"--results {results}: the folder {results.parent} does not exist; create it first."
        )


async def _import_all(
    jobs: list[FileJob],
    settings: Settings,
    templates: Sequence[Template],
    show_progress: bool,
    ledger: Ledger | None = None,
) -> int:
    _cancel_on_sigterm()
    run = None
    if ledger is not None:
        run = LedgerRun(ledger, ledger.start_run("import", dry_run=settings.dry_run))
    heartbeat = asyncio.create_task(_beat(run))
    outcome = "aborted"
    try:
        exit_code = await _import_jobs(jobs, settings, templates, show_progress, run)
        outcome = {EXIT_OK: "done", EXIT_SOME_ORDERS_NOT_DONE: "some orders not done"}.get(
            exit_code, "aborted"
        )
        return exit_code
    finally:
        heartbeat.cancel()
        if run is not None:
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
) -> int:
    exit_code = EXIT_OK
    client = _client(settings)
    try:
        for job in jobs:
            try:
                result = await import_file(
                    job,
                    settings=settings,
                    templates=templates,
                    client=client,
                    notice=_notice,
                    show_progress=show_progress,
                    ledger=run,
                )
            except InputFileError as error:
                print(f"error: {error}", file=sys.stderr)
                exit_code = max(exit_code, EXIT_USAGE)
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


def _cancel_on_sigterm() -> None:
    """Treat SIGTERM (a scheduler stopping the job) like Ctrl-C: stop and write the results."""
    task = asyncio.current_task()
    if task is None:
        return
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not available on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


def _client(settings: Settings) -> HighLevelClient | None:
    if not (settings.token and settings.location_id):
        return None
    return HighLevelClient(
        base_url=settings.base_url,
        token=settings.token,
        token_source=settings.token_source,
        rate_limit=settings.rate_limit,
        retry=settings.retry,
        timeout_seconds=settings.timeout_seconds,
    )


def _exit_code_of(result: FileResult) -> int:
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


def _notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_summary(result: FileResult, out: TextIO) -> None:
    """Print what happened to a file: counts per status and the first problems."""
    print(f"{result.path}: template {result.template} ({result.template_match})", file=out)
    if result.dry_run:
        shown = (OrderStatus.READY, OrderStatus.SKIPPED, OrderStatus.REJECTED, OrderStatus.FAILED)
    else:
        shown = (OrderStatus.CREATED, OrderStatus.SKIPPED, OrderStatus.REJECTED, OrderStatus.FAILED)
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

    not_done = [o for o in result.orders if o.status in (OrderStatus.REJECTED, OrderStatus.FAILED)]
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
        print(f"  ... and {len(not_done) - _SHOWN_PROBLEMS} more in the results workbook", file=out)
    print(f"  Results: {result.results_path}", file=out)


@contextlib.contextmanager
def _sandbox_if_asked(use_sandbox: bool, settings: Settings) -> Iterator[Settings]:
    if not use_sandbox:
        yield settings
        return

    seed = _load_seed(None)
    token = secrets.token_urlsafe(24)
    location_id = settings.location_id
    if location_id not in seed.locations:
        if location_id:
            _notice(f"The sandbox has no location {location_id}; using {seed.locations[0]}.")
        location_id = seed.locations[0]
    with Sandbox(seed, tokens={token: None}) as sandbox:
        _notice(f"Using the built-in sandbox at {sandbox.base_url}; nothing is sent to HighLevel.")
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
        return _positive_int(text)
    return text


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 up")
    return int(text)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def run_sandbox(args: argparse.Namespace) -> int:
    seed = _load_seed(args.seed)
    if args.token is not None and not args.token.strip():
        raise UsageError("--token must not be empty.")
    token = args.token or secrets.token_urlsafe(24)
    try:
        faults = plan_from_options(
            latency=args.latency,
            error_rate=args.error_rate,
            drop_rate=args.drop_rate,
            timeout_rate=args.timeout_rate,
            seed=args.fault_seed,
        )
    except ValueError as error:
        raise UsageError(str(error)) from error
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sandbox = Sandbox(seed, tokens={token: None}, port=args.port, faults=faults)
    try:
        sandbox.start()
    except OSError as error:
        raise ConfigError(
            f"The sandbox cannot listen on port {args.port} ({error.strerror}); "
            "choose another port or leave --port out to take a free one."
        ) from error
    try:
        print(f"Sandbox of the HighLevel API listening on {sandbox.base_url}")
        print("Point ghl-fulfill at it with:")
        print(f"  export GHL_BASE_URL={sandbox.base_url}")
        print(f"  export GHL_TOKEN={token}")
        print(f"  export GHL_LOCATION_ID={seed.locations[0]}")
        if faults.injects_faults:
            print(f"Faults: {faults.describe()}")
        print("Stop it with Ctrl-C.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    finally:
        sandbox.stop()
    if faults.injects_faults:
        counts = sandbox.fault_counts().items()
        print("Faults injected: " + ", ".join(f"{kind.label} {count}" for kind, count in counts))
    return EXIT_OK


def _load_seed(path: Path | None) -> SandboxSeed:
    seed_path = path or default_seed_path()
    try:
        return load_seed(seed_path)
    except SeedError as error:
        raise ConfigError(str(error)) from error


def default_seed_path() -> Path:
    """Find the seed that matches sample_data/: in the installed package, or in the checkout."""
    packaged = Path(__file__).resolve().parent / "sandbox" / "sample_seed.json"
    if packaged.is_file():
        return packaged
    for folder in (Path(__file__).resolve().parents[1], Path.cwd()):
        candidate = folder / "sample_data" / "sandbox_seed.json"
        if candidate.is_file():
            return candidate
    raise ConfigError(
        "The sandbox's sample orders (sample_data/sandbox_seed.json) were not found; "
        "run `ghl-fulfill sandbox --seed FILE` and point the import at it."
    )


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
