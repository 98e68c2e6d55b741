"""Tables stay bounded: 100 incremental runs of issue_search through the command line, with and without the lake
maintenance job on its cadence.

    .venv/bin/python benchmarks/bench_maintenance.py                          # demo tenant, ~20 min
    .venv/bin/python benchmarks/bench_maintenance.py --scale standard --runs 100 --every 10

Two arms, each on its own simulator (same seed, so the same tenant and the same changes), lake and DAGSTER_HOME (the
repo's dagster.yaml), at JIRA_RATE_LIMIT=100 (the throttle is not what is measured here):

- `plain`: a full load, then `runs` times: `POST /__sim/advance` (`--update-issues` issues updated over 60 minutes),
  then `dagster asset materialize --select issue_search` from the repo root, as a person types it;
- `maintained`: the same, and after every `--every`-th run `dagster job execute -m jira_assets.definitions
  -j jira_lake_maintenance` (the deployment's Definitions plus `maintenance_definitions`, as definitions.py will
  wire them).

Time is compressed: a hundred hourly runs would not leave the default 7-day window, so the maintained arm keeps the
last `--keep-runs` runs' worth of snapshots (the window in days is that many times the mean time between runs so far)
and removes orphans of any age (nothing runs beside the job here; a deployment keeps the 1 h default).

After each run the issue_search table is measured on disk: data files of the current snapshot, snapshots, manifests,
the current metadata.json, the whole metadata folder, every file and byte under the table's location. The table at
each `--every`-th run shows the maintained arm just before its maintenance (the peak of a cycle). At the end both
arms' tables are compared: same issues with the same `updated`, same cursor. Output: stdout and
benchmarks/results/bench_maintenance_<scale>.md (figures per run: the .json beside it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import advance, machine_note  # noqa: E402
from launch_paths import BIN, REPO, user_env  # noqa: E402

from jira_assets.lake.catalog import open_catalog  # noqa: E402
from jira_assets.lake.writer import LakeWriter  # noqa: E402
from jira_sim.process import running_simulator  # noqa: E402

TABLE = "issue_search"
ARMS = ("plain", "maintained")


def measure(lake_dir: Path) -> dict:
    lake = LakeWriter(open_catalog(str(lake_dir)))
    table = lake.load(TABLE)
    location = Path(table.location().removeprefix("file://"))
    on_disk = [p for p in location.rglob("*") if p.is_file()]
    metadata = [p for p in on_disk if p.parent.name == "metadata"]
    snapshot = table.current_snapshot()
    return {
        "data_files": len(table.inspect.files()),
        "snapshots": len(table.snapshots()),
        "manifests": len(snapshot.manifests(table.io)) if snapshot else 0,
        "metadata_json": Path(table.metadata_location.removeprefix("file://")).stat().st_size,
        "metadata_dir": sum(p.stat().st_size for p in metadata),
        "metadata_files": len(metadata),
        "disk_files": len(on_disk),
        "disk_bytes": sum(p.stat().st_size for p in on_disk),
        "rows": int(snapshot.summary["total-records"]) if snapshot else 0,
    }


def fingerprint(lake_dir: Path) -> tuple[dict, str | None]:
    import json as _json

    lake = LakeWriter(open_catalog(str(lake_dir)))
    rows = {r["id"]: _json.loads(r["_raw"])["fields"]["updated"] for r in lake.read_table(TABLE).to_pylist()}
    site = next(p for p in lake.commit_properties(TABLE) if "lake.site" in p)["lake.site"]
    return rows, lake.for_site(site).last_committed_property(TABLE, "jira.cursor.updated")


def run(cmd: list[str], env: dict, log: Path) -> float:
    started = time.monotonic()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        code = subprocess.call(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}); see {log}")
    return time.monotonic() - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="demo", choices=["demo", "standard", "large"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--every", type=int, default=10, help="maintenance after every N-th run")
    p.add_argument("--keep-runs", type=float, default=10, help="snapshot window, in runs (time is compressed)")
    p.add_argument("--update-issues", type=int, default=5)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--work-dir", default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    root = Path(args.work_dir or tempfile.mkdtemp(prefix="jira_bench_maint_"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"work dir {root}", flush=True)

    sims = [running_simulator(["--scale", args.scale, "--seed", str(args.seed)], startup_timeout=600) for _ in ARMS]
    urls = [s.__enter__()[0] for s in sims]
    try:
        envs, logs = {}, {}
        for arm, url in zip(ARMS, urls):
            envs[arm] = {**user_env(root / arm, url, args.rate), "PYTHONPATH": str(REPO)}
            logs[arm] = root / arm / "commands.log"
        sync_cmd = [str(BIN / "dagster"), "asset", "materialize", "--select", TABLE]
        maintain_cmd = [str(BIN / "dagster"), "job", "execute", "-m", "jira_assets.definitions",
                        "-j", "jira_lake_maintenance", "-c"]
        series: dict[str, list[dict]] = {arm: [] for arm in ARMS}
        maintenance: list[dict] = []
        started = time.monotonic()
        for i in range(args.runs + 1):
            if i:
                for url in urls:
                    advance(url, update_issues=args.update_issues, minutes=60)
            for arm in ARMS:
                seconds = run(sync_cmd, envs[arm], logs[arm])
                series[arm].append({"run": i, "sync_seconds": seconds, **measure(root / arm / "lake")})
            if i and i % args.every == 0:
                arm = "maintained"
                times = [r["sync_seconds"] for r in series[arm]]
                gap = (time.monotonic() - started) / i  # mean time between runs so far
                config = root / arm / "maintenance.yaml"
                config.write_text(json.dumps({"ops": {"maintain_lake_tables": {"config": {
                    "keep_snapshots_days": args.keep_runs * gap / 86400, "orphan_min_age_hours": 0}}}}))
                before = series[arm][-1]
                seconds = run([*maintain_cmd, str(config)], envs[arm], logs[arm])
                after = measure(root / arm / "lake")
                maintenance.append({"run": i, "seconds": seconds, "before": before, "after": after,
                                    "window_s": args.keep_runs * gap, "sync_median_s": statistics.median(times)})
                print(f"run {i:3}: maintenance {seconds:.1f} s: data files {before['data_files']} -> "
                      f"{after['data_files']}, snapshots {before['snapshots']} -> {after['snapshots']}, metadata "
                      f"{before['metadata_dir'] / 1024:,.0f} -> {after['metadata_dir'] / 1024:,.0f} KB", flush=True)
            if i % args.every == 0:
                a, b = series["plain"][-1], series["maintained"][-1]
                print(f"run {i:3}: plain {a['data_files']} files / {a['snapshots']} snapshots / metadata "
                      f"{a['metadata_dir'] / 1024:,.0f} KB; maintained {b['data_files']} / {b['snapshots']} / "
                      f"{b['metadata_dir'] / 1024:,.0f} KB (before its maintenance)", flush=True)
        same_rows = fingerprint(root / "plain" / "lake") == fingerprint(root / "maintained" / "lake")
    finally:
        for s in sims:
            s.__exit__(None, None, None)

    out = Path(args.out or REPO / "benchmarks" / "results" / f"bench_maintenance_{args.scale}.md")
    out.with_suffix(".json").write_text(json.dumps({"args": vars(args), "series": series,
                                                    "maintenance": maintenance, "same_rows": same_rows}, indent=1))
    out.write_text(report(args, series, maintenance, same_rows))
    print(out.read_text())
    return 0 if same_rows else 1


def kb(n: int) -> str:
    return f"{n / 1024:,.0f}"


def report(args, series: dict, maintenance: list[dict], same_rows: bool) -> str:
    cmd = (f"benchmarks/bench_maintenance.py --scale {args.scale} --seed {args.seed} --runs {args.runs} "
           f"--every {args.every} --keep-runs {args.keep_runs:g} --update-issues {args.update_issues}")
    plain, kept = series["plain"], series["maintained"]
    lines = [
        f"# Lake maintenance: {args.runs} incremental runs of issue_search ({args.scale} tenant)", "",
        f"Command: `.venv/bin/python {cmd}`  ",
        f"Machine: {machine_note()}", "",
        f"Each run: {args.update_issues} issues updated in the simulator, then `dagster asset materialize --select "
        f"issue_search` (CLI, fresh process). Maintained arm: `dagster job execute -m jira_assets.definitions "
        f"-j jira_lake_maintenance` after every {args.every}th run, keeping {args.keep_runs:g} runs' worth of "
        "snapshots and orphans of any age (time compressed, see the script). Figures of the issue_search table; "
        "the maintained arm's are taken just before its maintenance, the peak of its cycle.", "",
        "| run | data files plain / maint. | snapshots | manifests | metadata.json KB | metadata folder KB "
        "| files on disk | MB on disk |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a, b in zip(plain, kept):
        if a["run"] % args.every and a["run"] != 1:
            continue
        lines.append(
            f"| {a['run']} | {a['data_files']} / {b['data_files']} | {a['snapshots']} / {b['snapshots']} | "
            f"{a['manifests']} / {b['manifests']} | {kb(a['metadata_json'])} / {kb(b['metadata_json'])} | "
            f"{kb(a['metadata_dir'])} / {kb(b['metadata_dir'])} | {a['disk_files']} / {b['disk_files']} | "
            f"{a['disk_bytes'] / 2**20:.1f} / {b['disk_bytes'] / 2**20:.1f} |")
    if maintenance:
        last = maintenance[-1]["after"]
        lines.append(f"| {maintenance[-1]['run']}, after maintenance | – / {last['data_files']} | – / "
                     f"{last['snapshots']} | – / {last['manifests']} | – / {kb(last['metadata_json'])} | – / "
                     f"{kb(last['metadata_dir'])} | – / {last['disk_files']} | – / {last['disk_bytes'] / 2**20:.1f} |")
    lines += ["", "Maintenance runs (the job's whole command, start-up included):", "",
              "| after run | seconds | data files | snapshots | metadata folder KB | files on disk |",
              "|---:|---:|---:|---:|---:|---:|"]
    for m in maintenance:
        b, a = m["before"], m["after"]
        lines.append(f"| {m['run']} | {m['seconds']:.1f} | {b['data_files']} → {a['data_files']} | "
                     f"{b['snapshots']} → {a['snapshots']} | {kb(b['metadata_dir'])} → {kb(a['metadata_dir'])} | "
                     f"{b['disk_files']} → {a['disk_files']} |")
    tail = args.every
    sp = statistics.median(r["sync_seconds"] for r in plain[-tail:])
    sm = statistics.median(r["sync_seconds"] for r in kept[-tail:])
    lines += ["", f"Median sync command over the last {tail} runs: plain {sp:.1f} s, maintained {sm:.1f} s. "
              f"Both tables hold the same {plain[-1]['rows']} issues with the same `updated` and the same cursor: "
              f"{'yes' if same_rows else 'NO'}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
