"""Measure how close the importer runs to HighLevel's rate limit, alone and shared.

The sandbox runs as its own process on loopback, with HighLevel's 100 requests
per window and a random latency of 50 to 300 ms per request. Its window is
shorter than HighLevel's 10 seconds to keep the runs short. The importer learns
it from the X-RateLimit headers, and every rate is given as a share of the limit.
The importer runs in this process, on a CSV export and a ledger of its own, so
that its CPU time and memory can be measured.

Scenarios:
  one     one location, 2,000 orders
  shared  the same, while a second client of the same token spends 30% of the
          location's limit
  many    50 locations of 200 orders each, all at once

    uv run python benchmarks/submit.py                  # all three
    uv run python benchmarks/submit.py --scenario one --orders 500

A rate counts the requests that were not answered 429, from one window after
the first request to the last one: the first window's burst would flatter it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from importer.client import HighLevelClient  # noqa: E402
from importer.config import Settings  # noqa: E402
from importer.ledger import Ledger  # noqa: E402
from importer.mapping import load_templates  # noqa: E402
from importer.pipeline import FileJob, import_file  # noqa: E402
from importer.records import OrderStatus  # noqa: E402
from importer.sandbox.synthetic import (  # noqa: E402
    SyntheticOrder,
    location_ids,
    seed_data,
    synthetic_orders,
    write_export,
)
from importer.submit import LedgerRun  # noqa: E402

TOKEN = "submit-benchmark-token"
MAX_REQUESTS = 100
LATENCY = "50-300"
OTHER_SHARE = 0.3


@dataclass
class Scenario:
    name: str
    locations: int
    orders_per_location: int
    interval: float
    concurrency: int
    second_client: bool = False


@dataclass
class Figures:
    scenario: Scenario
    orders: int = 0
    created: int = 0
    not_created: int = 0
    requests: int = 0
    limited: int = 0
    rate: float = 0.0
    limit: float = 0.0
    seconds: float = 0.0
    cpu_ms_per_request: float = 0.0
    peak_rss_mb: float = 0.0
    other_rate: float = 0.0
    other_limited: int = 0
    notes: list[str] = field(default_factory=list)

    def show(self) -> None:
        share = self.rate / self.limit if self.limit else 0.0
        print(
            f"scenario {self.scenario.name}: {self.scenario.locations} location(s) x "
            f"{self.scenario.orders_per_location} orders, window {self.scenario.interval:g} s, "
            f"concurrency {self.scenario.concurrency} per location"
        )
        print(
            f"  orders created:          {self.created:,} of {self.orders:,} "
            f"({self.not_created} not created)"
        )
        print(
            f"  requests:                {self.requests:,}, answered 429: {self.limited} "
            f"({self.limited / max(self.requests, 1):.2%})"
        )
        print(f"  sustained rate:          {self.rate:.1f} requests/s")
        print(f"  limit available to it:   {self.limit:.1f} requests/s")
        print(f"  share of that limit:     {share:.1%}")
        if self.scenario.second_client:
            print(
                f"  second client:           {self.other_rate:.1f} requests/s, "
                f"answered 429: {self.other_limited}"
            )
        print(f"  time:                    {self.seconds:.1f} s")
        print(f"  client CPU per request:  {self.cpu_ms_per_request:.2f} ms")
        print(f"  peak memory (RSS):       {self.peak_rss_mb:.0f} MB")
        for note in self.notes:
            print(f"  note: {note}")


class Responses:
    """Record when each request was sent and the status of its response."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, int]] = []

    def __call__(self, sent_at: float, status: int) -> None:
        self.sent.append((sent_at, status))


def start_sandbox(
    folder: Path, orders: list[SyntheticOrder], interval: float
) -> tuple[subprocess.Popen[str], str]:
    seed = folder / "seed.json"
    seed.write_text(json.dumps(seed_data(orders)), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "importer",
        "sandbox",
        "--seed",
        str(seed),
        "--token",
        TOKEN,
        "--max-requests",
        str(MAX_REQUESTS),
        "--interval",
        str(interval),
        "--latency",
        LATENCY,
    ]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    base_url = process.stdout.readline().split()[-1]
    return process, base_url


def start_second_client(
    base_url: str, order: SyntheticOrder, interval: float, folder: Path
) -> subprocess.Popen[str]:
    rate = OTHER_SHARE * MAX_REQUESTS / interval
    command = [
        sys.executable,
        __file__,
        "--second-client",
        base_url,
        order.location_id,
        order.order_id,
        str(rate),
        str(folder / "second.json"),
    ]
    return subprocess.Popen(command, cwd=PROJECT, text=True)


def second_client(base_url: str, location_id: str, order_id: str, rate: float, out: str) -> None:
    """Read one order at an even pace until stopped, then write how it went.

    Several threads share the pace, because one request takes up to 300 ms
    and the pace is faster than one thread could keep.
    """
    import signal
    import threading

    headers = {"Authorization": f"Bearer {TOKEN}", "Version": "2021-07-28"}
    params = {"altId": location_id, "altType": "location"}
    answered: list[tuple[float, int]] = []
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    started = time.monotonic()
    threads = 8

    def pace(offset: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            number = offset
            while not stopping.is_set():
                time.sleep(max(0.0, started + number / rate - time.monotonic()))
                response = client.get(f"/payments/orders/{order_id}", params=params)
                answered.append((time.monotonic(), response.status_code))
                number += threads

    workers = [threading.Thread(target=pace, args=(offset,)) for offset in range(threads)]
    for worker in workers:
        worker.start()
    stopping.wait()
    for worker in workers:
        worker.join()
    Path(out).write_text(json.dumps(answered), encoding="utf-8")


def sustained_rate(sent: list[tuple[float, int]], interval: float) -> float:
    """Count requests without a 429 response per second, from one window after the first."""
    times = sorted(at for at, status in sent if status != 429)
    if len(times) < 2:
        return 0.0
    start = times[0] + interval
    counted = [at for at in times if at >= start]
    span = times[-1] - start
    return len(counted) / span if span > 0 else 0.0


async def run_import(
    export: Path, folder: Path, base_url: str, scenario: Scenario, responses: Responses
) -> tuple[int, int, int]:
    settings = Settings(
        token=TOKEN,
        token_source="the benchmark",
        base_url=base_url,
        concurrency=scenario.concurrency,
        daily_reserve=0,
    )
    ledger = Ledger.open(folder / "state")
    run = LedgerRun(ledger, ledger.start_run("import", dry_run=False))
    client = HighLevelClient(
        base_url=base_url, token=TOKEN, token_source="the benchmark", observer=responses
    )
    async with client:
        result = await import_file(
            FileJob(path=export, results_path=folder / "results.xlsx"),
            settings=settings,
            templates=load_templates(),
            client=client,
            notice=lambda _: None,
            show_progress=False,
            ledger=run,
        )
    ledger.close()
    created = result.count(OrderStatus.CREATED)
    return len(result.orders), created, len(result.orders) - created


def measure(scenario: Scenario) -> Figures:
    figures = Figures(scenario)
    orders = synthetic_orders(location_ids(scenario.locations), scenario.orders_per_location)
    with tempfile.TemporaryDirectory(prefix="ghl-submit-") as name:
        folder = Path(name)
        export = folder / "export.csv"
        write_export(export, orders)
        sandbox, base_url = start_sandbox(folder, orders, scenario.interval)
        other = None
        try:
            if scenario.second_client:
                other = start_second_client(base_url, orders[-1], scenario.interval, folder)
                time.sleep(scenario.interval)  # let it settle into its pace
            responses = Responses()
            started, cpu = time.monotonic(), time.process_time()
            figures.orders, figures.created, figures.not_created = asyncio.run(
                run_import(export, folder, base_url, scenario, responses)
            )
            figures.seconds = time.monotonic() - started
            cpu_seconds = time.process_time() - cpu
        finally:
            if other is not None:
                other.terminate()
                other.wait()
            sandbox.terminate()
            sandbox.wait()
        figures.requests = len(responses.sent)
        figures.limited = sum(1 for _, status in responses.sent if status == 429)
        figures.rate = sustained_rate(responses.sent, scenario.interval)
        figures.cpu_ms_per_request = cpu_seconds * 1000 / max(figures.requests, 1)
        limit = scenario.locations * MAX_REQUESTS / scenario.interval
        if other is not None:
            answered = [tuple(entry) for entry in json.loads((folder / "second.json").read_text())]
            first, last = responses.sent[0][0], responses.sent[-1][0]
            during = [(at, status) for at, status in answered if first <= at <= last]
            figures.other_limited = sum(1 for _, status in during if status == 429)
            ok = sum(1 for _, status in during if status != 429)
            figures.other_rate = ok / (last - first)
            limit -= figures.other_rate
            figures.notes.append("limit available = the limit less the second client's rate")
        figures.limit = limit
    figures.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


SCENARIOS = {
    "one": Scenario("one", 1, 2000, interval=2.0, concurrency=16),
    "shared": Scenario("shared", 1, 2000, interval=4.0, concurrency=16, second_client=True),
    # 50 windows of 100 requests must fit what one 2-core machine can serve and send,
    # about 400 requests a second for the sandbox and the importer together.
    "many": Scenario("many", 50, 200, interval=20.0, concurrency=8),
}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--second-client":
        base_url, location_id, order_id, rate, out = sys.argv[2:7]
        second_client(base_url, location_id, order_id, float(rate), out)
        return 0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--orders", type=int, help="orders per location (default: per scenario)")
    parser.add_argument("--interval", type=float, help="the sandbox's window in seconds")
    args = parser.parse_args()

    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    for name in names:
        scenario = SCENARIOS[name]
        if args.orders:
            scenario.orders_per_location = args.orders
        if args.interval:
            scenario.interval = args.interval
        measure(scenario).show()
    return 0


if __name__ == "__main__":
    os.environ.pop("GHL_TOKEN", None)
    raise SystemExit(main())
