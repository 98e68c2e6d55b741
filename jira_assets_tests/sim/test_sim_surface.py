"""The read surface beyond the connector's endpoints agrees with what the connector's endpoints serve: roles and
their actors, application roles, one user or group, the pickers, an issue's transitions, watchers, votes, links,
properties and remote links, a project's statuses, and the Agile extras; unknown objects answer Jira's 404, unknown
paths the dead link, and without the spec files everything hand-written is still served."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from jira_sim.app import Simulator, build_app
from jira_sim.spec_surface import SPEC_DIR
from jira_sim.tenant import NEXT_STATUS, Tenant
from _simulator import AUTH, client, sim, start_simulator  # noqa: F401

V2 = "/rest/api/2"
AG = "/rest/agile/1.0"
SW = "/rest/software/1.0"


def issues_of(c, jql: str, fields: str) -> list[dict]:
    return c.get(f"{V2}/search/jql", params={"jql": jql, "fields": fields, "maxResults": 1000}).json()["issues"]


def test_roles_and_their_actors(sim):
    url, _ = sim
    with client(url) as c:
        global_roles = c.get(f"{V2}/role").json()
        assert [r["name"] for r in global_roles][:3] == ["Administrators", "Developers", "Users"]
        admins = c.get(f"{V2}/role/10002").json()
        assert admins == next(r for r in global_roles if r["id"] == 10002)
        assert c.get(f"{V2}/role/10002/actors").json() == {"actors": admins["actors"]}
        assert c.get(f"{V2}/role/424242").status_code == 404
        lead = c.get(f"{V2}/project/PLAT").json()["lead"]["accountId"]
        links = c.get(f"{V2}/project/PLAT/role").json()
        assert set(links) >= {"Administrators", "Developers", "Users"}
        role = c.get(links["Administrators"].replace(url, "")).json()
        users = [a["actorUser"]["accountId"] for a in role["actors"] if a["type"] == "atlassian-user-role-actor"]
        groups = [a["actorGroup"]["groupId"] for a in role["actors"] if a["type"] == "atlassian-group-role-actor"]
        assert lead in users and groups
        # a group actor is a real group: its members come from group/member
        assert c.get(f"{V2}/group/member", params={"groupId": groups[0]}).json()["total"] > 0
        details = c.get(f"{V2}/project/PLAT/roledetails").json()
        assert {d["id"] for d in details} == {int(u.rsplit("/", 1)[1]) for u in links.values()}
        mine = c.get(f"{V2}/project/PLAT/roledetails", params={"currentMember": "true"}).json()
        assert {d["name"] for d in mine} >= {"Administrators"}     # the caller is in the admins group
        # team-managed projects carry their own, project-scoped roles
        tm = next(p for p in c.get(f"{V2}/project/search").json()["values"] if p["simplified"])
        tm_roles = c.get(f"{V2}/project/{tm['key']}/roledetails").json()
        assert {"Administrator", "Member", "Viewer"} <= {r["name"] for r in tm_roles}
        assert all(r["scope"]["project"]["id"] == tm["id"] for r in tm_roles if "scope" in r)
        assert c.get(f"{V2}/project/NOPE/role").status_code == 404


def test_application_roles_count_the_members_of_their_groups(sim):
    url, _ = sim
    with client(url) as c:
        roles = {r["key"]: r for r in c.get(f"{V2}/applicationrole").json()}
        assert set(roles) == {"jira-software", "jira-core"}
        sw = roles["jira-software"]
        assert c.get(f"{V2}/applicationrole/jira-software").json() == sw
        members = set()
        for g in sw["groupDetails"]:
            page = c.get(f"{V2}/group/member", params={"groupId": g["groupId"], "maxResults": 50}).json()
            start = 0
            while True:
                members |= {u["accountId"] for u in page["values"]}
                if page["isLast"]:
                    break
                start += len(page["values"])
                page = c.get(f"{V2}/group/member", params={"groupId": g["groupId"], "startAt": start}).json()
        assert sw["userCount"] == len(members) and sw["remainingSeats"] == sw["numberOfSeats"] - len(members)
        assert c.get(f"{V2}/applicationrole/jira-nope").status_code == 404


def test_one_user_one_group_and_the_pickers(sim):
    url, _ = sim
    with client(url) as c:
        people = c.get(f"{V2}/users/search", params={"maxResults": 1000}).json()
        other = next(u for u in people if u["accountType"] == "atlassian" and u["active"] and u.get("emailAddress")
                     and u["accountId"] != people[0]["accountId"])
        one = c.get(f"{V2}/user", params={"accountId": other["accountId"], "expand": "groups"}).json()
        assert {k: one[k] for k in other} == other
        groups = c.get(f"{V2}/user/groups", params={"accountId": other["accountId"]}).json()
        assert one["groups"]["size"] == len(groups) and one["groups"]["items"] == groups
        assert c.get(f"{V2}/user", params={"accountId": "nobody"}).status_code == 404
        assert c.get(f"{V2}/users").json() == c.get(f"{V2}/users/search").json()
        first = other["displayName"].split()[0]
        found = c.get(f"{V2}/user/search", params={"query": first}).json()
        assert other["accountId"] in {u["accountId"] for u in found}
        picked = c.get(f"{V2}/user/picker", params={"query": first}).json()
        assert other["accountId"] in {u["accountId"] for u in picked["users"]}
        assert picked["users"][0]["html"].count("<strong>") == 1
        assignable = c.get(f"{V2}/user/assignable/search", params={"project": "PLAT"}).json()
        assert assignable and all(u["active"] and u["accountType"] == "atlassian" for u in assignable)
        assert c.get(f"{V2}/user/assignable/search").status_code == 400
        assert c.get(f"{V2}/user/viewissue/search", params={"issueKey": "PLAT-1"}).status_code == 200
        g = c.get(f"{V2}/group/bulk").json()["values"][0]
        by_id = c.get(f"{V2}/group", params={"groupId": g["groupId"], "expand": "users"}).json()
        by_name = c.get(f"{V2}/group", params={"groupname": g["name"], "expand": "users"}).json()
        assert by_id == by_name and by_id["name"] == g["name"]
        members = c.get(f"{V2}/group/member", params={"groupname": g["name"], "includeInactiveUsers": "true"}).json()
        assert members == c.get(f"{V2}/group/member", params={"groupId": g["groupId"],
                                                              "includeInactiveUsers": "true"}).json()
        assert by_id["users"]["size"] == members["total"]
        word = g["name"].split("-")[0]
        gp = c.get(f"{V2}/groups/picker", params={"query": word}).json()
        assert g["groupId"] in {x["groupId"] for x in gp["groups"]}
        both = c.get(f"{V2}/groupuserpicker", params={"query": word}).json()
        assert both["groups"]["total"] == gp["total"] and "users" in both


def test_an_issues_transitions_watchers_votes_links_and_properties(sim):
    url, _ = sim
    with client(url) as c:
        issues = issues_of(c, "project = PLAT ORDER BY id", "status,watches,votes,issuelinks,comment,worklog")
        for issue in issues[:40]:
            key = issue["key"]
            status = issue["fields"]["status"]["id"]
            ts = c.get(f"{V2}/issue/{key}/transitions").json()["transitions"]
            assert {t["to"]["id"] for t in ts} == set(NEXT_STATUS[status])       # the workflow walked by changelogs
            w = c.get(f"{V2}/issue/{key}/watchers").json()
            assert w["watchCount"] == issue["fields"]["watches"]["watchCount"] == len(w["watchers"])
            assert w["isWatching"] is issue["fields"]["watches"]["isWatching"]
            v = c.get(f"{V2}/issue/{key}/votes").json()
            assert v["votes"] == issue["fields"]["votes"]["votes"] == len(v["voters"])
        one = ts[0]["id"]
        only = c.get(f"{V2}/issue/{key}/transitions", params={"transitionId": one}).json()["transitions"]
        assert [t["id"] for t in only] == [one]
        linked = next(i for i in issues if i["fields"]["issuelinks"])
        link = linked["fields"]["issuelinks"][0]
        got = c.get(f"{V2}/issueLink/{link['id']}").json()
        side = "outwardIssue" if "outwardIssue" in link else "inwardIssue"
        other = "inwardIssue" if side == "outwardIssue" else "outwardIssue"
        assert got[side]["key"] == link[side]["key"] and got[other]["key"] == linked["key"]
        assert c.get(f"{V2}/issueLink/1").status_code == 404
        assert c.get(f"{V2}/issue/{key}/properties").json() == {"keys": []}
        missing = c.get(f"{V2}/issue/{key}/properties/some.key")
        assert missing.status_code == 404 and missing.json()["errorMessages"]
        assert c.get(f"{V2}/issue/{key}/remotelink").json() == []
        rich = next(i for i in issues if i["fields"]["comment"]["comments"] and i["fields"]["worklog"]["worklogs"])
        cm = rich["fields"]["comment"]["comments"][0]
        assert c.get(f"{V2}/issue/{rich['key']}/comment/{cm['id']}").json() == cm
        wl = rich["fields"]["worklog"]["worklogs"][0]
        assert c.get(f"{V2}/issue/{rich['key']}/worklog/{wl['id']}").json() == wl
        meta = c.get(f"{V2}/issue/{key}/editmeta").json()["fields"]
        assert meta["summary"]["required"] is True and meta["priority"]["allowedValues"]
        for path in ("transitions", "watchers", "votes", "remotelink", "properties", "editmeta", "comment/1"):
            r = c.get(f"{V2}/issue/NOPE-999/{path}")
            assert r.status_code == 404, path
            assert r.json()["errorMessages"] == ["Issue does not exist or you do not have permission to see it."]


def test_the_issue_picker_finds_keys_and_summaries(sim):
    url, _ = sim
    with client(url) as c:
        issue = issues_of(c, "project = PLAT ORDER BY id DESC", "summary")[0]
        by_key = c.get(f"{V2}/issue/picker", params={"query": issue["key"]}).json()["sections"][0]["issues"]
        assert issue["key"] in [x["key"] for x in by_key]
        word = issue["fields"]["summary"].split()[-1]
        by_word = c.get(f"{V2}/issue/picker", params={"query": word, "currentJQL": "project = PLAT"}).json()
        assert [s["id"] for s in by_word["sections"]] == ["hs", "cs"]
        assert all(word.lower() in x["summaryText"].lower() for s in by_word["sections"] for x in s["issues"])


def test_projects_components_versions_and_config_objects(sim):
    url, _ = sim
    with client(url) as c:
        statuses = c.get(f"{V2}/project/PLAT/statuses").json()
        assert {t["name"] for t in statuses} >= {"Epic", "Story", "Bug"}
        assert {s["id"] for s in statuses[0]["statuses"]} == {s["id"] for s in c.get(f"{V2}/status").json()}
        comp = c.get(f"{V2}/project/PLAT/components").json()[0]
        assert c.get(f"{V2}/component/{comp['id']}").json() == comp
        counted = c.get(f"{V2}/project/PLAT/component").json()["values"][0]
        assert c.get(f"{V2}/component/{counted['id']}/relatedIssueCounts").json()["issueCount"] == \
            counted["issueCount"]
        ver = c.get(f"{V2}/project/PLAT/versions").json()[0]
        assert c.get(f"{V2}/version/{ver['id']}").json() == ver
        assert c.get(f"{V2}/project/PLAT/properties").json() == {"keys": []}
        for kind, ident in (("issuetype", "10001"), ("priority", "3"), ("resolution", "10000"),
                            ("status", "3"), ("statuscategory", "2"), ("issueLinkType", "10000"),
                            ("projectCategory", "10000"), ("dashboard", "10000")):
            one = c.get(f"{V2}/{kind}/{ident}")
            assert one.status_code == 200 and str(one.json()["id"]) == ident, kind
            assert c.get(f"{V2}/{kind}/999999").status_code == 404, kind
        assert c.get(f"{V2}/status/Done").json()["id"] == "10004"      # by name too
        recent = c.get(f"{V2}/project/recent").json()
        assert {p["key"] for p in recent} <= {p["key"] for p in c.get(f"{V2}/project/search").json()["values"]}


def test_agile_extras_agree_with_the_boards(sim):
    url, _ = sim
    with client(url) as c:
        board = next(b for b in c.get(f"{AG}/board").json()["values"] if b["type"] == "scrum")
        bid = board["id"]
        projects = c.get(f"{AG}/board/{bid}/project").json()["values"]
        assert [p["key"] for p in projects] == [board["location"]["projectKey"]]
        epics = c.get(f"{AG}/board/{bid}/epic").json()["values"]
        assert epics and all(c.get(f"{AG}/epic/{e['id']}").json() == e for e in epics[:3])
        epic = epics[0]
        in_epic = c.get(f"{SW}/board/{bid}/epic/{epic['id']}/issue", params={"fields": "parent"}).json()["issues"]
        assert all(i["fields"]["parent"]["id"] == str(epic["id"]) for i in in_epic)
        whole = c.get(f"{SW}/epic/{epic['key']}/issue", params={"fields": "parent"}).json()["issues"]
        assert {i["id"] for i in in_epic} <= {i["id"] for i in whole}
        backlog = c.get(f"{SW}/board/{bid}/backlog", params={"fields": "status,sprint", "maxResults": 5000}).json()
        count = c.get(f"{SW}/board/{bid}/backlog/approximate-count").json()["count"]
        assert len(backlog["issues"]) == count
        assert all(i["fields"]["status"]["statusCategory"]["key"] != "done" for i in backlog["issues"])
        total = c.get(f"{SW}/board/{bid}/issue/approximate-count").json()["count"]
        listed = c.get(f"{SW}/board/{bid}/issue", params={"fields": "key", "maxResults": 5000}).json()["issues"]
        assert total == len(listed)
        issue = c.get(f"{AG}/issue/{listed[0]['key']}").json()
        assert issue["key"] == listed[0]["key"] and "sprint" in issue["fields"]
        est = c.get(f"{AG}/issue/{listed[0]['key']}/estimation", params={"boardId": bid}).json()
        assert est["fieldId"] == "customfield_10016"
        assert c.get(f"{AG}/board/{bid}/properties").json() == {"keys": []}
        assert c.get(f"{AG}/sprint/1/properties").json() == {"keys": []}
        assert c.get(f"{AG}/board/{bid}/quickfilter").json()["values"] == []
        assert c.get(f"{AG}/board/99999/epic").status_code == 404


def test_unknown_paths_still_get_the_dead_link(sim):
    url, _ = sim
    with client(url) as c:
        for path in (f"{V2}/nothing/here", f"{V2}/issue/PLAT-1/nope", "/rest/agile/1.0/nope", "/secure/Nope.jspa"):
            r = c.get(path)
            assert r.status_code == 404 and "Oops, you&#39;ve found a dead link" in r.text, path
        assert c.post(f"{V2}/issue/PLAT-1").status_code == 405  # a method the tenant does not serve there


# The generic router is built from Atlassian's spec files beside the repository (jira_sim/spec_surface.py); a clone
# without them serves the hand-written routes only (the test above it shows that), so these parts need the files.
needs_spec_files = pytest.mark.skipif(not SPEC_DIR.is_dir(), reason=f"no Jira OpenAPI spec files at {SPEC_DIR}")


@needs_spec_files
def test_spec_paths_are_served_generically(sim):
    url, _ = sim
    with client(url) as c:
        assert c.get(f"{V2}/configuration/timetracking/options").status_code == 200


@needs_spec_files
def test_non_admin_reaches_a_spec_only_admin_path_as_jira_does():
    with start_simulator("--non-admin") as (url, _):
        with client(url) as c:
            r = c.get(f"{V2}/announcementBanner")
            assert r.status_code == 403 and r.json()["errorMessages"]


def test_without_the_spec_files_everything_hand_written_is_served(tmp_path):
    sim_ = Simulator(Tenant(1, "demo", "http://testserver"))
    app = build_app(sim_, spec_dir=tmp_path)          # an empty folder: no spec files
    assert not sim_.specs
    with TestClient(app) as c:
        c.auth = AUTH
        assert c.get(f"{V2}/myself").status_code == 200
        assert c.get(f"{V2}/issue/PLAT-1/transitions").status_code == 200
        assert c.get(f"{V2}/role").status_code == 200
        r = c.get(f"{V2}/configuration/timetracking/options")      # served from the specs only
        assert r.status_code == 404 and "dead link" in r.text


def test_non_admin_and_no_software_reach_the_new_paths_as_jira_does():
    with start_simulator("--non-admin", "--no-software") as (url, _):
        with client(url) as c:
            for path in ("role", "applicationrole", "workflow/search", "screens", "issuetypescheme"):
                r = c.get(f"{V2}/{path}")
                assert r.status_code == 403 and r.json()["errorMessages"], path
            assert c.get(f"{V2}/project/PLAT/role").status_code == 200
            for path in (f"{AG}/board/1/epic", f"{AG}/epic/PLAT-1", f"{SW}/board/1/backlog"):
                r = c.get(path)
                assert r.status_code == 404 and "dead link" in r.text, path
