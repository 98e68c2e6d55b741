"""What the tenant implies but does not store: project roles and their actors, application roles, the transitions
an issue's workflow offers, who watches and voted for an issue. Every value is a pure function of the tenant (seed,
scale, advances), like the rest of the simulator, and agrees with what the existing endpoints serve (group
members, an issue's `watches`/`votes` counts, a project's lead and type)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from .tenant import NEXT_STATUS, STATUS_BY_ID, STATUSES

if TYPE_CHECKING:
    from .tenant import IssueData, Project, Tenant

# the roles of company-managed projects: (id, name, description, admin); 10002 is the role the permission scheme
# grants the admin-only permissions to, and "Administrators" the role comment visibility names
GLOBAL_ROLES = [
    (10002, "Administrators", "A project role that represents administrators in a project", True),
    (10000, "Developers", "A project role that represents developers in a project", False),
    (10001, "Users", "A project role that represents users in a project", False),
    (10003, "atlassian-addons-project-access", "A project role that represents Connect add-ons declaring a scope "
                                               "that requires more than read issue permissions", False),
]
# team-managed projects carry their own roles, scoped to the project
TEAM_ROLES = [("Administrator", "Admins can do most things, like update settings and add other admins.", True),
              ("Member", "Members are part of the team, and can add, edit, and collaborate on all work.", False),
              ("Viewer", "Viewers can search through, view, and comment on your team's work, but not much else.",
               False)]
# the workflow a transition leads into: one id per target status ("11", "21", ... as Jira numbers them)
TRANSITION_IDS = {s[0]: str(11 + 10 * k) for k, s in enumerate(STATUSES)}


def _group(t: "Tenant", prefix: str):
    return next((g for g in t.groups if g.name.startswith(prefix)), None)


# ---- project roles -----------------------------------------------------------------------------------------------

def team_role_id(p: "Project", k: int) -> int:
    return 10100 + p.idx * 10 + k


def roles_of(t: "Tenant", p: "Project") -> list[dict]:
    """The roles of project `p`: {id, name, description, admin, scoped, actors}; actors are ("user", user idx) or
    ("group", group)."""
    out = []
    apps = [u.idx for u in t.users if u.account_type == "app"]
    if p.simplified:
        others = [i for i in t.active_people if i != p.lead]
        step = max(1, len(others) // 5)
        members = others[p.idx % step::step][:4]
        viewers = _group(t, "jira-users")
        actors = [[("user", p.lead)], [("user", i) for i in members], [("group", viewers)] if viewers else []]
        for k, (name, desc, admin) in enumerate(TEAM_ROLES):
            out.append({"id": team_role_id(p, k), "name": name, "description": desc, "admin": admin,
                        "scoped": True, "actors": actors[k]})
    else:
        leads = sorted({c.lead for c in p.components if c.lead is not None} - {p.lead})
        admins, devs, users = _group(t, "jira-admins"), _group(t, "jira-software-users"), _group(t, "jira-users")
        actors = {10002: [("user", p.lead)] + ([("group", admins)] if admins else []),
                  10000: ([("group", devs)] if devs else []) + [("user", i) for i in leads],
                  10001: [("group", users)] if users else [],
                  10003: []}
        for rid, name, desc, admin in GLOBAL_ROLES[:3]:
            out.append({"id": rid, "name": name, "description": desc, "admin": admin, "scoped": False,
                        "actors": actors[rid]})
    rid, name, desc, admin = GLOBAL_ROLES[3]
    out.append({"id": rid, "name": name, "description": desc, "admin": admin, "scoped": False,
                "actors": [("user", i) for i in apps]})
    return out


def default_role_actors(t: "Tenant", rid: int) -> list[tuple]:
    """The actors a global role gives new projects (GET /role): the site's groups."""
    prefix = {10002: "jira-admins", 10000: "jira-software-users", 10001: "jira-users"}.get(rid)
    g = _group(t, prefix) if prefix else None
    return [("group", g)] if g else []


def role_by_id(t: "Tenant", rid: int | None, params: dict | None = None) -> Any:
    """A role by id: within the project of `params` when given, else a global role."""
    if rid is None:
        return None
    ref = (params or {}).get("projectIdOrKey")
    if ref is not None:
        p = t.project_by_ref(ref)
        if p is None or p.status == "deleted":
            return None
        return next((r for r in roles_of(t, p) if r["id"] == rid), None)
    return next((r for r in GLOBAL_ROLES if r[0] == rid), None)


def user_in_role(t: "Tenant", role: dict, idx: int) -> bool:
    for kind, ref in role["actors"]:
        if kind == "user" and ref == idx or kind == "group" and idx in ref.members:
            return True
    return False


# ---- application roles -------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _app_roles(t: "Tenant") -> tuple:
    out = []
    for key, name, prefix, platform in (("jira-software", "Jira Software", "jira-software-users", False),
                                        ("jira-core", "Jira Work Management", "jira-users", True)):
        groups = [g for g in (_group(t, prefix), _group(t, "jira-admins")) if g is not None]
        members = {i for g in groups for i in g.members if t.users[i].active}
        count = len(members)
        seats = (count // 10 + 2) * 10
        out.append({"key": key, "name": name, "groups": groups, "default": groups[:1], "platform": platform,
                    "userCount": count, "seats": seats})
    return tuple(out)


def application_roles(t: "Tenant") -> list[dict]:
    return list(_app_roles(t))


# ---- issues: transitions, watchers, voters -------------------------------------------------------------------

def transitions_of(d: "IssueData") -> list[tuple[str, str, bool]]:
    """(transition id, target status id, global) the issue's workflow offers from its current status. Team-managed
    workflows let an issue move to any status; company-managed ones follow the workflow's directed transitions."""
    if d.project.simplified:
        return [(TRANSITION_IDS[s[0]], s[0], True) for s in STATUSES if s[0] != d.status]
    targets = list(dict.fromkeys(NEXT_STATUS.get(d.status, [])))
    return [(TRANSITION_IDS[s], s, False) for s in targets if s in STATUS_BY_ID]


def _people(t: "Tenant", d: "IssueData", what: str, count: int) -> list[int]:
    """`count` people (never the caller, whose isWatching/hasVoted the issue reports false) chosen for the issue."""
    pool = [i for i in t.active_people if i != 0]
    if not pool or count <= 0:
        return []
    r = t.rng(what, d.n)
    first = [d.reporter] if what == "watchers" and d.reporter != 0 else []
    rest = [i for i in r.sample(pool, min(len(pool), count + 1)) if i not in first]
    return (first + rest)[:count]


def watchers_of(t: "Tenant", d: "IssueData") -> list[int]:
    return _people(t, d, "watchers", d.watches)


def voters_of(t: "Tenant", d: "IssueData") -> list[int]:
    return _people(t, d, "voters", d.votes)
