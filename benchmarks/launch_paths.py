"""Every run as fast as Jira's limit allows, however it is launched: the command line and the UI (GraphQL).

    .venv/bin/python benchmarks/launch_paths.py --scale demo                 # ~6 min
    .venv/bin/python benchmarks/launch_paths.py --scale standard             # ~1 h
    .venv/bin/python benchmarks/launch_paths.py --scale standard --rate 50 --paths cli --runs full

For each repeat, on a fresh simulator (`--latency-ms 120 --latency-jitter-ms 60 --request-log F`) and a fresh lake,
throttle store and DAGSTER_HOME (the repo's dagster.yaml):

- `full`: every default asset (`dagster asset materialize --select '*'`, or the UI's "Materialize all");
- `issues`: `--select issue_search+` (issue_search and its three children) on a fresh lake;
- `incremental`: after the full sync, `POST /__sim/advance` (1% of the issues updated, over 60 minutes), then
  `issue_search+` again.

The CLI path runs the command from the repo root as a person types it (no -m: the venv's .pth names the code
location). The UI path starts `dagster-webserver` and `dagster-daemon run` on the project (the run queue needs the
daemon, as under `dagster dev`) and launches the run with the webserver's GraphQL `launchRun` mutation, the one the
UI's Materialize button sends (the asset job with an asset and check selection), then polls the run to its end.

Figures per run: requests (server side, from the simulator's request log), the floor = requests / rate, first ->
last request (span) and its ratio to the floor, and the whole command (CLI: the process; UI: the launch call to the
run's end) and its excess over the floor. The medians of the repeats go to stdout and
benchmarks/results/launch_paths_<scale>[_rate<R>].md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import EMAIL, TOKEN, advance, arrival_span, machine_note  # noqa: E402

from jira_sim.process import running_simulator, stop_process  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SELECTIONS = {"full": "*", "issues": "issue_search+", "incremental": "issue_search+"}
ISSUES = {"demo": 300, "standard": 10_000, "large": 100_000}  # the simulator's tenants


def user_env(work: Path, url: str, rate: float) -> dict[str, str]:
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "DAGSTER_", "PYICEBERG_"))}
    env.update({"JIRA_BASE_URL": url, "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN, "JIRA_RATE_LIMIT": f"{rate:g}",
                "JIRA_THROTTLE_DB": str(work / "throttle.sqlite"), "JIRA_ASSETS_LAKE_DIR": str(work / "lake"),
                "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1",
                # Only the launched run: schedules and sensors (which the daemon would tick) start stopped.
                "JIRA_ASSETS_AUTOMATION_STATUS": "stopped"})
    return env


def read_log(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []


# ---- the command line -----------------------------------------------------------------------------------------


def run_cli(env: dict[str, str], select: str, transcript: Path) -> tuple[float, bool]:
    started = time.monotonic()
    with transcript.open("w") as out:
        code = subprocess.call([str(BIN / "dagster"), "asset", "materialize", "--select", select], cwd=REPO,
                               env=env, stdout=out, stderr=subprocess.STDOUT)
    return time.monotonic() - started, code == 0


# ---- the UI -----------------------------------------------------------------------------------------------------


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(base + "/graphql", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        payload = json.loads(response.read())
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


ASSETS_QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name }
  assetNodes { assetKey { path } dependedByKeys { path } assetChecksOrError { ... on AssetChecks { checks { name } } } } } } } }"""
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } ... on InvalidSubsetError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""


class UI:
    """dagster-webserver and dagster-daemon on the project, as `dagster dev` runs them."""

    def __init__(self, env: dict[str, str], work: Path):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.logs = [open(work / "webserver.log", "w"), open(work / "daemon.log", "w")]
        self.procs = [
            subprocess.Popen([str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p",
                              str(self.port)], cwd=REPO, env=env, stdout=self.logs[0], stderr=subprocess.STDOUT),
            subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=REPO, env=env,
                             stdout=self.logs[1], stderr=subprocess.STDOUT),
        ]
        deadline = time.monotonic() + 300
        while True:
            try:
                self.repo = graphql(self.base, ASSETS_QUERY)["repositoriesOrError"]["nodes"][0]
                break
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def launch(self, select: str) -> tuple[float, bool]:
        """Launch as the UI's Materialize button does and wait for the run's end; seconds from launch to end."""
        nodes = self.repo["assetNodes"]
        names = [n["assetKey"]["path"][-1] for n in nodes]
        if select != "*":  # `<asset>+`: the asset and the assets built directly from it, as the CLI reads it
            root = next(n for n in nodes if n["assetKey"]["path"][-1] == select.rstrip("+"))
            names = [root["assetKey"]["path"][-1], *[k["path"][-1] for k in root["dependedByKeys"]]]
        chosen = [n for n in nodes if n["assetKey"]["path"][-1] in names]
        params = {
            "selector": {"repositoryLocationName": self.repo["location"]["name"], "repositoryName": self.repo["name"],
                         "jobName": "__ASSET_JOB",
                         "assetSelection": [{"path": n["assetKey"]["path"]} for n in chosen],
                         "assetCheckSelection": [{"assetKey": {"path": n["assetKey"]["path"]}, "name": c["name"]}
                                                 for n in chosen for c in n["assetChecksOrError"]["checks"]]},
            "mode": "default", "executionMetadata": {"tags": []},
        }
        started = time.monotonic()
        result = graphql(self.base, LAUNCH, {"p": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"launchRun failed: {result}")
        run_id = result["run"]["runId"]
        while True:
            status = graphql(self.base, STATUS, {"id": run_id})["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                return time.monotonic() - started, status == "SUCCESS"
            time.sleep(0.25)

    def close(self) -> None:
        for proc in self.procs:
            stop_process(proc)
        for log in self.logs:
            log.close()


# ---- one repeat ---------------------------------------------------------------------------------------------------


def one_repeat(args, path: str, repeat: int, root: Path) -> list[dict]:
    rows = []
    log = root / f"{path}-{repeat}-requests.jsonl"
    sim_args = ["--scale", args.scale, "--seed", str(args.seed + repeat), "--latency-ms", str(args.latency_ms),
                "--latency-jitter-ms", str(args.latency_jitter_ms), "--request-log", str(log)]
    with running_simulator(sim_args, startup_timeout=600) as (url, _sim):
        for run in args.runs:
            if run == "incremental" and not any(r["run"] == "full" for r in rows):
                continue  # an incremental run follows the full sync of this repeat
            work = root / f"{path}-{repeat}-{'full' if run == 'incremental' else run}"
            env = user_env(work, url, args.rate)
            if run == "incremental":
                advance(url, update_issues=args.update_issues or ISSUES[args.scale] // 100, minutes=60)
            before = len(read_log(log))
            ui = UI(env, work) if path == "ui" else None
            try:
                if ui is None:
                    wall, ok = run_cli(env, SELECTIONS[run], work / f"{run}.log")
                else:
                    wall, ok = ui.launch(SELECTIONS[run])
            finally:
                if ui is not None:
                    ui.close()
            requests = read_log(log)[before:]
            floor = len(requests) / args.rate
            span = arrival_span(requests)
            rows.append({"path": path, "run": run, "repeat": repeat, "ok": ok, "requests": len(requests),
                         "floor": floor, "span": span, "wall": wall,
                         "span_ratio": span / floor if floor else None, "excess": wall - floor})
            print(f"{path:3} {run:11} #{repeat}: {'ok' if ok else 'FAILED'} {len(requests)} requests, floor "
                  f"{floor:.1f} s, span {span:.1f} s ({rows[-1]['span_ratio'] or 0:.3f}x), whole {wall:.1f} s "
                  f"(floor + {wall - floor:.1f} s)", flush=True)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="demo", choices=["demo", "standard", "large"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate", type=float, default=5.0)
    p.add_argument("--latency-ms", type=float, default=120.0)
    p.add_argument("--latency-jitter-ms", type=float, default=60.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--paths", default="cli,ui")
    p.add_argument("--runs", default="full,issues,incremental")
    p.add_argument("--update-issues", type=int, default=None)
    p.add_argument("--work-dir", default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    args.runs = args.runs.split(",")
    root = Path(args.work_dir or tempfile.mkdtemp(prefix="jira_bench_paths_"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"work dir {root}", flush=True)
    rows: list[dict] = []
    for repeat in range(args.repeat):
        for path in args.paths.split(","):
            rows += one_repeat(args, path, repeat, root)
    suffix = f"_rate{args.rate:g}" if args.rate != 5 else ""
    out = Path(args.out or REPO / "benchmarks" / "results" / f"launch_paths_{args.scale}{suffix}.md")
    out.write_text(report(args, rows))
    print(out.read_text())
    return 0 if all(r["ok"] for r in rows) else 1


def report(args, rows: list[dict]) -> str:
    cmd = " ".join(["benchmarks/launch_paths.py", "--scale", args.scale, "--rate", f"{args.rate:g}",
                    "--repeat", str(args.repeat), "--paths", args.paths, "--runs", ",".join(args.runs)])
    lines = [f"# Launch paths: {args.scale} tenant at {args.rate:g} requests/s, "
             f"{args.latency_ms:g} ± {args.latency_jitter_ms:g} ms latency", "",
             f"Command: `.venv/bin/python {cmd}`  ", f"Machine: {machine_note()}", "",
             "Medians of the repeats (each on a fresh simulator, lake and Dagster home). Floor = requests / rate; "
             "span = first to last request at the simulator; whole = the CLI process, or the UI's launch call to "
             "the run's end.", "",
             "| path | run | requests | floor | span | span / floor | whole | whole - floor | repeats |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for path in args.paths.split(","):
        for run in args.runs:
            got = [r for r in rows if r["path"] == path and r["run"] == run]
            if not got:
                continue
            med = {k: statistics.median(r[k] for r in got) for k in ("requests", "floor", "span", "wall", "excess")}
            ratio = statistics.median(r["span_ratio"] for r in got if r["span_ratio"] is not None)
            ok = sum(r["ok"] for r in got)
            lines.append(f"| {path} | {run} (`{SELECTIONS[run]}`) | {med['requests']:,.0f} | {med['floor']:.1f} s | "
                         f"{med['span']:.1f} s | {ratio:.3f} | {med['wall']:.1f} s | {med['excess']:+.1f} s | "
                         f"{ok}/{len(got)} ok |")
    lines += ["", "Every run:", "", "| path | run | # | requests | span / floor | whole | ok |", "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['path']} | {r['run']} | {r['repeat']} | {r['requests']:,} | "
                     f"{(r['span_ratio'] or 0):.3f} | {r['wall']:.1f} s | {r['ok']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
