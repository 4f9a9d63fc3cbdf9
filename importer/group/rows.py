"""Gather the rows of each order into one fulfillment request.

Rows of an order may stand anywhere in the file. Several packages become
several trackings of one fulfillment, a tracking number on several rows is
one tracking entry, and the same item on several rows adds up. A row that
repeats another exactly counts once: exports repeat rows when files are
concatenated, and fulfilling too much is worse than asking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from importer.mapping import ColumnMapping
from importer.normalize import ShipmentRow
from importer.records import Item, Problem, Severity, Tracking


@dataclass(slots=True)
class OrderGroup:
    """The rows of one order, merged into trackings and items."""

    order_id: str
    location_id: str
    rows: list[int] = field(default_factory=list)
    trackings: list[Tracking] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    item_rows: dict[int, list[int]] = field(default_factory=dict)  # items index -> rows
    notify_customer: bool | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(problem.is_error for problem in self.problems)


@dataclass
class Grouping:
    orders: Sequence[OrderGroup]
    rows_without_order: list[ShipmentRow]


def group_rows(
    rows: Sequence[ShipmentRow], *, mapping: ColumnMapping, default_location: str
) -> Grouping:
    """Group rows by order ID, in the order each order first appears in the file."""
    first_row_with_cells: dict[tuple[str, ...], int] = {}
    unique = [row for row in rows if not _is_repeat(row, first_row_with_cells)]
    return group_unique_rows(unique, mapping=mapping, default_location=default_location)


def group_unique_rows(
    rows: Iterable[ShipmentRow], *, mapping: ColumnMapping, default_location: str
) -> Grouping:
    """Group rows that repeat no other row, as group_rows does after setting repeats aside."""
    orders: dict[str, OrderGroup] = {}
    # Orders whose rows have named no location so far: they have the default for now.
    located_by_default: set[str] = set()
    rows_without_order: list[ShipmentRow] = []
    for row in rows:
        if not row.order_id:
            rows_without_order.append(row)
            continue

        order = orders.get(row.order_id)
        if order is None:
            order = orders[row.order_id] = OrderGroup(row.order_id, default_location)
            located_by_default.add(row.order_id)
        if row.location_id and row.order_id in located_by_default:
            # The first row that names a location gives the order's, wherever it is.
            order.location_id = row.location_id
            located_by_default.discard(row.order_id)
        _add_row(order, row, mapping)

    return Grouping(list(orders.values()), rows_without_order)


def _is_repeat(row: ShipmentRow, first_row_with_cells: dict[tuple[str, ...], int]) -> bool:
    first = first_row_with_cells.setdefault(row.cells, row.number)
    if first == row.number:
        return False
    row.problems.append(repeat_warning(row.number, first))
    return True


def repeat_warning(number: int, first: int) -> Problem:
    return Problem(
        f"this row repeats row {first} exactly, so it was counted once",
        (number,),
        severity=Severity.WARNING,
    )


def _add_row(order: OrderGroup, row: ShipmentRow, mapping: ColumnMapping) -> None:
    order.rows.append(row.number)
    order.problems.extend(row.problems)

    _merge_location(order, row, mapping)
    _merge_notify_customer(order, row, mapping)
    if row.tracking_number:
        _merge_tracking(order, row, mapping)
    if row.names_item:
        _merge_item(order, row)


def _merge_location(order: OrderGroup, row: ShipmentRow, mapping: ColumnMapping) -> None:
    if row.location_id and row.location_id != order.location_id:
        order.problems.append(
            Problem(
                f"location {row.location_id} differs from {order.location_id} "
                "on another row of this order",
                (row.number,),
                mapping.header_of("location_id"),
            )
        )


def _merge_notify_customer(order: OrderGroup, row: ShipmentRow, mapping: ColumnMapping) -> None:
    if row.notify_customer is None:
        return
    if order.notify_customer is None:
        order.notify_customer = row.notify_customer
        return
    if order.notify_customer != row.notify_customer:
        order.problems.append(
            Problem(
                "rows of this order disagree on whether to notify the customer",
                (row.number,),
                mapping.header_of("notify_customer"),
            )
        )


def _merge_tracking(order: OrderGroup, row: ShipmentRow, mapping: ColumnMapping) -> None:
    for index, tracking in enumerate(order.trackings):
        if tracking.number.upper() != row.tracking_number.upper():
            continue
        if row.carrier and tracking.carrier and row.carrier != tracking.carrier:
            order.problems.append(
                Problem(
                    f"tracking number {row.tracking_number} is given with carrier "
                    f"{row.carrier} here and {tracking.carrier} on another row",
                    (row.number,),
                    mapping.header_of("carrier"),
                )
            )
        order.trackings[index] = Tracking(
            tracking.number, tracking.carrier or row.carrier, tracking.url or row.tracking_url
        )
        return

    order.trackings.append(Tracking(row.tracking_number, row.carrier, row.tracking_url))


def _merge_item(order: OrderGroup, row: ShipmentRow) -> None:
    qty = row.qty if row.qty is not None else 1
    for index, item in enumerate(order.items):
        if _same_item(item, row):
            order.items[index] = Item(item.price_id, item.sku, item.qty + qty)
            order.item_rows[index].append(row.number)
            return

    order.items.append(Item(row.price_id, row.sku, qty))
    order.item_rows[len(order.items) - 1] = [row.number]


def _same_item(item: Item, row: ShipmentRow) -> bool:
    if row.price_id:
        return item.price_id == row.price_id and item.sku.casefold() == row.sku.casefold()
    return not item.price_id and item.sku.casefold() == row.sku.casefold()
