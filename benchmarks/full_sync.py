"""Requests and wall time of a full sync of the standard tenant, beside the lower bound and the per-issue way;
then an incremental run after 1% of the issues changed (issues 4 and 5).

    .venv/bin/python benchmarks/full_sync.py            # standard tenant, 5 req/s, 120 ± 60 ms latency (~10 min)
    .venv/bin/python benchmarks/full_sync.py --scale demo --rate 20          # a quick check of the script

1. Starts the simulator (`--scale standard --latency-ms 120 --latency-jitter-ms 60 --request-log F`), reads its
   ground truth and computes, per endpoint, the paging plan (jira_assets_tests/paging_plan.py): (a) the lower bound,
   every endpoint at its largest page with no redundant request; (b) the per-issue way most connectors use — the
   search, then one GET issue/{id}/changelog, /comment and /worklog per issue (paged to the end), the other 35
   endpoints as in (a). The per-issue wall time is COMPUTED as requests / rate, not run.
2. Full sync of all 39 default endpoints in a child process (benchmarks/_runner.py: the assets, resources and
   executor the product uses) with a fresh lake, throttle DB and DAGSTER_HOME, at `--rate` requests/s.
   Requests are counted from the simulator's request log; per-asset requests from each materialization's metadata.
3. `POST /__sim/advance {"update_issues": 100, "minutes": 60}` (1% of the standard tenant's issues), then an
   incremental run of issue_search+ (issue_search, issue_changelog, issue_comments, issue_worklog) and
   worklog_updated in the same lake.
Each table's row count is checked against the simulator's truth. Results: stdout and benchmarks/results/full_sync.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jira_assets_tests"))  # paging_plan
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import ISSUE_ENDPOINTS, advance, arrival_span, fresh_env, machine_note, run_child  # noqa: E402

from jira_assets.endpoints import DEFAULT_ENABLED  # noqa: E402
from jira_assets.lake.catalog import open_catalog  # noqa: E402
from jira_sim.process import running_simulator  # noqa: E402
from paging_plan import fetch_truth, memoized_truth, pages, per_issue_requests, request_floor  # noqa: E402

PER_ISSUE = ["issue_search", "issue_changelog", "issue_comments", "issue_worklog"]


def table_rows(lake_dir: Path, name: str) -> int:
    snapshot = open_catalog(str(lake_dir)).load_table(("jira", name)).current_snapshot()
    return int(snapshot.summary.additional_properties.get("total-records", 0)) if snapshot else 0


def _n(value) -> str:
    return f"{value:,}" if isinstance(value, int) else "—"


def fmt_s(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{seconds:,.0f} s ({int(m)} min {s:02.0f} s)" if seconds >= 60 else f"{seconds:,.1f} s"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="standard", choices=["demo", "standard", "large"])
    p.add_argument("--seed", default="1")
    p.add_argument("--rate", type=float, default=5.0, help="JIRA_RATE_LIMIT, requests/s (product default 5)")
    p.add_argument("--latency-ms", type=float, default=120.0)
    p.add_argument("--latency-jitter-ms", type=float, default=60.0)
    p.add_argument("--update-issues", type=int, default=None, help="issues changed before the incremental run "
                   "(default 1%% of the tenant's issues)")
    p.add_argument("--minutes", type=int, default=60, help="simulated minutes the changes are spread over")
    p.add_argument("--work-dir", default=None, help="lake, throttle DB, DAGSTER_HOME, request log (default: temp)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "full_sync.md"))
    args = p.parse_args()

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="jira_bench_full_"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "requests.jsonl"
    sim_args = ["--scale", args.scale, "--seed", str(args.seed), "--latency-ms", str(args.latency_ms),
                "--latency-jitter-ms", str(args.latency_jitter_ms), "--request-log", str(log)]
    print(f"work dir {work}", flush=True)
    with running_simulator(sim_args, startup_timeout=600) as (url, _sim):
        # ---- the plan, from the ground truth (before the run, so it does not compete with it) ----
        t0 = time.monotonic()
        truth = memoized_truth()
        lower = {name: request_floor(url, name, truth=truth) for name in DEFAULT_ENABLED}
        per_issue = per_issue_requests(url, truth=truth)
        truth_rows = {name: len(truth(url, name)) for name in DEFAULT_ENABLED}
        n_issues = truth_rows["issue_search"]
        del truth
        print(f"plan computed in {time.monotonic() - t0:.0f} s: lower bound {sum(lower.values())} requests",
              flush=True)

        # ---- full sync ----
        env = fresh_env(work, url, args.rate)
        print(f"full sync of {len(DEFAULT_ENABLED)} endpoints at {args.rate:g} req/s ...", flush=True)
        full = run_child(list(DEFAULT_ENABLED), env, work / "full.json", log)
        if not full.result.get("success"):
            print(f"full sync FAILED: {full.result.get('failures')}", file=sys.stderr)
        print(f"full sync: {len(full.requests)} requests in {full.result.get('wall_seconds', 0):.0f} s", flush=True)
        lake_dir = work / "lake"
        row_mismatch = {n: (table_rows(lake_dir, n), truth_rows[n]) for n in DEFAULT_ENABLED
                        if table_rows(lake_dir, n) != truth_rows[n]}

        # ---- 1% of the issues change; incremental run ----
        changed = args.update_issues if args.update_issues is not None else max(1, n_issues // 100)
        applied = advance(url, update_issues=changed, minutes=args.minutes)
        print(f"advanced: {applied}", flush=True)
        inc = run_child(ISSUE_ENDPOINTS, env, work / "incremental.json", log)
        if not inc.result.get("success"):
            print(f"incremental FAILED: {inc.result.get('failures')}", file=sys.stderr)
        print(f"incremental: {len(inc.requests)} requests in {inc.result.get('wall_seconds', 0):.0f} s", flush=True)
        inc_mismatch = {}
        for name in ISSUE_ENDPOINTS:
            expected = len(fetch_truth(url, name))
            if table_rows(lake_dir, name) != expected:
                inc_mismatch[name] = (table_rows(lake_dir, name), expected)

    report = render(args, sim_args, full, inc, lower, per_issue, truth_rows, n_issues, changed, applied,
                    row_mismatch, inc_mismatch)
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"written to {out}")
    return 0 if full.result.get("success") and inc.result.get("success") else 1


def render(args, sim_args, full, inc, lower, per_issue, truth_rows, n_issues, changed, applied,
           row_mismatch, inc_mismatch) -> str:
    rate = args.rate
    meta = full.result.get("metadata", {})
    steps = full.result.get("steps", {})
    full_requests = len(full.requests)
    lower_total = sum(lower.values())
    per_issue_total = sum(per_issue.values()) + sum(v for k, v in lower.items() if k not in PER_ISSUE)
    full_wall = full.result.get("wall_seconds", 0.0)
    inc_wall = inc.result.get("wall_seconds", 0.0)
    asset_requests = sum(m.get("requests", 0) for m in meta.values())
    retries = sum(m.get("retries", 0) for m in meta.values())
    statuses = sorted({r["status"] for r in full.requests + inc.requests})
    lines = [
        f"# Full and incremental sync of the {args.scale} tenant ({n_issues:,} issues) at {rate:g} requests/s",
        "",
        f"Command: `.venv/bin/python benchmarks/full_sync.py --scale {args.scale} --seed {args.seed} --rate {rate:g} "
        f"--latency-ms {args.latency_ms:g} --latency-jitter-ms {args.latency_jitter_ms:g}"
        "`  ",
        f"Simulator: `python -m jira_sim {' '.join(sim_args[:-2])} "
        f"--request-log <file>`  ",
        "Each run: a child process (benchmarks/_runner.py) materializes the assets with the product's resources and "
        "in-process executor on a fresh lake, throttle DB and DAGSTER_HOME. Requests are counted in the simulator's "
        "request log.  ",
        f"Machine: {machine_note()}",
        "",
        "## Summary",
        "",
        "| run | requests | wall time | note |",
        "|---|---:|---:|---|",
        f"| full sync, 39 endpoints (measured) | {full_requests:,} | {fmt_s(full_wall)} | "
        f"{'ok' if full.result.get('success') else 'FAILED'}; first→last request {fmt_s(arrival_span(full.requests))}; "
        f"process incl. start-up {fmt_s(full.process_wall)}; {retries} retries |",
        f"| (a) lower bound: every endpoint at its largest page | {lower_total:,} | {fmt_s(lower_total / rate)} "
        f"| computed: requests / {rate:g} |",
        f"| (b) per-issue way: changelog + comments + worklog per issue | {per_issue_total:,} | "
        f"{fmt_s(per_issue_total / rate)} | computed, not run: requests / {rate:g} |",
        f"| incremental after {applied['applied'].get('update_issues', changed):,} issues changed "
        f"({100 * changed / max(1, n_issues):.0f}%), issue_search+ and worklog_updated (measured) | {len(inc.requests):,} "
        f"| {fmt_s(inc_wall)} | {'ok' if inc.result.get('success') else 'FAILED'}; first→last request "
        f"{fmt_s(arrival_span(inc.requests))}; process incl. start-up {fmt_s(inc.process_wall)} |",
        "",
        f"Full sync: {full_requests:,} requests = {full_requests / max(1, lower_total):.3f} × the lower bound; the "
        f"per-issue way needs {per_issue_total / max(1, full_requests):.1f} × as many. Requests reported by the assets: "
        f"{asset_requests:,} (request log: {full_requests:,}). Response statuses seen: {statuses}. "
        f"Achieved rate {full_requests / max(1e-9, arrival_span(full.requests)):.2f} req/s (log arrivals).",
        "",
        "Row counts equal the simulator's truth for every table"
        + ("." if not row_mismatch else f" EXCEPT {row_mismatch} (lake, truth)."),
        "After the incremental run the five issue tables hold the truth's row counts"
        + ("." if not inc_mismatch else f" EXCEPT {inc_mismatch} (lake, truth)."),
        "",
        "## Per asset (full sync)",
        "",
        "| asset | rows | requests | lower bound | per-issue way | step time |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in DEFAULT_ENABLED:
        m = meta.get(name, {})
        step = steps.get(name, {})
        seconds = step.get("end", 0) - step.get("start", 0) if step.get("start") else 0
        pi = per_issue.get(name, lower[name])
        flag = "" if m.get("requests") == lower[name] else " ≠"
        lines.append(f"| {name} | {_n(m.get('rows'))} | {_n(m.get('requests'))}{flag} | {lower[name]:,} | "
                     f"{pi:,} | {seconds:,.1f} s |")
    lines.append(f"| **total** | {sum(m.get('rows', 0) for m in meta.values()):,} | {asset_requests:,} | "
                 f"{lower_total:,} | {per_issue_total:,} | {fmt_s(full_wall)} |")
    lines += [
        "",
        "The per-issue column: issue_search without the /myself request (100 issues a page), then for every issue "
        "GET issue/{id}/changelog (100 a page), GET issue/{id}/comment (100 a page), GET issue/{id}/worklog "
        "(5000 a page, one request even when the project has time tracking off), each paged to the end and "
        "computed exactly from the ground truth; issue_worklog's bulk requests replaced by the per-issue ones; "
        "every other endpoint as in the lower bound.",
        "",
        "## Incremental run (per asset)",
        "",
        "| asset | rows written | requests | incremental | step time | details |",
        "|---|---:|---:|---|---:|---|",
    ]
    imeta, isteps = inc.result.get("metadata", {}), inc.result.get("steps", {})
    for name in ISSUE_ENDPOINTS:
        m = imeta.get(name, {})
        step = isteps.get(name, {})
        seconds = step.get("end", 0) - step.get("start", 0) if step.get("start") else 0
        details = ", ".join(f"{k}={m[k]}" for k in ("parents_changed", "parents_deleted", "unchanged_skipped",
                                                     "census", "issues_deleted", "worklogs_deleted", "jql") if k in m)
        lines.append(f"| {name} | {_n(m.get('rows'))} | {_n(m.get('requests'))} | {m.get('incremental', '—')} "
                     f"| {seconds:,.1f} s | {details} |")
    lines += [
        "",
        f"Advance: `POST /__sim/advance {{\"update_issues\": {changed}, \"minutes\": {args.minutes}}}` → "
        f"{applied.get('applied')}. The deletion census ({pages(n_issues, 5000)} request(s) here: ids only, 5000 a "
        "page) runs on its own "
        "cadence (JIRA_CENSUS_EVERY_HOURS, default 24 h) and was not due in this run.",
        "",
    ]
    if full.result.get("failures") or inc.result.get("failures"):
        lines += ["## Failures", "", "```", str(full.result.get("failures")), str(inc.result.get("failures")), "```",
                  ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
