"""`ghl-fulfill sandbox`: serve the local stand-in of the HighLevel API on its own."""

from __future__ import annotations

import argparse
import contextlib
import secrets
import signal
import threading
from pathlib import Path

from importer.cli.common import (
    EXIT_OK,
    positive_int,
)
from importer.errors import ConfigError, UsageError
from importer.sandbox import Sandbox, SandboxSeed, SeedError, load_seed
from importer.sandbox.faults import MALFORMED_KINDS, FaultPlan, plan_from_options


def add_sandbox_command(
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
    limits = command.add_argument_group(
        "limits", "HighLevel's rate limits, per token and location (default: HighLevel's own)."
    )
    limits.add_argument(
        "--max-requests",
        type=positive_int,
        default=100,
        metavar="N",
        help="requests allowed in any window of --interval (default: 100)",
    )
    limits.add_argument(
        "--interval",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="length of the rate limit's window (default: 10)",
    )
    limits.add_argument(
        "--daily-limit",
        type=positive_int,
        default=200_000,
        metavar="N",
        help="requests allowed per UTC day (default: 200000)",
    )
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
        "--malformed-rate",
        metavar="SHARE",
        help="share of requests (0 to 1) that are handled (a create is stored) but get a "
        "malformed response, such as an HTML page, cut-off JSON or a huge body",
    )
    faults.add_argument(
        "--malformed",
        metavar="KINDS",
        help="the malformed responses that --malformed-rate draws from, separated by commas "
        f"(default: all of {', '.join(kind.value for kind in MALFORMED_KINDS)})",
    )
    faults.add_argument(
        "--fault-seed",
        type=int,
        metavar="N",
        help="seed the random faults so that a run can be repeated (default: a random seed)",
    )


def seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds above 0 and up to 3600"
        )
    return seconds


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def run_sandbox(args: argparse.Namespace) -> int:
    seed = load_sandbox_seed(args.seed)
    if args.token is not None and not args.token.strip():
        raise UsageError("--token must not be empty.")
    token = args.token or secrets.token_urlsafe(24)
    try:
        faults = plan_from_options(
            latency=args.latency,
            error_rate=args.error_rate,
            drop_rate=args.drop_rate,
            timeout_rate=args.timeout_rate,
            malformed_rate=args.malformed_rate,
            malformed=args.malformed,
            seed=args.fault_seed,
        )
    except ValueError as error:
        raise UsageError(str(error)) from error
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sandbox = Sandbox(
        seed,
        tokens={token: None},
        port=args.port,
        faults=faults,
        max_requests=args.max_requests,
        interval_seconds=args.interval,
        daily_limit=args.daily_limit,
    )
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
        # Kinds never injected are left out, so that the line of thirteen kinds stays short.
        counts = [(kind, count) for kind, count in sandbox.fault_counts().items() if count]
        listed = ", ".join(f"{kind.label} {count}" for kind, count in counts) or "none"
        print(f"Faults injected: {listed}")
    return EXIT_OK


def load_sandbox_seed(path: Path | None) -> SandboxSeed:
    seed_path = path or default_seed_path()
    try:
        return load_seed(seed_path)
    except SeedError as error:
        raise ConfigError(str(error)) from error


def default_seed_path() -> Path:
    """Find the seed that matches sample_data/: in the installed package, or in the checkout."""
    packaged = Path(__file__).resolve().parents[1] / "sandbox" / "sample_seed.json"
    if packaged.is_file():
        return packaged
    for folder in (Path(__file__).resolve().parents[2], Path.cwd()):
        candidate = folder / "sample_data" / "sandbox_seed.json"
        if candidate.is_file():
            return candidate
    raise ConfigError(
        "The sandbox's sample orders (sample_data/sandbox_seed.json) were not found; "
        "run `ghl-fulfill sandbox --seed FILE` and point the import at it."
    )
