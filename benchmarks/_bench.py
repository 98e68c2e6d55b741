"""Shared by full_sync.py and large_memory.py: a fresh environment for one connector run, the child process that
runs it (benchmarks/_runner.py), the simulator's request log, and RSS sampling of a process tree."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
RUNNER = REPO / "benchmarks" / "_runner.py"
EMAIL, TOKEN = "demo@example.com", "demo-token"
ISSUE_ENDPOINTS = ["issue_search", "issue_changelog", "issue_comments", "issue_worklog", "worklog_updated"]


def fresh_env(work: Path, url: str, rate: float) -> dict[str, str]:
    """The child's environment: the simulator's credentials, a new lake, throttle DB and Dagster home; no
    inherited JIRA_* setting (include lists, filters) can change what is measured."""
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    env.update({
        "JIRA_BASE_URL": url, "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN, "JIRA_RATE_LIMIT": str(rate),
        "JIRA_THROTTLE_DB": str(work / "throttle.sqlite"), "JIRA_ASSETS_LAKE_DIR": str(work / "lake"),
        "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1",
    })
    return env


class TreeRss:
    """Samples the RSS of a process and all its descendants every `interval` s; keeps the peak of the sum."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.root = psutil.Process(pid)
        self.peak_sum = 0
        self.peak_single = 0
        self.samples = 0
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            rss = []
            for proc in procs:
                try:
                    rss.append(proc.memory_info().rss)
                except psutil.Error:
                    pass
            if rss:
                self.peak_sum = max(self.peak_sum, sum(rss))
                self.peak_single = max(self.peak_single, max(rss))
                self.samples += 1
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class ChildRun:
    result: dict  # what _runner.py wrote
    process_wall: float  # start of the child process to its exit (imports and Dagster start-up included)
    exit_code: int
    tree_peak_rss: int  # sampled sum over the child and its descendants
    children_maxrss: int  # kernel high-water mark (RUSAGE_CHILDREN ru_maxrss): the largest single process
    requests: list[dict] = field(default_factory=list)  # request-log lines this run caused


def run_child(names: list[str], env: dict[str, str], out: Path, log: Path | None = None,
              tags: dict[str, str] | None = None, prefix: list[str] | None = None,
              extra: list[str] | None = None) -> ChildRun:
    """Run _runner.py for `names` in a child process (optionally wrapped by `prefix`, e.g. /usr/bin/time -v)."""
    before = _lines(log) if log else 0
    cmd = [*(prefix or []), sys.executable, str(RUNNER), "--select", ",".join(names), "--out", str(out)]
    for k, v in (tags or {}).items():
        cmd += ["--tag", f"{k}={v}"]
    cmd += extra or []
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=str(REPO))
    sampler = TreeRss(proc.pid)
    code = proc.wait()
    wall = time.monotonic() - started
    sampler.stop()
    import resource

    children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    result = json.loads(out.read_text()) if out.exists() else {"success": False, "failures": {"run": "no result"}}
    requests = _read_log(log)[before:] if log else []
    return ChildRun(result, wall, code, sampler.peak_sum, children_maxrss, requests)


def _lines(log: Path) -> int:
    return len(_read_log(log))


def _read_log(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def arrival_span(requests: list[dict]) -> float:
    """Seconds from the first to the last request's arrival at the simulator."""
    if len(requests) < 2:
        return 0.0
    return requests[-1]["t"] - requests[0]["t"]


def advance(url: str, **counts) -> dict:
    r = httpx.post(f"{url}/__sim/advance", json=counts, timeout=600.0)
    r.raise_for_status()
    return r.json()


def machine_note() -> str:
    load = os.getloadavg()
    return (f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average at the end {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} (1/5/15 min); the machine is "
            f"shared — other people's test suites ran at the same time, so wall times are upper bounds.")


def mb(n: int | float) -> str:
    return f"{n / 2**20:,.0f} MB"
