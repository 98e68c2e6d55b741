"""The shape of one catalogue row (`endpoints.py` holds the rows): how an endpoint is requested, which parent feeds
it ids, how it is kept in sync, and what its Iceberg table looks like.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from jira_assets.jira.fetch import FetchSpec
from jira_assets.lake.arrow import SITE_COLUMN, Column, schema_for
from jira_assets.sync.base import SyncStrategy
from jira_assets.sync.full_refresh import FullRefresh


# Every table says which Jira site each row came from; it leads every primary key, so sites can share a table.
SITE = Column(name=SITE_COLUMN, path=SITE_COLUMN, doc="the Jira site the row came from (JIRA_SITE)")


@dataclass(frozen=True)
class ParentLink:
    """Where a child endpoint gets its ids: a column of the parent asset's table, optionally filtered."""

    asset: str
    key: str  # the column on the child table that holds the parent id, e.g. "board_id"
    id_column: str = "id"
    key_type: str = "string"
    # Only parents whose columns hold one of these values; None matches a missing value.
    where: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    # Fetch each distinct id once even when it appears several times in the parent table (shared sprints).
    distinct: bool = True

    @property
    def key_column(self) -> Column:
        return Column(name=self.key, path=self.key, type=self.key_type)


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    group: str
    description: str
    fetch: FetchSpec | None  # None: nothing is requested for it (read from a parent's pages, or derived)
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    parent: ParentLink | None = None
    sync: SyncStrategy = field(default_factory=FullRefresh)
    enabled_by_default: bool = True
    admin_only: bool = False
    needs: str = ""  # a plan or product the endpoint needs, said in errors and docs
    # A global permission (a /mypermissions key) without which Jira answers this endpoint with nothing.
    permission: str = ""
    # What `jira-assets check` requests to see whether the endpoint is readable (default: `fetch`, one record).
    probe: FetchSpec | None = None
    # Columns whose values the sync computes beside each record (the other issue of a link, whether a sprint is the
    # current one), rather than reading them from the record by path.
    computed: tuple[Column, ...] = ()

    @property
    def source(self) -> str:
        """Where its records come from, as the docs and the UI say it."""
        if self.fetch is not None:
            return f"{self.fetch.method} {self.fetch.path}"
        if self.parent is not None:
            return f"the {self.parent.asset} pages already fetched (no request)"
        return "the lake's own tables (no request)"

    # ---- the table ------------------------------------------------------------------------------------------

    @property
    def table_key(self) -> tuple[str, ...]:
        """The table's primary key: the site, then the endpoint's own key."""
        return (SITE_COLUMN, *self.primary_key)

    @property
    def parent_key_columns(self) -> list[Column]:
        return [] if self.parent is None else [self.parent.key_column]

    @property
    def typed_columns(self) -> list[Column]:
        """The columns extracted from each record (the parent key comes from the parent, not the record)."""
        parent_keys = {c.name for c in self.parent_key_columns}
        return [col for col in self.columns if col.name not in parent_keys]

    @property
    def keyed_columns(self) -> list[Column]:
        """The columns whose values come beside each record: the site, the parent key, then the computed ones."""
        return [SITE] + self.parent_key_columns + list(self.computed)

    @property
    def table_columns(self) -> list[Column]:
        """The site and the parent key first, then the typed and computed columns; `_raw` and `_synced_at` are added
        by the lake's Arrow layer."""
        return [SITE] + self.parent_key_columns + self.typed_columns + list(self.computed)

    @property
    def arrow_schema(self) -> pa.Schema:
        """The table's columns in `table_columns` order (the site first), then `_raw` and `_synced_at`."""
        keyed = self.keyed_columns
        schema = schema_for(self.typed_columns, {c.name: c.type for c in keyed}, {c.name: c.doc for c in keyed})
        order = [c.name for c in self.table_columns] + [f.name for f in schema][-2:]
        return pa.schema([schema.field(name) for name in order])
