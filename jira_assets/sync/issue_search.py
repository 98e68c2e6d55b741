"""Issue search with a cursor: the first load asks for every issue; later runs ask only for issues updated since
the cursor (less an overlap), in the account's time zone at minute precision, as Jira reads JQL dates.

- The cursor is the newest `updated` written, held back from the newest minutes (search is eventually consistent),
  and is committed in the same snapshot as the rows, so it can never run ahead of them.
- Issues the overlap brings back unchanged (`updated` equal to the lake's) are skipped: a quiet run rewrites nothing.
- At the census cadence an id-only search finds issues deleted in Jira; they are removed, and their ids are recorded
  in the commit (`CENSUS_GONE`) so the children remove theirs too. Removed, not flagged: the tables then equal Jira,
  and Iceberg's snapshots keep every earlier state for time travel.
- A changed filter or start date (its fingerprint is in the commit) forces a full reload, so no stale rows stay.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from jira_assets.jira import calls
from jira_assets.jira.fetch import fetch_pages
from jira_assets.lake.arrow import parse_timestamp
from jira_assets.sync import summary as keys
from jira_assets.sync.base import LakeView, SyncContext, SyncPlan, SyncStrategy
from jira_assets.sync.scope import (
    IncrementalSettings, census_jql, full_jql, held_back_cursor, incremental_jql, parse_instant,
)


class IssueSearchCursor(SyncStrategy):
    name = "issue_search_cursor"
    incremental = True
    follows_deletions = True

    def plan(self, ctx: SyncContext) -> SyncPlan:
        spec, lake, synced_at = ctx.spec, ctx.lake, ctx.synced_at
        settings = IncrementalSettings.from_env()
        previous = parse_instant(lake.last_committed_property(spec.name, keys.CURSOR_UPDATED))
        full = (
            ctx.options.full_refresh or previous is None or not lake.table_exists(spec.name)
            or lake.last_committed_property(spec.name, keys.FILTER) != settings.fingerprint
        )
        census = not full and census_due(ctx, settings)
        summary = {keys.FULL: str(full).lower(), keys.FILTER: settings.fingerprint}
        if full:
            summary[keys.CENSUS_AT] = synced_at.isoformat()  # a full load is as good as a census
        gone: list[str] = []
        metadata: dict[str, Any] = {"incremental": not full, "census": census}
        known: dict[str, datetime] = {}
        if not full:
            stored = lake.read_table(spec.name, ["id", "updated"])
            known = dict(zip((str(i) for i in stored.column("id").to_pylist()), stored.column("updated").to_pylist()))
        newest: list[datetime] = []
        stored_rows = lake.row_count(spec.name)

        async def pages(client):
            tz = await calls.account_time_zone(client, spec.name)  # also validates the credentials first
            jql = full_jql(settings) if full else incremental_jql(settings, previous, tz)
            metadata["jql"] = jql
            fetch = replace(spec.fetch, body={**spec.fetch.body, "jql": jql})
            async for page in fetch_pages(client, fetch, spec.name):
                fresh = []
                for record, parent_keys in page:
                    updated = parse_timestamp((record.get("fields") or {}).get("updated"))
                    if updated is not None and (not newest or updated > newest[0]):
                        newest[:] = [updated]
                    # Jira bumps `updated` on every change, so an issue whose `updated` matches the lake is
                    # unchanged and its children need no refetch.
                    if updated is None or known.get(str(record.get("id"))) != updated:
                        fresh.append((record, parent_keys))
                metadata["unchanged_skipped"] = metadata.get("unchanged_skipped", 0) + len(page) - len(fresh)
                if fresh:
                    yield fresh
            if full and not newest and stored_rows and (settings.jql_filter or settings.start_date):
                metadata["warning"] = (
                    f"{spec.name}: the issue filter ({settings.describe()}) matches no issue, so the table that held "
                    f"{stored_rows} issues is now empty; if that is not what you meant, fix the filter and run again"
                )
            cursor = held_back_cursor(newest[0] if newest else None, previous, settings.holdback_minutes)
            if cursor is not None:
                summary[keys.CURSOR_UPDATED] = cursor.isoformat()
            if census:
                live = await calls.issue_ids(client, census_jql(settings), spec.name)
                gone.extend(sorted(i for i in known if i not in live))
                summary[keys.CENSUS_AT] = synced_at.isoformat()
                summary[keys.CENSUS_GONE] = ",".join(gone)
                metadata["issues_deleted"] = len(gone)

        deletes = None if full else (lambda: [pa.table({"id": pa.array(gone, pa.string())})])
        return SyncPlan(pages, "replace" if full else "merge", summary, deletes, metadata)


def census_due(ctx: SyncContext, settings: IncrementalSettings) -> bool:
    """Deletions are looked for at the census cadence, on a run tagged for it, or when no census ran yet."""
    return ctx.options.census or _census_overdue(ctx.lake, ctx.spec.name, ctx.synced_at, settings)


def _census_overdue(lake: LakeView, name: str, now: datetime, settings: IncrementalSettings) -> bool:
    last = parse_instant(lake.last_committed_property(name, keys.CENSUS_AT))
    return last is None or now - last >= timedelta(hours=settings.census_every_hours)
