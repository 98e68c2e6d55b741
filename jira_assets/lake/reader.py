"""Reading the lake: one namespace of a pyiceberg catalog, read-only.

The sync strategies see the lake only through this (and the parts of it they use); `writer.LakeWriter` adds writes.

A reader for one site (`for_site`) sees only that site's share of tables several sites write into: the rows whose
`site` column holds its name and the commits whose summary says so. Rows written before tables had the column belong
to no site (the first write of a site replaces them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysFalse, AlwaysTrue, And, BooleanExpression, EqualTo, GreaterThan, In
from pyiceberg.io.pyarrow import ArrowScan
from pyiceberg.table import Table

from jira_assets.lake import arrow as lake_arrow
from jira_assets.lake import history
from jira_assets.lake.arrow import SITE_COLUMN
from jira_assets.lake.catalog import DEFAULT_NAMESPACE, retry_busy

SITE_PROPERTY = "lake.site"  # commit summary: the site whose rows the commit wrote
SITE_ROWS_PROPERTY = "lake.site-rows"  # commit summary: that site's rows once the commit landed


class LakeReader:
    """Reads tables of one namespace of a pyiceberg catalog."""

    def __init__(self, catalog: Catalog, namespace: str = DEFAULT_NAMESPACE, site: str | None = None) -> None:
        self.catalog = catalog
        self.namespace = namespace
        self.site = site

    def for_site(self, site: str | None) -> LakeReader:
        """The same lake as one site sees it (None: every row and commit)."""
        return LakeReader(self.catalog, self.namespace, site)

    def _site_filter(self, table: Table) -> BooleanExpression:
        if self.site is None:
            return AlwaysTrue()
        if SITE_COLUMN not in {f.name for f in table.schema().fields}:
            return AlwaysFalse()  # written before tables had a site column: no site's rows
        return EqualTo(SITE_COLUMN, self.site)

    # -- naming / lookup

    def identifier(self, name: str) -> tuple[str, str]:
        return (self.namespace, name)

    def qualified_name(self, name: str) -> str:
        return f"{self.namespace}.{name}"

    def load(self, name: str) -> Table | None:
        try:
            return retry_busy(self.catalog.load_table, self.identifier(name))
        except NoSuchTableError:
            return None

    def table_exists(self, name: str) -> bool:
        """Whether the table exists (for one site: whether that site ever committed to it)."""
        if self.site is None:
            return self.load(name) is not None
        return next(self.commit_properties(name), None) is not None

    def summary(self, name: str) -> dict[str, str]:
        table = self.load(name)
        return history.read_summary(table) if table is not None else {}

    def last_committed_property(self, name: str, key: str) -> str | None:
        if self.site is None:
            return history.last_committed_property(self.load(name), key)
        return next((props[key] for props in self.commit_properties(name) if props.get(key) is not None), None)

    def column_docs(self, name: str) -> dict[str, str]:
        """Each column's doc (empty when it has none); nothing for a missing table."""
        table = self.load(name)
        return {} if table is None else {f.name: f.doc or "" for f in table.schema().fields}

    def column_types(self, name: str) -> dict[str, str]:
        """Each column's Iceberg type (`long`, `list<string>` ...); nothing for a missing table."""
        table = self.load(name)
        return {} if table is None else {f.name: str(f.field_type) for f in table.schema().fields}

    def row_count(self, name: str) -> int:
        """Rows in the table's current snapshot (0 for a missing or empty table), from its summary; for one site,
        from its last commit's summary."""
        if self.site is None:
            return int(self.summary(name).get("total-records") or 0)
        recorded = self.last_committed_property(name, SITE_ROWS_PROPERTY)
        if recorded is not None:
            return int(recorded)
        table = self.load(name)
        if table is None or table.current_snapshot() is None or SITE_COLUMN not in self.column_types(name):
            return 0
        return sum(b.num_rows for b in self.iter_batches(name, [SITE_COLUMN]))

    def commit_properties(self, name: str) -> Iterator[dict[str, str]]:
        """Summary properties of the table's commits, newest first (nothing for a missing table); for one site,
        only the commits it made."""
        commits = history.commit_properties(self.load(name))
        if self.site is None:
            return commits
        return (props for props in commits if props.get(SITE_PROPERTY) == self.site)

    def column_max(self, name: str, column: str) -> Any:
        """The largest value of a column (None for a missing or empty table), from file statistics when every
        data file has them, else by scanning the column."""
        table = self.load(name)
        if table is None or table.current_snapshot() is None:
            return None
        top = history.column_max(table, column) if self.site is None else history.UNKNOWN
        if top is history.UNKNOWN:
            values = self.read_table(name, [column]).column(column)
            top = pc.max(values).as_py() if len(values) else None
        return top

    # -- reading

    def read_table(
        self,
        name: str,
        columns: Sequence[str] | None = None,
        types: Mapping[str, str] | None = None,
    ) -> pa.Table:
        """The table's current rows, only `columns` (all if None), in that order.

        A missing table (or a column the table does not have) reads as empty/null with the type
        from `types` (arrow.py type names; default string), so children of a never-synced parent
        simply see no ids.
        """
        types = dict(types or {})
        table = self.load(name)
        if table is None:
            names = list(columns) if columns is not None else list(types)
            return pa.schema([pa.field(n, lake_arrow.ARROW_TYPES[types.get(n, "string")]) for n in names]).empty_table()
        have = {f.name for f in table.schema().fields}
        wanted = list(columns) if columns is not None else [f.name for f in table.schema().fields]
        present = [c for c in wanted if c in have]
        row_filter = self._site_filter(table)
        if present:
            data = table.scan(selected_fields=tuple(present), row_filter=row_filter).to_arrow()
        else:  # only absent columns asked for: still one (null) row per table row
            n = table.scan(row_filter=row_filter).count() if table.current_snapshot() is not None else 0
            data = pa.table({"__n": pa.nulls(n, pa.int8())})
        out = []
        for c in wanted:
            if c in have:
                out.append(pa.field(c, data.schema.field(c).type))
            else:
                out.append(pa.field(c, lake_arrow.ARROW_TYPES[types.get(c, "string")]))
        arrays = [data.column(c) if c in have else pa.nulls(data.num_rows, f.type) for c, f in zip(wanted, out)]
        return pa.Table.from_arrays(arrays, schema=pa.schema(out))

    def iter_batches(
        self, name: str, columns: Sequence[str], *, newer_than: tuple[str, dt.datetime] | None = None,
        matching: tuple[str, Collection[str]] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The table's rows batch by batch (flat memory, for wide columns such as `_raw`), optionally only rows
        whose timestamp column is after an instant, or whose column holds one of some values (both pushed down to
        the scan, so files that cannot match are not read)."""
        table = self.load(name)
        if table is None or table.current_snapshot() is None:
            return
        row_filter = self._site_filter(table)
        if newer_than is not None:
            column, instant = newer_than
            row_filter = And(row_filter, GreaterThan(column, instant.astimezone(dt.timezone.utc).isoformat()))
        if matching is not None:
            column, values = matching
            if not values:
                return
            row_filter = And(row_filter, In(column, set(values)))
        scan = table.scan(selected_fields=tuple(columns), row_filter=row_filter)
        # One data file at a time: pyiceberg's own batch reader hands every file to a thread pool at once and keeps
        # each file's batches in a list, which for a wide column such as `_raw` means the whole table in memory.
        reader = ArrowScan(table_metadata=table.metadata, io=table.io, projected_schema=scan.projection(),
                           row_filter=row_filter)
        for task in scan.plan_files():
            yield from reader.to_record_batches([task])
