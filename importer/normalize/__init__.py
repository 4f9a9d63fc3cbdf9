"""Turn the raw cells of each row into clean shipment values, noting every problem.

`rows` contains the rules, applied to one row at a time. `columns` applies the
same rules a column at a time to the rows whose values need no repair and no
message, and hands every other row to `rows`.
"""

from importer.normalize.columns import Shipments, normalize_table
from importer.normalize.rows import (
    MAX_CARRIER,
    MAX_LOCATION_ID,
    MAX_SHOWN,
    MAX_TRACKING_NUMBER,
    MAX_TRACKING_URL,
    ORDER_ID,
    ShipmentRow,
    clean_text,
    is_order_id,
    normalize_row,
    shorten,
)

__all__ = [
    "MAX_CARRIER",
    "MAX_LOCATION_ID",
    "MAX_SHOWN",
    "MAX_TRACKING_NUMBER",
    "MAX_TRACKING_URL",
    "ORDER_ID",
    "ShipmentRow",
    "Shipments",
    "clean_text",
    "is_order_id",
    "normalize_row",
    "normalize_table",
    "shorten",
]
