"""The control plane under /__sim (no auth, never faulted or logged): advance the tenant, read or change the
faults, request stats, and the ground truth (truth.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .http import HttpError, body_json, js, sim_of
from .truth import sim_truth


async def sim_advance(request: Request) -> Response:
    try:
        body = await body_json(request)
        result = sim_of(request).t.advance(body)
    except (TypeError, ValueError) as e:
        return js({"error": str(e)}, 400)
    return js(result)


async def sim_faults(request: Request) -> Response:
    mw = sim_of(request).faults
    if mw is None:
        return js({"error": "fault injection is not available in this simulator build"}, 501)
    if request.method == "POST":
        from .faults import FaultConfig  # faults.py is optional (see __main__)
        try:
            body = await body_json(request)
            mw.config = FaultConfig.from_dict(body)
        except (ValueError, HttpError) as e:
            return js({"error": str(e) if not isinstance(e, HttpError) else e.messages[0]}, 400)
    return js(mw.config.to_dict())


async def sim_stats(request: Request) -> Response:
    sim = sim_of(request)
    if sim.faults is not None:
        return js(sim.faults.stats())
    return js({"requests": 0, "by_path": {}})


def routes() -> list[Route]:
    return [
        Route("/__sim/advance", sim_advance, methods=["POST"]),
        Route("/__sim/truth/{endpoint}", sim_truth),
        Route("/__sim/faults", sim_faults, methods=["GET", "POST"]),
        Route("/__sim/stats", sim_stats),
    ]
