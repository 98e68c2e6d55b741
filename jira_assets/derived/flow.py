"""Status intervals and flow metrics of one issue, from its field history (docs/derived-tables.md,
"issue_status_intervals" and "issue_flow"). Pure functions: no lake, no Jira.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jira_assets.derived.timeline import Interval

CATEGORY_ORDER = {"new": 0, "indeterminate": 1, "done": 2}
COMMITMENT_ENV = "JIRA_FLOW_COMMITMENT"
DONE_ENV = "JIRA_FLOW_DONE"
DEFAULT_COMMITMENT = "category:indeterminate,category:done"
DEFAULT_DONE = "category:done"


@dataclass(frozen=True)
class Status:
    id: str
    name: str | None
    category: str | None  # new, indeterminate, done (None: a status no longer in Jira's list)


@dataclass(frozen=True)
class Stage:
    """A set of statuses named by the person who configures it: status names, status ids or `category:<key>`."""

    names: frozenset[str]
    ids: frozenset[str]
    categories: frozenset[str]
    text: str

    @classmethod
    def parse(cls, text: str, setting: str) -> Stage:
        names, ids, categories = set(), set(), set()
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            if part.lower().startswith("category:"):
                key = part.split(":", 1)[1].strip().lower()
                if key not in CATEGORY_ORDER:
                    raise ValueError(f"{setting}: {part!r} names no status category; use category:new, "
                                     "category:indeterminate or category:done")
                categories.add(key)
            elif part.isdigit():
                ids.add(part)
            else:
                names.add(part.casefold())
        if not (names or ids or categories):
            raise ValueError(f"{setting} must name statuses (names, ids or category:<key>, comma-separated), "
                             f"got {text!r}")
        return cls(frozenset(names), frozenset(ids), frozenset(categories), text)

    def holds(self, status: Status) -> bool:
        return (status.id in self.ids or (status.name or "").casefold() in self.names
                or status.category in self.categories)


@dataclass(frozen=True)
class FlowStages:
    """Environment: JIRA_FLOW_COMMITMENT (when work is committed to), JIRA_FLOW_DONE (when it is done)."""

    commitment: Stage
    done: Stage

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FlowStages:
        env = os.environ if env is None else env
        return cls(Stage.parse(env.get(COMMITMENT_ENV, "").strip() or DEFAULT_COMMITMENT, COMMITMENT_ENV),
                   Stage.parse(env.get(DONE_ENV, "").strip() or DEFAULT_DONE, DONE_ENV))

    @property
    def fingerprint(self) -> str:
        """Changes when the stages do, which rebuilds issue_flow whole."""
        text = f"{self.commitment.text}|{self.done.text}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def direction(before: Status | None, after: Status) -> str:
    if before is None:
        return "initial"
    a, b = CATEGORY_ORDER.get(before.category or ""), CATEGORY_ORDER.get(after.category or "")
    if a is None or b is None or a == b:
        return "lateral"
    return "forward" if b > a else "backward"


def _seconds(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()


def status_intervals(issue_id: str, created: dt.datetime, history: list[Interval] | None, current: Status,
                     statuses: Mapping[str, Status]) -> list[dict[str, Any]]:
    """Rows of issue_status_intervals. `history`: the status field's intervals (None when it never moved: one
    interval from creation in the current status)."""
    if not history:
        history = [Interval("status", "status", created, current.name, current.id)]
    rows, before = [], None
    for sequence, interval in enumerate(history, start=1):
        status = status_of(interval, statuses)
        rows.append({
            "issue_id": issue_id, "sequence": sequence, "status_id": status.id, "status_name": status.name,
            "status_category_key": status.category, "entered_at": interval.valid_from,
            "exited_at": interval.valid_to, "seconds": _seconds(interval.valid_from, interval.valid_to),
            "direction": direction(before, status),
        })
        before = status
    return rows


def status_of(interval: Interval, statuses: Mapping[str, Status]) -> Status:
    known = statuses.get(interval.value_id or "")
    category = known.category if known is not None else None
    return Status(interval.value_id or "", interval.value, category)


@dataclass(frozen=True)
class FlowFields:
    """Which fields flow metrics read besides status: the Flagged field and the Sprint field (ids, or None)."""

    flagged: str | None
    sprint: str | None


def flow_row(issue: Mapping[str, Any], status_rows: list[dict[str, Any]], history: Mapping[str, list[Interval]],
             stages: FlowStages, fields: FlowFields, flagged_now: bool) -> dict[str, Any]:
    """The issue_flow row of one issue. `issue`: issue_id, project_id, project_key, issue_type_id, created.
    `flagged_now`: whether issue_search holds a Flagged value (used when the changelog never touched it)."""
    def status(row):
        return Status(row["status_id"], row["status_name"], row["status_category_key"])

    committed_at = next((r["entered_at"] for r in status_rows if stages.commitment.holds(status(r))), None)
    last = status_rows[-1]
    done_at = None
    if stages.done.holds(status(last)):
        done_at = last["entered_at"]
        for row in reversed(status_rows[:-1]):  # the last entry into the done stage: walk back while still done
            if not stages.done.holds(status(row)):
                break
            done_at = row["entered_at"]
    reopened = sum(1 for a, b in zip(status_rows, status_rows[1:])
                   if stages.done.holds(status(a)) and not stages.done.holds(status(b)))
    flagged = history.get(fields.flagged or "") or []
    blocked = sum((i.valid_to - i.valid_from).total_seconds() for i in flagged if i.value_ids and i.valid_to)
    created = issue["created"]
    return {
        **{k: issue.get(k) for k in ("issue_id", "project_id", "project_key", "issue_type_id")},
        "created": created,
        "committed_at": committed_at,
        "done_at": done_at,
        "lead_seconds": _seconds(created, done_at) if done_at is not None else None,
        "cycle_seconds": (done_at - committed_at).total_seconds() if done_at and committed_at else None,
        "blocked_seconds": float(blocked),
        "blocked_now": bool(flagged[-1].value_ids) if flagged else flagged_now,
        "times_reopened": reopened,
        "assignee_changes": max(0, len(history.get("assignee") or []) - 1),
        "sprint_changes": max(0, len(history.get(fields.sprint or "") or []) - 1),
        "status_changes": len(status_rows) - 1,
    }
