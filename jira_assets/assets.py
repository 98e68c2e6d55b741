"""The asset factory: one EndpointSpec row in, one software-defined asset out.

This is the only module that knows both sides: it asks the source side (jira_assets.jira) for pages of
records and hands the sink (jira_assets.lake) a stream of Arrow batches to commit. It stays thin.
"""


import itertools
import json
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
from dagster import AssetExecutionContext, AssetIn, AssetsDefinition, MetadataValue, TableColumn, TableSchema, asset

from jira_assets.endpoints import ADMIN_ONLY, BY_NAME, DEFAULT_ENABLED, ENDPOINTS, EndpointSpec, ParentLink
from jira_assets.jira.extract import ParentRef, changelog_bulkfetch, comments_for_issues, extract, worklogs_bulk
from jira_assets.lake.arrow import Column, records_to_batch, schema_for
from jira_assets.lake.io_manager import TableWrite
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


def table_columns(spec: EndpointSpec) -> list[Column]:
    """Parent key first, then the typed columns; `_raw` and `_synced_at` are added by the lake's Arrow layer."""
    return parent_key_columns(spec) + [col for col in spec.columns if col.name not in {spec.parent.key if spec.parent else None}]


def arrow_schema(spec: EndpointSpec) -> pa.Schema:
    parent = parent_key_columns(spec)
    typed = [col for col in spec.columns if col.name not in {p.name for p in parent}]
    return schema_for(typed, {p.name: p.type for p in parent})


def column_schema(spec: EndpointSpec) -> TableSchema:
    cols = [TableColumn(col.name, ICEBERG_TYPES[col.type], description=f"from `{col.path}`")
            for col in table_columns(spec)]
    cols.append(TableColumn("_raw", "string (JSON)", description="the record exactly as Jira returned it"))
    cols.append(TableColumn("_synced_at", "timestamptz", description="when this run fetched the record"))
    return TableSchema(columns=cols)


def _batches(spec: EndpointSpec, pages: AsyncIterator[list[tuple[dict, dict]]], synced_at: datetime):
    """Group pages of (record, parent keys) into Arrow batches of about BATCH_ROWS rows."""
    parent = parent_key_columns(spec)
    typed = [col for col in spec.columns if col.name not in {p.name for p in parent}]

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
    if spec.fetch.paging == "embedded_comments":
        return ["id", "_raw"]
    return sorted({link.id_column, *link.where})


def _embedded_comments(parent: Any) -> Iterator[tuple[str, dict | None]]:
    """(issue id, fields.comment) from issue_search's `_raw`, batch by batch so memory stays flat."""
    batches = parent.to_batches() if isinstance(parent, pa.Table) else parent
    for batch in batches:
        for issue_id, raw in zip(batch.column("id").to_pylist(), batch.column("_raw").to_pylist()):
            fields = (json.loads(raw) if raw else {}).get("fields") or {}
            yield str(issue_id), fields.get("comment")


# ---- the factory ------------------------------------------------------------------------------------------------


def _pages(spec: EndpointSpec, client, parent: Any) -> AsyncIterator[list[tuple[dict, dict]]]:
    style = spec.fetch.paging
    if style == "changelog_bulkfetch":
        return changelog_bulkfetch(client, [str(r.path_id) for r in parent_refs(spec.parent, parent)], spec.name)
    if style == "embedded_comments":
        return comments_for_issues(client, _embedded_comments(parent), spec.name)
    if style == "worklog_bulk":
        return worklogs_bulk(client, spec.name)
    if spec.parent is not None:
        return extract(client, spec.fetch, spec.name, parent_refs(spec.parent, parent))
    return extract(client, spec.fetch, spec.name)


def table_write(spec: EndpointSpec, jira: JiraResource, parent: Any = None) -> TableWrite:
    """The stream of batches for one materialization, plus metadata filled in once the stream is drained."""
    synced_at = datetime.now(timezone.utc)
    metadata: dict[str, Any] = {}

    async def produce():
        async with jira.client() as client:
            try:
                async for batch in _batches(spec, _pages(spec, client, parent), synced_at):
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
        mode=spec.write_mode,
        key_columns=list(spec.primary_key),
        summary={"jira.endpoint": spec.name},
        metadata=metadata,
    )


def build_asset(spec: EndpointSpec) -> AssetsDefinition:
    common = dict(
        name=spec.name,
        group_name=spec.group,
        description=spec.description,
        kinds={"jira", "iceberg"},
        io_manager_key="lake",
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
        def _root(context: AssetExecutionContext, jira: JiraResource) -> TableWrite:
            return table_write(spec, jira)

        return _root

    ins = {"parent": AssetIn(key=spec.parent.asset, metadata={"columns": parent_columns(spec),
                                                               "stream": spec.fetch.paging == "embedded_comments"})}

    @asset(ins=ins, **common)
    def _child(context: AssetExecutionContext, jira: JiraResource, parent: Any) -> TableWrite:
        return table_write(spec, jira, parent)

    return _child


def build_assets(names: Iterable[str] | None = None) -> list[AssetsDefinition]:
    names = set(enabled_endpoints() if names is None else names)
    return [build_asset(spec) for spec in ENDPOINTS if spec.name in names]
