"""The tenant's objects by reference, as Jira's path parameters name them, and the 404 each answers when missing.

`kind_of(template, name)` says what a spec path parameter refers to (`issueIdOrKey` -> issue; `{id}` by the
segment before it: `component/{id}` -> component); None means an object the tenant has none of (attachments,
plans, entity properties ...). `find(sim, kind, ref, params)` returns the object or None (missing, deleted, or not
visible to the caller: Jira does not tell those apart)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .data import find_worklog, visible_filters
from .tenant import (
    CATEGORIES, EPIC, ISSUE_TYPES, LINK_TYPES, PRIORITIES, PROJECT_TYPES,
    RESOLUTIONS, STATUS_CATEGORIES, STATUSES,
)

if TYPE_CHECKING:
    from .app import Simulator

BY_NAME = {
    "issueIdOrKey": "issue", "epicIdOrKey": "epic", "epicId": "epic", "projectIdOrKey": "project",
    "projectKeyOrId": "project", "projectId": "project", "boardId": "board", "sprintId": "sprint",
    "filterId": "filter", "dashboardId": "dashboard", "issueTypeId": "issuetype", "issueType": "issuetype",
    "statusId": "status", "idOrName": "status", "idOrKey": "statuscategory", "issueLinkTypeId": "linktype",
    "applicationKey": "applicationrole", "fieldId": "field", "fieldKey": "field", "fieldIdOrKey": "field",
    "workflowSchemeId": "workflowscheme", "issueSecuritySchemeId": "securityscheme",
    "projectTypeKey": "projecttype", "commentId": "comment", "worklogId": "worklog", "workflowId": "workflow",
    "screenId": "screen", "issueTypeScreenSchemeId": None,
}
# parameters whose meaning is the segment before them
BY_CONTEXT = {
    ("component", "id"): "component", ("customFieldOption", "id"): "option", ("dashboard", "id"): "dashboard",
    ("fieldconfiguration", "id"): "fieldconfiguration", ("filter", "id"): "filter", ("comment", "id"): "comment",
    ("worklog", "id"): "worklog", ("issuesecurityschemes", "id"): "securityscheme", ("issuetype", "id"): "issuetype",
    ("notificationscheme", "id"): "notificationscheme", ("priority", "id"): "priority", ("role", "id"): "role",
    ("projectCategory", "id"): "projectcategory", ("resolution", "id"): "resolution",
    ("securitylevel", "id"): "securitylevel", ("avatar", "id"): "avatar", ("version", "id"): "version",
    ("workflowscheme", "id"): "workflowscheme", ("issueLink", "linkId"): "issuelink",
    ("permissionscheme", "schemeId"): "permissionscheme", ("priorityscheme", "schemeId"): "priorityscheme",
    ("applicationrole", "key"): "applicationrole", ("permission", "permissionId"): "permission",
    ("type", "type"): "avatartype", ("avatar", "type"): "avatartype", ("owner", "entityId"): "avatarowner",
}

MISSING = {
    "issue": "Issue does not exist or you do not have permission to see it.",
    "epic": "Issue does not exist or you do not have permission to see it.",
    "project": "No project could be found with key '{value}'.",
    "board": "Board does not exist or you do not have permission to see it.",
    "sprint": "Sprint does not exist or you do not have permission to see it.",
    "filter": "The selected filter is not available to you, perhaps it has been deleted or had its permissions "
              "changed.",
    "dashboard": "The dashboard you requested either does not exist or you don't have the required permissions to "
                 "perform this action.",
    "component": "The component with id {value} does not exist.",
    "version": "Could not find version for id '{value}'",
    "issuetype": "The issue type with id '{value}' does not exist.",
    "status": "The status with ID or name '{value}' does not exist.",
    "statuscategory": "The status category with ID or key '{value}' does not exist.",
    "priority": "The priority with id '{value}' does not exist.",
    "resolution": "The resolution with id '{value}' does not exist.",
    "linktype": "No issue link type with name or id '{value}' found.",
    "issuelink": "No issue link with id '{value}' exists.",
    "role": "The project role with id '{value}' does not exist.",
    "applicationrole": "The application role '{value}' does not exist.",
    "field": "The field '{value}' does not exist.",
    "comment": "Can not find a comment for the id: {value}.",
    "worklog": "Cannot find worklog with id: {value}.",
    "projectcategory": "No project category with id '{value}' exists.",
    "projecttype": "The project type '{value}' does not exist.",
}


def kind_of(template: str, name: str) -> str | None:
    segs = template.strip("/").split("/")
    i = segs.index("{" + name + "}")
    prev = segs[i - 1] if i else ""
    if (prev, name) in BY_CONTEXT:
        return BY_CONTEXT[(prev, name)]
    return BY_NAME.get(name)


def _int(ref: Any) -> int | None:
    try:
        return int(str(ref))
    except ValueError:
        return None


def issue_number(t, ref: str) -> int | None:
    return t.resolve_issue(ref)


def project(t, ref: str):
    p = t.project_by_ref(str(ref))
    return None if p is None or p.status == "deleted" else p


def board(t, ref: str):
    n = _int(ref)
    b = t.board_by_id.get(n) if n is not None else None
    return None if b is None or b.private or not t.software else b


def sprint(t, ref: str):
    n = _int(ref)
    s = t.sprints.get(n) if n is not None else None
    return None if s is None or t.board_by_id[s.board].private or not t.software else s


def issue_type(t, ref: str):
    """(project whose rendering to use, type code) of an issue type id."""
    ref = str(ref)
    for c, x in enumerate(ISSUE_TYPES):
        if x[0] == ref:
            p0 = next((p for p in t.projects if not p.simplified), t.projects[0])
            return p0, c
    for p in t.projects:
        if p.simplified and p.status != "deleted" and ref in p.issue_type_ids:
            return p, p.issue_type_ids.index(ref)
    return None


def component(t, ref: str):
    n = _int(ref)
    for p in t.projects:
        if p.status == "deleted":
            continue
        for c in p.components:
            if c.id == n:
                return c
    return None


def version(t, ref: str):
    n = _int(ref)
    for p in t.projects:
        if p.status == "deleted":
            continue
        for v in p.versions:
            if v.id == n:
                return v
    return None


def status(ref: str):
    ref = str(ref)
    return next((s for s in STATUSES if s[0] == ref or s[1].lower() == ref.lower()), None)


def link(t, ref: str):
    """(link id, type index, inward issue n, outward issue n) of a live issue link."""
    n = _int(ref)
    if n is None:
        return None
    for a, links in t.links.items():
        for lid, ti, other, outward in links:
            if lid == n and outward:
                if t.exists(a) and t.exists(other):
                    return lid, ti, a, other
                return None
    return None


def comment(t, ref: str):
    """(issue data, comment) of a comment id."""
    from .routes.issues import comment_owner
    n = _int(ref)
    if n is None:
        return None
    owner = comment_owner(t, n)
    if owner is None or not t.exists(owner):
        return None
    d = t.materialize(owner)
    c = next((c for c in d.comments if c[0] == n), None)
    return (d, c) if c is not None else None


def find(sim: "Simulator", kind: str, ref: str, params: dict[str, str] | None = None) -> Any:  # noqa: C901
    t = sim.t
    ref = str(ref)
    n = _int(ref)
    if kind == "issue":
        return issue_number(t, ref)
    if kind == "epic":
        k = issue_number(t, ref)
        return k if k is not None and t.i_type[k] == EPIC else None
    if kind == "project":
        return project(t, ref)
    if kind == "board":
        return board(t, ref)
    if kind == "sprint":
        return sprint(t, ref)
    if kind == "filter":
        return next((f for f in visible_filters(t) if f.id == n), None)
    if kind == "dashboard":
        return next((d for d in t.dashboards if d.id == n), None)
    if kind == "issuetype":
        return issue_type(t, ref)
    if kind == "status":
        return status(ref)
    if kind == "statuscategory":
        return next((c for c in STATUS_CATEGORIES if str(c[0]) == ref or c[1] == ref), None)
    if kind == "linktype":
        return next((x for x in LINK_TYPES if x[0] == ref or x[1].lower() == ref.lower()), None)
    if kind == "issuelink":
        return link(t, ref)
    if kind == "applicationrole":
        from .derived import application_roles
        return next((a for a in application_roles(t) if a["key"] == ref), None)
    if kind == "field":
        return next((f for f in sim.r.field_list() if f["id"] == ref or f["key"] == ref), None)
    if kind == "workflowscheme":
        return next((s for s in t.workflow_schemes if s[0] == n), None)
    if kind == "securityscheme":
        return next((s for s in t.security_schemes if s[0] == n), None)
    if kind == "notificationscheme":
        return next((s for s in t.notification_schemes if s[0] == n), None)
    if kind == "permissionscheme":
        return next((s for s in t.permission_schemes if s[0] == n), None)
    if kind == "priorityscheme":
        return next((s for s in t.priority_schemes if s[0] == n), None) if t.premium else None
    if kind == "fieldconfiguration":
        return next((s for s in t.field_configs if s[0] == n), None)
    if kind == "securitylevel":
        return next((s for s in t.security_schemes if n is not None and n // 10 == s[0]
                     and n % 10 < 2 + s[2] % 2), None)
    if kind == "projecttype":
        return next((x for x in PROJECT_TYPES if x[0] == ref), None)
    if kind == "projectcategory":
        return next((c for c in CATEGORIES if c[0] == ref), None)
    if kind == "priority":
        return next((p for p in PRIORITIES if p[0] == ref), None)
    if kind == "resolution":
        return next((x for x in RESOLUTIONS if x[0] == ref), None)
    if kind == "option":
        return next((o for o in field_options(t) if o[0] == ref), None)
    if kind == "component":
        return component(t, ref)
    if kind == "version":
        return version(t, ref)
    if kind == "comment":
        return comment(t, ref)
    if kind == "worklog":
        d, w = find_worklog(t, n) if n is not None else (None, None)
        return (d, w) if w is not None else None
    if kind == "workflow":
        return next((w for w in t.workflows if w[0] == ref), None)
    if kind == "role":
        from .derived import role_by_id
        return role_by_id(t, n, params)
    if kind == "screen":
        from .routes.schemes_more import screen_ids
        return n if n in screen_ids(t) else None
    if kind == "avatartype":
        return ref if ref in ("project", "issuetype", "priority", "user") else None
    if kind == "avatar":
        return n if n is not None and n > 0 else None
    if kind == "avatarowner":
        typ = (params or {}).get("type")
        if typ == "project":
            return project(t, ref)
        if typ == "issuetype":
            return issue_type(t, ref)
        return None
    if kind == "permission":
        return n
    return None


def field_options(t) -> list[tuple[str, str]]:
    """Every option of every custom field of the site (cascading selects' children too), as (id, value)."""
    out: list[tuple[str, str]] = []
    for fd in t.cf.fields:
        out.extend(fd.options)
        for kids in fd.children.values():
            out.extend(kids)
    return out

