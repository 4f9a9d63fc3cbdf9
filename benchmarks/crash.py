"""Kill the importer again and again, and check that every order is fulfilled exactly once.

A sandbox of the HighLevel API runs in this process with faults switched on
(latency, server errors, dropped connections, late answers). The importer
runs as a child process on an export of many orders, one package each, and
is killed with SIGKILL at random moments. It is started again on the same
ledger until a run finishes. Then the sandbox's log of created fulfillments
must hold every order once: none lost, none twice.

The orders come from importer.sandbox.synthetic: each ships one of two items
ordered, so a duplicate fulfillment would still fit the order's quantities and
only the importer can prevent it.

    uv run python benchmarks/crash.py            # 1,000 orders, 20 kills
    uv run python benchmarks/crash.py --orders 200 --kills 5

It prints its figures and exits 1 when an order was lost or sent twice.
POSIX only (SIGKILL).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from importer.sandbox import Sandbox  # noqa: E402
from importer.sandbox.faults import FaultPlan, FaultScope  # noqa: E402
from importer.sandbox.synthetic import synthetic_orders, synthetic_seed, write_export  # noqa: E402

LOCATION = "Xk7pQ2mLw9RtY4vB8nZc"
TOKEN = "crash-benchmark-token-3c7e"
# The importer's own pace, five times HighLevel's 100 requests in 10 seconds: a
# 1,000-order run (about 3,000 requests) then takes about a minute, long enough
# for most kills to land while orders are being sent. The sandbox has the same limit.
REQUESTS_PER_10_SECONDS = 500
# Finished runs needed at the most after the kills: faults can leave orders failed,
# and the next run sends them.
MAX_FINISHING_RUNS = 10


@dataclass
class Figures:
    orders: int
    kills: int = 0
    runs: int = 0
    seconds: float = 0.0
    created: int = 0
    duplicates: int = 0
    missing: int = 0
    faults: dict[str, int] | None = None

    def show(self) -> None:
        print(f"orders:                 {self.orders:,}")
        print(f"importer runs:          {self.runs} ({self.kills} killed with SIGKILL)")
        print(f"fulfillments created:   {self.created:,}")
        print(f"orders sent twice:      {self.duplicates}")
        print(f"orders never sent:      {self.missing}")
        print(f"faults injected:        {json.dumps(self.faults or {}, sort_keys=True)}")
        print(f"time:                   {self.seconds:.1f} s")


def write_config(path: Path, state: Path) -> None:
    path.write_text(
        f'state_dir = "{state}"\n'
        f"rate_limit_requests = {REQUESTS_PER_10_SECONDS}\n"
        "rate_limit_seconds = 10\n"
        "concurrency = 16\n"
        # Shorter than the sandbox's held responses, so that those time out.
        "timeout_seconds = 2\n",
        encoding="utf-8",
    )


def faults(seed: int) -> FaultPlan:
    return FaultPlan(
        latency_seconds=0.002,
        latency_max_seconds=0.030,
        error_rate=0.03,
        timeout_rate=0.005,
        timeout_hold_seconds=3.0,
        timeout_scope=FaultScope.CREATE_FULFILLMENT,
        drop_before_rate=0.02,
        drop_after_rate=0.02,
        seed=seed,
    )


def start_import(folder: Path, sandbox: Sandbox, run: int) -> subprocess.Popen[bytes]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GHL_")}
    environment |= {
        "GHL_TOKEN": TOKEN,
        "GHL_LOCATION_ID": LOCATION,
        "GHL_BASE_URL": sandbox.base_url,
    }
    command = [
        sys.executable,
        "-m",
        "importer",
        "import",
        str(folder / "export.csv"),
        "--config",
        str(folder / "ghl-fulfill.toml"),
        "--results",
        str(folder / f"results-{run}.xlsx"),
    ]
    log = (folder / f"run-{run}.log").open("wb")
    return subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)


def run(count: int, kills: int, seed: int, kill_window: tuple[float, float]) -> Figures:
    generator = random.Random(seed)
    figures = Figures(orders=count)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ghl-crash-") as name:
        folder = Path(name)
        orders = synthetic_orders([LOCATION], count)
        write_export(folder / "export.csv", orders)
        write_config(folder / "ghl-fulfill.toml", folder / "state")
        sandbox = Sandbox(
            synthetic_seed(orders),
            tokens={TOKEN: None},
            max_requests=REQUESTS_PER_10_SECONDS,
            faults=faults(seed),
        )
        with sandbox:
            figures.kills, figures.runs = _kill_and_finish(
                folder, sandbox, kills, generator, kill_window
            )
            created = Counter(entry.order_id for entry in sandbox.fulfillment_log())
            figures.faults = {kind.value: count for kind, count in sandbox.fault_counts().items()}
    figures.seconds = time.monotonic() - started
    figures.created = sum(created.values())
    figures.duplicates = sum(1 for times in created.values() if times > 1)
    figures.missing = sum(1 for order in orders if created[order.order_id] == 0)
    return figures


def _kill_and_finish(
    folder: Path,
    sandbox: Sandbox,
    kills: int,
    generator: random.Random,
    kill_window: tuple[float, float],
) -> tuple[int, int]:
    """Kill runs at random moments, then run until one finishes with every order done."""
    runs = killed = 0
    while killed < kills:
        process = start_import(folder, sandbox, runs)
        runs += 1
        after = generator.uniform(*kill_window)
        try:
            process.wait(timeout=after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed += 1
            done = len(sandbox.fulfillment_log())
            print(f"run {runs}: killed after {after:.1f} s; {done} created so far", flush=True)
            continue
        # The run finished before its kill; the next run starts over on the same ledger.
        print(f"run {runs}: finished before its kill (exit {process.returncode})", flush=True)

    for _ in range(MAX_FINISHING_RUNS):
        process = start_import(folder, sandbox, runs)
        runs += 1
        code = process.wait()
        print(f"run {runs}: finished (exit {code})", flush=True)
        if code == 0:
            break
    return killed, runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--kill-after",
        type=float,
        nargs=2,
        default=(0.8, 6.0),
        metavar=("MIN", "MAX"),
        help="seconds after its start at which a run is killed, drawn uniformly",
    )
    args = parser.parse_args()
    figures = run(args.orders, args.kills, args.seed, tuple(args.kill_after))
    figures.show()
    return 1 if figures.duplicates or figures.missing else 0


if __name__ == "__main__":
    sys.exit(main())
