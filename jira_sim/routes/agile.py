"""Jira Software: boards, a board's configuration and sprints, a sprint, and the board/sprint issue lists, both the
deprecated /rest/agile/1.0 ones (startAt) and /rest/software/1.0 (nextPageToken)."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import board_issue_universe, sprint_issue_universe
from ..http import (
    AG, SW, DeadLink, HttpError, bool_param, decode_token, encode_token, int_param, js, multi, page_bean, page_cap,
    parse_fields, sim_of,
)
from ..render import EMBED_HISTORIES_SEARCH
from ..render_more import board_view, issue_view


def visible_board(t, board_id: str):
    if not t.software:
        raise DeadLink()
    try:
        b = t.board_by_id.get(int(board_id))
    except ValueError:
        b = None
    if b is None or b.private:
        raise HttpError(404, ["Board does not exist or you do not have permission to see it."])
    return b


def sprint_or_404(t, sprint_id: str):
    try:
        s = t.sprints.get(int(sprint_id))
    except ValueError:
        s = None
    if s is None or t.board_by_id[s.board].private:
        raise HttpError(404, ["Sprint does not exist or you do not have permission to see it."])
    return s


async def boards(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    if not t.software:
        raise DeadLink()
    include_private = bool_param(request.query_params.get("includePrivate"))
    bs = [b for b in t.boards if include_private or not b.private]
    typ = set(multi(request, "type"))
    if typ:
        bs = [b for b in bs if not b.private and b.type in typ]
    ref = request.query_params.get("projectKeyOrId")
    if ref:
        bs = [b for b in bs if not b.private and any(p.key == ref.upper() or str(p.id) == ref
                                                     for p in b.projects)]
    expand = set(multi(request, "expand"))
    return js(page_bean(request, bs, lambda b: board_view(r, b, expand), cap=50, agile=True))


async def board_get(request: Request) -> Response:
    sim = sim_of(request)
    return js(board_view(sim.r, visible_board(sim.t, request.path_params["board"]), set(multi(request, "expand"))))


async def board_configuration(request: Request) -> Response:
    sim = sim_of(request)
    return js(sim.r.board_configuration(visible_board(sim.t, request.path_params["board"])))


async def board_sprints(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    b = visible_board(t, request.path_params["board"])
    if not b.sprints_enabled:        # kanban boards, and simple boards with the sprints feature off
        raise HttpError(400, ["The board does not support sprints"])
    states = set(multi(request, "state")) or {"future", "active", "closed"}
    ss = [s for s in t.sprints_of_board(b) if s.state in states]
    return js(page_bean(request, ss, r.sprint, cap=50, agile=True, total=False))


async def sprint_get(request: Request) -> Response:
    sim = sim_of(request)
    if not sim.t.software:
        raise DeadLink()
    return js(sim.r.sprint(sprint_or_404(sim.t, request.path_params["sprint"])))


def agile_list(request: Request, universe, scope: str, software: bool) -> Response:
    """A board's or sprint's issues: /rest/software pages by nextPageToken, /rest/agile by startAt."""
    sim = sim_of(request)
    t, r = sim.t, sim.r
    qp = request.query_params
    jql = qp.get("jql") or ""
    fields, weight = parse_fields(t, qp.getlist("fields"), ["*navigable"], agile=True)
    expand = set(multi(request, "expand"))
    ns = sim.search(jql, universe, scope=scope, allow_unbounded=True, default_rank=True)
    if software:
        mr = int_param(qp.get("maxResults"), "maxResults", 50)
        if mr < 1 or mr > 5000:
            raise HttpError(400, ["The max results parameter has to be between 1 and 5,000."])
        eff = min(mr, page_cap(weight, expand))
        sig = hashlib.sha1(f"{scope}|{jql}|{sorted(fields)}".encode()).hexdigest()[:10]
        offset = decode_token(qp.get("nextPageToken"), sig)
        chunk = ns[offset: offset + eff]
        out: dict[str, Any] = {"expand": "names,schema", "issues": [
            issue_view(r, t.materialize(n), fields, expand, histories_cap=EMBED_HISTORIES_SEARCH) for n in chunk]}
        if offset + eff < len(ns):
            out["nextPageToken"] = encode_token(offset + eff, sig)
        out["isLast"] = offset + eff >= len(ns)
        return js(out)
    start = max(0, int_param(qp.get("startAt"), "startAt", 0))
    mr = int_param(qp.get("maxResults"), "maxResults", 50)
    mr = min(mr if mr > 0 else 50, page_cap(weight, expand, hard=1000))
    chunk = ns[start: start + mr]
    return js({"expand": "names,schema", "startAt": start, "maxResults": mr, "total": len(ns),
               "issues": [issue_view(r, t.materialize(n), fields, expand, histories_cap=EMBED_HISTORIES_SEARCH)
                          for n in chunk]})


def board_issues_handler(software: bool):
    async def h(request: Request) -> Response:
        t = sim_of(request).t
        b = visible_board(t, request.path_params["board"])
        return agile_list(request, board_issue_universe(t, b), f"board:{b.id}", software)
    return h


def sprint_issues_handler(software: bool):
    async def h(request: Request) -> Response:
        t = sim_of(request).t
        if not t.software:
            raise DeadLink()
        s = sprint_or_404(t, request.path_params["sprint"])
        return agile_list(request, sprint_issue_universe(t, s), f"sprint:{s.id}", software)
    return h


def board_sprint_issues_handler(software: bool):
    async def h(request: Request) -> Response:
        t = sim_of(request).t
        b = visible_board(t, request.path_params["board"])
        s = sprint_or_404(t, request.path_params["sprint"])
        allowed = set(board_issue_universe(t, b)())
        inner = sprint_issue_universe(t, s)
        return agile_list(request, lambda: (n for n in inner() if n in allowed), f"board:{b.id}:sprint:{s.id}",
                          software)
    return h


def routes() -> list[Route]:
    return [
        Route(f"{AG}/board", boards),
        Route(f"{AG}/board/{{board}}", board_get),
        Route(f"{AG}/board/{{board}}/configuration", board_configuration),
        Route(f"{AG}/board/{{board}}/sprint", board_sprints),
        Route(f"{AG}/board/{{board}}/issue", board_issues_handler(False)),
        Route(f"{AG}/board/{{board}}/sprint/{{sprint}}/issue", board_sprint_issues_handler(False)),
        Route(f"{AG}/sprint/{{sprint}}", sprint_get),
        Route(f"{AG}/sprint/{{sprint}}/issue", sprint_issues_handler(False)),
        Route(f"{SW}/board/{{board}}/issue", board_issues_handler(True)),
        Route(f"{SW}/board/{{board}}/sprint/{{sprint}}/issue", board_sprint_issues_handler(True)),
        Route(f"{SW}/sprint/{{sprint}}/issue", sprint_issues_handler(True)),
    ]
