"""The control plane under /__sim (no auth, never faulted or logged): advance the tenant, rename custom fields, read
or change the faults, request stats, and the ground truth (truth.py)."""

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


async def sim_fields(request: Request) -> Response:
    """`{"rename": {"customfield_10050": "New name"}}`: an admin renames custom fields (all or none)."""
    try:
        body = await body_json(request)
    except HttpError as e:
        return js({"error": e.messages[0]}, 400)
    t = sim_of(request).t
    renames = body.get("rename")
    if not isinstance(renames, dict) or not renames:
        return js({"error": 'expected {"rename": {"<custom field id>": "<new name>"}}'}, 400)
    for fid, name in renames.items():
        if fid not in t.cf.by_id:
            return js({"error": f"no custom field {fid!r} (only custom fields can be renamed)"}, 400)
        if not isinstance(name, str) or not name.strip():
            return js({"error": f"the new name of {fid} must be a non-empty string"}, 400)
    for fid, name in renames.items():
        t.rename_field(fid, name)
    return js({"renamed": {fid: t.cf.by_id[fid].name for fid in renames}})


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
        Route("/__sim/fields", sim_fields, methods=["POST"]),
        Route("/__sim/truth/{endpoint}", sim_truth),
        Route("/__sim/faults", sim_faults, methods=["GET", "POST"]),
        Route("/__sim/stats", sim_stats),
    ]
