"""The simulator core over real HTTP: paging styles, JQL as served, error bodies, truth == served for all 41
endpoints, /__sim/advance, determinism and TLS."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import Counter
import sys
from zoneinfo import ZoneInfo

import httpx
import pytest

from jira_assets.endpoints import BY_NAME
from jira_sim.app import TRUTH_ENDPOINTS
from jira_sim.truth import ISSUE_LISTS
from _openapi import load_spec, schema_errors, spec_dir
from _simulator import AUTH, advance, client, self_signed_cert, sim, start_simulator, truth  # noqa: F401

V2 = "/rest/api/2"
AG = "/rest/agile/1.0"
SW = "/rest/software/1.0"
AGILE_FIELDS = "key,updated,status,issuetype,sprint,closedSprints,flagged,epic"
FULL_LOAD = 'updated >= "1970-01-01 00:00" ORDER BY updated ASC, id ASC'
SYDNEY = ZoneInfo("Australia/Sydney")
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."


@pytest.fixture(scope="module")
def premium():
    """A Premium site (priority schemes on); the same seed as `sim`."""
    with start_simulator("--seed", "1", "--premium") as running:
        yield running


def parse_ts(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")


# ---- a minimal connector: the requests of the contract table, with each paging style -------------------------

def pages_bean(c, path, params=None, key="values"):
    start, out = 0, []
    while True:
        body = c.get(path, params={**(params or {}), "startAt": start, "maxResults": 1000}).raise_for_status().json()
        vals = body[key]
        out.extend(vals)
        if body.get("isLast", True) is True and "total" not in body or not vals:
            break
        if body.get("isLast") or start + len(vals) >= body.get("total", 10**9):
            break
        start += len(vals)
    return out


def pages_cursor(c, method, path, payload, key):
    out, token, seen = [], None, set()
    while True:
        if method == "GET":
            body = c.get(path, params={**payload, **({"nextPageToken": token} if token else {})})
        else:
            body = c.post(path, json={**payload, **({"nextPageToken": token} if token else {})})
        body = body.raise_for_status().json()
        out.extend(body[key])
        token = body.get("nextPageToken")
        if not token:
            return out
        assert token not in seen
        seen.add(token)


def connector_fetch(c, name):  # noqa: C901 - one branch per endpoint, like the contract table
    def roots(items):
        return [({}, x) for x in items]

    if name == "myself":
        return roots([c.get(f"{V2}/myself", params={"expand": "groups,applicationRoles"}).json()])
    if name == "server_info":
        return roots([c.get(f"{V2}/serverInfo").json()])
    if name == "issue_search":
        return roots(search_all(c))
    if name in ISSUE_LISTS:
        # the lists inside each issue, as the full search serves them
        field = ISSUE_LISTS[name]
        return [({"issue_id": i["id"]}, {"label": v} if name == "issue_labels" else v)
                for i in search_all(c) for v in (i["fields"].get(field) or [])]
    if name == "issue_changelog":
        ids = [i["id"] for i in search_all(c)]
        out = []
        for k in range(0, len(ids), 1000):
            for grp in pages_cursor(c, "POST", f"{V2}/changelog/bulkfetch",
                                    {"issueIdsOrKeys": ids[k:k + 1000], "maxResults": 10000}, "issueChangeLogs"):
                out.extend(({"issue_id": grp["issueId"]}, h) for h in grp["changeHistories"])
        return out
    if name == "issue_comments":
        out = []
        for issue in search_all(c):
            emb = issue["fields"]["comment"]
            comments = emb["comments"]
            if emb["total"] > len(comments):
                comments = pages_bean_comments(c, issue["id"])
            out.extend(({"issue_id": issue["id"]}, x) for x in comments)
        return out
    if name in ("issue_worklog", "worklog_updated"):
        vals, url = [], f"{V2}/worklog/updated?since=0"
        while True:
            body = c.get(url).json()
            vals.extend(body["values"])
            if body["lastPage"]:
                break
            url = body["nextPage"]
        if name == "worklog_updated":
            return roots(vals)
        ids = [v["worklogId"] for v in vals]
        out = []
        for k in range(0, len(ids), 1000):
            out.extend(({"issue_id": w["issueId"]}, w) for w in
                       c.post(f"{V2}/worklog/list", json={"ids": ids[k:k + 1000]}).json())
        return out
    if name == "project_search":
        return roots(pages_bean(c, f"{V2}/project/search", {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "status": "live,archived,deleted"}))
    if name in ("project_versions", "project_components"):
        leaf = "version" if name == "project_versions" else "component"
        out = []
        for p in pages_bean(c, f"{V2}/project/search"):
            out.extend(({"project_id": p["id"]}, v) for v in pages_bean(c, f"{V2}/project/{p['id']}/{leaf}"))
        return out
    plain = {"project_categories": "projectCategory", "project_types": "project/type", "filter_favourite":
             "filter/favourite", "filter_my": "filter/my", "fields": "field", "issue_types": "issuetype",
             "statuses": "status", "status_categories": "statuscategory"}
    if name in plain:
        return roots(c.get(f"{V2}/{plain[name]}").json())
    if name == "boards":
        return roots(pages_bean(c, f"{AG}/board", {"includePrivate": "true"}))
    boards = [b for b in pages_bean(c, f"{AG}/board", {"includePrivate": "true"}) if not b.get("isPrivate")]
    if name == "board_configuration":
        return [({"board_id": b["id"]}, c.get(f"{AG}/board/{b['id']}/configuration").json()) for b in boards]
    if name == "board_issues":
        return [({"board_id": b["id"]}, i) for b in boards for i in pages_cursor(
            c, "GET", f"{SW}/board/{b['id']}/issue", {"fields": AGILE_FIELDS, "maxResults": 5000}, "issues")]
    if name in ("board_sprints", "sprint_issues"):
        # scrum boards, and the simple boards of team-managed projects that have sprints on (the others answer 400)
        sprints = [({"board_id": b["id"]}, s) for b in boards if b["type"] in ("scrum", "simple")
                   and c.get(f"{AG}/board/{b['id']}/sprint", params={"maxResults": 1}).status_code == 200
                   for s in pages_bean(c, f"{AG}/board/{b['id']}/sprint", {"state": "future,active,closed"})]
        if name == "board_sprints":
            return sprints
        ids = list(dict.fromkeys(s["id"] for _, s in sprints))
        return [({"sprint_id": s}, i) for s in ids for i in pages_cursor(
            c, "GET", f"{SW}/sprint/{s}/issue", {"fields": AGILE_FIELDS, "maxResults": 5000}, "issues")]
    if name == "dashboards":
        return roots(pages_bean(c, f"{V2}/dashboard", key="dashboards"))
    if name == "filters":
        return roots(pages_bean(c, f"{V2}/filter/search", {
            "expand": "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,"
                      "editPermissions,isWritable,subscriptions"}))
    paged = {"field_configurations": "fieldconfiguration", "groups": "group/bulk", "priorities": "priority/search",
             "resolutions": "resolution/search", "screen_schemes": "screenscheme",
             "workflow_schemes": "workflowscheme"}
    if name in paged:
        return roots(pages_bean(c, f"{V2}/{paged[name]}"))
    if name == "group_members":
        return [({"group_id": g["groupId"]}, u) for g in pages_bean(c, f"{V2}/group/bulk")
                for u in pages_bean(c, f"{V2}/group/member", {"groupId": g["groupId"],
                                                              "includeInactiveUsers": "true"})]
    if name == "users_search":
        out, start = [], 0
        while True:
            page = c.get(f"{V2}/users/search", params={"startAt": start, "maxResults": 1000}).json()
            out.extend(page)
            if len(page) < 1000:
                return roots(out)
            start += len(page)
    if name == "issue_link_types":
        return roots(c.get(f"{V2}/issueLinkType").json()["issueLinkTypes"])
    if name == "issue_security_schemes":
        return roots(c.get(f"{V2}/issuesecurityschemes").json()["issueSecuritySchemes"])
    if name == "my_permissions":
        keys = "ADMINISTER,BROWSE_PROJECTS,EDIT_ISSUES,WORK_ON_ISSUES"
        return roots(c.get(f"{V2}/mypermissions", params={"permissions": keys}).json()["permissions"].values())
    if name == "notification_schemes":
        return roots(pages_bean(c, f"{V2}/notificationscheme", {"expand": "all"}))
    if name == "permission_schemes":
        return roots(c.get(f"{V2}/permissionscheme", params={"expand": "all"}).json()["permissionSchemes"])
    if name == "workflows":
        return roots(pages_bean(c, f"{V2}/workflows/search", {"expand": "values.transitions"}))
    if name == "audit_records":
        out, offset = [], 0
        while True:
            body = c.get(f"{V2}/auditing/record", params={"offset": offset, "limit": 1000}).json()
            out.extend(body["records"])
            offset += len(body["records"])
            if not body["records"] or offset >= body["total"]:
                return roots(out)
    if name == "priority_schemes":
        return roots(pages_bean(c, f"{V2}/priorityscheme", {"expand": "priorities,projects"}))
    raise AssertionError(f"no request for {name}")


def search_all(c):
    return pages_cursor(c, "POST", f"{V2}/search/jql", {"jql": FULL_LOAD, "fields": ["*all"], "maxResults": 5000},
                        "issues")


def pages_bean_comments(c, issue_id):
    out, start = [], 0
    while True:
        body = c.get(f"{V2}/issue/{issue_id}/comment", params={"orderBy": "created", "startAt": start,
                                                               "maxResults": 5000}).json()
        out.extend(body["comments"])
        start += len(body["comments"])
        if not body["comments"] or start >= body["total"]:
            return out


ENDPOINTS = list(BY_NAME)  # the catalogue: every endpoint the connector knows


def canon(pairs):
    return sorted(json.dumps([p, r], sort_keys=True) for p, r in pairs)


def test_the_simulator_serves_truth_for_every_catalogued_endpoint():
    # plus the lists inside an issue (links, versions, components, labels, sprints)
    assert set(TRUTH_ENDPOINTS) == set(ENDPOINTS) | set(ISSUE_LISTS)


# The tables computed from the lake are served by no request (e2e/test_e2e_history.py compares the history tables'
# truth with what the connector computes).
@pytest.mark.parametrize("name", [n for n in TRUTH_ENDPOINTS if n in ISSUE_LISTS or not BY_NAME[n].sync.derived])
def test_truth_equals_what_the_connector_requests_serve(premium, name):
    url, _ = premium
    with client(url) as c:
        served = connector_fetch(c, name)
    params = {"permissions": "ADMINISTER,BROWSE_PROJECTS,EDIT_ISSUES,WORK_ON_ISSUES"} if name == "my_permissions" \
        else {}
    told = [(x["parents"], x["record"]) for x in truth(url, name, **params)]
    assert served, f"{name} served nothing"
    assert len(served) == len(told)
    assert canon(served) == canon(told)


# ---- paging styles -------------------------------------------------------------------------------------------

def test_page_bean_caps_and_links(sim):
    url, _ = sim
    with client(url) as c:
        body = c.get(f"{V2}/project/search", params={"maxResults": 1000, "status": "live,archived,deleted"}).json()
        assert body["maxResults"] == 100 and body["isLast"] is True and body["total"] == len(body["values"]) == 7
        seen, page = [], c.get(f"{V2}/project/search", params={"maxResults": 2}).json()
        while True:
            seen.extend(p["key"] for p in page["values"])
            if page["isLast"]:
                assert "nextPage" not in page
                break
            page = c.get(page["nextPage"]).json()
        assert seen == sorted(seen) and len(seen) == 5
        assert c.get(f"{V2}/group/bulk", params={"maxResults": 500}).json()["maxResults"] == 50
        assert c.get(f"{V2}/screenscheme").json()["maxResults"] == 25
        dash = c.get(f"{V2}/dashboard").json()
        assert dash["maxResults"] == 20 and dash["total"] == 24 and "next" in dash and "prev" not in dash
        dash2 = c.get(dash["next"]).json()
        assert "prev" in dash2 and "next" not in dash2 and len(dash2["dashboards"]) == 4


def test_search_jql_cursor_paging_and_caps(sim):
    url, _ = sim
    with client(url) as c:
        count = c.post(f"{V2}/search/approximate-count", json={"jql": FULL_LOAD}).json()["count"]
        assert count == 300
        ids, token, pages = [], None, 0
        while True:
            params = {"jql": FULL_LOAD, "maxResults": 50, **({"nextPageToken": token} if token else {})}
            body = c.get(f"{V2}/search/jql", params=params).json()
            assert "total" not in body and "startAt" not in body
            pages += 1
            ids.extend(i["id"] for i in body["issues"])
            assert set(body["issues"][0]) == {"expand", "id", "self", "key"}  # default fields = id only
            if body["isLast"]:
                assert "nextPageToken" not in body
                break
            token = body["nextPageToken"]
        assert pages == 6 and len(ids) == len(set(ids)) == 300
        sizes = {}
        for fields, expect in ((["id"], 300), (["key", "updated", "status"], 300), (["*all"], 100),
                               (["*navigable"], 100), ([f"customfield_{n}" for n in range(10050, 10061)], 100)):
            body = c.post(f"{V2}/search/jql", json={"jql": FULL_LOAD, "fields": fields, "maxResults": 5000}).json()
            sizes[fields[0]] = len(body["issues"])
            assert len(body["issues"]) == expect, fields
        body = c.post(f"{V2}/search/jql", json={"jql": FULL_LOAD, "fields": ["key"], "expand": "changelog",
                                                 "maxResults": 5000}).json()
        assert len(body["issues"]) == 100 and "changelog" in body["issues"][0]
        bad = c.post(f"{V2}/search/jql", json={"jql": FULL_LOAD, "maxResults": 5001})
        assert bad.status_code == 400
        assert bad.json()["errorMessages"] == ["The max results parameter has to be between 1 and 5,000."]


def test_invalid_next_page_token(sim):
    url, _ = sim
    with client(url) as c:
        for token in ("garbage!!", "CAEaAggD"):
            r = c.post(f"{V2}/search/jql", json={"jql": FULL_LOAD, "nextPageToken": token})
            assert r.status_code == 400
            assert r.json() == {"errorMessages": ["Invalid format of nextPageToken"], "errors": {}}


def test_embedded_comments_truncate_at_20(sim):
    url, _ = sim
    with client(url) as c:
        issues = search_all(c)
        big = [i for i in issues if i["fields"]["comment"]["total"] > 20]
        assert big, "the demo tenant has issues with more than 20 comments"
        emb = big[0]["fields"]["comment"]
        assert len(emb["comments"]) == 20
        full = pages_bean_comments(c, big[0]["id"])
        assert len(full) == emb["total"] and full[:20] == emb["comments"]
        page = c.get(f"{V2}/issue/{big[0]['id']}/comment", params={"maxResults": 5000}).json()
        assert page["maxResults"] == 100 and "isLast" not in page
        assert any(len(i["fields"].get("customfield_10020") or []) for i in issues)
        hist = c.post(f"{V2}/changelog/bulkfetch", json={"issueIdsOrKeys": [i["id"] for i in issues]}).json()
        assert "nextPageToken" in hist       # > 1000 histories in the demo tenant: the default page is 1000
        per_issue = Counter(x["parents"]["issue_id"] for x in truth(url, "issue_changelog"))
        assert max(per_issue.values()) >= 100       # heavy tail: some issues have hundreds of histories


def test_agile_paging_styles(sim):
    url, _ = sim
    with client(url) as c:
        boards = c.get(f"{AG}/board", params={"includePrivate": "true", "maxResults": 1000}).json()
        assert boards["maxResults"] == 50 and boards["total"] == len(boards["values"]) and boards["isLast"]
        private = [b for b in boards["values"] if b.get("isPrivate")]
        assert private and all("name" not in b for b in private)
        sprints = c.get(f"{AG}/board/1/sprint", params={"maxResults": 2}).json()
        assert sprints["maxResults"] == 2 and "total" not in sprints and sprints["isLast"] is False
        states = [s["state"] for s in c.get(f"{AG}/board/1/sprint").json()["values"]]
        assert states == sorted(states, key=["closed", "active", "future"].index)
        assert {"closed", "active", "future"} <= set(states)
        old = c.get(f"{AG}/board/1/issue", params={"maxResults": 3}).json()
        assert old["maxResults"] == 3 and old["total"] > 3 and len(old["issues"]) == 3 and old["startAt"] == 0
        new = c.get(f"{SW}/board/1/issue", params={"fields": AGILE_FIELDS, "maxResults": 7}).json()
        assert len(new["issues"]) == 7 and new["isLast"] is False and "total" not in new
        nxt = c.get(f"{SW}/board/1/issue", params={"fields": AGILE_FIELDS, "maxResults": 7,
                                                  "nextPageToken": new["nextPageToken"]}).json()
        assert not {i["id"] for i in nxt["issues"]} & {i["id"] for i in new["issues"]}
        assert set(new["issues"][0]["fields"]) <= set(AGILE_FIELDS.split(","))
        # a sprint shared by two boards shows on both
        b1 = {s["id"] for s in c.get(f"{AG}/board/1/sprint").json()["values"]}
        b2 = {s["id"] for s in c.get(f"{AG}/board/2/sprint").json()["values"]}
        assert b1 & b2


def test_users_search_is_a_plain_array_until_a_short_page(sim):
    url, _ = sim
    with client(url) as c:
        got, start = [], 0
        while True:
            page = c.get(f"{V2}/users/search", params={"startAt": start, "maxResults": 15}).json()
            assert isinstance(page, list)
            got.extend(page)
            if len(page) < 15:
                break
            start += 15
        assert len(got) == 60 and len({u["accountId"] for u in got}) == 60
        kinds = {(u["accountType"], u["active"]) for u in got}
        assert {("atlassian", True), ("atlassian", False), ("app", True)} <= kinds


def test_worklog_updated_since_until(sim):
    url, _ = sim
    with client(url) as c:
        first = c.get(f"{V2}/worklog/updated", params={"since": 0}).json()
        vals = first["values"]
        assert first["lastPage"] is True and first["until"] == vals[-1]["updatedTime"]
        times = [v["updatedTime"] for v in vals]
        assert times == sorted(times)
        mid = times[len(times) // 2]
        later = c.get(f"{V2}/worklog/updated", params={"since": mid}).json()["values"]
        assert [v["worklogId"] for v in later] == [v["worklogId"] for v in vals if v["updatedTime"] > mid]
        listed = c.post(f"{V2}/worklog/list", json={"ids": [v["worklogId"] for v in vals[:5]]}).json()
        assert [int(w["id"]) for w in listed] == [v["worklogId"] for v in vals[:5]]
        one = listed[0]
        per_issue = c.get(f"{V2}/issue/{one['issueId']}/worklog").json()
        assert one in per_issue["worklogs"] and per_issue["maxResults"] == 5000
        assert c.post(f"{V2}/worklog/list", json={"ids": list(range(1001))}).status_code == 400


def test_audit_offset_limit(sim):
    url, _ = sim
    with client(url) as c:
        body = c.get(f"{V2}/auditing/record", params={"offset": 140, "limit": 5000}).json()
        assert body["limit"] == 1000 and body["offset"] == 140 and body["total"] == 150
        assert len(body["records"]) == 10


# ---- JQL as served -------------------------------------------------------------------------------------------

def jql(c, text, fields=("key",), **extra):
    return c.post(f"{V2}/search/jql", json={"jql": text, "fields": list(fields), "maxResults": 5000, **extra})


def test_jql_edges_as_served(sim):
    url, _ = sim
    with client(url) as c:
        r = jql(c, "ORDER BY key DESC")
        assert r.status_code == 400 and r.json() == {"errorMessages": [UNBOUNDED], "errors": {}}
        assert c.post(f"{V2}/search/approximate-count", json={"jql": ""}).json()["errorMessages"] == [UNBOUNDED]
        r = jql(c, "project = PLAT AND (")
        assert r.status_code == 400 and r.json()["errorMessages"][0].startswith("Error in the JQL Query")
        assert r.json()["errors"] == {}
        r = jql(c, "project = NOPE")
        assert r.status_code == 400
        assert r.json()["errorMessages"] == ["The value 'NOPE' does not exist for the field 'project'."]
        plat = jql(c, "project = PLAT").json()["issues"]
        assert plat and all(i["key"].startswith("PLAT-") for i in plat)
        # without ORDER BY: key descending
        nums = [int(i["key"].split("-")[1]) for i in plat]
        assert nums == sorted(nums, reverse=True)
        both = jql(c, "project in (PLAT, MOB) ORDER BY id ASC").json()["issues"]
        assert [int(i["id"]) for i in both] == sorted(int(i["id"]) for i in both)
        assert {i["key"].split("-")[0] for i in both} == {"PLAT", "MOB"}
        ids = [i["id"] for i in plat[:3]]
        got = jql(c, f"id in ({', '.join(ids)}) OR key = {plat[5]['key']}").json()["issues"]
        assert {i["id"] for i in got} == set(ids) | {plat[5]["id"]}
        by_key = jql(c, "project = PLAT ORDER BY key ASC").json()["issues"]
        assert [int(i["key"].split("-")[1]) for i in by_key] == sorted(nums)


def test_jql_dates_are_read_in_the_callers_time_zone_at_minute_precision(sim):
    url, _ = sim
    with client(url) as c:
        me = c.get(f"{V2}/myself").json()
        assert me["timeZone"] == "Australia/Sydney"
        issue = jql(c, "project = MOB", fields=("updated", "created")).json()["issues"][0]
        key, upd = issue["key"], parse_ts(issue["fields"]["updated"])
        local = upd.astimezone(SYDNEY)
        at = local.strftime("%Y-%m-%d %H:%M")
        after = (local + dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
        assert [i["key"] for i in jql(c, f'key = {key} AND updated >= "{at}"').json()["issues"]] == [key]
        assert jql(c, f'key = {key} AND updated >= "{after}"').json()["issues"] == []
        # a UTC wall time one minute after the update: read as UTC it would exclude the issue; Jira reads it as
        # Sydney time, hours earlier, so the issue matches
        utc_wall = (upd + dt.timedelta(minutes=1)).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
        assert len(jql(c, f'key = {key} AND updated >= "{utc_wall}"').json()["issues"]) == 1
        ms = int(upd.timestamp() * 1000)
        assert len(jql(c, f"key = {key} AND updated >= {ms - 60_000}").json()["issues"]) == 1
        created = parse_ts(issue["fields"]["created"]).astimezone(SYDNEY)
        day = created.strftime("%Y/%m/%d")
        hits = jql(c, f'project = MOB AND created >= "{day}" AND created < "{day} 23:59"').json()["issues"]
        assert key in {i["key"] for i in hits}


# ---- edges: 401 / 403 / 404 / 400 / 410 ---------------------------------------------------------------------

def test_auth_failures_are_plain_text_401(sim):
    url, _ = sim
    for auth in (("demo@example.com", "wrong"), ("someone@example.com", "demo-token"), None):
        r = httpx.get(f"{url}{V2}/myself", auth=auth)
        assert r.status_code == 401
        assert r.text == "Client must be authenticated to access this resource."
        assert r.headers["x-seraph-loginreason"] == "AUTHENTICATED_FAILED"
        assert r.headers["content-type"].startswith("text/plain")
    assert httpx.get(f"{url}/__sim/stats").status_code == 200   # the control plane needs no auth


def test_edge_statuses(sim):
    url, _ = sim
    with client(url) as c:
        boards = c.get(f"{AG}/board", params={"includePrivate": "true"}).json()["values"]
        kanban = next(b for b in boards if b.get("type") == "kanban")
        r = c.get(f"{AG}/board/{kanban['id']}/sprint")
        assert r.status_code == 400 and r.json()["errorMessages"] == ["The board does not support sprints"]
        private = next(b for b in boards if b.get("isPrivate"))
        for sub in ("configuration", "sprint", "issue"):
            r = c.get(f"{AG}/board/{private['id']}/{sub}")
            assert r.status_code == 404 and r.json()["errorMessages"], sub
        r = c.get(f"{SW}/board/{private['id']}/issue")
        assert r.status_code == 404
        for path in (f"{V2}/nothing/here", "/secure/Nope.jspa", f"{V2}/issue/10001/nope"):
            r = c.get(path)
            assert r.status_code == 404 and "Oops, you&#39;ve found a dead link" in r.text
            assert r.headers["content-type"].startswith("text/html")
        for method in ("GET", "POST"):
            r = c.request(method, f"{V2}/search", params={"jql": "project = PLAT"})
            assert r.status_code == 410
            assert r.json()["errorMessages"][0].startswith("The requested API has been removed. Please migrate to "
                                                           "the /rest/api/3/search/jql API.")
        r = c.get(f"{V2}/priorityscheme")
        assert r.status_code == 403 and r.json()["errorMessages"]
        r = c.get(f"{V2}/issue/99999999/comment")
        assert r.status_code == 404
        assert r.json()["errorMessages"] == ["Issue does not exist or you do not have permission to see it."]
        # a business project has time tracking off: per-issue worklogs are a 404
        projects = c.get(f"{V2}/project/search").json()["values"]
        business = next(p for p in projects if p["projectTypeKey"] == "business")
        issue = jql(c, f"project = {business['key']}").json()["issues"][0]
        r = c.get(f"{V2}/issue/{issue['id']}/worklog")
        assert r.status_code == 404 and r.json()["errorMessages"]
        assert c.get(f"{V2}/mypermissions").status_code == 400


def test_non_admin_no_software_and_premium_flags():
    with start_simulator("--non-admin", "--no-software", "--premium") as (url, _):
        with client(url) as c:
            for path in ("fieldconfiguration", "issuesecurityschemes", "screenscheme", "workflowscheme",
                         "auditing/record"):
                r = c.get(f"{V2}/{path}")
                assert r.status_code == 403, path
                assert r.json() == {"errorMessages": ["You are not authorized to perform this action. "
                                                      "Administrator privileges are required."], "errors": {}}
            assert c.get(f"{V2}/notificationscheme").json()["values"] == []
            assert c.get(f"{V2}/workflows/search").json()["values"] == []
            assert c.get(f"{V2}/priorityscheme").status_code == 200
            perms = c.get(f"{V2}/mypermissions", params={"permissions": "ADMINISTER,BROWSE_PROJECTS"}).json()
            assert perms["permissions"]["ADMINISTER"]["havePermission"] is False
            assert perms["permissions"]["BROWSE_PROJECTS"]["havePermission"] is True
            for path in (f"{AG}/board", f"{SW}/board/1/issue", f"{AG}/sprint/1"):
                r = c.get(path)
                assert r.status_code == 404 and "dead link" in r.text
        assert truth(url, "field_configurations") == [] and truth(url, "boards") == []


# ---- advance -----------------------------------------------------------------------------------------------

def test_advance_applies_changes_and_moves_the_clock():
    with start_simulator("--seed", "3") as (url, _):
        with client(url) as c:
            t0 = c.get(f"{V2}/serverInfo").json()["serverTime"]
            assert c.get(f"{V2}/serverInfo").json()["serverTime"] == t0       # frozen between advances
            before = {x["record"]["id"]: x["record"] for x in truth(url, "issue_search")}
            deleted0 = c.get(f"{V2}/worklog/deleted", params={"since": 0}).json()["values"]
            hist0 = {x["record"]["id"] for x in truth(url, "issue_changelog")}
            res = advance(url, update_issues=6, add_issues=4, delete_issues=2, add_comments=5, add_worklogs=3,
                          delete_worklogs=2, add_projects=1, minutes=30)
            assert res["applied"] == {"update_issues": 6, "add_issues": 4, "delete_issues": 2, "add_comments": 5,
                                      "add_worklogs": 3, "delete_worklogs": 2, "add_projects": 1}
            now = parse_ts(res["now"])
            assert now - parse_ts(t0) == dt.timedelta(minutes=30)
            assert c.get(f"{V2}/serverInfo").json()["serverTime"] == res["now"]
            after = {x["record"]["id"]: x["record"] for x in truth(url, "issue_search")}
            assert len(after) == len(before) + 4 - 2
            changed = [k for k in after if k not in before or after[k]["fields"]["updated"]
                       != before[k]["fields"]["updated"]]
            assert 4 <= len(changed) <= 4 + 6 + 5 + 3 + 2
            for k in changed:
                assert parse_ts(t0) < parse_ts(after[k]["fields"]["updated"]) <= now
            # an incremental query in the caller's time zone finds exactly the changed issues
            since = parse_ts(t0).astimezone(SYDNEY).strftime("%Y-%m-%d %H:%M")
            inc = jql(c, f'updated >= "{since}" ORDER BY updated ASC', fields=("updated",)).json()["issues"]
            assert {i["id"] for i in inc} == set(changed)
            new_hist = [x for x in truth(url, "issue_changelog") if x["record"]["id"] not in hist0]
            assert len(new_hist) == 6 + 3 + 2     # updates, worklog added, worklog deleted
            fields_changed = {it["field"] for x in new_hist for it in x["record"]["items"]}
            assert "WorklogId" in fields_changed
            deleted1 = c.get(f"{V2}/worklog/deleted", params={"since": 0}).json()["values"]
            assert len(deleted1) >= len(deleted0) + 2
            gone = {v["worklogId"] for v in deleted1} - {v["worklogId"] for v in deleted0}
            live = {v["worklogId"] for v in c.get(f"{V2}/worklog/updated", params={"since": 0}).json()["values"]}
            assert not gone & live
            keys = [p["key"] for p in c.get(f"{V2}/project/search").json()["values"]]
            assert len(keys) == 6
            for issue_id in set(before) - set(after):
                assert c.get(f"{V2}/issue/{issue_id}/comment").status_code == 404


# ---- determinism and TLS -----------------------------------------------------------------------------------

def test_same_seed_same_tenant_other_seed_other_tenant(sim):
    url, _ = sim
    names = ("issue_search", "issue_changelog", "users_search", "boards", "sprint_issues", "filters")
    with start_simulator("--seed", "1") as (url2, _):
        for name in names:
            a = [(x["parents"], x["record"]) for x in truth(url, name)]
            b = [(x["parents"], x["record"]) for x in truth(url2, name)]
            # self links carry the port; everything else is identical
            assert json.dumps(a).replace(url, "URL") == json.dumps(b).replace(url2, "URL"), name
    with start_simulator("--seed", "2") as (url3, _):
        assert [x["record"]["fields"]["summary"] for x in truth(url3, "issue_search")] != \
               [x["record"]["fields"]["summary"] for x in truth(url, "issue_search")]


def test_tls(tmp_path):
    certfile, keyfile = self_signed_cert(tmp_path)
    with start_simulator("--certfile", certfile, "--keyfile", keyfile) as (url, _):
        assert url.startswith("https://127.0.0.1:")
        r = httpx.get(f"{url}{V2}/serverInfo", auth=AUTH, verify=str(certfile))
        assert r.status_code == 200 and r.json()["baseUrl"] == url
        with pytest.raises(httpx.HTTPError):
            httpx.get(url.replace("https://", "http://") + f"{V2}/serverInfo", auth=AUTH, timeout=5)


def test_cli_rejects_half_a_tls_pair(tmp_path):
    r = subprocess.run([sys.executable, "-m", "jira_sim", "--port", "0", "--certfile", "x.pem"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--keyfile" in r.stderr


# ---- schema conformance of what the connector requests ----------------------------------------------------

# the spec's own examples show these properties its strict schemas forbid; real Jira sends them (render.py)
KNOWN_SCHEMA_GAPS = {"/rest/api/2/serverInfo": ("defaultLocale",), "/rest/api/2/resolution/search": ("isDefault",),
                     "/rest/api/2/auditing/record": ("authorAccountId",),
                     "/rest/api/2/fieldconfiguration": ("'id'",),
                     # the board's location as the spec's example and real sites show it, not {type, projectKeyOrId}
                     "/rest/agile/1.0/board/{boardId}/configuration": ("location: Additional properties",),
                     # expand=isWritable: the FilterDetails schema has no such property
                     "/rest/api/2/filter/search": ("'isWritable' was unexpected",),
                     # the spec lists the projectKeys expand option but gives Project no such property
                     "/rest/api/2/project/search": ("projectKeys",),
                     "/rest/api/2/project/{projectIdOrKey}": ("projectKeys",),
                     "/rest/api/2/project/recent": ("projectKeys",),
                     # Jira answers the remote links as an array (the spec's own example); the schema says one object
                     "/rest/api/2/issue/{issueIdOrKey}/remotelink": ("is not of type 'object'",),
                     # no workspace is linked to this site; the schemas demand at least one id
                     "/rest/security/1.0/linkedWorkspaces": ("should be non-empty",),
                     "/rest/operations/1.0/linkedWorkspaces": ("should be non-empty",)}


@pytest.mark.skipif(spec_dir() is None, reason="../shared/jira-openapi (the official specs) is not present")
def test_contract_requests_match_the_official_schemas(premium):
    url, _ = premium
    P, S = "platform-v2.json", "software.json"
    checks = [
        (P, f"{V2}/myself", "GET", f"{V2}/myself?expand=groups,applicationRoles", None),
        (P, f"{V2}/serverInfo", "GET", f"{V2}/serverInfo", None),
        (P, f"{V2}/search/jql", "POST", f"{V2}/search/jql", {"jql": FULL_LOAD, "fields": ["*all"],
                                                               "maxResults": 5000}),
        (P, f"{V2}/search/jql", "GET", f"{V2}/search/jql?jql=project=PLAT&fields=*all&expand=changelog,names,schema",
         None),
        (P, f"{V2}/changelog/bulkfetch", "POST", f"{V2}/changelog/bulkfetch",
         {"issueIdsOrKeys": [str(10000 + i) for i in range(1, 301)], "maxResults": 10000}),
        (P, f"{V2}/issue/bulkfetch", "POST", f"{V2}/issue/bulkfetch", {"issueIdsOrKeys": ["10002", "PLAT-3"],
                                                                        "expand": ["changelog"]}),
        (P, "/rest/api/2/issue/{issueIdOrKey}/comment", "GET", f"{V2}/issue/10002/comment", None),
        (P, "/rest/api/2/issue/{issueIdOrKey}/changelog", "GET", f"{V2}/issue/10002/changelog", None),
        (P, f"{V2}/worklog/updated", "GET", f"{V2}/worklog/updated?since=0", None),
        (P, f"{V2}/worklog/deleted", "GET", f"{V2}/worklog/deleted?since=0", None),
        (P, f"{V2}/search/approximate-count", "POST", f"{V2}/search/approximate-count", {"jql": "project = MOB"}),
        (P, f"{V2}/project/search", "GET", f"{V2}/project/search?expand=description,lead,issueTypes,url,"
                                           "projectKeys,permissions,insight&status=live,archived,deleted", None),
        (P, "/rest/api/2/project/{projectIdOrKey}/version", "GET", f"{V2}/project/10000/version", None),
        (P, "/rest/api/2/project/{projectIdOrKey}/component", "GET", f"{V2}/project/10000/component", None),
        (S, f"{AG}/board", "GET", f"{AG}/board?includePrivate=true", None),
        (S, "/rest/agile/1.0/board/{boardId}/configuration", "GET", f"{AG}/board/1/configuration", None),
        (S, "/rest/software/1.0/board/{boardId}/issue", "GET", f"{SW}/board/1/issue?fields={AGILE_FIELDS}", None),
        (S, "/rest/software/1.0/sprint/{sprintId}/issue", "GET", f"{SW}/sprint/1/issue?fields={AGILE_FIELDS}",
         None),
        (S, "/rest/agile/1.0/board/{boardId}/issue", "GET", f"{AG}/board/1/issue", None),
        (P, f"{V2}/dashboard", "GET", f"{V2}/dashboard", None),
        (P, f"{V2}/filter/search", "GET", f"{V2}/filter/search?expand=description,owner,jql,viewUrl,searchUrl,"
                                          "favourite,favouritedCount,sharePermissions,editPermissions,isWritable,"
                                          "subscriptions", None),
    ]
    for plain in ("projectCategory", "project/type", "filter/favourite", "filter/my", "field", "fieldconfiguration",
                  "group/bulk", "users/search", "issueLinkType", "issuesecurityschemes", "issuetype",
                  "priority/search", "resolution/search", "status", "statuscategory", "notificationscheme?expand=all",
                  "permissionscheme?expand=all", "screenscheme", "workflowscheme",
                  "workflows/search?expand=values.transitions", "auditing/record",
                  "priorityscheme?expand=priorities,projects", "mypermissions?permissions=ADMINISTER,EDIT_ISSUES"):
        checks.append((P, f"{V2}/{plain.split('?')[0]}", "GET", f"{V2}/{plain}", None))
    problems = []
    with client(url) as c:
        g = c.get(f"{V2}/group/bulk").json()["values"][0]["groupId"]
        checks.append((P, f"{V2}/group/member", "GET", f"{V2}/group/member?groupId={g}&includeInactiveUsers=true",
                       None))
        wl = [v["worklogId"] for v in c.get(f"{V2}/worklog/updated?since=0").json()["values"][:20]]
        checks.append((P, f"{V2}/worklog/list", "POST", f"{V2}/worklog/list", {"ids": wl}))
        listed = c.post(f"{V2}/worklog/list", json={"ids": wl[:1]}).json()
        checks.append((P, "/rest/api/2/issue/{issueIdOrKey}/worklog", "GET",
                       f"{V2}/issue/{listed[0]['issueId']}/worklog", None))
        # a team-managed project's simple board, its sprints' issues, and one issue with every custom field
        simple = next(b for b in c.get(f"{AG}/board", params={"type": "simple"}).json()["values"])
        sprint = c.get(f"{AG}/board/{simple['id']}/sprint").json()["values"][0]
        checks += [(S, "/rest/agile/1.0/board/{boardId}/configuration", "GET",
                    f"{AG}/board/{simple['id']}/configuration", None),
                   (S, "/rest/software/1.0/sprint/{sprintId}/issue", "GET",
                    f"{SW}/sprint/{sprint['id']}/issue?fields={AGILE_FIELDS}", None),
                   (S, "/rest/agile/1.0/board/{boardId}/issue", "GET", f"{AG}/board/{simple['id']}/issue", None),
                   (P, "/rest/api/2/issue/{issueIdOrKey}", "GET",
                    f"{V2}/issue/{simple['location']['projectKey']}-3?expand=names,schema,changelog", None)]
        comments = c.get(f"{V2}/issue/10002/comment").json()["comments"]
        checks.append((P, f"{V2}/comment/list", "POST", f"{V2}/comment/list", {"ids": [x["id"] for x in comments]
                                                                               or [1]}))
        for spec, template, method, path, body in checks:
            r = c.request(method, path, json=body)
            assert r.status_code == 200, (path, r.text[:200])
            errs = schema_errors(spec, template, method, r.json(), limit=50)
            gaps = KNOWN_SCHEMA_GAPS.get(template, ())
            errs = [e for e in errs if not any(g in e for g in gaps)]
            if errs:
                problems.append((path, errs[:3]))
    assert not problems


# ---- the whole read surface: every GET path of both specs ------------------------------------------------------

# path parameters naming objects this site has none of (entity properties, plans, Connect app data, dev-info ...):
# Jira answers those 404 with an ErrorCollection, and so must the simulator
ABSENT_PARAMS = {"propertyKey", "itemId", "optionId", "planId", "atlassianTeamId", "planOnlyTeamId", "taskId",
                 "jobId", "transitionId", "addonKey", "quickFilterId", "repositoryId", "featureFlagId", "pipelineId",
                 "remoteLinkId", "workspaceId", "vulnerabilityId", "incidentId", "reviewId", "componentId"}
# required query parameters (and a few optional ones a client always sends), with plausible values
QUERY = {
    "/groupuserpicker": {"query": "a"}, "/user/picker": {"query": "a"}, "/user/search": {"query": "a"},
    "/mypreferences": {"key": "jira.user.locale"}, "/priorityscheme/priorities/available": {"schemeId": "1"},
    "/projectvalidate/validProjectName": {"name": "New project"}, "/projectvalidate/validProjectKey": {"key": "NEW"},
    "/projectvalidate/key": {"key": "NEW"}, "/statuses": {"id": "3"}, "/statuses/byNames": {"name": "Done"},
    "/user/assignable/multiProjectSearch": {"projectKeys": "PLAT"}, "/user/permission/search": {"permissions":
    "BROWSE_PROJECTS"}, "/user/search/query": {"query": "is assignee of PLAT"}, "/user/search/query/key":
    {"query": "is assignee of PLAT"}, "/workflow/rule/config": {"types": "postfunction"},
    "/workflow/transitions/{transitionId}/properties": {"workflowName": "jira"}, "/group": {"groupname":
    "site-admins"}, "/group/member": {"groupname": "site-admins"}, "/user/assignable/search": {"project": "PLAT"},
    "/mypermissions": {"permissions": "BROWSE_PROJECTS"}, "/issue/picker": {"query": "fix"},
    "/worklog/updated": {"since": "0"}, "/worklog/deleted": {"since": "0"}, "/search/jql": {"jql": "project = PLAT"},
    "/jql/autocompletedata/suggestions": {"fieldName": "project"}, "/service-registry": {"serviceIds": "x"},
}


def plausible_parameters(c):
    """Real objects of the tenant for every path parameter the specs use: (by name, by (segment, name))."""
    issues = c.post(f"{V2}/search/jql", json={"jql": "project = PLAT ORDER BY id", "maxResults": 1000, "fields": [
        "comment", "worklog", "issuelinks", "issuetype"]}).json()["issues"]
    rich = next(i for i in issues if i["fields"]["comment"]["comments"] and i["fields"]["worklog"]["worklogs"]
                and i["fields"]["issuelinks"])
    epic = next(i for i in issues if i["fields"]["issuetype"]["name"] == "Epic")
    board = next(b for b in c.get(f"{AG}/board").json()["values"] if b["type"] == "scrum")
    sprint = c.get(f"{AG}/board/{board['id']}/sprint").json()["values"][0]
    project = c.get(f"{V2}/project/PLAT").json()
    shared = next(f for f in c.get(f"{V2}/filter/search", params={"expand": "sharePermissions", "maxResults": 100})
                  .json()["values"] if f["sharePermissions"])
    grant = c.get(f"{V2}/permissionscheme/10000", params={"expand": "permissions"}).json()["permissions"][0]
    option_field = next(f["id"] for f in c.get(f"{V2}/field").json()
                        if f["custom"] and f["schema"]["type"] == "option")
    context = c.get(f"{V2}/field/{option_field}/context").json()["values"][0]["id"]
    screen = c.get(f"{V2}/screens").json()["values"][0]["id"]
    tab = c.get(f"{V2}/screens/{screen}/tabs").json()[0]["id"]
    comment = rich["fields"]["comment"]["comments"][0]["id"]
    worklog = rich["fields"]["worklog"]["worklogs"][0]["id"]
    by_name = {
        "issueIdOrKey": rich["key"], "projectIdOrKey": "PLAT", "projectKeyOrId": "PLAT", "projectId": project["id"],
        "boardId": board["id"], "sprintId": sprint["id"], "epicIdOrKey": epic["key"], "epicId": epic["id"],
        "filterId": shared["id"], "dashboardId": 10000, "issueTypeId": 10001, "issueType": 10001, "statusId": 3,
        "idOrName": 3, "idOrKey": 2, "issueLinkTypeId": 10000, "key": "jira-software", "applicationKey":
        "jira-software", "fieldId": option_field, "fieldKey": option_field, "fieldIdOrKey":
        option_field, "workflowSchemeId": 10000, "issueSecuritySchemeId": 10000, "projectTypeKey": "software",
        "commentId": comment, "worklogId": worklog, "screenId": screen, "tabId": tab, "contextId": context,
        "issueTypeScreenSchemeId": 1, "type": "project", "entityId": project["id"], "schemeId": 10000,
        "workflowId": c.get(f"{V2}/workflows/search").json()["values"][0]["id"],
    }
    by_segment = {
        ("component", "id"): c.get(f"{V2}/project/PLAT/components").json()[0]["id"],
        ("version", "id"): c.get(f"{V2}/project/PLAT/versions").json()[0]["id"], ("dashboard", "id"): 10000,
        ("filter", "id"): shared["id"], ("comment", "id"): comment, ("worklog", "id"): worklog,
        ("issuesecurityschemes", "id"): 10000, ("issuetype", "id"): 10001, ("notificationscheme", "id"): 10000,
        ("priority", "id"): 3, ("role", "id"): 10002, ("projectCategory", "id"): 10000, ("resolution", "id"): 10000,
        ("securitylevel", "id"): 100000, ("avatar", "id"): 10400, ("workflowscheme", "id"): 10000,
        ("customFieldOption", "id"): 10100, ("fieldconfiguration", "id"): 10000, ("priorityscheme", "schemeId"): 1,
        ("issueLink", "linkId"): rich["fields"]["issuelinks"][0]["id"],
        ("permission", "permissionId"): (grant["id"], shared["sharePermissions"][0]["id"]),
    }
    return by_name, by_segment


def fill_template(template, by_name, by_segment):
    """The template with real objects in, and whether it names an object the site has none of."""
    segs = template.strip("/").split("/")
    out, absent = [], template.startswith(f"{V2}/attachment/") and "{id}" in template
    for i, seg in enumerate(segs):
        if not seg.startswith("{"):
            out.append(seg)
            continue
        name = seg[1:-1]
        if name in ABSENT_PARAMS or (segs[i - 1], name) == ("remotelink", "linkId") or absent:
            absent = True
            out.append("10999")
            continue
        value = by_segment.get((segs[i - 1], name), by_name.get(name))
        if isinstance(value, tuple):      # a permission id: of the permission scheme, or of the filter
            value = value[0] if "permissionscheme" in template else value[1]
        assert value is not None, f"no plausible value for {name} in {template}"
        out.append(str(value))
    return "/" + "/".join(out), absent


@pytest.mark.skipif(spec_dir() is None, reason="../shared/jira-openapi (the official specs) is not present")
def test_every_get_path_of_both_specs_answers_as_jira(premium):
    """Every GET path of platform v2 and Jira Software, with plausible parameters: 200 with a body valid against
    the spec's 200 schema, or Jira's 404 ErrorCollection for an object this site has none of; never the dead link.
    The removed /rest/api/2/search answers 410 as on real Cloud."""
    url, _ = premium
    problems, answered, absent_404 = [], 0, 0
    with client(url) as c:
        by_name, by_segment = plausible_parameters(c)
        account = c.get(f"{V2}/myself").json()["accountId"]
        project_id = by_name["projectId"]
        query = {**QUERY, **{k: {"accountId": account} for k in ("/user", "/user/bulk", "/user/groups", "/user/email",
                                                                 "/user/email/bulk")},
                 **{k: {"projectId": project_id} for k in ("/issuetype/project", "/fieldconfigurationscheme/project",
                                                           "/issuetypescheme/project", "/workflowscheme/project",
                                                           "/issuetypescreenscheme/project")},
                 "/user/viewissue/search": {"issueKey": by_name["issueIdOrKey"]}}
        for spec_name in ("platform-v2.json", "software.json"):
            for template, item in load_spec(spec_name)["paths"].items():
                if "get" not in item:
                    continue
                path, absent = fill_template(template, by_name, by_segment)
                short = template.removeprefix(V2)
                params = query.get(short) or query.get("/" + template.rsplit("/", 1)[-1], {})
                r = c.get(path, params=params)
                if template == f"{V2}/search":
                    ok = r.status_code == 410
                elif absent:
                    ok = r.status_code == 404 and r.json()["errorMessages"] and r.json()["errors"] == {}
                    absent_404 += ok
                else:
                    ok = r.status_code == 200
                    if ok and r.headers["content-type"].startswith("application/json"):
                        gaps = KNOWN_SCHEMA_GAPS.get(template, ())
                        errs = [e for e in schema_errors(spec_name, template, "get", r.json(), limit=50)
                                if not any(g in e for g in gaps)]
                        if errs:
                            problems.append((path, errs[:3]))
                    answered += ok
                if not ok:
                    problems.append((path, r.status_code, r.text[:200]))
    assert not problems
    assert answered > 260 and absent_404 > 30


@pytest.mark.skipif(spec_dir() is None, reason="../shared/jira-openapi (the official specs) is not present")
def test_every_expand_option_takes_effect_and_stays_valid(sim):
    url, _ = sim
    P = "platform-v2.json"
    issue_expands = ["renderedFields", "names", "schema", "transitions", "operations", "editmeta", "changelog",
                     "versionedRepresentations"]
    with client(url) as c:
        for ex in issue_expands + [",".join(issue_expands)]:
            issue = c.get(f"{V2}/issue/PLAT-3", params={"expand": ex}).json()
            assert not schema_errors(P, "/rest/api/2/issue/{issueIdOrKey}", "get", issue), ex
            for key in ex.split(","):
                assert key in issue, (ex, key)
            page = c.get(f"{V2}/search/jql", params={"jql": "project = PLAT", "expand": ex, "fields": "summary",
                                                     "maxResults": 5000}).json()
            assert not schema_errors(P, f"{V2}/search/jql", "get", page), ex
            for key in ex.split(","):
                where = page if key in ("names", "schema") else page["issues"][0]
                assert key in where, (ex, key)
            # heavy expands keep search/jql's page cap of 100
            heavy = set(ex.split(",")) & {"changelog", "renderedFields", "transitions", "editmeta", "operations",
                                          "versionedRepresentations"}
            assert (len(page["issues"]) == 100) == bool(heavy), ex
        versioned = c.get(f"{V2}/issue/PLAT-3", params={"expand": "versionedRepresentations",
                                                         "fields": "summary"}).json()
        assert "fields" not in versioned and versioned["versionedRepresentations"]["summary"]["1"]
        assert len(versioned["versionedRepresentations"]) > 20        # the fields parameter is ignored
        plain = c.get(f"{V2}/issue/PLAT-3").json()
        transitions = c.get(f"{V2}/issue/PLAT-3/transitions").json()["transitions"]
        assert c.get(f"{V2}/issue/PLAT-3", params={"expand": "transitions"}).json()["transitions"] == transitions
        assert all(t["to"]["id"] != plain["fields"]["status"]["id"] for t in transitions)
        for ex in ("description", "projectKeys", "lead", "issueTypes", "url", "insight", "permissions",
                   "issueTypeHierarchy", "*"):
            for template, path in (("/rest/api/2/project/{projectIdOrKey}", f"{V2}/project/PLAT"),
                                   (f"{V2}/project/search", f"{V2}/project/search"),
                                   (f"{V2}/project/recent", f"{V2}/project/recent")):
                body = c.get(path, params={"expand": ex}).json()
                errs = [e for e in schema_errors(P, template, "get", body, limit=50) if "projectKeys" not in e]
                assert not errs, (path, ex, errs)
        project = c.get(f"{V2}/project/PLAT", params={"expand": "projectKeys,issueTypeHierarchy"}).json()
        assert project["projectKeys"] == ["PLAT"]
        assert [lv["level"] for lv in project["issueTypeHierarchy"]["levels"]] == [1, 0, -1]
        recent = c.get(f"{V2}/project/recent", params={"expand": "*"}).json()
        assert {"insight", "permissions", "projectKeys", "lead"} <= set(recent[0])
        for ex in ("admins", "permissions", "admins,permissions"):
            boards = c.get(f"{AG}/board", params={"expand": ex}).json()
            assert not schema_errors("software.json", f"{AG}/board", "get", boards), ex
            one = c.get(f"{AG}/board/1", params={"expand": ex}).json()
            assert not schema_errors("software.json", "/rest/agile/1.0/board/{boardId}", "get", one), ex
            assert ("admins" in one) == ("admins" in ex) and ("canEdit" in one) == ("permissions" in ex)
        # without the new options, the responses are what they were
        assert "admins" not in c.get(f"{AG}/board/1").json()
        assert "projectKeys" not in c.get(f"{V2}/project/PLAT").json()


# ---- scales --------------------------------------------------------------------------------------------------

def test_standard_scale_has_20_projects_and_10000_issues():
    with start_simulator("--scale", "standard") as (url, _):
        with client(url) as c:
            assert c.post(f"{V2}/search/approximate-count", json={"jql": "created >= 0"}).json()["count"] == 10_000
            live = c.get(f"{V2}/project/search", params={"maxResults": 100}).json()
            assert live["total"] == 20
            users = c.get(f"{V2}/users/search", params={"maxResults": 1000}).json()
            assert len(users) == 300
            members = c.get(f"{V2}/group/member", params={"groupId": c.get(f"{V2}/group/bulk").json()["values"][0]
                                                          ["groupId"], "includeInactiveUsers": "true"}).json()
            assert members["maxResults"] == 50


@pytest.mark.slow
def test_large_scale_serves_100000_issues():
    with start_simulator("--scale", "large") as (url, _):
        with client(url) as c:
            assert c.post(f"{V2}/search/approximate-count", json={"jql": "created >= 0"}).json()["count"] == 100_000
            body = c.post(f"{V2}/search/jql", json={"jql": FULL_LOAD, "fields": ["*all"], "maxResults": 5000}).json()
            assert len(body["issues"]) == 100 and body["nextPageToken"]
            ids = c.post(f"{V2}/search/jql", json={"jql": FULL_LOAD, "fields": ["id"], "maxResults": 5000}).json()
            assert len(ids["issues"]) == 5000
