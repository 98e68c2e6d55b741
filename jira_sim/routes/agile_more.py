"""Jira Software beyond boards and sprints: boards by filter, a board's projects, epics, versions, backlog, epic
issue lists and issue counts, features, quick filters, reports and properties; an epic and its issues; an issue as
the Agile API shows it and its estimation; sprint properties."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import board_issue_universe, sprint_issue_universe
from ..http import AG, SW, DeadLink, HttpError, bool_param, js, multi, page_bean, parse_fields, sim_of
from ..lookup import MISSING, board, issue_number, sprint
from ..render import EMBED_HISTORIES_SEARCH
from ..tenant import EPIC, STATUS_BY_ID
from .agile import agile_list, visible_board

SCRUM_LIKE = ("scrum", "simple")     # boards with sprints (team-managed "simple" boards can have them)


def _software(t) -> None:
    if not t.software:
        raise DeadLink()


def _board(request: Request):
    sim = sim_of(request)
    return sim, visible_board(sim.t, request.path_params["board"])


def _epic_record(r, t, n: int) -> dict:
    e = t.materialize(n)
    return {"id": e.id, "key": e.key, "self": f"{r.B}/rest/agile/1.0/epic/{e.id}", "name": e.summary[:40],
            "summary": e.summary, "color": {"key": f"color_{e.n % 14 + 1}"},
            "done": STATUS_BY_ID[e.status][2] == 3}


def _epics_of_board(t, b) -> list[int]:
    return [n for p in b.projects for n in p.issue_ns if t.exists(n) and t.i_type[n] == EPIC]


def _epic_of(t, n: int) -> int | None:
    par = t.i_parent[n]
    return par if par and t.exists(par) and t.i_type[par] == EPIC else None


async def boards_by_filter(request: Request) -> Response:
    sim = sim_of(request)
    _software(sim.t)
    ref = request.path_params["filter"]
    bs = [b for b in sim.t.boards if not b.private and str(b.filter_id) == ref]
    return js(page_bean(request, bs, lambda b: {"id": b.id, "name": b.name,
                                                "self": f"{sim.r.B}/rest/agile/1.0/board/{b.id}"},
                        cap=50, agile=True))


async def board_projects(request: Request) -> Response:
    sim, b = _board(request)
    return js(page_bean(request, list(b.projects), sim.r.project_ref, cap=50, agile=True))


async def board_projects_full(request: Request) -> Response:
    sim, b = _board(request)
    return js([sim.r.project(p, {"description", "lead", "issueTypes"}) for p in b.projects])


async def board_epics(request: Request) -> Response:
    sim, b = _board(request)
    t = sim.t
    if b.type == "kanban":
        raise HttpError(400, ["The board does not support epics."])
    es = [_epic_record(sim.r, t, n) for n in _epics_of_board(t, b)]
    done = request.query_params.get("done")
    if done is not None:
        es = [e for e in es if e["done"] == bool_param(done)]
    return js(page_bean(request, es, lambda e: e, cap=50, agile=True))


async def board_versions(request: Request) -> Response:
    sim, b = _board(request)
    vs = [v for p in b.projects for v in p.versions]
    released = request.query_params.get("released")
    if released is not None:
        vs = [v for v in vs if v.released == bool_param(released)]

    def render(v) -> dict:
        d = {"self": f"{sim.r.B}/rest/agile/1.0/version/{v.id}", "id": v.id, "projectId": v.project.id,
             "name": v.name, "archived": v.archived, "released": v.released}
        if v.description:
            d["description"] = v.description
        if v.release is not None:
            d["releaseDate"] = sim.r.version(v)["releaseDate"]
        return d
    return js(page_bean(request, vs, render, cap=50, agile=True))


def _backlog_universe(t, b):
    """Scrum boards: issues in no open sprint and not done; kanban boards: issues in the Backlog status."""
    inner = board_issue_universe(t, b)
    open_sprints = [s for s in t.sprints_of_board(b) if s.state != "closed"]

    def gen():
        in_sprint: set[int] = set()
        for s in open_sprints:
            in_sprint.update(sprint_issue_universe(t, s)())
        for n in inner():
            d = t.materialize(n)
            if b.type == "kanban":
                if d.status == "10001":
                    yield n
            elif n not in in_sprint and STATUS_BY_ID[d.status][2] != 3:
                yield n
    return gen


def backlog_handler(software: bool):
    async def h(request: Request) -> Response:
        sim, b = _board(request)
        return agile_list(request, _backlog_universe(sim.t, b), f"backlog:{b.id}", software)
    return h


def _count(request: Request, universe, scope: str) -> Response:
    sim = sim_of(request)
    jql = request.query_params.get("jql") or ""
    return js({"count": len(sim.search(jql, universe, scope=scope, allow_unbounded=True, default_rank=True))})


async def backlog_count(request: Request) -> Response:
    sim, b = _board(request)
    return _count(request, _backlog_universe(sim.t, b), f"backlog:{b.id}")


async def board_issue_count(request: Request) -> Response:
    sim, b = _board(request)
    return _count(request, board_issue_universe(sim.t, b), f"board:{b.id}")


def _epic_ref(t, ref: str) -> int:
    n = issue_number(t, ref)
    if n is None or t.i_type[n] != EPIC:
        raise HttpError(404, [MISSING["epic"]])
    return n


def board_epic_issues_handler(software: bool, none: bool = False):
    async def h(request: Request) -> Response:
        sim, b = _board(request)
        t = sim.t
        inner = board_issue_universe(t, b)
        epic = None if none else _epic_ref(t, request.path_params["epic"])
        universe = (lambda: (n for n in inner() if t.i_type[n] != EPIC and _epic_of(t, n) == epic))
        return agile_list(request, universe, f"board:{b.id}:epic:{epic}", software)
    return h


def epic_issues_handler(software: bool, none: bool = False):
    async def h(request: Request) -> Response:
        sim = sim_of(request)
        t = sim.t
        _software(t)
        epic = None if none else _epic_ref(t, request.path_params["epic"])
        if epic is None:
            universe = (lambda: (n for n in t.live_issue_numbers() if t.i_type[n] != EPIC
                                 and _epic_of(t, n) is None))
        else:
            universe = (lambda: (n for n in t.children.get(epic, ()) if t.exists(n) and t.i_type[n] != EPIC))
        return agile_list(request, universe, f"epic:{epic}", software)
    return h


async def epic_get(request: Request) -> Response:
    sim = sim_of(request)
    _software(sim.t)
    return js(_epic_record(sim.r, sim.t, _epic_ref(sim.t, request.path_params["epic"])))


async def agile_issue(request: Request) -> Response:
    sim = sim_of(request)
    t = sim.t
    _software(t)
    n = issue_number(t, request.path_params["key"])
    if n is None:
        raise HttpError(404, [MISSING["issue"]])
    fields, _ = parse_fields(t, request.query_params.getlist("fields"), ["*navigable"], agile=True)
    return js(sim.r.issue(t.materialize(n), fields, set(multi(request, "expand")),
                          histories_cap=EMBED_HISTORIES_SEARCH))


async def issue_estimation(request: Request) -> Response:
    sim = sim_of(request)
    t = sim.t
    _software(t)
    n = issue_number(t, request.path_params["key"])
    if n is None:
        raise HttpError(404, [MISSING["issue"]])
    ref = request.query_params.get("boardId")
    b = board(t, ref) if ref else None
    if ref and b is None:
        raise HttpError(404, [MISSING["board"]])
    value = t.materialize(n).custom.get("customfield_10016")
    out: dict[str, Any] = {"fieldId": "customfield_10016"}
    if value is not None:
        out["value"] = str(value)
    return js(out)


async def board_features(request: Request) -> Response:
    sim, b = _board(request)
    sprints = b.type in SCRUM_LIKE

    def feature(key: str, name: str, on: bool, typ: str = "BASIC") -> dict:
        return {"boardId": b.id, "boardFeature": key, "featureType": typ, "localisedName": name,
                "state": "ENABLED" if on else "DISABLED", "toggleLocked": key == "SPRINTS" and sprints,
                "featureId": f"jsw.agility.{key.lower()}"}
    return js({"features": [feature("BACKLOG", "Backlog", b.type != "kanban"),
                            feature("SPRINTS", "Sprints", sprints),
                            feature("REPORTS", "Reports", True),
                            feature("DEVTOOLS", "Development", True)]})


async def board_reports(request: Request) -> Response:
    _board(request)  # an unknown board answers 404; a known one lists no report beans
    return js({"reports": []})


async def board_quickfilters(request: Request) -> Response:
    _board(request)        # boards on this site have no quick filters
    return js(page_bean(request, [], lambda x: x, cap=50, agile=True))


async def board_quickfilter(request: Request) -> Response:
    _board(request)
    raise HttpError(404, [f"The quick filter with id '{request.path_params['id']}' does not exist."])


async def board_properties(request: Request) -> Response:
    _board(request)
    return js({"keys": []})


async def board_property(request: Request) -> Response:
    _board(request)
    raise HttpError(404, [f"The property with key '{request.path_params['prop']}' does not exist."])


def _sprint(request: Request):
    sim = sim_of(request)
    _software(sim.t)
    s = sprint(sim.t, request.path_params["sprint"])
    if s is None:
        raise HttpError(404, [MISSING["sprint"]])
    return s


async def sprint_properties(request: Request) -> Response:
    _sprint(request)
    return js({"keys": []})


async def sprint_property(request: Request) -> Response:
    _sprint(request)
    raise HttpError(404, [f"The property with key '{request.path_params['prop']}' does not exist."])


def early_routes() -> list[Route]:
    """Literal paths an existing parameter route would otherwise take."""
    return [
        Route(f"{AG}/epic/none/issue", epic_issues_handler(False, none=True)),
        Route(f"{SW}/epic/none/issue", epic_issues_handler(True, none=True)),
        Route(f"{AG}/board/{{board}}/epic/none/issue", board_epic_issues_handler(False, none=True)),
        Route(f"{SW}/board/{{board}}/epic/none/issue", board_epic_issues_handler(True, none=True)),
        Route(f"{SW}/board/{{board}}/issue/approximate-count", board_issue_count),
        Route(f"{SW}/board/{{board}}/backlog/approximate-count", backlog_count),
        Route(f"{AG}/board/{{board}}/project/full", board_projects_full),
    ]


def routes() -> list[Route]:
    return [
        Route(f"{AG}/board/filter/{{filter}}", boards_by_filter),
        Route(f"{AG}/board/{{board}}/project", board_projects),
        Route(f"{AG}/board/{{board}}/epic", board_epics),
        Route(f"{AG}/board/{{board}}/epic/{{epic}}/issue", board_epic_issues_handler(False)),
        Route(f"{SW}/board/{{board}}/epic/{{epic}}/issue", board_epic_issues_handler(True)),
        Route(f"{AG}/board/{{board}}/version", board_versions),
        Route(f"{AG}/board/{{board}}/backlog", backlog_handler(False)),
        Route(f"{SW}/board/{{board}}/backlog", backlog_handler(True)),
        Route(f"{AG}/board/{{board}}/features", board_features),
        Route(f"{AG}/board/{{board}}/reports", board_reports),
        Route(f"{AG}/board/{{board}}/quickfilter", board_quickfilters),
        Route(f"{AG}/board/{{board}}/quickfilter/{{id}}", board_quickfilter),
        Route(f"{AG}/board/{{board}}/properties", board_properties),
        Route(f"{AG}/board/{{board}}/properties/{{prop}}", board_property),
        Route(f"{AG}/epic/{{epic}}", epic_get),
        Route(f"{AG}/epic/{{epic}}/issue", epic_issues_handler(False)),
        Route(f"{SW}/epic/{{epic}}/issue", epic_issues_handler(True)),
        Route(f"{AG}/issue/{{key}}", agile_issue),
        Route(f"{AG}/issue/{{key}}/estimation", issue_estimation),
        Route(f"{AG}/sprint/{{sprint}}/properties", sprint_properties),
        Route(f"{AG}/sprint/{{sprint}}/properties/{{prop}}", sprint_property),
    ]
