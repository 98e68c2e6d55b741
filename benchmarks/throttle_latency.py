"""Does latency starve the throttle? Achieved request rate vs the limit, with slow responses.

Starts the simulator with `--latency-ms` (default 300), sends `--requests` GETs through one JiraClient with the
machine-wide throttle at `--rate` req/s and `--concurrency` requests in flight, then measures the achieved rate
from the simulator's request log (arrival times), not from the client's own counters.

    .venv/bin/python benchmarks/throttle_latency.py                  # 5 req/s, 300 ms latency, 150 requests
    .venv/bin/python benchmarks/throttle_latency.py --rate 10 --requests 300 --latency-ms 500

Figures (all from the simulator's request log):
- achieved rate: (n - 1) / (last arrival - first arrival). The throttle paces requests (no initial burst), so
  this is the steady rate a long run gets. Target >= 95% of the limit.
- max requests in any 1 s window of arrivals: must never exceed the limit.
- wall time: first request sent to last response received, as the caller sees it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jira_assets.jira.client import JiraClient  # noqa: E402
from jira_assets.jira.throttle import sqlite_throttle  # noqa: E402

EMAIL, TOKEN = "demo@example.com", "demo-token"


def _simulator(args, log_path):
    from jira_sim.process import running_simulator

    # Jira's own per-endpoint burst limit (100/s) is far above what is measured here; off so it cannot interfere.
    return running_simulator(["--latency-ms", str(args.latency_ms), "--request-log", str(log_path),
                              "--burst-limit", "0"])


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


async def drive(url: str, args, db: Path) -> float:
    throttle = sqlite_throttle(url, args.rate, db)
    client = JiraClient(url, EMAIL, TOKEN, rate_limit=args.rate, throttle=throttle)
    queue: asyncio.Queue = asyncio.Queue()
    for _ in range(args.requests):
        queue.put_nowait(None)

    async def worker():
        while not queue.empty():
            queue.get_nowait()
            await client.get_json("/rest/api/2/serverInfo", endpoint="server_info")

    started = time.monotonic()
    async with client:
        await asyncio.gather(*[worker() for _ in range(args.concurrency)])
    assert client.stats.requests == args.requests, client.stats.as_dict()
    return time.monotonic() - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=5.0)
    p.add_argument("--latency-ms", type=int, default=300)
    p.add_argument("--requests", type=int, default=150)
    p.add_argument("--concurrency", type=int, default=16)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "requests.jsonl"
        with _simulator(args, log_path) as (url, _proc):
            wall = asyncio.run(drive(url, args, Path(tmp) / "throttle.sqlite"))
            time.sleep(0.2)
        entries = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    times = sorted(e["t"] for e in entries if e["path"] == "/rest/api/2/serverInfo")
    n = len(times)
    achieved = (n - 1) / (times[-1] - times[0]) if n > 1 else float("nan")
    worst = max_in_window(times)
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"limit {args.rate:g} req/s, latency {args.latency_ms} ms, {n} requests, concurrency {args.concurrency}")
    print(f"achieved rate {achieved:.3f} req/s = {100 * achieved / args.rate:.1f}% of the limit (target >= 95%)")
    print(f"max requests in any 1 s window: {worst} (limit {max(1, math.floor(args.rate))}); wall time {wall:.2f} s")
    ok = achieved >= 0.95 * args.rate and worst <= max(1, math.floor(args.rate))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
