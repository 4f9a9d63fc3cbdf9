"""`ghl-fulfill report RUN_ID`: write the results of an earlier import again, from the ledger."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from importer.cli.common import EXIT_OK, positive_int
from importer.cli.history_command import add_ledger_options, ledger_folder, ledger_to_read
from importer.cli.importing import add_results_format_option, print_summary, results_format_of
from importer.errors import UsageError
from importer.ledger import LEDGER_FILE_NAME, NEW_LEDGER_CHECK
from importer.rebuild import (
    DRY_RUN_NOTE,
    RERUN_STEP,
    RebuiltFile,
    RunNotFoundError,
    rebuild_run,
    results_files,
)
from importer.report import write_results


def add_report_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "report",
        parents=[common],
        help="write the results of an earlier import again, also of one that was killed",
        description="Rebuild the results of every file of an import run from the ledger. "
        "`ghl-fulfill history` shows the run numbers.",
    )
    command.add_argument("run_id", type=positive_int, metavar="RUN_ID", help="the run's number")
    command.add_argument(
        "--results",
        type=Path,
        metavar="PATH",
        help="file to write, ending in .xlsx, .csv or .json, or a folder to write each file's "
        "results into (default: <input name>.run<RUN_ID>.results.xlsx in the current folder)",
    )
    add_results_format_option(command)
    add_ledger_options(command)


def run_report(args: argparse.Namespace, out: TextIO) -> int:
    folder = ledger_folder(args)
    if not (folder / LEDGER_FILE_NAME).is_file():
        raise RunNotFoundError(
            f"there is no import run {args.run_id}: no imports are recorded in {folder}. "
            f"{DRY_RUN_NOTE} If the import used another state folder, name it with "
            "--state-dir; `ghl-fulfill history --state-dir DIR` lists its runs with their numbers."
        )
    with ledger_to_read(folder, _damage_step(args.run_id)) as ledger:
        rebuilt = rebuild_run(ledger, args.run_id)

    targets = _targets(rebuilt, args.run_id, args.results, args.results_format)
    for file, target in zip(rebuilt, targets, strict=True):
        # The document names no path of its own, like the run's, which is written before its
        # path is known.
        file.result.results_path = None
        file.result.results_path = write_results(file.result, target)
        print_summary(file.result, out)
    if not all(file.complete for file in rebuilt):
        print(
            f"Run {args.run_id} ended before it finished, so its results were rebuilt from the "
            f"ledger. {RERUN_STEP}",
            file=out,
        )
    return EXIT_OK


def _damage_step(run_id: int) -> str:
    """Say what a damaged ledger costs `report`, and how to learn what became of the orders."""
    return (
        f"Choosing another state folder will not bring back the results of run {run_id}. If "
        "the run finished, the results file it wrote (beside its input, unless --results named "
        "another place) lists them. Otherwise, to see what became of its orders, import its "
        f"file again with --state-dir set to a new folder. {NEW_LEDGER_CHECK} The new results "
        "file then lists every order."
    )


def _targets(
    rebuilt: Sequence[RebuiltFile], run_id: int, results: Path | None, requested: str | None
) -> list[Path]:
    """Choose where each file's results go; never over the run's own input or results file.

    Raises UsageError for a --results path that cannot be used.
    """
    if results is not None and not results.is_dir():
        if len(rebuilt) > 1:
            raise UsageError(
                f"--results {results}: run {run_id} imported {len(rebuilt)} files, so give a "
                "folder for their results, or leave --results out to write them here."
            )
        results_format_of(results, requested)
        if not results.parent.is_dir():
            raise UsageError(
                f"--results {results}: the folder {results.parent} does not exist; create it first."
            )
        targets = [results]
    else:
        folder = results if results is not None else Path.cwd()
        targets = _default_targets(rebuilt, run_id, folder, requested or "xlsx")

    for file, target in zip(rebuilt, targets, strict=True):
        _check_not_the_runs_own(file, target)
    return targets


def _default_targets(
    rebuilt: Sequence[RebuiltFile], run_id: int, folder: Path, results_format: str
) -> list[Path]:
    """Name each file's results after its input and the run, numbering inputs of the same name."""
    targets: list[Path] = []
    for file in rebuilt:
        stem = file.input_path.stem
        target = folder / f"{stem}.run{run_id}.results.{results_format}"
        number = 1
        while target in targets:
            number += 1
            target = folder / f"{stem} ({number}).run{run_id}.results.{results_format}"
        targets.append(target)
    return targets


def _check_not_the_runs_own(file: RebuiltFile, target: Path) -> None:
    """Reject a target that is the run's input or results file, which the user may have edited."""
    protected = {file.input_path.resolve(): "input file"}
    for path in results_files(file.results_path):
        protected[path.resolve()] = "results file"
    for path in results_files(target):
        what = protected.get(path.resolve())
        if what is not None:
            raise UsageError(
                f"--results {target} would overwrite the {what} of the run, {path}, which may "
                "have been edited since; give another name."
            )
