"""Incremental sync: after rounds of random changes in Jira every table equals the ground truth, a quiet run costs
almost nothing, a killed run converges, and the window edges lose nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from _simulator import advance, start_simulator, truth
from _sync import assert_table_equals_truth, lake, sync, table_rows

from jira_assets.sync.base import FULL_REFRESH_TAG
from jira_assets.sync.summary import CURSOR_UPDATED

ISSUE_TABLES = ["issue_search", "issue_changelog", "issue_comments", "issue_worklog", "worklog_updated"]
SYNCED = ISSUE_TABLES + ["project_search", "project_versions", "project_components"]


def _assert_all_equal_truth(url, lake_dir, names=SYNCED):
    for name in names:
        assert_table_equals_truth(url, lake_dir, name, embedded_may_lag=name == "issue_search")


@pytest.mark.slow
def test_rounds_of_random_changes_converge_to_ground_truth(tmp_path, monkeypatch):
    monkeypatch.setenv("JIRA_CENSUS_EVERY_HOURS", "0")  # census every run, so deletions show up at once
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "demo", "--seed", "21") as (url, _):
        first = sync(url, SYNCED, lake_dir=lake_dir)
        assert first.success, first.failures
        assert first.metadata["issue_search"]["incremental"] is False
        rounds = [
            dict(update_issues=20, add_issues=5, add_comments=30, add_worklogs=10),
            dict(delete_issues=4, delete_worklogs=5, update_issues=10),
            dict(add_projects=1, add_issues=8, add_comments=25, add_worklogs=6, delete_worklogs=2),
            dict(update_issues=15, delete_issues=2, add_comments=40),
        ]
        for changes in rounds:
            applied = advance(url, minutes=30, **changes)["applied"]
            assert applied == {**{k: 0 for k in applied}, **changes}
            result = sync(url, SYNCED, lake_dir=lake_dir)
            assert result.success, result.failures
            assert result.metadata["issue_search"]["incremental"] is True
            _assert_all_equal_truth(url, lake_dir)
        deleted = sum(r.get("delete_issues", 0) for r in rounds)
        assert len(table_rows(lake_dir, "issue_search")) == len(truth(url, "issue_search"))
        assert deleted == 6


def test_a_quiet_run_makes_almost_no_requests(tmp_path):
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "demo", "--seed", "22") as (url, _):
        assert sync(url, ISSUE_TABLES, lake_dir=lake_dir).success
        quiet = sync(url, ISSUE_TABLES, lake_dir=lake_dir)
        assert quiet.success, quiet.failures
        requests = {name: quiet.metadata[name]["requests"] for name in ISSUE_TABLES}
        # issue_search: GET /myself, one search page and the approximate count that would reveal a deletion; its
        # children: no issue changed, nothing to ask; worklog_updated: worklog/updated (its deletion feed is read at
        # the census cadence).
        assert requests == {"issue_search": 3, "issue_changelog": 0, "issue_comments": 0, "issue_worklog": 0,
                            "worklog_updated": 1}
        # Nothing changed, so nothing is rewritten (worklog_updated re-reads its overlap window idempotently).
        assert {name: quiet.metadata[name]["rows"] for name in ISSUE_TABLES if name != "worklog_updated"} == {
            "issue_search": 0, "issue_changelog": 0, "issue_comments": 0, "issue_worklog": 0}
        _assert_all_equal_truth(url, lake_dir, ISSUE_TABLES)


def test_deleted_issues_leave_every_issue_table_on_the_next_incremental_run(tmp_path):
    """No census is due (the default cadence is a day): one approximate count reveals the deletions, the census
    runs in that same run, and every issue table equals Jira; a run after it costs no census."""
    lake_dir = tmp_path / "lake"
    tables = ["issue_search", "issue_changelog", "issue_comments", "issue_worklog"]
    with start_simulator("--scale", "demo", "--seed", "25") as (url, _):
        assert sync(url, tables, lake_dir=lake_dir).success
        advance(url, minutes=30, delete_issues=3, update_issues=5, add_issues=2)
        result = sync(url, tables, lake_dir=lake_dir)
        assert result.success, result.failures
        meta = result.metadata["issue_search"]
        assert meta["census"] is True and meta["issues_deleted"] == 3
        assert meta["deletion_check"]["jira_count"] == meta["deletion_check"]["table_count"] - 3
        _assert_all_equal_truth(url, lake_dir, tables)
        after = sync(url, tables, lake_dir=lake_dir)
        assert after.metadata["issue_search"]["census"] is False
        assert after.metadata["issue_search"]["requests"] == 3


def test_the_issue_filter_restricts_every_table_read_from_issues(tmp_path, monkeypatch):
    """Worklogs come from a site-wide feed and board issues from the board: with JIRA_JQL_FILTER set, each keeps
    only the issues (and their worklogs) issue_search holds."""
    lake_dir = tmp_path / "lake"
    tables = ["issue_search", "issue_worklog", "worklog_updated", "boards", "board_issues", "board_sprints",
              "sprint_issues"]
    with start_simulator("--scale", "demo", "--seed", "26") as (url, _):
        in_sprints = Counter(i["record"]["key"].split("-")[0] for i in truth(url, "sprint_issues"))
        project = in_sprints.most_common(1)[0][0]  # a project with sprints, so every table has rows to check
        monkeypatch.setenv("JIRA_JQL_FILTER", f"project = {project}")
        result = sync(url, tables, lake_dir=lake_dir)
        assert result.success, result.failures
        kept = {str(row["id"]) for row in table_rows(lake_dir, "issue_search")}
        assert kept and {row["project_key"] for row in table_rows(lake_dir, "issue_search")} == {project}
        worklogs = table_rows(lake_dir, "issue_worklog")
        assert worklogs and {row["issue_id"] for row in worklogs} <= kept
        in_scope = {int(row["id"]) for row in worklogs}
        assert {row["worklog_id"] for row in table_rows(lake_dir, "worklog_updated")} == in_scope
        for name in ("board_issues", "sprint_issues"):
            rows = table_rows(lake_dir, name)
            assert rows and {str(row["id"]) for row in rows} <= kept, name
            assert {row["key"].split("-")[0] for row in rows} == {project}, name


def test_edges_of_the_window(tmp_path):
    """An issue updated in the cursor's own minute, and one updated while a run is going, are both captured."""
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "demo", "--seed", "23") as (url, _):
        assert sync(url, ["issue_search"], lake_dir=lake_dir).success
        advance(url, minutes=1, update_issues=1)  # stamped 1 s after the clock: the minute of the cursor
        cursor = lake(lake_dir).last_committed_property("issue_search", CURSOR_UPDATED)
        assert sync(url, ["issue_search"], lake_dir=lake_dir).success
        assert_table_equals_truth(url, lake_dir, "issue_search", embedded_may_lag=True)
        advance(url, minutes=1, update_issues=1)
        assert lake(lake_dir).last_committed_property("issue_search", CURSOR_UPDATED) >= cursor
        # A change that lands after this run's search has passed: the next run picks it up.
        assert sync(url, ["issue_search"], lake_dir=lake_dir).success
        advance(url, minutes=0, update_issues=1)
        assert sync(url, ["issue_search"], lake_dir=lake_dir).success
        assert_table_equals_truth(url, lake_dir, "issue_search", embedded_may_lag=True)


def test_full_refresh_on_demand_and_on_a_changed_filter(tmp_path, monkeypatch):
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "demo", "--seed", "24") as (url, _):
        assert sync(url, ["issue_search", "issue_comments"], lake_dir=lake_dir).success
        forced = sync(url, ["issue_search", "issue_comments"], lake_dir=lake_dir, tags={FULL_REFRESH_TAG: "true"})
        assert forced.metadata["issue_search"]["incremental"] is False
        assert forced.metadata["issue_comments"]["incremental"] is False
        projects = sorted({row["project_key"] for row in table_rows(lake_dir, "issue_search")})
        monkeypatch.setenv("JIRA_JQL_FILTER", f"project = {projects[0]}")
        narrowed = sync(url, ["issue_search", "issue_comments"], lake_dir=lake_dir)
        assert narrowed.success, narrowed.failures
        assert narrowed.metadata["issue_search"]["incremental"] is False
        assert narrowed.metadata["issue_comments"]["incremental"] is False
        assert {row["project_key"] for row in table_rows(lake_dir, "issue_search")} == {projects[0]}
        kept = {row["id"] for row in table_rows(lake_dir, "issue_search")}
        assert {row["issue_id"] for row in table_rows(lake_dir, "issue_comments")} <= kept


@pytest.mark.slow
def test_a_killed_run_converges(tmp_path, monkeypatch):
    """SIGKILL in the middle of a materialization, then run again: ground truth, no duplicate keys, nothing lost."""
    monkeypatch.setenv("JIRA_CENSUS_EVERY_HOURS", "0")  # the rerun also applies the deleted worklogs
    lake_dir = tmp_path / "lake"
    log = tmp_path / "requests.jsonl"
    with start_simulator("--scale", "demo", "--seed", "25", "--latency-ms", "150", "--request-log", str(log)) as (url, _):
        assert sync(url, ISSUE_TABLES, lake_dir=lake_dir).success
        advance(url, minutes=30, update_issues=40, add_comments=60, add_worklogs=20, delete_worklogs=3)
        env = {**os.environ, "JIRA_BASE_URL": url, "JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "demo-token",
               "JIRA_ASSETS_LAKE_DIR": str(lake_dir), "JIRA_RATE_LIMIT": "3"}
        before = len(log.read_text().splitlines())
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "jira_assets.definitions",
             "--select", ",".join(ISSUE_TABLES)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while len(log.read_text().splitlines()) < before + 4 and time.monotonic() < deadline:
            time.sleep(0.05)  # killed once the run is fetching, mid-materialization
        assert proc.poll() is None, "the run finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        rerun = sync(url, ISSUE_TABLES, lake_dir=lake_dir)
        assert rerun.success, rerun.failures
        _assert_all_equal_truth(url, lake_dir, ISSUE_TABLES)


@pytest.mark.slow
def test_the_cursor_is_committed_when_the_stream_spans_many_batches(tmp_path):
    """10,000 issues stream as several Arrow batches; the cursor completed at the end must still be committed."""
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "standard", "--seed", "26", "--burst-limit", "0") as (url, _):
        first = sync(url, ["issue_search"], lake_dir=lake_dir, rate_limit=200)
        assert first.success and first.metadata["issue_search"]["rows"] == 10_000
        assert lake(lake_dir).last_committed_property("issue_search", CURSOR_UPDATED)
        advance(url, minutes=60, update_issues=100)
        second = sync(url, ["issue_search"], lake_dir=lake_dir, rate_limit=200)
        assert second.success, second.failures
        assert second.metadata["issue_search"]["incremental"] is True
        assert second.metadata["issue_search"]["rows"] == 100
        # /myself, then the changed issues plus those the overlap window brings back, 100 a page (fields=*all),
        # and the one approximate count that looks for deleted issues
        fetched = 100 + second.metadata["issue_search"]["unchanged_skipped"]
        assert second.metadata["issue_search"]["requests"] == 2 + -(-fetched // 100)
