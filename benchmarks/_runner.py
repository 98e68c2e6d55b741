"""One Dagster run of the connector, as the product runs it, in its own process (the benchmarks start this).

    JIRA_BASE_URL=... JIRA_EMAIL=... JIRA_API_TOKEN=... JIRA_RATE_LIMIT=5 JIRA_THROTTLE_DB=... \
    JIRA_ASSETS_LAKE_DIR=... DAGSTER_HOME=... \
    .venv/bin/python benchmarks/_runner.py --select issue_search,issue_changelog --out result.json

Resources as in jira_assets/definitions.py (JiraResource.from_env(), IcebergIOManager()), the assets of
build_assets(select), `materialize` on the DAGSTER_HOME instance (the in-process executor, like `jira-assets demo`).
Writes JSON: success, failures, wall seconds of the run, per-asset materialization metadata, per-step start/end,
this process's RSS sampled every 50 ms (psutil) and its kernel high-water mark (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dagster import DagsterEventType, DagsterInstance, materialize  # noqa: E402

from jira_assets.defs.assets import build_assets  # noqa: E402
from jira_assets.defs.io_manager import IcebergIOManager  # noqa: E402
from jira_assets.defs.run_report import run_outcome  # noqa: E402
from jira_assets.defs.resources import JiraResource  # noqa: E402


class RssSampler:
    """(wall time, RSS bytes) every `interval` seconds from a daemon thread of this process."""

    def __init__(self, interval: float = 0.05):
        self.proc = psutil.Process()
        self.samples: list[tuple[float, int]] = []
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self.proc.memory_info().rss))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--select", required=True, help="comma-separated endpoint names")
    p.add_argument("--out", required=True)
    p.add_argument("--tag", action="append", default=[], help="run tag k=v (repeatable)")
    args = p.parse_args()
    names = [n for n in args.select.split(",") if n]
    tags = dict(t.split("=", 1) for t in args.tag)

    sampler = RssSampler()
    instance = DagsterInstance.get()
    resources = {"jira": JiraResource.from_env(), "lake": IcebergIOManager()}
    started = time.time()
    result = materialize(build_assets(names), resources=resources, instance=instance, raise_on_error=False,
                         tags=tags, run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    wall = time.time() - started
    sampler.stop()

    metadata, failures = run_outcome(result)
    metadata = {name: {k: _plain(v) for k, v in meta.items()} for name, meta in metadata.items()}
    steps: dict = {}
    for record in instance.get_records_for_run(result.run_id).records:
        entry = record.event_log_entry
        ev = entry.dagster_event
        if ev is None or ev.step_key is None:
            continue
        if ev.event_type == DagsterEventType.STEP_START:
            steps.setdefault(ev.step_key, {})["start"] = entry.timestamp
        elif ev.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            steps.setdefault(ev.step_key, {})["end"] = entry.timestamp
    for step in steps.values():
        inside = [rss for t, rss in sampler.samples if step.get("start", 0) <= t <= step.get("end", 0)]
        step["peak_rss"] = max(inside, default=0)
    out = {
        "success": result.success,
        "run_id": result.run_id,
        "wall_seconds": wall,
        "started": started,
        "metadata": metadata,
        "failures": failures,
        "steps": steps,
        "peak_rss_sampled": max((rss for _, rss in sampler.samples), default=0),
        "ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    Path(args.out).write_text(json.dumps(out, indent=1))
    return 0 if result.success else 1


def _plain(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


if __name__ == "__main__":
    sys.exit(main())
