"""What a table's commits recorded: the snapshot summaries along its ancestry, and column bounds from file
statistics (metadata only, no data read). Sink side: knows Iceberg, not what the properties mean.

Snapshot expiry (maintenance.py) removes old commits but not what they recorded: in the same commit it folds their
summary properties into the table property `lake.expired-history`, a JSON list of summaries, each holding every
key's newest value among the expired commits (the first for the whole table, then one per scope such as a site,
carrying the scope's own key). `commit_properties` yields them after the commits that remain and
`last_committed_property` falls back to them, so a cursor committed long ago reads the same after expiry.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pyarrow.compute as pc
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot

log = logging.getLogger(__name__)

EXPIRED_HISTORY_PROPERTY = "lake.expired-history"  # table property: summaries of the expired commits
SUMMARIZED_COMMITS = "lake.summarized-commits"  # in such a summary: how many commits it stands for


def read_summary(table: Table) -> dict[str, str]:
    """The latest snapshot's summary as a plain dict ({} for a table without snapshots)."""
    snapshot = table.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return {}
    return {k: str(v) for k, v in snapshot.summary.model_dump().items()}


def expired_history(table: Table | None) -> list[dict[str, str]]:
    """The summaries of the table's expired commits (see the module docstring), [] when none expired."""
    raw = table.properties.get(EXPIRED_HISTORY_PROPERTY) if table is not None else None
    if not raw:
        return []
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError:
        log.warning("table %s: property %s is not JSON; ignored", table.name(), EXPIRED_HISTORY_PROPERTY)
        return []
    return [{str(k): str(v) for k, v in e.items()} for e in entries if isinstance(e, dict)] \
        if isinstance(entries, list) else []


def ancestors(table: Table) -> Iterator[Snapshot]:
    """The current snapshot and its ancestors, newest first."""
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
    the data, never ahead of it. Past the oldest commit left, the expired commits' summary answers.
    """
    if table is None:
        return None
    for snapshot in ancestors(table):
        if snapshot.summary is not None:
            value = snapshot.summary[key]
            if value is not None:
                return str(value)
    for summary in expired_history(table)[:1]:  # the whole table's (the others are scoped)
        if summary.get(key) is not None:
            return summary[key]
    return None


def commit_properties(table: Table | None) -> Iterator[dict[str, str]]:
    """The summary properties of every commit along the current snapshot's ancestry, newest first; then the
    summaries of the expired commits (marked with SUMMARIZED_COMMITS)."""
    if table is None:
        return
    for snapshot in ancestors(table):
        props = snapshot.summary.additional_properties if snapshot.summary else {}
        yield {k: str(v) for k, v in props.items()}
    yield from expired_history(table)


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
