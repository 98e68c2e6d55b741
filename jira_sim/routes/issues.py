"""Issues: search/jql (and the removed search APIs), approximate-count, issue get and bulkfetch, changelogs
(bulkfetch and per issue), comments and comment/list, worklogs and worklog/updated|deleted|list."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..data import find_worklog, visible_worklog_changes
from ..http import (
    V2, HttpError, body_json, decode_token, encode_token, error_response, int_param, js, multi, page_bean,
    page_cap, paging, parse_fields, sim_of, site_url,
)
from ..render import EMBED_HISTORIES_BULK, EMBED_HISTORIES_SEARCH
from ..render_more import issue_view

REMOVED_410 = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full "
               "migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")


def issue_or_404(t, ref: str) -> int:
    n = t.resolve_issue(ref)
    if n is None:
        raise HttpError(404, ["Issue does not exist or you do not have permission to see it."])
    return n


# ---- issue search ------------------------------------------------------------------------------------------------

async def search_jql(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    if request.method == "POST":
        body = await body_json(request)
        jql = body.get("jql") or ""
        token = body.get("nextPageToken")
        mr_raw = body.get("maxResults")
        fields_raw = body.get("fields") or []
        if isinstance(fields_raw, str):
            fields_raw = [fields_raw]
        expand_raw = body.get("expand") or ""
        expand = {x.strip() for x in (expand_raw if isinstance(expand_raw, list) else
                                      str(expand_raw).split(",")) if x.strip()}
        reconcile = body.get("reconcileIssues") or []
    else:
        qp = request.query_params
        jql = qp.get("jql") or ""
        token = qp.get("nextPageToken")
        mr_raw = qp.get("maxResults")
        fields_raw = qp.getlist("fields")
        expand = set(multi(request, "expand"))
        reconcile = multi(request, "reconcileIssues")
    mr = int_param(mr_raw, "maxResults", 50)
    if mr < 1 or mr > 5000:
        raise HttpError(400, ["The max results parameter has to be between 1 and 5,000."])
    if len(reconcile) > 50:
        raise HttpError(400, ["The number of issues to reconcile cannot exceed 50."])
    fields, weight = parse_fields(t, fields_raw, ["id"])
    eff = min(mr, page_cap(weight, expand))
    sig = hashlib.sha1(f"{jql}|{sorted(fields)}".encode()).hexdigest()[:10]
    offset = decode_token(token, sig)
    ns = sim.search(jql)
    chunk = ns[offset: offset + eff]
    out: dict[str, Any] = {"issues": [issue_view(r, t.materialize(n), fields, expand - {"names", "schema"},
                                                 histories_cap=EMBED_HISTORIES_SEARCH) for n in chunk]}
    if offset + eff < len(ns):
        out["nextPageToken"] = encode_token(offset + eff, sig)
    out["isLast"] = offset + eff >= len(ns)
    if "names" in expand:
        out["names"] = r.names(fields)
    if "schema" in expand:
        out["schema"] = r.schema(fields)
    return js(out)


async def approximate_count(request: Request) -> Response:
    body = await body_json(request)
    jql = body.get("jql") or ""
    return js({"count": len(sim_of(request).search(jql))})


async def removed_search(request: Request) -> Response:
    return error_response(410, [REMOVED_410])


async def issue_get(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    n = issue_or_404(t, request.path_params["key"])
    expand = set(multi(request, "expand"))
    # with versionedRepresentations "the fields parameter is ignored" [spec]: every field is represented
    requested = [] if "versionedRepresentations" in expand else request.query_params.getlist("fields")
    fields, _ = parse_fields(t, requested, ["*all"])
    return js(issue_view(r, t.materialize(n), fields, expand, histories_cap=10**9))


async def issue_bulkfetch(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    body = await body_json(request)
    refs = body.get("issueIdsOrKeys") or []
    if not refs:
        raise HttpError(400, ["issueIdsOrKeys must not be empty."])
    if len(refs) > 100:
        raise HttpError(400, ["The number of issues requested cannot exceed 100."])
    fields_raw = body.get("fields") or []
    fields, _ = parse_fields(t, fields_raw if isinstance(fields_raw, list) else [fields_raw], ["*navigable"])
    expand_raw = body.get("expand") or []
    expand = set(expand_raw if isinstance(expand_raw, list) else str(expand_raw).split(","))
    ns = sorted({n for n in (t.resolve_issue(str(x)) for x in refs) if n is not None})
    issues = [issue_view(r, t.materialize(n), fields, expand, histories_cap=EMBED_HISTORIES_BULK) for n in ns]
    return js({"issues": issues, "issueErrors": []})


# ---- changelogs --------------------------------------------------------------------------------------------------

async def changelog_bulkfetch(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    body = await body_json(request)
    refs = body.get("issueIdsOrKeys") or []
    if not refs:
        raise HttpError(400, ["issueIdsOrKeys must not be empty."])
    if len(refs) > 1000:
        raise HttpError(400, ["The number of issues requested cannot exceed 1000."])
    field_ids = body.get("fieldIds") or []
    if len(field_ids) > 10:
        raise HttpError(400, ["The number of fieldIds cannot exceed 10."])
    mr = int_param(body.get("maxResults"), "maxResults", 1000)
    if mr < 1:
        raise HttpError(400, ["maxResults must be between 1 and 10000."])
    mr = min(mr, 10000)
    ns = list(dict.fromkeys(n for n in (t.resolve_issue(str(x)) for x in refs) if n is not None))
    sig = hashlib.sha1(f"{ns}|{field_ids}".encode()).hexdigest()[:10]
    offset = decode_token(body.get("nextPageToken"), sig)
    flat = []
    wanted = set(field_ids)
    for n in ns:
        d = t.materialize(n)
        for h in d.histories:
            if wanted:
                items = [it for it in h[3] if it.get("fieldId") in wanted or it["field"] in wanted]
                if not items:
                    continue
                h = (h[0], h[1], h[2], items)
            flat.append((h[2], d.id, h[0], h))
    flat.sort(key=lambda x: (x[0], x[1], x[2]))
    chunk = flat[offset: offset + mr]
    groups: dict[int, list] = {}
    for _, iid, _, h in chunk:
        groups.setdefault(iid, []).append(r.history(h))
    out: dict[str, Any] = {"issueChangeLogs": [{"issueId": str(iid), "changeHistories": hs}
                                               for iid, hs in groups.items()]}
    if offset + mr < len(flat):
        out["nextPageToken"] = encode_token(offset + mr, sig)
    return js(out)


async def issue_changelog(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    n = issue_or_404(t, request.path_params["key"])
    d = t.materialize(n)
    return js(page_bean(request, d.histories, r.history, default=100, cap=100))


# ---- comments ----------------------------------------------------------------------------------------------------

async def issue_comments(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    n = issue_or_404(t, request.path_params["key"])
    order = request.query_params.get("orderBy")
    if order not in (None, "", "created", "+created", "-created"):
        raise HttpError(400, [f"Invalid orderBy parameter: {order}. Only 'created' (optionally prefixed "
                              f"with + or -) is supported."])
    rendered = "renderedBody" in multi(request, "expand")
    d = t.materialize(n)
    cs = list(d.comments)
    if order == "-created":
        cs.reverse()
    start, mr = paging(request, 100, 100)
    chunk = cs[start: start + mr]
    return js({"startAt": start, "maxResults": mr, "total": len(cs),
               "comments": [r.comment(d.id, c, rendered) for c in chunk]})


def comment_owner(t, cid: int) -> int | None:
    """The issue number a comment id belongs to (base ids encode it; added comments are looked up)."""
    if cid >= 2_000_000_000:
        return t.new_comment_owner.get(cid)
    n = (cid - 10000) // 128
    return n if 0 < n <= t.base_count else None


async def comment_list(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    body = await body_json(request)
    ids = body.get("ids") or []
    if not ids:
        raise HttpError(400, ["The list of comment IDs must not be empty."])
    if len(ids) > 1000:
        raise HttpError(400, ["The number of comment IDs cannot exceed 1000."])
    rendered = "renderedBody" in str(request.query_params.get("expand", ""))
    found = []
    for cid in dict.fromkeys(int(x) for x in ids):
        n = comment_owner(t, cid)
        if n is None or not t.exists(n):
            continue
        d = t.materialize(n)
        for c in d.comments:
            if c[0] == cid:
                found.append(r.comment(d.id, c, rendered))
                break
    return js({"isLast": True, "maxResults": 1048576, "startAt": 0, "total": len(found), "values": found})


# ---- worklogs ----------------------------------------------------------------------------------------------------

async def issue_worklogs(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    n = issue_or_404(t, request.path_params["key"])
    d = t.materialize(n)
    if not d.project.tt_enabled:
        raise HttpError(404, ["Cannot view worklogs: time tracking is disabled."])
    qp = request.query_params
    after = int_param(qp.get("startedAfter"), "startedAfter", -1)
    before = int_param(qp.get("startedBefore"), "startedBefore", -1)
    ws = [w for w in d.worklogs if (after < 0 or w[2] >= after) and (before < 0 or w[2] <= before)]
    start, mr = paging(request, 5000, 5000)
    return js({"startAt": start, "maxResults": mr, "total": len(ws),
               "worklogs": [r.worklog(d.id, w) for w in ws[start: start + mr]]})


def changed_worklogs(request: Request, deleted: bool) -> dict:
    t = sim_of(request).t
    since = int_param(request.query_params.get("since"), "since", 0)
    items = [x for x in visible_worklog_changes(t, deleted) if x[0] > since]
    page = items[:1000]
    # never split equal timestamps across pages: the next page starts strictly after `until`
    k = len(page)
    while k < len(items) and page and items[k][0] == page[-1][0]:
        page.append(items[k])
        k += 1
    last = k >= len(items)
    until = page[-1][0] if page else since
    path = request.url.path
    out: dict[str, Any] = {"values": [{"worklogId": wid, "updatedTime": tm, "properties": []}
                                      for tm, wid in page],
                           "since": since, "until": until, "self": site_url(request, path, {"since": since})}
    if not last:
        out["nextPage"] = site_url(request, path, {"since": until})
    out["lastPage"] = last
    return out


async def worklog_updated(request: Request) -> Response:
    return js(changed_worklogs(request, False))


async def worklog_deleted(request: Request) -> Response:
    return js(changed_worklogs(request, True))


async def worklog_list(request: Request) -> Response:
    sim = sim_of(request)
    t, r = sim.t, sim.r
    body = await body_json(request)
    ids = body.get("ids") or []
    if not ids:
        raise HttpError(400, ["The list of worklog IDs must not be empty."])
    if len(ids) > 1000:
        raise HttpError(400, ["The number of worklog IDs cannot exceed 1000."])
    out = []
    for wid in dict.fromkeys(int(x) for x in ids):
        d, w = find_worklog(t, wid)
        if w is not None:
            out.append(r.worklog(d.id, w))
    return js(out)


def routes() -> list[Route]:
    return [
        Route(f"{V2}/search/jql", search_jql, methods=["GET", "POST"]),
        Route(f"{V2}/search/approximate-count", approximate_count, methods=["POST"]),
        Route(f"{V2}/search", removed_search, methods=["GET", "POST"]),
        Route("/rest/api/3/search", removed_search, methods=["GET", "POST"]),
        Route(f"{V2}/search/id", removed_search, methods=["POST"]),
        Route(f"{V2}/changelog/bulkfetch", changelog_bulkfetch, methods=["POST"]),
        Route(f"{V2}/issue/bulkfetch", issue_bulkfetch, methods=["POST"]),
        Route(f"{V2}/issue/{{key}}", issue_get),
        Route(f"{V2}/issue/{{key}}/changelog", issue_changelog),
        Route(f"{V2}/issue/{{key}}/comment", issue_comments),
        Route(f"{V2}/issue/{{key}}/worklog", issue_worklogs),
        Route(f"{V2}/comment/list", comment_list, methods=["POST"]),
        Route(f"{V2}/worklog/updated", worklog_updated),
        Route(f"{V2}/worklog/deleted", worklog_deleted),
        Route(f"{V2}/worklog/list", worklog_list, methods=["POST"]),
    ]
