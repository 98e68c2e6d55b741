"""Issue search with a cursor: the first load asks for every issue; later runs ask only for issues updated since
the cursor (less an overlap), in the account's time zone at minute precision, as Jira reads JQL dates.

- The cursor is the newest `updated` written, held back from the newest minutes (search is eventually consistent),
  and is committed in the same snapshot as the rows, so it can never run ahead of them.
- Issues the overlap brings back unchanged (`updated` equal to the lake's) are skipped: a quiet run rewrites nothing.
- Every incremental run asks Jira how many issues are in scope (one approximate count) and compares it with the
  table as this run leaves it; when they differ, or at the census cadence, an id-only search finds the issues deleted
  in Jira (or moved out of the filter); they are removed, and their ids are recorded in the commit (`CENSUS_GONE`)
  so the children remove theirs too. Removed, not flagged: the tables then equal Jira,
  and Iceberg's snapshots keep every earlier state for time travel.
- A changed filter or start date (its fingerprint is in the commit) forces a full reload, so no stale rows stay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from jira_assets.jira import calls
from jira_assets.jira.fetch import fetch_pages
from jira_assets.jira.custom_fields import EPIC_LINK
from jira_assets.jira.jql import epoch_ms, floor_minute
from jira_assets.lake.arrow import RAW_COLUMN, SYNCED_AT_COLUMN, parse_timestamp
from jira_assets.sync import summary as keys
from jira_assets.sync.base import LakeView, SyncContext, SyncPlan, SyncStrategy
from jira_assets.sync.custom_columns import CustomColumns, FieldSelection, field_rows_from, plan_columns
from jira_assets.sync.scope import (
    IncrementalSettings, census_jql, full_jql, held_back_cursor, incremental_jql, parse_instant, scope_jql,
)


@dataclass(frozen=True)
class IssueSearchCursor(SyncStrategy):
    """`field_catalogue`: the table of `GET /rest/api/2/field` its custom field columns are typed from."""

    field_catalogue: str = ""
    name = "issue_search_cursor"
    incremental = True
    follows_deletions = True

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.field_catalogue,) if self.field_catalogue else ()

    def plan(self, ctx: SyncContext) -> SyncPlan:
        spec, lake, synced_at = ctx.spec, ctx.lake, ctx.synced_at
        settings = IncrementalSettings.from_env(ctx.env)
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
        created: dict[str, datetime | None] = {}  # every issue the table holds once this run commits
        if not full:
            stored = lake.read_table(spec.name, ["id", "updated", "created"],
                                     types={"updated": "timestamptz", "created": "timestamptz"})
            ids = [str(i) for i in stored.column("id").to_pylist()]
            known = dict(zip(ids, stored.column("updated").to_pylist()))
            created = dict(zip(ids, stored.column("created").to_pylist()))
        newest: list[datetime] = []
        stored_rows = lake.row_count(spec.name)
        custom = self._custom_columns(ctx)
        seen = set(filter(None, (lake.last_committed_property(spec.name, keys.CUSTOM_FIELDS) or "").split(",")))
        if set(custom.field_ids) != seen or full:  # written when it changes: the newest value is found walking back
            summary[keys.CUSTOM_FIELDS] = ",".join(custom.field_ids)
        columns_now = json.dumps(custom.column_keys, sort_keys=True)
        if full or lake.last_committed_property(spec.name, keys.CUSTOM_COLUMNS) != columns_now:
            summary[keys.CUSTOM_COLUMNS] = columns_now
        # Fields that got a column since the last commit: the issues already in the table that hold a value for
        # them are written again (from the lake, as they are) so their new columns are filled, no request needed.
        backfill = set(custom.field_ids) - seen if not full and lake.table_exists(spec.name) else set()
        metadata["custom_field_columns"] = len(custom.columns)

        async def pages(client):
            if backfill:
                refilled = 0
                for page in self._holding(ctx, backfill):
                    refilled += len(page)
                    yield page
                metadata["rows_refilled_for_new_fields"] = refilled
            tz = await calls.account_time_zone(client, spec.name)  # also validates the credentials first
            jql = full_jql(settings) if full else incremental_jql(settings, previous, tz)
            metadata["jql"] = jql
            fetch = replace(spec.fetch, body={**spec.fetch.body, "jql": jql})
            async for page in fetch_pages(client, fetch, spec.name):
                fresh = []
                for record, parent_keys in page:
                    fields = record.get("fields") or {}
                    updated = parse_timestamp(fields.get("updated"))
                    created[str(record.get("id"))] = parse_timestamp(fields.get("created"))
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
            # Due, or an issue went (deleted, moved out of the filter): find which, in this run.
            look = census or (not full and await self._counts_disagree(client, settings, created, metadata))
            metadata["census"] = look
            if look:
                live = await calls.issue_ids(client, census_jql(settings), spec.name)
                gone.extend(sorted(i for i in known if i not in live))
                summary[keys.CENSUS_AT] = synced_at.isoformat()
                summary[keys.CENSUS_GONE] = ",".join(gone)
                metadata["issues_deleted"] = len(gone)

        deletes = None if full else (lambda: [pa.table({"id": pa.array(gone, pa.string())})])
        return SyncPlan(pages, "replace" if full else "merge", summary, deletes, metadata, derive=custom.values,
                        renames=custom.renames)

    @staticmethod
    async def _counts_disagree(client, settings: IncrementalSettings, created: dict[str, datetime | None],
                               metadata: dict[str, Any]) -> bool:
        """One POST search/approximate-count: does Jira hold as many issues in scope as the table will once this
        run commits? Both sides count only issues created before the newest minute the table knows of, so issues
        created since the search are never counted on one side only. A difference means issues left the scope
        (deleted, or moved out of the filter) or are still being indexed: the census settles which."""
        moments = [c for c in created.values() if c is not None]
        if not moments:
            return False
        bound = floor_minute(max(moments))
        ours = sum(1 for c in moments if c < bound)
        theirs = await calls.approximate_count(client, f"({scope_jql(settings)}) AND created < {epoch_ms(bound)}",
                                               "issue_search")
        metadata["deletion_check"] = {"jira_count": theirs, "table_count": ours}
        return theirs != ours

    def _custom_columns(self, ctx: SyncContext) -> CustomColumns:
        spec, lake = ctx.spec, ctx.lake
        if not self.field_catalogue or not lake.table_exists(self.field_catalogue):
            return CustomColumns([])
        rows = field_rows_from(lake.read_table(self.field_catalogue, [RAW_COLUMN]).column(RAW_COLUMN).to_pylist())
        reserved = [c.name for c in spec.table_columns] + [RAW_COLUMN, SYNCED_AT_COLUMN]
        keys_to_ids: dict[str, str] = {}
        if any((f.get("schema") or {}).get("custom") == EPIC_LINK for f in rows) and lake.table_exists(spec.name):
            stored = lake.read_table(spec.name, ["id", "key"])
            keys_to_ids = dict(zip(map(str, stored.column("key").to_pylist()), map(str, stored.column("id").to_pylist())))
        return plan_columns(rows, lake.column_docs(spec.name), reserved, FieldSelection.from_env(ctx.env), keys_to_ids,
                            site=ctx.site, existing_types=lake.column_types(spec.name))

    def _holding(self, ctx: SyncContext, field_ids: set[str]):
        """Pages of the table's issues that hold a value for one of `field_ids`, each with its own `_synced_at` so
        the tables that follow this one see no change."""
        page: list = []
        for batch in ctx.lake.iter_batches(ctx.spec.name, [RAW_COLUMN, SYNCED_AT_COLUMN]):
            for raw, synced in zip(batch.column(RAW_COLUMN).to_pylist(), batch.column(SYNCED_AT_COLUMN).to_pylist()):
                record = json.loads(raw) if raw else {}
                fields = record.get("fields") or {}
                if any(fields.get(f) is not None for f in field_ids):
                    page.append((record, {SYNCED_AT_COLUMN: synced}))
                    if len(page) >= 1000:
                        yield page
                        page = []
        if page:
            yield page


def census_due(ctx: SyncContext, settings: IncrementalSettings) -> bool:
    """Deletions are looked for at the census cadence, on a run tagged for it, or when no census ran yet."""
    return ctx.options.census or _census_overdue(ctx.lake, ctx.spec.name, ctx.synced_at, settings)


def _census_overdue(lake: LakeView, name: str, now: datetime, settings: IncrementalSettings) -> bool:
    last = parse_instant(lake.last_committed_property(name, keys.CENSUS_AT))
    return last is None or now - last >= timedelta(hours=settings.census_every_hours)
