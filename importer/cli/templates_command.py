"""`ghl-fulfill templates`: list the column templates, or show one."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from importer.cli.common import (
    EXIT_OK,
)
from importer.config import load_settings
from importer.errors import UsageError
from importer.mapping import (
    REQUIRED_FIELDS,
    TEMPLATE_FIELDS,
    Template,
    find_template,
    load_templates,
)


def add_templates_command(
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
