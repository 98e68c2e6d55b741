"""Projects beyond project/search: the deprecated project list, project/recent, a project's statuses, properties,
issue type hierarchy, schemes and security levels; one component or version (and their issue counts), the
component list across projects."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import component_count, projects_for
from ..http import V2, HttpError, int_param, js, multi, page_bean, require_admin, sim_of
from ..lookup import MISSING, component, project, version
from ..render_more import issue_types_with_statuses, project_type_hierarchy, project_view
from ..tenant import STATUS_BY_ID


def _project(request: Request, name: str = "key"):
    sim = sim_of(request)
    ref = request.path_params[name]
    p = project(sim.t, ref)
    if p is None:
        raise HttpError(404, [MISSING["project"].format(value=ref)])
    return sim, p


async def project_list(request: Request) -> Response:
    """GET project (deprecated): every project the caller can browse, as a plain array."""
    sim = sim_of(request)
    expand = set(multi(request, "expand"))
    ps = projects_for(sim.t, {"live"})
    recent = request.query_params.get("recent")
    if recent:
        ps = sorted(ps, key=lambda p: -p.insight_last)[: int_param(recent, "recent", 20)]
    return js([project_view(sim.r, p, expand) for p in ps])


async def project_recent(request: Request) -> Response:
    """GET project/recent: the projects with the latest issue activity (up to 20), as a user's recent list."""
    sim = sim_of(request)
    expand = set(multi(request, "expand"))
    ps = sorted(projects_for(sim.t, {"live"}), key=lambda p: (-p.insight_last, p.key))
    return js([project_view(sim.r, p, expand) for p in ps[:20]])


async def project_statuses(request: Request) -> Response:
    sim, p = _project(request)
    return js(issue_types_with_statuses(sim.r, p))


async def project_properties(request: Request) -> Response:
    _project(request)
    return js({"keys": []})


async def project_property(request: Request) -> Response:
    _project(request)
    raise HttpError(404, [f"The property with key '{request.path_params['prop']}' does not exist."])


async def project_hierarchy(request: Request) -> Response:
    sim, p = _project(request)
    return js(project_type_hierarchy(sim.r, p))


async def project_features(request: Request) -> Response:
    """The Jira Software features of a project: backlog and sprints where it has a scrum board."""
    sim, p = _project(request)
    scrum = sim.t.project_scrum.get(p.idx) is not None
    software = p.type_key == "software" and sim.t.software

    def feature(key: str, name: str, on: bool) -> dict:
        return {"projectId": p.id, "state": "ENABLED" if on else "DISABLED", "toggleLocked": not software,
                "feature": f"jsw.classic.{key}", "prerequisites": [], "localisedName": name,
                "localisedDescription": name}
    return js({"features": [feature("roadmap", "Roadmap", software), feature("backlog", "Backlog", software),
                            feature("sprints", "Sprints", scrum), feature("releases", "Releases", True),
                            feature("reports", "Reports", software)]})


def _scheme_of(schemes: list, p):
    return schemes[p.idx % len(schemes)]


async def project_permission_scheme(request: Request) -> Response:
    sim, p = _project(request)
    require_admin(sim.t)
    return js(sim.r.permission_scheme(_scheme_of(sim.t.permission_schemes, p), set(multi(request, "expand"))))


async def project_notification_scheme(request: Request) -> Response:
    sim, p = _project(request)
    require_admin(sim.t)
    return js(sim.r.notification_scheme(_scheme_of(sim.t.notification_schemes, p), set(multi(request, "expand"))))


def _security_scheme(t, p):
    """Every second project has an issue security scheme; the others have none."""
    return _scheme_of(t.security_schemes, p) if p.idx % 2 == 0 else None


async def project_security_scheme(request: Request) -> Response:
    sim, p = _project(request)
    require_admin(sim.t)
    s = _security_scheme(sim.t, p)
    if s is None:
        raise HttpError(404, ["No issue security scheme is associated with this project."])
    return js(sim.r.security_scheme(s))


async def project_security_levels(request: Request) -> Response:
    sim, p = _project(request)
    s = _security_scheme(sim.t, p)
    levels = sim.r.security_scheme(s)["levels"] if s is not None else []
    return js({"levels": [dict(lv, isDefault=lv["id"] == str(s[0] * 10), issueSecuritySchemeId=str(s[0]))
                          for lv in levels]})


# ---- components and versions -------------------------------------------------------------------------------

def _component(request: Request):
    sim = sim_of(request)
    ref = request.path_params["id"]
    c = component(sim.t, ref)
    if c is None:
        raise HttpError(404, [MISSING["component"].format(value=ref)])
    return sim, c


async def component_get(request: Request) -> Response:
    sim, c = _component(request)
    return js(sim.r.component(c, None))


async def component_counts(request: Request) -> Response:
    sim, c = _component(request)
    return js({"self": f"{sim.r.B}/rest/api/2/component/{c.id}", "issueCount": component_count(sim.t, c)})


async def components_all(request: Request) -> Response:
    """GET component: the components of the given (else every live) project, paged."""
    sim = sim_of(request)
    refs = multi(request, "projectIdsOrKeys")
    ps = [project(sim.t, x) for x in refs] if refs else projects_for(sim.t, {"live"})
    comps = [c for p in ps if p is not None for c in p.components]
    query = (request.query_params.get("query") or "").lower()
    if query:
        comps = [c for c in comps if query in c.name.lower() or query in (c.description or "").lower()]
    return js(page_bean(request, comps, lambda c: {"self": f"{sim.r.B}/rest/api/2/component/{c.id}",
                                                   "id": str(c.id), "name": c.name,
                                                   **({"description": c.description} if c.description else {})},
                        cap=100, extra_params={"projectIdsOrKeys": ",".join(refs) or None}))


def _version(request: Request):
    sim = sim_of(request)
    ref = request.path_params["id"]
    v = version(sim.t, ref)
    if v is None:
        raise HttpError(404, [MISSING["version"].format(value=ref)])
    return sim, v


def _version_issues(t, v, field: str) -> list[int]:
    out = []
    for n in v.project.issue_ns:
        if not t.exists(n):
            continue
        d = t.materialize(n)
        if v in (d.fixv if field == "fix" else d.affects):
            out.append(n)
    return out


async def version_get(request: Request) -> Response:
    sim, v = _version(request)
    return js(sim.r.version(v))


async def version_counts(request: Request) -> Response:
    sim, v = _version(request)
    t = sim.t
    return js({"self": f"{sim.r.B}/rest/api/2/version/{v.id}",
               "issuesFixedCount": len(_version_issues(t, v, "fix")),
               "issuesAffectedCount": len(_version_issues(t, v, "affects")),
               "issueCountWithCustomFieldsShowingVersion": 0, "customFieldUsage": []})


async def version_unresolved(request: Request) -> Response:
    sim, v = _version(request)
    t = sim.t
    fixed = _version_issues(t, v, "fix")
    unresolved = [n for n in fixed if STATUS_BY_ID[t.materialize(n).status][2] != 3]
    return js({"self": f"{sim.r.B}/rest/api/2/version/{v.id}/unresolvedIssueCount",
               "issuesUnresolvedCount": len(unresolved), "issuesCount": len(fixed)})


async def version_related_work(request: Request) -> Response:
    _version(request)
    return js([])


def routes() -> list[Route]:
    # project/recent must precede project/{key}: Starlette takes the first route that matches
    return [
        Route(f"{V2}/project", project_list),
        Route(f"{V2}/project/recent", project_recent),
        Route(f"{V2}/project/{{key}}/statuses", project_statuses),
        Route(f"{V2}/project/{{key}}/properties", project_properties),
        Route(f"{V2}/project/{{key}}/properties/{{prop}}", project_property),
        Route(f"{V2}/project/{{key}}/hierarchy", project_hierarchy),
        Route(f"{V2}/project/{{key}}/features", project_features),
        Route(f"{V2}/project/{{key}}/permissionscheme", project_permission_scheme),
        Route(f"{V2}/project/{{key}}/notificationscheme", project_notification_scheme),
        Route(f"{V2}/project/{{key}}/issuesecuritylevelscheme", project_security_scheme),
        Route(f"{V2}/project/{{key}}/securitylevel", project_security_levels),
        Route(f"{V2}/component", components_all),
        Route(f"{V2}/component/{{id}}", component_get),
        Route(f"{V2}/component/{{id}}/relatedIssueCounts", component_counts),
        Route(f"{V2}/version/{{id}}", version_get),
        Route(f"{V2}/version/{{id}}/relatedIssueCounts", version_counts),
        Route(f"{V2}/version/{{id}}/unresolvedIssueCount", version_unresolved),
        Route(f"{V2}/version/{{id}}/relatedwork", version_related_work),
    ]
