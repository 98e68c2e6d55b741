"""Helpers for the client tests: a simulator with a request log, fault control, and log measurements.

`OddJira` is a tiny real HTTP server (starlette + uvicorn on 127.0.0.1) for behaviour the simulator does not
model on purpose: a Jira whose paging repeats itself, redirects, a 200 HTML page. It is a stand-in Jira, not a
stand-in for our code: the client under test talks HTTP to it exactly as to the real thing.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from jira_assets.jira.client import JiraClient
from jira_assets.jira.throttle import sqlite_throttle

EMAIL = "demo@example.com"
TOKEN = "demo-token"
FAST = {"backoff_base": 0.01, "backoff_max": 0.05}  # exact counts, not timings, are under test


class Sim:
    """A running simulator: its URL, its request log, and its control endpoints."""

    def __init__(self, url: str, log_path: Path) -> None:
        self.url = url
        self.log_path = log_path
        self._mark = 0

    def set_faults(self, **config: Any) -> None:
        r = httpx.post(f"{self.url}/__sim/faults", json=config, timeout=10)
        r.raise_for_status()

    def truth(self, endpoint: str) -> list[dict]:
        r = httpx.get(f"{self.url}/__sim/truth/{endpoint}", timeout=60)
        r.raise_for_status()
        return r.json()["records"]

    def entries(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def mark(self) -> None:
        """Forget what is in the log so far; `new_entries()` returns only what comes after."""
        self._mark = len(self.entries())

    def new_entries(self, settle: float = 0.0) -> list[dict]:
        if settle:
            time.sleep(settle)
        return self.entries()[self._mark:]

    def reset(self) -> None:
        self.set_faults()
        self.mark()


@contextlib.contextmanager
def simulator(tmp_dir: Path, *args: str) -> Iterator[Sim]:
    """A simulator on a free loopback port with a request log in `tmp_dir`."""
    log_path = Path(tmp_dir) / f"requests-{time.monotonic_ns()}.jsonl"
    argv = ["--request-log", str(log_path), *args]
    try:  # the shared helper, once it exists (imported the way pytest puts this directory on sys.path)
        from _simulator import start_simulator
    except ImportError:
        start_simulator = None
    if start_simulator is not None:
        with start_simulator(*argv) as running:
            yield Sim(_url_of(running), log_path)
        return
    from jira_sim.process import running_simulator

    with running_simulator(argv) as (url, _proc):
        yield Sim(url, log_path)


def _url_of(running: Any) -> str:
    if isinstance(running, str):
        return running
    if isinstance(running, tuple):
        return running[0]
    return running.url


def make_client(url: str, tmp_dir: Path, *, rate_limit: float = 50.0, **kwargs: Any) -> JiraClient:
    """A client with its own throttle store in tmp_dir; fast backoff unless the test says otherwise."""
    options = {**FAST, **kwargs}
    options.setdefault("throttle", sqlite_throttle(url, rate_limit, Path(tmp_dir) / "throttle.sqlite"))
    return JiraClient(url, options.pop("email", EMAIL), options.pop("api_token", TOKEN), rate_limit=rate_limit,
                      **options)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """Largest number of timestamps in any half-open window [t, t + window)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def worst_window(times: list[float], window: float = 1.0) -> str:
    """The busiest window, for assertion messages: its arrival offsets in ms."""
    times = sorted(times)
    best, best_span, j = 0, (0, 0), 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        if i - j + 1 > best:
            best, best_span = i - j + 1, (j, i)
    j, i = best_span
    return f"{best} arrivals at +ms {[round((t - times[j]) * 1000) for t in times[j:i + 1]]}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# ---- a deliberately odd Jira ---------------------------------------------------------------------------------


class OddJira:
    """Real HTTP server whose routes misbehave in the ways the pagers and redirect handling must survive."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []  # every request: path, query, whether Authorization was sent
        self._hits: dict[str, int] = {}
        self.port = 0
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hits(self, path: str) -> int:
        return sum(1 for s in self.seen if s["path"] == path)

    def _app(self):
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
        from starlette.routing import Route

        async def record(request: Request) -> None:
            body = await request.body()
            self.seen.append({
                "path": request.url.path, "query": dict(request.query_params), "host": request.headers.get("host"),
                "authorization": "authorization" in request.headers, "body": body.decode() if body else "",
            })

        async def stuck_page_bean(request: Request):
            await record(request)  # ignores startAt: always the first page, never the last
            return JSONResponse({"startAt": 0, "maxResults": 2, "total": 10, "isLast": False,
                                 "values": [{"id": "1"}, {"id": "2"}]})

        async def echo_page_bean(request: Request):
            await record(request)  # echoes startAt but serves the same records (a broken cache, say)
            start = int(request.query_params.get("startAt", 0))
            return JSONResponse({"startAt": start, "maxResults": 2, "total": 10, "isLast": False,
                                 "values": [{"id": "1"}, {"id": "2"}]})

        async def stuck_cursor(request: Request):
            await record(request)  # always hands out the same token
            return JSONResponse({"issues": [{"id": "1"}], "nextPageToken": "SAME", "isLast": False})

        async def stuck_since(request: Request):
            await record(request)
            return JSONResponse({"values": [{"worklogId": 1, "updatedTime": 5}], "since": 5, "until": 5,
                                 "nextPage": f"{self.url}/rest/api/2/worklog/updated?since=5", "lastPage": False})

        async def stuck_offset(request: Request):
            await record(request)
            return JSONResponse({"offset": 0, "limit": 2, "total": 10, "records": [{"id": 1}, {"id": 2}]})

        async def server_info(request: Request):
            await record(request)
            return JSONResponse({"baseUrl": self.url, "deploymentType": "Cloud"})

        async def redirect_same(request: Request):
            await record(request)
            return RedirectResponse("/rest/api/2/serverInfo", status_code=302)

        async def redirect_away(request: Request):
            await record(request)  # same server, other host name: a different origin for credentials
            return RedirectResponse(f"http://localhost:{self.port}/capture", status_code=301)

        async def capture(request: Request):
            await record(request)
            return JSONResponse({"captured": True})

        async def html_then_json(request: Request):
            await record(request)  # a proxy's login page once, then the real answer
            n = self._hits["html"] = self._hits.get("html", 0) + 1
            if n == 1:
                return HTMLResponse("<html><head><title>Log in</title></head><body>Log in</body></html>")
            return JSONResponse({"id": "ok"})

        async def html_always(request: Request):
            await record(request)
            return HTMLResponse("<html><head><title>Log in</title></head><body>Log in</body></html>")

        async def wrong_shape(request: Request):
            await record(request)  # a list where an object is expected, then the object
            n = self._hits["shape"] = self._hits.get("shape", 0) + 1
            return JSONResponse([1, 2] if n == 1 else {"values": [], "isLast": True})

        async def http_date_429(request: Request):
            await record(request)
            n = self._hits["date"] = self._hits.get("date", 0) + 1
            if n == 1:
                from email.utils import formatdate

                return Response("", status_code=429, headers={"Retry-After": formatdate(time.time() + 2, usegmt=True)})
            return JSONResponse({"ok": True})

        async def beta_retry_503(request: Request):
            await record(request)
            n = self._hits["beta"] = self._hits.get("beta", 0) + 1
            if n == 1:
                return Response("busy", status_code=503, headers={"Beta-Retry-After": "1"})
            return JSONResponse({"ok": True})

        async def not_found_html(request: Request):
            await record(request)
            return HTMLResponse(
                "<html><head><title>Oops, you&#39;ve found a dead link. - JIRA</title></head>"
                "<body><h1>Oops, you've found a dead link.</h1></body></html>", status_code=404)

        async def anonymous_myself(request: Request):
            await record(request)  # what a site answering as the anonymous user would send
            return JSONResponse({"self": f"{self.url}/rest/api/2/user", "active": False, "timeZone": "UTC"})

        return Starlette(routes=[
            Route("/anon/rest/api/2/myself", anonymous_myself),
            Route("/rest/api/2/project/search", stuck_page_bean),
            Route("/rest/api/2/filter/search", echo_page_bean),
            Route("/rest/api/2/search/jql", stuck_cursor, methods=["GET", "POST"]),
            Route("/rest/api/2/worklog/updated", stuck_since),
            Route("/rest/api/2/auditing/record", stuck_offset),
            Route("/rest/api/2/serverInfo", server_info),
            Route("/redirect-same", redirect_same),
            Route("/redirect-away", redirect_away),
            Route("/capture", capture),
            Route("/html-then-json", html_then_json),
            Route("/html-always", html_always),
            Route("/wrong-shape", wrong_shape),
            Route("/http-date-429", http_date_429),
            Route("/beta-retry-503", beta_retry_503),
            Route("/dead-link", not_found_html),
        ])

    def __enter__(self) -> OddJira:
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("OddJira did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)
