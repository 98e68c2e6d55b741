"""Sprint membership over time and Jira's Sprint Report, from the issues' field history (docs/derived-tables.md,
"sprint_issue_history" and "sprint_report"). Pure functions: no lake, no Jira.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jira_assets.derived.timeline import Interval, value_at

# Estimation fields by name when the board names none (company-managed, team-managed).
ESTIMATE_FIELD_NAMES = ("Story Points", "Story point estimate")


@dataclass(frozen=True)
class Sprint:
    id: int
    board_id: int | None
    name: str | None
    state: str | None
    start: dt.datetime
    end_date: dt.datetime | None
    complete: dt.datetime | None

    def end(self, synced_at: dt.datetime) -> dt.datetime:
        """Where the sprint's report is read: its completion, or now for a sprint still running."""
        return self.complete if self.complete is not None else synced_at


@dataclass
class IssueTimes:
    """What sprint reports read of one issue: its Sprint field's sets, its estimate and its status over time.
    Each list is the field's intervals; None when the changelog never touched the field (then `now` holds)."""

    issue_id: str
    sprints: list[Interval] | None
    sprints_now: set[str]
    estimate: list[Interval] | None
    estimate_now: float | None
    statuses: list[Interval]

    @property
    def created(self) -> dt.datetime | None:
        """The issue's creation: where its first status interval starts."""
        return self.statuses[0].valid_from if self.statuses else None

    def _untouched(self, moment: dt.datetime) -> bool:
        """Whether a field the changelog never touched held its current value at `moment`: since the creation."""
        return self.created is None or self.created <= moment

    def sprint_intervals(self) -> list[Interval]:
        """The Sprint field's intervals; never touched: its current sprints since the issue's creation."""
        if self.sprints is not None:
            return self.sprints
        if self.created is None:
            return []
        return [Interval("sprint", "sprint", self.created, None, None, None, sorted(self.sprints_now))]

    def in_sprint(self, sprint: str, moment: dt.datetime) -> bool:
        if self.sprints is None:
            return sprint in self.sprints_now and self._untouched(moment)
        interval = value_at(self.sprints, moment)
        return interval is not None and sprint in (interval.value_ids or [])

    def ever_in(self, sprint: str, start: dt.datetime | None = None, end: dt.datetime | None = None) -> bool:
        """In the sprint at some moment (between start and end when given)."""
        if self.sprints is None:
            return sprint in self.sprints_now and (end is None or self._untouched(end))
        for interval in self.sprints:
            if sprint not in (interval.value_ids or []):
                continue
            if start is None or end is None:
                return True
            if interval.valid_from <= end and (interval.valid_to is None or interval.valid_to > start):
                return True
        return False

    def estimate_at(self, moment: dt.datetime) -> float | None:
        if self.estimate is None:
            return self.estimate_now if self._untouched(moment) else None
        interval = value_at(self.estimate, moment)
        return _number(interval.value if interval is not None else None)

    def status_at(self, moment: dt.datetime) -> str | None:
        interval = value_at(self.statuses, moment)
        return interval.value_id if interval is not None else (self.statuses[0].value_id if self.statuses else None)


def _number(text: Any) -> float | None:
    try:
        return None if text in (None, "") else float(text)
    except (TypeError, ValueError):
        return None


def sprint_issue_row(sprint: Sprint, issue: IssueTimes, done_statuses: set[str] | None,
                     synced_at: dt.datetime) -> dict[str, Any]:
    """The sprint_issue_history row of an issue that was ever in a started sprint. `done_statuses`: the status ids
    of the board's last column (None: the board's configuration is unknown; done then means category done, which
    the caller folds into the set)."""
    key = str(sprint.id)
    end = sprint.end(synced_at)
    at_start = issue.in_sprint(key, sprint.start)
    at_end = issue.in_sprint(key, end)
    during = issue.ever_in(key, sprint.start, end)
    added = not at_start and any(
        key in (i.value_ids or []) and sprint.start < i.valid_from <= end for i in issue.sprint_intervals())
    status_end = issue.status_at(end)
    return {
        "sprint_id": sprint.id, "issue_id": issue.issue_id, "board_id": sprint.board_id,
        "in_at_start": at_start, "added": added, "removed": during and not at_end, "in_at_end": at_end,
        "estimate_at_start": issue.estimate_at(sprint.start), "estimate_at_end": issue.estimate_at(end),
        "status_at_end": status_end, "done_at_end": status_end in (done_statuses or set()),
    }


def sprint_report_row(sprint: Sprint, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    counts = {k: 0 for k in ("committed", "added", "removed", "completed", "not_completed")}
    points = {k: 0.0 for k in counts}

    def count(kind: str, estimate: float | None) -> None:
        counts[kind] += 1
        points[kind] += estimate or 0.0

    for row in rows:
        if row["in_at_start"]:
            count("committed", row["estimate_at_start"])
        if row["added"]:
            count("added", row["estimate_at_end"])
        if row["removed"]:
            count("removed", row["estimate_at_end"])
        if row["in_at_end"]:
            count("completed" if row["done_at_end"] else "not_completed", row["estimate_at_end"])
    out: dict[str, Any] = {
        "sprint_id": sprint.id, "board_id": sprint.board_id, "name": sprint.name, "state": sprint.state,
        "start_date": sprint.start, "end_date": sprint.end_date, "complete_date": sprint.complete,
    }
    for kind in counts:
        out[f"{kind}_issues"] = counts[kind]
        out[f"{kind}_points"] = points[kind]
    return out
