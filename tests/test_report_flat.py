"""Tests for the CSV and JSON results files: paths, values, formula escaping and the CLI options."""

from __future__ import annotations

import codecs
import csv
import json
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from importer.cli import main
from importer.errors import ReportError
from importer.records import (
    ErrorKind,
    FileResult,
    Item,
    OrderResult,
    OrderStatus,
    Problem,
    RowResult,
    Severity,
    Tracking,
)
from importer.report import (
    csv_paths,
    default_results_path,
    escape_formula,
    load_result,
    unescape_formula,
    write_results,
)
from importer.report.facts import summary_fields

PROJECT = Path(__file__).resolve().parents[1]
MANUAL_SAMPLE = PROJECT / "sample_data" / "manual_fulfillments.csv"
STARTED = datetime(2024, 12, 1, 9, 0, 0)
HEADERS = ("Order ID", "Tracking Number", "Note")
FORMULA_LIKE = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
CREATED_ID = "6650f1a2b3c4d5e6f7a8b9c0"
REJECTED_ID = "6650f1a2b3c4d5e6f7a8b9c2"


def _file_result() -> FileResult:
    created = OrderResult(
        order_id=CREATED_ID,
        location_id="loc-1",
        status=OrderStatus.CREATED,
        rows=(2, 3, 4),
        trackings=(Tracking("0012345", "UPS"), Tracking("1Z999", "UPS")),
        items=(Item("price-1", "TEE", 2),),
        notify_customer=False,
        fulfillment_id="ful-1",
        http_status=201,
        finished_at=STARTED + timedelta(seconds=5),
        seconds=0.75,
    )
    rejected = OrderResult(
        order_id=REJECTED_ID,
        location_id="loc-1",
        status=OrderStatus.REJECTED,
        rows=(5,),
        message="-the quantity is not a number",
        kind=ErrorKind.INPUT,
    )
    rows = [
        RowResult(2, (CREATED_ID, "0012345", FORMULA_LIKE[0]), CREATED_ID, "created"),
        RowResult(3, (CREATED_ID, "1Z999", "+1"), CREATED_ID, "created"),
        RowResult(4, (CREATED_ID, "", "-2"), CREATED_ID, "created"),
        RowResult(
            5,
            (REJECTED_ID, "@SUM(A1)", "\tx", "\rx"),
            REJECTED_ID,
            "rejected",
            [
                Problem("is not a number", (5,), "Qty"),
                Problem("looks odd", (5,), None, Severity.WARNING),
            ],
        ),
        RowResult(6, ("", "", "'=kept", "'plain"), "", "ignored"),
    ]
    return FileResult(
        path=Path("dec-01.csv"),
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=42),
        template="generic",
        template_score=0.9,
        template_match="sure",
        headers=HEADERS,
        location_id="loc-1",
        notify_setting="off",
        orders=[created, rejected],
        rows=rows,
        notes=["=note from a header"],
    )


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _workbook_text(value: object) -> str:
    """Return a workbook cell as the CSV writer gives it, before escaping."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, Path, Path]:
    write_results(_file_result(), tmp_path / "dec-01.results.csv")
    return csv_paths(tmp_path / "dec-01.results.csv")


# Paths


def test_csv_paths_from_results_stem() -> None:
    assert csv_paths(Path("out/dec-01.results.csv")) == (
        Path("out/dec-01.results.summary.csv"),
        Path("out/dec-01.results.orders.csv"),
        Path("out/dec-01.results.rows.csv"),
    )


@pytest.mark.parametrize(
    ("results_format", "expected"),
    [
        ("xlsx", "dec-01.results.xlsx"),
        ("csv", "dec-01.results.csv"),
        ("json", "dec-01.results.json"),
    ],
)
def test_default_results_path_per_format(results_format: str, expected: str) -> None:
    assert default_results_path(Path("dec-01.csv"), results_format) == Path(expected)


def test_csv_writes_three_files(tmp_path: Path) -> None:
    returned = write_results(_file_result(), tmp_path / "dec-01.results.csv")

    assert returned == tmp_path / "dec-01.results.summary.csv"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "dec-01.results.orders.csv",
        "dec-01.results.rows.csv",
        "dec-01.results.summary.csv",
    ]


# Content


def test_csv_files_start_with_bom(written: tuple[Path, Path, Path]) -> None:
    for path in written:
        assert path.read_bytes().startswith(codecs.BOM_UTF8), path.name


@pytest.mark.parametrize("sheet", ["Orders", "Rows"])
def test_csv_matches_workbook_sheet(tmp_path: Path, sheet: str) -> None:
    """The orders and rows files have the columns and values of their sheets, escaping apart."""
    result = _file_result()
    write_results(result, tmp_path / "dec-01.results.xlsx")
    write_results(result, tmp_path / "dec-01.results.csv")
    workbook = load_workbook(tmp_path / "dec-01.results.xlsx")
    expected = [
        [_workbook_text(value) for value in row]
        for row in workbook[sheet].iter_rows(values_only=True)
    ]

    path = tmp_path / f"dec-01.results.{sheet.lower()}.csv"
    rows = [[unescape_formula(cell) for cell in row] for row in _read_csv(path)]

    # XML turns a carriage return into a line feed, so the workbook cannot hold "\rx".
    assert [[cell.replace("\r", "\n") for cell in row] for row in rows] == expected


def test_orders_file_columns(written: tuple[Path, Path, Path]) -> None:
    header, created, rejected = _read_csv(written[1])

    assert header[:4] == ["Order ID", "Order Number", "Location", "Status"]
    assert created[header.index("Tracking Numbers")] == "0012345\n1Z999"
    assert created[header.index("Input Rows")] == "2-4"
    assert rejected[header.index("Status")] == "rejected"


def test_rows_file_keeps_original_headers(written: tuple[Path, Path, Path]) -> None:
    header = _read_csv(written[2])[0]

    assert header == ["Row", "Order Status", "Problems", *HEADERS, ""]


def test_tracking_keeps_leading_zeros(written: tuple[Path, Path, Path]) -> None:
    rows = _read_csv(written[2])

    assert rows[1][4] == "0012345"


def _summary_values(path: Path) -> dict[str, str]:
    return {row[0]: row[1] for row in _read_csv(path)[1:]}


def test_summary_has_every_summary_field(written: tuple[Path, Path, Path]) -> None:
    """The summary file gives each (label, value) of the workbook's summary facts."""
    rows = [(row[0], unescape_formula(row[1])) for row in _read_csv(written[0])]

    for label, value in summary_fields(_file_result()):
        assert (label, _workbook_text(value)) in rows, label


def test_summary_counts_with_share(written: tuple[Path, Path, Path]) -> None:
    rows = _read_csv(written[0])

    assert rows[0] == ["Field", "Value", "Share of orders"]
    assert ["Orders created", "1", "0.5"] in rows


def test_summary_names_settings(written: tuple[Path, Path, Path]) -> None:
    fields = _summary_values(written[0])

    assert fields["Template"] == "generic"
    assert fields["Started"] == "2024-12-01 09:00:00"
    assert fields["Orders created"] == "1"


# Formula escaping


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_formula_like_text_escaped(text: str) -> None:
    assert escape_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["", "plain", "1Z999", "0012345", "'plain", "a=b", " =x"])
def test_plain_text_not_escaped(text: str) -> None:
    assert escape_formula(text) == text


@pytest.mark.parametrize("text", [*FORMULA_LIKE, "", "plain", "'plain", "'=x", "''+1", "'"])
def test_escape_round_trip(text: str) -> None:
    assert unescape_formula(escape_formula(text)) == text


def test_apostrophe_before_formula_doubled() -> None:
    """A cell that already starts with an apostrophe before "=" gets a second one."""
    assert escape_formula("'=x") == "''=x"


def test_rows_file_cells_escaped(written: tuple[Path, Path, Path]) -> None:
    cells = [row[3:] for row in _read_csv(written[2])[1:]]

    assert cells[0][2] == "'" + FORMULA_LIKE[0]
    assert cells[1][2] == "'+1"
    assert cells[2][2] == "'-2"
    assert cells[3][1] == "'@SUM(A1)"
    assert cells[3][2] == "'\tx"
    assert cells[3][3] == "'\rx"
    assert cells[4][2] == "''=kept"
    assert cells[4][3] == "'plain"


def test_orders_message_escaped(written: tuple[Path, Path, Path]) -> None:
    header, _, rejected = _read_csv(written[1])

    assert rejected[header.index("Message")] == "'-the quantity is not a number"


def test_summary_note_escaped(written: tuple[Path, Path, Path]) -> None:
    fields = _summary_values(written[0])

    assert fields["Note"] == "'=note from a header"


# Saving


def test_locked_rows_file_saved_under_other_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A rows file locked by another program is saved as "(2)", and the summary names it."""
    summary, _, rows = csv_paths(tmp_path / "dec-01.results.csv")
    real_replace = os.replace

    def replace(source: str | Path, destination: str | Path) -> None:
        if Path(destination) == rows:
            raise PermissionError(13, "The process cannot access the file", str(destination))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    with caplog.at_level(logging.WARNING):
        write_results(_file_result(), tmp_path / "dec-01.results.csv")

    fields = _read_csv(summary)
    assert (tmp_path / "dec-01.results.rows (2).csv").is_file()
    assert [
        "Note",
        "dec-01.results.rows.csv is locked, so these results were saved as "
        "dec-01.results.rows (2).csv",
        "",
    ] in fields
    assert "dec-01.results.rows (2).csv" in caplog.text


def test_folder_target_raises_report_error(tmp_path: Path) -> None:
    folder = tmp_path / "out.csv"
    folder.mkdir()

    with pytest.raises(ReportError, match="is a folder"):
        write_results(_file_result(), folder)


def test_json_written_and_read_back(tmp_path: Path) -> None:
    result = _file_result()

    written = write_results(result, tmp_path / "dec-01.results.json")

    assert written == tmp_path / "dec-01.results.json"
    assert load_result(written.read_bytes()) == result


def test_json_file_indented(tmp_path: Path) -> None:
    written = write_results(_file_result(), tmp_path / "dec-01.results.json")

    assert json.loads(written.read_bytes())["schema_version"] == 1
    assert written.read_text(encoding="utf-8").startswith('{\n  "schema_version": 1,')


# Command line


def _import_dry_run(tmp_path: Path, *options: str) -> int:
    export = tmp_path / "export.csv"
    export.write_bytes(MANUAL_SAMPLE.read_bytes())
    return main(["import", str(export), "--dry-run", *options])


def test_cli_csv_format_writes_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _import_dry_run(tmp_path, "--results-format", "csv")

    out = capsys.readouterr().out
    assert code == 0
    for path in csv_paths(tmp_path / "export.results.csv"):
        assert path.is_file(), path.name
        assert str(path) in out


def test_cli_json_format_writes_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _import_dry_run(tmp_path, "--results-format", "json")

    path = tmp_path / "export.results.json"
    assert code == 0
    assert load_result(path.read_bytes()).count(OrderStatus.READY) == 11
    assert f"Results: {path}" in capsys.readouterr().out


def test_cli_results_suffix_sets_format(tmp_path: Path) -> None:
    code = _import_dry_run(tmp_path, "--results", str(tmp_path / "out.json"))

    assert code == 0
    assert (tmp_path / "out.json").is_file()


def test_cli_results_csv_path_names_stem(tmp_path: Path) -> None:
    code = _import_dry_run(
        tmp_path, "--results", str(tmp_path / "out.csv"), "--results-format", "csv"
    )

    assert code == 0
    assert (tmp_path / "out.rows.csv").is_file()
    assert not (tmp_path / "out.csv").exists()


def test_cli_format_mismatch_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _import_dry_run(
        tmp_path, "--results", str(tmp_path / "out.xlsx"), "--results-format", "csv"
    )

    assert code == 2
    assert "does not end in .csv" in capsys.readouterr().err
    assert not (tmp_path / "out.xlsx").exists()


def test_cli_unknown_format_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["import", str(MANUAL_SAMPLE), "--dry-run", "--results-format", "ods"])

    assert raised.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cli_csv_stem_over_input_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--results x.csv writes x.rows.csv, so an input named x.rows.csv would be replaced."""
    export = tmp_path / "x.rows.csv"
    export.write_bytes(MANUAL_SAMPLE.read_bytes())

    code = main(["import", str(export), "--dry-run", "--results", str(tmp_path / "x.csv")])

    assert code == 2
    assert "names the input file" in capsys.readouterr().err
    assert export.read_bytes() == MANUAL_SAMPLE.read_bytes()
