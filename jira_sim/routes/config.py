"""Site configuration and shared objects: serverInfo, fields, issue types, link types, priorities, resolutions,
statuses, status categories, dashboards and filters."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import server_info, visible_filters
from ..http import V2, HttpError, bool_param, js, multi, page_bean, paging, sim_of, site_url
from ..tenant import PRIORITIES, RESOLUTIONS


async def server_info_h(request: Request) -> Response:
    return js(server_info(sim_of(request).t))


async def fields(request: Request) -> Response:
    return js(sim_of(request).r.field_list())


async def issue_types(request: Request) -> Response:
    return js(sim_of(request).r.issue_type_list())


async def link_types(request: Request) -> Response:
    return js({"issueLinkTypes": sim_of(request).r.link_types()})


async def priorities_search(request: Request) -> Response:
    r = sim_of(request).r
    vals = [r.priority_full(p, p[0] == "3") for p in PRIORITIES]
    return js(page_bean(request, vals, lambda x: x, cap=100))


async def priorities_all(request: Request) -> Response:
    r = sim_of(request).r
    return js([r.priority_full(p, p[0] == "3") for p in PRIORITIES])


async def resolutions_search(request: Request) -> Response:
    return js(page_bean(request, list(RESOLUTIONS), sim_of(request).r.resolution_full, cap=100))


async def resolutions_all(request: Request) -> Response:
    r = sim_of(request).r
    return js([r.resolution(x[0]) for x in RESOLUTIONS])


async def statuses(request: Request) -> Response:
    return js(sim_of(request).r.status_list())


async def status_categories(request: Request) -> Response:
    return js(sim_of(request).r.status_categories())


# ---- dashboards and filters --------------------------------------------------------------------------------------

async def dashboards(request: Request) -> Response:
    sim = sim_of(request)
    which = request.query_params.get("filter")
    ds = sim.t.dashboards
    if which == "my":
        ds = [d for d in ds if d.owner == 0]
    elif which == "favourite":
        ds = [d for d in ds if d.favourite]
    start, mr = paging(request, 20, 100)
    chunk = ds[start: start + mr]
    out: dict[str, Any] = {"startAt": start, "maxResults": mr, "total": len(ds)}
    path = request.url.path
    if start > 0:
        out["prev"] = site_url(request, path, {"filter": which, "startAt": max(0, start - mr), "maxResults": mr})
    if start + len(chunk) < len(ds):
        out["next"] = site_url(request, path, {"filter": which, "startAt": start + mr, "maxResults": mr})
    out["dashboards"] = [sim.r.dashboard(d) for d in chunk]
    return js(out)


async def filter_search(request: Request) -> Response:
    sim = sim_of(request)
    expand = set(multi(request, "expand"))
    fs = visible_filters(sim.t)
    name = request.query_params.get("filterName")
    if name:
        fs = [f for f in fs if name.lower() in f.name.lower()]
    return js(page_bean(request, fs, lambda f: sim.r.filter_details(f, expand), cap=100))


async def filter_favourite(request: Request) -> Response:
    sim = sim_of(request)
    return js([sim.r.filter_bean(f) for f in visible_filters(sim.t) if f.favourite])


async def filter_my(request: Request) -> Response:
    sim = sim_of(request)
    inc = bool_param(request.query_params.get("includeFavourites"))
    return js([sim.r.filter_bean(f) for f in visible_filters(sim.t) if f.owner == 0 or (inc and f.favourite)])


async def filter_get(request: Request) -> Response:
    sim = sim_of(request)
    try:
        f = sim.t.filter_by_id.get(int(request.path_params["id"]))
    except ValueError:
        f = None
    if f is None or not f.visible:
        raise HttpError(400, ["The selected filter is not available to you, perhaps it has been deleted or "
                              "had its permissions changed."])
    return js(sim.r.filter_bean(f))


def routes() -> list[Route]:
    # filter/search, /favourite and /my before filter/{id}: Starlette takes the first route that matches
    return [
        Route(f"{V2}/serverInfo", server_info_h),
        Route(f"{V2}/dashboard", dashboards),
        Route(f"{V2}/filter/search", filter_search),
        Route(f"{V2}/filter/favourite", filter_favourite),
        Route(f"{V2}/filter/my", filter_my),
        Route(f"{V2}/filter/{{id}}", filter_get),
        Route(f"{V2}/field", fields),
        Route(f"{V2}/issueLinkType", link_types),
        Route(f"{V2}/issuetype", issue_types),
        Route(f"{V2}/priority/search", priorities_search),
        Route(f"{V2}/priority", priorities_all),
        Route(f"{V2}/resolution/search", resolutions_search),
        Route(f"{V2}/resolution", resolutions_all),
        Route(f"{V2}/status", statuses),
        Route(f"{V2}/statuscategory", status_categories),
    ]
