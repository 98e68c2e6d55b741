"""End to end under faults: retried faults change nothing in the tables; fatal errors fail only their asset and
leave its table exactly as it was."""

from __future__ import annotations

import httpx
import pytest
from _simulator import start_simulator
from _sync import assert_table_equals_truth, lake, sync

from jira_assets.endpoints import DEFAULT_ENABLED

pytestmark = pytest.mark.slow

FAULTS = [
    "--error-rate", "0.1",          # 500/502/503/504 on 10% of requests
    "--throttle-rate", "0.05",      # 429s with Retry-After ...
    "--throttle-storm", "8",        # ... and a storm of 8 in a row at the start
    "--retry-after", "1",
    "--html-429-rate", "0.3",       # some 429s are Jira's old HTML page
    "--reset-rate", "0.03",         # connection resets
    "--truncate-rate", "0.03",      # truncated bodies
    "--fault-seed", "11",
]


def test_all_tables_equal_truth_under_faults(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "5", *FAULTS) as (url, _):
        result = sync(url, lake_dir=tmp_path / "lake", rate_limit=100, max_attempts=10, backoff_base_seconds=0.2)
        assert result.success, result.failures
        retries = sum(m["retries"] for m in result.metadata.values())
        assert retries > 0, "the faults were injected, so some requests must have been retried"
        for name in DEFAULT_ENABLED:
            assert_table_equals_truth(url, tmp_path / "lake", name)


def _snapshot(lake_dir, name):
    table = lake(lake_dir).load(name)
    return table.current_snapshot().snapshot_id, table.scan().to_arrow().num_rows


@pytest.mark.parametrize(
    "fault, names, failing, message",
    [
        ({"revoke_token": True}, ["issue_search", "issue_comments"], "issue_search",
         "401"),
        ({"deny_paths": ["/rest/api/2/workflows/search"]}, ["workflows", "statuses"], "workflows", "403"),
    ],
)
def test_fatal_error_fails_the_asset_and_keeps_its_table(tmp_path, fault, names, failing, message):
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "demo", "--seed", "5") as (url, _):
        first = sync(url, names, lake_dir=lake_dir)
        assert first.success, first.failures
        before = {name: _snapshot(lake_dir, name) for name in names}
        httpx.post(f"{url}/__sim/faults", json=fault).raise_for_status()
        second = sync(url, names, lake_dir=lake_dir)
        assert not second.success
        assert failing in second.failures
        error = second.failures[failing]
        assert message in error and failing in error, error
        assert "demo-token" not in error
        assert _snapshot(lake_dir, failing) == before[failing], "a failed run must leave the table exactly as it was"
