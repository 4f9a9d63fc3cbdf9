"""Gather the rows of each order into one fulfillment request.

`rows` contains the rules, applied to rows one at a time. `columns` groups a
normalized table a column at a time, and hands each order it cannot group
that way to `rows`.
"""

from importer.group.columns import group_shipments
from importer.group.rows import Grouping, OrderGroup, group_rows, group_unique_rows

__all__ = ["Grouping", "OrderGroup", "group_rows", "group_shipments", "group_unique_rows"]
