"""Single configuration objects and the lists around them: an issue type (and a project's, and the alternatives),
a status, status category, priority, resolution, link type, project category, project type, custom field option;
statuses/search; field/search; labels; events; one dashboard and dashboard/search; a filter's share permissions,
columns and the default share scope; one permission (with its grants), notification, issue security, workflow or
priority scheme, and security level."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import projects_for, visible_filters
from ..http import V2, HttpError, js, multi, page_bean, require_admin, sim_of
from ..lookup import MISSING, find, project
from ..tenant import LABELS, PRIORITIES, STATUSES

_CATEGORY = {1: "TODO", 2: "TODO", 4: "IN_PROGRESS", 3: "DONE"}
# the columns Jira's issue navigator shows by default (filter/{id}/columns, settings/columns)
DEFAULT_COLUMNS = [("Issue Type", "issuetype"), ("Key", "issuekey"), ("Summary", "summary"),
                   ("Assignee", "assignee"), ("Reporter", "reporter"), ("Priority", "priority"),
                   ("Status", "status"), ("Resolution", "resolution"), ("Created", "created"),
                   ("Updated", "updated"), ("Due date", "duedate")]
EVENTS = [(1, "Issue Created"), (2, "Issue Updated"), (3, "Issue Assigned"), (4, "Issue Resolved"),
          (5, "Issue Closed"), (6, "Issue Commented"), (7, "Issue Reopened"), (8, "Issue Deleted"),
          (9, "Issue Moved"), (10, "Work Logged On Issue"), (11, "Work Started On Issue"),
          (12, "Work Stopped On Issue"), (13, "Generic Event"), (14, "Issue Comment Edited"),
          (15, "Issue Worklog Updated"), (16, "Issue Worklog Deleted"), (17, "Issue Comment Deleted")]


def _get(request: Request, kind: str, param: str = "id"):
    sim = sim_of(request)
    ref = request.path_params[param]
    obj = find(sim, kind, ref, dict(request.path_params))
    if obj is None:
        raise HttpError(404, [MISSING.get(kind, "The requested object '{value}' does not exist.").format(value=ref)])
    return sim, obj


async def issuetype_get(request: Request) -> Response:
    sim, (p, code) = _get(request, "issuetype")
    return js(sim.r.issuetype(p, code))


async def issuetype_alternatives(request: Request) -> Response:
    """The types an issue of this type can become: the other types at the same level of the same scheme."""
    sim, (p, code) = _get(request, "issuetype")
    me = sim.r.issuetype(p, code)
    return js([sim.r.issuetype(p, c) for c in range(5) if c != code
               and sim.r.issuetype(p, c)["subtask"] == me["subtask"]])


async def issuetypes_of_project(request: Request) -> Response:
    sim = sim_of(request)
    ref = request.query_params.get("projectId")
    if not ref:
        raise HttpError(400, ["The projectId query parameter needs to be provided."])
    p = project(sim.t, ref)
    if p is None or not ref.isdigit():
        raise HttpError(404, [MISSING["project"].format(value=ref)])
    level = request.query_params.get("level")
    types = [sim.r.issuetype(p, c) for c in range(5)]
    if level not in (None, ""):
        types = [x for x in types if str(x["hierarchyLevel"]) == level]
    return js(types)


async def status_get(request: Request) -> Response:
    sim, s = _get(request, "status", "idOrName")
    return js(sim.r.status(s[0]))


async def status_category_get(request: Request) -> Response:
    sim, c = _get(request, "statuscategory", "idOrKey")
    return js(sim.r.status_category(c[0]))


def _jira_status(s: tuple) -> dict:
    return {"id": s[0], "name": s[1], "statusCategory": _CATEGORY[s[2]], "scope": {"type": "GLOBAL"},
            "description": s[3]}


async def statuses_search(request: Request) -> Response:
    sim = sim_of(request)
    qp = request.query_params
    ss = list(STATUSES)
    if qp.get("searchString"):
        ss = [s for s in ss if qp["searchString"].lower() in s[1].lower()]
    if qp.get("statusCategory"):
        ss = [s for s in ss if _CATEGORY[s[2]] == qp["statusCategory"]]
    if qp.get("projectId") and project(sim.t, qp["projectId"]) is None:
        raise HttpError(404, [MISSING["project"].format(value=qp["projectId"])])
    return js(page_bean(request, ss, _jira_status, default=200, cap=200))


async def statuses_by_id(request: Request) -> Response:
    ids = set(multi(request, "id"))
    if not ids:
        raise HttpError(400, ["The id query parameter needs to be provided."])
    return js([_jira_status(s) for s in STATUSES if s[0] in ids])


async def statuses_by_name(request: Request) -> Response:
    names = {x.lower() for x in multi(request, "name")}
    if not names:
        raise HttpError(400, ["The name query parameter needs to be provided."])
    return js([_jira_status(s) for s in STATUSES if s[1].lower() in names])


async def priority_get(request: Request) -> Response:
    sim, p = _get(request, "priority")
    return js(sim.r.priority_full(p, p[0] == "3"))


async def resolution_get(request: Request) -> Response:
    sim, x = _get(request, "resolution")
    return js(sim.r.resolution(x[0]))


async def link_type_get(request: Request) -> Response:
    sim, lt = _get(request, "linktype", "linkTypeId")
    return js({"id": lt[0], "name": lt[1], "inward": lt[2], "outward": lt[3],
               "self": f"{sim.r.B}/rest/api/2/issueLinkType/{lt[0]}"})


async def project_category_get(request: Request) -> Response:
    sim, c = _get(request, "projectcategory")
    return js(sim.r.category(c))


def _project_type(request: Request) -> dict:
    sim = sim_of(request)
    key = request.path_params["typeKey"]
    found = next((x for x in sim.r.project_types() if x["key"] == key), None)
    if found is None:
        raise HttpError(404, [MISSING["projecttype"].format(value=key)])
    return found


async def project_type_get(request: Request) -> Response:
    return js(_project_type(request))


async def project_types_accessible(request: Request) -> Response:
    """The project types of the site's projects (the products it is licensed for)."""
    sim = sim_of(request)
    used = {p.type_key for p in projects_for(sim.t, {"live"})}
    return js([x for x in sim.r.project_types() if x["key"] in used])


async def project_type_accessible(request: Request) -> Response:
    sim = sim_of(request)
    found = _project_type(request)
    if found["key"] not in {p.type_key for p in projects_for(sim.t, {"live"})}:
        raise HttpError(404, [MISSING["projecttype"].format(value=found["key"])])
    return js(found)


async def option_get(request: Request) -> Response:
    sim, o = _get(request, "option")
    return js({"self": f"{sim.r.B}/rest/api/2/customFieldOption/{o[0]}", "value": o[1]})


# ---- fields, labels, events ---------------------------------------------------------------------------------

def _field_bean(f: dict) -> dict:
    d = {"id": f["id"], "key": f["key"], "name": f["name"], "schema": f.get("schema", {"type": "any"}),
         "isLocked": not f["custom"], "isUnscreenable": False}
    if f["custom"]:
        searcher = _SEARCHERS.get((f["schema"]["type"], f["schema"].get("items")))
        if searcher and f["schema"]["custom"].startswith("com.atlassian.jira.plugin.system"):
            d["searcherKey"] = f"com.atlassian.jira.plugin.system.customfieldtypes:{searcher}"
        d["stableId"] = f"sfid:{f['id']}"
        d["description"] = ""
    return d


# the searcher Jira pairs with each custom field type
_SEARCHERS = {("number", None): "exactnumber", ("date", None): "daterange", ("datetime", None): "datetimerange",
              ("option", None): "multiselectsearcher", ("array", "option"): "multiselectsearcher",
              ("user", None): "userpickergroupsearcher", ("string", None): "textsearcher",
              ("array", "string"): "labelsearcher"}


async def field_search(request: Request) -> Response:
    """GET field/search: the custom fields (and system fields with type=system), paged."""
    sim = sim_of(request)
    qp = request.query_params
    types = set(multi(request, "type")) or {"custom"}
    ids = set(multi(request, "id"))
    query = (qp.get("query") or "").lower()
    fs = [f for f in sim.r.field_list() if ("custom" if f["custom"] else "system") in types and "schema" in f]
    if ids:
        fs = [f for f in fs if f["id"] in ids]
    if query:
        fs = [f for f in fs if query in f["name"].lower() or query in f["id"].lower()]
    if (qp.get("orderBy") or "").lstrip("+-") == "name":
        fs.sort(key=lambda f: f["name"].lower(), reverse=qp["orderBy"].startswith("-"))
    return js(page_bean(request, fs, _field_bean, cap=50))


async def field_search_trashed(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    return js(page_bean(request, [], _field_bean, cap=50))


async def labels(request: Request) -> Response:
    return js(page_bean(request, sorted(LABELS), lambda x: x, default=1000, cap=1000))


async def events(request: Request) -> Response:
    require_admin(sim_of(request).t)
    return js([{"id": i, "name": n} for i, n in EVENTS])


# ---- dashboards and filters -----------------------------------------------------------------------------------

async def dashboard_get(request: Request) -> Response:
    sim, dsh = _get(request, "dashboard")
    return js(sim.r.dashboard(dsh))


async def dashboard_search(request: Request) -> Response:
    sim = sim_of(request)
    qp = request.query_params
    ds = list(sim.t.dashboards)
    if qp.get("dashboardName"):
        ds = [d for d in ds if qp["dashboardName"].lower() in d.name.lower()]
    if qp.get("accountId"):
        u = sim.t.user_by_account.get(qp["accountId"])
        ds = [d for d in ds if u is not None and d.owner == u.idx]
    order = qp.get("orderBy") or "name"
    key = order.lstrip("+-")
    if key in ("name", "id", "popularity", "favourite_count"):
        ds.sort(key=lambda d: {"name": d.name.lower(), "id": d.id, "popularity": d.popularity,
                               "favourite_count": d.popularity}[key], reverse=order.startswith("-"))
    return js(page_bean(request, ds, sim.r.dashboard, cap=100,
                        extra_params={"dashboardName": qp.get("dashboardName"), "orderBy": qp.get("orderBy")}))


def _filter(request: Request):
    sim = sim_of(request)
    ref = request.path_params["id"]
    f = next((f for f in visible_filters(sim.t) if str(f.id) == ref), None)
    if f is None:
        raise HttpError(404, [MISSING["filter"]])
    return sim, f


async def filter_permissions(request: Request) -> Response:
    sim, f = _filter(request)
    return js([sim.r.share(s, 10000 + f.id * 10 + k) for k, s in enumerate(f.share)])


async def filter_permission(request: Request) -> Response:
    sim, f = _filter(request)
    pid = request.path_params["permissionId"]
    for k, s in enumerate(f.share):
        if str(10000 + f.id * 10 + k) == pid:
            return js(sim.r.share(s, 10000 + f.id * 10 + k))
    raise HttpError(404, [f"The share permission with id {pid} does not exist."])


async def filter_columns(request: Request) -> Response:
    _filter(request)
    return js([{"label": lbl, "value": v} for lbl, v in DEFAULT_COLUMNS])


async def settings_columns(request: Request) -> Response:
    require_admin(sim_of(request).t)
    return js([{"label": lbl, "value": v} for lbl, v in DEFAULT_COLUMNS])


async def default_share_scope(request: Request) -> Response:
    return js({"scope": "PRIVATE"})


# ---- schemes ----------------------------------------------------------------------------------------------------

async def permission_scheme_get(request: Request) -> Response:
    sim, s = _get(request, "permissionscheme", "schemeId")
    return js(sim.r.permission_scheme(s, set(multi(request, "expand"))))


async def permission_grants(request: Request) -> Response:
    sim, s = _get(request, "permissionscheme", "schemeId")
    grants = sim.r.permission_scheme(s, {"permissions"})["permissions"]
    return js({"permissions": grants, "expand": "user,group,permissions,projectRole,field,all"})


async def permission_grant(request: Request) -> Response:
    sim, s = _get(request, "permissionscheme", "schemeId")
    pid = request.path_params["permissionId"]
    for g in sim.r.permission_scheme(s, {"permissions"})["permissions"]:
        if str(g["id"]) == pid:
            return js(g)
    raise HttpError(404, [f"The permission grant with id {pid} does not exist."])


async def notification_scheme_get(request: Request) -> Response:
    sim, s = _get(request, "notificationscheme")
    return js(sim.r.notification_scheme(s, set(multi(request, "expand"))))


async def security_scheme_get(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    sim, s = _get(request, "securityscheme")
    return js(sim.r.security_scheme(s))


async def security_level_get(request: Request) -> Response:
    sim, s = _get(request, "securitylevel")
    lid = request.path_params["id"]
    lv = next(x for x in sim.r.security_scheme(s)["levels"] if x["id"] == lid)
    return js(dict(lv, isDefault=lid == str(s[0] * 10), issueSecuritySchemeId=str(s[0])))


async def workflow_scheme_get(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    sim, s = _get(request, "workflowscheme")
    return js(sim.r.workflow_scheme(s))


async def priority_scheme_priorities(request: Request) -> Response:
    sim = sim_of(request)
    if not sim.t.premium:
        raise HttpError(403, ["Priority schemes are only available on Jira Premium and Enterprise plans."])
    sim, s = _get(request, "priorityscheme", "schemeId")
    pris = PRIORITIES if s[2] else PRIORITIES[:5]
    vals = [dict(sim.r.priority_full(p, p[0] == "3"), sequence=str(k)) for k, p in enumerate(pris)]
    return js(page_bean(request, vals, lambda x: x, cap=50))


async def priority_scheme_projects(request: Request) -> Response:
    sim = sim_of(request)
    if not sim.t.premium:
        raise HttpError(403, ["Priority schemes are only available on Jira Premium and Enterprise plans."])
    sim, s = _get(request, "priorityscheme", "schemeId")
    t = sim.t
    mine = [p for k, p in enumerate(t.live_projects) if (k % len(t.priority_schemes)) == (s[0] - 1)]
    return js(page_bean(request, mine, sim.r.project_ref, cap=50))


# ---- site configuration ---------------------------------------------------------------------------------------

async def configuration(request: Request) -> Response:
    """The site's global settings, as its data shows them: sub-tasks, unassigned issues, 8h days and 5d weeks
    (the units worklog durations are written in)."""
    return js({"votingEnabled": True, "watchingEnabled": True, "unassignedIssuesAllowed": True,
               "subTasksEnabled": True, "issueLinkingEnabled": True, "timeTrackingEnabled": True,
               "attachmentsEnabled": True,
               "timeTrackingConfiguration": {"workingHoursPerDay": 8.0, "workingDaysPerWeek": 5.0,
                                             "timeFormat": "pretty", "defaultUnit": "minute"}})


async def issue_limit_report(request: Request) -> Response:
    """No issue of this site is near Jira's per-issue limits."""
    require_admin(sim_of(request).t)
    return js({"issuesApproachingLimit": {}, "issuesBreachingLimit": {},
               "limits": {"attachment": 2000, "comment": 5000, "issuelinks": 2000, "remoteIssueLinks": 2000,
                          "worklog": 10000}})


def early_routes() -> list[Route]:
    """Literal paths an existing parameter route would otherwise take (filter/{id})."""
    return [Route(f"{V2}/filter/defaultShareScope", default_share_scope),
            Route(f"{V2}/issue/limit/report", issue_limit_report)]


def routes() -> list[Route]:
    # after the existing routes: priority/{id} must not take priority/search, nor resolution/{id} resolution/search
    return [
        Route(f"{V2}/configuration", configuration),
        Route(f"{V2}/issuetype/project", issuetypes_of_project),
        Route(f"{V2}/issuetype/{{id}}", issuetype_get),
        Route(f"{V2}/issuetype/{{id}}/alternatives", issuetype_alternatives),
        Route(f"{V2}/status/{{idOrName}}", status_get),
        Route(f"{V2}/statuscategory/{{idOrKey}}", status_category_get),
        Route(f"{V2}/statuses", statuses_by_id),
        Route(f"{V2}/statuses/search", statuses_search),
        Route(f"{V2}/statuses/byNames", statuses_by_name),
        Route(f"{V2}/priority/{{id}}", priority_get),
        Route(f"{V2}/resolution/{{id}}", resolution_get),
        Route(f"{V2}/issueLinkType/{{linkTypeId}}", link_type_get),
        Route(f"{V2}/projectCategory/{{id}}", project_category_get),
        Route(f"{V2}/project/type/accessible", project_types_accessible),
        Route(f"{V2}/project/type/{{typeKey}}", project_type_get),
        Route(f"{V2}/project/type/{{typeKey}}/accessible", project_type_accessible),
        Route(f"{V2}/customFieldOption/{{id}}", option_get),
        Route(f"{V2}/field/search", field_search),
        Route(f"{V2}/field/search/trashed", field_search_trashed),
        Route(f"{V2}/label", labels),
        Route(f"{V2}/events", events),
        Route(f"{V2}/dashboard/search", dashboard_search),
        Route(f"{V2}/dashboard/{{id}}", dashboard_get),
        Route(f"{V2}/filter/{{id}}/permission", filter_permissions),
        Route(f"{V2}/filter/{{id}}/permission/{{permissionId}}", filter_permission),
        Route(f"{V2}/filter/{{id}}/columns", filter_columns),
        Route(f"{V2}/settings/columns", settings_columns),
        Route(f"{V2}/permissionscheme/{{schemeId}}", permission_scheme_get),
        Route(f"{V2}/permissionscheme/{{schemeId}}/permission", permission_grants),
        Route(f"{V2}/permissionscheme/{{schemeId}}/permission/{{permissionId}}", permission_grant),
        Route(f"{V2}/notificationscheme/{{id}}", notification_scheme_get),
        Route(f"{V2}/issuesecurityschemes/{{id}}", security_scheme_get),
        Route(f"{V2}/securitylevel/{{id}}", security_level_get),
        Route(f"{V2}/workflowscheme/{{id}}", workflow_scheme_get),
        Route(f"{V2}/priorityscheme/{{schemeId}}/priorities", priority_scheme_priorities),
        Route(f"{V2}/priorityscheme/{{schemeId}}/projects", priority_scheme_projects),
    ]
