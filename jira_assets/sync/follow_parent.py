"""Children that follow their parent's commits (changelogs, comments and worklogs follow issue_search).

A child's commit records the parent's newest commit it has processed (its watermark). The next run walks the
parent's commits newer than that: parent rows synced since are re-fetched whole and replace their old rows
(delete by parent key + append, one commit), ids the parent's census removed go too, and a full load of the parent
makes the child reload fully. How the children of a set of parents are read is the endpoint's `ChildFetch`: a bulk
endpoint, the pages Jira embeds in the parent, or a site-wide feed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jira_assets.jira import bulk
from jira_assets.jira.client import JiraClient
from jira_assets.jira.fetch import Page
from jira_assets.lake.arrow import RAW_COLUMN, SYNCED_AT_COLUMN
from jira_assets.lake.history import SUMMARIZED_COMMITS
from jira_assets.sync import summary as keys
from jira_assets.sync.base import LakeView, SyncContext, SyncPlan, SyncStrategy
from jira_assets.sync.scope import parse_instant


@dataclass
class ParentChanges:
    """What a child must do after the parent commits it has not yet processed."""

    full: bool  # the parent was (re)loaded fully, or the child has no watermark: reload the child fully
    since: datetime | None  # parent rows with _synced_at after this are new or changed
    gone_ids: set[str] = field(default_factory=set)  # ids the parent's census removed
    watermark: datetime | None = None  # the parent's newest commit, to record on the child's commit


def parent_changes(parent_commits: Iterable[dict[str, str]], child_watermark: datetime | None) -> ParentChanges:
    """Read the parent's commits (newest first) back to the child's watermark."""
    newest: datetime | None = None
    full = child_watermark is None
    gone: set[str] = set()
    any_commit = False
    for props in parent_commits:
        any_commit = True
        synced = parse_instant(props.get(keys.SYNCED_AT))
        if synced is None:
            continue  # a commit not made by this connector (maintenance): nothing to follow
        if newest is None:
            newest = synced
        if child_watermark is not None and synced <= child_watermark:
            break
        if props.get(keys.FULL) == "true" or props.get(SUMMARIZED_COMMITS) is not None:
            # A summary of expired commits the child has not processed: their census ids are not all known.
            full = True
        gone.update(i for i in props.get(keys.CENSUS_GONE, "").split(",") if i)
    if not any_commit:
        return ParentChanges(full=True, since=None)
    return ParentChanges(full=full, since=None if full else child_watermark, gone_ids=gone,
                         watermark=newest or child_watermark)


@dataclass
class ChangedParents:
    """The parents whose children this run reads: their ids, and where their stored records are."""

    lake: LakeView
    table: str
    ids: list[str]
    since: datetime | None  # None: every parent row

    def embedded(self, field_name: str) -> Iterator[tuple[str, Any]]:
        """(parent id, fields.<field_name>) from the parent's `_raw`, batch by batch so memory stays flat."""
        newer_than = None if self.since is None else (SYNCED_AT_COLUMN, self.since)
        for batch in self.lake.iter_batches(self.table, ["id", RAW_COLUMN], newer_than=newer_than):
            for parent_id, raw in zip(batch.column("id").to_pylist(), batch.column(RAW_COLUMN).to_pylist()):
                fields = (json.loads(raw) if raw else {}).get("fields") or {}
                yield str(parent_id), fields.get(field_name)


class ChildFetch:
    """How the children of a set of changed parents are read."""

    def pages(self, client: JiraClient, spec: Any, parents: ChangedParents) -> AsyncIterator[Page]:
        raise NotImplementedError


class ChangelogBulk(ChildFetch):
    """The catalogue's bulk request (`changelog/bulkfetch`) for the parents' ids, 1000 a call."""

    def pages(self, client, spec, parents):
        return bulk.changelog_bulkfetch(client, spec.fetch, parents.ids, spec.name)


@dataclass(frozen=True)
class EmbeddedPages(ChildFetch):
    """The page Jira embeds in each parent (`fields.<field>`), and the catalogue's per-parent request only where
    that page was truncated."""

    field: str
    items_key: str

    def pages(self, client, spec, parents):
        return bulk.embedded_or_fetched(client, parents.embedded(self.field), spec.name, items_key=self.items_key,
                                        per_issue=spec.fetch)


@dataclass(frozen=True)
class EmbeddedList(ChildFetch):
    """A list Jira embeds in each parent, as records of their own (no request): `fields.<field>`, or the custom
    field whose `schema.custom` is `custom_type` in the field catalogue table `catalogue`; `items` turns the list
    into (record, computed values) pairs (jira/embedded.py)."""

    items: Callable[[list], list]
    field: str = ""
    custom_type: str = ""
    catalogue: str = ""

    def field_id(self, lake: LakeView) -> str | None:
        if self.field:
            return self.field
        if not self.catalogue or not lake.table_exists(self.catalogue):
            return None
        found = lake.read_table(self.catalogue, ["id", "schema_custom"]).to_pylist()
        return next((row["id"] for row in found if row["schema_custom"] == self.custom_type), None)

    async def pages(self, client, spec, parents):
        field_id = self.field_id(parents.lake)
        if field_id is None:
            return
        page: Page = []
        for parent_id, value in parents.embedded(field_id):
            for record, computed in self.items(value if isinstance(value, list) else []):
                page.append((record, {spec.parent.key: parent_id, **computed}))
            if len(page) >= 1000:
                yield page
                page = []
        if page:
            yield page


class WorklogFeed(ChildFetch):
    """Every worklog of the site (worklog/updated for the ids, worklog/list for the records), kept only where its
    issue is one of the parents: the feed knows no JQL filter, and an issue created since the parent's sync comes
    with the next incremental run."""

    async def pages(self, client, spec, parents):
        wanted = set(parents.ids)
        async for page in bulk.worklogs_bulk(client, spec.name):
            kept = [(record, keys) for record, keys in page if keys.get(spec.parent.key) in wanted]
            if kept:
                yield kept


@dataclass(frozen=True)
class FollowParentCommits(SyncStrategy):
    """`full` reads the children of every parent on a full load; `changed` those of the changed parents.
    `other_end`: a column naming another parent (the other issue of a link): rows pointing at a parent the census
    found deleted go too, although their own parent did not change."""

    full: ChildFetch
    changed: ChildFetch
    other_end: str = ""
    name = "follow_parent_commits"
    incremental = True
    follows_deletions = True

    @property
    def reads(self) -> tuple[str, ...]:
        return tuple(sorted({f.catalogue for f in (self.full, self.changed) if getattr(f, "catalogue", "")}))

    @property
    def requires(self) -> tuple[str, ...]:
        # Without the field catalogue a custom field's list cannot be found, and the changed parents of later
        # incremental runs would never bring back the rows of the others.
        return self.reads

    def plan(self, ctx: SyncContext) -> SyncPlan:
        self.check_inputs(ctx)
        spec, lake = ctx.spec, ctx.lake
        link = spec.parent
        watermark = parse_instant(lake.last_committed_property(spec.name, keys.PARENT_WATERMARK))
        changes = parent_changes(lake.commit_properties(link.asset), watermark)
        full = changes.full or ctx.options.full_refresh or not lake.table_exists(spec.name)
        parent = lake.read_table(link.asset, [link.id_column, SYNCED_AT_COLUMN],
                                 types={SYNCED_AT_COLUMN: "timestamptz"})
        if not full and parent.num_rows:
            since = pa.scalar(changes.since, pa.timestamp("us", tz="UTC"))
            parent = parent.filter(pc.greater(parent.column(SYNCED_AT_COLUMN), since))
        summary = {keys.FULL: str(full).lower()}
        if changes.watermark is not None:
            summary[keys.PARENT_WATERMARK] = changes.watermark.isoformat()
        changed = [str(i) for i in parent.column(link.id_column).to_pylist()] if parent.num_rows else []
        gone = sorted(changes.gone_ids)
        # Changed parents are fetched whole, so their old rows go; rows of parents the census found deleted go too.
        def deletes() -> list[pa.Table]:
            tables = [pa.table({link.key: pa.array(changed + gone, pa.string())})]
            if self.other_end and gone:
                tables.append(pa.table({self.other_end: pa.array(gone, pa.string())}))
            return tables

        metadata = {"incremental": not full, "parents_changed": len(changed), "parents_deleted": len(gone)}
        parents = ChangedParents(lake, link.asset, changed, None if full else changes.since)
        fetch = self.full if full else self.changed
        return SyncPlan(lambda client: fetch.pages(client, spec, parents), "replace" if full else "merge",
                        summary, None if full else deletes, metadata)

    def __repr__(self) -> str:
        return f"FollowParentCommits(full={type(self.full).__name__}, changed={type(self.changed).__name__})"
