"""Helpers shared by the tests: tables built in memory and mapped with the real templates."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from importer.load import Rows, SourceRow, Table
from importer.mapping import ColumnMapping, load_templates, match_template
from importer.normalize import ShipmentRow, normalize_row

GENERIC_HEADERS = (
    "Order ID",
    "Tracking Number",
    "Carrier",
    "Tracking URL",
    "Price ID",
    "SKU",
    "Qty",
    "Location ID",
    "Notify Customer",
)
ORDER_A = "65a1b2c3d4e5f60718293a4b"


@pytest.fixture(autouse=True, scope="session")
def own_data_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Give the tests, and the processes they start, a data folder of their own.

    The ledger lives in the user's data folder by default, and a ledger left
    by the person running the tests would make imports skip orders as already
    sent. Session scope makes it apply before module-scoped fixtures run imports.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
        patch.delenv("GHL_STATE_DIR", raising=False)
        yield


@pytest.fixture(autouse=True)
def own_test_data_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Give each test a data folder of its own, so that no test reads another's ledger."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


ORDER_B = "65a1b2c3d4e5f60718293a4c"


def make_table(rows: Sequence[dict[str, str]], headers: Sequence[str] = GENERIC_HEADERS) -> Table:
    """Build a table whose data rows start at row 2, as in a file with one header row."""
    source_rows = tuple(
        SourceRow(number, tuple(row.get(header, "") for header in headers))
        for number, row in enumerate(rows, start=2)
    )
    return Table(
        path=Path("shipments.csv"),
        headers=tuple(headers),
        header_row=1,
        rows=Rows.of(source_rows),
        ignored=(),
        sheet=None,
        notes=(),
    )


def mapping_for(table: Table) -> ColumnMapping:
    return match_template(table, load_templates())


def normalized(rows: Sequence[dict[str, str]]) -> tuple[list[ShipmentRow], ColumnMapping]:
    table = make_table(rows)
    mapping = mapping_for(table)
    return [normalize_row(row, mapping) for row in table.rows], mapping


@pytest.fixture
def generic_mapping() -> ColumnMapping:
    return mapping_for(make_table([]))
