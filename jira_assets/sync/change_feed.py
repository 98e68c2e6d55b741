"""A change feed with its own cursors: worklog/updated from its cursor every run (merged by key), and
worklog/deleted from its own cursor at the census cadence (the deleted ids are removed in the same commit).

The feed is the whole site's. With an issue filter (JIRA_JQL_FILTER, JIRA_START_DATE) only the worklogs of issues
in issue_search are kept: worklog/list (1000 ids a call) says whose each one is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

from jira_assets.jira.bulk import deleted_worklog_ids, worklog_issues
from jira_assets.jira.fetch import fetch_pages
from jira_assets.sync import summary as keys
from jira_assets.sync.base import SyncContext, SyncPlan, SyncStrategy
from jira_assets.sync.issue_search import census_due
from jira_assets.sync.scope import IncrementalSettings


@dataclass(frozen=True)
class WorklogChangeFeed(SyncStrategy):
    issues: str = "issue_search"  # the issues a filtered feed is restricted to
    name = "worklog_change_feed"
    incremental = True

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.issues,)

    def plan(self, ctx: SyncContext) -> SyncPlan:
        spec, lake, synced_at = ctx.spec, ctx.lake, ctx.synced_at
        settings = IncrementalSettings.from_env(ctx.env)
        full = ctx.options.full_refresh or not lake.table_exists(spec.name)
        census = not full and census_due(ctx, settings)
        overlap_ms = settings.overlap_minutes * 60_000
        cursor = {"updated": 0, "deleted": 0}
        if not full:
            cursor["updated"] = int(lake.last_committed_property(spec.name, keys.WORKLOG_UPDATED_CURSOR) or 0)
            cursor["deleted"] = int(lake.last_committed_property(spec.name, keys.WORKLOG_DELETED_CURSOR) or 0)
        since = {k: max(0, v - overlap_ms) if v else 0 for k, v in cursor.items()}
        summary = {keys.FULL: str(full).lower()}
        if full or census:
            summary[keys.CENSUS_AT] = synced_at.isoformat()
        metadata: dict[str, Any] = {"incremental": not full, "census": census}
        removed: list[int] = []
        key = spec.primary_key[0]
        scoped = bool(settings.jql_filter or settings.start_date)
        in_scope = ({str(i) for i in lake.read_table(self.issues, ["id"]).column("id").to_pylist()}
                    if scoped else set())

        async def pages(client):
            fetch = replace(spec.fetch, params={**spec.fetch.params, "since": since["updated"]})
            async for page in fetch_pages(client, fetch, spec.name):
                cursor["updated"] = max([cursor["updated"], *(int(r["updatedTime"]) for r, _ in page)])
                if scoped:
                    owners = await worklog_issues(client, [int(r["worklogId"]) for r, _ in page], spec.name)
                    page = [(r, k) for r, k in page if owners.get(int(r["worklogId"])) in in_scope]
                yield page
            if full:
                cursor["deleted"] = cursor["updated"]  # the deletion feed only matters from this load on
            elif census:
                removed.extend(int(i) for i in await deleted_worklog_ids(client, spec.name, since["deleted"], cursor))
                metadata["worklogs_deleted"] = len(removed)
            summary[keys.WORKLOG_UPDATED_CURSOR] = str(cursor["updated"])
            summary[keys.WORKLOG_DELETED_CURSOR] = str(cursor["deleted"])

        deletes = None if full else (lambda: [pa.table({key: pa.array(removed, pa.int64())})])
        return SyncPlan(pages, "replace" if full else "merge", summary, deletes, metadata)
