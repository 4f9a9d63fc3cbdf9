"""Normalize a whole table a column at a time, and only the unusual rows one at a time.

Most rows of a large export are plain: printable ASCII, an order ID of 24 hex
digits, a tracking number of letters and digits, a known carrier. For those,
what normalize_row would return is computed here for all rows at once with
pyarrow. A row with anything else in a mapped cell (spaces to collapse,
quote marks, a ".0", a value to reject, a non-ASCII character) is passed to
normalize_row, so every message and repair still comes from one place.

The fast rules below are conditions under which normalize_row changes
nothing but what is written next to each rule. The tests compare both paths
on generated rows, so a rule that drifts from normalize_row fails them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from importer import carriers
from importer.load import Rows, SourceRow, Table, to_numpy
from importer.mapping import FIELDS, SERVICE_FIELD, ColumnMapping
from importer.normalize.rows import (
    DATE,
    MAX_CARRIER,
    MAX_LOCATION_ID,
    MAX_TRACKING_NUMBER,
    MAX_TRACKING_URL,
    MIN_TRACKING_NUMBER,
    UPS_LENGTH,
    ShipmentRow,
    has_tracking_doubt,
    infer_carrier,
    normalize_row,
)

# The fields held as text; the quantity and the notify setting are numbers.
TEXT_FIELDS = tuple(name for name in FIELDS if name not in ("qty", "notify_customer"))
NO_QTY = 0
NOTIFY_UNSET = -1

# The value each field may have, once trimmed of spaces, to be taken without
# any change other than the one noted. Every rule allows printable ASCII only:
# for such text Python's str.strip() and pyarrow's trim remove the same
# characters, and casefold() is lower().
_FAST_RULES = {
    "order_id": r"[0-9a-fA-F]{24}",  # lowercased
    "tracking_number": rf"[A-Za-z0-9-]{{1,{MAX_TRACKING_NUMBER}}}",
    # Not starting with = + - or @, which normalize_row rejects as a formula.
    "carrier": rf"([!-*,.-<>?A-~][ -~]{{0,{MAX_CARRIER - 1}}})?",  # made canonical
    "tracking_url": r"([hH][tT][tT][pP][sS]?://[ -~]*)?",
    "price_id": r"[!#-&(-~]*",
    "sku": r"[ !#-&(-~]*",
    "qty": r"(0*[1-9][0-9]{0,8}(\.0+)?)?",  # turned into a number
    "location_id": rf"[A-Za-z0-9]{{0,{MAX_LOCATION_ID}}}",
    "notify_customer": r"(?i:yes|y|true|1|x|no|n|false|0)?",  # turned into yes or no
    SERVICE_FIELD: r"[ -~]*",  # read only to name a missing carrier
}
_ORDER_NUMBER_DIGITS = r"[0-9]{1,18}"
# Fields whose values may contain spaces, which normalize_row collapses when
# there are several in a row.
_SPACED_FIELDS = ("carrier", "tracking_url", "sku")
# A tracking number of digits with an exponent is one a spreadsheet showed in
# scientific notation, which normalize_row rejects.
_SCIENTIFIC = r"^[0-9]+[eE]-?[0-9]+$"
_TRUE = r"^ *(?i:yes|y|true|1|x) *$"


@dataclass
class Shipments:
    """The normalized rows of a table, one array per field.

    Text fields are large_string arrays with "" for a missing value. `qty`
    contains NO_QTY and `notify_customer` NOTIFY_UNSET where the row has none.
    Rows normalized one at a time are kept whole in `slow`, with their problems.
    """

    rows: Rows
    numbers: np.ndarray
    text: dict[str, pa.ChunkedArray]
    qty: np.ndarray
    notify_customer: np.ndarray
    slow: dict[int, ShipmentRow] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.numbers)

    def row(self, position: int) -> ShipmentRow:
        """Return one row as normalize_row returns it."""
        shipment = self.slow.get(position)
        if shipment is not None:
            return shipment
        values = {name: self.text[name][position].as_py() for name in TEXT_FIELDS}
        return self._shipment(position, self.rows[position].cells, values)

    def __iter__(self) -> Iterator[ShipmentRow]:
        if len(self.slow) == len(self):
            yield from (self.slow[position] for position in range(len(self)))
            return
        batch = 4096
        for start in range(0, len(self), batch):
            end = min(start + batch, len(self))
            texts = {name: self.text[name][start:end].to_pylist() for name in TEXT_FIELDS}
            cells = self.rows[start:end]
            for offset, position in enumerate(range(start, end)):
                shipment = self.slow.get(position)
                if shipment is None:
                    values = {name: texts[name][offset] for name in TEXT_FIELDS}
                    shipment = self._shipment(position, cells[offset].cells, values)
                yield shipment

    def _shipment(
        self, position: int, cells: tuple[str, ...], values: dict[str, str]
    ) -> ShipmentRow:
        qty = int(self.qty[position])
        notify = int(self.notify_customer[position])
        values["tracking_url"] = values["tracking_url"] or built_tracking_url(
            values["carrier"], values["tracking_number"]
        )
        return ShipmentRow(
            number=int(self.numbers[position]),
            cells=cells,
            order_id=values["order_id"],
            tracking_number=values["tracking_number"],
            carrier=values["carrier"],
            tracking_url=values["tracking_url"],
            price_id=values["price_id"],
            sku=values["sku"],
            qty=None if qty == NO_QTY else qty,
            location_id=values["location_id"],
            notify_customer=None if notify == NOTIFY_UNSET else bool(notify),
        )


def built_tracking_url(carrier_name: str, tracking_number: str) -> str:
    """Return the carrier's tracking page address for a number, as normalize_row builds it."""
    carrier = carriers.find_carrier(carrier_name) if carrier_name else None
    if carrier is None or not tracking_number:
        return ""
    return carriers.tracking_url(carrier, tracking_number)


def normalize_table(
    table: Table, mapping: ColumnMapping, *, columnar: bool = True, strict_tracking: bool = False
) -> Shipments:
    """Normalize every data row of a table.

    With `columnar` false every row goes through normalize_row and no arrays
    are built, which is quicker for small tables.
    """
    rows = table.rows
    count = len(rows)
    normalize = functools.partial(normalize_row, mapping=mapping, strict_tracking=strict_tracking)
    if not columnar or not count:
        return Shipments(
            rows=rows,
            numbers=rows.numbers,
            text={},
            qty=np.full(count, NO_QTY, dtype=np.int64),
            notify_customer=np.full(count, NOTIFY_UNSET, dtype=np.int8),
            slow={position: normalize(row) for position, row in enumerate(rows)},
        )
    trimmed = {name: _trimmed(rows, mapping, name, count) for name in _FAST_RULES}

    fast = (
        _fast_rows(rows, mapping, trimmed, count) if columnar and count else np.zeros(count, bool)
    )
    text = {
        "order_id": _lowercase(trimmed["order_id"]),
        "tracking_number": trimmed["tracking_number"],
        "price_id": trimmed["price_id"],
        "sku": trimmed["sku"],
        "location_id": trimmed["location_id"],
    }
    text["carrier"], unnamed = _carriers(
        trimmed["carrier"],
        text["tracking_number"],
        trimmed[SERVICE_FIELD],
        mapping.template.default_carrier,
    )
    fast &= ~unnamed
    fast &= ~_may_have_lost_zeros(text["carrier"], text["tracking_number"])
    fast &= ~_tracking_doubts(text["carrier"], text["tracking_number"], fast)
    # Only the URL given in the file is kept. A URL from the carrier and the
    # number is built with the row, so no array of a million URLs is needed.
    text["tracking_url"] = trimmed["tracking_url"]

    shipments = Shipments(
        rows=rows,
        numbers=rows.numbers,
        text=text,
        qty=_quantities(trimmed["qty"], fast),
        notify_customer=_notify(trimmed["notify_customer"], count),
    )
    _normalize_slow_rows(shipments, normalize, np.flatnonzero(~fast))
    return shipments


def _trimmed(rows: Rows, mapping: ColumnMapping, name: str, count: int) -> pa.ChunkedArray:
    index = mapping.columns.get(name)
    if index is None:
        return pa.chunked_array([pa.nulls(count, pa.large_string()).fill_null("")])
    raw = rows.column(index)
    # Trimming copies the column, and most exports have no spaces to trim.
    padded = pc.or_(pc.starts_with(raw, " "), pc.ends_with(raw, " "))
    return pc.utf8_trim(raw, " ") if pc.any(padded).as_py() else raw


def _lowercase(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.ascii_lower(values)


def _fast_rows(
    rows: Rows, mapping: ColumnMapping, trimmed: dict[str, pa.ChunkedArray], count: int
) -> np.ndarray:
    """Mark the rows whose mapped cells all follow the fast rules."""
    checks = [
        functools.partial(_follows_rule, rows.column(index), _rule(name, mapping))
        for name, index in mapping.columns.items()
    ]
    checks += [
        functools.partial(_has_no_double_space, trimmed[name])
        for name in _SPACED_FIELDS
        if name in mapping.columns
    ]
    checks.append(functools.partial(_is_not_scientific, trimmed["tracking_number"]))
    checks.append(functools.partial(_looks_like_tracking, trimmed["tracking_number"]))
    checks.append(functools.partial(_url_fits, trimmed["tracking_url"]))
    checks.append(functools.partial(_qty_has_item, trimmed))

    fast = np.ones(count, dtype=bool)
    # pyarrow's functions release the GIL, so the columns are checked side by side.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for mask in pool.map(lambda check: check(), checks):
            fast &= mask
    return fast


def _rule(name: str, mapping: ColumnMapping) -> str:
    """Return a field's fast rule; an order column may also hold plain order numbers."""
    rule = _FAST_RULES[name]
    prefixes = mapping.template.order_prefixes
    if name == "order_id" and not any(prefix[:1].isdigit() for prefix in prefixes):
        # normalize_row keeps digits as they are: a template's prefix could only
        # change them if it began with a digit.
        rule = f"({rule}|{_ORDER_NUMBER_DIGITS})"
    return rule


def _follows_rule(raw: pa.ChunkedArray, rule: str) -> np.ndarray:
    return to_numpy(pc.match_substring_regex(raw, f"^ *{rule} *$"))


def _has_no_double_space(trimmed: pa.ChunkedArray) -> np.ndarray:
    return ~to_numpy(pc.match_substring(trimmed, "  "))


def _is_not_scientific(tracking: pa.ChunkedArray) -> np.ndarray:
    return ~to_numpy(pc.match_substring_regex(tracking, _SCIENTIFIC))


def _looks_like_tracking(tracking: pa.ChunkedArray) -> np.ndarray:
    """Mark numbers that normalize_row takes without a doubt: see _not_a_tracking_number."""
    length = pc.utf8_length(tracking)
    wrong_ups_length = pc.and_(
        pc.match_substring_regex(tracking, "^1[Zz]"), pc.not_equal(length, UPS_LENGTH)
    )
    doubtful = [
        pc.invert(pc.match_substring_regex(tracking, "[0-9]")),
        pc.match_substring_regex(tracking, "^[0-]*$"),
        pc.match_substring_regex(tracking, f"^{DATE.pattern}$"),
        pc.less(length, MIN_TRACKING_NUMBER),
        wrong_ups_length,
    ]
    return ~to_numpy(functools.reduce(pc.or_, doubtful))


def _url_fits(url: pa.ChunkedArray) -> np.ndarray:
    return to_numpy(pc.less_equal(pc.utf8_length(url), MAX_TRACKING_URL))


def _qty_has_item(trimmed: dict[str, pa.ChunkedArray]) -> np.ndarray:
    """Mark rows without a quantity or with an item: a quantity alone is an error."""
    no_item = pc.and_(pc.equal(trimmed["price_id"], ""), pc.equal(trimmed["sku"], ""))
    return ~to_numpy(pc.and_(pc.not_equal(trimmed["qty"], ""), no_item))


def first_appearance_codes(values: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Return the distinct values in the order they first appear, and each row's index into them.

    pyarrow encodes all chunks of a column with one dictionary, which the
    tests check.
    """
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.Array):
        return encoded.dictionary, _codes_of(encoded.indices)
    if not encoded.num_chunks:
        return pa.array([], values.type), np.zeros(0, dtype=np.int64)
    indices = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in encoded.chunks]
    return encoded.chunks[-1].dictionary, np.concatenate(indices).astype(np.int64)


def _codes_of(indices: pa.Array) -> np.ndarray:
    return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _carriers(
    given: pa.ChunkedArray, tracking: pa.ChunkedArray, service: pa.ChunkedArray, default: str
) -> tuple[pa.ChunkedArray, np.ndarray]:
    """Name each row's carrier as normalize_row does: canonical, given, or inferred.

    Also returns a mask of the rows whose service names no carrier when
    nothing else does, which normalize_row warns about.
    """
    distinct, codes = first_appearance_codes(given)
    names = [_carrier_name(value) for value in distinct.to_pylist()]
    named = pc.take(pa.array(names, pa.large_string()), pa.array(codes))

    missing = to_numpy(pc.equal(given, ""))
    unnamed = np.zeros(len(missing), dtype=bool)
    positions = np.flatnonzero(missing)
    if not len(positions):
        return named, unnamed

    taken = pa.array(positions)
    services = pc.take(service, taken).to_pylist()
    numbers = pc.take(tracking, taken).to_pylist()
    inferred = [
        infer_carrier(text, default, number) for text, number in zip(services, numbers, strict=True)
    ]
    unnamed[positions] = [
        bool(text) and not name for text, name in zip(services, inferred, strict=True)
    ]
    named = pc.replace_with_mask(named, pa.array(missing), pa.array(inferred, pa.large_string()))
    return named, unnamed


def _tracking_doubts(
    carrier: pa.ChunkedArray, tracking: pa.ChunkedArray, fast: np.ndarray
) -> np.ndarray:
    """Mark the fast rows whose number fails its carrier's check digit or is another's number.

    UPS 1Z numbers under UPS are checked here for all rows at once; every other
    row is checked by the carrier rules, once per distinct carrier and number.
    """
    doubtful = np.zeros(len(fast), dtype=bool)
    checked = fast & to_numpy(pc.not_equal(carrier, ""))
    checked &= ~_valid_ups_numbers(carrier, tracking, checked)
    positions = np.flatnonzero(checked)
    if not len(positions):
        return doubtful

    taken = pa.array(positions)
    names = pc.take(carrier, taken).to_pylist()
    numbers = pc.take(tracking, taken).to_pylist()
    known: dict[tuple[str, str], bool] = {}
    verdicts = []
    for pair in zip(names, numbers, strict=True):
        verdict = known.get(pair)
        if verdict is None:
            verdict = known[pair] = has_tracking_doubt(*pair)
        verdicts.append(verdict)
    doubtful[positions] = verdicts
    return doubtful


# A UPS number: "1Z", a serial of 15 digits and letters, and a check digit.
_UPS_NUMBER = "^1Z[0-9A-Z]{15}[0-9]$"
_UPS_SERIAL = slice(2, 17)


def _valid_ups_numbers(
    carrier: pa.ChunkedArray, tracking: pa.ChunkedArray, rows: np.ndarray
) -> np.ndarray:
    """Mark the given rows that name UPS and hold a UPS 1Z number with a right check digit.

    The check is the one importer.carriers applies to "UPS 1Z" (mod 10 of the
    serial, every second character doubled, a letter counting as its code
    point minus 3), worked on a matrix of all such numbers; the tests compare
    the two on random numbers.
    """
    upper = pc.ascii_upper(tracking)
    candidates = rows & to_numpy(pc.equal(carrier, "UPS"))
    candidates &= to_numpy(pc.match_substring_regex(upper, _UPS_NUMBER))
    positions = np.flatnonzero(candidates)
    valid = np.zeros(len(rows), dtype=bool)
    if not len(positions):
        return valid

    numbers = pc.take(upper, pa.array(positions)).combine_chunks().cast(pa.large_binary())
    offsets = np.frombuffer(numbers.buffers()[1], dtype=np.int64)[numbers.offset :]
    start = int(offsets[0])
    data = np.frombuffer(numbers.buffers()[2], dtype=np.uint8)
    characters = data[start : start + UPS_LENGTH * len(positions)].reshape(-1, UPS_LENGTH)

    # A column at a time, so that no matrix of wide integers is built for a million rows.
    total = np.zeros(len(positions), dtype=np.int32)
    for offset, column in enumerate(range(_UPS_SERIAL.start, _UPS_SERIAL.stop)):
        code = characters[:, column].astype(np.int32)
        value = np.where(code >= ord("A"), (code - 3) % 10, code - ord("0"))
        total += value if offset % 2 == 0 else 2 * value
    check = characters[:, -1].astype(np.int32) - ord("0")
    valid[positions] = (-total % 10) == check
    return valid


def _carrier_name(value: str) -> str:
    carrier = carriers.find_carrier(value) if value else None
    return carrier.name if carrier else value


def _may_have_lost_zeros(carrier: pa.ChunkedArray, tracking: pa.ChunkedArray) -> np.ndarray:
    """Mark rows whose number has the length of one of its carrier's numbers without zeros."""
    distinct, codes = first_appearance_codes(carrier)
    names = distinct.to_pylist()
    shortened = [carriers.shortened_lengths(name) if name else frozenset() for name in names]
    suspect = np.zeros(len(carrier), dtype=bool)
    if not any(shortened):
        return suspect
    lengths = to_numpy(pc.utf8_length(tracking)).astype(np.int64)
    for code, lengths_of_carrier in enumerate(shortened):
        if lengths_of_carrier:
            suspect |= (codes == code) & np.isin(lengths, list(lengths_of_carrier))
    digits = to_numpy(pc.match_substring_regex(tracking, r"^[0-9]+$"))
    return np.asarray(suspect & digits)


def _quantities(trimmed: pa.ChunkedArray, fast: np.ndarray) -> np.ndarray:
    """Read the quantity of each fast row; other rows get NO_QTY, and later normalize_row's."""
    # Fast rows hold digits, perhaps with ".0", or nothing.
    digits = pc.if_else(pa.array(fast), trimmed, "")
    if pc.any(pc.match_substring(digits, ".")).as_py():
        digits = pc.replace_substring_regex(digits, r"\.0+$", "")
    digits = pc.if_else(pc.equal(digits, ""), str(NO_QTY), digits)
    return to_numpy(pc.cast(digits, pa.int64())).astype(np.int64)


def _notify(trimmed: pa.ChunkedArray, count: int) -> np.ndarray:
    notify = np.full(count, NOTIFY_UNSET, dtype=np.int8)
    given = to_numpy(pc.not_equal(trimmed, ""))
    notify[given] = to_numpy(pc.match_substring_regex(trimmed, _TRUE))[given]
    return notify


def _normalize_slow_rows(
    shipments: Shipments, normalize: Callable[[SourceRow], ShipmentRow], positions: np.ndarray
) -> None:
    """Normalize the given rows one at a time and write their values into the arrays."""
    if not len(positions):
        return
    slow = {int(p): normalize(shipments.rows[int(p)]) for p in positions}
    shipments.slow = slow

    mask = np.zeros(len(shipments), dtype=bool)
    mask[positions] = True
    replace = pa.array(mask)
    for name in TEXT_FIELDS:
        values = pa.array([getattr(slow[int(p)], name) for p in positions], pa.large_string())
        shipments.text[name] = pc.replace_with_mask(shipments.text[name], replace, values)
    for position, shipment in slow.items():
        shipments.qty[position] = NO_QTY if shipment.qty is None else shipment.qty
        notify = shipment.notify_customer
        shipments.notify_customer[position] = NOTIFY_UNSET if notify is None else int(notify)
