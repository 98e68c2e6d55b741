"""The machine-wide throttle, measured from the simulator's request log (arrival times), never from the client.

With 8 processes sharing the SQLite throttle at the default 5 req/s, no 1-second window of arrivals holds more
than 5. The Redis backend is tested the same way against a real redis-server that the test starts.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from _client_fixtures import free_port, max_in_window, simulator, worst_window
from jira_assets.jira.throttle import get_throttle, rates_for, redis_throttle, site_key, sqlite_throttle

WORKER = str(Path(__file__).with_name("_throttle_worker.py"))
PATH = "/rest/api/2/serverInfo"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with simulator(tmp_path_factory.mktemp("sim"), "--seed", "9", "--burst-limit", "0") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(sim):
    sim.reset()


def run_workers(sim, tmp_path, n_procs: int, per_proc: int, rate: float, env_extra: dict) -> list[dict]:
    """Start n worker processes, release them at once, wait; return their stats."""
    go = tmp_path / "go"
    env = {**os.environ, **env_extra, "WORKER_GO": str(go)}
    procs = [
        subprocess.Popen([sys.executable, WORKER, sim.url, str(per_proc), str(rate), PATH, "3"], env=env,
                         stdout=subprocess.PIPE, text=True)
        for _ in range(n_procs)
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [p.communicate(timeout=120)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs)
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def test_eight_processes_never_exceed_the_limit_in_any_second(sim, tmp_path):
    stats = run_workers(sim, tmp_path, n_procs=8, per_proc=5, rate=5,
                        env_extra={"JIRA_THROTTLE_DB": str(tmp_path / "shared-throttle.sqlite")})
    arrivals = [e["t"] for e in sim.new_entries() if e["path"] == PATH]
    assert len(arrivals) == 40 == sum(s["requests"] for s in stats)
    assert max_in_window(arrivals, 1.0) <= 5, worst_window(arrivals)
    # ...and the limit was used, not merely respected: 40 paced requests need at least 35/5 s.
    assert sorted(arrivals)[-1] - sorted(arrivals)[0] >= (40 - 5) / 5


def test_two_sites_do_not_share_a_budget(tmp_path):
    db = tmp_path / "t.sqlite"
    a = sqlite_throttle("https://acme.atlassian.net", 5, db)
    b = sqlite_throttle("https://other.atlassian.net", 5, db)

    async def take(throttle, n):
        for _ in range(n):
            await throttle.acquire()

    asyncio.run(take(a, 5))  # site a's second is full
    assert a._bucket.count() == 5 and b._bucket.count() == 0
    assert a._bucket.table != b._bucket.table
    assert site_key("https://ACME.atlassian.net/") == "acme.atlassian.net"


def test_the_default_location_is_configurable_and_shared(tmp_path, monkeypatch):
    monkeypatch.setenv("JIRA_THROTTLE_DB", str(tmp_path / "here.sqlite"))
    first = get_throttle("https://acme.atlassian.net", 5)
    assert get_throttle("https://acme.atlassian.net", 5) is first  # one per process
    assert (tmp_path / "here.sqlite").exists() and str(tmp_path / "here.sqlite") in first.description


@pytest.mark.parametrize("rps", [0.5, 1, 2.5, 5, 7, 10, 50, 100])
def test_rates_cap_every_window_of_one_second_plus_margin(rps):
    rates = rates_for(rps)
    cap = rates[-1]
    if rps >= 2:
        assert cap.limit == int(rps) and cap.interval >= 1000 * int(rps) / rps * 1.035 - 1
        assert len(rates) == 2 and rates[0].limit < cap.limit  # paced, not one burst per window
    else:
        assert cap.limit == 1 and cap.interval >= 1000 / rps * 1.035 - 1
    with pytest.raises(ValueError):
        rates_for(0)


def _stored_timestamp(throttle, item_name: str) -> int:
    bucket = throttle._bucket
    if hasattr(bucket, "conn"):
        row = bucket.conn.execute(f"SELECT item_timestamp FROM '{bucket.table}' WHERE name = ?", (item_name,)).fetchone()
        return int(row[0])
    members = bucket.redis.zrange(bucket.bucket_key, 0, -1, withscores=True)
    return int(next(score for member, score in members if member.decode().startswith(item_name + ":")))


async def _admit_then_send_late(throttle):
    async with throttle.slot() as ticket:
        await ticket.admit()
        item = ticket._item
        admitted_at = item.timestamp
        await asyncio.sleep(0.05)  # held up between admission and the write
        await ticket.sent()
        return item.name, admitted_at, item.timestamp


def test_a_slot_moves_to_when_its_request_was_written_sqlite(tmp_path):
    throttle = sqlite_throttle("https://acme.atlassian.net", 5, tmp_path / "t.sqlite")
    name, admitted_at, sent_at = asyncio.run(_admit_then_send_late(throttle))
    assert sent_at - admitted_at >= 40
    assert _stored_timestamp(throttle, name) == sent_at


def test_a_slot_moves_to_when_its_request_was_written_redis(tmp_path):
    with redis_server(tmp_path) as url:
        throttle = redis_throttle("https://acme.atlassian.net", 5, url)
        name, admitted_at, sent_at = asyncio.run(_admit_then_send_late(throttle))
        assert sent_at - admitted_at >= 40
        assert _stored_timestamp(throttle, name) == sent_at


def test_pause_is_shared_through_the_store(tmp_path):
    db = tmp_path / "t.sqlite"
    a = sqlite_throttle("https://acme.atlassian.net", 5, db)
    b = sqlite_throttle("https://acme.atlassian.net", 5, db)  # another process would open it the same way
    until = asyncio.run(a.pause(30))
    assert b.paused_until() == pytest.approx(until) and until > time.time() + 29
    asyncio.run(a.pause(1))  # a shorter pause never cuts a longer one short
    assert b.paused_until() == pytest.approx(until)
    c = sqlite_throttle("https://other.atlassian.net", 5, db)
    assert c.paused_until() == 0.0


# ---- Redis ---------------------------------------------------------------------------------------------------


@contextmanager
def redis_server(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package `redis-server`); the Redis throttle is untested")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_redis_throttle_across_processes(sim, tmp_path):
    with redis_server(tmp_path) as url:
        stats = run_workers(sim, tmp_path, n_procs=4, per_proc=6, rate=5,
                            env_extra={"JIRA_THROTTLE_REDIS_URL": url})
        arrivals = [e["t"] for e in sim.new_entries() if e["path"] == PATH]
        assert len(arrivals) == 24 == sum(s["requests"] for s in stats)
        assert max_in_window(arrivals, 1.0) <= 5, worst_window(arrivals)
        assert sorted(arrivals)[-1] - sorted(arrivals)[0] >= (24 - 5) / 5


def test_redis_pause_is_shared(tmp_path):
    with redis_server(tmp_path) as url:
        a = redis_throttle("https://acme.atlassian.net", 5, url)
        b = redis_throttle("https://acme.atlassian.net", 5, url)
        until = asyncio.run(a.pause(30))
        assert b.paused_until() == pytest.approx(until, abs=1e-3)
        asyncio.run(a.pause(1))
        assert b.paused_until() == pytest.approx(until, abs=1e-3)
        assert redis_throttle("https://other.atlassian.net", 5, url).paused_until() == 0.0
        assert "***" not in a.description and url.split("//")[1] in a.description
