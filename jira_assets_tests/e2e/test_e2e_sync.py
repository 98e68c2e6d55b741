"""End to end: every default asset against the simulator; every table equals the ground truth, and the number of
requests equals the paging plan (no redundant request)."""

from __future__ import annotations

import json

import pytest
from _simulator import start_simulator
from _sync import assert_table_equals_truth, parent_ids_from_truth, planned_requests, sync, table_rows

from jira_assets.endpoints import BY_NAME, DEFAULT_ENABLED


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    log, lake_dir = tmp / "requests.jsonl", tmp / "lake"
    with start_simulator("--scale", "demo", "--seed", "3", "--request-log", str(log)) as (url, _):
        result = sync(url, lake_dir=lake_dir)
        yield url, result, log, lake_dir


def test_every_default_asset_materializes(synced):
    _, result, _, _ = synced
    assert result.success, result.failures
    assert sorted(result.metadata) == sorted(DEFAULT_ENABLED)


# Tables Jira serves (the derived ones are computed from these: test_e2e_history.py, test_e2e_custom_fields.py).
FROM_JIRA = [n for n in DEFAULT_ENABLED if not BY_NAME[n].sync.derived]


@pytest.mark.parametrize("name", FROM_JIRA)
def test_table_equals_ground_truth(synced, name):
    url, result, _, lake_dir = synced
    rows = assert_table_equals_truth(url, lake_dir, name)
    assert result.metadata[name]["rows"] == rows


@pytest.mark.parametrize("name", DEFAULT_ENABLED)
def test_requests_follow_the_paging_plan(synced, name):
    url, result, _, lake_dir = synced
    parents = parent_ids_from_truth(url, name) if BY_NAME[name].parent else None
    assert result.metadata[name]["requests"] == planned_requests(url, name, parents)
    assert result.metadata[name]["retries"] == 0


def test_request_log_agrees_with_the_client(synced):
    """The server saw exactly the requests the assets report (plus nothing else)."""
    _, result, log, _ = synced
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == sum(m["requests"] for m in result.metadata.values())
    assert all(line["status"] == 200 for line in lines)


def test_typed_columns(synced):
    url, _, _, lake_dir = synced
    issues = {row["id"]: row for row in table_rows(lake_dir, "issue_search")}
    for row in issues.values():
        raw = json.loads(row["_raw"])
        assert row["key"] == raw["key"]
        assert row["project_key"] == raw["fields"]["project"]["key"]
        assert row["status_id"] == raw["fields"]["status"]["id"]
        assert row["updated"] is not None and row["updated"].tzinfo is not None
    boards = table_rows(lake_dir, "boards")
    assert all(isinstance(b["id"], int) for b in boards)
    sprints = table_rows(lake_dir, "board_sprints")
    assert {s["board_id"] for s in sprints} <= {b["id"] for b in boards if b["type"] in ("scrum", "simple")}
