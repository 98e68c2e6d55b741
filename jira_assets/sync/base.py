"""What every sync strategy shares: the run's options, the read-only view of the lake, the context a strategy
plans from and the plan it hands back.

A strategy (one class per module in this package, named by the catalogue row) decides what one materialization
fetches, how it is committed (replace or merge, deletes) and which cursors and metadata go with the commit.
`run.table_write` turns its plan into the stream of Arrow batches the lake commits. Nothing here knows Dagster.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from jira_assets.jira.client import JiraClient
from jira_assets.jira.fetch import Page

DEFAULT_SITE = "jira"  # the site's name when nothing names it (no JIRA_SITE, no subdomain, no host)
FULL_REFRESH_TAG = "jira_assets/full_refresh"  # run tag: "true" reloads every table of the run from scratch
CENSUS_TAG = "jira_assets/census"  # run tag: "true" runs the deletion census in this run


@dataclass(frozen=True)
class RunOptions:
    """What the person or schedule launching the run asked for (from run tags)."""

    full_refresh: bool = False
    census: bool = False

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> RunOptions:
        def on(tag: str) -> bool:
            return str(tags.get(tag, "")).strip().lower() == "true"

        return cls(full_refresh=on(FULL_REFRESH_TAG), census=on(CENSUS_TAG))


class LakeView(Protocol):
    """The lake as a strategy sees it: read-only (lake.reader.LakeReader is one)."""

    def table_exists(self, name: str) -> bool: ...

    def last_committed_property(self, name: str, key: str) -> str | None: ...

    def commit_properties(self, name: str) -> Iterator[dict[str, str]]: ...

    def read_table(self, name: str, columns: Sequence[str] | None = None,
                   types: Mapping[str, str] | None = None) -> pa.Table: ...

    def iter_batches(self, name: str, columns: Sequence[str], *,
                     newer_than: tuple[str, dt.datetime] | None = None,
                     matching: tuple[str, Collection[str]] | None = None) -> Iterator[pa.RecordBatch]: ...

    def row_count(self, name: str) -> int: ...

    def column_docs(self, name: str) -> dict[str, str]: ...

    def column_types(self, name: str) -> dict[str, str]: ...


@dataclass
class SyncContext:
    """Everything a strategy plans one materialization from. `spec` is the catalogue row (an EndpointSpec)."""

    spec: Any
    lake: LakeView  # the site's share of the lake
    options: RunOptions
    synced_at: dt.datetime
    site: str = DEFAULT_SITE  # the name its rows carry in the `site` column
    # The site's settings (README "Configuration"): the environment, overlaid with what the site configures itself.
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)


@dataclass
class SyncPlan:
    """What one materialization fetches and how it is committed.

    pages: client -> pages of (record, parent keys). summary: committed with the data; a strategy may complete
    it while its pages stream (a cursor), since the writer reads it only once the stream is drained. deletes:
    merge mode only, rows to remove in the same commit (called once the stream is drained).
    """

    pages: Callable[[JiraClient], AsyncIterator[Page]]
    mode: str = "replace"
    summary: dict[str, str] = field(default_factory=dict)
    deletes: Callable[[], list[pa.Table]] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # Called once the pages are drained, before the commit, with the client and the rows fetched: raises
    # SyncRefused when the result is a refusal in disguise (an empty answer to credentials that lack a permission).
    verify: Callable[[JiraClient, int], Awaitable[None]] | None = None
    # Columns derived from each batch's records (a table's custom field columns): records -> {Column: values}.
    derive: Callable[[list[dict]], dict[Any, list]] | None = None
    # Existing columns to rename in the same commit, old name -> new name (a field renamed in Jira).
    renames: dict[str, str] = field(default_factory=dict)


class SyncRefused(Exception):
    """Jira refused what this sync needs, so nothing is committed: the table keeps its last snapshot."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InputMissing(Exception):
    """A table this sync is computed from has never been built, so there is nothing to compute from yet."""


class SyncStrategy:
    """How one endpoint is kept in sync. Subclasses implement `plan`."""

    name: str = ""
    incremental: bool = False  # keeps cursors: its asset rides with the incremental issues run
    follows_deletions: bool = False  # removes rows of issues the deletion census found gone
    reads: tuple[str, ...] = ()  # other tables its plan reads (besides a parent): upstream of its asset
    derived: bool = False  # built from the lake's own tables: no request, nothing in Jira to compare it with
    requires: tuple[str, ...] = ()  # tables it cannot be built without (a subset of `reads`, or its parent)
    checks: tuple[Any, ...] = ()  # what must hold of the table it builds (derived.checks.DerivedCheck)

    def plan(self, ctx: SyncContext) -> SyncPlan:
        raise NotImplementedError

    def check_inputs(self, ctx: SyncContext) -> None:
        """Raises InputMissing naming every table of `requires` the lake has never built."""
        missing = [t for t in self.requires if not ctx.lake.table_exists(t)]
        if missing:
            names = " and ".join(filter(None, [", ".join(missing[:-1]), missing[-1]]))
            raise InputMissing(f"{ctx.spec.name} is computed from {names}, which "
                               f"{'have' if len(missing) > 1 else 'has'} never been built: "
                               f"materialize {names} first")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
