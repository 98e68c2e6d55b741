"""`GET /__sim/truth/<endpoint>`: every record the site serves for one endpoint, with its parents, rendered by the
same functions as the served pages and streamed (the truth of a large tenant never sits in memory whole); and the
rows of the history tables, computed from the tenant's timeline model of each issue (history_truth.py)."""

from __future__ import annotations

from typing import Any, Iterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .data import (
    ADMIN_ONLY, board_issue_universe, component_count, find_worklog, group_members, groups_sorted, live_sprints,
    my_permission_values, projects_for, server_info, sprint_issue_universe, visible_filters, visible_worklog_changes,
)
from .http import JSON_TYPE, dumps, js, multi, parse_fields, sim_of
from .render import EMBED_HISTORIES_SEARCH
from .customfields import SPRINT_FIELD
from .history_truth import DERIVED_TRUTH, history_params, history_records
from .render_more import project_view
from .tenant import PERMISSIONS, PRIORITIES, RESOLUTIONS

# the lists inside an issue: truth name -> the field they are read from (each element is one record)
ISSUE_LISTS = {"issue_links": "issuelinks", "issue_fix_versions": "fixVersions",
               "issue_affects_versions": "versions", "issue_components": "components", "issue_labels": "labels",
               "issue_sprints": SPRINT_FIELD}
TRUTH_ENDPOINTS = [
    "myself", "server_info", "issue_search", "issue_changelog", "issue_comments", "issue_worklog",
    "worklog_updated", "project_search", "project_versions", "project_components", "project_categories",
    "project_types", "boards", "board_configuration", "board_issues", "board_sprints", "sprint_issues",
    "dashboards", "filters", "filter_favourite", "filter_my", "fields", "field_configurations", "groups",
    "group_members", "users_search", "issue_link_types", "issue_security_schemes", "issue_types", "priorities",
    "resolutions", "statuses", "status_categories", "my_permissions", "notification_schemes",
    "permission_schemes", "screen_schemes", "workflow_schemes", "workflows", "audit_records", "priority_schemes",
    *ISSUE_LISTS,
    # the tables a client computes from what it read, with no request: the Jira side of the custom field column map
    # (one record per custom field), and the history tables, from the tenant's timeline model (history_truth.py)
    "custom_fields", *DERIVED_TRUTH,
]
# what the truth of these endpoints is rendered with: the fields, resp. expansions, of a full read
AGILE_TRUTH_FIELDS = ["key", "updated", "status", "issuetype", "sprint", "closedSprints", "flagged", "epic"]
PROJECT_TRUTH_EXPAND = {"description", "lead", "issueTypes", "url", "projectKeys", "permissions", "insight"}
FILTER_TRUTH_EXPAND = {"description", "owner", "jql", "viewUrl", "searchUrl", "favourite", "favouritedCount",
                       "sharePermissions", "editPermissions", "isWritable", "subscriptions"}


def truth_records(sim, name: str, request: Request) -> Iterator[tuple[dict, Any]]:
    t, r = sim.t, sim.r
    live_projects = [p for p in projects_for(t, {"live"})]
    if name == "myself":
        yield {}, r.myself({"groups", "applicationRoles"})
    elif name == "server_info":
        yield {}, server_info(t)
    elif name == "issue_search":
        fields_all, _ = parse_fields(t, ["*all"], [])
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
        for _tm, wid in visible_worklog_changes(t, False):
            d, w = find_worklog(t, wid)
            if w is not None:
                yield {"issue_id": str(d.id)}, r.worklog(d.id, w)
    elif name in ISSUE_LISTS:
        # rendered by the same function that fills the issue's `fields`, over live issues in issue order
        field = ISSUE_LISTS[name]
        for n in t.live_issue_numbers():
            d = t.materialize(n)
            try:
                values = r.field_value(d, field)
            except KeyError:
                continue               # the field is not in this issue's context
            for v in values or ():
                yield {"issue_id": str(d.id)}, ({"label": v} if name == "issue_labels" else v)
    elif name == "custom_fields":
        # what Jira says of each custom field (the columns a client stores them in are the client's to name)
        for f in r.field_list():
            if f.get("custom"):
                schema = f.get("schema") or {}
                yield {}, {"field_id": f["id"], "field_name": f["name"], "schema_type": schema.get("type"),
                           "schema_items": schema.get("items"), "schema_custom": schema.get("custom"),
                           "scope_project_id": ((f.get("scope") or {}).get("project") or {}).get("id"),
                           "in_jira": True}
    elif name in DERIVED_TRUTH:
        yield from history_records(t, name, history_params(t, request.query_params))
    elif name == "worklog_updated":
        for tm, wid in visible_worklog_changes(t, False):
            yield {}, {"worklogId": wid, "updatedTime": tm, "properties": []}
    elif name == "project_search":
        for p in projects_for(t, {"live", "archived", "deleted"}):
            yield {}, project_view(r, p, PROJECT_TRUTH_EXPAND)
    elif name == "project_versions":
        for p in live_projects:
            for v in p.versions:
                yield {"project_id": str(p.id)}, r.version(v)
    elif name == "project_components":
        for p in live_projects:
            for c in p.components:
                yield {"project_id": str(p.id)}, r.component(c, component_count(t, c))
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
            fields, _ = parse_fields(t, AGILE_TRUTH_FIELDS, [], agile=True)
            for b in t.boards:
                if not b.private:
                    for n in sim.search("", board_issue_universe(t, b), scope=f"board:{b.id}",
                                        allow_unbounded=True, default_rank=True):
                        yield {"board_id": b.id}, r.issue(t.materialize(n), fields, set())
    elif name == "board_sprints":
        if t.software:
            for b in t.boards:
                if b.sprints_enabled and not b.private:
                    for s in t.sprints_of_board(b):
                        yield {"board_id": b.id}, r.sprint(s)
    elif name == "sprint_issues":
        if t.software:
            fields, _ = parse_fields(t, AGILE_TRUTH_FIELDS, [], agile=True)
            for s in live_sprints(t):
                for n in sim.search("", sprint_issue_universe(t, s), scope=f"sprint:{s.id}",
                                    allow_unbounded=True, default_rank=True):
                    yield {"sprint_id": s.id}, r.issue(t.materialize(n), fields, set())
    elif name == "dashboards":
        for d in t.dashboards:
            yield {}, r.dashboard(d)
    elif name == "filters":
        for f in visible_filters(t):
            yield {}, r.filter_details(f, FILTER_TRUTH_EXPAND)
    elif name == "filter_favourite":
        for f in visible_filters(t):
            if f.favourite:
                yield {}, r.filter_bean(f)
    elif name == "filter_my":
        for f in visible_filters(t):
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
        for g in groups_sorted(t):
            yield {}, r.group(g)
    elif name == "group_members":
        for g in groups_sorted(t):
            for u in group_members(t, g, True):
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
        # the keys the client asks /mypermissions for; all built-in keys without ?permissions=
        keys = multi(request, "permissions") or [p[0] for p in PERMISSIONS]
        for v in my_permission_values(t, r, [k for k in dict.fromkeys(keys) if k in ADMIN_ONLY]).values():
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
    if name in DERIVED_TRUTH:
        try:
            history_params(sim_of(request).t, request.query_params)
        except ValueError as e:
            return js({"error": str(e)}, 400)
    records = truth_records(sim_of(request), name, request)

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
