"""A separate process sharing the machine-wide throttle: `python _throttle_worker.py URL COUNT RATE [PATH] [CONCURRENCY]`.

Uses the default throttle (JIRA_THROTTLE_DB / JIRA_THROTTLE_REDIS_URL from the environment), like a Dagster step
process would. Waits for the file named by env WORKER_GO (if set) so all workers start together. Prints the
client's stats as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from jira_assets.jira.client import JiraClient


async def main(url: str, count: int, rate: float, path: str, concurrency: int) -> dict:
    go = os.environ.get("WORKER_GO")
    async with JiraClient(url, "demo@example.com", "demo-token", rate_limit=rate, backoff_base=0.05) as client:
        _ = client.throttle
        print("ready", flush=True)
        while go and not os.path.exists(go):
            await asyncio.sleep(0.005)
        todo = list(range(count))

        async def worker():
            while todo:
                todo.pop()
                await client.get_json(path, endpoint="worker")

        await asyncio.gather(*[worker() for _ in range(concurrency)])
        return client.stats.as_dict()


if __name__ == "__main__":
    url, count, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/rest/api/2/serverInfo"
    concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    stats = asyncio.run(main(url, count, rate, path, concurrency))
    print(json.dumps(stats), flush=True)
