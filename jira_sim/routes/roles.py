"""Roles: global project roles (role, role/{id}, role/{id}/actors), each project's roles with their actors
(project/{key}/role, /role/{id}, /roledetails) and the site's application roles (applicationrole)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..derived import GLOBAL_ROLES, application_roles, roles_of, user_in_role
from ..http import V2, HttpError, bool_param, js, require_admin, sim_of
from ..lookup import MISSING, project
from ..render_more import application_role, global_role, project_role, role_details


def _project(t, ref: str):
    p = project(t, ref)
    if p is None:
        raise HttpError(404, [MISSING["project"].format(value=ref)])
    return p


def _role_id(ref: str) -> int:
    try:
        return int(ref)
    except ValueError:
        raise HttpError(400, [f"The role id '{ref}' is not a number."]) from None


async def roles(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    return js([global_role(sim.r, rid) for rid, *_ in GLOBAL_ROLES])


async def role_get(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    rid = _role_id(request.path_params["id"])
    if not any(x[0] == rid for x in GLOBAL_ROLES):
        raise HttpError(404, [MISSING["role"].format(value=rid)])
    return js(global_role(sim.r, rid, actors_only=request.url.path.endswith("/actors")))


async def project_roles(request: Request) -> Response:
    sim = sim_of(request)
    p = _project(sim.t, request.path_params["key"])
    return js({role["name"]: f"{sim.r.B}/rest/api/2/project/{p.id}/role/{role['id']}"
               for role in roles_of(sim.t, p)})


async def project_role_get(request: Request) -> Response:
    sim = sim_of(request)
    p = _project(sim.t, request.path_params["key"])
    rid = _role_id(request.path_params["id"])
    role = next((x for x in roles_of(sim.t, p) if x["id"] == rid), None)
    if role is None:
        raise HttpError(404, [MISSING["role"].format(value=rid)])
    inactive = bool_param(request.query_params.get("excludeInactiveUsers"))
    return js(project_role(sim.r, p, role, active_only=inactive))


async def project_role_details(request: Request) -> Response:
    sim = sim_of(request)
    p = _project(sim.t, request.path_params["key"])
    rs = roles_of(sim.t, p)
    if bool_param(request.query_params.get("currentMember")):
        rs = [x for x in rs if user_in_role(sim.t, x, 0)]
    if bool_param(request.query_params.get("excludeConnectAddons")):
        rs = [x for x in rs if x["id"] != 10003]
    return js([role_details(sim.r, p, x) for x in rs])


async def app_roles(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    return js([application_role(sim.r, a) for a in application_roles(sim.t)])


async def app_role_get(request: Request) -> Response:
    sim = sim_of(request)
    require_admin(sim.t)
    key = request.path_params["key"]
    a = next((x for x in application_roles(sim.t) if x["key"] == key), None)
    if a is None:
        raise HttpError(404, [MISSING["applicationrole"].format(value=key)])
    return js(application_role(sim.r, a))


def routes() -> list[Route]:
    return [
        Route(f"{V2}/role", roles),
        Route(f"{V2}/role/{{id}}", role_get),
        Route(f"{V2}/role/{{id}}/actors", role_get),
        Route(f"{V2}/project/{{key}}/role", project_roles),
        Route(f"{V2}/project/{{key}}/role/{{id}}", project_role_get),
        Route(f"{V2}/project/{{key}}/roledetails", project_role_details),
        Route(f"{V2}/applicationrole", app_roles),
        Route(f"{V2}/applicationrole/{{key}}", app_role_get),
    ]
