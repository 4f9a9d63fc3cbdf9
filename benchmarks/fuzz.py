"""Run many malformed files through the import in a dry run and count how each one ended.

    uv run python benchmarks/fuzz.py [--cases 50000] [--seed 0]

Case i is generated from random.Random(seed + i) by tests/fuzz_cases.py, the
generator of tests/test_fuzz.py, so a case named in the output can be rebuilt
with `generate_case(random.Random(SEED))`. Every case must end in an
ImporterError with a message or in a result. Any other exception, or a case
that runs past its time limit, is a crash: the script counts it, prints its
seed and its first traceback, and goes on. A crash that kills the process (a
failed allocation in the workbook reader) stops the script; its last line
then names the seed being run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from importer.mapping import load_templates  # noqa: E402
from tests.fuzz_cases import describe, generate_case, run_case  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50_000, help="number of cases to run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first case")
    parser.add_argument(
        "--case-seconds", type=int, default=30, help="time limit of one case, in seconds"
    )
    arguments = parser.parse_args()

    templates = load_templates()
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    crashes: Counter[str] = Counter()
    slowest = (0.0, -1, "")
    started = time.perf_counter()

    with tempfile.TemporaryDirectory() as folder:
        for seed in range(arguments.seed, arguments.seed + arguments.cases):
            case = generate_case(random.Random(seed))
            kinds[case.kind] += 1
            print(f"running seed {seed}", end="\r", file=sys.stderr, flush=True)
            case_started = time.perf_counter()
            try:
                outcome = run_case(case, Path(folder), templates, arguments.case_seconds)
            except BaseException as error:  # every other ending is the crash being looked for
                if isinstance(error, KeyboardInterrupt):
                    raise
                key = f"{type(error).__name__}: {str(error)[:120]}"
                if not crashes[key]:
                    print(f"\ncrash at seed {seed}: {key}\n{describe(case)[:2000]}")
                    traceback.print_exc(limit=-4)
                crashes[key] += 1
                outcome = "crash"
            elapsed = time.perf_counter() - case_started
            outcomes[outcome] += 1
            if elapsed > slowest[0]:
                slowest = (elapsed, seed, f"{case.kind}, {len(case.data):,} bytes")

    total = time.perf_counter() - started
    _report(arguments.cases, total, kinds, outcomes, crashes, slowest)


def _report(
    cases: int,
    total: float,
    kinds: Counter[str],
    outcomes: Counter[str],
    crashes: Counter[str],
    slowest: tuple[float, int, str],
) -> None:
    print(f"cases run: {cases:,} in {total:,.1f} s ({cases / total:,.0f} cases/s)")
    print("cases by generator: " + ", ".join(f"{kind} {n:,}" for kind, n in kinds.most_common()))
    print("outcomes:")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome}: {count:,}")
    print(f"crashes: {sum(crashes.values()):,}")
    for key, count in crashes.most_common():
        print(f"  {count:,} x {key}")
    seconds, seed, what = slowest
    print(f"slowest case: seed {seed} ({what}), {seconds:.2f} s")


if __name__ == "__main__":
    main()
