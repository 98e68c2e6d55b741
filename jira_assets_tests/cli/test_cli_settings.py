"""Every bad setting gets one line that names it, says what it holds (never a secret) and what it should hold, and
a non-zero exit: from `jira-assets check` and from `dagster asset materialize`, with no traceback."""

from __future__ import annotations

import subprocess

import pytest
from _cli import BIN, REPO, jira_assets, materialize, output, project_env
from _simulator import TOKEN, start_simulator

CASES = [
    ({"JIRA_RATE_LIMIT": "abc"}, "JIRA_RATE_LIMIT must be a number of requests per second, got 'abc'"),
    ({"JIRA_RATE_LIMIT": "0"}, "JIRA_RATE_LIMIT must be a number of requests per second greater than 0, got '0'"),
    ({"JIRA_API_TOKEN": None}, "JIRA_API_TOKEN is not set: set it to an Atlassian API token"),
    ({"JIRA_API_TOKEN": ""}, "JIRA_API_TOKEN is empty: set it to an Atlassian API token"),
    ({"JIRA_API_TOKEN": "abc def"}, "JIRA_API_TOKEN has a space or line break inside it (7 characters)"),
    ({"JIRA_EMAIL": None}, "JIRA_EMAIL is not set: set it to the email address of the Atlassian account"),
    ({"JIRA_EMAIL": ""}, "JIRA_EMAIL is empty"),
    ({"JIRA_EMAIL": "demo"}, "JIRA_EMAIL must be an email address such as you@acme.com, got 'demo'"),
    ({"JIRA_BASE_URL": None}, "No Jira site configured: set JIRA_SUBDOMAIN"),
    ({"JIRA_BASE_URL": None, "JIRA_SUBDOMAIN": ""}, "No Jira site configured: set JIRA_SUBDOMAIN"),
    ({"JIRA_BASE_URL": None, "JIRA_SUBDOMAIN": "https://acme.atlassian.net"}, "Set JIRA_SUBDOMAIN=acme instead"),
    ({"JIRA_START_DATE": "yesterday"}, "JIRA_START_DATE must look like 2024-01-31, got 'yesterday'"),
    ({"JIRA_ASSETS_INCLUDE": "default,nope"}, "JIRA_ASSETS_INCLUDE names an unknown endpoint 'nope'"),
    ({"JIRA_ASSETS_EXCLUDE": "boards"}, "endpoint 'board_configuration' takes its ids from 'boards'"),
]


def _ids(case):
    return ",".join(f"{k}={v!r}" for k, v in case[0].items())


@pytest.mark.parametrize("settings, message", CASES, ids=[_ids(c) for c in CASES])
def test_check_names_the_bad_setting(tmp_path, settings, message):
    out = jira_assets(project_env(tmp_path, "http://127.0.0.1:9", **settings), "check")
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in output(out)
    assert all(line.startswith("FAILED: ") for line in out.stderr.strip().splitlines())


@pytest.mark.parametrize("settings, message", CASES, ids=[_ids(c) for c in CASES])
def test_materialize_names_the_bad_setting(tmp_path, settings, message):
    out = materialize(project_env(tmp_path, "http://127.0.0.1:9", **settings), "myself", timeout=300)
    assert out.returncode == 2
    problems = [line for line in out.stderr.splitlines() if line.startswith("jira-assets: ")]
    assert len(problems) == 1 and message in problems[0], out.stderr
    assert "Traceback" not in output(out) and "abc def" not in output(out)


def test_a_token_pasted_with_a_trailing_newline_works(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "2") as (url, _):
        env = project_env(tmp_path, url, JIRA_API_TOKEN=TOKEN + "\n", JIRA_EMAIL=" demo@example.com ")
        check = jira_assets(env, "check")
        assert check.returncode == 0 and "OK: authenticated" in check.stdout, output(check)
        run = materialize(env, "myself")
        assert run.returncode == 0, output(run)


def test_an_empty_include_means_the_default_set(tmp_path):
    from jira_assets.endpoints import DEFAULT_ENABLED

    code = "from jira_assets.definitions import defs; print(len(list(defs.assets)))"
    env = project_env(tmp_path, "http://127.0.0.1:9", JIRA_ASSETS_INCLUDE="", JIRA_ASSETS_EXCLUDE="")
    out = subprocess.run([str(BIN / "python"), "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(len(DEFAULT_ENABLED))


def test_endpoints_into_a_closed_pipe_is_not_an_error(tmp_path):
    out = subprocess.run(f"{BIN / 'jira-assets'} endpoints | head -1", shell=True, cwd=REPO, capture_output=True,
                         text=True, timeout=120, env=project_env(tmp_path))
    assert out.stdout.startswith("issue_search") and out.stderr == ""
