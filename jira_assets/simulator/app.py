"""The simulator's HTTP surface: Jira Cloud's REST paths on a Starlette app, plus `/__sim/*` control endpoints.

Page sizes (default / cap; a larger `maxResults` is silently lowered to the cap and the effective value is echoed
back in the page's `maxResults`, the documented way to discover a cap):

| endpoint | paging | default | cap |
|---|---|---|---|
| GET|POST /rest/api/2/search/jql | nextPageToken | 50 | 5000 when only `id`/`key` are asked; 1000 for up to 10 |
|   |   |   | named fields; 100 for `*all`, `*navigable`, more than 10 fields, or expand=changelog, renderedFields, |
|   |   |   | transitions, editmeta, operations or versionedRepresentations (Jira "may return fewer items per page |
|   |   |   | where a large number of fields are requested"); `maxResults` outside 1..5000 is a 400 |
| GET /rest/software/1.0/board|sprint/{id}/issue | nextPageToken | 50 | weighted as search/jql (8 agile fields: 1000) |
| GET /rest/agile/1.0/board|sprint/{id}/issue (deprecated) | startAt | 50 | 100 (*navigable default), 1000 (<= 10 fields) |
| POST /rest/api/2/changelog/bulkfetch | nextPageToken | 1000 histories | 10000; <= 1000 issues, <= 10 fieldIds |
| POST /rest/api/2/issue/bulkfetch | one call | - | 100 issues |
| POST worklog/list, comment/list | one call | - | 1000 ids |
| GET worklog/updated, worklog/deleted | since/until | 1000 | 1000 |
| GET issue/{id}/changelog | startAt | 100 | 100 |
| GET issue/{id}/comment | startAt | 100 | 100 |
| GET issue/{id}/worklog | startAt | 5000 | 5000 |
| GET project/search | startAt | 50 | 100 |
| GET project/{id}/version, /component | startAt | 50 | 100 |
| GET dashboard | startAt | 20 | 100 |
| GET filter/search | startAt | 50 | 100 |
| GET group/bulk | startAt | 50 | 50 |
| GET group/member | startAt | 50 | 50 |
| GET users/search | startAt, plain array | 50 | 1000 |
| GET fieldconfiguration, notificationscheme, workflowscheme, priorityscheme | startAt | 50 | 50 |
| GET priority/search, resolution/search, workflows/search | startAt | 50 | 100 |
| GET screenscheme | startAt | 25 | 100 |
| GET auditing/record | offset/limit | 1000 | 1000 |
| GET agile board | startAt | 50 | 50 |
| GET agile board/{id}/sprint | startAt | 50 | 50 |

Embedded lists: search/jql embeds at most 20 comments (`fields.comment.total` tells the full count), 20 worklogs and,
with expand=changelog, 20 histories; issue/bulkfetch embeds 40 histories.

Identity and edges: HTTP Basic `demo@example.com` / `demo-token`; anything else under /rest answers 401 with a
plain-text body. `--non-admin`: Administer-Jira-only endpoints (fieldconfiguration, issuesecurityschemes,
screenscheme, workflowscheme, auditing/record) answer 403; notificationscheme and workflows/search answer an empty
page (they list only what the caller administers, per the spec); permissionscheme is open to every user.
`--premium` off: priorityscheme answers 403. `--no-software`: /rest/agile and /rest/software are the dead-link 404.
Missing credentials are treated like wrong ones (401), a simplification: real Jira serves some reads anonymously.

Control plane (no auth, never faulted or logged):
- `POST /__sim/advance` `{"update_issues", "add_issues", "delete_issues", "add_comments", "add_worklogs",
  "delete_worklogs", "add_projects": counts, "minutes": 5}` -> `{"applied": {...}, "now": "<Jira timestamp>"}`.
  Changes are stamped between the old clock and one minute before the new one (worklog/updated hides the last
  minute); updates write changelog histories, worklog additions/deletions write `timespent`/`WorklogId` items,
  deletions feed worklog/deleted, every touched issue's `updated` moves.
- `GET /__sim/truth/<endpoint>` -> `{"endpoint": name, "records": [{"parents": {...}, "record": {...}}, ...]}`
  streamed; `record` is rendered by the same function that serves the connector's request for that endpoint (the
  contract table in the lead's notes); `parents` is `{}` for roots, else `{"issue_id": "10001"}` (string),
  `{"project_id": "10000"}` (string), `{"board_id": 1}` / `{"sprint_id": 5}` (int, as the Agile API types ids),
  `{"group_id": "<uuid>"}`. Forbidden endpoints (non-admin, no Premium, no Software) report no records.
  `my_permissions` reports the keys of `?permissions=` if given, else the connector's
  `jira_assets.endpoints.PERMISSION_KEYS` (all built-in keys if that module is absent). Order: as served.
- `GET|POST /__sim/faults` (FaultConfig of faults.py), `GET /__sim/stats`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .jql import JqlError, UnboundedJqlError, compile_jql
from .render import EMBED_HISTORIES_BULK, EMBED_HISTORIES_SEARCH, Renderer
from .tenant import (
    AGILE_FIELDS, ALL_FIELDS, EPIC, NAVIGABLE, PERMISSIONS, PRIORITIES, RESOLUTIONS, Tenant, fmt_ms, ms_to_dt,
)

V2 = "/rest/api/2"
AG = "/rest/agile/1.0"
SW = "/rest/software/1.0"
JSON_TYPE = "application/json;charset=UTF-8"
EMAIL = "demo@example.com"
TOKEN = "demo-token"
UNAUTHENTICATED = "Client must be authenticated to access this resource."
ADMIN_403 = "You are not authorized to perform this action. Administrator privileges are required."
REMOVED_410 = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full "
               "migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
BAD_TOKEN = "Invalid format of nextPageToken"
HEAVY_EXPAND = {"changelog", "renderedFields", "transitions", "editmeta", "operations", "versionedRepresentations"}
# the fields the connector asks of board/sprint issue lists (contract table); used by /__sim/truth
AGILE_TRUTH_FIELDS = ["key", "updated", "status", "issuetype", "sprint", "closedSprints", "flagged", "epic"]
PROJECT_TRUTH_EXPAND = {"description", "lead", "issueTypes", "url", "projectKeys", "permissions", "insight"}
FILTER_TRUTH_EXPAND = {"description", "owner", "jql", "viewUrl", "searchUrl", "favourite", "favouritedCount",
                       "sharePermissions", "editPermissions", "isWritable", "subscriptions"}

DEAD_LINK_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Oops, you&#39;ve found a dead link. - Jira</title>
</head>
<body id="jira" class="aui-layout aui-style-default page-type-message">
<div id="page"><section id="content" role="main">
<div class="aui-page-panel"><div class="aui-page-panel-inner"><section class="aui-page-panel-content">
<div class="aui-message aui-message-warning warning">
<h1>Oops, you&#39;ve found a dead link.</h1>
<p>Go back to the previous page, or visit the <a href="/secure/Dashboard.jspa">dashboard</a>.</p>
</div>
</section></div></div>
</section></div>
</body>
</html>
"""


class HttpError(Exception):
    def __init__(self, status: int, messages: list[str] | None = None, errors: dict | None = None):
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def js(obj: Any, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type=JSON_TYPE)


def error_response(status: int, messages: list[str], errors: dict | None = None) -> Response:
    return js({"errorMessages": messages, "errors": errors or {}}, status)


def dead_link() -> Response:
    return Response(DEAD_LINK_HTML, status_code=404, media_type="text/html;charset=UTF-8")


def _multi(request: Request, name: str) -> list[str]:
    """A list parameter that Jira accepts comma-separated and/or repeated."""
    out: list[str] = []
    for v in request.query_params.getlist(name):
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HttpError(400, [f"The '{name}' parameter must be a number."]) from None


def _bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def encode_token(offset: int, sig: str) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{sig}".encode()).decode().rstrip("=")


def decode_token(token: str | None, sig: str) -> int:
    if token is None or token == "":
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        off, s = raw.split(":", 1)
        offset = int(off)
    except Exception:
        raise HttpError(400, [BAD_TOKEN]) from None
    if s != sig or offset < 0:
        raise HttpError(400, [BAD_TOKEN])
    return offset


class IssueView:
    """What the JQL evaluator sees of an issue (cheap attributes; other fields materialize the issue)."""
    __slots__ = ("n", "id", "key", "project_id", "project_key", "created", "updated", "_sim")

    def __init__(self, sim: "Simulator", n: int):
        t = sim.t
        p = t.projects[t.i_proj[n]]
        self.n = n
        self._sim = sim
        self.id = 10000 + n
        self.key = f"{p.key}-{t.i_num[n]}"
        self.project_id = p.id
        self.project_key = p.key
        self.created = ms_to_dt(t.i_created[n])
        self.updated = ms_to_dt(t.updated_of(n))

    def field(self, name: str) -> Any:
        d = self._sim.t.materialize(self.n)
        r = self._sim.r
        if name == "statusCategory":
            return r.status(d.status)["statusCategory"]
        if name == "sprint":
            return r.field_value(d, "customfield_10020")
        try:
            return r.field_value(d, name)
        except KeyError:
            return None


class Simulator:
    def __init__(self, tenant: Tenant):
        self.t = tenant
        self.r = Renderer(tenant)
        self.tz = ZoneInfo(tenant.users[0].tz)
        self.auth_header = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        self._search_cache: OrderedDict[tuple, list[int]] = OrderedDict()
        self.faults = None      # the FaultMiddleware, set by __main__ when present
        self._view_list: list = []

    def _views(self) -> list:
        """One IssueView per issue number, kept across searches; rebuilt only for issues changed since."""
        t = self.t
        vs = self._view_list
        if len(vs) < t.issue_count + 1:
            vs.extend([None] * (t.issue_count + 1 - len(vs)))
        if not any(vs[1:2]) and t.issue_count:
            for n in range(1, t.issue_count + 1):
                vs[n] = IssueView(self, n)
            t.dirty.clear()
        for n in t.dirty:
            vs[n] = IssueView(self, n)
        t.dirty.clear()
        return vs

    # ---- searching ----------------------------------------------------------------------------------------
    def compile(self, jql: str, *, allow_unbounded: bool = False):
        t = self.t
        try:
            q = compile_jql(jql, tz=self.tz, now=ms_to_dt(t.now), current_user=t.users[0].account_id)
        except UnboundedJqlError as e:
            if allow_unbounded:
                # board/sprint lists are bounded by the board; keep an ORDER BY-only query's ordering
                if jql.strip():
                    return self.compile("id > 0 " + jql)
                return None
            raise HttpError(400, list(e.messages)) from None
        except JqlError as e:
            raise HttpError(400, list(e.messages)) from None
        try:
            q.validate(project_exists=lambda ref: t.project_by_ref(ref) is not None,
                       issue_key_exists=lambda key: t.resolve_issue(key) is not None)
        except JqlError as e:
            raise HttpError(400, list(e.messages)) from None
        return q

    def search(self, jql: str, universe: Callable[[], Iterable[int]] | None = None, *, scope: str = "",
               allow_unbounded: bool = False, default_rank: bool = False) -> list[int]:
        """Issue numbers matching `jql` (within `universe`), in JQL order; cached until the tenant changes."""
        key = (jql, scope, self.t.version)
        hit = self._search_cache.get(key)
        if hit is not None:
            self._search_cache.move_to_end(key)
            return hit
        q = self.compile(jql, allow_unbounded=allow_unbounded) if jql.strip() else None
        if q is None and not allow_unbounded:
            raise HttpError(400, [UnboundedJqlError().messages[0]])
        ns = universe() if universe is not None else self.t.live_issue_numbers()
        vs = self._views()
        views = [vs[n] for n in ns]
        if q is not None:
            views = [v for v in views if q.matches(v)]
        if q is not None and (q.explicit_order or not default_rank):
            views = q.sort(views)
        else:
            views.sort(key=lambda v: v.n)      # rank order (Rank values ascend with the issue number)
        out = [v.n for v in views]
        self._search_cache[key] = out
        while len(self._search_cache) > 32:
            self._search_cache.popitem(last=False)
        return out


def parse_fields(tokens: list[str], default: list[str], *, agile: bool = False) -> tuple[list[str], int]:
    """Jira's `fields` grammar -> (field ids, named-field count; -1 for *all/*navigable)."""
    toks = [x.strip() for tok in tokens for x in str(tok).split(",") if x.strip()]
    if not toks:
        toks = default
    out: list[str] = []
    excl: set[str] = set()
    weight = 0
    for x in toks:
        if x == "*all":
            out.extend(ALL_FIELDS + (AGILE_FIELDS if agile else []))
            weight = -1
        elif x == "*navigable":
            out.extend(NAVIGABLE + (AGILE_FIELDS if agile else []))
            weight = -1
        elif x.startswith("-"):
            excl.add(x[1:])
        elif x in ("id", "key", "*none"):
            continue
        else:
            out.append(x)
            if weight >= 0:
                weight += 1
    seen: dict[str, None] = {}
    for f in out:
        if f not in excl:
            seen.setdefault(f, None)
    return list(seen), weight


def page_cap(weight: int, expand: set[str], hard: int = 5000) -> int:
    if weight < 0 or expand & HEAVY_EXPAND:
        return min(100, hard)
    if weight == 0:
        return hard
    return min(1000, hard) if weight <= 10 else min(100, hard)


# ==================================================================================================================
# the application

def build_app(sim: Simulator) -> Starlette:
    t = sim.t
    r = sim.r
    B = t.base

    def url(path: str, params: dict[str, Any]) -> str:
        q = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{B}{path}?{q}" if q else f"{B}{path}"

    def require_admin() -> None:
        if not t.admin:
            raise HttpError(403, [ADMIN_403])

    def paging(request: Request, default: int, cap: int) -> tuple[int, int]:
        qp = request.query_params
        start = max(0, _int(qp.get("startAt"), "startAt", 0))
        mr = _int(qp.get("maxResults"), "maxResults", default)
        if mr <= 0:
            mr = default
        return start, min(mr, cap)

    def page_bean(request: Request, items: list, render: Callable[[Any], Any], *, default: int = 50,
                  cap: int = 50, extra_params: dict | None = None, agile: bool = False,
                  total: bool = True) -> dict:
        start, mr = paging(request, default, cap)
        chunk = items[start: start + mr]
        is_last = start + len(chunk) >= len(items)
        params = dict(extra_params or {})
        if agile:
            out: dict[str, Any] = {"maxResults": mr, "startAt": start}
            if total:
                out["total"] = len(items)
            out["isLast"] = is_last
            out["values"] = [render(x) for x in chunk]
            return out
        path = request.url.path
        out = {"self": url(path, {**params, "startAt": start, "maxResults": mr})}
        if not is_last:
            out["nextPage"] = url(path, {**params, "startAt": start + mr, "maxResults": mr})
        out.update({"maxResults": mr, "startAt": start, "total": len(items), "isLast": is_last,
                    "values": [render(x) for x in chunk]})
        return out

    # ---- data lists shared by handlers and truth ----------------------------------------------------------
    def projects_for(statuses: set[str]) -> list:
        return sorted((p for p in t.projects if p.status in statuses), key=lambda p: p.key)

    def component_count(c) -> int:
        p = c.project
        bit = 1 << p.components.index(c)
        comp, deleted = t.i_comp, t.deleted
        return sum(1 for n in p.issue_ns if comp[n] & bit and n not in deleted)

    def visible_filters() -> list:
        return sorted((f for f in t.filters if f.visible), key=lambda f: (f.name.lower(), f.id))

    def groups_sorted() -> list:
        return sorted(t.groups, key=lambda g: g.name)

    def group_members(g, include_inactive: bool) -> list:
        return [t.users[i] for i in g.members if include_inactive or t.users[i].active]

    def board_issue_universe(b) -> Callable[[], Iterable[int]]:
        def gen() -> Iterator[int]:
            ns: list[int] = []
            for p in b.projects:
                ns.extend(p.issue_ns)
            ns.sort()
            for n in ns:
                if n in t.deleted:
                    continue
                if b.type == "scrum" and t.i_type[n] == EPIC:
                    continue      # "Epic issues do not belong to scrum boards"
                yield n
        return gen

    def sprint_issue_universe(s) -> Callable[[], Iterable[int]]:
        def gen() -> Iterator[int]:
            board = t.board_by_id[s.board]
            p = board.projects[0]
            order = t._sprint_order.get(p.idx)
            if not order or t.project_scrum.get(p.idx) is not board:
                return
            pos = next((k for k, x in enumerate(order) if x.id == s.id), None)
            if pos is None:
                return
            for n in p.issue_ns:
                s0 = t.i_sprint0[n]
                if s0 >= 0 and s0 <= pos < s0 + t.i_sprintn[n] and n not in t.deleted:
                    yield n
        return gen

    def live_sprints() -> list:
        """Each sprint once, as the connector reaches them: via non-private scrum boards."""
        seen: dict[int, Any] = {}
        for b in t.boards:
            if b.type == "scrum" and not b.private:
                for s in t.sprints_of_board(b):
                    seen.setdefault(s.id, s)
        return list(seen.values())

    def visible_board(board_id: str):
        if not t.software:
            raise _DeadLink()
        try:
            b = t.board_by_id.get(int(board_id))
        except ValueError:
            b = None
        if b is None or b.private:
            raise HttpError(404, ["Board does not exist or you do not have permission to see it."])
        return b

    def sprint_or_404(sprint_id: str):
        try:
            s = t.sprints.get(int(sprint_id))
        except ValueError:
            s = None
        if s is None or t.board_by_id[s.board].private:
            raise HttpError(404, ["Sprint does not exist or you do not have permission to see it."])
        return s

    def issue_or_404(ref: str) -> int:
        n = t.resolve_issue(ref)
        if n is None:
            raise HttpError(404, ["Issue does not exist or you do not have permission to see it."])
        return n

    async def body_json(request: Request) -> dict:
        raw = await request.body()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise HttpError(400, ["Unexpected character in the request body: it is not valid JSON."]) from None
        if not isinstance(data, dict):
            raise HttpError(400, ["The request body must be a JSON object."])
        return data

    # ---- handlers: identity and server ------------------------------------------------------------------------
    async def myself(request: Request) -> Response:
        return js(r.myself(set(_multi(request, "expand"))))

    def server_info() -> dict:
        return {"baseUrl": B, "displayUrl": B, "displayUrlServicedeskHelpCenter": B, "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100291,
                "buildDate": "2026-10-28T03:12:41.000+0000", "serverTime": fmt_ms(t.now),
                "scmInfo": hashlib.sha1(str(t.seed).encode()).hexdigest(), "serverTitle": "Jira",
                "serverTimeZone": "Etc/UTC", "defaultLocale": {"locale": "en_US"}}

    async def server_info_h(request: Request) -> Response:
        return js(server_info())

    # ---- issue search --------------------------------------------------------------------------------------------
    async def search_jql(request: Request) -> Response:
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
            expand = set(_multi(request, "expand"))
            reconcile = _multi(request, "reconcileIssues")
        mr = _int(mr_raw, "maxResults", 50)
        if mr < 1 or mr > 5000:
            raise HttpError(400, ["The max results parameter has to be between 1 and 5,000."])
        if len(reconcile) > 50:
            raise HttpError(400, ["The number of issues to reconcile cannot exceed 50."])
        fields, weight = parse_fields(fields_raw, ["id"])
        eff = min(mr, page_cap(weight, expand))
        sig = hashlib.sha1(f"{jql}|{sorted(fields)}".encode()).hexdigest()[:10]
        offset = decode_token(token, sig)
        ns = sim.search(jql)
        chunk = ns[offset: offset + eff]
        out: dict[str, Any] = {"issues": [r.issue(t.materialize(n), fields, expand - {"names", "schema"},
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
        return js({"count": len(sim.search(jql))})

    async def removed_search(request: Request) -> Response:
        return error_response(410, [REMOVED_410])

    async def issue_get(request: Request) -> Response:
        n = issue_or_404(request.path_params["key"])
        fields, _ = parse_fields(request.query_params.getlist("fields"), ["*all"])
        expand = set(_multi(request, "expand"))
        return js(r.issue(t.materialize(n), fields, expand, histories_cap=10**9))

    async def issue_bulkfetch(request: Request) -> Response:
        body = await body_json(request)
        refs = body.get("issueIdsOrKeys") or []
        if not refs:
            raise HttpError(400, ["issueIdsOrKeys must not be empty."])
        if len(refs) > 100:
            raise HttpError(400, ["The number of issues requested cannot exceed 100."])
        fields_raw = body.get("fields") or []
        fields, _ = parse_fields(fields_raw if isinstance(fields_raw, list) else [fields_raw], ["*navigable"])
        expand_raw = body.get("expand") or []
        expand = set(expand_raw if isinstance(expand_raw, list) else str(expand_raw).split(","))
        ns = sorted({n for n in (t.resolve_issue(str(x)) for x in refs) if n is not None})
        issues = [r.issue(t.materialize(n), fields, expand, histories_cap=EMBED_HISTORIES_BULK) for n in ns]
        return js({"issues": issues, "issueErrors": []})

    # ---- changelogs ----------------------------------------------------------------------------------------
    async def changelog_bulkfetch(request: Request) -> Response:
        body = await body_json(request)
        refs = body.get("issueIdsOrKeys") or []
        if not refs:
            raise HttpError(400, ["issueIdsOrKeys must not be empty."])
        if len(refs) > 1000:
            raise HttpError(400, ["The number of issues requested cannot exceed 1000."])
        field_ids = body.get("fieldIds") or []
        if len(field_ids) > 10:
            raise HttpError(400, ["The number of fieldIds cannot exceed 10."])
        mr = _int(body.get("maxResults"), "maxResults", 1000)
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
        n = issue_or_404(request.path_params["key"])
        d = t.materialize(n)
        return js(page_bean(request, d.histories, r.history, default=100, cap=100))

    # ---- comments --------------------------------------------------------------------------------------------
    async def issue_comments(request: Request) -> Response:
        n = issue_or_404(request.path_params["key"])
        order = request.query_params.get("orderBy")
        if order not in (None, "", "created", "+created", "-created"):
            raise HttpError(400, [f"Invalid orderBy parameter: {order}. Only 'created' (optionally prefixed "
                                  f"with + or -) is supported."])
        rendered = "renderedBody" in _multi(request, "expand")
        d = t.materialize(n)
        cs = list(d.comments)
        if order == "-created":
            cs.reverse()
        start, mr = paging(request, 100, 100)
        chunk = cs[start: start + mr]
        return js({"startAt": start, "maxResults": mr, "total": len(cs),
                   "comments": [r.comment(d.id, c, rendered) for c in chunk]})

    async def comment_list(request: Request) -> Response:
        body = await body_json(request)
        ids = body.get("ids") or []
        if not ids:
            raise HttpError(400, ["The list of comment IDs must not be empty."])
        if len(ids) > 1000:
            raise HttpError(400, ["The number of comment IDs cannot exceed 1000."])
        rendered = "renderedBody" in str(request.query_params.get("expand", ""))
        found = []
        for cid in dict.fromkeys(int(x) for x in ids):
            n = _comment_owner(cid)
            if n is None or not t.exists(n):
                continue
            d = t.materialize(n)
            for c in d.comments:
                if c[0] == cid:
                    found.append(r.comment(d.id, c, rendered))
                    break
        return js({"isLast": True, "maxResults": 1048576, "startAt": 0, "total": len(found), "values": found})

    def _comment_owner(cid: int) -> int | None:
        if cid >= 2_000_000_000:
            return t.new_comment_owner.get(cid)
        n = (cid - 10000) // 128
        return n if 0 < n <= t.base_count else None

    # ---- worklogs ----------------------------------------------------------------------------------------------
    def _worklog_owner(wid: int) -> int | None:
        if wid >= 1_000_000_000:
            return t.new_worklog_owner.get(wid)
        n = (wid - 10000) // 64
        return n if 0 < n <= t.base_count else None

    def find_worklog(wid: int):
        n = _worklog_owner(wid)
        if n is None or not t.exists(n):
            return None, None
        d = t.materialize(n)
        for w in d.worklogs:
            if w[0] == wid:
                return d, w
        return None, None

    async def issue_worklogs(request: Request) -> Response:
        n = issue_or_404(request.path_params["key"])
        d = t.materialize(n)
        if not d.project.tt_enabled:
            raise HttpError(404, ["Cannot view worklogs: time tracking is disabled."])
        qp = request.query_params
        after = _int(qp.get("startedAfter"), "startedAfter", -1)
        before = _int(qp.get("startedBefore"), "startedBefore", -1)
        ws = [w for w in d.worklogs if (after < 0 or w[2] >= after) and (before < 0 or w[2] <= before)]
        start, mr = paging(request, 5000, 5000)
        return js({"startAt": start, "maxResults": mr, "total": len(ws),
                   "worklogs": [r.worklog(d.id, w) for w in ws[start: start + mr]]})

    def visible_worklog_changes(deleted: bool) -> list[tuple[int, int]]:
        """(time, worklog id) pairs served by worklog/updated|deleted, oldest first; Jira hides the last minute."""
        cutoff = t.now - 60_000
        if deleted:
            return [(tm, wid) for tm, wid in t.deleted_worklogs if tm <= cutoff]
        out = []
        dead = t.deleted_wl_ids
        for tm, wid, n in zip(t.wl_t, t.wl_id, t.wl_n):
            if tm > cutoff:
                break
            if wid in dead or n in t.deleted:
                continue
            out.append((tm, wid))
        return out

    def changed_worklogs(request: Request, deleted: bool) -> dict:
        since = _int(request.query_params.get("since"), "since", 0)
        items = [x for x in visible_worklog_changes(deleted) if x[0] > since]
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
                               "since": since, "until": until, "self": url(path, {"since": since})}
        if not last:
            out["nextPage"] = url(path, {"since": until})
        out["lastPage"] = last
        return out

    async def worklog_updated(request: Request) -> Response:
        return js(changed_worklogs(request, False))

    async def worklog_deleted(request: Request) -> Response:
        return js(changed_worklogs(request, True))

    async def worklog_list(request: Request) -> Response:
        body = await body_json(request)
        ids = body.get("ids") or []
        if not ids:
            raise HttpError(400, ["The list of worklog IDs must not be empty."])
        if len(ids) > 1000:
            raise HttpError(400, ["The number of worklog IDs cannot exceed 1000."])
        out = []
        for wid in dict.fromkeys(int(x) for x in ids):
            d, w = find_worklog(wid)
            if w is not None:
                out.append(r.worklog(d.id, w))
        return js(out)

    # ---- projects ----------------------------------------------------------------------------------------------
    async def project_search(request: Request) -> Response:
        statuses = set(_multi(request, "status")) or {"live"}
        bad = statuses - {"live", "archived", "deleted"}
        if bad:
            raise HttpError(400, [f"Invalid status value: {sorted(bad)[0]}"])
        expand = set(_multi(request, "expand"))
        ps = projects_for(statuses)
        keys = set(_multi(request, "keys"))
        ids = set(_multi(request, "id"))
        if keys or ids:
            ps = [p for p in ps if p.key in keys or str(p.id) in ids]
        if (order := request.query_params.get("orderBy", "key")).lstrip("+-") == "name":
            ps = sorted(ps, key=lambda p: p.name.lower(), reverse=order.startswith("-"))
        elif order.startswith("-"):
            ps = list(reversed(ps))
        return js(page_bean(request, ps, lambda p: r.project(p, expand), cap=100,
                            extra_params={"status": ",".join(sorted(statuses)) if statuses != {"live"} else None}))

    def project_or_404(ref: str):
        p = t.project_by_ref(ref)
        if p is None or p.status == "deleted":
            raise HttpError(404, [f"No project could be found with key '{ref}'."])
        return p

    async def project_get(request: Request) -> Response:
        p = project_or_404(request.path_params["key"])
        return js(r.project(p, set(_multi(request, "expand")) | {"description", "lead", "issueTypes"}))

    async def project_versions(request: Request) -> Response:
        p = project_or_404(request.path_params["key"])
        return js(page_bean(request, p.versions, r.version, cap=100))

    async def project_versions_all(request: Request) -> Response:
        p = project_or_404(request.path_params["key"])
        return js([r.version(v) for v in p.versions])

    async def project_components(request: Request) -> Response:
        p = project_or_404(request.path_params["key"])
        return js(page_bean(request, p.components, lambda c: r.component(c, component_count(c)), cap=100))

    async def project_components_all(request: Request) -> Response:
        p = project_or_404(request.path_params["key"])
        return js([r.component(c, None) for c in p.components])

    async def project_categories(request: Request) -> Response:
        return js(r.categories())

    async def project_types(request: Request) -> Response:
        return js(r.project_types())

    # ---- boards and sprints ----------------------------------------------------------------------------------
    async def boards(request: Request) -> Response:
        if not t.software:
            raise _DeadLink()
        include_private = _bool(request.query_params.get("includePrivate"))
        bs = [b for b in t.boards if include_private or not b.private]
        typ = set(_multi(request, "type"))
        if typ:
            bs = [b for b in bs if not b.private and b.type in typ]
        ref = request.query_params.get("projectKeyOrId")
        if ref:
            bs = [b for b in bs if not b.private and any(p.key == ref.upper() or str(p.id) == ref
                                                         for p in b.projects)]
        return js(page_bean(request, bs, r.board, cap=50, agile=True))

    async def board_get(request: Request) -> Response:
        return js(r.board(visible_board(request.path_params["board"])))

    async def board_configuration(request: Request) -> Response:
        return js(r.board_configuration(visible_board(request.path_params["board"])))

    async def board_sprints(request: Request) -> Response:
        b = visible_board(request.path_params["board"])
        if b.type != "scrum":
            raise HttpError(400, ["The board does not support sprints"])
        states = set(_multi(request, "state")) or {"future", "active", "closed"}
        ss = [s for s in t.sprints_of_board(b) if s.state in states]
        return js(page_bean(request, ss, r.sprint, cap=50, agile=True, total=False))

    async def sprint_get(request: Request) -> Response:
        if not t.software:
            raise _DeadLink()
        return js(r.sprint(sprint_or_404(request.path_params["sprint"])))

    def agile_list(request: Request, universe, scope: str, software: bool) -> Response:
        qp = request.query_params
        jql = qp.get("jql") or ""
        fields, weight = parse_fields(qp.getlist("fields"), ["*navigable"], agile=True)
        expand = set(_multi(request, "expand"))
        ns = sim.search(jql, universe, scope=scope, allow_unbounded=True, default_rank=True)
        if software:
            mr = _int(qp.get("maxResults"), "maxResults", 50)
            if mr < 1 or mr > 5000:
                raise HttpError(400, ["The max results parameter has to be between 1 and 5,000."])
            eff = min(mr, page_cap(weight, expand))
            sig = hashlib.sha1(f"{scope}|{jql}|{sorted(fields)}".encode()).hexdigest()[:10]
            offset = decode_token(qp.get("nextPageToken"), sig)
            chunk = ns[offset: offset + eff]
            out: dict[str, Any] = {"expand": "names,schema", "issues": [
                r.issue(t.materialize(n), fields, expand, histories_cap=EMBED_HISTORIES_SEARCH) for n in chunk]}
            if offset + eff < len(ns):
                out["nextPageToken"] = encode_token(offset + eff, sig)
            out["isLast"] = offset + eff >= len(ns)
            return js(out)
        start = max(0, _int(qp.get("startAt"), "startAt", 0))
        mr = _int(qp.get("maxResults"), "maxResults", 50)
        mr = min(mr if mr > 0 else 50, page_cap(weight, expand, hard=1000))
        chunk = ns[start: start + mr]
        return js({"expand": "names,schema", "startAt": start, "maxResults": mr, "total": len(ns),
                   "issues": [r.issue(t.materialize(n), fields, expand, histories_cap=EMBED_HISTORIES_SEARCH)
                              for n in chunk]})

    def board_issues_handler(software: bool):
        async def h(request: Request) -> Response:
            b = visible_board(request.path_params["board"])
            return agile_list(request, board_issue_universe(b), f"board:{b.id}", software)
        return h

    def sprint_issues_handler(software: bool):
        async def h(request: Request) -> Response:
            if not t.software:
                raise _DeadLink()
            s = sprint_or_404(request.path_params["sprint"])
            return agile_list(request, sprint_issue_universe(s), f"sprint:{s.id}", software)
        return h

    def board_sprint_issues_handler(software: bool):
        async def h(request: Request) -> Response:
            b = visible_board(request.path_params["board"])
            s = sprint_or_404(request.path_params["sprint"])
            allowed = set(board_issue_universe(b)())
            inner = sprint_issue_universe(s)
            return agile_list(request, lambda: (n for n in inner() if n in allowed), f"board:{b.id}:sprint:{s.id}",
                              software)
        return h

    # ---- dashboards and filters ------------------------------------------------------------------------------
    async def dashboards(request: Request) -> Response:
        which = request.query_params.get("filter")
        ds = t.dashboards
        if which == "my":
            ds = [d for d in ds if d.owner == 0]
        elif which == "favourite":
            ds = [d for d in ds if d.favourite]
        start, mr = paging(request, 20, 100)
        chunk = ds[start: start + mr]
        out: dict[str, Any] = {"startAt": start, "maxResults": mr, "total": len(ds)}
        path = request.url.path
        if start > 0:
            out["prev"] = url(path, {"filter": which, "startAt": max(0, start - mr), "maxResults": mr})
        if start + len(chunk) < len(ds):
            out["next"] = url(path, {"filter": which, "startAt": start + mr, "maxResults": mr})
        out["dashboards"] = [r.dashboard(d) for d in chunk]
        return js(out)

    async def filter_search(request: Request) -> Response:
        expand = set(_multi(request, "expand"))
        fs = visible_filters()
        name = request.query_params.get("filterName")
        if name:
            fs = [f for f in fs if name.lower() in f.name.lower()]
        return js(page_bean(request, fs, lambda f: r.filter_details(f, expand), cap=100))

    async def filter_favourite(request: Request) -> Response:
        return js([r.filter_bean(f) for f in visible_filters() if f.favourite])

    async def filter_my(request: Request) -> Response:
        inc = _bool(request.query_params.get("includeFavourites"))
        return js([r.filter_bean(f) for f in visible_filters() if f.owner == 0 or (inc and f.favourite)])

    async def filter_get(request: Request) -> Response:
        try:
            f = t.filter_by_id.get(int(request.path_params["id"]))
        except ValueError:
            f = None
        if f is None or not f.visible:
            raise HttpError(400, ["The selected filter is not available to you, perhaps it has been deleted or "
                                  "had its permissions changed."])
        return js(r.filter_bean(f))

    # ---- fields, users, groups -------------------------------------------------------------------------------
    async def fields(request: Request) -> Response:
        return js(r.field_list())

    async def field_configurations(request: Request) -> Response:
        require_admin()
        return js(page_bean(request, t.field_configs, r.field_configuration, cap=50))

    async def groups_bulk(request: Request) -> Response:
        gs = groups_sorted()
        ids = set(_multi(request, "groupId"))
        names = set(_multi(request, "groupName"))
        if ids or names:
            gs = [g for g in gs if g.group_id in ids or g.name in names]
        return js(page_bean(request, gs, r.group, cap=50))

    async def group_member(request: Request) -> Response:
        qp = request.query_params
        gid, gname = qp.get("groupId"), qp.get("groupname")
        if gid and gname:
            raise HttpError(400, ["You must provide either groupId or groupname, not both."])
        g = t.group_by_id.get(gid) if gid else t.group_by_name.get(gname or "")
        if g is None:
            if not gid and not gname:
                raise HttpError(400, ["You must provide either groupId or groupname."])
            raise HttpError(404, ["Specified group does not exist."])
        members = group_members(g, _bool(qp.get("includeInactiveUsers")))
        return js(page_bean(request, members, lambda u: r.user_ref(u.idx), cap=50,
                            extra_params={"groupId": g.group_id,
                                          "includeInactiveUsers": qp.get("includeInactiveUsers")}))

    async def users_search(request: Request) -> Response:
        start, mr = paging(request, 50, 1000)
        return js([r.user(u) for u in t.users[start: start + mr]])

    # ---- small reference lists -------------------------------------------------------------------------------
    async def link_types(request: Request) -> Response:
        return js({"issueLinkTypes": r.link_types()})

    async def security_schemes(request: Request) -> Response:
        require_admin()
        return js({"issueSecuritySchemes": [r.security_scheme(s) for s in t.security_schemes]})

    async def issue_types(request: Request) -> Response:
        return js(r.issue_type_list())

    async def priorities_search(request: Request) -> Response:
        vals = [r.priority_full(p, p[0] == "3") for p in PRIORITIES]
        return js(page_bean(request, vals, lambda x: x, cap=100))

    async def priorities_all(request: Request) -> Response:
        return js([r.priority_full(p, p[0] == "3") for p in PRIORITIES])

    async def resolutions_search(request: Request) -> Response:
        return js(page_bean(request, list(RESOLUTIONS), r.resolution_full, cap=100))

    async def resolutions_all(request: Request) -> Response:
        return js([r.resolution(x[0]) for x in RESOLUTIONS])

    async def statuses(request: Request) -> Response:
        return js(r.status_list())

    async def status_categories(request: Request) -> Response:
        return js(r.status_categories())

    def my_permission_values(keys: list[str]) -> dict:
        return {k: r.permission(k, t.admin or not _ADMIN_ONLY[k]) for k in keys}

    async def my_permissions(request: Request) -> Response:
        keys = _multi(request, "permissions")
        if not keys:
            raise HttpError(400, ["The permissions query parameter is required. Use GET /rest/api/2/permissions "
                                  "to list the available permission keys."])
        unknown = [k for k in keys if k not in _ADMIN_ONLY]
        if unknown:
            raise HttpError(404, [f"No permission found with the key {unknown[0]}."])
        return js({"permissions": my_permission_values(list(dict.fromkeys(keys)))})

    async def all_permissions(request: Request) -> Response:
        return js({"permissions": {p[0]: {"key": p[0], "name": p[1], "type": p[2],
                                          "description": f"Ability to {p[1].lower()}."} for p in PERMISSIONS}})

    # ---- schemes, workflows, audit -----------------------------------------------------------------------------
    async def notification_schemes(request: Request) -> Response:
        expand = set(_multi(request, "expand"))
        items = t.notification_schemes if t.admin else []
        return js(page_bean(request, items, lambda s: r.notification_scheme(s, expand), cap=50))

    async def permission_schemes(request: Request) -> Response:
        expand = set(_multi(request, "expand"))
        return js({"permissionSchemes": [r.permission_scheme(s, expand) for s in t.permission_schemes]})

    async def screen_schemes(request: Request) -> Response:
        require_admin()
        return js(page_bean(request, t.screen_schemes, r.screen_scheme, default=25, cap=100))

    async def workflow_schemes(request: Request) -> Response:
        require_admin()
        return js(page_bean(request, t.workflow_schemes, r.workflow_scheme, cap=50))

    async def workflows_search(request: Request) -> Response:
        expand = set(_multi(request, "expand"))
        ws = t.workflows if t.admin else []
        tr = "values.transitions" in expand
        out = page_bean(request, ws, lambda w: r.workflow(w, tr), cap=100)
        start, mr = paging(request, 50, 100)
        out["statuses"] = r.workflow_statuses(ws[start: start + mr])
        return js(out)

    async def audit_records(request: Request) -> Response:
        require_admin()
        qp = request.query_params
        offset = max(0, _int(qp.get("offset"), "offset", 0))
        limit = _int(qp.get("limit"), "limit", 1000)
        limit = min(limit if limit > 0 else 1000, 1000)
        recs = t.audit
        chunk = recs[offset: offset + limit]
        return js({"offset": offset, "limit": limit, "total": len(recs),
                   "records": [r.audit_record(a) for a in chunk]})

    async def priority_schemes(request: Request) -> Response:
        if not t.premium:
            raise HttpError(403, ["Priority schemes are only available on Jira Premium and Enterprise plans."])
        expand = set(_multi(request, "expand"))
        return js(page_bean(request, t.priority_schemes, lambda s: r.priority_scheme(s, expand), cap=50))

    # ---- /__sim -----------------------------------------------------------------------------------------------
    async def sim_advance(request: Request) -> Response:
        try:
            body = await body_json(request)
            result = t.advance(body)
        except (TypeError, ValueError) as e:
            return js({"error": str(e)}, 400)
        return js(result)

    async def sim_faults(request: Request) -> Response:
        mw = sim.faults
        if mw is None:
            return js({"error": "fault injection is not available in this simulator build"}, 501)
        if request.method == "POST":
            from .faults import FaultConfig
            try:
                body = await body_json(request)
                mw.config = FaultConfig.from_dict(body)
            except (ValueError, HttpError) as e:
                return js({"error": str(e) if not isinstance(e, HttpError) else e.messages[0]}, 400)
        return js(mw.config.to_dict())

    async def sim_stats(request: Request) -> Response:
        if sim.faults is not None:
            return js(sim.faults.stats())
        return js({"requests": 0, "by_path": {}})

    # ---- truth: the records each connector request serves ----------------------------------------------------
    def truth_records(name: str, request: Request) -> Iterator[tuple[dict, Any]]:
        live_projects = [p for p in projects_for({"live"})]
        if name == "myself":
            yield {}, r.myself({"groups", "applicationRoles"})
        elif name == "server_info":
            yield {}, server_info()
        elif name == "issue_search":
            fields_all, _ = parse_fields(["*all"], [])
            for n in sim.search('updated >= "1970-01-01 00:00" ORDER BY updated ASC, id ASC'):
                yield {}, r.issue(t.materialize(n), fields_all, set(), histories_cap=EMBED_HISTORIES_SEARCH)
        elif name == "issue_changelog":
            for n in t.live_issue_numbers():
                d = t.materialize(n)
                for h in d.histories:
                    yield {"issue_id": str(d.id)}, r.history(h)
        elif name == "issue_comments":
            for n in t.live_issue_numbers():
                d = t.materialize(n)
                for c in d.comments:
                    yield {"issue_id": str(d.id)}, r.comment(d.id, c)
        elif name == "issue_worklog":
            for _tm, wid in visible_worklog_changes(False):
                d, w = find_worklog(wid)
                if w is not None:
                    yield {"issue_id": str(d.id)}, r.worklog(d.id, w)
        elif name == "worklog_updated":
            for tm, wid in visible_worklog_changes(False):
                yield {}, {"worklogId": wid, "updatedTime": tm, "properties": []}
        elif name == "project_search":
            for p in projects_for({"live", "archived", "deleted"}):
                yield {}, r.project(p, PROJECT_TRUTH_EXPAND)
        elif name == "project_versions":
            for p in live_projects:
                for v in p.versions:
                    yield {"project_id": str(p.id)}, r.version(v)
        elif name == "project_components":
            for p in live_projects:
                for c in p.components:
                    yield {"project_id": str(p.id)}, r.component(c, component_count(c))
        elif name == "project_categories":
            for x in r.categories():
                yield {}, x
        elif name == "project_types":
            for x in r.project_types():
                yield {}, x
        elif name == "boards":
            if t.software:
                for b in t.boards:
                    yield {}, r.board(b)
        elif name == "board_configuration":
            if t.software:
                for b in t.boards:
                    if not b.private:
                        yield {"board_id": b.id}, r.board_configuration(b)
        elif name == "board_issues":
            if t.software:
                fields, _ = parse_fields(AGILE_TRUTH_FIELDS, [], agile=True)
                for b in t.boards:
                    if not b.private:
                        for n in sim.search("", board_issue_universe(b), scope=f"board:{b.id}",
                                            allow_unbounded=True, default_rank=True):
                            yield {"board_id": b.id}, r.issue(t.materialize(n), fields, set())
        elif name == "board_sprints":
            if t.software:
                for b in t.boards:
                    if b.type == "scrum" and not b.private:
                        for s in t.sprints_of_board(b):
                            yield {"board_id": b.id}, r.sprint(s)
        elif name == "sprint_issues":
            if t.software:
                fields, _ = parse_fields(AGILE_TRUTH_FIELDS, [], agile=True)
                for s in live_sprints():
                    for n in sim.search("", sprint_issue_universe(s), scope=f"sprint:{s.id}",
                                        allow_unbounded=True, default_rank=True):
                        yield {"sprint_id": s.id}, r.issue(t.materialize(n), fields, set())
        elif name == "dashboards":
            for d in t.dashboards:
                yield {}, r.dashboard(d)
        elif name == "filters":
            for f in visible_filters():
                yield {}, r.filter_details(f, FILTER_TRUTH_EXPAND)
        elif name == "filter_favourite":
            for f in visible_filters():
                if f.favourite:
                    yield {}, r.filter_bean(f)
        elif name == "filter_my":
            for f in visible_filters():
                if f.owner == 0:
                    yield {}, r.filter_bean(f)
        elif name == "fields":
            for x in r.field_list():
                yield {}, x
        elif name == "field_configurations":
            if t.admin:
                for fc in t.field_configs:
                    yield {}, r.field_configuration(fc)
        elif name == "groups":
            for g in groups_sorted():
                yield {}, r.group(g)
        elif name == "group_members":
            for g in groups_sorted():
                for u in group_members(g, True):
                    yield {"group_id": g.group_id}, r.user_ref(u.idx)
        elif name == "users_search":
            for u in t.users:
                yield {}, r.user(u)
        elif name == "issue_link_types":
            for x in r.link_types():
                yield {}, x
        elif name == "issue_security_schemes":
            if t.admin:
                for s in t.security_schemes:
                    yield {}, r.security_scheme(s)
        elif name == "issue_types":
            for x in r.issue_type_list():
                yield {}, x
        elif name == "priorities":
            for p in PRIORITIES:
                yield {}, r.priority_full(p, p[0] == "3")
        elif name == "resolutions":
            for x in RESOLUTIONS:
                yield {}, r.resolution_full(x)
        elif name == "statuses":
            for x in r.status_list():
                yield {}, x
        elif name == "status_categories":
            for x in r.status_categories():
                yield {}, x
        elif name == "my_permissions":
            keys = _multi(request, "permissions") or _connector_permission_keys()
            for v in my_permission_values([k for k in dict.fromkeys(keys) if k in _ADMIN_ONLY]).values():
                yield {}, v
        elif name == "notification_schemes":
            if t.admin:
                for s in t.notification_schemes:
                    yield {}, r.notification_scheme(s, {"all"})
        elif name == "permission_schemes":
            for s in t.permission_schemes:
                yield {}, r.permission_scheme(s, {"all"})
        elif name == "screen_schemes":
            if t.admin:
                for s in t.screen_schemes:
                    yield {}, r.screen_scheme(s)
        elif name == "workflow_schemes":
            if t.admin:
                for s in t.workflow_schemes:
                    yield {}, r.workflow_scheme(s)
        elif name == "workflows":
            if t.admin:
                for w in t.workflows:
                    yield {}, r.workflow(w, True)
        elif name == "audit_records":
            if t.admin:
                for a in t.audit:
                    yield {}, r.audit_record(a)
        elif name == "priority_schemes":
            if t.premium:
                for s in t.priority_schemes:
                    yield {}, r.priority_scheme(s, {"priorities", "projects"})
        else:
            raise KeyError(name)

    async def sim_truth(request: Request) -> Response:
        name = request.path_params["endpoint"]
        if name not in TRUTH_ENDPOINTS:
            return js({"error": f"unknown endpoint {name!r}", "endpoints": TRUTH_ENDPOINTS}, 404)
        # streamed in chunks, so the truth of a large tenant never sits in memory whole
        records = truth_records(name, request)

        async def gen():
            yield b'{"endpoint":' + dumps(name) + b',"records":['
            buf: list[bytes] = []
            first = True
            for parents, rec in records:
                buf.append((b"" if first else b",") + b'{"parents":' + dumps(parents) + b',"record":'
                           + dumps(rec) + b"}")
                first = False
                if len(buf) >= 200:
                    yield b"".join(buf)
                    buf = []
            buf.append(b"]}")
            yield b"".join(buf)
        return StreamingResponse(gen(), media_type=JSON_TYPE)

    # ---- routes ------------------------------------------------------------------------------------------------
    routes = [
        Route(f"{V2}/myself", myself),
        Route(f"{V2}/serverInfo", server_info_h),
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
        Route(f"{V2}/project/search", project_search),
        Route(f"{V2}/project/type", project_types),
        Route(f"{V2}/project/{{key}}", project_get),
        Route(f"{V2}/project/{{key}}/version", project_versions),
        Route(f"{V2}/project/{{key}}/versions", project_versions_all),
        Route(f"{V2}/project/{{key}}/component", project_components),
        Route(f"{V2}/project/{{key}}/components", project_components_all),
        Route(f"{V2}/projectCategory", project_categories),
        Route(f"{V2}/dashboard", dashboards),
        Route(f"{V2}/filter/search", filter_search),
        Route(f"{V2}/filter/favourite", filter_favourite),
        Route(f"{V2}/filter/my", filter_my),
        Route(f"{V2}/filter/{{id}}", filter_get),
        Route(f"{V2}/field", fields),
        Route(f"{V2}/fieldconfiguration", field_configurations),
        Route(f"{V2}/group/bulk", groups_bulk),
        Route(f"{V2}/group/member", group_member),
        Route(f"{V2}/users/search", users_search),
        Route(f"{V2}/issueLinkType", link_types),
        Route(f"{V2}/issuesecurityschemes", security_schemes),
        Route(f"{V2}/issuetype", issue_types),
        Route(f"{V2}/priority/search", priorities_search),
        Route(f"{V2}/priority", priorities_all),
        Route(f"{V2}/resolution/search", resolutions_search),
        Route(f"{V2}/resolution", resolutions_all),
        Route(f"{V2}/status", statuses),
        Route(f"{V2}/statuscategory", status_categories),
        Route(f"{V2}/mypermissions", my_permissions),
        Route(f"{V2}/permissions", all_permissions),
        Route(f"{V2}/notificationscheme", notification_schemes),
        Route(f"{V2}/permissionscheme", permission_schemes),
        Route(f"{V2}/screenscheme", screen_schemes),
        Route(f"{V2}/workflowscheme", workflow_schemes),
        Route(f"{V2}/workflows/search", workflows_search),
        Route(f"{V2}/auditing/record", audit_records),
        Route(f"{V2}/priorityscheme", priority_schemes),
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
        Route("/__sim/advance", sim_advance, methods=["POST"]),
        Route("/__sim/truth/{endpoint}", sim_truth),
        Route("/__sim/faults", sim_faults, methods=["GET", "POST"]),
        Route("/__sim/stats", sim_stats),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return dead_link()

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, [f"Method {request.method} is not allowed for this resource."])

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HttpError)
        return error_response(exc.status, exc.messages, exc.errors)

    async def dead(request: Request, exc: Exception) -> Response:
        return dead_link()

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: method_not_allowed,
                                                       HttpError: http_error, _DeadLink: dead})
    return JiraEdge(app, sim)


class _DeadLink(Exception):
    pass


TRUTH_ENDPOINTS = [
    "myself", "server_info", "issue_search", "issue_changelog", "issue_comments", "issue_worklog",
    "worklog_updated", "project_search", "project_versions", "project_components", "project_categories",
    "project_types", "boards", "board_configuration", "board_issues", "board_sprints", "sprint_issues",
    "dashboards", "filters", "filter_favourite", "filter_my", "fields", "field_configurations", "groups",
    "group_members", "users_search", "issue_link_types", "issue_security_schemes", "issue_types", "priorities",
    "resolutions", "statuses", "status_categories", "my_permissions", "notification_schemes",
    "permission_schemes", "screen_schemes", "workflow_schemes", "workflows", "audit_records", "priority_schemes",
]
_ADMIN_ONLY = {p[0]: p[3] for p in PERMISSIONS}


def _connector_permission_keys() -> list[str]:
    """The keys the connector asks /mypermissions for (so truth matches its request); all built-ins otherwise."""
    try:
        from jira_assets.endpoints import PERMISSION_KEYS  # the connector's catalogue, if installed
        return list(PERMISSION_KEYS)
    except Exception:
        return [p[0] for p in PERMISSIONS]


class JiraEdge:
    """Outer ASGI layer: authentication, the no-software switch, and a response cache.

    GET responses under /rest are pure functions of (tenant state, path, query): nothing a GET does changes the
    tenant, and every change (advance) bumps `tenant.version`. So successful GET bodies up to 256 KiB are kept per
    (path, query) and version, and answered without routing or rendering -- the difference between ~1,500 and a few
    hundred small requests/s on a 2-core machine.
    """

    CACHE_ENTRIES = 512
    CACHE_BODY_LIMIT = 256 * 1024

    def __init__(self, app: Starlette, sim: Simulator):
        self.app = app
        self.sim = sim
        self.auth = sim.auth_header.encode()
        self.account = sim.t.users[0].account_id.encode()
        self._cache: OrderedDict[tuple, tuple] = OrderedDict()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        if not path.startswith("/rest/"):
            return await self.app(scope, receive, send)
        auth = None
        for k, v in scope["headers"]:
            if k == b"authorization":
                auth = v
                break
        if auth != self.auth:
            return await _plain(send, 401, UNAUTHENTICATED.encode(), [
                (b"x-seraph-loginreason", b"AUTHENTICATED_FAILED"),
                (b"www-authenticate", b'Basic realm="protected-area"')])
        if not self.sim.t.software and path.startswith(("/rest/agile/", "/rest/software/")):
            return await _send_response(send, dead_link())
        version = self.sim.t.version
        key = (path, scope.get("query_string", b"")) if scope["method"] == "GET" else None
        if key is not None:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                self._cache.move_to_end(key)
                await send({"type": "http.response.start", "status": 200, "headers": hit[1]})
                await send({"type": "http.response.body", "body": hit[2]})
                return
        captured: list = []

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + [(b"x-aaccountid", self.account)]
                if key is not None:
                    captured.append(message)
            elif key is not None and captured is not None:
                captured.append(message)
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if (key is not None and len(captured) == 2 and captured[0]["status"] == 200
                and not captured[1].get("more_body") and len(captured[1].get("body", b"")) <= self.CACHE_BODY_LIMIT
                and self.sim.t.version == version):
            self._cache[key] = (version, captured[0]["headers"], captured[1].get("body", b""))
            self._cache.move_to_end(key)
            while len(self._cache) > self.CACHE_ENTRIES:
                self._cache.popitem(last=False)


async def _plain(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain;charset=UTF-8"),
                            (b"content-length", str(len(body)).encode())] + headers})
    await send({"type": "http.response.body", "body": body})


async def _send_response(send, resp: Response) -> None:
    await send({"type": "http.response.start", "status": resp.status_code, "headers": resp.raw_headers})
    await send({"type": "http.response.body", "body": resp.body})


def create_app(seed: int = 1, scale: str = "demo", base_url: str = "http://127.0.0.1", *, admin: bool = True,
               premium: bool = False, software: bool = True):
    """The Jira-facing ASGI app (without fault injection) and its Simulator."""
    tenant = Tenant(seed, scale, base_url, admin=admin, premium=premium, software=software)
    sim = Simulator(tenant)
    return build_app(sim), sim
