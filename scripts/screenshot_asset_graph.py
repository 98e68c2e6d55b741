#!/usr/bin/env python3
"""Screenshot the project's asset graph in the Dagster UI with headless Chromium (Debian's `chromium`).

    .venv/bin/python scripts/screenshot_asset_graph.py [--out docs/asset-graph.png] [--path /asset-groups]

Starts `dagster-webserver` on the project (workspace.yaml, repo root) on a free loopback port with a throwaway
Dagster home, waits until the code location has loaded, lets Chromium render the page, and writes the PNG.
Nothing is materialized and Jira is never called (the credentials are placeholders). Needs `chromium`
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

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
]
WORKSPACE_QUERY = ('{ workspaceOrError { ... on Workspace { locationEntries { loadStatus '
                   'locationOrLoadError { __typename ... on PythonError { message } } } } } }')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_loaded(base: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    body = json.dumps({"query": WORKSPACE_QUERY}).encode()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"dagster-webserver exited with code {proc.returncode}")
        try:
            request = urllib.request.Request(base + "/graphql", data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:
                entries = json.loads(response.read())["data"]["workspaceOrError"]["locationEntries"]
        except (OSError, KeyError, TypeError, ValueError):
            entries = []
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            errors = [e["locationOrLoadError"]["message"] for e in entries
                      if e["locationOrLoadError"]["__typename"] == "PythonError"]
            if errors:
                raise SystemExit(f"the code location failed to load: {errors[0]}")
            return
        time.sleep(0.5)
    raise SystemExit(f"dagster-webserver did not load the workspace within {timeout:.0f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "docs" / "asset-graph.png"))
    parser.add_argument("--path", default="/asset-groups", help="UI page to capture (default: the global asset graph)")
    parser.add_argument("--width", type=int, default=1800)
    parser.add_argument("--height", type=int, default=1100)
    parser.add_argument("--render-ms", type=int, default=25000, help="virtual time Chromium gives the page to render")
    args = parser.parse_args(argv)

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium not found: apt-get update && apt-get install -y chromium (or set CHROMIUM)")
    webserver = Path(sys.executable).with_name("dagster-webserver")
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="asset-graph-") as tmp:
        home = Path(tmp) / "dagster_home"
        home.mkdir()
        shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "PYICEBERG_", "SNOWFLAKE_"))}
        env.update({
            "DAGSTER_HOME": str(home), "JIRA_ASSETS_LAKE_DIR": os.environ.get("JIRA_ASSETS_LAKE_DIR", str(Path(tmp) / "lake")),
            # placeholders: loading definitions needs them, nothing here sends a request to Jira
            "JIRA_BASE_URL": "http://127.0.0.1:9", "JIRA_EMAIL": "demo@example.com", "JIRA_API_TOKEN": "placeholder",
            "JIRA_THROTTLE_DB": str(Path(tmp) / "throttle.sqlite"),
        })
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "webserver.log", "wb")
        proc = subprocess.Popen([str(webserver), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_loaded(base, proc, timeout=240)
            cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={Path(tmp) / 'chromium'}",
                   f"--window-size={args.width},{args.height}", f"--virtual-time-budget={args.render_ms}",
                   f"--screenshot={out}", base + args.path]
            done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
            if done.returncode != 0 or not out.exists():
                raise SystemExit(f"chromium failed ({done.returncode}):\n{done.stdout[-3000:]}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    print(f"wrote {out} ({out.stat().st_size} bytes) from {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
