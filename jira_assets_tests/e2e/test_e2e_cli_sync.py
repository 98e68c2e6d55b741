"""The product card's own command, as a person runs it: `dagster asset materialize --select '*'` from the repo root.
One step per asset (its checks inside it), the requests exactly the paging plan plus the count check's one, every
table equal to the ground truth, and a progress line per asset."""

from __future__ import annotations

import json

import pytest
from _cli import materialize, output, project_env, tables
from _simulator import start_simulator
from _sync import assert_table_equals_truth
from paging_plan import memoized_truth, request_floor

from jira_assets.endpoints import BY_NAME, DEFAULT_ENABLED

pytestmark = pytest.mark.slow


def test_the_cli_full_sync_is_one_step_per_asset_at_the_request_floor(tmp_path):
    log = tmp_path / "requests.jsonl"
    with start_simulator("--scale", "demo", "--seed", "3", "--request-log", str(log)) as (url, _):
        run = materialize(project_env(tmp_path, url), "*")
        text = output(run)
        assert run.returncode == 0, text[-3000:]
        truth = memoized_truth()
        floor = sum(request_floor(url, name, truth=truth) for name in DEFAULT_ENABLED)
        for name in DEFAULT_ENABLED:
            assert_table_equals_truth(url, tmp_path / "lake", name)
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    # The sync's requests are the floor; the checks add one: issue_search's approximate count.
    assert len(requests) == floor + 1
    assert sum(r["path"].endswith("/search/approximate-count") for r in requests) == 1
    steps = [line for line in text.splitlines() if " - STEP_START - " in line]
    assert len(steps) == len(DEFAULT_ENABLED)
    for name in DEFAULT_ENABLED:
        assert any(f" - {name}: " in line and " requests in " in line for line in text.splitlines()), name


def test_issue_search_plus_on_a_fresh_lake_syncs_the_issues_and_the_history_tables_wait(tmp_path):
    """`--select issue_search+` (the product card's command: issue_search and the assets built directly from it) on
    a fresh lake: issue_search, its three children and the lists inside an issue are synced; issue_sprints (it finds
    the Sprint field in `fields`) and the history tables (they also read fields and statuses) wait with one warning
    each, and sprint_issue_history, built from those, skips. The run succeeds."""
    with start_simulator("--scale", "demo", "--seed", "3") as (url, _):
        run = materialize(project_env(tmp_path, url), "issue_search+")
        text = output(run)
        assert run.returncode == 0, text[-3000:]
        built = set(tables(tmp_path / "lake"))
        waiting = {"issue_sprints", "issue_field_history", "issue_status_intervals", "issue_flow"}
        synced = {name for name in DEFAULT_ENABLED if BY_NAME[name].parent is not None
                  and BY_NAME[name].parent.asset == "issue_search"} - waiting | {"issue_search"}
        assert {"issue_changelog", "issue_comments", "issue_worklog", "issue_labels"} <= synced <= built
        assert not (waiting | {"sprint_issue_history", "sprint_report"}) & built
        for name in sorted(synced):
            assert_table_equals_truth(url, tmp_path / "lake", name)
    assert ("issue_sprints is not built in this run: issue_sprints is computed from fields, which has never been "
            "built: materialize fields first.") in text
    for name in ("issue_field_history", "issue_status_intervals", "issue_flow"):
        assert (f"{name} is not built in this run: {name} is computed from fields and statuses, which have never "
                "been built: materialize fields and statuses first.") in text, name
    assert "sprint_issue_history - STEP_SKIPPED" in text, text[-3000:]
