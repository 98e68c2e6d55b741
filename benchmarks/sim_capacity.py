"""Capacity of the Jira Cloud simulator: peak memory serving the large tenant, and small requests per second.

    .venv/bin/python benchmarks/sim_capacity.py                 # large tenant, 20,000 issues touched, 10 s load
    .venv/bin/python benchmarks/sim_capacity.py --scale standard --touch 5000 --seconds 5

Phase 1 (memory): start `python -m jira_sim --scale large --burst-limit 0`, then page through
`search/jql` with fields=*all (the connector's full load), fetch the changelogs of those issues with
`changelog/bulkfetch`, and list every board's issues; the simulator's RSS is sampled every 50 ms (psutil) and the
peak is reported. Phase 2 (throughput): `--clients` concurrent keep-alive connections (by default 4 processes with one
sequential httpx.Client each; more clients than processes use httpx.AsyncClient) request small endpoints (serverInfo, statuscategory, status, issuetype, myself,
issueLinkType) for `--seconds`; requests/s = completed 200s / elapsed. The same load is then sent by a minimal
raw-socket keep-alive client, because on a 2-core machine httpx's own CPU cost (it shares the cores with the
simulator) caps the first figure well below what the server sustains. The burst limiter is off (`--burst-limit 0`)
because Jira's 100 requests/s per endpoint would otherwise be what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from jira_sim.process import running_simulator  # noqa: E402

AUTH = ("demo@example.com", "demo-token")
SMALL = ["/rest/api/2/serverInfo", "/rest/api/2/statuscategory", "/rest/api/2/status", "/rest/api/2/issuetype",
         "/rest/api/2/myself", "/rest/api/2/issueLinkType"]


class PeakRss:
    def __init__(self, pid: int):
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._t.join()
        return self.peak


def touch(url: str, n_issues: int) -> dict:
    c = httpx.Client(base_url=url, auth=AUTH, timeout=300)
    jql = 'updated >= "1970-01-01 00:00" ORDER BY updated ASC, id ASC'
    ids: list[str] = []
    token = None
    t0 = time.perf_counter()
    pages = 0
    while len(ids) < n_issues:
        body = c.post("/rest/api/2/search/jql", json={"jql": jql, "fields": ["*all"], "maxResults": 5000,
                                                       **({"nextPageToken": token} if token else {})}).json()
        ids.extend(i["id"] for i in body["issues"])
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            break
    search_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    histories = 0
    for k in range(0, len(ids), 1000):
        tok = None
        while True:
            body = c.post("/rest/api/2/changelog/bulkfetch", json={"issueIdsOrKeys": ids[k:k + 1000],
                                                                  "maxResults": 10000,
                                                                  **({"nextPageToken": tok} if tok else {})}).json()
            histories += sum(len(g["changeHistories"]) for g in body["issueChangeLogs"])
            tok = body.get("nextPageToken")
            if not tok:
                break
    changelog_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    board_issues = 0
    boards = c.get("/rest/agile/1.0/board", params={"maxResults": 50}).json()["values"]
    for b in boards[:6]:
        tok = None
        while True:
            body = c.get(f"/rest/software/1.0/board/{b['id']}/issue",
                         params={"fields": "key,updated,status,issuetype,sprint,closedSprints,flagged,epic",
                                 "maxResults": 5000, **({"nextPageToken": tok} if tok else {})}).json()
            board_issues += len(body["issues"])
            tok = body.get("nextPageToken")
            if not tok:
                break
    boards_s = time.perf_counter() - t0
    return {"issues": len(ids), "search_pages": pages, "search_s": round(search_s, 1), "histories": histories,
            "changelog_s": round(changelog_s, 1), "board_issues": board_issues, "boards_s": round(boards_s, 1)}


async def _load(url: str, clients: int, seconds: float, offset: int) -> tuple[int, int]:
    ok = err = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, auth=AUTH, limits=limits, timeout=30) as c:
        async def worker(k: int) -> None:
            nonlocal ok, err
            i = k + offset
            while time.perf_counter() < deadline:
                r = await c.get(SMALL[i % len(SMALL)])
                i += 1
                if r.status_code == 200:
                    ok += 1
                else:
                    err += 1
        await asyncio.gather(*(worker(k) for k in range(clients)))
    return ok, err


def _path(i: int, distinct: bool) -> str:
    # distinct=True adds a never-repeated query string, which defeats the simulator's GET response cache
    p = SMALL[i % len(SMALL)]
    return f"{p}?_={i}" if distinct else p


def _load_proc(url: str, clients: int, seconds: float, offset: int, q, distinct: bool = False) -> None:
    if clients == 1:
        # one sequential keep-alive httpx.Client: cheaper per request than AsyncClient's pool under concurrency
        ok = err = 0
        with httpx.Client(base_url=url, auth=AUTH, timeout=30) as c:
            c.get(SMALL[0])
            q.put("ready")
            deadline = time.perf_counter() + seconds
            i = offset * 10_000_000
            while time.perf_counter() < deadline:
                r = c.get(_path(i, distinct))
                i += 1
                if r.status_code == 200:
                    ok += 1
                else:
                    err += 1
        q.put((ok, err))
        return
    q.put("ready")
    q.put(asyncio.run(_load(url, clients, seconds, offset)))


def throughput(url: str, clients: int, procs: int, seconds: float, distinct: bool = False) -> dict:
    q = mp.get_context("spawn").Queue()
    ps = [mp.get_context("spawn").Process(target=_load_proc,
                                          args=(url, max(1, clients // procs), seconds, k, q, distinct))
          for k in range(procs)]
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]        # "ready" from each: start-up is not part of the measured window
    t0 = time.perf_counter()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    elapsed = time.perf_counter() - t0
    ok = sum(r[0] for r in results)
    err = sum(r[1] for r in results)
    # elapsed includes process start-up, so this slightly understates the rate
    return {"ok": ok, "errors": err, "seconds": round(elapsed, 1), "requests_per_s": round(ok / seconds)}


async def _raw_conn(host: str, port: int, deadline: float, k: int, counts: list[int], distinct: bool) -> None:
    """A minimal keep-alive HTTP/1.1 client: one request in flight per connection, Content-Length bodies."""
    import base64
    auth = "Basic " + base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()
    reader, writer = await asyncio.open_connection(host, port)
    i = k * 10_000_000
    while time.perf_counter() < deadline:
        path = _path(i, distinct)
        i += 1
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
    writer.close()


def raw_throughput(url: str, conns: int, seconds: float, distinct: bool = False) -> dict:
    host, port = url.split("//")[1].rsplit(":", 1)
    counts = [0, 0]

    async def run() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_raw_conn(host, int(port), deadline, k, counts, distinct) for k in range(conns)))
    t0 = time.perf_counter()
    asyncio.run(run())
    return {"ok": counts[0], "errors": counts[1], "requests_per_s": round(counts[0] / (time.perf_counter() - t0))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="large", choices=("demo", "standard", "large"))
    ap.add_argument("--touch", type=int, default=20_000, help="issues to page through with fields=*all")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=4, help="concurrent keep-alive connections")
    ap.add_argument("--procs", type=int, default=4, help="load-generating processes (clients == procs: one "
                                                            "sequential httpx.Client per process)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    with running_simulator(["--scale", args.scale, "--burst-limit", "0"], startup_timeout=300) as (url, proc):
        startup = time.perf_counter() - t0
        rss = PeakRss(proc.pid)
        time.sleep(0.2)
        idle = rss.peak
        touched = touch(url, args.touch)
        peak = rss.stop()
        print(f"simulator --scale {args.scale}: ready in {startup:.1f} s, RSS after start-up {idle / 2**20:.0f} MiB, "
              f"peak RSS while serving {peak / 2**20:.0f} MiB")
        print(f"  touched: {touched}")
        for distinct in (False, True):
            label = "distinct URLs (response cache defeated)" if distinct else "repeated URLs"
            tp = throughput(url, args.clients, args.procs, args.seconds, distinct)
            print(f"  small requests, {label}, httpx: {tp['requests_per_s']} requests/s with {args.clients} "
                  f"keep-alive connections from {args.procs} processes over {args.seconds:.0f} s "
                  f"({tp['ok']} ok, {tp['errors']} errors)")
            raw = raw_throughput(url, args.clients, args.seconds, distinct)
            print(f"  small requests, {label}, minimal raw-socket client: {raw['requests_per_s']} requests/s over "
                  f"{args.clients} connections ({raw['ok']} ok, {raw['errors']} errors)")
        print(f"  machine: {psutil.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in psutil.getloadavg())}")


if __name__ == "__main__":
    main()
