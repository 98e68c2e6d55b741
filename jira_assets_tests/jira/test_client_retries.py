"""Retries and errors against the simulator's faults: exact request and retry counts, from its request log."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _client_fixtures import make_client, simulator
from jira_assets.jira.client import JiraError

PATH = "/rest/api/2/serverInfo"
WORKER = str(Path(__file__).with_name("_throttle_worker.py"))


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with simulator(tmp_path_factory.mktemp("sim"), "--seed", "5", "--burst-limit", "0") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(sim):
    sim.reset()


def fetch(sim, tmp_path, path=PATH, **client_kwargs):
    """GET path once through a fresh client; returns (result or JiraError, stats, new log entries)."""

    async def go():
        async with make_client(sim.url, tmp_path, **client_kwargs) as client:
            try:
                result = await client.get_json(path, endpoint="server_info")
            except JiraError as err:
                result = err
            return result, client.stats

    result, stats = asyncio.run(go())
    return result, stats, sim.new_entries()


# Each entry is one failed attempt the client must retry; retry_after 0 keeps 429s fast (Retry-After: 0).
RETRYABLE = ["429", "500", "502", "503", "504", "reset", "truncate", "html429"]


@pytest.mark.parametrize("fault", RETRYABLE)
def test_each_retryable_fault_costs_exactly_one_retry(sim, tmp_path, fault):
    entry = int(fault) if fault.isdigit() else fault
    sim.set_faults(fail_first={PATH: [entry]}, retry_after_seconds=0)
    result, stats, log = fetch(sim, tmp_path)
    assert result["deploymentType"] == "Cloud"
    assert len(log) == 2 and stats.requests == 2 and stats.retries == 1
    assert [e.get("fault") for e in log] == ["fail_first", None]
    assert log[-1]["status"] == 200


def test_a_run_of_mixed_faults_is_retried_in_order(sim, tmp_path):
    schedule = [503, "reset", 429, "truncate", 502, "html429"]
    sim.set_faults(fail_first={PATH: schedule}, retry_after_seconds=0)
    result, stats, log = fetch(sim, tmp_path, max_attempts=7)
    assert result["deploymentType"] == "Cloud"
    assert stats.requests == len(log) == 7 and stats.retries == 6
    assert [e["status"] for e in log] == [503, 0, 429, 200, 502, 429, 200]  # a truncated 200 is logged as 200
    # The reset never produced a status and the truncated body failed while being read: both are network errors.
    assert stats.by_status == {503: 1, 429: 2, 502: 1, 200: 1}
    assert sum(stats.by_error.values()) == 2


def test_retries_stop_at_max_attempts_with_a_clear_error(sim, tmp_path):
    sim.set_faults(fail_first={PATH: [503, 503, 503, 503, 503]})
    err, stats, log = fetch(sim, tmp_path, max_attempts=3)
    assert isinstance(err, JiraError)
    assert len(log) == 3 and stats.requests == 3 and stats.retries == 2
    assert err.status == 503 and err.attempts == 3
    assert "after 3 attempts" in str(err) and "max_attempts=3" in str(err)
    assert "Service unavailable" in str(err)


def test_retries_stop_when_the_time_budget_would_be_exceeded(sim, tmp_path):
    sim.set_faults(fail_first={PATH: [429, 429]}, retry_after_seconds=30)
    err, stats, log = fetch(sim, tmp_path, max_retry_seconds=5)
    assert isinstance(err, JiraError) and err.status == 429
    assert len(log) == 1 and stats.retries == 0  # Jira asked for 30 s; the budget is 5 s: no point waiting
    assert "would exceed max_retry_seconds=5" in str(err)
    assert "The request has been rate-limited" in str(err)


def test_network_failures_until_the_end_name_the_failure(sim, tmp_path):
    sim.set_faults(fail_first={PATH: ["reset", "reset"]})
    err, stats, log = fetch(sim, tmp_path, max_attempts=2)
    assert isinstance(err, JiraError) and err.status is None
    assert len(log) == 2 and stats.requests == 2
    assert "failed after 2 attempts" in str(err)
    assert "ReadError" in str(err) or "RemoteProtocolError" in str(err)


@pytest.mark.parametrize(
    ("status", "message", "cause"),
    [
        (400, "Bad request.", "unbounded or malformed JQL"),
        (401, "Client must be authenticated to access this resource.", "expire after at most one year"),
        (403, "Administrator privileges are required", "lacks a permission"),
        (404, "The requested resource could not be found.", "does not exist or is not visible"),
    ],
)
def test_fatal_status_makes_exactly_one_request(sim, tmp_path, status, message, cause):
    sim.set_faults(fail_first={PATH: [status, status, status]})
    err, stats, log = fetch(sim, tmp_path)
    assert isinstance(err, JiraError)
    assert len(log) == 1 and stats.requests == 1 and stats.retries == 0
    assert err.status == status and err.endpoint == "server_info" and err.method == "GET" and err.path == PATH
    text = str(err)
    assert f"GET {PATH} (server_info) answered HTTP {status}" in text
    assert message in text and "Likely cause: " in text and cause in text


def test_text_401_body_is_reported(sim, tmp_path):
    sim.set_faults(revoke_token=True)
    err, stats, log = fetch(sim, tmp_path)
    assert err.status == 401 and err.error_messages == []
    assert err.reason == "Client must be authenticated to access this resource."
    assert len(log) == 1


def test_json_errors_field_is_reported(sim, tmp_path):
    """A 400 with Jira's ErrorCollection: both errorMessages and errors end up in the message."""

    async def go():
        async with make_client(sim.url, tmp_path) as client:
            with pytest.raises(JiraError) as info:
                await client.post_json("/rest/api/2/search/jql", json={"jql": "order by key", "maxResults": 9999},
                                       endpoint="issue_search")
            return info.value

    err = asyncio.run(go())
    assert err.status == 400 and (err.error_messages or err.errors)
    for m in err.error_messages:
        assert m in str(err)
    assert len(sim.new_entries()) == 1


def test_retry_after_is_honoured_measured_in_the_request_log(sim, tmp_path):
    sim.set_faults(fail_first={PATH: [429, 429]}, retry_after_seconds=1.5)
    result, stats, log = fetch(sim, tmp_path)
    assert result["deploymentType"] == "Cloud"
    assert [e["status"] for e in log] == [429, 429, 200]
    arrivals = [e["t"] for e in log]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert min(gaps) >= 1.5, gaps  # never earlier than Jira asked


def test_retry_after_http_date_is_honoured(sim, tmp_path):
    sim.set_faults(fail_first={PATH: [429]}, retry_after_seconds=2, retry_after_http_date=True)
    result, stats, log = fetch(sim, tmp_path)
    assert [e["status"] for e in log] == [429, 200]
    # An HTTP date has one-second resolution: "now + 2 s" truncated is at least 1 s away.
    assert log[1]["t"] - log[0]["t"] >= 1.0


def test_a_429_pauses_the_other_tasks_of_the_same_client(sim, tmp_path):
    """At 2 req/s, tasks spend ~0.5 s waiting for their slot; a 429 meanwhile must stop them too."""
    sim.set_faults(fail_first={"/rest/api/2/myself": ["ok", 429]}, retry_after_seconds=1.5)

    async def go():
        async with make_client(sim.url, tmp_path, rate_limit=2) as client:
            async def steady():
                for _ in range(4):
                    await client.get_json(PATH, endpoint="server_info")

            async def unlucky():
                for _ in range(2):
                    await client.get_json("/rest/api/2/myself", endpoint="myself")

            await asyncio.gather(steady(), steady(), unlucky())
            return client.stats

    stats = asyncio.run(go())
    log = sim.new_entries()
    assert stats.requests == len(log) == 11 and stats.retries == 1
    t429 = next(e["t"] for e in log if e["status"] == 429)
    quiet = [e for e in log if t429 + 0.05 < e["t"] < t429 + 1.5]
    assert quiet == []


def test_a_429_pauses_every_process_sharing_the_throttle(sim, tmp_path):
    """Process B requests steadily; process A (this one) gets a 429 with Retry-After: 2. B must go quiet too."""
    other_path = "/rest/api/2/myself"
    sim.set_faults(fail_first={other_path: [429]}, retry_after_seconds=2)
    env = {**os.environ, "JIRA_THROTTLE_DB": str(tmp_path / "throttle.sqlite")}
    b = subprocess.Popen([sys.executable, WORKER, sim.url, "60", "20", PATH, "1"], env=env,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert b.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 20
        while sum(1 for e in sim.new_entries() if e["path"] == PATH) < 5:  # B is under way
            assert time.monotonic() < deadline
            time.sleep(0.05)
        result, stats, _ = fetch(sim, tmp_path, path=other_path, rate_limit=20)
        assert result["accountId"] and stats.retries == 1
        b.wait(timeout=60)
    finally:
        b.kill()
    log = sim.new_entries()
    t429 = next(e["t"] for e in log if e["path"] == other_path and e["status"] == 429)
    t_retry = next(e["t"] for e in log if e["path"] == other_path and e["status"] == 200)
    b_times = [e["t"] for e in log if e["path"] == PATH]
    # Requests B had already been admitted for may still land just after the 429; then nothing until it ends.
    during = [t - t429 for t in b_times if t429 + 0.25 < t < t429 + 2.0]
    assert during == [], during
    assert t_retry - t429 >= 2.0
    assert any(t < t429 for t in b_times) and any(t > t429 + 2.0 for t in b_times)
