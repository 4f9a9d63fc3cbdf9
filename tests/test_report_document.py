"""Tests for the JSON results document: round trip, compatibility and the committed schema."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from importer.errors import ApiUnavailableError, ReportError
from importer.records import (
    STOPPED_ON_REQUEST,
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
    SCHEMA_VERSION,
    ResultsDocument,
    dump_result,
    from_document,
    load_result,
    results_schema,
    to_document,
)
from importer.report.facts import next_steps

PROJECT = Path(__file__).resolve().parents[1]
COMMITTED_SCHEMA = PROJECT / "docs" / "results-schema.json"
STARTED = datetime(2024, 12, 1, 9, 30, 15, 123456)


def _order(number: int, status: OrderStatus, **fields: object) -> OrderResult:
    values: dict[str, object] = {
        "order_id": f"6afb2607207fe629c6a2{number:04d}",
        "location_id": "Xk7pQ2mLw9RtY4vB8nZc",
        "status": status,
        "rows": (number + 1,),
    }
    values.update(fields)
    return OrderResult(**values)  # type: ignore[arg-type]


def _every_field_result() -> FileResult:
    """A result with every field of every record set to a value other than its default."""
    created = _order(
        1,
        OrderStatus.CREATED,
        rows=(2, 3),
        trackings=(
            Tracking("0012345", "UPS", "https://example.com/t/0012345"),
            Tracking("796799488569", "FedEx"),
        ),
        order_number="#1001",
        items=(Item("price-1", "TEE-BLK-L", 2), Item("", "MUG-\N{SNOWMAN}", 1)),
        notify_customer=True,
        fulfillment_id="ful-1",
        http_status=201,
        message="created",
        trace_id="trace-1",
        finished_at=STARTED + timedelta(seconds=3, microseconds=7),
        seconds=1.25,
    )
    failed = _order(
        2,
        OrderStatus.FAILED,
        notify_customer=False,
        http_status=503,
        message="HighLevel did not answer\nafter 5 tries",
        kind=ErrorKind.UNAVAILABLE,
        seconds=30.5,
    )
    return FileResult(
        path=Path("exports/dec-01 ünïcode.xlsx"),
        started_at=STARTED,
        finished_at=STARTED + timedelta(minutes=2),
        sheet="Shipments",
        template="shipstation",
        template_score=0.875,
        template_match="sure: 7 of 8 columns named",
        confirm_with="--template shipstation",
        headers=("Order ID", "Tracking", "=Formula header", ""),
        location_id="Xk7pQ2mLw9RtY4vB8nZc",
        dry_run=False,
        notify_setting="on, set by --notify-customer",
        orders=[created, failed],
        rows=[
            RowResult(2, ("6afb", "0012345", '=HYPERLINK("http://x")', ""), "o1", "created"),
            RowResult(
                3,
                ("6afb", "", "\tx", "tail"),
                "o1",
                "created",
                [
                    Problem("the tracking number is missing", (3,), "Tracking"),
                    Problem("two rows share a tracking", (2, 3), None, Severity.WARNING),
                ],
            ),
            RowResult(4, ("", "", "", ""), "", "ignored"),
        ],
        notes=["columns are separated by semicolons", "read as cp1252 text"],
        stopped_reason="HighLevel did not answer after 5 tries",
        next_step="Call the HighLevel support line.",
        results_path=Path("exports/dec-01.results.json"),
    )


def _dry_run_result() -> FileResult:
    return FileResult(
        path=Path("dry.csv"),
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=1),
        dry_run=True,
        orders=[_order(1, OrderStatus.READY), _order(2, OrderStatus.SKIPPED)],
        rows=[RowResult(2, ("a",), "o1", "ready"), RowResult(3, ("b",), "o2", "skipped")],
    )


def _rejections_result() -> FileResult:
    kinds = list(ErrorKind)
    statuses = [OrderStatus.REJECTED, OrderStatus.FAILED, OrderStatus.DEFERRED]
    orders = [
        _order(number, statuses[number % len(statuses)], kind=kind, location_id=f"loc-{number % 3}")
        for number, kind in enumerate(kinds)
    ]
    return FileResult(
        path=Path("/data/many locations.csv"),
        started_at=STARTED,
        orders=orders,
        stopped_reason=STOPPED_ON_REQUEST,
    )


def _empty_result() -> FileResult:
    return FileResult(path=Path("empty.csv"), started_at=STARTED)


RESULTS = {
    "every field": _every_field_result,
    "dry run": _dry_run_result,
    "every kind": _rejections_result,
    "empty": _empty_result,
}


# Round trip


@pytest.mark.parametrize("make_result", RESULTS.values(), ids=RESULTS.keys())
def test_round_trip_gives_same_result(make_result: object) -> None:
    result = make_result()  # type: ignore[operator]

    assert load_result(dump_result(result)) == result


@pytest.mark.parametrize("make_result", RESULTS.values(), ids=RESULTS.keys())
def test_round_trip_through_model_same(make_result: object) -> None:
    result = make_result()  # type: ignore[operator]

    assert from_document(to_document(result)) == result


def test_round_trip_keeps_counted_next_step() -> None:
    """A next step that the counts give is not turned into an override."""
    result = _dry_run_result()

    loaded = load_result(dump_result(result))

    assert loaded.next_step == ""


def test_stopped_by_stored_as_text() -> None:
    result = _every_field_result()
    result.stopped_by = ApiUnavailableError("HighLevel did not answer")

    content = json.loads(dump_result(result))

    assert content["stopped_by"] == {
        "type": "ApiUnavailableError",
        "message": "HighLevel did not answer",
    }


def test_stopped_by_not_rebuilt() -> None:
    """The exception cannot be rebuilt, and everything else still round-trips."""
    result = _every_field_result()
    result.stopped_by = ApiUnavailableError("HighLevel did not answer")

    loaded = load_result(dump_result(result))

    assert loaded == dataclasses.replace(result, stopped_by=None)


# Content


def test_times_written_with_offset() -> None:
    content = json.loads(dump_result(_every_field_result()))

    started = datetime.fromisoformat(content["started_at"])

    assert started.utcoffset() is not None
    assert started == STARTED.astimezone()


def test_time_with_other_offset_read_as_local() -> None:
    content = json.loads(dump_result(_empty_result()))
    moment = datetime(2024, 12, 1, 18, 0, tzinfo=timezone(timedelta(hours=9)))
    content["started_at"] = moment.isoformat()

    loaded = load_result(json.dumps(content).encode())

    assert loaded.started_at == moment.astimezone().replace(tzinfo=None)


def test_counts_per_status() -> None:
    content = json.loads(dump_result(_every_field_result()))

    assert content["counts"] == {
        "created": 1,
        "skipped": 0,
        "rejected": 0,
        "failed": 1,
        "deferred": 0,
        "ready": 0,
        "ignored": 1,
    }


def test_locations_listed_sorted() -> None:
    content = json.loads(dump_result(_rejections_result()))

    assert content["locations"] == ["loc-0", "loc-1", "loc-2"]


def test_next_step_written_from_counts() -> None:
    result = _rejections_result()

    content = json.loads(dump_result(result))

    assert content["next_step"] == next_steps(result)


def test_order_fields_written() -> None:
    content = json.loads(dump_result(_every_field_result()))

    failed = content["orders"][1]

    assert failed["status"] == "failed"
    assert failed["kind"] == "unavailable"
    assert failed["seconds"] == 30.5
    assert failed["http_status"] == 503


def test_tracking_keeps_leading_zeros() -> None:
    content = json.loads(dump_result(_every_field_result()))

    assert content["orders"][0]["trackings"][0]["number"] == "0012345"


def test_non_ascii_written_as_utf8() -> None:
    data = dump_result(_every_field_result())

    assert "ünïcode".encode() in data


def test_indent_writes_lines() -> None:
    assert dump_result(_empty_result(), indent=2).count(b"\n") > 10


# Compatibility


def test_unknown_fields_ignored() -> None:
    """A document from a later release with new fields still loads."""
    result = _every_field_result()
    content = json.loads(dump_result(result))
    content["carbon_grams"] = 12
    content["orders"][0]["warehouse"] = "north"
    content["rows"][1]["problems"][0]["hint"] = "look at the label"

    loaded = load_result(json.dumps(content).encode())

    assert loaded == result


def test_newer_schema_version_rejected() -> None:
    content = json.loads(dump_result(_empty_result()))
    content["schema_version"] = SCHEMA_VERSION + 1

    with pytest.raises(ReportError, match="schema version 2") as raised:
        load_result(json.dumps(content).encode(), Path("run-7.json"))

    assert raised.value.path == Path("run-7.json")
    assert "Update ghl-fulfill" in str(raised.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "not a JSON results document"),
        (b"\xff\xfe", "not a JSON results document"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"schema_version": 1, "file": "a.csv"}', "started_at"),
        (
            b'{"schema_version": 0, "file": "a.csv", "started_at": "2024-12-01T09:00:00Z"}',
            "damaged",
        ),
    ],
)
def test_invalid_document_raises_report_error(data: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        load_result(data)


def test_unknown_status_rejected() -> None:
    content = json.loads(dump_result(_every_field_result()))
    content["orders"][0]["status"] = "teleported"

    with pytest.raises(ReportError, match=r"orders\.0\.status"):
        load_result(json.dumps(content).encode())


def test_naive_time_rejected() -> None:
    """A time without an offset is ambiguous, so the document must give one."""
    content = json.loads(dump_result(_empty_result()))
    content["started_at"] = "2024-12-01T09:30:00"

    with pytest.raises(ReportError, match="started_at"):
        load_result(json.dumps(content).encode())


# Schema


def test_committed_schema_matches_model() -> None:
    """docs/results-schema.json is regenerated with `python -m importer.report --schema`."""
    assert COMMITTED_SCHEMA.read_text(encoding="utf-8") == results_schema()


def test_schema_command_prints_schema() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "importer.report", "--schema"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=60,
    )

    assert completed.returncode == 0
    assert completed.stdout == results_schema()


def test_schema_command_without_option_fails() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "importer.report"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert completed.returncode == 2
    assert "--schema" in completed.stderr


def test_schema_names_every_document_field() -> None:
    schema = json.loads(results_schema())

    assert set(schema["properties"]) == set(ResultsDocument.model_fields)
