"""The asset factory: one EndpointSpec row in, one software-defined asset out.

This is the only module that knows both sides: it asks the source side (jira_assets.jira) for pages of
records and hands the sink (jira_assets.lake) a stream of Arrow batches to commit. It stays thin.
"""


import itertools
import json
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from dagster import AssetExecutionContext, AssetIn, AssetsDefinition, MetadataValue, TableColumn, TableSchema, asset

from jira_assets.endpoints import ADMIN_ONLY, BY_NAME, DEFAULT_ENABLED, ENDPOINTS, EndpointSpec, ParentLink
from jira_assets.incremental import (
    CENSUS_AT, CENSUS_GONE, CENSUS_TAG, CURSOR_UPDATED, FILTER, FULL, FULL_REFRESH_TAG, PARENT_WATERMARK, SYNCED_AT,
    WORKLOG_DELETED_CURSOR, WORKLOG_UPDATED_CURSOR, IncrementalSettings, census_jql, full_jql, held_back_cursor,
    incremental_jql, parent_changes, parse_instant,
)
from jira_assets.jira.extract import (
    ISSUE_COMMENTS, ISSUE_WORKLOGS, ParentRef, changelog_bulkfetch, deleted_worklog_ids, embedded_or_fetched, extract,
    issue_ids, worklogs_bulk,
)
from jira_assets.lake.arrow import Column, parse_timestamp, records_to_batch, schema_for
from jira_assets.lake.io_manager import LakeWriter, TableWrite
from jira_assets.resources import JiraResource
from jira_assets.stream import iterate_in_thread

# Rows per Arrow batch handed to the lake: large enough to keep Parquet efficient, small enough to keep memory flat.
BATCH_ROWS = 2000

ICEBERG_TYPES = {"string": "string", "long": "long", "double": "double", "boolean": "boolean",
                 "timestamptz": "timestamptz", "date": "date", "json": "string (JSON)"}


# ---- which endpoints are on ---------------------------------------------------------------------------------


def enabled_endpoints(include: str | None = None, exclude: str | None = None) -> list[str]:
    """The endpoints to define as assets, from JIRA_ASSETS_INCLUDE / JIRA_ASSETS_EXCLUDE.

    Both are comma-separated endpoint names; the word `default` stands for the 39 endpoints on by default,
    `all` for all 41 and `admin` for those that need Jira admin rights. Include starts from `default`.
    """
    include = os.environ.get("JIRA_ASSETS_INCLUDE", "default") if include is None else include
    exclude = os.environ.get("JIRA_ASSETS_EXCLUDE", "") if exclude is None else exclude
    chosen = _expand(include)
    dropped = _expand(exclude)
    names = [name for name in BY_NAME if name in chosen and name not in dropped]
    for name in names:
        parent = BY_NAME[name].parent
        if parent and parent.asset not in names:
            raise ValueError(
                f"endpoint {name!r} takes its ids from {parent.asset!r}, which is not enabled: "
                f"enable {parent.asset!r} or exclude {name!r} too (JIRA_ASSETS_INCLUDE / JIRA_ASSETS_EXCLUDE)"
            )
    return names


def _expand(words: str) -> set[str]:
    groups = {"default": set(DEFAULT_ENABLED), "all": set(BY_NAME), "admin": set(ADMIN_ONLY)}
    out: set[str] = set()
    for word in (w.strip() for w in words.split(",")):
        if not word:
            continue
        if word in groups:
            out |= groups[word]
        elif word in BY_NAME:
            out.add(word)
        else:
            raise ValueError(f"unknown endpoint {word!r}; known: default, all, admin, {', '.join(BY_NAME)}")
    return out


# ---- tables -------------------------------------------------------------------------------------------------


def parent_key_columns(spec: EndpointSpec) -> list[Column]:
    if spec.parent is None:
        return []
    return [Column(name=spec.parent.key, path=spec.parent.key, type=spec.parent.key_type)]


def typed_columns(spec: EndpointSpec) -> list[Column]:
    """The columns extracted from each record (the parent key is not in the record: it comes from the parent)."""
    parent_keys = {p.name for p in parent_key_columns(spec)}
    return [col for col in spec.columns if col.name not in parent_keys]


def table_columns(spec: EndpointSpec) -> list[Column]:
    """Parent key first, then the typed columns; `_raw` and `_synced_at` are added by the lake's Arrow layer."""
    return parent_key_columns(spec) + typed_columns(spec)


def arrow_schema(spec: EndpointSpec) -> pa.Schema:
    return schema_for(typed_columns(spec), {p.name: p.type for p in parent_key_columns(spec)})


def column_schema(spec: EndpointSpec) -> TableSchema:
    cols = [TableColumn(col.name, ICEBERG_TYPES[col.type], description=f"from `{col.path}`")
            for col in table_columns(spec)]
    cols.append(TableColumn("_raw", "string (JSON)", description="the record exactly as Jira returned it"))
    cols.append(TableColumn("_synced_at", "timestamptz", description="when this run fetched the record"))
    return TableSchema(columns=cols)


def _batches(spec: EndpointSpec, pages: AsyncIterator[list[tuple[dict, dict]]], synced_at: datetime):
    """Group pages of (record, parent keys) into Arrow batches of about BATCH_ROWS rows."""
    parent = parent_key_columns(spec)
    typed = typed_columns(spec)

    def to_batch(rows: list[tuple[dict, dict]]) -> pa.RecordBatch:
        extra = {p.name: [_parent_value(keys.get(p.name), p.type) for _, keys in rows] for p in parent}
        return records_to_batch([r for r, _ in rows], typed, extra=extra or None, synced_at=synced_at)

    async def gen():
        rows: list[tuple[dict, dict]] = []
        async for page in pages:
            rows.extend(page)
            if len(rows) >= BATCH_ROWS:
                yield to_batch(rows)
                rows = []
        if rows:
            yield to_batch(rows)

    return gen()


def _parent_value(value: Any, type_: str) -> Any:
    if value is None:
        return None
    return int(value) if type_ == "long" else str(value)


# ---- parents --------------------------------------------------------------------------------------------------


def parent_refs(link: ParentLink, table: pa.Table) -> list[ParentRef]:
    """The parent ids to fetch children for, filtered by the link's `where` and deduplicated."""
    ids = table.column(link.id_column).to_pylist()
    keep = [True] * len(ids)
    for column, allowed in link.where.items():
        values = table.column(column).to_pylist() if column in table.column_names else [None] * len(ids)
        keep = [k and (v in allowed) for k, v in zip(keep, values)]
    refs: list[ParentRef] = []
    seen: set[Any] = set()
    for parent_id, ok in zip(ids, keep):
        if not ok or parent_id is None or (link.distinct and parent_id in seen):
            continue
        seen.add(parent_id)
        refs.append(ParentRef(parent_id, {link.key: parent_id}))
    return refs


def parent_columns(spec: EndpointSpec) -> list[str]:
    link = spec.parent
    assert link is not None
    if spec.parent.asset == "issue_search":
        return ["id", "_synced_at"]
    return sorted({link.id_column, *link.where})


def _embedded(lake: LakeWriter, since: datetime | None, field_name: str) -> Iterator[tuple[str, dict | None]]:
    """(issue id, fields.<field_name>) from issue_search's `_raw` of the issues synced after `since` (all when
    None), read batch by batch so memory stays flat however many issues there are."""
    newer_than = None if since is None else ("_synced_at", since)
    for batch in lake.iter_batches("issue_search", ["id", "_raw"], newer_than=newer_than):
        for issue_id, raw in zip(batch.column("id").to_pylist(), batch.column("_raw").to_pylist()):
            fields = (json.loads(raw) if raw else {}).get("fields") or {}
            yield str(issue_id), fields.get(field_name)


# ---- one materialization ------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What one materialization fetches and how it is committed (filled in by the endpoint's planner)."""

    pages: Callable[[Any], AsyncIterator[list[tuple[dict, dict]]]]  # client -> pages of (record, parent keys)
    mode: str = "replace"
    summary: dict[str, str] = field(default_factory=dict)  # completed while streaming; committed with the data
    deletes: Callable[[], list[pa.Table]] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _full_refresh_requested(context) -> bool:
    return str(context.run.tags.get(FULL_REFRESH_TAG, "")).lower() == "true"


def _watermark_plan(spec: EndpointSpec, context, lake: LakeWriter, parent: pa.Table, synced_at: datetime):
    """For children of issue_search: which parent rows are new since this child's last commit, and the deletes."""
    watermark = parse_instant(lake.last_committed_property(spec.name, PARENT_WATERMARK))
    changes = parent_changes(lake.load(spec.parent.asset), watermark)
    full = changes.full or _full_refresh_requested(context) or not lake.table_exists(spec.name)
    if not full and parent.num_rows:
        since = pa.scalar(changes.since, pa.timestamp("us", tz="UTC"))
        parent = parent.filter(pc.greater(parent.column("_synced_at"), since))
    summary = {SYNCED_AT: synced_at.isoformat(), FULL: str(full).lower()}
    if changes.watermark is not None:
        summary[PARENT_WATERMARK] = changes.watermark.isoformat()
    changed = [str(i) for i in parent.column("id").to_pylist()] if parent.num_rows else []
    gone = sorted(changes.gone_ids)
    # Changed issues are fetched whole, so their old rows go; rows of issues the census found deleted go too.
    deletes = None if full else (lambda: [pa.table({"issue_id": pa.array(changed + gone, pa.string())})])
    metadata = {"incremental": not full, "parents_changed": len(changed), "parents_deleted": len(gone)}
    return parent, full, summary, deletes, metadata, None if full else changes.since


def plan_for(spec: EndpointSpec, context, lake: LakeWriter, parent: Any, synced_at: datetime) -> Plan:
    style = spec.fetch.paging
    if spec.name == "issue_search":
        return _issue_search_plan(spec, context, lake, synced_at)
    if spec.parent is not None and spec.parent.asset == "issue_search":
        parent, full, summary, deletes, metadata, since = _watermark_plan(spec, context, lake, parent, synced_at)
        mode = "replace" if full else "merge"
        if style == "changelog_bulkfetch":
            ids = [str(i) for i in parent.column("id").to_pylist()]
            return Plan(lambda c: changelog_bulkfetch(c, ids, spec.name), mode, summary, deletes, metadata)
        if style == "embedded_comments":
            return Plan(lambda c: embedded_or_fetched(c, _embedded(lake, since, "comment"), spec.name,
                                                      items_key="comments", per_issue=ISSUE_COMMENTS),
                        mode, summary, deletes, metadata)
        if style == "worklog_bulk" and full:
            # A full load reads every worklog through the bulk feed: 1000 a request, whatever the issue count.
            return Plan(lambda c: worklogs_bulk(c, spec.name), mode, summary, deletes, metadata)
        if style == "worklog_bulk":
            # Adding, editing or deleting a worklog updates its issue, so the changed issues carry every change:
            # their embedded worklogs when complete, per issue where truncated.
            return Plan(lambda c: embedded_or_fetched(c, _embedded(lake, since, "worklog"), spec.name,
                                                      items_key="worklogs", per_issue=ISSUE_WORKLOGS),
                        mode, summary, deletes, metadata)
    if style == "since_until" and spec.name == "worklog_updated":
        return _worklog_updated_plan(spec, context, lake, synced_at)
    if spec.parent is not None:
        refs = parent_refs(spec.parent, parent)
        return Plan(lambda c: extract(c, spec.fetch, spec.name, refs))
    return Plan(lambda c: extract(c, spec.fetch, spec.name))


def _issue_search_plan(spec: EndpointSpec, context, lake: LakeWriter, synced_at: datetime) -> Plan:
    settings = IncrementalSettings.from_env()
    previous = parse_instant(lake.last_committed_property(spec.name, CURSOR_UPDATED))
    full = (
        _full_refresh_requested(context) or previous is None or not lake.table_exists(spec.name)
        or lake.last_committed_property(spec.name, FILTER) != settings.fingerprint
    )
    census = not full and _census_due(context, lake, spec.name, synced_at, settings)
    summary = {SYNCED_AT: synced_at.isoformat(), FULL: str(full).lower(), FILTER: settings.fingerprint}
    if full:
        summary[CENSUS_AT] = synced_at.isoformat()  # a full load is as good as a census
    gone: list[str] = []
    metadata: dict[str, Any] = {"incremental": not full, "census": census}
    known: dict[str, datetime] = {}
    if not full:
        stored = lake.read_table(spec.name, ["id", "updated"])
        known = dict(zip((str(i) for i in stored.column("id").to_pylist()), stored.column("updated").to_pylist()))
    newest: list[datetime] = []

    async def pages(client):
        me = await client.get_json("/rest/api/2/myself", endpoint=spec.name)  # validates credentials; gives the tz
        tz = ZoneInfo(me.get("timeZone") or "UTC")
        jql = full_jql(settings) if full else incremental_jql(settings, previous, tz)
        metadata["jql"] = jql
        fetch = replace(spec.fetch, body={**spec.fetch.body, "jql": jql})
        async for page in extract(client, fetch, spec.name):
            fresh = []
            for record, keys in page:
                updated = parse_timestamp((record.get("fields") or {}).get("updated"))
                if updated is not None and (not newest or updated > newest[0]):
                    newest[:] = [updated]
                # The overlap window brings back issues already written; Jira bumps `updated` on every change,
                # so an issue whose `updated` matches the lake is unchanged and its children need no refetch.
                if updated is None or known.get(str(record.get("id"))) != updated:
                    fresh.append((record, keys))
            metadata["unchanged_skipped"] = metadata.get("unchanged_skipped", 0) + len(page) - len(fresh)
            if fresh:
                yield fresh
        cursor = held_back_cursor(newest[0] if newest else None, previous, settings.holdback_minutes)
        if cursor is not None:
            summary[CURSOR_UPDATED] = cursor.isoformat()
        if census:
            live = await issue_ids(client, census_jql(settings), spec.name)
            gone.extend(sorted(i for i in known if i not in live))
            summary[CENSUS_AT] = synced_at.isoformat()
            summary[CENSUS_GONE] = ",".join(gone)
            metadata["issues_deleted"] = len(gone)

    deletes = None if full else (lambda: [pa.table({"id": pa.array(gone, pa.string())})])
    return Plan(pages, "replace" if full else "merge", summary, deletes, metadata)


def _census_due(context, lake: LakeWriter, name: str, synced_at: datetime, settings: IncrementalSettings) -> bool:
    """Deletions are looked for at the census cadence (or when a run is tagged for it), like deleted issues."""
    last = parse_instant(lake.last_committed_property(name, CENSUS_AT))
    return (str(context.run.tags.get(CENSUS_TAG, "")).lower() == "true" or last is None
            or synced_at - last >= timedelta(hours=settings.census_every_hours))


def _worklog_updated_plan(spec: EndpointSpec, context, lake: LakeWriter, synced_at: datetime) -> Plan:
    """worklog/updated from its cursor; at the census cadence, worklog/deleted from its own cursor removes rows."""
    settings = IncrementalSettings.from_env()
    full = _full_refresh_requested(context) or not lake.table_exists(spec.name)
    census = not full and _census_due(context, lake, spec.name, synced_at, settings)
    overlap_ms = settings.overlap_minutes * 60_000
    cursor = {"updated": 0, "deleted": 0}
    if not full:
        cursor["updated"] = int(lake.last_committed_property(spec.name, WORKLOG_UPDATED_CURSOR) or 0)
        cursor["deleted"] = int(lake.last_committed_property(spec.name, WORKLOG_DELETED_CURSOR) or 0)
    since = {k: max(0, v - overlap_ms) if v else 0 for k, v in cursor.items()}
    summary = {SYNCED_AT: synced_at.isoformat(), FULL: str(full).lower()}
    if full or census:
        summary[CENSUS_AT] = synced_at.isoformat()
    metadata: dict[str, Any] = {"incremental": not full, "census": census}
    removed: list[int] = []

    async def pages(client):
        fetch = replace(spec.fetch, params={**spec.fetch.params, "since": since["updated"]})
        async for page in extract(client, fetch, spec.name):
            cursor["updated"] = max([cursor["updated"], *(int(r["updatedTime"]) for r, _ in page)])
            yield page
        if full:
            cursor["deleted"] = cursor["updated"]  # the deletion feed only matters from this load on
        elif census:
            removed.extend(int(i) for i in await deleted_worklog_ids(client, spec.name, since["deleted"], cursor))
            metadata["worklogs_deleted"] = len(removed)
        summary[WORKLOG_UPDATED_CURSOR] = str(cursor["updated"])
        summary[WORKLOG_DELETED_CURSOR] = str(cursor["deleted"])

    deletes = None if full else (lambda: [pa.table({"worklog_id": pa.array(removed, pa.int64())})])
    return Plan(pages, "replace" if full else "merge", summary, deletes, metadata)


def table_write(spec: EndpointSpec, context, jira: JiraResource, lake: LakeWriter, parent: Any = None) -> TableWrite:
    """The stream of batches for one materialization; summary and metadata are completed once it is drained."""
    synced_at = datetime.now(timezone.utc)
    plan = plan_for(spec, context, lake, parent, synced_at)
    plan.summary.update({"jira.endpoint": spec.name, SYNCED_AT: synced_at.isoformat()})
    metadata = plan.metadata

    async def produce():
        async with jira.client() as client:
            try:
                async for batch in _batches(spec, plan.pages(client), synced_at):
                    yield batch
            finally:
                stats = client.stats
                metadata.update({
                    "requests": stats.requests,
                    "retries": stats.retries,
                    "skipped_parents": stats.skipped_parents,
                })
                if getattr(stats, "skip_reasons", None):
                    metadata["skip_reasons"] = MetadataValue.json(dict(stats.skip_reasons))

    batches = iterate_in_thread(produce)
    # Pull the first batch here, inside the asset's own step, so the usual fatal errors (credentials, permission,
    # a missing feature) fail the asset with Jira's message rather than surfacing later inside the IO manager.
    first = next(batches, None)
    return TableWrite(
        batches=itertools.chain([] if first is None else [first], batches),
        schema=arrow_schema(spec),
        mode=plan.mode,
        key_columns=list(spec.primary_key),
        # The same dict the producer completes while streaming (cursors): the writer reads it once drained.
        summary=plan.summary,
        metadata=metadata,
        deletes=plan.deletes,
    )


def build_asset(spec: EndpointSpec) -> AssetsDefinition:
    common = dict(
        name=spec.name,
        group_name=spec.group,
        description=spec.description,
        kinds={"jira", "iceberg"},
        io_manager_key="lake",
        required_resource_keys={"jira", "lake"},
        owners=["team:data-engineering"],
        tags={"jira/admin_only": str(spec.admin_only).lower(), "jira/write_mode": spec.write_mode},
        metadata={
            "dagster/column_schema": column_schema(spec),
            "primary_key": ", ".join(spec.primary_key),
            "jira_path": f"{spec.fetch.method} {spec.fetch.path}",
        },
    )
    if spec.parent is None:

        @asset(**common)
        def _root(context: AssetExecutionContext) -> TableWrite:
            return table_write(spec, context, context.resources.jira, context.resources.lake.writer())

        return _root

    ins = {"parent": AssetIn(key=spec.parent.asset, metadata={"columns": parent_columns(spec)})}

    @asset(ins=ins, **common)
    def _child(context: AssetExecutionContext, parent: pa.Table) -> TableWrite:
        return table_write(spec, context, context.resources.jira, context.resources.lake.writer(), parent)

    return _child


def build_assets(names: Iterable[str] | None = None) -> list[AssetsDefinition]:
    names = set(enabled_endpoints() if names is None else names)
    return [build_asset(spec) for spec in ENDPOINTS if spec.name in names]
