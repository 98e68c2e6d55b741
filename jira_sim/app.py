"""The simulator's HTTP surface: Jira Cloud's REST paths on a Starlette app, plus `/__sim/*` control endpoints.

This module holds the Simulator (issue search over the tenant), the edge every request passes (JiraEdge: the
credentials of the site and of the API gateway, the no-software switch, a response cache) and the assembly of the
routes. The handlers live in routes/ by Jira area: issues, projects, agile, users, config, admin (the connector's
endpoints) and the rest of the read surface a Jira client uses, issue_more, project_more, people, roles,
config_more, schemes_more, agile_more; the control plane in control.py, the ground truth in truth.py; http.py and
data.py are what they share. render.py renders the connector's records, render_more.py the read surface's
(derived.py: roles, application roles, transitions, watchers and voters; lookup.py: objects by reference, and the
404 each answers), gateway.py the credentials.

Read surface: every GET path of the platform v2 and Jira Software specs answers. Hand-written routes serve what the
tenant models; any other spec GET path is answered by spec_surface.py from Atlassian's OpenAPI files, read at start
from `<repo>/../shared/jira-openapi` (an empty page or list, else the spec's example conformed to its schema; a
missing object, or one the site has none of, is Jira's 404 ErrorCollection). Without those files the simulator
starts all the same and serves everything hand-written; other paths are the dead-link page, as are paths no spec
has. Every `expand` option the spec lists for issues (search/jql, issue, bulkfetch, agile lists: renderedFields,
names, schema, transitions, operations, editmeta, changelog, versionedRepresentations), projects (description,
lead, issueTypes, url, projectKeys, permissions, insight, issueTypeHierarchy, `*`) and boards (admins,
permissions) takes effect; without one of the new options a response is what it was.

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

Identity and edges: HTTP Basic `demo@example.com` / `demo-token` (a classic API token) on the site URL; anything
else under /rest answers 401 with a plain-text body, a scoped token (`demo-scoped-token`) with
`x-failure-category: FAILURE_CLIENT_AUTH_MISMATCH`. `GET /_edge/tenant_info` (no auth) answers the site's cloudId;
every path is also served in the API gateway form `/ex/jira/{cloudId}/rest/...`, where classic and scoped tokens
(Basic) and OAuth 2.0 Bearer tokens from `POST /oauth/token` (client credentials `demo-client-id` /
`demo-client-secret`, valid `--oauth-token-seconds`, default 3600) work; a wrong cloudId answers the gateway's 404,
bad or expired credentials its 401 `{"code": 401, "message": "Unauthorized"}`. Details in gateway.py. `--non-admin`: Administer-Jira-only endpoints (fieldconfiguration, issuesecurityschemes,
screenscheme, workflowscheme, auditing/record) answer 403; notificationscheme and workflows/search answer an empty
page (they list only what the caller administers, per the spec); permissionscheme is open to every user.
On the read surface, operations the spec reserves to *Administer Jira* (roles, application roles, screens, issue
type schemes, the deprecated workflow lists ...) answer 403 too.
`--premium` off: priorityscheme answers 403. `--no-software`: /rest/agile and /rest/software are the dead-link 404.
Missing credentials are treated like wrong ones (401), a simplification: real Jira serves some reads anonymously.

Timestamps are rendered in the caller's time zone (Australia/Sydney: `+1100` in summer, `+1000` in winter), as Jira
renders them for the calling user; the Agile API's sprint dates too (`+11:00`), while the sprints inside an issue's
Sprint field are UTC (`Z`), as Jira Software serializes them. JQL date literals are read in the same zone.

Control plane (no auth, never faulted or logged):
- `POST /__sim/advance` `{"update_issues", "add_issues", "delete_issues", "add_comments", "add_worklogs",
  "delete_worklogs", "add_projects": counts, "minutes": 5}` -> `{"applied": {...}, "now": "<Jira timestamp>"}`.
  Changes are stamped between the old clock and one minute before the new one (worklog/updated hides the last
  minute); `update_issues` changes that many distinct issues, `delete_issues` deletes issues without live children;
  updates write changelog histories (custom field changes as `fieldtype: "custom"` items), worklog
  additions/deletions write `timespent`/`WorklogId` items, deletions feed worklog/deleted, every touched issue's
  `updated` moves.
- `POST /__sim/fields` `{"rename": {"customfield_10050": "New name", ...}}` -> `{"renamed": {...}}`: an admin renames
  custom fields. `GET /field` and `names` expansions show the new name, changelog items written afterwards carry it
  (older ones keep the name they were written with); no issue's `updated` moves. 400 for an unknown or system field.
- `GET /__sim/truth/<endpoint>` -> `{"endpoint": name, "records": [{"parents": {...}, "record": {...}}, ...]}`
  streamed; `record` is rendered by the same function that serves a client's full read of that endpoint;
  `parents` is `{}` for roots, else `{"issue_id": "10001"}` (string),
  `{"project_id": "10000"}` (string), `{"board_id": 1}` / `{"sprint_id": 5}` (int, as the Agile API types ids),
  `{"group_id": "<uuid>"}`. Forbidden endpoints (non-admin, no Premium, no Software) report no records.
  `my_permissions` reports the keys of `?permissions=` (comma-separated) if given, else every built-in
  permission key. Order: as served.
  Besides the endpoints, the lists inside an issue, over live issues in issue order with parents
  `{"issue_id": "10001"}`: `issue_links` (each `fields.issuelinks[i]`), `issue_fix_versions` (`fixVersions[i]`),
  `issue_affects_versions` (`versions[i]`), `issue_components` (`components[i]`), `issue_labels`
  (`{"label": ...}` per label), `issue_sprints` (each sprint of the Sprint field, customfield_10020).
  And the history tables of docs/derived-tables.md (`issue_field_history`, `issue_status_intervals`, `issue_flow`
  with parents `{"issue_id"}`; `sprint_issue_history`, `sprint_report` with `{}`), computed from the tenant's
  timeline model of each issue, not from the changelog it renders (history_truth.py): epoch-ms timestamps,
  `values`/`value_ids` sorted lists (null for single-value fields). `custom_fields`: each custom field as Jira
  describes it (`field_id`, `field_name`, `schema_*`, `scope_project_id`, `in_jira`), parents `{}`. `?at=<epoch ms>` ends a sprint still active (default: the simulator's clock);
  `?commitment=` / `?done=` set issue_flow's stages as JIRA_FLOW_COMMITMENT / JIRA_FLOW_DONE do.
- `GET|POST /__sim/faults` (FaultConfig of faults.py), `GET /__sim/stats`.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from . import control
from .gateway import (
    BEARER, CLASSIC, GATEWAY_401, GATEWAY_404, SCOPED, TENANT_INFO_PATH, TOKEN_PATH, Gateway, send_json,
)
from .http import EMAIL, TOKEN, UNAUTHENTICATED, DeadLink, HttpError, dead_link, error_response
from .jql import JqlError, UnboundedJqlError, compile_jql
from .render import Renderer
from .routes import (
    admin, agile, agile_more, config, config_more, issue_more, issues, people, project_more, projects, roles,
    schemes_more, users,
)
from .spec_surface import SpecSurface
from .tenant import Tenant, ms_to_dt
from .truth import TRUTH_ENDPOINTS  # noqa: F401  (re-exported: the endpoints /__sim/truth knows)


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
    def __init__(self, tenant: Tenant, oauth_token_seconds: float = 3600.0):
        self.t = tenant
        self.r = Renderer(tenant)
        self.tz = ZoneInfo(tenant.users[0].tz)
        self.auth_header = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        self._search_cache: OrderedDict[tuple, list[int]] = OrderedDict()
        self.faults = None      # the FaultMiddleware, set by __main__ when present
        self.gateway = Gateway(tenant.seed, oauth_token_seconds)
        self.specs = None       # the SpecSurface, set by build_app
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


def build_app(sim: Simulator, spec_dir: Path | None = None) -> "JiraEdge":
    """The Starlette app of every route, behind the JiraEdge; handlers find `sim` on the app's state.

    Hand-written routes first; a GET no route takes is answered from the OpenAPI specs (spec_surface.py) when the
    spec files are there, else (and for every other path) with the dead-link page."""
    # No two areas share a path pattern, so the areas' order is free; within an area the order matters. The read
    # surface's literal paths go before the parameter routes they would fall into (project/recent, issue/picker
    # ...); its own parameter routes go after the existing ones (priority/{id} must not take priority/search).
    existing = [*users.routes(), *config.routes(), *issues.routes(), *projects.routes(), *admin.routes(),
                *agile.routes()]
    surface = [*people.routes(), *roles.routes(), *issue_more.routes(), *project_more.routes(),
               *schemes_more.routes(), *agile_more.routes()]
    early = [*config_more.early_routes(), *schemes_more.early_routes(), *agile_more.early_routes()]
    routes = [*early, *surface, *existing, *config_more.routes(), *control.routes()]
    specs = SpecSurface(spec_dir) if spec_dir is not None else SpecSurface()
    routes = [*specs.shadowed(routes), *routes]

    async def not_found(request: Request, exc: Exception) -> Response:
        return (specs.respond(request) if specs else None) or dead_link()

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, [f"Method {request.method} is not allowed for this resource."])

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HttpError)
        return error_response(exc.status, exc.messages, exc.errors)

    async def dead(request: Request, exc: Exception) -> Response:
        return dead_link()

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: method_not_allowed,
                                                       HttpError: http_error, DeadLink: dead})
    app.state.sim = sim
    sim.specs = specs
    return JiraEdge(app, sim)


class JiraEdge:
    """Outer ASGI layer: the credentials (site URL and API gateway, gateway.py), the no-software switch, and a
    response cache. A gateway request is served by the same handlers on its site path, and its body's REST links are
    rewritten to the gateway form on the way out (cached bodies stay in the site form).

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
        gw = self.sim.gateway
        if path == TENANT_INFO_PATH:
            return await gw.tenant_info(scope, send)
        if path == TOKEN_PATH:
            return await gw.token_endpoint(scope, receive, send)
        auth = None
        for k, v in scope["headers"]:
            if k == b"authorization":
                auth = v
                break
        split = gw.split(path)
        if split is not None:
            cloud_id, site_path = split
            if cloud_id != gw.cloud_id:
                return await send_json(send, 404, GATEWAY_404)
            if gw.classify(auth) not in (CLASSIC, SCOPED, BEARER):
                return await send_json(send, 401, GATEWAY_401)
            # the same handlers answer, on the site path; links in the body are turned back to the gateway form
            inner = dict(scope, path=site_path, raw_path=site_path.encode())
            return await self._site(inner, receive, _LinkRewriter(send, gw, self.sim.t.base))
        if not path.startswith("/rest/"):
            return await self.app(scope, receive, send)
        if auth != self.auth:
            if gw.classify(auth) == SCOPED:
                # scoped tokens work only through the gateway
                return await _plain(send, 401, UNAUTHENTICATED.encode(), [
                    (b"x-failure-category", b"FAILURE_CLIENT_AUTH_MISMATCH"),
                    (b"www-authenticate", b'Basic realm="protected-area"')])
            return await _plain(send, 401, UNAUTHENTICATED.encode(), [
                (b"x-seraph-loginreason", b"AUTHENTICATED_FAILED"),
                (b"www-authenticate", b'Basic realm="protected-area"')])
        return await self._site(scope, receive, send)

    async def _site(self, scope, receive, send):
        """An authenticated request for the site: the no-software switch, the response cache, the handlers."""
        path: str = scope["path"]
        if not path.startswith("/rest/"):
            return await self.app(scope, receive, send)
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


class _LinkRewriter:
    """An ASGI `send` for gateway requests: buffers the response and points its site REST links at the gateway."""

    def __init__(self, send, gw, base: str):
        self.send, self.gw, self.base = send, gw, base
        self.start: dict | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message):
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body":
            return await self.send(message)
        self.chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = self.gw.rewrite_links(b"".join(self.chunks), self.base)
        start = dict(self.start or {"type": "http.response.start", "status": 200, "headers": []})
        start["headers"] = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"] + [
            (b"content-length", str(len(body)).encode())]
        await self.send(start)
        await self.send({"type": "http.response.body", "body": body})


async def _plain(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain;charset=UTF-8"),
                            (b"content-length", str(len(body)).encode())] + headers})
    await send({"type": "http.response.body", "body": body})


async def _send_response(send, resp: Response) -> None:
    await send({"type": "http.response.start", "status": resp.status_code, "headers": resp.raw_headers})
    await send({"type": "http.response.body", "body": resp.body})


def create_app(seed: int = 1, scale: str = "demo", base_url: str = "http://127.0.0.1", *, admin: bool = True,
               premium: bool = False, software: bool = True, oauth_token_seconds: float = 3600.0):
    """The Jira-facing ASGI app (without fault injection) and its Simulator."""
    tenant = Tenant(seed, scale, base_url, admin=admin, premium=premium, software=software)
    sim = Simulator(tenant, oauth_token_seconds)
    return build_app(sim), sim
