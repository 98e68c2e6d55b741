"""Configuration a sync tool walks besides the catalogued schemes: the deprecated workflow lists (workflow,
workflow/search), screens with their tabs and fields, custom field contexts and their options, issue type schemes
(with their issue types and projects), issue type screen schemes, create metadata, project avatars, and the time
tracking provider. All derived from the tenant: the screens are the ones its screen schemes name, the contexts and
options the ones its custom fields use."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import projects_for
from ..http import V2, HttpError, js, multi, page_bean, require_admin, sim_of
from ..lookup import MISSING, find, project
from ..render_more import editmeta
from ..tenant import ISSUE_TYPES, STATUS_BY_ID, fmt_ms

SCREEN_KINDS = {1: "Default Screen", 2: "Create Issue Screen", 3: "Edit/View Issue Screen"}
# the fields every screen of this site shows, in order (tabs have these fields; the rest are "available")
SCREEN_FIELDS = ["summary", "issuetype", "reporter", "components", "description", "fixVersions", "priority",
                 "labels", "timetracking", "assignee", "duedate", "customfield_10016", "customfield_10020"]
JIRA_TIME_TRACKING = {"key": "JIRA", "name": "JIRA provided time tracking"}


# ---- workflows (deprecated lists) -----------------------------------------------------------------------------

def _workflow(r, w: tuple, expand: set[str]) -> dict:
    wid, name, scope_project, statuses, vnum, created = w
    d: dict[str, Any] = {"id": {"name": name, "entityId": wid},
                         "description": "The default Jira workflow." if name == "jira" else "",
                         "created": fmt_ms(created), "updated": fmt_ms(created + vnum * 86_400_000),
                         "isDefault": name == "jira"}
    if "statuses" in expand:
        d["statuses"] = [{"id": s, "name": STATUS_BY_ID[s][1], "properties": {}} for s in statuses]
    if "transitions" in expand:
        d["transitions"] = [{"id": str(11 + 10 * k), "name": STATUS_BY_ID[s][1], "description": "",
                             "from": [] if k == 0 else [statuses[k - 1]], "to": s,
                             "type": "initial" if k == 0 else "directed"} for k, s in enumerate(statuses)]
    if "operations" in expand:
        d["operations"] = {"canEdit": name != "jira", "canDelete": name != "jira"}
    if "projects" in expand and scope_project is not None:
        d["projects"] = [r.project_ref(scope_project)]
    return d


async def workflow_search(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    qp = request.query_params
    ws = list(sim.t.workflows)
    names = set(multi(request, "workflowName"))
    if names:
        ws = [w for w in ws if w[1] in names]
    if qp.get("queryString"):
        ws = [w for w in ws if qp["queryString"].lower() in w[1].lower()]
    expand = {x.split(".")[-1] for x in multi(request, "expand")}
    return js(page_bean(request, ws, lambda w: _workflow(sim.r, w, expand), cap=50))


async def workflow_list(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    name = request.query_params.get("workflowName")
    out = []
    for wid, wname, scope_project, statuses, vnum, created in sim.t.workflows:
        if name and wname != name:
            continue
        d: dict[str, Any] = {"name": wname, "description": "The default Jira workflow." if wname == "jira" else "",
                             "lastModifiedDate": fmt_ms(created + vnum * 86_400_000), "steps": len(statuses),
                             "default": wname == "jira"}
        if scope_project is not None:
            d["scope"] = {"type": "PROJECT", "project": {"id": str(scope_project.id)}}
        out.append(d)
    return js(out)


# ---- screens --------------------------------------------------------------------------------------------------

def _screens(t) -> list[tuple[int, str]]:
    """(screen id, name) of every screen a screen scheme names."""
    out: dict[int, str] = {}
    for sid, name in t.screen_schemes:
        kinds = (1, 2, 3) if sid % 2 == 0 else (1,)
        for k in kinds:
            out.setdefault(sid * 10 + k, f"{name.replace(' Screen Scheme', '').replace(' screens', '')}: "
                                         f"{SCREEN_KINDS[k]}")
    return sorted(out.items())


def screen_ids(t) -> set[int]:
    return {s for s, _ in _screens(t)}


def _screen(request: Request) -> int:
    sim = sim_of(request)
    require_admin(sim.t)
    ref = request.path_params["screen"]
    if not any(str(s) == ref for s, _ in _screens(sim.t)):
        raise HttpError(404, [f"The screen with id '{ref}' does not exist."])
    return int(ref)


async def screens(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    ids = set(multi(request, "id"))
    ss = [s for s in _screens(sim.t) if not ids or str(s[0]) in ids]
    name = (request.query_params.get("queryString") or "").lower()
    if name:
        ss = [s for s in ss if name in s[1].lower()]
    return js(page_bean(request, ss, lambda s: {"id": s[0], "name": s[1], "description": ""}, default=100,
                        cap=100))


async def screen_tabs(request: Request) -> Response:
    sid = _screen(request)
    return js([{"id": sid * 100 + 1, "name": "Field Tab"}])


def _field_names(sim) -> dict[str, str]:
    return {f["id"]: f["name"] for f in sim.r.field_list()}


async def screen_tab_fields(request: Request) -> Response:
    sid = _screen(request)
    if request.path_params["tab"] != str(sid * 100 + 1):
        raise HttpError(404, [f"The screen tab with id '{request.path_params['tab']}' does not exist."])
    names = _field_names(sim_of(request))
    return js([{"id": f, "name": names[f]} for f in SCREEN_FIELDS if f in names])


async def screen_available_fields(request: Request) -> Response:
    _screen(request)
    sim = sim_of(request)
    on = set(SCREEN_FIELDS)
    return js([{"id": f["id"], "name": f["name"]} for f in sim.r.field_list() if f["id"] not in on
               and f.get("schema") and f["orderable"]])


# ---- custom field contexts and options -----------------------------------------------------------------------

def _custom_field(request: Request) -> dict:
    sim = sim_of(request)
    require_admin(sim.t)
    ref = request.path_params["field"]
    f = find(sim, "field", ref)
    if f is None:
        raise HttpError(404, [MISSING["field"].format(value=ref)])
    if not f["custom"]:
        raise HttpError(404, [f"The custom field '{ref}' does not exist."])
    return f


def _context_id(f: dict) -> str:
    return str(10000 + f["schema"]["customId"])


async def field_contexts(request: Request) -> Response:
    """Every custom field of this site has one context: its global default configuration."""
    f = _custom_field(request)
    ctx = {"id": _context_id(f), "name": f"Default Configuration Scheme for {f['name']}",
           "description": "Default configuration scheme generated by Jira", "isGlobalContext": True,
           "isAnyIssueType": True}
    return js(page_bean(request, [ctx], lambda x: x, cap=100))


async def field_context_options(request: Request) -> Response:
    f = _custom_field(request)
    if request.path_params["context"] != _context_id(f):
        raise HttpError(404, [f"The context with id '{request.path_params['context']}' does not exist."])
    fd = sim_of(request).t.cf.by_id.get(f["id"])
    if fd is None or not fd.options:
        raise HttpError(400, ["The custom field doesn't support options."])
    return js(page_bean(request, fd.options, lambda o: {"id": o[0], "value": o[1], "disabled": False}, cap=100))


# ---- issue type schemes and issue type screen schemes ----------------------------------------------------------

def _type_schemes(t) -> list[dict]:
    """The default scheme (company-managed projects) and one per team-managed project."""
    out = [{"id": "10000", "name": "Default Issue Type Scheme", "description": "Default issue type scheme is the "
            "list of global issue types. All newly created issue types will automatically be added to this "
            "scheme.", "isDefault": True, "types": [x[0] for x in ISSUE_TYPES],
            "projects": [str(p.id) for p in t.projects if not p.simplified and p.status != "deleted"]}]
    for p in t.projects:
        if p.simplified and p.status != "deleted":
            out.append({"id": str(10001 + p.idx), "name": f"{p.key}: Issue Type Scheme", "description": "",
                        "isDefault": False, "types": list(p.issue_type_ids), "projects": [str(p.id)],
                        "default_type": p.issue_type_ids[2]})
    return out


def _type_scheme(s: dict) -> dict:
    d = {"id": s["id"], "name": s["name"], "description": s["description"], "isDefault": s["isDefault"]}
    if "default_type" in s:
        d["defaultIssueTypeId"] = s["default_type"]
    return d


async def issue_type_schemes(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    ids = set(multi(request, "id"))
    ss = [s for s in _type_schemes(sim.t) if not ids or s["id"] in ids]
    return js(page_bean(request, ss, _type_scheme, cap=50))


async def issue_type_scheme_mapping(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    ids = set(multi(request, "issueTypeSchemeId"))
    rows = [{"issueTypeSchemeId": s["id"], "issueTypeId": x} for s in _type_schemes(sim.t)
            if not ids or s["id"] in ids for x in s["types"]]
    return js(page_bean(request, rows, lambda x: x, cap=50))


def _project_ids(request: Request) -> list[str]:
    ids = multi(request, "projectId")
    if not ids:
        raise HttpError(400, ["The projectId query parameter needs to be provided."])
    return ids


async def issue_type_scheme_projects(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    ids = set(_project_ids(request))
    rows = [{"issueTypeScheme": _type_scheme(s), "projectIds": [p for p in s["projects"] if p in ids]}
            for s in _type_schemes(sim.t) if ids & set(s["projects"])]
    return js(page_bean(request, rows, lambda x: x, cap=50))


_SCREEN_SCHEME = {"id": "1", "name": "Default Issue Type Screen Scheme",
                  "description": "The default issue type screen scheme"}


async def issue_type_screen_schemes(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    return js(page_bean(request, [_SCREEN_SCHEME], lambda x: x, cap=100))


async def issue_type_screen_scheme_mapping(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    first = sim.t.screen_schemes[0][0]
    rows = [{"issueTypeScreenSchemeId": "1", "issueTypeId": "default", "screenSchemeId": str(first)}]
    return js(page_bean(request, rows, lambda x: x, cap=100))


async def issue_type_screen_scheme_projects(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    ids = set(_project_ids(request))
    mine = [str(p.id) for p in sim.t.projects if str(p.id) in ids and not p.simplified]
    rows = [{"issueTypeScreenScheme": _SCREEN_SCHEME, "projectIds": mine}] if mine else []
    return js(page_bean(request, rows, lambda x: x, cap=100))


async def issue_type_screen_scheme_project_list(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    if request.path_params["scheme"] != _SCREEN_SCHEME["id"]:
        raise HttpError(404, [f"The issue type screen scheme with id '{request.path_params['scheme']}' does not "
                              "exist."])
    ps = [p for p in projects_for(sim.t, {"live"}) if not p.simplified]
    return js(page_bean(request, ps, sim.r.project_ref, cap=100))


# ---- create metadata, avatars, time tracking ------------------------------------------------------------------

def _project(request: Request):
    sim = sim_of(request)
    ref = request.path_params["key"]
    p = project(sim.t, ref)
    if p is None or p.status != "live":
        raise HttpError(404, [MISSING["project"].format(value=ref)])
    return sim, p


def _create_fields(sim, p, code: int) -> dict:
    """Create metadata: the edit metadata of a new issue of that type (no comment; project and reporter set)."""
    t = sim.t
    probe = next((n for n in p.issue_ns if t.exists(n)), None)
    if probe is None:
        return {}
    d = t.materialize(probe)
    fields = dict(editmeta(sim.r, d)["fields"])
    fields.pop("comment", None)
    it = sim.r.issuetype(p, code)
    fields["issuetype"] = dict(fields.get("issuetype", {}), allowedValues=[it])
    fields["project"] = {"required": True, "schema": {"type": "project", "system": "project"}, "name": "Project",
                         "key": "project", "operations": ["set"], "allowedValues": [sim.r.project_ref(p)]}
    return fields


async def createmeta_types(request: Request) -> Response:
    sim, p = _project(request)
    types = [sim.r.issuetype(p, c) for c in range(len(ISSUE_TYPES))]
    page = page_bean(request, types, lambda x: x, cap=200)
    return js({"issueTypes": page["values"], "maxResults": page["maxResults"], "startAt": page["startAt"],
               "total": page["total"]})


async def createmeta_fields(request: Request) -> Response:
    sim, p = _project(request)
    ref = request.path_params["type"]
    code = next((c for c in range(len(ISSUE_TYPES)) if sim.r.issuetype(p, c)["id"] == ref), None)
    if code is None:
        raise HttpError(404, [MISSING["issuetype"].format(value=ref)])
    fields = [dict(m, fieldId=fid) for fid, m in _create_fields(sim, p, code).items()]
    page = page_bean(request, fields, lambda x: x, cap=200)
    return js({"fields": page["values"], "maxResults": page["maxResults"], "startAt": page["startAt"],
               "total": page["total"]})


async def createmeta(request: Request) -> Response:
    """GET issue/createmeta (deprecated): the projects and their issue types, with fields when expanded."""
    sim = sim_of(request)
    keys = set(multi(request, "projectKeys")) | set(multi(request, "projectIds"))
    with_fields = "projects.issuetypes.fields" in multi(request, "expand")
    out = []
    for p in projects_for(sim.t, {"live"}):
        if keys and p.key not in keys and str(p.id) not in keys:
            continue
        types = []
        for c in range(len(ISSUE_TYPES)):
            it = dict(sim.r.issuetype(p, c))
            if with_fields:
                it["fields"] = _create_fields(sim, p, c)
            types.append(it)
        out.append({"self": f"{sim.r.B}/rest/api/2/project/{p.id}", "id": str(p.id), "key": p.key, "name": p.name,
                    "avatarUrls": sim.r.project_avatars(p), "issuetypes": types})
    return js({"projects": out})


async def project_avatars(request: Request) -> Response:
    sim, p = _project(request)
    mine = 10400 + p.idx % 20
    system = []
    for k in range(20):
        aid = 10400 + k
        system.append({"id": str(aid), "isSystemAvatar": True, "isSelected": aid == mine, "isDeletable": False,
                       "urls": {s: f"{sim.r.B}/rest/api/2/universal_avatar/view/type/project/avatar/{aid}?size={n}"
                                for s, n in (("16x16", "xsmall"), ("24x24", "small"), ("32x32", "medium"),
                                             ("48x48", "large"))}})
    return js({"system": system, "custom": []})


async def time_tracking(request: Request) -> Response:
    require_admin(sim_of(request).t)
    return js(JIRA_TIME_TRACKING)


async def time_tracking_list(request: Request) -> Response:
    require_admin(sim_of(request).t)
    return js([JIRA_TIME_TRACKING])


def early_routes() -> list[Route]:
    """Literal paths an existing parameter route would otherwise take (issue/{key})."""
    return [Route(f"{V2}/issue/createmeta", createmeta)]


def routes() -> list[Route]:
    return [
        Route(f"{V2}/workflow", workflow_list),
        Route(f"{V2}/workflow/search", workflow_search),
        Route(f"{V2}/screens", screens),
        Route(f"{V2}/screens/{{screen}}/tabs", screen_tabs),
        Route(f"{V2}/screens/{{screen}}/tabs/{{tab}}/fields", screen_tab_fields),
        Route(f"{V2}/screens/{{screen}}/availableFields", screen_available_fields),
        Route(f"{V2}/field/{{field}}/context", field_contexts),
        Route(f"{V2}/field/{{field}}/context/{{context}}/option", field_context_options),
        Route(f"{V2}/issuetypescheme", issue_type_schemes),
        Route(f"{V2}/issuetypescheme/mapping", issue_type_scheme_mapping),
        Route(f"{V2}/issuetypescheme/project", issue_type_scheme_projects),
        Route(f"{V2}/issuetypescreenscheme", issue_type_screen_schemes),
        Route(f"{V2}/issuetypescreenscheme/mapping", issue_type_screen_scheme_mapping),
        Route(f"{V2}/issuetypescreenscheme/project", issue_type_screen_scheme_projects),
        Route(f"{V2}/issuetypescreenscheme/{{scheme}}/project", issue_type_screen_scheme_project_list),
        Route(f"{V2}/issue/createmeta/{{key}}/issuetypes", createmeta_types),
        Route(f"{V2}/issue/createmeta/{{key}}/issuetypes/{{type}}", createmeta_fields),
        Route(f"{V2}/project/{{key}}/avatars", project_avatars),
        Route(f"{V2}/configuration/timetracking", time_tracking),
        Route(f"{V2}/configuration/timetracking/list", time_tracking_list),
    ]
