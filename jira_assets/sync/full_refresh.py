"""Full refresh: fetch the whole list (for a child: for every parent Jira serves it for) and replace the table in
one commit. Every endpoint without a cheaper way to find changes is synced like this."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from jira_assets.jira.fetch import ParentRef, fetch_pages
from jira_assets.sync.base import SyncContext, SyncPlan, SyncStrategy


class FullRefresh(SyncStrategy):
    name = "full_refresh"

    def plan(self, ctx: SyncContext) -> SyncPlan:
        spec = ctx.spec
        if spec.parent is None:
            return SyncPlan(lambda client: fetch_pages(client, spec.fetch, spec.name))
        link = spec.parent
        parent = ctx.lake.read_table(link.asset, sorted({link.id_column, *link.where}))
        refs = parent_refs(link, parent)
        return SyncPlan(lambda client: fetch_pages(client, spec.fetch, spec.name, refs))


def parent_refs(link: Any, table: pa.Table) -> list[ParentRef]:
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
