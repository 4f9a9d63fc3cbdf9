"""`ghl-fulfill history`: what earlier imports did with each order, and when."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TextIO

from importer.cli.common import (
    EXIT_OK,
    positive_int,
)
from importer.config import load_settings
from importer.ledger import (
    LEDGER_FILE_NAME,
    HistoryLine,
    Ledger,
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


def run_history(args: argparse.Namespace, out: TextIO) -> int:
    folder = ledger_folder(args)
    if not (folder / LEDGER_FILE_NAME).is_file():
        print(f"No imports are recorded in {folder} yet.", file=out)
        return EXIT_OK
    ledger = Ledger.open(folder)
    try:
        lines = ledger.history(order=args.order, file_path=args.file, limit=args.limit)
    finally:
        ledger.close()
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
