"""`ghl-fulfill history`: what earlier imports did with each order, and when."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from importer.cli.common import (
    EXIT_OK,
    positive_int,
)
from importer.config import load_settings
from importer.ledger import (
    LEDGER_FILE_NAME,
    NEW_LEDGER_CHECK,
    DamagedLedgerError,
    HistoryLine,
    Ledger,
    LedgerError,
    default_state_dir,
)
from importer.normalize import is_order_id


def add_history_command(
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
        "--limit", type=positive_int, default=200, metavar="N", help="at most N lines (200)"
    )
    add_ledger_options(command)


def add_ledger_options(command: argparse.ArgumentParser) -> None:
    """Add the options that find the ledger: the settings file and the state folder."""
    command.add_argument("--config", type=Path, metavar="FILE", help="settings file (TOML)")
    command.add_argument("--state-dir", type=Path, metavar="DIR", help="folder of the ledger")


def ledger_folder(args: argparse.Namespace) -> Path:
    """Return the folder of the ledger that --state-dir, the settings file or the default names."""
    settings = load_settings(
        config_path=args.config,
        environ=os.environ,
        flags={"state_dir": args.state_dir},
        cwd=Path.cwd(),
    )
    return settings.state_dir or default_state_dir()


@contextlib.contextmanager
def ledger_to_read(folder: Path, damage_step: str) -> Iterator[Ledger]:
    """Open the ledger for a command that only reads it, with failures worded for reading.

    `damage_step` ends the message that the ledger file is damaged: what another
    state folder cannot bring back, and what to do. Raises DamagedLedgerError
    for a damaged file and LedgerError when it cannot be read for another reason.
    """
    try:
        ledger = Ledger.open(folder)
    except DamagedLedgerError as error:
        raise _damaged(error.path, error.reason, damage_step) from error
    try:
        yield ledger
    except LedgerError as error:
        if error.damaged:
            raise _damaged(ledger.path, error.reason, damage_step) from error
        raise LedgerError(
            f"the ledger {ledger.path} could not be read ({error.reason}). Check that its disk "
            "works and that no other program keeps the file locked, then run the command again.",
            reason=error.reason,
        ) from error
    finally:
        ledger.close()


def _damaged(path: Path, reason: str, damage_step: str) -> DamagedLedgerError:
    message = f"the ledger file {path} is damaged and cannot be read ({reason}). {damage_step}"
    return DamagedLedgerError(path, reason, message)


# The end of `history`'s message about a damaged ledger: the loss, and the step before the
# next import.
_HISTORY_DAMAGE_STEP = (
    "Choosing another state folder will not bring back the history of earlier imports. The "
    "results files those imports wrote, where you still have them, list what became of each "
    "order. Before the next import, choose a new state folder with --state-dir or "
    f"GHL_STATE_DIR. {NEW_LEDGER_CHECK}"
)


def run_history(args: argparse.Namespace, out: TextIO) -> int:
    folder = ledger_folder(args)
    if not (folder / LEDGER_FILE_NAME).is_file():
        print(f"No imports are recorded in {folder} yet.", file=out)
        return EXIT_OK
    with ledger_to_read(folder, _HISTORY_DAMAGE_STEP) as ledger:
        lines = ledger.history(order=args.order, file_path=args.file, limit=args.limit)
    if not lines and args.order and not is_order_id(args.order.lower()):
        print(
            f"No import named an order {args.order}. An order number is recorded only when the "
            "file gave it; search by the HighLevel order ID too.",
            file=out,
        )
    elif not lines:
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
