"""`jira-assets check` and endpoint selection: a non-admin user learns what to turn off, then runs cleanly."""

from __future__ import annotations

import os
import subprocess
import sys

from _simulator import EMAIL, TOKEN, sim, start_simulator  # noqa: F401  (sim: the module's simulator)
from _sync import sync

from jira_assets.selection import enabled_endpoints
from jira_assets.endpoints import ADMIN_ONLY, BY_NAME, DEFAULT_ENABLED


def _check(url: str, **env) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "JIRA_BASE_URL": url, "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN,
                "JIRA_RATE_LIMIT": "50", **env}
    return subprocess.run([sys.executable, "-m", "jira_assets.cli", "check"], env=full_env, capture_output=True,
                           text=True, timeout=300)


def test_non_admin_is_told_what_to_turn_off_then_runs_cleanly(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "2", "--non-admin") as (url, _):
        out = _check(url)
        assert out.returncode == 2, out.stdout + out.stderr
        assert "OK: authenticated" in out.stdout and "time zone: Australia/Sydney" in out.stdout
        # 403 for four; an empty page for the two that list only what the caller administers, which check
        # recognises by the ADMINISTER permission the credentials lack
        refused = {"workflow_schemes", "issue_security_schemes", "screen_schemes", "field_configurations",
                   "workflows", "notification_schemes"}
        line = next(l for l in out.stdout.splitlines() if "JIRA_ASSETS_EXCLUDE=" in l)
        assert set(line.split("JIRA_ASSETS_EXCLUDE=")[1].split(",")) == refused
        assert _check(url, JIRA_ASSETS_EXCLUDE=",".join(refused)).returncode == 0
        names = enabled_endpoints(exclude="admin")
        result = sync(url, names, lake_dir=tmp_path / "lake")
        assert result.success, result.failures
        assert sorted(result.metadata) == sorted(set(DEFAULT_ENABLED) - set(ADMIN_ONLY))


def test_wrong_token_and_bad_subdomain_exit_non_zero_with_the_cause():
    with start_simulator("--scale", "demo", "--seed", "2") as (url, _):
        out = _check(url, JIRA_API_TOKEN="not-the-token")
        assert out.returncode == 1
        assert "HTTP 401" in out.stdout and "expire" in out.stdout and "not-the-token" not in out.stdout + out.stderr
    out = subprocess.run([sys.executable, "-m", "jira_assets.cli", "check"], capture_output=True, text=True,
                         env={**os.environ, "JIRA_SUBDOMAIN": "https://acme.atlassian.net", "JIRA_EMAIL": EMAIL,
                              "JIRA_API_TOKEN": TOKEN}, timeout=120)
    assert out.returncode == 1 and "JIRA_SUBDOMAIN=acme" in out.stderr


def test_endpoint_selection_words():
    assert enabled_endpoints(include="default", exclude="") == list(DEFAULT_ENABLED)
    assert enabled_endpoints(include="all", exclude="") == list(BY_NAME)
    assert "audit_records" in enabled_endpoints(include="default,audit_records", exclude="")
    assert not set(ADMIN_ONLY) & set(enabled_endpoints(include="all", exclude="admin"))
    try:
        enabled_endpoints(include="default", exclude="boards")
    except ValueError as err:
        assert "board_configuration" in str(err) and "boards" in str(err)
    else:
        raise AssertionError("a child without its parent must be refused")


def test_check_reads_every_site_of_a_component_defs_yaml(sim, tmp_path):
    """`jira-assets check --defs defs.yaml`: each site with its own credential variables; one whose token variable
    is unset fails with a line naming it, the readable one is checked against Jira, and the exit status says so."""
    from _cli import BIN, REPO, project_env

    url, _ = sim
    defs = tmp_path / "defs.yaml"
    defs.write_text(f"""type: jira_assets.JiraComponent
attributes:
  sites:
    - name: emea
      base_url: {url}
      email_env: EMEA_EMAIL
      api_token_env: EMEA_TOKEN
    - name: apac
      base_url: {url}
      email_env: APAC_EMAIL
      api_token_env: APAC_TOKEN
  include: users_search
""")
    env = project_env(tmp_path, EMEA_EMAIL="demo@example.com", EMEA_TOKEN="demo-token",
                      APAC_EMAIL="demo@example.com", JIRA_API_TOKEN="demo-token")
    proc = subprocess.run([str(BIN / "jira-assets"), "check", "--defs", str(defs)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "== " in proc.stdout and "site emea" in proc.stdout and "site apac" in proc.stdout
    assert "All enabled endpoints are readable." in proc.stdout  # emea
    assert "FAILED: site apac: APAC_TOKEN is not set" in proc.stderr  # not JIRA_API_TOKEN, which is set
    assert "demo-token" not in proc.stdout + proc.stderr
