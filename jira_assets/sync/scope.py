"""Which issues the sync covers and how its JQL is written: the filter and start date, the overlap behind the cursor,
the hold-back before now, the deletion census cadence (environment, README "Configuration").
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from jira_assets.env import env_number
from jira_assets.jira.jql import jql_minute, without_order_by


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
    def from_env(cls, env: Mapping[str, str] | None = None) -> IncrementalSettings:
        env = os.environ if env is None else env
        start = env.get("JIRA_START_DATE", "").strip()
        if start:
            try:
                datetime.strptime(start, "%Y-%m-%d")
            except ValueError:
                raise ValueError(f"JIRA_START_DATE must look like 2024-01-31, got {start!r}") from None
        return cls(
            # A filter copied from Jira often ends in ORDER BY, which cannot stand inside the parentheses the filter
            # is put in; the sync orders the issues itself.
            jql_filter=without_order_by(env.get("JIRA_JQL_FILTER", "")),
            start_date=start,
            overlap_minutes=env_number("JIRA_OVERLAP_MINUTES", 5, kind=int, what="a whole number of minutes", env=env),
            holdback_minutes=env_number("JIRA_HOLDBACK_MINUTES", 1, kind=int, what="a whole number of minutes",
                                        env=env),
            census_every_hours=env_number("JIRA_CENSUS_EVERY_HOURS", 24.0, what="a number of hours", env=env),
        )

    @property
    def fingerprint(self) -> str:
        """Changes whenever the set of issues in scope changes, which forces a full reload."""
        return hashlib.sha256(f"{self.jql_filter}\x1f{self.start_date}".encode()).hexdigest()[:16]

    def describe(self) -> str:
        """The filter settings as a person set them."""
        parts = [f"JIRA_JQL_FILTER={self.jql_filter!r}"] if self.jql_filter else []
        if self.start_date:
            parts.append(f"JIRA_START_DATE={self.start_date}")
        return ", ".join(parts) or "no filter"

    def scope_clauses(self, bounded_elsewhere: bool = False) -> list[str]:
        clauses = [f"({self.jql_filter})"] if self.jql_filter else []
        if self.start_date:
            clauses.append(f'updated >= "{self.start_date} 00:00"')
        elif not bounded_elsewhere:
            clauses.append('updated >= "1970-01-01 00:00"')  # Jira rejects unbounded JQL: bound a full load by the epoch
        return clauses


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


def scope_jql(settings: IncrementalSettings) -> str:
    """The issues the sync covers, without ordering: what counts of the synced issues compare against."""
    return " AND ".join(settings.scope_clauses())


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
