"""What a table's commits recorded: the snapshot summaries along its ancestry, and column bounds from file
statistics (metadata only, no data read). Sink side: knows Iceberg, not what the properties mean.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow.compute as pc
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot


def read_summary(table: Table) -> dict[str, str]:
    """The latest snapshot's summary as a plain dict ({} for a table without snapshots)."""
    snapshot = table.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return {}
    return {k: str(v) for k, v in snapshot.summary.model_dump().items()}


def _ancestors(table: Table) -> Iterator[Snapshot]:
    snapshot = table.current_snapshot()
    seen: set[int] = set()
    while snapshot is not None and snapshot.snapshot_id not in seen:
        seen.add(snapshot.snapshot_id)
        yield snapshot
        if snapshot.parent_snapshot_id is None:
            return
        snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id)


def last_committed_property(table: Table | None, key: str) -> str | None:
    """The newest value of a summary property along the current snapshot's ancestry.

    Walking back (rather than reading only the head) keeps a cursor when some other commit
    (maintenance, another tool) lands on top without it; an older cursor is only ever behind
    the data, never ahead of it.
    """
    if table is None:
        return None
    for snapshot in _ancestors(table):
        if snapshot.summary is not None:
            value = snapshot.summary[key]
            if value is not None:
                return str(value)
    return None


def commit_properties(table: Table | None) -> Iterator[dict[str, str]]:
    """The summary properties of every commit along the current snapshot's ancestry, newest first."""
    if table is None:
        return
    for snapshot in _ancestors(table):
        props = snapshot.summary.additional_properties if snapshot.summary else {}
        yield {k: str(v) for k, v in props.items()}


UNKNOWN = object()


def column_max(table: Table, column: str) -> Any:
    """A column's maximum from the data files' upper bounds; None for a table without data files, UNKNOWN when
    some file has no statistics for the column (the caller then scans it)."""
    try:
        files = table.inspect.files()
        if files.num_rows == 0:
            return None
        bounds = files.column("readable_metrics").combine_chunks().field(column).field("upper_bound")
    except Exception:  # no such column, or a catalog without readable metrics
        return UNKNOWN
    if bounds.null_count:
        return UNKNOWN
    return pc.max(bounds).as_py()
