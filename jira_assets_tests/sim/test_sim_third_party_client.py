"""A real third-party Jira client, the `jira` package from PyPI (pycontribs), reads the whole demo site from the
simulator the way its users script a sync, and finds what the simulator's ground truth holds: every project with its
components and versions, every issue (paged by nextPageToken, with the expand values the spec lists) with its whole
changelog and comments, every board with its configuration and sprints (team-managed boards included), the
catalogues, groups and their members, and the per-issue and per-project reads (transitions, watchers, votes, remote
links, properties, roles, security levels, create metadata). Paths only Jira Server has answer Cloud's dead link."""

from __future__ import annotations

from collections import Counter

import pytest
from _simulator import EMAIL, TOKEN, sim, truth  # noqa: F401

jira = pytest.importorskip("jira")

ISSUE_EXPAND = "changelog,renderedFields,names,schema,transitions,operations,editmeta"


@pytest.fixture(scope="module")
def client(sim):
    url, _ = sim
    # The client reads serverInfo on connect and keeps it: a Cloud deployment, as Jira Cloud reports it.
    return url, jira.JIRA(server=url, basic_auth=(EMAIL, TOKEN), get_server_info=True)


def by_parent(items: list[dict], key: str) -> Counter:
    return Counter(str(item["parents"][key]) for item in items)


def test_it_connects_as_to_jira_cloud(client):
    url, j = client
    assert j._is_cloud and j.server_info()["deploymentType"] == "Cloud"
    me = j.myself()
    assert me["emailAddress"] == EMAIL and j.user(me["accountId"]).accountId == me["accountId"]


def test_projects_with_their_components_versions_and_roles(client):
    url, j = client
    projects = j.projects()  # the deprecated list: live projects only (the truth holds archived and deleted too)
    live = [i["record"] for i in truth(url, "project_search")
            if not i["record"].get("archived") and not i["record"].get("deleted")]
    assert sorted(p.key for p in projects) == sorted(r["key"] for r in live) and len(live) > 2
    components = by_parent(truth(url, "project_components"), "project_id")
    versions = by_parent(truth(url, "project_versions"), "project_id")
    secured = 0
    for p in projects:
        project = j.project(p.key)
        assert project.key == p.key
        assert len(j.project_components(p.key)) == components[p.id], p.key
        assert len(j.project_versions(p.key)) == versions[p.id], p.key
        roles = j.project_roles(p.key)
        assert roles, p.key
        for name, link in roles.items():
            role = j.project_role(p.key, link["id"])
            assert role.name == name
        try:
            secured += bool(j.project_issue_security_level_scheme(p.key).raw["levels"])
        except jira.JIRAError as err:  # as Jira answers for a project without one
            assert err.status_code == 404 and "No issue security scheme" in err.text, err.text
        assert j.project_permissionscheme(p.key).raw["name"]
        assert j.project_notification_scheme(p.key).raw["name"]
        metas = j._get_json(f"issue/createmeta/{p.key}/issuetypes")
        assert metas["total"] == len(metas["issueTypes"]) > 0
    assert secured > 0


def test_every_issue_paged_with_its_expands_changelog_and_comments(client):
    url, j = client
    truth_issues = {i["record"]["key"]: i["record"] for i in truth(url, "issue_search")}
    histories = by_parent(truth(url, "issue_changelog"), "issue_id")
    comments = by_parent(truth(url, "issue_comments"), "issue_id")
    # maxResults=0: the client follows nextPageToken to the end; search/jql wants a bounded query.
    issues = j.enhanced_search_issues("created >= -36500d order by key", maxResults=0, expand="changelog,names")
    assert sorted(i.key for i in issues) == sorted(truth_issues)
    assert all(i.id == truth_issues[i.key]["id"] for i in issues)
    for issue in issues[:40]:
        full = j.issue(issue.key, expand=ISSUE_EXPAND)
        assert {"renderedFields", "names", "schema", "transitions", "operations", "editmeta", "changelog"} <= set(full.raw)
        assert full.changelog.total == len(full.changelog.histories) == histories[issue.id], issue.key
        assert len(j.comments(issue.key)) == comments[issue.id], issue.key
        assert {t["id"] for t in j.transitions(issue.key)} == {t["id"] for t in full.raw["transitions"]}
        assert j.watchers(issue.key).watchCount == len(j.watchers(issue.key).watchers)
        assert j.votes(issue.key).votes >= 0
        assert isinstance(j.remote_links(issue.key), list)
        assert isinstance(j.issue_properties(issue.key), list)
        assert full.fields.project.key == issue.fields.project.key
    with pytest.raises(jira.JIRAError) as unbounded:
        j.enhanced_search_issues("order by key", maxResults=10)
    assert unbounded.value.status_code == 400 and "Unbounded JQL" in unbounded.value.text


def test_boards_their_configuration_and_sprints_team_managed_included(client):
    url, j = client
    boards = j.boards()
    # Without includePrivate Jira leaves out the private boards (the truth lists them, without name and type).
    public = [int(i["record"]["id"]) for i in truth(url, "boards") if "type" in i["record"]]
    assert sorted(b.id for b in boards) == sorted(public) and len(public) < len(truth(url, "boards"))
    assert {"scrum", "kanban", "simple"} <= {b.type for b in boards}
    sprints = by_parent(truth(url, "board_sprints"), "board_id")
    for b in boards:
        config = j._get_json(f"board/{b.id}/configuration", base=j.AGILE_BASE_URL)
        assert config["id"] == b.id and config["columnConfig"]["columns"]
        got = j.sprints(b.id, maxResults=0) if b.type != "kanban" else []
        assert len(got) == sprints[str(b.id)], (b.id, b.type)
        for sprint in got[:2]:
            assert j.sprint(sprint.id).id == sprint.id
    assert any(sprints[str(b.id)] for b in boards if b.type == "simple")


def test_catalogues_groups_and_members(client):
    url, j = client
    assert len(j.fields()) == len(truth(url, "fields"))
    assert len(j.statuses()) == len(truth(url, "statuses"))
    assert len(j.priorities()) == len(truth(url, "priorities"))
    assert len(j.resolutions()) == len(truth(url, "resolutions"))
    assert len(j.issue_link_types()) == len(truth(url, "issue_link_types"))
    groups = j.groups(maxResults=1000)
    assert sorted(groups) == sorted(i["record"]["name"] for i in truth(url, "groups"))
    members = by_parent(truth(url, "group_members"), "group_id")
    ids = {i["record"]["name"]: i["record"]["groupId"] for i in truth(url, "groups")}
    for name in groups:
        assert len(j.group_members(name)) == members[ids[name]], name
    assert len(j.dashboards(maxResults=1000)) == len(truth(url, "dashboards"))
    level = j.project_issue_security_level_scheme(j.projects()[0].key).raw["levels"][0]
    assert j.security_level(level["id"]).name == level["name"]


def test_paths_only_jira_server_has_are_cloud_dead_links(client):
    url, j = client
    key = j.projects()[0].key
    for call in (lambda: j.project_priority_scheme(key), lambda: j.project_workflow_scheme(key)):
        with pytest.raises(jira.JIRAError) as dead:
            call()
        assert dead.value.status_code == 404 and "dead link" in dead.value.text
