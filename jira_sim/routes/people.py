"""One user or group and the pickers: user (by accountId), user/bulk, user/groups, user/search, user/picker, the
assignable / view-issue / permission user searches, users (the older users/search), group (by groupId or
groupname), groups/picker, groupuserpicker, user properties, mypreferences/locale."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import group_members, groups_sorted
from ..http import V2, HttpError, bool_param, int_param, js, multi, page_bean, paging, sim_of
from ..lookup import MISSING, issue_number, project
from ..render_more import found_group, group_full, group_name, picker_user, user_full
from .users import users_search

NO_USER = "Specified user does not exist or you do not have required permissions"


def _user(t, account_id: str | None):
    if not account_id:
        raise HttpError(400, ["The accountId query parameter needs to be provided."])
    u = t.user_by_account.get(account_id)
    if u is None:
        raise HttpError(404, [NO_USER])
    return u


def _matches(u, query: str) -> bool:
    q = query.lower()
    return q in u.name.lower() or bool(u.email and u.email.lower().startswith(q))


def _people(t, query: str | None, *, assignable: bool = False) -> list:
    """Users a search finds: display name or email matched; assignable ones are active Atlassian accounts."""
    out = []
    for u in t.users:
        if assignable and (u.account_type != "atlassian" or not u.active):
            continue
        if query is None or _matches(u, query):
            out.append(u)
    return out


async def user_get(request: Request) -> Response:
    sim = sim_of(request)
    qp = request.query_params
    if qp.get("username") or qp.get("key"):
        raise HttpError(400, ["The query parameter 'username' is not supported in GDPR strict mode."])
    u = _user(sim.t, qp.get("accountId"))
    return js(user_full(sim.r, u, set(multi(request, "expand"))))


async def user_bulk(request: Request) -> Response:
    sim = sim_of(request)
    ids = multi(request, "accountId")
    if not ids:
        raise HttpError(400, ["The accountId query parameter needs to be provided."])
    us = [u for u in (sim.t.user_by_account.get(a) for a in dict.fromkeys(ids)) if u is not None]
    return js(page_bean(request, us, sim.r.user, default=10, cap=200, extra_params={"accountId": ",".join(ids)}))


async def user_groups(request: Request) -> Response:
    sim = sim_of(request)
    u = _user(sim.t, request.query_params.get("accountId"))
    return js([group_name(sim.r, g) for g in sim.t.user_groups(u.idx)])


def _user_list(request: Request, users: list, default: int = 50, cap: int = 1000) -> Response:
    start, mr = paging(request, default, cap)
    r = sim_of(request).r
    return js([r.user(u) for u in users[start: start + mr]])


async def user_search(request: Request) -> Response:
    sim = sim_of(request)
    qp = request.query_params
    if qp.get("accountId"):
        u = sim.t.user_by_account.get(qp["accountId"])
        return _user_list(request, [u] if u else [])
    if "query" not in qp and "property" not in qp:
        raise HttpError(400, ["One of 'query' or 'accountId' query parameters must be provided."])
    return _user_list(request, _people(sim.t, qp.get("query") or ""))


async def user_assignable(request: Request) -> Response:
    sim = sim_of(request)
    t = sim.t
    qp = request.query_params
    ref, key = qp.get("project"), qp.get("issueKey") or qp.get("issueId")
    if not ref and not key:
        raise HttpError(400, ["A project key or issue key must be provided."])
    if ref and project(t, ref) is None:
        raise HttpError(404, [MISSING["project"].format(value=ref)])
    if key and issue_number(t, key) is None:
        raise HttpError(404, [MISSING["issue"]])
    if qp.get("accountId"):
        u = t.user_by_account.get(qp["accountId"])
        return _user_list(request, [u] if u and u.active and u.account_type == "atlassian" else [])
    return _user_list(request, _people(t, qp.get("query"), assignable=True))


async def user_assignable_multi(request: Request) -> Response:
    sim = sim_of(request)
    keys = multi(request, "projectKeys")
    if not keys:
        raise HttpError(400, ["The projectKeys query parameter needs to be provided."])
    for k in keys:
        if project(sim.t, k) is None:
            raise HttpError(404, [MISSING["project"].format(value=k)])
    return _user_list(request, _people(sim.t, request.query_params.get("query"), assignable=True))


async def user_viewissue(request: Request) -> Response:
    sim = sim_of(request)
    t = sim.t
    qp = request.query_params
    if qp.get("projectKey") and project(t, qp["projectKey"]) is None:
        raise HttpError(404, [MISSING["project"].format(value=qp["projectKey"])])
    if qp.get("issueKey") and issue_number(t, qp["issueKey"]) is None:
        raise HttpError(404, [MISSING["issue"]])
    return _user_list(request, [u for u in _people(t, qp.get("query")) if u.active])


async def user_permission_search(request: Request) -> Response:
    sim = sim_of(request)
    if not multi(request, "permissions"):
        raise HttpError(400, ["The permissions query parameter needs to be provided."])
    return _user_list(request, [u for u in _people(sim.t, request.query_params.get("query")) if u.active])


async def user_picker(request: Request) -> Response:
    sim = sim_of(request)
    qp = request.query_params
    if "query" not in qp:
        raise HttpError(400, ["The query parameter 'query' is required."])
    query = qp.get("query") or ""
    excluded = set(multi(request, "excludeAccountIds")) | set(multi(request, "exclude"))
    found = [u for u in _people(sim.t, query) if u.account_id not in excluded and u.active]
    mr = min(max(1, int_param(qp.get("maxResults"), "maxResults", 50)), 1000)
    shown = found[:mr]
    return js({"users": [picker_user(sim.r, u, query) for u in shown], "total": len(found),
               "header": f"Showing {len(shown)} of {len(found)} matching users"})


def _groups_found(t, query: str, limit: int, excluded: set[str]) -> tuple[list, int]:
    q = query.lower()
    gs = [g for g in groups_sorted(t) if q in g.name.lower() and g.name not in excluded
          and g.group_id not in excluded]
    return gs[:limit], len(gs)


async def groups_picker(request: Request) -> Response:
    sim = sim_of(request)
    qp = request.query_params
    query = qp.get("query") or ""
    excluded = set(multi(request, "exclude")) | set(multi(request, "excludeId"))
    if qp.get("accountId"):
        u = sim.t.user_by_account.get(qp["accountId"])
        mine = {g.group_id for g in sim.t.user_groups(u.idx)} if u else set()
        excluded |= {g.group_id for g in sim.t.groups if g.group_id not in mine}
    limit = min(max(1, int_param(qp.get("maxResults"), "maxResults", 20)), 1000)
    shown, total = _groups_found(sim.t, query, limit, excluded)
    return js({"header": f"Showing {len(shown)} of {total} matching groups", "total": total,
               "groups": [found_group(g, query) for g in shown]})


async def group_user_picker(request: Request) -> Response:
    sim = sim_of(request)
    qp = request.query_params
    if "query" not in qp:
        raise HttpError(400, ["The query parameter 'query' is required."])
    query = qp.get("query") or ""
    limit = min(max(1, int_param(qp.get("maxResults"), "maxResults", 50)), 1000)
    users = [u for u in _people(sim.t, query) if u.active]
    shown_u = users[:limit]
    shown_g, total_g = _groups_found(sim.t, query, limit, set())
    return js({"users": {"users": [picker_user(sim.r, u, query) for u in shown_u], "total": len(users),
                         "header": f"Showing {len(shown_u)} of {len(users)} matching users"},
               "groups": {"header": f"Showing {len(shown_g)} of {total_g} matching groups", "total": total_g,
                          "groups": [found_group(g, query) for g in shown_g]}})


async def group_get(request: Request) -> Response:
    sim = sim_of(request)
    t = sim.t
    qp = request.query_params
    gid, gname = qp.get("groupId"), qp.get("groupname")
    if not gid and not gname:
        raise HttpError(400, ["You must provide either groupId or groupname."])
    g = t.group_by_id.get(gid) if gid else t.group_by_name.get(gname or "")
    if g is None:
        raise HttpError(404, ["Specified group does not exist."])
    start, mr = paging(request, 50, 50)
    expand = set()
    for value in multi(request, "expand"):
        # `users[10:59]` pages the members inline (both ends inclusive, at most 50), as older clients ask
        ranged = re.fullmatch(r"users\[(\d+):(\d+)\]", value)
        if ranged:
            start = int(ranged[1])
            mr = max(0, min(50, int(ranged[2]) - start + 1))
            value = "users"
        expand.add(value)
    members = group_members(t, g, bool_param(qp.get("includeInactiveUsers"), True))
    return js(group_full(sim.r, g, members, start, mr, expand))


async def user_properties(request: Request) -> Response:
    sim = sim_of(request)
    qp = request.query_params
    _user(sim.t, qp.get("accountId") or sim.t.users[0].account_id)
    return js({"keys": []})


async def user_property(request: Request) -> Response:
    sim = sim_of(request)
    _user(sim.t, request.query_params.get("accountId") or sim.t.users[0].account_id)
    key = request.path_params["key"]
    raise HttpError(404, [f"The property with key '{key}' does not exist."])


async def my_locale(request: Request) -> Response:
    return js({"locale": sim_of(request).t.users[0].locale})


def routes() -> list[Route]:
    return [
        Route(f"{V2}/user", user_get),
        Route(f"{V2}/user/bulk", user_bulk),
        Route(f"{V2}/user/groups", user_groups),
        Route(f"{V2}/user/search", user_search),
        Route(f"{V2}/user/picker", user_picker),
        Route(f"{V2}/user/assignable/search", user_assignable),
        Route(f"{V2}/user/assignable/multiProjectSearch", user_assignable_multi),
        Route(f"{V2}/user/viewissue/search", user_viewissue),
        Route(f"{V2}/user/permission/search", user_permission_search),
        Route(f"{V2}/user/properties", user_properties),
        Route(f"{V2}/user/properties/{{key}}", user_property),
        Route(f"{V2}/users", users_search),
        Route(f"{V2}/group", group_get),
        Route(f"{V2}/groups/picker", groups_picker),
        Route(f"{V2}/groupuserpicker", group_user_picker),
        Route(f"{V2}/mypreferences/locale", my_locale),
    ]
