"""One issue's other reads: transitions, watchers, votes, remote links, entity properties (of the issue, its comments
and worklogs), one comment, one worklog, edit metadata; one issue link; the issue picker."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..http import V2, HttpError, bool_param, js, multi, sim_of
from ..lookup import MISSING, comment, link
from ..render_more import editmeta, issue_link, suggested_issue, transitions, votes, watchers
from ..tenant import SUBTASK
from .issues import issue_or_404

PICKER_LIMIT = 20     # issues per picker section
PICKER_HISTORY = 1000  # "History Search" looks among the most recent issues, as a user's history would


def _issue(request: Request):
    sim = sim_of(request)
    n = issue_or_404(sim.t, request.path_params["key"])
    return sim, sim.t.materialize(n)


async def issue_transitions(request: Request) -> Response:
    sim, d = _issue(request)
    expand = set(multi(request, "expand"))
    only = request.query_params.get("transitionId")
    return js({"expand": "transitions", "transitions": transitions(sim.r, d, expand, only)})


async def issue_watchers(request: Request) -> Response:
    sim, d = _issue(request)
    return js(watchers(sim.r, d))


async def issue_votes(request: Request) -> Response:
    sim, d = _issue(request)
    return js(votes(sim.r, d))


async def issue_remote_links(request: Request) -> Response:
    _issue(request)          # no remote links on this site
    return js([])


async def issue_remote_link(request: Request) -> Response:
    _issue(request)
    raise HttpError(404, [f"No remote link with id {request.path_params['id']} exists on this issue."])


async def property_keys(request: Request) -> Response:
    """The keys of an issue's (comment's, worklog's) entity properties: none are set on this site."""
    _owner(request)
    return js({"keys": []})


async def property_get(request: Request) -> Response:
    _owner(request)
    raise HttpError(404, [f"The property with key '{request.path_params['prop']}' does not exist."])


def _owner(request: Request):
    pp = request.path_params
    sim = sim_of(request)
    if "comment" in pp:
        if comment(sim.t, pp["comment"]) is None:
            raise HttpError(404, [MISSING["comment"].format(value=pp["comment"])])
        return
    sim, d = _issue(request)
    if "worklog" in pp and not any(str(w[0]) == pp["worklog"] for w in d.worklogs):
        raise HttpError(404, [MISSING["worklog"].format(value=pp["worklog"])])


async def issue_comment(request: Request) -> Response:
    sim, d = _issue(request)
    cid = request.path_params["id"]
    c = next((c for c in d.comments if str(c[0]) == cid), None)
    if c is None:
        raise HttpError(404, [MISSING["comment"].format(value=cid)])
    return js(sim.r.comment(d.id, c, "renderedBody" in multi(request, "expand")))


async def issue_worklog(request: Request) -> Response:
    sim, d = _issue(request)
    if not d.project.tt_enabled:
        raise HttpError(404, ["Cannot view worklogs: time tracking is disabled."])
    wid = request.path_params["id"]
    w = next((w for w in d.worklogs if str(w[0]) == wid), None)
    if w is None:
        raise HttpError(404, [MISSING["worklog"].format(value=wid)])
    return js(sim.r.worklog(d.id, w))


async def issue_editmeta(request: Request) -> Response:
    sim, d = _issue(request)
    return js(editmeta(sim.r, d))


async def issue_link_get(request: Request) -> Response:
    sim = sim_of(request)
    ref = request.path_params["id"]
    found = link(sim.t, ref)
    if found is None:
        raise HttpError(404, [MISSING["issuelink"].format(value=ref)])
    return js(issue_link(sim.r, found))


async def issue_picker(request: Request) -> Response:
    """Issues for a picker: "History Search" (the most recent issues) and, with currentJQL, "Current Search";
    each matched on key or summary."""
    sim = sim_of(request)
    t = sim.t
    qp = request.query_params
    query = (qp.get("query") or "").strip()
    current = qp.get("currentIssueKey") or ""
    subtasks = bool_param(qp.get("showSubTasks"), True)
    project = qp.get("currentProjectId")

    def wanted(n: int) -> bool:
        _, key, summary, _, _, p, code = t.stub(n)      # stubs are kept: no issue is regenerated twice
        if key == current.upper() or (not subtasks and code == SUBTASK):
            return False
        if project and str(p.id) != project:
            return False
        return not query or query.lower() in key.lower() or query.lower() in summary.lower()

    def section(label: str, sid: str, ns) -> dict:
        found = []
        total = 0
        for n in ns:
            if wanted(n):
                total += 1
                if len(found) < PICKER_LIMIT:
                    found.append(suggested_issue(sim.r, t.materialize(n), query))
        return {"label": label, "sub": f"Showing {len(found)} of {total} matching issues", "id": sid,
                "issues": found}

    recent = []
    for n in range(t.issue_count, 0, -1):
        if t.exists(n) and t.projects[t.i_proj[n]].status == "live":
            recent.append(n)
            if len(recent) >= PICKER_HISTORY:
                break
    exact = t.resolve_issue(query) if query else None
    if exact is not None and exact not in recent:
        recent.insert(0, exact)
    sections = [section("History Search", "hs", recent)]
    jql = qp.get("currentJQL")
    if jql:
        sections.append(section("Current Search", "cs", sim.search(jql)))
    return js({"sections": sections})


def routes() -> list[Route]:
    # issue/picker must precede issue/{key}: Starlette takes the first route that matches
    return [
        Route(f"{V2}/issue/picker", issue_picker),
        Route(f"{V2}/issue/{{key}}/transitions", issue_transitions),
        Route(f"{V2}/issue/{{key}}/watchers", issue_watchers),
        Route(f"{V2}/issue/{{key}}/votes", issue_votes),
        Route(f"{V2}/issue/{{key}}/remotelink", issue_remote_links),
        Route(f"{V2}/issue/{{key}}/remotelink/{{id}}", issue_remote_link),
        Route(f"{V2}/issue/{{key}}/properties", property_keys),
        Route(f"{V2}/issue/{{key}}/properties/{{prop}}", property_get),
        Route(f"{V2}/issue/{{key}}/comment/{{id}}", issue_comment),
        Route(f"{V2}/issue/{{key}}/worklog/{{id}}", issue_worklog),
        Route(f"{V2}/issue/{{key}}/worklog/{{worklog}}/properties", property_keys),
        Route(f"{V2}/issue/{{key}}/worklog/{{worklog}}/properties/{{prop}}", property_get),
        Route(f"{V2}/issue/{{key}}/editmeta", issue_editmeta),
        Route(f"{V2}/comment/{{comment}}/properties", property_keys),
        Route(f"{V2}/comment/{{comment}}/properties/{{prop}}", property_get),
        Route(f"{V2}/issueLink/{{id}}", issue_link_get),
    ]
