"""The tenant is as real Jira Cloud sites are: timestamps in the caller's zone, private users, hundreds of sparse
custom fields of every type (and their changes in the changelog), a control to rename one, team-managed projects
with simple boards and sprints, and the shapes real sites send."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from zoneinfo import ZoneInfo

import httpx
import pytest

from _simulator import advance, client, sim, start_simulator, truth  # noqa: F401

V2 = "/rest/api/2"
AG = "/rest/agile/1.0"
SW = "/rest/software/1.0"
SYDNEY = ZoneInfo("Australia/Sydney")
FULL_LOAD = 'updated >= "1970-01-01 00:00" ORDER BY updated ASC, id ASC'
JIRA_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
AGILE_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SYS = "com.atlassian.jira.plugin.system.customfieldtypes:"
# every custom field type an admin can create, with the schema Jira describes it with
GENERIC_SCHEMAS = {
    "float": ("number", None), "datepicker": ("date", None), "datetime": ("datetime", None),
    "textfield": ("string", None), "textarea": ("string", None), "url": ("string", None),
    "select": ("option", None), "radiobuttons": ("option", None), "multiselect": ("array", "option"),
    "multicheckboxes": ("array", "option"), "labels": ("array", "string"), "version": ("version", None),
    "multiversion": ("array", "version"), "grouppicker": ("group", None), "multigrouppicker": ("array", "group"),
    "userpicker": ("user", None), "multiuserpicker": ("array", "user"),
    "cascadingselect": ("option-with-child", None), "project": ("project", None), "readonlyfield": ("string", None),
}
# the apps' fields a Jira Software site has: custom type -> (schema type, items)
APP_SCHEMAS = {
    "com.pyxis.greenhopper.jira:gh-sprint": ("array", "json"),
    "com.pyxis.greenhopper.jira:jsw-story-points": ("number", None),
    "com.pyxis.greenhopper.jira:gh-lexo-rank": ("any", None),
    "com.pyxis.greenhopper.jira:gh-epic-link": ("any", None),
    "com.atlassian.teams:rm-teams-custom-field-team": ("any", None),
    "com.atlassian.jpo:jpo-custom-field-parent": ("any", None),
    "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf": ("any", None),
}


def parse_ts(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")


def sydney_offset(s: str) -> bool:
    """The timestamp carries Sydney's offset at the instant it names."""
    t = dt.datetime.fromisoformat(s)
    return t.utcoffset() == t.astimezone(SYDNEY).utcoffset()


def issues_of(url):
    return [x["record"] for x in truth(url, "issue_search")]


def custom_fields(url):
    return {f["id"]: f for f in (x["record"] for x in truth(url, "fields")) if f["custom"]}


# ---- time zone ---------------------------------------------------------------------------------------------------

def test_every_timestamp_is_rendered_in_the_callers_zone(sim):
    url, _ = sim
    issues = issues_of(url)
    stamps = []
    for i in issues:
        f = i["fields"]
        stamps += [f["created"], f["updated"], f["statuscategorychangedate"]]
        stamps += [f[k] for k in ("resolutiondate", "lastViewed") if f.get(k)]
        stamps += [c[k] for c in f["comment"]["comments"] for k in ("created", "updated")]
        stamps += [w[k] for w in f["worklog"]["worklogs"] for k in ("created", "updated", "started")]
    stamps += [x["record"]["created"] for x in truth(url, "issue_changelog")]
    stamps += [x["record"]["created"] for x in truth(url, "audit_records")]
    stamps += [x["record"]["insight"]["lastIssueUpdateTime"] for x in truth(url, "project_search")
               if "lastIssueUpdateTime" in x["record"]["insight"]]
    with client(url) as c:
        info = c.get(f"{V2}/serverInfo").json()
        filters = c.get(f"{V2}/filter/search", params={"expand": "approximateLastUsed", "maxResults": 100}).json()
    stamps += [info["serverTime"], info["buildDate"]]
    stamps += [f["approximateLastUsed"] for f in filters["values"] if "approximateLastUsed" in f]
    assert all(JIRA_TS.match(s) for s in stamps), [s for s in stamps if not JIRA_TS.match(s)][:3]
    assert all(sydney_offset(s) for s in stamps)
    assert {s[-5:] for s in stamps} == {"+1100", "+1000"}        # daylight saving time and standard time
    # datetime custom fields are timestamps too
    datetimes = [k for k, f in custom_fields(url).items() if f["schema"]["type"] == "datetime"]
    values = [i["fields"][k] for i in issues for k in datetimes if i["fields"].get(k)]
    assert values and all(JIRA_TS.match(v) and sydney_offset(v) for v in values)
    # the Agile API's sprint dates carry the caller's offset with a colon; the Sprint field's sprints are UTC
    agile = {s["record"]["id"]: s["record"] for s in truth(url, "board_sprints")}
    dates = [s[k] for s in agile.values() for k in ("startDate", "endDate", "completeDate", "createdDate") if k in s]
    assert dates and all(AGILE_TS.match(v) and sydney_offset(v) for v in dates)
    in_field = [x["record"] for x in truth(url, "issue_sprints")]
    assert in_field and all(UTC_Z.match(s[k]) for s in in_field for k in ("startDate", "endDate") if k in s)
    for s in in_field:
        if "startDate" in s:        # one instant, two forms
            assert dt.datetime.fromisoformat(s["startDate"]) == dt.datetime.fromisoformat(agile[s["id"]]["startDate"])


# ---- privacy -------------------------------------------------------------------------------------------------------

def test_most_people_hide_their_email_and_time_zone(sim):
    url, _ = sim
    with client(url) as c:
        users = c.get(f"{V2}/users/search", params={"maxResults": 1000}).json()
        me = c.get(f"{V2}/myself").json()
    assert me["timeZone"] == "Australia/Sydney" and me["emailAddress"] == "demo@example.com"
    people = [u for u in users if u["accountType"] == "atlassian" and u["accountId"] != me["accountId"]]
    private = [u for u in people if "emailAddress" not in u and "timeZone" not in u]
    assert 0.7 <= len(private) / len(people) <= 0.9
    assert any("locale" in u for u in private) and any("locale" not in u for u in private)
    assert all(u[k] is not None for u in users for k in ("emailAddress", "timeZone", "locale") if k in u)
    # the same people wherever a user object is embedded: issues, comments, group members
    hidden = {u["accountId"] for u in private}
    embedded = [i["fields"][k] for i in issues_of(url) for k in ("assignee", "reporter") if i["fields"][k]]
    embedded += [x["record"]["author"] for x in truth(url, "issue_comments")]
    embedded += [x["record"] for x in truth(url, "group_members")]
    assert sum(u["accountId"] in hidden for u in embedded) > len(embedded) / 2
    assert all("emailAddress" not in u and "timeZone" not in u for u in embedded if u["accountId"] in hidden)


# ---- custom fields -------------------------------------------------------------------------------------------------

def test_the_field_catalogue_has_every_custom_field_type_with_its_schema(sim):
    url, _ = sim
    fields = custom_fields(url)
    kinds = defaultdict(list)
    for fid, f in fields.items():
        s = f["schema"]
        assert s["customId"] == int(fid.removeprefix("customfield_")) and f["key"] == fid
        assert f["clauseNames"][0] == f"cf[{s['customId']}]"
        kinds[s["custom"]].append(f)
        if s["custom"].startswith(SYS):
            assert (s["type"], s.get("items")) == GENERIC_SCHEMAS[s["custom"].removeprefix(SYS)], f
        elif s["custom"] in APP_SCHEMAS:
            assert (s["type"], s.get("items")) == APP_SCHEMAS[s["custom"]], f
    assert {SYS + k for k in GENERIC_SCHEMAS} | set(APP_SCHEMAS) <= set(kinds)
    sprint = fields["customfield_10020"]
    assert sprint["name"] == "Sprint" and sprint["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-sprint"
    assert {f["name"] for f in kinds[SYS + "float"]} >= {"Story Points"}
    assert [f["name"] for f in kinds["com.pyxis.greenhopper.jira:jsw-story-points"]] == ["Story point estimate"]
    # a team-managed project's own fields say so; company-managed fields have no scope
    next_gen = {x["record"]["id"] for x in truth(url, "project_search") if x["record"]["style"] == "next-gen"}
    scoped = [f for f in fields.values() if "scope" in f]
    assert scoped and all(f["scope"]["type"] == "PROJECT" and f["scope"]["project"]["id"] in next_gen
                          for f in scoped)


def test_issues_carry_their_contexts_custom_fields_with_real_shapes(sim):
    url, _ = sim
    fields = custom_fields(url)
    issues = issues_of(url)
    by_key = {i["key"]: i for i in issues}
    seen = defaultdict(int)
    nulls = total = 0
    for i in issues:
        cf = {k: v for k, v in i["fields"].items() if k.startswith("customfield_")}
        assert set(cf) <= set(fields)
        total += len(cf)
        nulls += sum(v is None for v in cf.values())
        for k, v in cf.items():
            if v is None:
                continue
            s = fields[k]["schema"]
            seen[s["custom"]] += 1
            check_value(s, v, i, by_key)
    assert nulls / total > 0.6                       # most custom fields of an issue are null
    assert {SYS + k for k in GENERIC_SCHEMAS} | set(APP_SCHEMAS) <= set(seen)   # every type has values somewhere
    # Parent Link says why it cannot be edited; it names the epic of the issues that have one
    links = [i["fields"]["customfield_10018"] for i in issues if "customfield_10018" in i["fields"]]
    assert links and all(set(v) >= {"hasEpicLinkFieldDependency", "showField", "nonEditableReason"} for v in links)
    assert all(set(v["nonEditableReason"]) == {"reason", "message"} for v in links)
    assert any("data" in v for v in links)


def check_value(schema: dict, v, issue: dict, by_key: dict) -> None:
    typ, items, custom = schema["type"], schema.get("items"), schema["custom"]
    option = {"self", "value", "id"}
    if custom == "com.pyxis.greenhopper.jira:gh-sprint":
        assert v and all({"id", "name", "state", "boardId"} <= set(s) <= {
            "id", "name", "state", "boardId", "goal", "startDate", "endDate", "completeDate"} for s in v)
    elif custom == "com.atlassian.teams:rm-teams-custom-field-team":
        assert isinstance(v["id"], str) and isinstance(v["name"], str)
    elif custom == "com.pyxis.greenhopper.jira:gh-epic-link":
        assert v == issue["fields"]["parent"]["key"] and by_key[v]["fields"]["issuetype"]["name"] == "Epic"
    elif custom == "com.atlassian.jpo:jpo-custom-field-parent":
        if "data" in v:
            assert v["data"]["key"] == issue["fields"]["parent"]["key"]
    elif typ == "number":
        assert isinstance(v, float)
    elif typ == "date":
        dt.date.fromisoformat(v)
    elif typ == "datetime":
        assert JIRA_TS.match(v)
    elif typ in ("string", "any"):
        assert isinstance(v, str)
    elif typ == "option":
        assert set(v) == option
    elif typ == "option-with-child":
        assert set(v) - {"child"} == option and set(v.get("child", option)) == option
    elif typ == "user":
        assert v["accountId"] and v["displayName"]
    elif typ == "group":
        assert set(v) == {"name", "groupId", "self"}
    elif typ == "version":
        assert {"id", "name", "self", "archived", "released"} <= set(v)
    elif typ == "project":
        assert v["key"] and v["id"]
    elif typ == "array":
        assert isinstance(v, list) and v
        for x in v:
            if items == "string":
                assert isinstance(x, str)
            else:
                check_value({"type": items, "custom": ""}, x, issue, by_key)
    else:
        raise AssertionError(f"unexpected schema {schema}")


def as_change(schema: dict, v):
    """(to, toString) of the changelog item that set a custom field to its current value `v`."""
    typ, items = schema["type"], schema.get("items")
    if typ == "number":
        return None, str(int(v)) if float(v).is_integer() else str(v)
    if typ == "date":
        return v, dt.date.fromisoformat(v).strftime("%d/%b/%y")
    if typ == "datetime":
        return v, None
    if typ == "option" or schema["custom"] == "com.atlassian.teams:rm-teams-custom-field-team":
        return v["id"], v.get("value", v.get("name"))
    if typ == "user":
        return v["accountId"], v["displayName"]
    if typ == "version" or typ == "project":
        return v["id"], v["name"]
    if typ == "group":
        return None, v["name"]
    if typ == "option-with-child":
        return None, f"Parent values: {v['value']}({v['id']})" + (
            f"Level 1 values: {v['child']['value']}({v['child']['id']})" if "child" in v else "")
    if typ == "array" and items == "string":
        return None, " ".join(v)
    if typ == "array" and items in ("option", "version", "user"):
        key = {"option": "id", "version": "id", "user": "accountId"}[items]
        name = {"option": "value", "version": "name", "user": "displayName"}[items]
        return "[" + ", ".join(x[key] for x in v) + "]", ", ".join(x[name] for x in v)
    if typ == "array" and items == "group":
        return None, ", ".join(x["name"] for x in v)
    return None, v


def test_custom_field_changes_are_in_the_changelog_as_jira_writes_them(sim):
    url, _ = sim
    fields = custom_fields(url)
    issues = {i["id"]: i for i in issues_of(url)}
    last: dict[tuple[str, str], dict] = {}
    sprint_moves = 0
    n_items = 0
    for x in truth(url, "issue_changelog"):
        for it in x["record"]["items"]:
            if it["fieldtype"] != "custom":
                continue
            assert it["fieldId"] in fields and it["field"] == fields[it["fieldId"]]["name"]
            n_items += 1
            last[(x["parents"]["issue_id"], it["fieldId"])] = it
            if it["fieldId"] == "customfield_10020":
                sprint_moves += 1
                assert it["to"].startswith(it["from"] + ", ") and it["toString"].startswith(it["fromString"])
    assert sprint_moves, "carried-over issues have Sprint changes"
    checked = 0
    for (issue_id, fid), it in last.items():
        if fid in ("customfield_10019", "customfield_10020"):     # Rank, Sprint
            continue
        current = issues[issue_id]["fields"][fid]
        if "to" not in it and "toString" not in it:
            assert current is None, (issue_id, fid, it)
            continue
        to, to_s = as_change(fields[fid]["schema"], current)
        assert it.get("to") == to and (to_s is None or it.get("toString") == to_s), (issue_id, fid, it, current)
        checked += 1
    assert checked > 50 and n_items > checked


@pytest.fixture(scope="module")
def standard():
    with start_simulator("--scale", "standard") as running:
        yield running


def test_standard_issues_carry_30_to_50_custom_fields_most_of_them_null(standard):
    url, _ = standard
    with client(url) as c:
        fields = [f for f in c.get(f"{V2}/field").json() if f["custom"]]
        assert 250 <= len(fields) <= 350
        issues, token = [], None
        while len(issues) < 1000:
            body = c.post(f"{V2}/search/jql", json={"jql": FULL_LOAD, "fields": ["*all"], "maxResults": 100,
                                                     **({"nextPageToken": token} if token else {})}).json()
            issues += body["issues"]
            token = body["nextPageToken"]
        keys = [sum(k.startswith("customfield_") for k in i["fields"]) for i in issues]
        filled = [sum(k.startswith("customfield_") and v is not None for k, v in i["fields"].items())
                  for i in issues]
        assert 30 <= min(keys) and max(keys) <= 50
        assert 3 <= statistics.mean(filled) <= statistics.mean(keys) / 3
        # a team-managed project that turned sprints off: its simple board answers as a kanban board does
        boards = c.get(f"{AG}/board", params={"type": "simple"}).json()["values"]
        answers = {c.get(f"{AG}/board/{b['id']}/sprint").status_code for b in boards}
        assert answers == {200, 400}


def test_renaming_a_custom_field_changes_its_name_and_no_issue():
    with start_simulator("--seed", "4") as (url, _):
        with client(url) as c:
            fields = [f for f in c.get(f"{V2}/field").json() if f["custom"]]
            target = next(f for f in fields if f["schema"]["type"] == "option")
            before = {x["record"]["id"]: x["record"]["fields"]["updated"] for x in truth(url, "issue_search")}
            history = truth(url, "issue_changelog")
            for bad in ({"rename": {"summary": "Title"}}, {"rename": {"customfield_1": "x"}},
                        {"rename": {target["id"]: " "}}, {"rename": {target["id"]: "ok", "nope": "x"}}, {}):
                assert httpx.post(f"{url}/__sim/fields", json=bad).status_code == 400, bad
            renames = {f["id"]: f"{f['name']} (renamed)" for f in fields}
            r = httpx.post(f"{url}/__sim/fields", json={"rename": renames})
            assert r.status_code == 200 and r.json() == {"renamed": renames}
            after = {f["id"]: f for f in c.get(f"{V2}/field").json()}
            assert after[target["id"]]["name"] == renames[target["id"]]
            assert renames[target["id"]] in after[target["id"]]["clauseNames"]
            body = c.post(f"{V2}/search/jql", json={"jql": FULL_LOAD, "fields": [target["id"]],
                                                     "expand": "names", "maxResults": 1}).json()
            assert body["names"] == {target["id"]: renames[target["id"]]}
            # nothing about an issue changed; the changelog keeps the names its items were written with
            assert {x["record"]["id"]: x["record"]["fields"]["updated"] for x in truth(url, "issue_search")} == before
            assert truth(url, "issue_changelog") == history
            # changes made after the rename carry the new names
            advance(url, update_issues=80, minutes=10)
            old_ids = {x["record"]["id"] for x in history}
            new_items = [it for x in truth(url, "issue_changelog") if x["record"]["id"] not in old_ids
                         for it in x["record"]["items"] if it["fieldtype"] == "custom"]
            assert new_items and all(it["field"] == renames[it["fieldId"]] for it in new_items)


# ---- team-managed projects, boards and sprints -------------------------------------------------------------------

def test_team_managed_projects_have_simple_boards_with_sprints(sim):
    url, _ = sim
    projects = [x["record"] for x in truth(url, "project_search")]
    next_gen = {p["key"] for p in projects if p["style"] == "next-gen" and p["projectTypeKey"] == "software"
                and not p.get("archived") and not p.get("deleted")}
    assert len(next_gen) >= 2 and all(p["simplified"] for p in projects if p["style"] == "next-gen")
    boards = [x["record"] for x in truth(url, "boards")]
    simple = [b for b in boards if b.get("type") == "simple"]
    assert {b["location"]["projectKey"] for b in simple} == next_gen
    sprints = truth(url, "board_sprints")
    with client(url) as c:
        for b in simple:
            conf = c.get(f"{AG}/board/{b['id']}/configuration").json()
            assert conf["type"] == "simple" and "estimation" not in conf
            assert conf["location"]["type"] == "project" and conf["location"]["key"] == b["location"]["projectKey"]
            page = c.get(f"{AG}/board/{b['id']}/sprint").json()
            assert page["values"] and all(s["originBoardId"] == b["id"] for s in page["values"])
            assert [s["record"] for s in sprints if s["parents"]["board_id"] == b["id"]] == page["values"]
            sprint = next(s for s in page["values"] if s["state"] == "closed")
            issues = c.get(f"{SW}/sprint/{sprint['id']}/issue", params={"fields": "key,sprint,closedSprints"}).json()
            assert issues["issues"] and all(i["key"].split("-")[0] == b["location"]["projectKey"]
                                            for i in issues["issues"])
        kanban = next(b for b in boards if b.get("type") == "kanban")
        assert c.get(f"{AG}/board/{kanban['id']}/sprint").status_code == 400
    in_sprints = {x["parents"]["sprint_id"] for x in truth(url, "sprint_issues")}
    assert {s["record"]["id"] for s in sprints if s["parents"]["board_id"] in {b["id"] for b in simple}} & in_sprints


# ---- shapes ------------------------------------------------------------------------------------------------------

def test_shapes_as_real_sites_send_them(sim):
    url, _ = sim
    for x in truth(url, "board_configuration"):
        loc = x["record"]["location"]
        assert set(loc) == {"id", "key", "name", "self", "type"} if loc["type"] == "project" else \
            set(loc) == {"id", "name", "self", "type"}
    categories = {x["record"]["id"]: x["record"].get("projectCategory") for x in truth(url, "project_search")}
    issues = issues_of(url)
    assert all(i["fields"]["project"].get("projectCategory") == categories[i["fields"]["project"]["id"]]
               for i in issues)
    assert any(i["fields"]["project"].get("projectCategory") for i in issues)
    viewed = [i["fields"]["lastViewed"] for i in issues]
    assert 0.1 < sum(v is not None for v in viewed) / len(viewed) < 0.6
    assert all(parse_ts(v) >= parse_ts(i["fields"]["created"]) for v, i in zip(viewed, issues) if v)
    sprints = [x["record"] for x in truth(url, "board_sprints")]
    assert any("goal" not in s for s in sprints) and any(s.get("goal") for s in sprints)
    dashboards = [x["record"] for x in truth(url, "dashboards")]
    assert all(isinstance(d["rank"], int) for d in dashboards)
    writable = [x["record"]["isWritable"] for x in truth(url, "filters")]
    assert True in writable and False in writable
    components = [x["record"] for x in truth(url, "project_components")]
    assert components and all({"self", "id", "name", "assigneeType", "realAssigneeType", "isAssigneeTypeValid",
                               "project", "projectId", "issueCount"} <= set(c) for c in components)
    assert {c["assigneeType"] for c in components} >= {"PROJECT_DEFAULT", "COMPONENT_LEAD", "PROJECT_LEAD"}
    for c in components:
        if c["realAssigneeType"] != "UNASSIGNED":
            assert c["realAssignee"]["accountId"]
        if c["assigneeType"] in ("PROJECT_DEFAULT", "PROJECT_LEAD"):
            assert c["assignee"] == c["realAssignee"]


def test_the_lists_inside_an_issue_are_in_the_truth(sim):
    url, _ = sim
    issues = issues_of(url)
    live = sorted(issues, key=lambda i: int(i["id"]))        # issue order
    for name, field in (("issue_links", "issuelinks"), ("issue_fix_versions", "fixVersions"),
                        ("issue_affects_versions", "versions"), ("issue_components", "components"),
                        ("issue_sprints", "customfield_10020")):
        want = [({"issue_id": i["id"]}, v) for i in live for v in (i["fields"].get(field) or [])]
        assert want, name
        assert [(x["parents"], x["record"]) for x in truth(url, name)] == want, name
    labels = [({"issue_id": i["id"]}, {"label": v}) for i in live for v in i["fields"]["labels"]]
    assert labels and [(x["parents"], x["record"]) for x in truth(url, "issue_labels")] == labels
