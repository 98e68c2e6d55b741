"""Helpers for the automation tests: a simulator, a real lake, and tables landed from the simulator's truth."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from dagster import multi_asset

from jira_assets.defs.assets import asset_spec
from jira_assets.endpoints import BY_NAME
from jira_assets.jira.site import site_name
from jira_assets.lake.arrow import SITE_COLUMN, records_to_batch
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.lake.writer import TableWrite
from jira_assets.defs.resources import JiraResource
from jira_sim.process import running_simulator, stop_process

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_EMAIL = "demo@example.com"
DEMO_TOKEN = "demo-token"


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    """One demo-scale simulator for a module's read-only tests."""
    with running_simulator(["--seed", "7", "--scale", "demo"]) as (url, _proc):
        yield url


@pytest.fixture
def fresh_sim_url() -> Iterator[str]:
    """A simulator of the test's own, for tests that change the tenant."""
    with running_simulator(["--seed", "11", "--scale", "demo"]) as (url, _proc):
        yield url


@pytest.fixture
def lake(tmp_path) -> IcebergIOManager:
    return IcebergIOManager(lake_dir=str(tmp_path / "lake"))


def jira_for(url: str) -> JiraResource:
    return JiraResource(base_url=url, email=DEMO_EMAIL, api_token=DEMO_TOKEN)


def sim_post(url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def sim_get(url: str, path: str) -> dict:
    with urllib.request.urlopen(url + path, timeout=30) as response:
        return json.loads(response.read())


def truth(url: str, endpoint: str) -> list[dict]:
    return sim_get(url, f"/__sim/truth/{endpoint}")["records"]


# The site name the assets give a simulator's rows (jira_for(url): no subdomain, the URL's host).
SIM_SITE = site_name(None, None, "http://127.0.0.1")


def table_write(endpoint: str, items: list[dict]) -> TableWrite:
    """The simulator's truth for one endpoint as the table the asset layer would write (site, typed columns, parent
    key)."""
    spec = BY_NAME[endpoint]
    link = spec.parent
    typed = [c for c in spec.columns if link is None or c.name != link.key]
    extra, extra_types = {SITE_COLUMN: [SIM_SITE] * len(items)}, {SITE_COLUMN: "string"}
    if link is not None:
        values = [item["parents"].get(link.key) for item in items]
        if link.key_type == "long":
            values = [None if v is None else int(v) for v in values]
        else:
            values = [None if v is None else str(v) for v in values]
        extra[link.key], extra_types[link.key] = values, link.key_type
    batch = records_to_batch([item["record"] for item in items], typed, extra=extra, extra_types=extra_types,
                             synced_at=datetime.now(timezone.utc))
    return TableWrite(batches=[batch], schema=batch.schema, mode="replace", key_columns=spec.table_key,
                      site=SIM_SITE)


def land(lake: IcebergIOManager, endpoint: str, items: list[dict]):
    return lake.writer().write(endpoint, table_write(endpoint, items))


def land_truth(lake: IcebergIOManager, url: str, endpoint: str) -> list[dict]:
    items = truth(url, endpoint)
    land(lake, endpoint, items)
    return items


def read(lake: IcebergIOManager, endpoint: str) -> pa.Table:
    return lake.writer().read_table(endpoint)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stand_in_assets(names):
    """Assets with the factory's specs (keys, groups, parents, freshness, automation) but no body: enough to
    evaluate automation conditions without syncing anything."""
    out = []
    for name in names:

        @multi_asset(name=name, specs=[asset_spec(BY_NAME[name], names)])
        def _a():
            return None

        out.append(_a)
    return out


WORKSPACE_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message stack } } } } } }
"""


def graphql(base: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(base + "/graphql", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.loads(response.read())
    if payload.get("errors"):
        raise AssertionError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


@contextlib.contextmanager
def running_webserver(env: dict[str, str], timeout: float = 240.0) -> Iterator[str]:
    """`dagster-webserver` on the project (workspace.yaml, repo root) on a free loopback port; yields its URL once
    the code location has loaded (raises with the load error otherwise)."""
    port = free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "dagster-webserver")
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([exe, "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)], cwd=REPO_ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"dagster-webserver exited with {proc.returncode}:\n{log.read().decode()[-4000:]}")
            try:
                entries = graphql(base, WORKSPACE_QUERY)["workspaceOrError"]["locationEntries"]
            except (OSError, AssertionError):
                entries = []
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [e["locationOrLoadError"] for e in entries
                          if e["locationOrLoadError"]["__typename"] == "PythonError"]
                if errors:
                    raise RuntimeError(f"the code location failed to load: {errors[0]['message']}\n"
                                       f"{''.join(errors[0]['stack'][-5:])}")
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"dagster-webserver did not load the workspace within {timeout:.0f}s")
            time.sleep(0.5)
        yield base
    finally:
        stop_process(proc)
        log.close()


def project_env(tmp_path) -> dict[str, str]:
    """Environment for loading the project as an operator would (demo credentials, a tmp lake and Dagster home)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "PYICEBERG_", "SNOWFLAKE_"))}
    home = tmp_path / "project_dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env.update({"JIRA_BASE_URL": "http://127.0.0.1:9", "JIRA_EMAIL": "demo@example.com",
                "JIRA_API_TOKEN": "demo-token", "JIRA_ASSETS_LAKE_DIR": str(tmp_path / "lake"),
                "JIRA_THROTTLE_DB": str(tmp_path / "throttle.sqlite"), "DAGSTER_HOME": str(home)})
    return env
