"""The product card's own command, as a person runs it: `dagster asset materialize --select '*'` from the repo root.
One step per asset (its checks inside it), the requests exactly the paging plan plus the count check's one, every
table equal to the ground truth, and a progress line per asset."""

from __future__ import annotations

import json

import pytest
from _cli import materialize, output, project_env
from _simulator import start_simulator
from _sync import assert_table_equals_truth
from paging_plan import memoized_truth, request_floor

from jira_assets.endpoints import DEFAULT_ENABLED

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
