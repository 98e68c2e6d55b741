"""JSON of the read surface beyond the connector's records: roles, application roles, single users and groups,
pickers, transitions, watchers and votes, issue links, edit metadata and operations, and the `expand` options of
issues, projects and boards.

render.py renders what the connector stores; this module builds on it (render.py's output is never changed here:
an expand option adds keys to its result), so a response without one of these expand options is byte-for-byte
render.py's.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from .derived import (
    GLOBAL_ROLES, application_roles, default_role_actors, transitions_of, voters_of, watchers_of,
)
from .tenant import (
    ISSUE_TYPES, LINK_TYPES, PRIORITIES, RESOLUTIONS, STATUS_BY_ID, STATUSES, SUBTASK,
)

if TYPE_CHECKING:
    from .render import Renderer
    from .tenant import Board, IssueData, Project, User

# expand options of an issue that render.py does not handle
ISSUE_EXTRA_EXPAND = {"transitions", "operations", "editmeta", "versionedRepresentations"}
PROJECT_ALL_EXPAND = {"description", "lead", "issueTypes", "url", "projectKeys", "permissions", "insight",
                      "issueTypeHierarchy"}


# ---- users and groups --------------------------------------------------------------------------------------

def group_name(r: "Renderer", g) -> dict:
    return {"name": g.name, "groupId": g.group_id, "self": f"{r.B}/rest/api/2/group?groupId={g.group_id}"}


def user_full(r: "Renderer", u: "User", expand: set[str]) -> dict:
    """GET /user: the User with its groups and application roles (listed when expanded), as /myself shows them."""
    if u.idx == 0:
        return r.myself(expand)
    t = r.t
    d = r.user(u)
    groups = t.user_groups(u.idx)
    d["groups"] = {"size": len(groups), "items": [group_name(r, g) for g in groups] if "groups" in expand else []}
    roles = [{"key": a["key"], "name": a["name"]} for a in application_roles(t)
             if any(u.idx in g.members for g in a["groups"])] if u.account_type == "atlassian" else []
    d["applicationRoles"] = {"size": len(roles), "items": roles if "applicationRoles" in expand else []}
    d["expand"] = "groups,applicationRoles"
    return d


def picker_user(r: "Renderer", u: "User", query: str) -> dict:
    d = {"accountId": u.account_id, "accountType": u.account_type, "html": _highlight(u.name, query),
         "displayName": u.name, "avatarUrl": u.avatars["16x16"]}
    return d


def found_group(g, query: str) -> dict:
    return {"name": g.name, "html": _highlight(g.name, query), "groupId": g.group_id, "labels": []}


def _highlight(text: str, query: str) -> str:
    """Jira's picker html: the matched part in <strong>, the rest escaped."""
    if query:
        i = text.lower().find(query.lower())
        if i >= 0:
            return (html.escape(text[:i]) + "<strong>" + html.escape(text[i:i + len(query)]) + "</strong>"
                    + html.escape(text[i + len(query):]))
    return html.escape(text)


def group_full(r: "Renderer", g, members: list, start: int, mr: int, expand: set[str]) -> dict:
    items = [r.user_ref(u.idx) for u in members[start: start + mr]] if "users" in expand else []
    users: dict[str, Any] = {"size": len(members), "items": items, "max-results": mr, "start-index": start,
                             "end-index": start + max(len(items) - 1, 0)}
    return {"name": g.name, "groupId": g.group_id, "self": f"{r.B}/rest/api/2/group?groupId={g.group_id}",
            "users": users, "expand": "users"}


# ---- roles ---------------------------------------------------------------------------------------------------

def _actor(r: "Renderer", kind: str, ref, aid: int) -> dict:
    if kind == "user":
        u = r.t.users[ref]
        return {"id": aid, "displayName": u.name, "type": "atlassian-user-role-actor",
                "actorUser": {"accountId": u.account_id}, "avatarUrl": u.avatars["16x16"]}
    return {"id": aid, "displayName": ref.name, "type": "atlassian-group-role-actor", "name": ref.name,
            "actorGroup": {"name": ref.name, "displayName": ref.name, "groupId": ref.group_id}}


def _actors(r: "Renderer", actors: list, base_id: int, active_only: bool = False) -> list[dict]:
    out = []
    for k, (kind, ref) in enumerate(actors):
        if active_only and kind == "user" and not r.t.users[ref].active:
            continue
        out.append(_actor(r, kind, ref, base_id + k))
    return out


def project_details(r: "Renderer", p: "Project") -> dict:
    d = {"self": f"{r.B}/rest/api/2/project/{p.id}", "id": str(p.id), "key": p.key, "name": p.name,
         "projectTypeKey": p.type_key, "simplified": p.simplified, "avatarUrls": r.project_avatars(p)}
    if p.category is not None:
        d["projectCategory"] = {"self": f"{r.B}/rest/api/2/projectCategory/{p.category[0]}", "id": p.category[0],
                                "name": p.category[1], "description": p.category[2]}
    return d


def project_role(r: "Renderer", p: "Project", role: dict, *, actors: bool = True,
                 active_only: bool = False) -> dict:
    d: dict[str, Any] = {"self": f"{r.B}/rest/api/2/project/{p.id}/role/{role['id']}", "name": role["name"],
                         "id": role["id"], "description": role["description"]}
    if actors:
        d["actors"] = _actors(r, role["actors"], 20000 + p.idx * 1000 + (role["id"] % 100) * 10, active_only)
    if role["scoped"]:
        d["scope"] = {"type": "PROJECT", "project": {"id": str(p.id), "key": p.key, "name": p.name}}
    return d


def role_details(r: "Renderer", p: "Project", role: dict) -> dict:
    d = project_role(r, p, role, actors=False)
    d.update({"translatedName": role["name"], "admin": role["admin"], "default": role["id"] == 10000,
              "roleConfigurable": True})
    return d


def global_role(r: "Renderer", rid: int, *, actors_only: bool = False) -> dict:
    _, name, desc, admin = next(x for x in GLOBAL_ROLES if x[0] == rid)
    actors = _actors(r, default_role_actors(r.t, rid), 19000 + (rid % 100) * 10)
    if actors_only:
        return {"actors": actors}
    return {"self": f"{r.B}/rest/api/2/role/{rid}", "name": name, "id": rid, "description": desc,
            "actors": actors, "admin": admin, "default": rid == 10000, "roleConfigurable": True,
            "translatedName": name}


def application_role(r: "Renderer", a: dict) -> dict:
    groups = a["groups"]
    return {"key": a["key"], "groups": [g.name for g in groups],
            "groupDetails": [group_name(r, g) for g in groups], "name": a["name"],
            "defaultGroups": [g.name for g in a["default"]],
            "defaultGroupsDetails": [group_name(r, g) for g in a["default"]], "selectedByDefault": False,
            "defined": True, "numberOfSeats": a["seats"], "remainingSeats": a["seats"] - a["userCount"],
            "userCount": a["userCount"], "userCountDescription": "users", "hasUnlimitedSeats": False,
            "platform": a["platform"]}


# ---- issues --------------------------------------------------------------------------------------------------

def transitions(r: "Renderer", d: "IssueData", expand: set[str], only: str | None = None) -> list[dict]:
    out = []
    with_fields = "transitions.fields" in expand
    for tid, target, is_global in transitions_of(d):
        if only and tid != only:
            continue
        done = STATUS_BY_ID[target][2] == 3
        tr: dict[str, Any] = {"id": tid, "name": STATUS_BY_ID[target][1], "to": r.status(target),
                              "hasScreen": done, "isGlobal": is_global, "isInitial": False, "isAvailable": True,
                              "isConditional": False, "isLooped": False}
        if with_fields:
            tr["fields"] = {"resolution": _resolution_meta(r, required=True)} if done else {}
        out.append(tr)
    return out


def _resolution_meta(r: "Renderer", required: bool) -> dict:
    return {"required": required, "schema": {"type": "resolution", "system": "resolution"}, "name": "Resolution",
            "key": "resolution", "operations": ["set"], "allowedValues": [r.resolution(x[0]) for x in RESOLUTIONS]}


def watchers(r: "Renderer", d: "IssueData") -> dict:
    ws = watchers_of(r.t, d)
    return {"self": f"{r.B}/rest/api/2/issue/{d.key}/watchers", "isWatching": False, "watchCount": len(ws),
            "watchers": [r.user_ref(i) for i in ws]}


def votes(r: "Renderer", d: "IssueData") -> dict:
    vs = voters_of(r.t, d)
    return {"self": f"{r.B}/rest/api/2/issue/{d.key}/votes", "votes": len(vs), "hasVoted": False,
            "voters": [r.user(r.t.users[i]) for i in vs]}


def issue_link(r: "Renderer", link: tuple) -> dict:
    lid, ti, inward, outward = link
    lt = LINK_TYPES[ti]
    return {"id": str(lid), "self": f"{r.B}/rest/api/2/issueLink/{lid}",
            "type": {"id": lt[0], "name": lt[1], "inward": lt[2], "outward": lt[3],
                     "self": f"{r.B}/rest/api/2/issueLinkType/{lt[0]}"},
            "inwardIssue": r._issue_stub(inward), "outwardIssue": r._issue_stub(outward)}


def suggested_issue(r: "Renderer", d: "IssueData", query: str) -> dict:
    it = r.issuetype(d.project, d.type_code)
    return {"id": d.id, "key": d.key, "keyHtml": _highlight(d.key, query), "img": it["iconUrl"],
            "summary": _highlight(d.summary, query), "summaryText": d.summary}


def issue_types_with_statuses(r: "Renderer", p: "Project") -> list[dict]:
    """GET project/{key}/statuses: every status of the project's workflow, per issue type."""
    out = []
    for c in range(len(ISSUE_TYPES)):
        it = r.issuetype(p, c)
        out.append({"self": it["self"], "id": it["id"], "name": it["name"], "subtask": it["subtask"],
                    "statuses": [r.status(s[0]) for s in STATUSES]})
    return out


_ARRAY_OPS = ["add", "set", "remove"]
_EDITABLE = ["summary", "issuetype", "priority", "labels", "components", "fixVersions", "versions", "description",
             "environment", "assignee", "reporter", "duedate", "timetracking", "comment", "issuelinks"]


def editmeta(r: "Renderer", d: "IssueData") -> dict:
    """How each field on the issue's edit screen can be edited (IssueUpdateMetadata)."""
    p = d.project
    catalogue = {f["id"]: f for f in r.field_list()}
    fields: dict[str, Any] = {}
    for fid in _EDITABLE + [fd.id for fd in r.t.cf.editable.get(p.idx, ())]:
        if fid == "timetracking" and not p.tt_enabled:
            continue
        f = catalogue.get(fid)
        if f is None or "schema" not in f:
            continue
        schema = f["schema"]
        ops = _ARRAY_OPS if schema["type"] == "array" else ["set"]
        if fid == "comment":
            ops = ["add", "edit", "remove"]
        m: dict[str, Any] = {"required": fid in ("summary", "issuetype"), "schema": schema, "name": f["name"],
                             "key": fid, "operations": ops}
        allowed = _allowed_values(r, d, fid)
        if allowed is not None:
            m["allowedValues"] = allowed
        if fid in ("assignee", "reporter") or schema.get("type") == "user":
            m["autoCompleteUrl"] = f"{r.B}/rest/api/2/user/search?query="
        if fid == "labels":
            m["autoCompleteUrl"] = f"{r.B}/rest/api/1.0/labels/suggest?query="
        if fid == "issuelinks":
            m["autoCompleteUrl"] = f"{r.B}/rest/api/2/issue/picker?currentProjectId=&showSubTaskParent=true" \
                                   f"&showSubTasks=true&currentIssueKey={d.key}&query="
        fields[fid] = m
    return {"fields": fields}


def _allowed_values(r: "Renderer", d: "IssueData", fid: str) -> list | None:
    p = d.project
    if fid == "issuetype":
        # a sub-task changes only to sub-task types, other issues only to other standard types
        return [r.issuetype(p, c) for c in range(len(ISSUE_TYPES)) if (c == SUBTASK) == (d.type_code == SUBTASK)]
    if fid == "priority":
        return [r.priority(x[0]) for x in PRIORITIES]
    if fid == "components":
        return [r.component_ref(c) for c in p.components]
    if fid in ("fixVersions", "versions"):
        return [r.version_ref(v) for v in p.versions]
    fd = r.t.cf.by_id.get(fid)
    if fd is not None and fd.options:
        return [r._option(o) for o in fd.options]
    return None


def operations(r: "Renderer", d: "IssueData") -> dict:
    """The issue's operations as Jira's issue view lists them (edit, comment, assign, the workflow transitions)."""
    def link(lid: str, label: str, href: str, weight: int, style: str = "") -> dict:
        x = {"id": lid, "styleClass": style or f"issueaction-{lid}", "label": label, "title": label,
             "href": href, "weight": weight}
        return x

    iid = d.id
    basics = [link("edit-issue", "Edit", f"/secure/EditIssue!default.jspa?id={iid}", 1),
              link("comment-issue", "Comment", f"/secure/AddComment!default.jspa?id={iid}", 10),
              link("assign-issue", "Assign", f"/secure/AssignIssue!default.jspa?id={iid}", 5)]
    workflow = [link(f"action_id_{tid}", STATUS_BY_ID[target][1],
                     f"/secure/WorkflowUIDispatcher.jspa?id={iid}&action={tid}", 10 * (k + 1),
                     "issueaction-workflow-transition")
                for k, (tid, target, _) in enumerate(transitions_of(d))]
    return {"linkGroups": [
        {"id": "view.issue.opsbar", "links": [], "groups": [
            {"id": "edit-issue_container", "weight": 1, "links": basics, "groups": []},
            {"id": "transitions-all", "weight": 20, "links": workflow, "groups": []}]},
        {"id": "jira.issue.tools", "links": [], "groups": [
            {"id": "view.issue.exports", "weight": 1, "groups": [], "links": [
                link("jira.issueviews:issue-xml", "XML", f"/si/jira.issueviews:issue-xml/{d.key}/{d.key}.xml", 10,
                     "issueaction-export-xml")]}]}]}


def issue_view(r: "Renderer", d: "IssueData", fields: list[str], expand: set[str], *, histories_cap: int) -> dict:
    """An issue with every expand option the spec lists: render.py's issue, plus transitions, operations, editmeta
    and versionedRepresentations (which replaces `fields`: every field's value keyed by representation version)."""
    out = r.issue(d, fields, expand, histories_cap=histories_cap)
    if not expand & ISSUE_EXTRA_EXPAND:
        return out
    if "versionedRepresentations" in expand:
        versioned = {f: {"1": v} for f, v in out.get("fields", {}).items()}
        out = {k: v for k, v in out.items() if k != "fields"}
        out["versionedRepresentations"] = versioned
    if "transitions" in expand:
        out["transitions"] = transitions(r, d, expand)
    if "operations" in expand:
        out["operations"] = operations(r, d)
    if "editmeta" in expand:
        out["editmeta"] = editmeta(r, d)
    return out


# ---- projects and boards ---------------------------------------------------------------------------------------

def project_hierarchy(r: "Renderer", p: "Project") -> dict:
    """Project.issueTypeHierarchy: the levels Epic (1), standard types (0), sub-tasks (-1)."""
    ids = [int(r.issuetype(p, c)["id"]) for c in range(len(ISSUE_TYPES))]
    base = 10000 + p.idx * 10
    levels = [(base + 2, "Epic", 1, [ids[0]]), (base + 1, "Base", 0, ids[1:4]), (base, "Subtask", -1, [ids[4]])]
    out = []
    for k, (lid, name, number, types) in enumerate(levels):
        lv: dict[str, Any] = {"id": lid, "name": name, "level": number, "hierarchyLevelNumber": number,
                              "issueTypeIds": types, "projectConfigurationId": 10000 + p.idx,
                              "externalUuid": r.t._uuid("hierarchy", p.idx, number)}
        if k > 0:
            lv["aboveLevelId"] = levels[k - 1][0]
        if k < len(levels) - 1:
            lv["belowLevelId"] = levels[k + 1][0]
        out.append(lv)
    return {"baseLevelId": base + 1, "levels": out}


def project_type_hierarchy(r: "Renderer", p: "Project") -> dict:
    """GET project/{id}/hierarchy (ProjectIssueTypeHierarchy)."""
    levels = []
    for number, name, codes in ((1, "Epic", [0]), (0, "Base", [1, 2, 3]), (-1, "Subtask", [4])):
        levels.append({"entityId": r.t._uuid("hierarchy", p.idx, number), "level": number, "name": name,
                       "issueTypes": [{"id": int(r.issuetype(p, c)["id"]), "name": r.issuetype(p, c)["name"],
                                       "avatarId": r.issuetype(p, c)["avatarId"]} for c in codes]})
    return {"projectId": p.id, "hierarchy": levels}


def project_view(r: "Renderer", p: "Project", expand: set[str]) -> dict:
    """A project with every expand option the spec lists (`*` = all of them)."""
    if "*" in expand:
        expand = expand | PROJECT_ALL_EXPAND
    out = r.project(p, expand)
    if "projectKeys" in expand:
        out["projectKeys"] = [p.key]
    if "issueTypeHierarchy" in expand:
        out["issueTypeHierarchy"] = project_hierarchy(r, p)
    return out


def board_view(r: "Renderer", b: "Board", expand: set[str]) -> dict:
    """A board with the spec's expand options: `admins` (its owner, and the site admins group), `permissions`."""
    out = r.board(b)
    if b.private or not expand & {"admins", "permissions"}:
        return out
    t = r.t
    if "admins" in expand:
        u = t.users[b.owner]
        admins = next((g for g in t.groups if g.name.startswith("jira-admins")), None)
        out["admins"] = {"users": [{"self": f"{r.B}/rest/api/2/user?accountId={u.account_id}",
                                    "accountId": u.account_id, "displayName": u.name, "active": u.active,
                                    "avatarUrls": u.avatars}],
                         "groups": [{"name": admins.name, "self": f"{r.B}/rest/api/2/group?groupId="
                                                                  f"{admins.group_id}"}] if admins else []}
    if "permissions" in expand:
        out["canEdit"] = b.owner == 0 or t.admin
    return out
