"""The truth of the history tables (issue_field_history, issue_status_intervals, issue_flow, sprint_issue_history,
sprint_report; docs/derived-tables.md), computed from the tenant's own model of each issue's past
(`IssueData.timeline`: the changes its code paths made, in the tenant's values, beside the changelog they render)
and from its current state -- never from the changelog JSON.

Each field an issue's timeline touches has intervals: the first from the issue's creation holding the value before
its first change, then one per history that changed it (several changes of one field in one history are one).
Multi-value fields (schema type `array`) hold sets, shown as their elements' display values and ids, sorted. A field
the timeline never touched held its current value since the issue's creation.

Query parameters: `at` (epoch ms; default the simulator's clock) is the end of a sprint still active;
`commitment` and `done` (status names, ids or `category:<key>`, comma-separated; defaults
`category:indeterminate,category:done` and `category:done`) are issue_flow's stages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from .customfields import FLAGGED_FIELD, RANK_FIELD, SPRINT_FIELD, change_elements, change_repr, is_multi
from .tenant import (
    PRIORITIES, RESOLUTIONS, STATUS_BY_ID, STATUS_CATEGORIES, board_columns, board_estimation_field,
)

if TYPE_CHECKING:
    from .tenant import IssueData, Sprint, Tenant

DERIVED_TRUTH = ["issue_field_history", "issue_status_intervals", "issue_flow", "sprint_issue_history",
                 "sprint_report"]
# system fields that hold sets; the Sprint field and multi-value custom fields say so in the catalogue
SYSTEM_MULTI = {"labels", "components", "fixVersions", "versions"}
# fields whose timeline values are already (id, display) pairs (the tenant keeps no value of its own for them)
PAIRS = {"summary", "description", "timespent", "WorklogId", RANK_FIELD}
CATEGORY_KEY = {c[0]: c[1] for c in STATUS_CATEGORIES}
CATEGORY_ORDER = {"new": 0, "indeterminate": 1, "done": 2}
DEFAULT_COMMITMENT = "category:indeterminate,category:done"
DEFAULT_DONE = "category:done"
ESTIMATE_NAMES = ("Story Points", "Story point estimate")
STARTED = ("active", "closed")
_PRIORITY = {p[0]: p[1] for p in PRIORITIES}
_RESOLUTION = {r[0]: r[1] for r in RESOLUTIONS}


class Span:
    """One interval of one field: [start, end) holding `value` (the tenant's value), begun by history `hid`."""
    __slots__ = ("start", "end", "name", "value", "author", "hid")

    def __init__(self, start: int, name: str, value: Any, author: int | None, hid: int | None) -> None:
        self.start, self.end, self.name, self.value, self.author, self.hid = start, None, name, value, author, hid


def spans_of(d: "IssueData") -> dict[str, list[Span]]:
    """Every field the issue's timeline touches -> its intervals, oldest first (histories in order of time, then
    id, as Jira lists them)."""
    steps: dict[str, list[tuple]] = {}
    for hid, author, tm, changes in sorted(d.timeline, key=lambda h: (h[2], h[0])):
        for fid, name, old, new in changes:
            steps.setdefault(fid, []).append((tm, author, hid, name, old, new))
    out: dict[str, list[Span]] = {}
    for fid, seq in steps.items():
        first = seq[0]
        spans = [Span(d.created, first[3], first[4], None, None)]
        for tm, author, hid, name, _old, new in seq:
            spans.append(Span(tm, name, new, author, hid))
        for a, b in zip(spans, spans[1:]):
            a.end = b.start
        out[fid] = spans
    return out


def value_at(spans: list[Span], moment: int) -> Span | None:
    """The interval in effect at `moment`: the last that started at or before it (None before the creation)."""
    found = None
    for s in spans:
        if s.start <= moment:
            found = s
        else:
            break
    return found


def current_spans(d: "IssueData", spans: dict[str, list[Span]], fid: str, now_value: Any) -> list[Span]:
    """The field's intervals; one from the creation holding its current value when the timeline never touched it."""
    return spans.get(fid) or [Span(d.created, fid, now_value, None, None)]


# ---- values as Jira shows them -----------------------------------------------------------------------------------

def multi_field(t: "Tenant", fid: str) -> bool:
    fd = t.cf.by_id.get(fid)
    return fid in SYSTEM_MULTI if fd is None else is_multi(fd)


def pair(t: "Tenant", d: "IssueData", fid: str, v: Any) -> tuple[Any, Any]:
    """(id, display) of a single-value field's value."""
    if v is None:
        return None, None
    if fid in PAIRS:
        return v
    if fid == "status":
        return v, STATUS_BY_ID[v][1]
    if fid == "resolution":
        return v, _RESOLUTION[v]
    if fid == "priority":
        return v, _PRIORITY[v]
    if fid in ("assignee", "reporter"):
        u = t.users[v]
        return u.account_id, u.name
    return change_repr(t.cf.by_id[fid], v, t, d.project)


def elements(t: "Tenant", d: "IssueData", fid: str, v: Any) -> list[tuple[str, str]]:
    """(id, display) of each element of a multi-value field's value."""
    if v is None:
        return []
    if fid == "labels":
        return [(x, x) for x in v]
    return change_elements(t.cf.by_id[fid], v, t, d.project)


def shown(t: "Tenant", d: "IssueData", fid: str, multi: bool, v: Any) -> dict[str, Any]:
    if not multi:
        ident, display = pair(t, d, fid, v)
        return {"value": display, "value_id": ident, "values": None, "value_ids": None}
    els = elements(t, d, fid, v)
    ids = sorted(e[0] for e in els)
    displays = sorted(e[1] for e in els)
    return {"value": ", ".join(displays) if displays else None, "value_id": ",".join(ids) if ids else None,
            "values": displays, "value_ids": ids}


# ---- issue_field_history, issue_status_intervals, issue_flow -----------------------------------------------------

def field_history_rows(t: "Tenant", d: "IssueData", spans: dict[str, list[Span]]) -> Iterator[dict]:
    for fid, seq in spans.items():
        multi = multi_field(t, fid)
        for k, s in enumerate(seq, start=1):
            # the name the items were written with (the first interval: its first change's)
            yield {"issue_id": str(d.id), "field_id": fid, "field": s.name,
                   "sequence": k, "valid_from": s.start, "valid_to": s.end, **shown(t, d, fid, multi, s.value),
                   "author_account_id": t.users[s.author].account_id if s.author is not None else None,
                   "changelog_id": str(s.hid) if s.hid is not None else None}


def category_of(status_id: str) -> str:
    return CATEGORY_KEY[STATUS_BY_ID[status_id][2]]


def status_rows(d: "IssueData", spans: dict[str, list[Span]]) -> list[dict]:
    rows, before = [], None
    for k, s in enumerate(current_spans(d, spans, "status", d.status), start=1):
        cat = category_of(s.value)
        if before is None:
            direction = "initial"
        else:
            a, b = CATEGORY_ORDER[before], CATEGORY_ORDER[cat]
            direction = "lateral" if a == b else "forward" if b > a else "backward"
        rows.append({"issue_id": str(d.id), "sequence": k, "status_id": s.value,
                     "status_name": STATUS_BY_ID[s.value][1], "status_category_key": cat, "entered_at": s.start,
                     "exited_at": s.end, "seconds": (s.end - s.start) / 1000 if s.end is not None else None,
                     "direction": direction})
        before = cat
    return rows


class Stage:
    """A set of statuses: names, ids or `category:<key>`, comma-separated (JIRA_FLOW_COMMITMENT / JIRA_FLOW_DONE)."""

    def __init__(self, text: str) -> None:
        self.names: set[str] = set()
        self.ids: set[str] = set()
        self.categories: set[str] = set()
        for part in (x.strip() for x in text.split(",")):
            if not part:
                continue
            if part.lower().startswith("category:"):
                key = part.split(":", 1)[1].strip().lower()
                if key not in CATEGORY_ORDER:
                    raise ValueError(f"{part!r} names no status category")
                self.categories.add(key)
            elif part.isdigit():
                self.ids.add(part)
            else:
                self.names.add(part.casefold())
        if not (self.names or self.ids or self.categories):
            raise ValueError(f"no statuses in {text!r}")

    def holds(self, status_id: str) -> bool:
        return (status_id in self.ids or STATUS_BY_ID[status_id][1].casefold() in self.names
                or category_of(status_id) in self.categories)


def flow_row(t: "Tenant", d: "IssueData", spans: dict[str, list[Span]], statuses: list[dict], commitment: Stage,
             done: Stage) -> dict:
    ids = [r["status_id"] for r in statuses]
    committed_at = next((r["entered_at"] for r in statuses if commitment.holds(r["status_id"])), None)
    done_at = None
    if done.holds(ids[-1]):
        k = len(statuses) - 1
        while k > 0 and done.holds(ids[k - 1]):
            k -= 1
        done_at = statuses[k]["entered_at"]
    flagged = spans.get(FLAGGED_FIELD)
    blocked = sum(s.end - s.start for s in flagged or () if s.value and s.end is not None) / 1000
    blocked_now = bool(flagged[-1].value) if flagged else bool(d.custom.get(FLAGGED_FIELD))
    p = d.project
    return {
        "issue_id": str(d.id), "project_id": str(p.id), "project_key": p.key,
        "issue_type_id": t.issue_types_for(p)[d.type_code][0], "created": d.created,
        "committed_at": committed_at, "done_at": done_at,
        "lead_seconds": (done_at - d.created) / 1000 if done_at is not None else None,
        "cycle_seconds": (done_at - committed_at) / 1000 if done_at is not None and committed_at is not None
        else None,
        "blocked_seconds": float(blocked), "blocked_now": blocked_now,
        "times_reopened": sum(1 for a, b in zip(ids, ids[1:]) if done.holds(a) and not done.holds(b)),
        "assignee_changes": len(spans.get("assignee", ())[1:]),
        "sprint_changes": len(spans.get(SPRINT_FIELD, ())[1:]),
        "status_changes": len(statuses) - 1,
    }


# ---- sprint_issue_history, sprint_report -------------------------------------------------------------------------

def started_sprints(t: "Tenant") -> dict[int, "Sprint"]:
    """Sprints that started (active or closed, with a start date), each once (it belongs to its origin board)."""
    return {s.id: s for s in sorted(t.sprints.values(), key=lambda s: s.id)
            if s.state in STARTED and s.start is not None}


def sprint_end(s: "Sprint", at: int) -> int:
    return s.complete if s.complete is not None else at


def _sprint_candidates(t: "Tenant") -> Iterator[int]:
    """The live issues whose Sprint field ever held a sprint: those placed in a sprint run when the tenant built them
    (i_sprint0), and those whose timeline changed the Sprint field since."""
    for n in t.live_issue_numbers():
        m = t.mut.get(n)
        if t.i_sprint0[n] >= 0 or m is not None and any(c[0] == SPRINT_FIELD for h in m.timeline for c in h[3]):
            yield n


def _number(v: Any) -> float | None:
    return None if v is None else float(v)


def sprint_issue_rows(t: "Tenant", at: int) -> Iterator[dict]:
    sprints = started_sprints(t)
    if not sprints:
        return
    by_name = {fd.name: fd.id for fd in t.cf.fields}
    defaults = [by_name[n] for n in ESTIMATE_NAMES if n in by_name]
    done_category = {sid for sid in STATUS_BY_ID if category_of(sid) == "done"}
    rules: dict[int, tuple[set[str], list[str]]] = {}
    for s in sprints.values():
        b = t.board_by_id.get(s.board)
        if b is None or b.private:          # its configuration is unknown: category done, the default estimates
            rules[s.id] = (done_category, defaults)
        else:
            named = board_estimation_field(b)
            rules[s.id] = (set(board_columns(b)[-1][1]), [named] if named else defaults)
    for n in _sprint_candidates(t):
        d = t.materialize(n)
        spans = spans_of(d)
        in_field = current_spans(d, spans, SPRINT_FIELD, tuple(s.id for s in d.sprints))
        ever = set()
        for sp in in_field:
            ever.update(sp.value or ())
        statuses = current_spans(d, spans, "status", d.status)
        for sid in sorted(ever):
            s = sprints.get(sid)
            if s is None:
                continue
            done_statuses, estimate_fields = rules[sid]
            end = sprint_end(s, at)

            def holds(moment: int) -> bool:
                sp = value_at(in_field, moment)
                return sp is not None and sid in (sp.value or ())

            at_start, at_end = holds(s.start), holds(end)
            during = any(sid in (sp.value or ()) and sp.start <= end and (sp.end is None or sp.end > s.start)
                         for sp in in_field)
            added = not at_start and any(sid in (sp.value or ()) and s.start < sp.start <= end for sp in in_field)
            chosen = next((f for f in estimate_fields if f in spans or d.custom.get(f) is not None),
                          estimate_fields[0] if estimate_fields else None)
            if chosen is None:
                estimate = []
            else:
                estimate = current_spans(d, spans, chosen, d.custom.get(chosen))

            def estimate_at(moment: int) -> float | None:
                sp = value_at(estimate, moment)
                return _number(sp.value) if sp is not None else None

            st = value_at(statuses, end) or statuses[0]
            yield {"sprint_id": sid, "issue_id": str(d.id), "board_id": s.board, "in_at_start": at_start,
                   "added": added, "removed": during and not at_end, "in_at_end": at_end,
                   "estimate_at_start": estimate_at(s.start), "estimate_at_end": estimate_at(end),
                   "status_at_end": st.value, "done_at_end": st.value in done_statuses}


def sprint_report_rows(t: "Tenant", at: int) -> Iterator[dict]:
    kinds = ("committed", "added", "removed", "completed", "not_completed")
    sprints = started_sprints(t)
    counts = {sid: {k: 0 for k in kinds} for sid in sprints}
    points = {sid: {k: 0.0 for k in kinds} for sid in sprints}

    def count(sid: int, kind: str, estimate: float | None) -> None:
        counts[sid][kind] += 1
        points[sid][kind] += estimate or 0.0

    for row in sprint_issue_rows(t, at):
        sid = row["sprint_id"]
        if row["in_at_start"]:
            count(sid, "committed", row["estimate_at_start"])
        if row["added"]:
            count(sid, "added", row["estimate_at_end"])
        if row["removed"]:
            count(sid, "removed", row["estimate_at_end"])
        if row["in_at_end"]:
            count(sid, "completed" if row["done_at_end"] else "not_completed", row["estimate_at_end"])
    for sid, s in sprints.items():
        out = {"sprint_id": sid, "board_id": s.board, "name": s.name, "state": s.state, "start_date": s.start,
               "end_date": s.end, "complete_date": s.complete}
        for k in kinds:
            out[f"{k}_issues"] = counts[sid][k]
            out[f"{k}_points"] = points[sid][k]
        yield out


# ---- the endpoint --------------------------------------------------------------------------------------------

def history_params(t: "Tenant", params) -> dict[str, Any]:
    """`at`, `commitment`, `done` from the query (ValueError on a bad one)."""
    at = params.get("at")
    return {"at": int(at) if at not in (None, "") else t.now,
            "commitment": Stage(params.get("commitment") or DEFAULT_COMMITMENT),
            "done": Stage(params.get("done") or DEFAULT_DONE)}


def history_records(t: "Tenant", name: str, params: dict[str, Any]) -> Iterator[tuple[dict, dict]]:
    if name == "sprint_issue_history":
        for row in sprint_issue_rows(t, params["at"]):
            yield {}, row
        return
    if name == "sprint_report":
        for row in sprint_report_rows(t, params["at"]):
            yield {}, row
        return
    for n in t.live_issue_numbers():
        d = t.materialize(n)
        spans = spans_of(d)
        parents = {"issue_id": str(d.id)}
        if name == "issue_field_history":
            for row in field_history_rows(t, d, spans):
                yield parents, row
        elif name == "issue_status_intervals":
            for row in status_rows(d, spans):
                yield parents, row
        elif name == "issue_flow":
            yield parents, flow_row(t, d, spans, status_rows(d, spans), params["commitment"], params["done"])
        else:
            raise KeyError(name)
