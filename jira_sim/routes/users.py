"""People and access: myself, users/search, groups (group/bulk), group members, mypermissions, permissions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import ADMIN_ONLY, group_members, groups_sorted, my_permission_values
from ..http import V2, HttpError, bool_param, js, multi, page_bean, paging, sim_of
from ..tenant import PERMISSIONS


async def myself(request: Request) -> Response:
    return js(sim_of(request).r.myself(set(multi(request, "expand"))))


async def users_search(request: Request) -> Response:
    sim = sim_of(request)
    start, mr = paging(request, 50, 1000)
    return js([sim.r.user(u) for u in sim.t.users[start: start + mr]])


async def groups_bulk(request: Request) -> Response:
    sim = sim_of(request)
    gs = groups_sorted(sim.t)
    ids = set(multi(request, "groupId"))
    names = set(multi(request, "groupName"))
    if ids or names:
        gs = [g for g in gs if g.group_id in ids or g.name in names]
    return js(page_bean(request, gs, sim.r.group, cap=50))


async def group_member(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    qp = request.query_params
    gid, gname = qp.get("groupId"), qp.get("groupname")
    if gid and gname:
        raise HttpError(400, ["You must provide either groupId or groupname, not both."])
    g = t.group_by_id.get(gid) if gid else t.group_by_name.get(gname or "")
    if g is None:
        if not gid and not gname:
            raise HttpError(400, ["You must provide either groupId or groupname."])
        raise HttpError(404, ["Specified group does not exist."])
    members = group_members(t, g, bool_param(qp.get("includeInactiveUsers")))
    return js(page_bean(request, members, lambda u: r.user_ref(u.idx), cap=50,
                        extra_params={"groupId": g.group_id,
                                      "includeInactiveUsers": qp.get("includeInactiveUsers")}))


async def my_permissions(request: Request) -> Response:
    sim = sim_of(request)
    keys = multi(request, "permissions")
    if not keys:
        raise HttpError(400, ["The permissions query parameter is required. Use GET /rest/api/2/permissions "
                              "to list the available permission keys."])
    unknown = [k for k in keys if k not in ADMIN_ONLY]
    if unknown:
        raise HttpError(404, [f"No permission found with the key {unknown[0]}."])
    return js({"permissions": my_permission_values(sim.t, sim.r, list(dict.fromkeys(keys)))})


async def all_permissions(request: Request) -> Response:
    return js({"permissions": {p[0]: {"key": p[0], "name": p[1], "type": p[2],
                                      "description": f"Ability to {p[1].lower()}."} for p in PERMISSIONS}})


def routes() -> list[Route]:
    return [
        Route(f"{V2}/myself", myself),
        Route(f"{V2}/group/bulk", groups_bulk),
        Route(f"{V2}/group/member", group_member),
        Route(f"{V2}/users/search", users_search),
        Route(f"{V2}/mypermissions", my_permissions),
        Route(f"{V2}/permissions", all_permissions),
    ]
