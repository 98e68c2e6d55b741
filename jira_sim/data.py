"""What the site shows of the tenant, in the order Jira serves it: the lists both the route handlers and
`/__sim/truth` build on, so the truth is the served data by construction."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .tenant import EPIC, PERMISSIONS, fmt_ms

if TYPE_CHECKING:
    from .render import Renderer
    from .tenant import Tenant

# the build serverInfo reports: 2026-10-28T03:12:41Z (rendered, like every timestamp, in the caller's zone)
BUILD_DATE = 1793157161000
# permission key -> whether only Jira administrators hold it
ADMIN_ONLY = {p[0]: p[3] for p in PERMISSIONS}


def server_info(t: "Tenant") -> dict:
    b = t.base
    return {"baseUrl": b, "displayUrl": b, "displayUrlServicedeskHelpCenter": b, "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100291,
            "buildDate": fmt_ms(BUILD_DATE), "serverTime": fmt_ms(t.now),
            "scmInfo": hashlib.sha1(str(t.seed).encode()).hexdigest(), "serverTitle": "Jira",
            "serverTimeZone": "Etc/UTC", "defaultLocale": {"locale": "en_US"}}


def my_permission_values(t: "Tenant", r: "Renderer", keys: list[str]) -> dict:
    return {k: r.permission(k, t.admin or not ADMIN_ONLY[k]) for k in keys}


# ---- projects ----------------------------------------------------------------------------------------------------

def projects_for(t: "Tenant", statuses: set[str]) -> list:
    return sorted((p for p in t.projects if p.status in statuses), key=lambda p: p.key)


def component_count(t: "Tenant", c) -> int:
    """Issues (not deleted) carrying component `c`."""
    p = c.project
    bit = 1 << p.components.index(c)
    comp, deleted = t.i_comp, t.deleted
    return sum(1 for n in p.issue_ns if comp[n] & bit and n not in deleted)


# ---- filters, groups ---------------------------------------------------------------------------------------------

def visible_filters(t: "Tenant") -> list:
    return sorted((f for f in t.filters if f.visible), key=lambda f: (f.name.lower(), f.id))


def groups_sorted(t: "Tenant") -> list:
    return sorted(t.groups, key=lambda g: g.name)


def group_members(t: "Tenant", g, include_inactive: bool) -> list:
    return [t.users[i] for i in g.members if include_inactive or t.users[i].active]


# ---- boards and sprints ------------------------------------------------------------------------------------------

def board_issue_universe(t: "Tenant", b) -> Callable[[], Iterable[int]]:
    def gen() -> Iterator[int]:
        ns: list[int] = []
        for p in b.projects:
            ns.extend(p.issue_ns)
        ns.sort()
        for n in ns:
            if n in t.deleted:
                continue
            if b.type in ("scrum", "simple") and t.i_type[n] == EPIC:
                continue      # "Epic issues do not belong to scrum boards"; team-managed boards show no epics
            yield n
    return gen


def sprint_issue_universe(t: "Tenant", s) -> Callable[[], Iterable[int]]:
    def gen() -> Iterator[int]:
        board = t.board_by_id[s.board]
        p = board.projects[0]
        order = t._sprint_order.get(p.idx)
        if not order or t.project_scrum.get(p.idx) is not board:
            return
        pos = next((k for k, x in enumerate(order) if x.id == s.id), None)
        if pos is None:
            return
        for n in p.issue_ns:
            s0 = t.i_sprint0[n]
            if s0 >= 0 and s0 <= pos < s0 + t.i_sprintn[n] and n not in t.deleted:
                yield n
    return gen


def live_sprints(t: "Tenant") -> list:
    """Each sprint once, as a client reaches them: via the non-private boards with sprints (scrum boards, and the
    simple boards of team-managed projects with sprints on)."""
    seen: dict[int, Any] = {}
    for b in t.boards:
        if b.sprints_enabled and not b.private:
            for s in t.sprints_of_board(b):
                seen.setdefault(s.id, s)
    return list(seen.values())


# ---- worklogs ----------------------------------------------------------------------------------------------------

def worklog_owner(t: "Tenant", wid: int) -> int | None:
    """The issue number a worklog id belongs to (base ids encode it; added worklogs are looked up)."""
    if wid >= 1_000_000_000:
        return t.new_worklog_owner.get(wid)
    n = (wid - 10000) // 64
    return n if 0 < n <= t.base_count else None


def find_worklog(t: "Tenant", wid: int):
    """(issue data, worklog) of a live worklog id, else (None, None)."""
    n = worklog_owner(t, wid)
    if n is None or not t.exists(n):
        return None, None
    d = t.materialize(n)
    for w in d.worklogs:
        if w[0] == wid:
            return d, w
    return None, None


def visible_worklog_changes(t: "Tenant", deleted: bool) -> list[tuple[int, int]]:
    """(time, worklog id) pairs served by worklog/updated|deleted, oldest first; Jira hides the last minute."""
    cutoff = t.now - 60_000
    if deleted:
        return [(tm, wid) for tm, wid in t.deleted_worklogs if tm <= cutoff]
    out = []
    dead = t.deleted_wl_ids
    for tm, wid, n in zip(t.wl_t, t.wl_id, t.wl_n):
        if tm > cutoff:
            break
        if wid in dead or n in t.deleted:
            continue
        out.append((tm, wid))
    return out
