"""Full refresh: fetch the whole list (for a child: for every parent Jira serves it for) and replace the table in
one commit. Every endpoint without a cheaper way to find changes is synced like this.

An empty answer is checked before it replaces anything, because Jira often says no by saying nothing: an admin
list answers an empty page to credentials without the permission, and every parent of a child can be refused
(404) when a product or a permission is gone. Such a result raises SyncRefused and the table keeps its snapshot;
a list that really became empty (the permission held, the parents answered) still empties the table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

from jira_assets.jira import calls
from jira_assets.jira.client import JiraClient
from jira_assets.jira.fetch import ParentRef, fetch_pages
from jira_assets.sync.base import SyncContext, SyncPlan, SyncRefused, SyncStrategy
from jira_assets.sync.scope import IncrementalSettings, scope_jql

PERMISSION_NAMES = {"ADMINISTER": "Administer Jira"}


@dataclass(frozen=True)
class FullRefresh(SyncStrategy):
    """`issue_scope`: the endpoint lists issues (a board's, a sprint's) and takes a `jql` parameter, so the issue
    filter (JIRA_JQL_FILTER, JIRA_START_DATE) restricts it as it restricts issue_search."""

    issue_scope: bool = False
    name = "full_refresh"

    def plan(self, ctx: SyncContext) -> SyncPlan:
        spec = ctx.spec
        if self.issue_scope:
            settings = IncrementalSettings.from_env(ctx.env)
            if settings.jql_filter or settings.start_date:
                spec = replace(spec, fetch=replace(spec.fetch, params={**spec.fetch.params,
                                                                       "jql": scope_jql(settings)}))
        refs: list[ParentRef] | None = None
        if spec.parent is not None:
            link = spec.parent
            parent = ctx.lake.read_table(link.asset, sorted({link.id_column, *link.where}))
            refs = parent_refs(link, parent)
        previous_rows = ctx.lake.row_count(spec.name)

        async def verify(client: JiraClient, rows: int) -> None:
            if rows:
                return
            kept = f"; {spec.name} keeps its {previous_rows} rows" if previous_rows else ""
            if spec.permission:
                missing = await calls.missing_permissions(client, [spec.permission], spec.name)
                if missing:
                    label = PERMISSION_NAMES.get(spec.permission, spec.permission)
                    raise SyncRefused(
                        f"{spec.name}: Jira answered with no rows, and these credentials lack the {spec.permission} "
                        f"permission ({label}) that {spec.name} needs, so the empty answer is a refusal{kept}",
                        status=403)
            if refs and client.stats.skipped_parents >= len(refs):
                reasons = "; ".join(sorted(client.stats.skip_reasons))
                raise SyncRefused(
                    f"{spec.name}: Jira refused it for every one of the {len(refs)} {spec.parent.asset} rows it "
                    f"is read for ({reasons}){kept}", status=_status(client))

        if refs is None:
            return SyncPlan(lambda client: fetch_pages(client, spec.fetch, spec.name), verify=verify)
        return SyncPlan(lambda client: fetch_pages(client, spec.fetch, spec.name, refs), verify=verify)


def _status(client: JiraClient) -> int | None:
    statuses = {skip["status"] for skip in client.stats.skips}
    return statuses.pop() if len(statuses) == 1 else None


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
