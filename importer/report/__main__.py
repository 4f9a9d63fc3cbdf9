"""`python -m importer.report --schema`: print the JSON Schema of the results document."""

from __future__ import annotations

import sys

from importer.report.document import results_schema


def main(arguments: list[str]) -> int:
    if arguments != ["--schema"]:
        print("usage: python -m importer.report --schema", file=sys.stderr)
        return 2
    sys.stdout.write(results_schema())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
