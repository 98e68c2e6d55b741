"""FaultMiddleware under a real uvicorn server on 127.0.0.1, exercised with httpx."""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from jira_sim.faults import (
    DRAWS_PER_REQUEST,
    RATE_LIMITED_MESSAGE,
    FaultConfig,
    FaultMiddleware,
    add_fault_arguments,
    fault_config_from_args,
)

BIG = {"values": [{"id": str(i), "name": f"item {i}"} for i in range(2000)]}


def _app() -> Starlette:
    async def myself(request):
        return JSONResponse({"accountId": "acc-1", "displayName": "Demo"})

    async def big(request):
        return JSONResponse(BIG)

    async def changelog(request):
        return JSONResponse({"values": []})

    async def sim(request):
        return PlainTextResponse("sim ok")

    return Starlette(routes=[
        Route("/rest/api/2/myself", myself),
        Route("/rest/api/2/big", big),
        Route("/rest/api/2/issue/{id}/changelog", changelog),
        Route("/__sim/ping", sim),
    ])


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def serve():
    servers = []

    def start(config: FaultConfig | None = None, *, request_log=None, seed=0, clock=None, http="auto"):
        mw = FaultMiddleware(_app(), config or FaultConfig(burst_limit=0), request_log=request_log, seed=seed,
                             **({"clock": clock} if clock else {}))
        server = uvicorn.Server(uvicorn.Config(mw, host="127.0.0.1", port=0, log_level="warning", http=http,
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        servers.append((server, thread, mw))
        return f"http://127.0.0.1:{port}", mw

    yield start
    for server, thread, mw in servers:
        server.should_exit = True
        thread.join(timeout=10)
        mw.close()


def statuses(base, n, path="/rest/api/2/myself"):
    with httpx.Client(base_url=base, timeout=10) as c:
        return [c.get(path).status_code for _ in range(n)]


# ---------------------------------------------------------------------------------------------------------------------

def test_fail_first_exact_statuses_then_normal(serve):
    base, mw = serve(FaultConfig(burst_limit=0, fail_first={"/rest/api/2/myself": [503, 429, "ok", 500]}))
    assert statuses(base, 6) == [503, 429, 200, 500, 200, 200]
    assert statuses(base, 1, "/rest/api/2/big") == [200]  # other paths untouched
    mw.config = FaultConfig(burst_limit=0, fail_first={"/rest/api/2/": [502]})  # re-set: counters restart
    assert statuses(base, 2) == [502, 200]
    assert mw.stats()["requests"] == 9


def test_seeded_decisions_are_exact_and_reproducible(serve):
    cfg = dict(burst_limit=0, throttle_rate=0.2, error_rate=0.3, error_statuses=[500, 502, 503, 504])
    base, mw = serve(FaultConfig(**cfg), seed=42)
    got = statuses(base, 60)

    rng = random.Random(42)
    expected = []
    for _ in range(60):
        d = [rng.random() for _ in range(DRAWS_PER_REQUEST)]
        if d[0] < 0.2:
            expected.append(429)
        elif d[1] < 0.3:
            expected.append([500, 502, 503, 504][int(d[2] * 4)])
        else:
            expected.append(200)
    assert got == expected
    assert {429, 200} <= set(got) and len(set(got)) >= 4

    mw.config = FaultConfig(**cfg)  # re-seeds with the middleware's seed: same sequence again
    assert statuses(base, 60) == expected
    mw.config = FaultConfig(**cfg, seed=7)
    assert statuses(base, 60) != expected


def test_429_headers_and_json_body(serve):
    base, _ = serve(FaultConfig(burst_limit=0, throttle_rate=1.0))
    with httpx.Client(base_url=base) as c:
        r = c.get("/rest/api/2/myself")
    assert r.status_code == 429
    assert r.headers["retry-after"] == "1"
    assert r.headers["x-ratelimit-remaining"] == "0"
    assert r.headers["ratelimit-reason"] == "jira-burst-based"
    assert "x-ratelimit-limit" in r.headers
    reset = datetime.strptime(r.headers["x-ratelimit-reset"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert reset > datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"errorMessages": [RATE_LIMITED_MESSAGE], "errors": {}, "status": 429}


def test_retry_after_value_and_http_date(serve):
    base, mw = serve(FaultConfig(burst_limit=0, throttle_storm=1, retry_after_seconds=7))
    with httpx.Client(base_url=base) as c:
        r = c.get("/rest/api/2/myself")
        assert (r.status_code, r.headers["retry-after"]) == (429, "7")
        assert c.get("/rest/api/2/myself").status_code == 200  # the storm was one request long
        mw.config = FaultConfig(burst_limit=0, throttle_storm=2, retry_after_seconds=30, retry_after_http_date=True)
        r = c.get("/rest/api/2/myself")
        when = parsedate_to_datetime(r.headers["retry-after"])
        assert when.tzinfo is not None and when > datetime.now(timezone.utc)
        assert [c.get("/rest/api/2/myself").status_code for _ in range(2)] == [429, 200]


def test_html_429_page(serve):
    base, mw = serve(FaultConfig(burst_limit=0, throttle_rate=1.0, html_429_rate=1.0))
    with httpx.Client(base_url=base) as c:
        r = c.get("/rest/api/2/myself")
        assert r.status_code == 429 and r.headers["content-type"].startswith("text/html")
        assert "Oops - an error has occurred" in r.text and "error429" in r.text
        assert r.headers["retry-after"] == "1"
        mw.config = FaultConfig(burst_limit=0, fail_first={"/rest/api/2/myself": ["html429", 429]})
        first, second = c.get("/rest/api/2/myself"), c.get("/rest/api/2/myself")
        assert first.status_code == 429 and "error429" in first.text
        assert second.status_code == 429 and second.json()["status"] == 429


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_reset_is_a_connection_error_not_a_500(serve, tmp_path, http):
    log = tmp_path / "requests.jsonl"
    base, mw = serve(FaultConfig(burst_limit=0, fail_first={"/rest/api/2/myself": ["reset", "reset"]}),
                     request_log=str(log), http=http)
    with httpx.Client(base_url=base, timeout=5) as c:
        for _ in range(2):
            with pytest.raises(httpx.ReadError):
                c.get("/rest/api/2/myself")
        assert c.get("/rest/api/2/myself").status_code == 200  # the client reconnects and carries on
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(x["status"], x["bytes"], x.get("fault")) for x in lines] == [(0, 0, "fail_first"), (0, 0, "fail_first"),
                                                                         (200, lines[2]["bytes"], None)]


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_truncated_body(serve, tmp_path, http):
    log = tmp_path / "requests.jsonl"
    base, mw = serve(FaultConfig(burst_limit=0, truncate_rate=1.0), request_log=str(log), http=http)
    full = len(json.dumps(BIG, separators=(",", ":")).encode())
    with httpx.Client(base_url=base, timeout=5) as c:
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete|complete message body"):
            c.get("/rest/api/2/big")
        mw.config = FaultConfig(burst_limit=0)
        r = c.get("/rest/api/2/big")
        assert r.status_code == 200 and r.json() == BIG
    first = json.loads(log.read_text().splitlines()[0])
    assert first["status"] == 200 and first["fault"] == "truncate" and 0 < first["bytes"] < full


def test_reset_and_truncate_rates_with_httpx_async(serve):
    import asyncio

    base, _ = serve(FaultConfig(burst_limit=0, reset_rate=0.3, truncate_rate=0.3), seed=3)

    async def run():
        outcomes = []
        async with httpx.AsyncClient(base_url=base, timeout=5) as c:
            for _ in range(30):
                try:
                    r = await c.get("/rest/api/2/big")
                    outcomes.append(r.status_code)
                except httpx.ReadError:
                    outcomes.append("reset")
                except httpx.RemoteProtocolError:
                    outcomes.append("truncated")
        return outcomes

    got = asyncio.run(run())
    rng = random.Random(3)
    expected = []
    for _ in range(30):
        d = [rng.random() for _ in range(DRAWS_PER_REQUEST)]
        expected.append("reset" if d[3] < 0.3 else "truncated" if d[4] < 0.3 else 200)
    assert got == expected


def test_slow_body_trips_a_read_timeout(serve):
    base, mw = serve(FaultConfig(burst_limit=0, slow_body_ms=600))
    with httpx.Client(base_url=base, timeout=httpx.Timeout(5, read=0.1)) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get("/rest/api/2/big")
    mw.config = FaultConfig(burst_limit=0, slow_body_ms=5)
    with httpx.Client(base_url=base, timeout=5) as c:
        assert c.get("/rest/api/2/big").json() == BIG  # slowed, but complete


def test_burst_limit_per_endpoint_and_method(serve):
    clock = FrozenClock()
    base, mw = serve(FaultConfig(burst_limit=5), clock=clock)
    with httpx.Client(base_url=base) as c:
        rs = [c.get("/rest/api/2/myself") for _ in range(8)]
        assert [r.status_code for r in rs] == [200] * 5 + [429] * 3
        assert [r.headers["x-ratelimit-remaining"] for r in rs[:5]] == ["4", "3", "2", "1", "0"]
        assert all(r.headers["x-ratelimit-limit"] == "5" for r in rs)
        limited = rs[5]
        assert limited.headers["ratelimit-reason"] == "jira-burst-based"
        assert limited.headers["retry-after"] == "1"
        assert limited.headers["x-ratelimit-remaining"] == "0"
        assert "x-ratelimit-reset" in limited.headers
        assert limited.json()["errorMessages"] == [RATE_LIMITED_MESSAGE]
        # other endpoints and other methods have their own buckets; changelog endpoints get twice the rate
        assert c.get("/rest/api/2/big").status_code == 200
        cl = [c.get(f"/rest/api/2/issue/{i}/changelog") for i in range(1, 12)]
        assert [r.status_code for r in cl] == [200] * 10 + [429]
        assert cl[0].headers["x-ratelimit-limit"] == "10"
        assert c.post("/rest/api/2/myself").status_code == 405  # POST bucket is separate (route is GET-only)
        clock.now += 0.5  # refill 5/s * 0.5 s = 2.5 tokens
        assert [c.get("/rest/api/2/myself").status_code for _ in range(3)] == [200, 200, 429]


def test_burst_limit_default_is_on_and_off_with_zero(serve):
    base, mw = serve(FaultConfig())
    with httpx.Client(base_url=base) as c:
        r = c.get("/rest/api/2/myself")
        assert r.headers["x-ratelimit-limit"] == "100" and r.headers["x-ratelimit-remaining"] == "99"
        mw.config = FaultConfig(burst_limit=0)
        assert "x-ratelimit-limit" not in c.get("/rest/api/2/myself").headers


def test_revoked_token_denied_paths_and_sim_passthrough(serve, tmp_path):
    log = tmp_path / "requests.jsonl"
    base, mw = serve(FaultConfig(burst_limit=0, revoke_token=True), request_log=str(log))
    with httpx.Client(base_url=base) as c:
        r = c.get("/rest/api/2/myself")
        assert r.status_code == 401 and r.text == "Client must be authenticated to access this resource."
        assert r.headers["content-type"].startswith("text/plain")
        assert c.get("/__sim/ping").text == "sim ok"  # never faulted
        mw.config = FaultConfig.from_dict({"burst-limit": 0, "deny_paths": ["/rest/api/2/big"]})
        r = c.get("/rest/api/2/big")
        assert r.status_code == 403 and r.json()["errorMessages"] and r.json()["errors"] == {}
        assert c.get("/rest/api/2/myself").status_code == 200
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(x["path"], x["status"]) for x in lines] == [("/rest/api/2/myself", 401), ("/rest/api/2/big", 403),
                                                         ("/rest/api/2/myself", 200)]


def test_request_log_lines(serve, tmp_path):
    log = tmp_path / "requests.jsonl"
    base, _ = serve(FaultConfig(burst_limit=0, fail_first={"/rest/api/2/big": [504]}), request_log=str(log))
    before = time.monotonic()
    with httpx.Client(base_url=base) as c:
        ok = c.get("/rest/api/2/myself", params={"expand": "groups,applicationRoles"})
        bad = c.get("/rest/api/2/big")
        c.get("/__sim/ping")
        c.post("/rest/api/2/myself", json={"a": 1})
    lines = [json.loads(x) for x in log.read_text().splitlines()]  # readable while the server still runs
    assert len(lines) == 3
    assert set(lines[0]) == {"t", "method", "path", "query", "status", "bytes"}
    assert lines[0]["method"] == "GET" and lines[0]["path"] == "/rest/api/2/myself"
    assert lines[0]["query"] == "expand=groups%2CapplicationRoles"
    assert lines[0]["status"] == 200 and lines[0]["bytes"] == len(ok.content)
    assert lines[1] == {**lines[1], "status": 504, "bytes": len(bad.content), "fault": "fail_first"}
    assert bad.headers["content-type"].startswith("text/html")
    assert lines[2]["method"] == "POST" and lines[2]["status"] == 405
    assert all(before <= x["t"] <= time.monotonic() for x in lines)


def test_concurrent_requests_log_one_line_each(serve, tmp_path):
    import asyncio

    log = tmp_path / "requests.jsonl"
    base, mw = serve(FaultConfig(burst_limit=0, latency_ms=5, latency_jitter_ms=5), request_log=str(log))

    async def run():
        async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=20)) as c:
            return await asyncio.gather(*(c.get("/rest/api/2/myself", params={"n": i}) for i in range(100)))

    rs = asyncio.run(run())
    assert all(r.status_code == 200 for r in rs)
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert sorted(int(x["query"].split("=")[1]) for x in lines) == list(range(100))
    assert mw.stats()["by_status"] == {"200": 100}


def test_config_from_dict_and_cli_flags():
    with pytest.raises(ValueError):
        FaultConfig.from_dict({"no_such": 1})
    with pytest.raises(ValueError):
        FaultConfig.from_dict({"error_rate": 2})
    cfg = FaultConfig.from_dict({"error_rate": 0.1, "retry-after": 3, "fail_first": {"/x": ["503", "reset"]}})
    assert cfg.error_rate == 0.1 and cfg.retry_after_seconds == 3.0 and cfg.fail_first == {"/x": [503, "reset"]}
    assert FaultConfig.from_dict(cfg.to_dict()) == cfg

    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0)
    add_fault_arguments(parser)
    args = parser.parse_args(["--seed", "9", "--latency-ms", "20", "--error-rate", "0.05", "--throttle-rate", "0.1",
                              "--retry-after", "2", "--html-429-rate", "0.5", "--reset-rate", "0.01",
                              "--truncate-rate", "0.02", "--slow-body-ms", "10", "--burst-limit", "50",
                              "--latency-jitter-ms", "3", "--deny-path", "/rest/api/2/group", "--revoke-token",
                              "--fail-first", '{"/rest/api/2/myself": [503, 429]}', "--error-statuses", "502,503"])
    cfg = fault_config_from_args(args)
    assert cfg == FaultConfig(latency_ms=20, latency_jitter_ms=3, error_rate=0.05, error_statuses=[502, 503],
                              throttle_rate=0.1, retry_after_seconds=2, html_429_rate=0.5, reset_rate=0.01,
                              truncate_rate=0.02, slow_body_ms=10, burst_limit=50, revoke_token=True,
                              deny_paths=["/rest/api/2/group"], fail_first={"/rest/api/2/myself": [503, 429]}, seed=9)
    assert fault_config_from_args(parser.parse_args(["--fault-seed", "4"])).seed == 4
    assert fault_config_from_args(parser.parse_args([])) == FaultConfig(seed=0)
