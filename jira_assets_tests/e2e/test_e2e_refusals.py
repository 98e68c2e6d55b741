"""When Jira refuses, nothing is lost: through the commands a person types (`dagster asset materialize` from the
repo root), against a populated lake, a refusal fails the run in one line that says what to fix, and every table
keeps its last snapshot; a table that really became empty in Jira still becomes empty."""

from __future__ import annotations

import json
import re
import subprocess

import httpx
import pytest
from _cli import REPO, BIN, jira_assets, materialize, output, project_env, tables
from _simulator import advance, start_simulator, truth

from jira_assets.endpoints import BY_NAME

pytestmark = pytest.mark.slow

BOARD_TABLES = ["boards", "board_configuration", "board_issues", "board_sprints", "sprint_issues"]
# Leaving the boards out leaves out what is read through them too, in catalogue order: the rest of the board tables
# and the sprint history tables computed from them.
SPRINT_HISTORY = ["sprint_issue_history", "sprint_report"]
EXCLUDE_BOARDS = "JIRA_ASSETS_EXCLUDE=boards," + ",".join(
    n for n in BY_NAME if n in BOARD_TABLES + SPRINT_HISTORY and n != "boards")
# boards++ reaches the sprint history tables too, which are computed from the issues' history: the board tables alone.
BOARDS = ",".join(BOARD_TABLES)


def requests_in(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_jira_software_lost_keeps_every_board_table(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "5") as (url, _):
        first = materialize(project_env(tmp_path, url), BOARDS)
        assert first.returncode == 0, output(first)
    before = tables(tmp_path / "lake")
    assert {name: rows for name, (_, rows) in before.items()} == {
        name: rows for name, (_, rows) in before.items() if name in BOARD_TABLES}
    assert all(before[name][1] > 0 for name in BOARD_TABLES)

    log = tmp_path / "no_software.jsonl"
    with start_simulator("--scale", "demo", "--seed", "5", "--no-software", "--request-log", str(log)) as (url, _):
        refused = materialize(project_env(tmp_path, url), BOARDS)
    text = output(refused)
    assert refused.returncode != 0
    line = next(line for line in text.splitlines() if "Failure: boards:" in line)
    assert "GET /rest/agile/1.0/board answered HTTP 404" in line and "needs Jira Software" in line
    assert EXCLUDE_BOARDS in line and "No table was changed" in line
    assert tables(tmp_path / "lake") == before, "a refusal must leave every table exactly as it was"
    # The boards request was the only one: its children did not run.
    assert [r["path"] for r in requests_in(log)] == ["/rest/agile/1.0/board"]


def test_a_site_without_jira_software_fails_clearly_and_check_says_what_to_exclude(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "5", "--no-software") as (url, _):
        env = project_env(tmp_path, url)
        refused = materialize(env, BOARDS)
        assert refused.returncode != 0 and EXCLUDE_BOARDS in output(refused)
        assert tables(tmp_path / "lake") == {}
        check = jira_assets(env, "check")
        assert check.returncode == 2, output(check)
        suggested = next(line for line in check.stdout.splitlines() if "JIRA_ASSETS_EXCLUDE=" in line)
        setting = suggested.split("export ", 1)[1]
        assert set(setting.split("=", 1)[1].split(",")) == set(BOARD_TABLES + SPRINT_HISTORY)
        name, value = setting.split("=", 1)
        excluded = project_env(tmp_path, url, **{name: value})
        assert jira_assets(excluded, "check").returncode == 0
        loads = subprocess.run([str(BIN / "dagster"), "definitions", "validate"], cwd=REPO, env=excluded,
                               capture_output=True, text=True, timeout=300)
        assert loads.returncode == 0, output(loads)


def test_a_child_refused_for_every_parent_keeps_its_table(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "5") as (url, _):
        env = project_env(tmp_path, url)
        assert materialize(env, "boards,board_configuration").returncode == 0
        before = tables(tmp_path / "lake")
        # Browse Boards lost: every board's configuration answers 403.
        httpx.post(f"{url}/__sim/faults", json={"deny_paths": ["/rest/agile/1.0/board/"]}).raise_for_status()
        refused = materialize(env, "board_configuration")
    line = next(line for line in output(refused).splitlines() if "Failure: board_configuration:" in line)
    assert refused.returncode != 0
    assert f"refused it for every one of the {before['board_configuration'][1]} boards rows" in line
    assert "403" in line and "keeps its" in line
    assert tables(tmp_path / "lake") == before


def test_lost_admin_rights_keep_the_admin_tables(tmp_path):
    admin = ["workflows", "notification_schemes"]
    with start_simulator("--scale", "demo", "--seed", "5") as (url, _):
        assert materialize(project_env(tmp_path, url), ",".join(admin)).returncode == 0
    before = tables(tmp_path / "lake")
    assert all(before[name][1] > 0 for name in admin)
    with start_simulator("--scale", "demo", "--seed", "5", "--non-admin") as (url, _):
        env = project_env(tmp_path, url)
        refused = materialize(env, ",".join(admin))
        check = jira_assets(env, "check")
    text = output(refused)
    assert refused.returncode != 0
    for name in admin:
        line = next(line for line in text.splitlines() if f"Failure: {name}:" in line)
        assert "lack the ADMINISTER permission (Administer Jira)" in line and f"keeps its {before[name][1]} rows" in line
    assert tables(tmp_path / "lake") == before
    for name in admin:
        assert any(line.strip().startswith(f"FAIL {name}") and "lack ADMINISTER" in line
                   for line in check.stdout.splitlines()), check.stdout


def test_a_table_that_really_became_empty_still_empties(tmp_path):
    """Every issue deleted in Jira (the permission intact, every board answering): board_issues empties, and the
    drop check warns."""
    with start_simulator("--scale", "demo", "--seed", "5") as (url, _):
        env = project_env(tmp_path, url)
        assert materialize(env, "boards,board_issues").returncode == 0
        assert tables(tmp_path / "lake")["board_issues"][1] > 0
        advance(url, delete_issues=len(truth(url, "issue_search")))
        assert truth(url, "board_issues") == []
        emptied = materialize(env, "board_issues")
    assert emptied.returncode == 0, output(emptied)
    assert tables(tmp_path / "lake")["board_issues"][1] == 0
    assert "Asset check 'row_count_not_dropped' on 'board_issues' did not pass" in output(emptied)


def test_a_wrong_token_ends_the_whole_run_after_one_request(tmp_path):
    log = tmp_path / "requests.jsonl"
    with start_simulator("--scale", "demo", "--seed", "5", "--request-log", str(log)) as (url, _):
        run = materialize(project_env(tmp_path, url, JIRA_API_TOKEN="not-the-token"), "*")
    text = output(run)
    assert run.returncode != 0
    assert len(requests_in(log)) <= 3 and all(r["status"] == 401 for r in requests_in(log))
    assert "JIRA_EMAIL" in text and "API token is wrong or expired" in text and "not-the-token" not in text
    assert "was not sent: an earlier request of this run got HTTP 401" in text
    assert tables(tmp_path / "lake") == {}


def test_an_unreachable_site_ends_the_whole_run_at_once(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    run = materialize(project_env(tmp_path, f"http://127.0.0.1:{port}"), "*")
    text = output(run)
    assert run.returncode != 0
    line = next(line for line in text.splitlines() if "nothing accepts connections" in line)
    assert f"127.0.0.1:{port} (connection refused)" in line and "JIRA_BASE_URL" in line
    assert not re.search(r"after \d+ attempts", line)  # a refused connection is not retried


def test_two_syncs_of_one_table_never_overlap(tmp_path):
    log = tmp_path / "requests.jsonl"
    with start_simulator("--scale", "demo", "--seed", "5", "--latency-ms", "100", "--request-log", str(log)) as (url, _):
        env = project_env(tmp_path, url)
        assert materialize(env, "issue_search").returncode == 0
        advance(url, update_issues=30, minutes=10)
        already = len(requests_in(log))
        runs = [subprocess.Popen([str(BIN / "dagster"), "asset", "materialize", "--select", "issue_search"],
                                 cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for _ in range(2)]
        texts = [run.communicate(timeout=600)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), texts
    assert any("another sync of jira.issue_search is running: waiting for it to commit" in t for t in texts)
    paths = [r["path"] for r in requests_in(log)[already:]]
    # Each run starts with /myself and ends with its count check: the second run's requests all come after the
    # first run's search pages.
    starts = [i for i, path in enumerate(paths) if path.endswith("/myself")]
    assert len(starts) == 2 and paths[starts[0] + 1] == paths[starts[1] + 1] == "/rest/api/2/search/jql", paths
    assert paths[starts[1] - 1] == "/rest/api/2/search/approximate-count", paths


def test_a_filter_that_matches_nothing_says_so(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "5") as (url, _):
        assert materialize(project_env(tmp_path, url), "issue_search").returncode == 0
        env = project_env(tmp_path, url, JIRA_JQL_FILTER='created < "1971-01-01" ORDER BY created DESC')
        run = materialize(env, "issue_search")
    text = output(run)
    assert run.returncode == 0, text
    assert "the issue filter (JIRA_JQL_FILTER='created < \"1971-01-01\"') matches no issue" in text
    assert "Asset check 'row_count_not_dropped' on 'issue_search' did not pass" in text


def test_a_lost_catalog_is_named_not_silently_resynced(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "5") as (url, _):
        env = project_env(tmp_path, url)
        assert materialize(env, "statuses").returncode == 0
        catalog = tmp_path / "lake" / "catalog.db"
        catalog.write_bytes(b"")
        run = materialize(env, "statuses")
    assert run.returncode != 0
    assert f"{catalog} is empty (0 bytes)" in output(run) and "Restore it from a backup" in output(run)
    assert catalog.stat().st_size == 0
