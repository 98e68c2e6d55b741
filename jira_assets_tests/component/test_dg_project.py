"""The component as a Dagster user meets it: a fresh `dg` project in a temp dir, with this package installed,
scaffolds `jira_assets.JiraComponent`, lists its definitions and materializes them against the simulator."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from _simulator import EMAIL, TOKEN, start_simulator
from jira_assets.lake.catalog import open_catalog

BIN = Path(sys.executable).parent
PROJECT_TOML = """\
[project]
name = "acme-data"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["jira-assets"]

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "acme_data"
"""
DEFINITIONS_PY = """\
from pathlib import Path

from dagster import definitions, load_from_defs_folder


@definitions
def defs():
    return load_from_defs_folder(path_within_project=Path(__file__).parent)
"""


def _project(root: Path) -> Path:
    package = root / "src" / "acme_data"
    (package / "defs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PROJECT_TOML)
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (package / "definitions.py").write_text(DEFINITIONS_PY)
    return root


def _dg(root: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "dg"), *args], cwd=root, env=env, capture_output=True, text=True, timeout=600)


def _env(root: Path, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(BIN.parent),
               PYTHONPATH=str(root / "src"), DAGSTER_HOME=str(home), ACME_EMAIL=EMAIL, ACME_TOKEN=TOKEN,
               JIRA_THROTTLE_DB=str(tmp_path / "throttle.sqlite"), JIRA_RATE_LIMIT="50")
    return env


@pytest.mark.slow
def test_a_fresh_dg_project_scaffolds_lists_and_materializes_the_component(tmp_path):
    root = _project(tmp_path / "acme-data")
    env = _env(root, tmp_path)
    listed = _dg(root, env, "list", "components")
    assert listed.returncode == 0, listed.stderr
    assert "jira_assets.JiraComponent" in listed.stdout

    scaffolded = _dg(root, env, "scaffold", "defs", "jira_assets.JiraComponent", "jira_acme")
    assert scaffolded.returncode == 0, scaffolded.stderr
    yaml_path = root / "src" / "acme_data" / "defs" / "jira_acme" / "defs.yaml"
    text = yaml_path.read_text()
    assert "- name: acme" in text and "api_token_env: JIRA_API_TOKEN" in text

    with start_simulator("--seed", "1", "--scale", "demo") as (url, _):
        lake_dir = tmp_path / "lake"
        text = (text.replace("subdomain: acme ", f"base_url: {url} ")
                .replace("email_env: JIRA_EMAIL", "email_env: ACME_EMAIL")
                .replace("api_token_env: JIRA_API_TOKEN", "api_token_env: ACME_TOKEN")
                .replace("lake_dir: .jira_lake", f"lake_dir: {lake_dir}"))
        yaml_path.write_text(text)

        defs = _dg(root, env, "list", "defs", "--json")
        assert defs.returncode == 0, defs.stderr
        listing = json.loads(defs.stdout)
        repo = subprocess.run(
            [sys.executable, "-c", "from jira_assets.definitions import defs; g = defs.resolve_asset_graph(); "
             "print(len(list(g.get_all_asset_keys())), len(list(g.asset_check_keys)), "
             "sorted(s.name for s in defs.schedules), sorted(s.name for s in defs.sensors))"],
            env={**env, "JIRA_BASE_URL": url, "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN},
            capture_output=True, text=True, timeout=300)
        assert repo.returncode == 0, repo.stderr
        assert repo.stdout.strip() == " ".join(str(x) for x in (
            len(listing["assets"]), len(listing["asset_checks"]), sorted(s["name"] for s in listing["schedules"]),
            sorted(s["name"] for s in listing["sensors"])))
        assert TOKEN not in defs.stdout + defs.stderr

        # A fresh lake: the boards come along the first time (the rest of issue_search+ waits for what it reads).
        for selection in ('+key:"board_sprints" or key:"issue_search"+', "issue_search+"):
            launched = _dg(root, env, "launch", "--assets", selection)
            assert launched.returncode == 0, launched.stdout[-4000:] + launched.stderr[-4000:]
            assert TOKEN not in launched.stdout + launched.stderr

    lake = open_catalog(lake_dir)
    issues = lake.load_table(("jira", "issue_search")).scan(selected_fields=("site", "id")).to_arrow()
    assert issues.num_rows > 0
    assert set(issues.column("site").to_pylist()) == {"acme"}
