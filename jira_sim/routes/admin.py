"""Administration: field configurations, issue security, notification, permission, screen, workflow and priority
schemes, workflows, and the audit log. Administer-Jira-only endpoints answer 403 with --non-admin."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..http import V2, HttpError, int_param, js, multi, page_bean, paging, require_admin, sim_of


async def field_configurations(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    return js(page_bean(request, sim.t.field_configs, sim.r.field_configuration, cap=50))


async def security_schemes(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    return js({"issueSecuritySchemes": [sim.r.security_scheme(s) for s in sim.t.security_schemes]})


async def notification_schemes(request: Request) -> Response:
    sim = sim_of(request)
    expand = set(multi(request, "expand"))
    # lists only what the caller administers: nothing for a non-admin
    items = sim.t.notification_schemes if sim.t.admin else []
    return js(page_bean(request, items, lambda s: sim.r.notification_scheme(s, expand), cap=50))


async def permission_schemes(request: Request) -> Response:
    sim = sim_of(request)
    expand = set(multi(request, "expand"))
    return js({"permissionSchemes": [sim.r.permission_scheme(s, expand) for s in sim.t.permission_schemes]})


async def screen_schemes(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    return js(page_bean(request, sim.t.screen_schemes, sim.r.screen_scheme, default=25, cap=100))


async def workflow_schemes(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    return js(page_bean(request, sim.t.workflow_schemes, sim.r.workflow_scheme, cap=50))


async def workflows_search(request: Request) -> Response:
    sim = sim_of(request)
    expand = set(multi(request, "expand"))
    ws = sim.t.workflows if sim.t.admin else []
    tr = "values.transitions" in expand
    out = page_bean(request, ws, lambda w: sim.r.workflow(w, tr), cap=100)
    start, mr = paging(request, 50, 100)
    out["statuses"] = sim.r.workflow_statuses(ws[start: start + mr])
    return js(out)


async def audit_records(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    qp = request.query_params
    offset = max(0, int_param(qp.get("offset"), "offset", 0))
    limit = int_param(qp.get("limit"), "limit", 1000)
    limit = min(limit if limit > 0 else 1000, 1000)
    recs = sim.t.audit
    chunk = recs[offset: offset + limit]
    return js({"offset": offset, "limit": limit, "total": len(recs),
               "records": [sim.r.audit_record(a) for a in chunk]})


async def priority_schemes(request: Request) -> Response:
    sim = sim_of(request)
    if not sim.t.premium:
        raise HttpError(403, ["Priority schemes are only available on Jira Premium and Enterprise plans."])
    expand = set(multi(request, "expand"))
    return js(page_bean(request, sim.t.priority_schemes, lambda s: sim.r.priority_scheme(s, expand), cap=50))


def routes() -> list[Route]:
    return [
        Route(f"{V2}/fieldconfiguration", field_configurations),
        Route(f"{V2}/issuesecurityschemes", security_schemes),
        Route(f"{V2}/notificationscheme", notification_schemes),
        Route(f"{V2}/permissionscheme", permission_schemes),
        Route(f"{V2}/screenscheme", screen_schemes),
        Route(f"{V2}/workflowscheme", workflow_schemes),
        Route(f"{V2}/workflows/search", workflows_search),
        Route(f"{V2}/auditing/record", audit_records),
        Route(f"{V2}/priorityscheme", priority_schemes),
    ]
