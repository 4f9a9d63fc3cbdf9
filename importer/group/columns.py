"""Group normalized rows into orders a column at a time.

Rows are numbered by order, tracking number and item with pyarrow's
dictionary encoding, which numbers values in the order they first appear, as
group_rows does. An order is "simple" when every row of it was normalized
without a message and its rows agree (one location, one notify setting, the
same carrier and URL on every row of a tracking number). A simple order is
built from the arrays only when it is asked for. Every other order is built
by group_unique_rows from its rows, so that its messages come from one place.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from importer.group.rows import (
    Grouping,
    OrderGroup,
    group_rows,
    group_unique_rows,
    repeat_warning,
)
from importer.load import to_numpy
from importer.mapping import ColumnMapping
from importer.normalize import Shipments
from importer.normalize.columns import (
    NO_QTY,
    NOTIFY_UNSET,
    built_tracking_url,
    first_appearance_codes,
)
from importer.records import Item, Tracking


def group_shipments(
    shipments: Shipments,
    *,
    mapping: ColumnMapping,
    default_location: str,
    columnar: bool = True,
) -> Grouping:
    """Group rows by order ID, in the order each order first appears, as group_rows does.

    With `columnar` false every order is built by group_rows, which is
    quicker for small tables.
    """
    if not columnar or not len(shipments):
        return group_rows(list(shipments), mapping=mapping, default_location=default_location)

    codes = _Codes.of(shipments)
    repeated = _mark_repeats(shipments, codes)
    has_order = pc.not_equal(shipments.text["order_id"], "").to_numpy(zero_copy_only=False)
    without_order = np.flatnonzero(~has_order & ~repeated)
    live = np.flatnonzero(has_order & ~repeated)

    orders = OrderList(
        shipments,
        _without_empty_order(codes, has_order),
        live,
        mapping=mapping,
        default_location=default_location,
    )
    return Grouping(orders, [shipments.row(int(position)) for position in without_order])


def _without_empty_order(codes: _Codes, has_order: np.ndarray) -> _Codes:
    """Renumber the orders so that the empty order ID has no number and the others no gap."""
    if has_order.all():
        return codes
    empty = codes.order[int(np.argmin(has_order))]
    order = codes.order - (codes.order > empty)
    return _Codes(order, codes.tracking, codes.item)


class _Codes:
    """Numbers for each row's order, tracking number and item, by first appearance.

    `tracking` numbers (order, tracking number); `item` numbers (order,
    price ID, SKU), and is -1 where the row names no item.
    """

    def __init__(self, order: np.ndarray, tracking: np.ndarray, item: np.ndarray) -> None:
        self.order = order
        self.tracking = tracking
        self.item = item

    @classmethod
    def of(cls, shipments: Shipments) -> _Codes:
        text = shipments.text
        keys = (text["order_id"], text["price_id"], pc.ascii_lower(text["sku"]))
        # pyarrow's functions release the GIL, so the columns are encoded side by side.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            order, price, sku = pool.map(_codes, keys)
        item = _factorize(_pair(order, _factorize(_pair(price, sku))))
        names_item = pc.or_(pc.not_equal(text["price_id"], ""), pc.not_equal(text["sku"], ""))
        item[~names_item.to_numpy(zero_copy_only=False)] = -1
        return cls(order, _tracking_codes(text["tracking_number"], order), item)


def _tracking_codes(tracking: pa.ChunkedArray, order: np.ndarray) -> np.ndarray:
    """Number (order, tracking number) by first appearance.

    Most orders list their rows together with one tracking number on all of
    them. Rows that continue the first run of their order with its first
    number take the order's code, and only the other rows have their numbers
    encoded, which saves encoding a million distinct numbers in a large file.
    """
    upper = pc.ascii_upper(tracking).combine_chunks()
    count = len(order)
    if count < 2:
        return order
    positions = np.arange(count)
    order_changes = np.concatenate(([True], order[1:] != order[:-1]))
    same_number = pc.equal(upper.slice(1), upper.slice(0, count - 1))
    number_changes = np.concatenate(([True], ~to_numpy(same_number)))

    run_start = np.maximum.accumulate(np.where(order_changes, positions, 0))
    in_first_run = run_start == _first_rows(order)[order]
    breaks = np.cumsum(number_changes & ~order_changes)
    same = in_first_run & (breaks == breaks[run_start])
    if same.all():
        return order  # one tracking number per order: its code is the order's

    # A row outside its order's first run may still have the first row's number.
    others = np.flatnonzero(~same)
    numbers = pc.take(upper, pa.array(others))
    first_numbers = pc.take(upper, pa.array(_first_rows(order)[order[others]]))
    local = np.zeros(count, dtype=np.int64)
    local[others] = 1 + _codes(numbers)
    local[others[to_numpy(pc.equal(numbers, first_numbers))]] = 0
    return _factorize(_pair(order, local))


def _codes(values: pa.ChunkedArray) -> np.ndarray:
    """Number distinct values by first appearance."""
    return first_appearance_codes(values)[1]


def _pair(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Combine two code arrays into one number per row that is equal only when both are.

    Codes are at most the row count, so the result stays far below 2**63.
    """
    return np.asarray(first * (int(second.max(initial=0)) + 1) + second, dtype=np.int64)


def _factorize(values: np.ndarray) -> np.ndarray:
    """Renumber values 0, 1, 2... by first appearance, keeping them at most the row count."""
    encoded = pc.dictionary_encode(pa.array(values))
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _mark_repeats(shipments: Shipments, codes: _Codes) -> np.ndarray:
    """Mark rows that repeat an earlier row exactly, and give each its warning.

    Rows with the same cells have the same tracking and item codes, so only
    rows that share both with another row have their cells compared.
    """
    item = codes.item + 1
    candidates = _shared(codes.tracking) & _shared(item)
    if candidates.any():
        positions = np.flatnonzero(candidates)
        key = _pair(codes.tracking[positions], item[positions])
        candidates[positions] = _shared(_factorize(key))

    repeated = np.zeros(len(candidates), dtype=bool)
    first_row_with_cells: dict[tuple[str, ...], int] = {}
    for position in np.flatnonzero(candidates):
        row = shipments.row(int(position))
        first = first_row_with_cells.setdefault(row.cells, row.number)
        if first != row.number:
            row.problems.append(repeat_warning(row.number, first))
            shipments.slow[int(position)] = row
            repeated[position] = True
    return repeated


def _shared(codes: np.ndarray) -> np.ndarray:
    """Mark rows whose code (0 or more, at most the row count) occurs on another row too."""
    return np.asarray(np.bincount(codes)[codes] > 1)


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """For codes numbered by first appearance, return the position where each first appears.

    A code appears for the first time exactly where it exceeds every code before it.
    """
    before = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
    return np.flatnonzero(codes > before)


class OrderList(Sequence[OrderGroup]):
    """The orders of a file in first-appearance order, each built when first asked for."""

    def __init__(
        self,
        shipments: Shipments,
        codes: _Codes,
        live: np.ndarray,
        *,
        mapping: ColumnMapping,
        default_location: str,
    ) -> None:
        self._shipments = shipments
        self._codes = codes
        self._mapping = mapping
        self._default_location = default_location

        # Repeated rows are not live, but the first row they repeat is, so every
        # order code occurs on a live row.
        self._index_of_row = codes.order[live]
        # Exports usually list each order's rows together, and then no sort is needed.
        if np.all(self._index_of_row[1:] >= self._index_of_row[:-1]):
            self._positions = live
        else:
            self._positions = live[np.argsort(self._index_of_row, kind="stable")]
        counts = np.bincount(self._index_of_row)
        self._starts = np.concatenate(([0], np.cumsum(counts)))
        self._locations = self._order_locations()
        self._complex = self._complex_orders(live)
        self._built: dict[int, OrderGroup] = {}

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, index: int) -> OrderGroup: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[OrderGroup]: ...
    def __getitem__(self, index: int | slice) -> OrderGroup | Sequence[OrderGroup]:
        if isinstance(index, slice):
            return [self[position] for position in range(len(self))[index]]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("order index out of range")
        if index not in self._built:
            self._build_batch(index)
        return self._built[index]

    def __iter__(self) -> Iterator[OrderGroup]:
        for index in range(len(self)):
            yield self[index]

    def is_simple(self, index: int) -> bool:
        """Tell whether the order was grouped from the arrays, with no message on any row."""
        return not self._complex[index]

    def indexes_to_check(self, *, require_location: bool) -> np.ndarray:
        """Return the orders that validation must look at one by one.

        Every row of a simple order has a tracking number of 1 to 100 letters,
        digits and hyphens and a carrier name of at most 100 characters. Its
        URL is a given one of at most 2,000 characters or a carrier's page
        address, its price ID has no spaces and its quantity is at least 1.
        So check_order finds nothing wrong with a simple order unless it has
        no location.
        """
        check = self._complex.copy()
        if require_location:
            check |= pc.equal(self._locations, "").to_numpy(zero_copy_only=False)
        return np.flatnonzero(check)

    def count_with_errors(self) -> int:
        """Count orders with an error, once indexes_to_check's orders have been checked."""
        return sum(1 for order in self._built.values() if order.has_errors)

    def _rows_of(self, index: int) -> np.ndarray:
        return self._positions[self._starts[index] : self._starts[index + 1]]

    def _order_locations(self) -> pa.Array:
        """Return each order's location: the first that its rows name, or the default."""
        named = pc.take(self._shipments.text["location_id"], pa.array(self._positions))
        with_location = np.flatnonzero(pc.not_equal(named, "").to_numpy(zero_copy_only=False))
        order_of = np.searchsorted(self._starts, with_location, side="right") - 1
        orders, first = np.unique(order_of, return_index=True)

        locations = np.full(len(self._starts) - 1, self._default_location, dtype=object)
        locations[orders] = named.take(pa.array(with_location[first])).to_numpy(
            zero_copy_only=False
        )
        return pa.array(locations, pa.large_string())

    def _complex_orders(self, live: np.ndarray) -> np.ndarray:
        """Mark the orders that group_unique_rows must build."""
        shipments = self._shipments
        order_of_row = np.empty(len(shipments), dtype=np.int64)
        order_of_row[live] = self._index_of_row
        needs_rows = np.zeros(len(shipments), dtype=bool)
        needs_rows[list(shipments.slow)] = True

        needs_rows[live] |= self._location_differs(live, order_of_row)
        needs_rows[live] |= self._tracking_differs(live)
        flagged = order_of_row[live][needs_rows[live]]
        complex_orders = np.bincount(flagged, minlength=len(self)) > 0
        complex_orders |= self._notify_differs(live, order_of_row)
        complex_orders |= self._items_on_some_rows(live, order_of_row)
        return complex_orders

    def _items_on_some_rows(self, live: np.ndarray, order_of_row: np.ndarray) -> np.ndarray:
        """Mark orders in which some rows name an item and others do not."""
        text = self._shipments.text
        names_item = pc.or_(pc.not_equal(text["price_id"], ""), pc.not_equal(text["sku"], ""))
        with_item = np.asarray(names_item.to_numpy(zero_copy_only=False))[live]
        orders = order_of_row[live]
        rows = np.bincount(orders, minlength=len(self))
        rows_with_item = np.bincount(orders[with_item], minlength=len(self))
        return (rows_with_item > 0) & (rows_with_item < rows)

    def _location_differs(self, live: np.ndarray, order_of_row: np.ndarray) -> np.ndarray:
        """Mark rows that name a location other than their order's."""
        given = pc.take(self._shipments.text["location_id"], pa.array(live))
        expected = pc.take(self._locations, pa.array(order_of_row[live]))
        differs = pc.and_(pc.not_equal(given, ""), pc.not_equal(given, expected))
        return np.asarray(differs.to_numpy(zero_copy_only=False))

    def _tracking_differs(self, live: np.ndarray) -> np.ndarray:
        """Mark rows whose carrier, URL or number differ from the first row of their tracking.

        The first row may be a repeated row, which is not grouped. That only
        sends its order to group_unique_rows, which is always correct.
        """
        tracking = self._codes.tracking
        earlier = pa.array(_first_rows(tracking)[tracking[live]])
        rows = pa.array(live)
        differs = np.zeros(len(live), dtype=bool)
        for name in ("tracking_number", "carrier", "tracking_url"):
            values = self._shipments.text[name]
            same = pc.equal(pc.take(values, rows), pc.take(values, earlier))
            differs |= ~same.to_numpy(zero_copy_only=False)
        return differs

    def _notify_differs(self, live: np.ndarray, order_of_row: np.ndarray) -> np.ndarray:
        notify = self._shipments.notify_customer[live]
        orders = order_of_row[live]
        yes = np.bincount(orders[notify == 1], minlength=len(self))
        no = np.bincount(orders[notify == 0], minlength=len(self))
        return (yes > 0) & (no > 0)

    def _build_batch(self, first: int) -> None:
        """Build the orders from `first` on, up to _BATCH of them, reading each array once."""
        last = min(first + _BATCH, len(self))
        start, end = int(self._starts[first]), int(self._starts[last])
        batch = _Batch.of(self._shipments, self._codes, self._positions[start:end])
        locations = self._locations.slice(first, last - first).to_pylist()
        for index in range(first, last):
            if index in self._built:
                continue
            offsets = range(int(self._starts[index]) - start, int(self._starts[index + 1]) - start)
            if self._complex[index]:
                self._built[index] = self._build_complex(index)
            else:
                self._built[index] = batch.order(locations[index - first], offsets)

    def _build_complex(self, index: int) -> OrderGroup:
        rows = [self._shipments.row(int(position)) for position in self._rows_of(index)]
        grouping = group_unique_rows(
            rows, mapping=self._mapping, default_location=self._default_location
        )
        return grouping.orders[0]


_BATCH = 1024


class _Batch:
    """The values of consecutive orders' rows as Python lists, to build orders from."""

    def __init__(
        self,
        text: dict[str, list[str]],
        numbers: list[int],
        notify: list[int],
        qty: list[int],
        tracking: list[int],
        item: list[int],
    ) -> None:
        self.text = text
        self.numbers = numbers
        self.notify = notify
        self.qty = qty
        self.tracking = tracking
        self.item = item

    @classmethod
    def of(cls, shipments: Shipments, codes: _Codes, positions: np.ndarray) -> _Batch:
        indices = pa.array(positions)
        text = {
            name: pc.take(values, indices).to_pylist() for name, values in shipments.text.items()
        }
        return cls(
            text=text,
            numbers=shipments.numbers[positions].tolist(),
            notify=shipments.notify_customer[positions].tolist(),
            qty=shipments.qty[positions].tolist(),
            tracking=codes.tracking[positions].tolist(),
            item=codes.item[positions].tolist(),
        )

    def order(self, location: str, offsets: range) -> OrderGroup:
        """Build a simple order from its rows, which are at `offsets` in the batch."""
        text = self.text
        order = OrderGroup(text["order_id"][offsets[0]], location)
        order.rows = [self.numbers[offset] for offset in offsets]
        chosen = next((self.notify[o] for o in offsets if self.notify[o] != NOTIFY_UNSET), None)
        order.notify_customer = None if chosen is None else bool(chosen)

        seen_trackings: set[int] = set()
        slots: dict[int, int] = {}
        for offset in offsets:
            if self.tracking[offset] not in seen_trackings:
                seen_trackings.add(self.tracking[offset])
                number, carrier = text["tracking_number"][offset], text["carrier"][offset]
                url = text["tracking_url"][offset] or built_tracking_url(carrier, number)
                order.trackings.append(Tracking(number, carrier, url))
            if self.item[offset] >= 0:
                self._add_item(order, slots, offset)
        return order

    def _add_item(self, order: OrderGroup, slots: dict[int, int], offset: int) -> None:
        qty = self.qty[offset] if self.qty[offset] != NO_QTY else 1
        number = self.numbers[offset]
        slot = slots.get(self.item[offset])
        if slot is None:
            slots[self.item[offset]] = len(order.items)
            order.item_rows[len(order.items)] = [number]
            price_id, sku = self.text["price_id"][offset], self.text["sku"][offset]
            order.items.append(Item(price_id, sku, qty))
            return
        known = order.items[slot]
        order.items[slot] = Item(known.price_id, known.sku, known.qty + qty)
        order.item_rows[slot].append(number)
