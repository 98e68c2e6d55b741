#!/usr/bin/env python3
"""Screenshot the project's asset graph in the Dagster UI with headless Chromium (Debian's `chromium`).

    .venv/bin/python scripts/screenshot_asset_graph.py --demo [--group issues] [--out docs/asset-graph.png]
    .venv/bin/python scripts/screenshot_asset_graph.py --path /asset-groups --out docs/asset-lineage.png

Starts `dagster-webserver` on the project (workspace.yaml, repo root) on a free loopback port with a throwaway
Dagster home, waits until the code location has loaded, lets Chromium render the page, and writes the PNG.
By default it captures one asset group's lineage (issues: issue_search and the tables fed by it, with their checks
and automation); `--path` captures any other UI page (`/asset-groups` is the global lineage, groups collapsed).
`--demo` first materializes the group with `dagster asset materialize` against the bundled Jira simulator (demo
scale), so the picture shows real materializations and check results (this is how docs/asset-graph.png is made).
Without it nothing is materialized and Jira is never called; `--dagster-home DIR` shows an existing instance. Needs `chromium`
(`apt-get install -y chromium`) or CHROMIUM=/path/to/chrome.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from jira_sim.process import stop_process

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
]
WORKSPACE_QUERY = ('{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus '
                   'locationOrLoadError { __typename ... on PythonError { message } } } } } }')


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(base + "/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_loaded(base: str, proc: subprocess.Popen, timeout: float) -> str:
    """Wait for the code location; return its name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"dagster-webserver exited with code {proc.returncode}")
        try:
            entries = graphql(base, WORKSPACE_QUERY)["workspaceOrError"]["locationEntries"]
        except (OSError, KeyError, TypeError, ValueError):
            entries = []
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            errors = [e["locationOrLoadError"]["message"] for e in entries
                      if e["locationOrLoadError"]["__typename"] == "PythonError"]
            if errors:
                raise SystemExit(f"the code location failed to load: {errors[0]}")
            return entries[0]["name"]
        time.sleep(0.5)
    raise SystemExit(f"dagster-webserver did not load the workspace within {timeout:.0f}s")


def materialize_demo(env: dict[str, str], group: str) -> None:
    """`dagster asset materialize --select group:<group>` against a demo-scale simulator, into env's instance/lake."""
    sys.path.insert(0, str(REPO_ROOT))
    from jira_sim.process import running_simulator

    with running_simulator(["--seed", "3", "--scale", "demo"]) as (url, _proc):
        run_env = dict(env, JIRA_BASE_URL=url, JIRA_API_TOKEN="demo-token", JIRA_RATE_LIMIT="50")
        done = subprocess.run(
            [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "--select", f"group:{group}",
             "-m", "jira_assets.definitions"],
            cwd=REPO_ROOT, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900,
        )
    if done.returncode != 0:
        raise SystemExit(f"materializing group {group} against the simulator failed:\n{done.stdout[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "docs" / "asset-graph.png"))
    parser.add_argument("--group", default="issues", help="asset group whose lineage to capture (default: issues)")
    parser.add_argument("--path", help="UI page to capture instead, e.g. /asset-groups (the global lineage)")
    parser.add_argument("--width", type=int, default=1800)
    parser.add_argument("--height", type=int, default=1100)
    parser.add_argument("--render-ms", type=int, default=25000, help="virtual time Chromium gives the page to render")
    parser.add_argument("--dagster-home", help="an existing Dagster instance to show (default: a throwaway one)")
    parser.add_argument("--demo", action="store_true",
                        help="materialize the group against the simulator first (throwaway instance and lake)")
    args = parser.parse_args(argv)

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium not found: apt-get update && apt-get install -y chromium (or set CHROMIUM)")
    webserver = Path(sys.executable).with_name("dagster-webserver")
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)

    if out.exists():
        out.unlink()  # so a failed capture can never leave the old picture looking like a new one

    with tempfile.TemporaryDirectory(prefix="asset-graph-") as tmp:
        if args.dagster_home:
            home = Path(args.dagster_home).resolve()
        else:
            home = Path(tmp) / "dagster_home"
            home.mkdir()
            shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "PYICEBERG_", "SNOWFLAKE_"))}
        env.update({
            "DAGSTER_HOME": str(home),
            "JIRA_ASSETS_LAKE_DIR": os.environ.get("JIRA_ASSETS_LAKE_DIR") or str(Path(tmp) / "lake"),
            # Placeholders: loading the definitions needs them; nothing here sends a request to Jira.
            "JIRA_BASE_URL": "http://127.0.0.1:9", "JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "placeholder",
            "JIRA_THROTTLE_DB": str(Path(tmp) / "throttle.sqlite"),
        })
        if args.demo:
            materialize_demo(env, args.group)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "webserver.log", "wb")
        proc = subprocess.Popen([str(webserver), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            location = wait_loaded(base, proc, timeout=240)
            # The UI greets a loopback visitor with a community sign-up dialog; mark it seen for this instance.
            graphql(base, "mutation { setNuxSeen }")
            path = args.path or f"/locations/{location}/asset-groups/{args.group}"
            cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={Path(tmp) / 'chromium'}",
                   f"--window-size={args.width},{args.height}", f"--virtual-time-budget={args.render_ms}",
                   f"--screenshot={out}", base + path]
            done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
            if done.returncode != 0 or not out.exists():
                raise SystemExit(f"chromium failed ({done.returncode}):\n{done.stdout[-3000:]}")
        finally:
            stop_process(proc)
            log.close()
    print(f"wrote {out} ({out.stat().st_size} bytes) from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
