"""Run the commands a person types, in real subprocesses from the repo root: `dagster asset materialize` (no -m:
the venv's .pth file names the code location, as `make install` sets it up) and `jira-assets ...`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from _simulator import EMAIL, TOKEN

from jira_assets.lake.catalog import open_catalog

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def project_env(tmp: Path, url: str | None = None, **settings: str) -> dict[str, str]:
    """A person's environment for this project: the simulator's credentials, a lake, throttle store and Dagster
    home of their own under `tmp`, nothing inherited that could change the run; `settings` override (a value of
    None removes the variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "PYICEBERG_", "SNOWFLAKE_", "DAGSTER_"))}
    home = tmp / "dagster_home"
    if not home.exists():
        home.mkdir(parents=True)
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env.update({"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN, "JIRA_RATE_LIMIT": "50", "DAGSTER_HOME": str(home),
                "JIRA_ASSETS_LAKE_DIR": str(tmp / "lake"), "JIRA_THROTTLE_DB": str(tmp / "throttle.sqlite")})
    if url:
        env["JIRA_BASE_URL"] = url
    for name, value in settings.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def materialize(env: dict[str, str], select: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """`dagster asset materialize --select <select>` from the repo root, as the README says."""
    return subprocess.run([str(BIN / "dagster"), "asset", "materialize", "--select", select], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def jira_assets(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "jira-assets"), *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def output(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


def tables(lake_dir: Path) -> dict[str, tuple[int, int]]:
    """table -> (current snapshot id, rows) of every table in the lake."""
    catalog = open_catalog(str(lake_dir))
    out = {}
    for _, name in catalog.list_tables("jira") if catalog.namespace_exists("jira") else []:
        snapshot = catalog.load_table(("jira", name)).current_snapshot()
        out[name] = (snapshot.snapshot_id, int(snapshot.summary.additional_properties["total-records"]))
    return out
