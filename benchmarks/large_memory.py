"""Peak memory of the Dagster process on a full sync of the large tenant's issue endpoints (budget: 1.5 GB).

    .venv/bin/python benchmarks/large_memory.py                      # large tenant (100,000 issues), 90 req/s
    .venv/bin/python benchmarks/large_memory.py --scale standard     # a quicker look

Starts the simulator (`--scale large --burst-limit 0 --request-log F`: Jira's per-endpoint burst limit is off so
the simulator is not what is measured), then runs a full sync of issue_search, issue_changelog, issue_comments,
issue_worklog and worklog_updated in a child process (benchmarks/_runner.py, the product's assets, resources and
in-process executor; fresh lake, throttle DB and DAGSTER_HOME) under `/usr/bin/time -v`, with JIRA_RATE_LIMIT=90.

Peak RSS, three ways: `/usr/bin/time -v`'s "Maximum resident set size" (the kernel's high-water mark of the
largest process); the sum over the child and all its descendants sampled every 50 ms with psutil from this process;
and the child's own samples (a psutil thread inside the Dagster process), which also give each step's peak.
Requests are counted in the simulator's request log. Results: stdout and benchmarks/results/large_memory.md.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import ISSUE_ENDPOINTS, arrival_span, fresh_env, machine_note, mb, run_child  # noqa: E402

from jira_sim.process import running_simulator  # noqa: E402

TARGET = 1.5 * 2**30


def time_v_maxrss(path: Path) -> int | None:
    if not path.exists():
        return None
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", path.read_text())
    return int(m.group(1)) * 1024 if m else None


def _n(value) -> str:
    return f"{value:,}" if isinstance(value, int) else "—"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="large", choices=["demo", "standard", "large"])
    p.add_argument("--seed", default="1")
    p.add_argument("--rate", type=float, default=90.0, help="JIRA_RATE_LIMIT, requests/s")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--work-dir", default=None)
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "large_memory.md"))
    args = p.parse_args()

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="jira_bench_large_"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "requests.jsonl"
    sim_args = ["--scale", args.scale, "--seed", str(args.seed), "--burst-limit", "0",
                "--latency-ms", str(args.latency_ms), "--request-log", str(log)]
    time_out = work / "time-v.txt"
    prefix = ["/usr/bin/time", "-v", "-o", str(time_out)] if shutil.which("time") or Path("/usr/bin/time").exists() \
        else []
    print(f"work dir {work}", flush=True)
    with running_simulator(sim_args, startup_timeout=900) as (url, sim):
        env = fresh_env(work, url, args.rate)
        print(f"full sync of {', '.join(ISSUE_ENDPOINTS)} at {args.rate:g} req/s ...", flush=True)
        run = run_child(ISSUE_ENDPOINTS, env, work / "result.json", log, prefix=prefix)
    res = run.result
    kernel = time_v_maxrss(time_out)
    peak = max(x for x in (kernel, run.tree_peak_rss, res.get("peak_rss_sampled", 0)) if x)
    ok = bool(res.get("success"))
    meta, steps = res.get("metadata", {}), res.get("steps", {})
    statuses = sorted({r["status"] for r in run.requests})
    lines = [
        f"# Peak memory: full sync of the {args.scale} tenant's issue endpoints",
        "",
        f"Command: `.venv/bin/python benchmarks/large_memory.py --scale {args.scale} --seed {args.seed} "
        f"--rate {args.rate:g}`  ",
        f"Simulator: `python -m jira_sim {' '.join(sim_args[:-2])} "
        "--request-log <file>`  ",
        "Sync: a child process (benchmarks/_runner.py: the product's assets, resources and in-process executor) "
        f"under `/usr/bin/time -v`, JIRA_RATE_LIMIT={args.rate:g}, fresh lake / throttle DB / DAGSTER_HOME.  ",
        f"Machine: {machine_note()}",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| result | {'ok' if ok else 'FAILED'} |",
        f"| **peak RSS of the Dagster process** (`/usr/bin/time -v` max RSS) | **{mb(kernel) if kernel else 'n/a'}** |",
        f"| peak RSS, child + descendants summed (psutil, 50 ms) | {mb(run.tree_peak_rss)} |",
        f"| peak RSS sampled inside the Dagster process (psutil thread, 50 ms) | {mb(res.get('peak_rss_sampled', 0))} |",
        f"| target | < {mb(TARGET)} → {'met' if peak < TARGET else 'NOT MET'} |",
        f"| requests (simulator request log) | {len(run.requests):,} |",
        f"| wall time of the run (materialize) | {res.get('wall_seconds', 0):,.0f} s |",
        f"| wall time of the process (imports, Dagster start-up included) | {run.process_wall:,.0f} s |",
        f"| first → last request | {arrival_span(run.requests):,.0f} s |",
        f"| response statuses | {statuses} |",
        "",
        "| asset | rows | requests | retries | step time | step peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ISSUE_ENDPOINTS:
        m, s = meta.get(name, {}), steps.get(name, {})
        seconds = s.get("end", 0) - s.get("start", 0) if s.get("start") else 0
        lines.append(f"| {name} | {_n(m.get('rows'))} | {_n(m.get('requests'))} | {_n(m.get('retries'))} | "
                     f"{seconds:,.0f} s | {mb(s.get('peak_rss', 0))} |")
    if res.get("failures"):
        lines += ["", "Failures:", "", "```", *(f"{k}: {v}" for k, v in res["failures"].items()), "```"]
    lines.append("")
    report = "\n".join(lines)
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"written to {out}")
    return 0 if ok and peak < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
