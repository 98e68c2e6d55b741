"""Projects: project/search, a project, its versions and components (paged and plain), categories and types."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import component_count, projects_for
from ..http import V2, HttpError, js, multi, page_bean, sim_of
from ..render_more import project_view


def project_or_404(t, ref: str):
    p = t.project_by_ref(ref)
    if p is None or p.status == "deleted":
        raise HttpError(404, [f"No project could be found with key '{ref}'."])
    return p


async def project_search(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    statuses = set(multi(request, "status")) or {"live"}
    bad = statuses - {"live", "archived", "deleted"}
    if bad:
        raise HttpError(400, [f"Invalid status value: {sorted(bad)[0]}"])
    expand = set(multi(request, "expand"))
    ps = projects_for(t, statuses)
    keys = set(multi(request, "keys"))
    ids = set(multi(request, "id"))
    if keys or ids:
        ps = [p for p in ps if p.key in keys or str(p.id) in ids]
    if (order := request.query_params.get("orderBy", "key")).lstrip("+-") == "name":
        ps = sorted(ps, key=lambda p: p.name.lower(), reverse=order.startswith("-"))
    elif order.startswith("-"):
        ps = list(reversed(ps))
    return js(page_bean(request, ps, lambda p: project_view(r, p, expand), cap=100,
                        extra_params={"status": ",".join(sorted(statuses)) if statuses != {"live"} else None}))


async def project_get(request: Request) -> Response:
    sim = sim_of(request)
    p = project_or_404(sim.t, request.path_params["key"])
    return js(project_view(sim.r, p, set(multi(request, "expand")) | {"description", "lead", "issueTypes"}))


async def project_versions(request: Request) -> Response:
    sim = sim_of(request)
    p = project_or_404(sim.t, request.path_params["key"])
    return js(page_bean(request, p.versions, sim.r.version, cap=100))


async def project_versions_all(request: Request) -> Response:
    sim = sim_of(request)
    p = project_or_404(sim.t, request.path_params["key"])
    return js([sim.r.version(v) for v in p.versions])


async def project_components(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    p = project_or_404(t, request.path_params["key"])
    return js(page_bean(request, p.components, lambda c: r.component(c, component_count(t, c)), cap=100))


async def project_components_all(request: Request) -> Response:
    sim = sim_of(request)
    p = project_or_404(sim.t, request.path_params["key"])
    return js([sim.r.component(c, None) for c in p.components])


async def project_categories(request: Request) -> Response:
    return js(sim_of(request).r.categories())


async def project_types(request: Request) -> Response:
    return js(sim_of(request).r.project_types())


def routes() -> list[Route]:
    # project/search and project/type before project/{key}: Starlette takes the first route that matches
    return [
        Route(f"{V2}/project/search", project_search),
        Route(f"{V2}/project/type", project_types),
        Route(f"{V2}/project/{{key}}", project_get),
        Route(f"{V2}/project/{{key}}/version", project_versions),
        Route(f"{V2}/project/{{key}}/versions", project_versions_all),
        Route(f"{V2}/project/{{key}}/component", project_components),
        Route(f"{V2}/project/{{key}}/components", project_components_all),
        Route(f"{V2}/projectCategory", project_categories),
    ]
