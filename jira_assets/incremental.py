"""Incremental sync: what to fetch this run, decided from what the lake has committed.

Every cursor lives in the snapshot summary of the commit that wrote its data (see lake.writer), so a failed or
killed run can never advance a cursor past what was written; rerunning converges to the same tables.

- issue_search: `updated >= cursor - overlap` in the caller's time zone at minute precision (Jira reads JQL dates
  that way), newest minutes held back, merged by id. An id-only census (search/jql fields=id, 5000 a page) finds
  issues deleted in Jira and deletes them; their ids are recorded in that commit so the children delete theirs.
- Children of issue_search follow the parent's commits since the ones they processed (their watermark): changed
  issues are re-fetched whole (delete by issue_id + append), census deletions are applied, and a full load of the
  parent makes the child reload fully.
- Worklogs have their own cursors on worklog/updated and worklog/deleted.

Deleted issues are removed, not flagged: the tables then equal Jira, and Iceberg's snapshots keep every earlier
state for time travel (`scan(snapshot_id=...)`) when someone needs to see what a deleted issue looked like.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from jira_assets.env import env_number

# Snapshot summary keys (strings in the Iceberg snapshot summary of each commit).
SYNCED_AT = "jira.synced-at"  # when the run that made this commit fetched its data (ISO, UTC)
FULL = "jira.full-load"  # "true" when the commit replaced the whole table
CURSOR_UPDATED = "jira.cursor.updated"  # issue_search: newest fields.updated committed (ISO, UTC)
FILTER = "jira.filter"  # issue_search: fingerprint of the JQL filter and start date it was loaded with
CENSUS_AT = "jira.census.at"  # issue_search: when the last census ran
CENSUS_GONE = "jira.census.gone"  # issue_search: ids the census removed in this commit, comma-separated
PARENT_WATERMARK = "jira.parent.synced-at"  # children: the parent's newest commit they have processed
WORKLOG_UPDATED_CURSOR = "jira.cursor.worklog-updated"  # epoch ms, worklog/updated
WORKLOG_DELETED_CURSOR = "jira.cursor.worklog-deleted"  # epoch ms, worklog/deleted

FULL_REFRESH_TAG = "jira_assets/full_refresh"  # run tag: "true" reloads every table of the run from scratch
CENSUS_TAG = "jira_assets/census"  # run tag: "true" runs the deletion census in this run


@dataclass(frozen=True)
class IncrementalSettings:
    """Environment: JIRA_JQL_FILTER, JIRA_START_DATE, JIRA_OVERLAP_MINUTES, JIRA_HOLDBACK_MINUTES,
    JIRA_CENSUS_EVERY_HOURS (documented in the README)."""

    jql_filter: str = ""
    start_date: str = ""  # yyyy-mm-dd: only issues updated on or after it
    overlap_minutes: int = 5
    holdback_minutes: int = 1
    census_every_hours: float = 24.0

    @classmethod
    def from_env(cls) -> IncrementalSettings:
        start = os.environ.get("JIRA_START_DATE", "").strip()
        if start:
            try:
                datetime.strptime(start, "%Y-%m-%d")
            except ValueError:
                raise ValueError(f"JIRA_START_DATE must look like 2024-01-31, got {start!r}") from None
        return cls(
            jql_filter=os.environ.get("JIRA_JQL_FILTER", "").strip(),
            start_date=start,
            overlap_minutes=env_number("JIRA_OVERLAP_MINUTES", 5, kind=int, what="a whole number of minutes"),
            holdback_minutes=env_number("JIRA_HOLDBACK_MINUTES", 1, kind=int, what="a whole number of minutes"),
            census_every_hours=env_number("JIRA_CENSUS_EVERY_HOURS", 24.0, what="a number of hours"),
        )

    @property
    def fingerprint(self) -> str:
        """Changes whenever the set of issues in scope changes, which forces a full reload."""
        return hashlib.sha256(f"{self.jql_filter}\x1f{self.start_date}".encode()).hexdigest()[:16]

    def scope_clauses(self, bounded_elsewhere: bool = False) -> list[str]:
        clauses = [f"({self.jql_filter})"] if self.jql_filter else []
        if self.start_date:
            clauses.append(f'updated >= "{self.start_date} 00:00"')
        elif not bounded_elsewhere:
            clauses.append('updated >= "1970-01-01 00:00"')  # Jira rejects unbounded JQL: bound a full load by the epoch
        return clauses


def jql_minute(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as a JQL date literal: the caller's wall-clock time, floored to the minute."""
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M")


ORDER = " ORDER BY updated ASC, id ASC"


def full_jql(settings: IncrementalSettings) -> str:
    return " AND ".join(settings.scope_clauses()) + ORDER


def incremental_jql(settings: IncrementalSettings, cursor: datetime, tz: ZoneInfo) -> str:
    # The cursor minus the overlap, floored to the minute, read by Jira in the caller's time zone: an issue
    # updated in the cursor's own minute, or indexed late (search is eventually consistent), is fetched again
    # and deduplicated by id. Around a DST fall-back the local minute can repeat; the overlap covers that hour
    # only if it is at least 60 minutes, so the floor goes back one more hour when the wall clock is ambiguous.
    lower = cursor - timedelta(minutes=settings.overlap_minutes)
    local = lower.astimezone(tz)
    if local.replace(fold=1).utcoffset() != local.replace(fold=0).utcoffset():
        lower -= timedelta(hours=1)
    window = f'updated >= "{jql_minute(lower, tz)}"'
    return " AND ".join([*settings.scope_clauses(bounded_elsewhere=True), window]) + ORDER


def census_jql(settings: IncrementalSettings) -> str:
    return " AND ".join(settings.scope_clauses()) + " ORDER BY id ASC"


def parse_instant(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def held_back_cursor(newest_seen: datetime | None, previous: datetime | None, holdback_minutes: int,
                     now: datetime | None = None) -> datetime | None:
    """The cursor to commit: the newest `updated` written, never in the last `holdback` minutes (those may still
    be indexing), never behind the previous cursor."""
    now = now or datetime.now(timezone.utc)
    candidates = [c for c in (newest_seen,) if c is not None]
    cursor = min(candidates[0], now - timedelta(minutes=holdback_minutes)) if candidates else None
    if previous is not None and (cursor is None or cursor < previous):
        return previous
    return cursor


@dataclass
class ParentChanges:
    """What a child must do after the parent commits it has not yet processed."""

    full: bool  # the parent was (re)loaded fully, or the child has no watermark: reload the child fully
    since: datetime | None  # parent rows with _synced_at after this are new or changed
    gone_ids: set[str] = field(default_factory=set)  # ids the parent's census removed
    watermark: datetime | None = None  # the parent's newest commit, to record on the child's commit


def parent_changes(parent_table, child_watermark: datetime | None) -> ParentChanges:
    """Walk the parent's snapshots newer than the child's watermark, newest first."""
    if parent_table is None or parent_table.current_snapshot() is None:
        return ParentChanges(full=True, since=None)
    newest: datetime | None = None
    full = child_watermark is None
    gone: set[str] = set()
    for snapshot in _ancestors(parent_table):
        props = snapshot.summary.additional_properties if snapshot.summary else {}
        synced = parse_instant(props.get(SYNCED_AT))
        if synced is None:
            continue  # a commit not made by this connector (maintenance): nothing to follow
        if newest is None:
            newest = synced
        if child_watermark is not None and synced <= child_watermark:
            break
        if props.get(FULL) == "true":
            full = True
        gone.update(i for i in props.get(CENSUS_GONE, "").split(",") if i)
    return ParentChanges(full=full, since=None if full else child_watermark, gone_ids=gone,
                         watermark=newest or child_watermark)


def _ancestors(table):
    snapshot = table.current_snapshot()
    while snapshot is not None:
        yield snapshot
        snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id) if snapshot.parent_snapshot_id else None
