"""Every paging style against the simulator: exact records (vs ground truth) and exact request counts (vs the
simulator's request log). Small page sizes force several pages; the simulator echoes the size it used."""

from __future__ import annotations

import asyncio
import math
from collections import Counter

import pytest

from _client_fixtures import make_client, simulator
from jira_assets.jira import paging
from jira_assets.jira.client import JiraError

AGILE_FIELDS = "key,updated,status,issuetype,sprint,closedSprints,flagged,epic"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    # Jira's burst limit is off here: these tests count requests, and 429s are the fault tests' business.
    with simulator(tmp_path_factory.mktemp("sim"), "--seed", "3", "--burst-limit", "0") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(sim):
    sim.reset()


def collect(sim, tmp_path, make_pages, **client_kwargs):
    """Run a pager to the end; return (records, client stats, new request-log entries)."""

    async def go():
        async with make_client(sim.url, tmp_path, **client_kwargs) as client:
            pages = [page async for page in make_pages(client)]
            return pages, client.stats

    pages, stats = asyncio.run(go())
    return pages, stats, sim.new_entries()


def pages_for(n: int, size: int, *, probe_when_full: bool = False) -> int:
    """Requests a pager needs for n records at `size` per page (an empty first page is one request)."""
    if n == 0:
        return 1
    return math.ceil(n / size) + (1 if probe_when_full and n % size == 0 else 0)


def ids(records, key="id"):
    return sorted(str(r[key]) for r in records)


def truth_records(sim, endpoint, **parents):
    return [t["record"] for t in sim.truth(endpoint) if all(t["parents"].get(k) == v for k, v in parents.items())]


def test_page_bean_project_search(sim, tmp_path):
    params = {"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
              "status": "live,archived,deleted"}
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.page_bean(
        c, "/rest/api/2/project/search", params, endpoint="project_search", page_size=3))
    truth = truth_records(sim, "project_search")
    got = [r for p in pages for r in p]
    assert sorted(got, key=lambda r: r["id"]) == sorted(truth, key=lambda r: r["id"])  # exactly what Jira served
    assert len(log) == stats.requests == pages_for(len(truth), 3)
    assert [e["query"].count("maxResults=3") for e in log] == [1] * len(log)


def test_page_bean_reads_back_the_cap(sim, tmp_path):
    """Asking for 1000 where Jira caps at 100: the pager follows startAt by what came back, not by what it asked."""
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.page_bean(
        c, "/rest/api/2/filter/search", {"expand": "jql"}, endpoint="filters"))
    truth = truth_records(sim, "filters")
    assert ids([r for p in pages for r in p]) == ids(truth)
    assert stats.requests == len(log) == pages_for(len(truth), 100)
    assert "maxResults=1000" in log[0]["query"]


def test_page_bean_without_is_last_comments(sim, tmp_path):
    """PageOfComments has total but no isLast."""
    per_issue = Counter(t["parents"]["issue_id"] for t in sim.truth("issue_comments"))
    issue_id, n = per_issue.most_common(1)[0]
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.page_bean(
        c, f"/rest/api/2/issue/{issue_id}/comment", {"orderBy": "created"}, endpoint="issue_comments",
        page_size=4, values_key="comments"))
    assert ids([r for p in pages for r in p]) == ids(truth_records(sim, "issue_comments", issue_id=issue_id))
    assert stats.requests == len(log) == pages_for(n, 4)


def test_page_bean_dashboards_wrapper_key(sim, tmp_path):
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.page_bean(
        c, "/rest/api/2/dashboard", endpoint="dashboards", page_size=5, values_key="dashboards"))
    truth = truth_records(sim, "dashboards")
    assert ids([r for p in pages for r in p]) == ids(truth)
    assert stats.requests == len(log) == pages_for(len(truth), 5)


def test_agile_page_boards(sim, tmp_path):
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.agile_page(
        c, "/rest/agile/1.0/board", {"includePrivate": "true"}, endpoint="boards", page_size=4))
    truth = truth_records(sim, "boards")
    assert ids([r for p in pages for r in p]) == ids(truth)
    assert stats.requests == len(log) == pages_for(len(truth), 4)


def test_cursor_post_issue_search(sim, tmp_path):
    body = {"jql": 'updated >= "1970-01-01 00:00" ORDER BY updated ASC, id ASC', "fields": ["id"]}
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.cursor(
        c, "POST", "/rest/api/2/search/jql", body, endpoint="issue_search", items_key="issues", page_size=70))
    n = len(sim.truth("issue_search"))
    got = [r for p in pages for r in p]
    assert len(got) == n and len({r["id"] for r in got}) == n
    assert stats.requests == len(log) == pages_for(n, 70)
    assert all(e["method"] == "POST" for e in log)


def test_cursor_get_software_board_issues(sim, tmp_path):
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.cursor(
        c, "GET", "/rest/software/1.0/board/1/issue", {"fields": AGILE_FIELDS}, endpoint="board_issues",
        items_key="issues", page_size=6))
    truth = truth_records(sim, "board_issues", board_id=1)
    assert ids([r for p in pages for r in p]) == ids(truth)
    assert stats.requests == len(log) == pages_for(len(truth), 6)
    assert "nextPageToken" not in log[0]["query"] and all("nextPageToken=" in e["query"] for e in log[1:])


def test_cursor_changelog_bulkfetch(sim, tmp_path):
    issue_ids = sorted({t["parents"]["issue_id"] for t in sim.truth("issue_changelog")})[:5]
    histories = [t for t in sim.truth("issue_changelog") if t["parents"]["issue_id"] in issue_ids]
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.cursor(
        c, "POST", "/rest/api/2/changelog/bulkfetch", {"issueIdsOrKeys": issue_ids}, endpoint="issue_changelog",
        items_key="issueChangeLogs", page_size=7))
    got = [h for p in pages for entry in p for h in entry["changeHistories"]]
    assert ids(got) == ids([t["record"] for t in histories])
    assert stats.requests == len(log) == pages_for(len(histories), 7)


def test_offset_limit_audit_records(sim, tmp_path):
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.offset_limit(
        c, "/rest/api/2/auditing/record", endpoint="audit_records", page_size=40))
    truth = truth_records(sim, "audit_records")
    assert ids([r for p in pages for r in p]) == ids(truth)
    assert stats.requests == len(log) == pages_for(len(truth), 40)


def test_plain_array_fields(sim, tmp_path):
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.plain_array(c, "/rest/api/2/field", endpoint="fields"))
    assert ids([r for p in pages for r in p]) == ids(truth_records(sim, "fields"))
    assert stats.requests == len(log) == 1


@pytest.mark.parametrize("size", [7, 8])
def test_short_page_array_users(sim, tmp_path, size):
    """Bare arrays until a short page: when the count divides evenly, one more (empty) page proves the end."""
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.short_page_array(
        c, "/rest/api/2/users/search", endpoint="users_search", page_size=size))
    truth = truth_records(sim, "users_search")
    assert ids([r for p in pages for r in p], "accountId") == ids(truth, "accountId")
    assert stats.requests == len(log) == pages_for(len(truth), size, probe_when_full=True)


def test_since_until_worklog_updated(sim, tmp_path):
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.since_until(
        c, "/rest/api/2/worklog/updated", {"since": 0}, endpoint="worklog_updated"))
    truth = truth_records(sim, "worklog_updated")
    assert sorted(r["worklogId"] for p in pages for r in p) == sorted(r["worklogId"] for r in truth)
    assert stats.requests == len(log) == pages_for(len(truth), 1000)


def test_wrapper_issue_link_types(sim, tmp_path):
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.wrapper(
        c, "/rest/api/2/issueLinkType", endpoint="issue_link_types", items_key="issueLinkTypes"))
    assert ids([r for p in pages for r in p]) == ids(truth_records(sim, "issue_link_types"))
    assert stats.requests == len(log) == 1


def test_single_server_info(sim, tmp_path):
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.single(c, "/rest/api/2/serverInfo", endpoint="server_info"))
    assert pages == [[truth_records(sim, "server_info")[0]]]
    assert stats.requests == len(log) == 1


def _kanban_board(sim) -> int:
    return next(b["id"] for b in truth_records(sim, "boards") if b.get("type") == "kanban")


def test_skip_status_is_counted_and_reported_never_silent(sim, tmp_path):
    board = _kanban_board(sim)
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.agile_page(
        c, f"/rest/agile/1.0/board/{board}/sprint", {"state": "future,active,closed"}, endpoint="board_sprints",
        skip_statuses={400}))
    assert pages == [] and len(log) == 1 and log[0]["status"] == 400
    assert stats.skipped_parents == 1
    assert stats.skip_reasons == {"board_sprints 400: The board does not support sprints": 1}
    assert stats.skips[0]["path"] == f"/rest/agile/1.0/board/{board}/sprint"


def test_without_skip_status_the_same_answer_raises(sim, tmp_path):
    board = _kanban_board(sim)

    async def go():
        async with make_client(sim.url, tmp_path) as client:
            with pytest.raises(JiraError) as info:
                [p async for p in paging.agile_page(client, f"/rest/agile/1.0/board/{board}/sprint",
                                                     endpoint="board_sprints")]
            return info.value

    err = asyncio.run(go())
    assert err.status == 400 and err.error_messages == ["The board does not support sprints"]
    assert "Likely cause" in str(err)
    assert len(sim.new_entries()) == 1


def test_skip_statuses_do_not_hide_other_failures(sim, tmp_path):
    sim.set_faults(fail_first={"/rest/api/2/serverInfo": [403]})

    async def go():
        async with make_client(sim.url, tmp_path) as client:
            with pytest.raises(JiraError):
                [p async for p in paging.single(client, "/rest/api/2/serverInfo", endpoint="server_info",
                                                skip_statuses={404})]
            return client.stats

    stats = asyncio.run(go())
    assert stats.skipped_parents == 0 and stats.requests == 1


def test_page_bean_sends_start_at_and_page_size(sim, tmp_path):
    pages, stats, log = collect(sim, tmp_path, lambda c: paging.page_bean(
        c, "/rest/api/2/priority/search", endpoint="priorities", page_size=2))
    starts = [q.split("&")[0] for q in (e["query"] for e in log)]
    assert starts == [f"startAt={2 * i}" for i in range(len(log))]
    assert all("maxResults=2" in e["query"] and e["status"] == 200 for e in log)
    assert ids([r for p in pages for r in p]) == ids(truth_records(sim, "priorities"))
