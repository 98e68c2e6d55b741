"""Every kind of Atlassian credential, end to end: a Dagster sync of a few endpoints with a classic API token, a
scoped API token and a service account's OAuth 2.0 client credentials writes the same tables, equal to the
simulator's truth; the refusals are one line that says what to fix; an access token that expires mid-run is renewed.
Request counts, token requests included, are exact and read from the simulator's request log."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from _cli import materialize, output, project_env
from _client_fixtures import simulator
from _simulator import EMAIL, truth
from _sync import key_of, sync, table_rows

from jira_assets.endpoints import BY_NAME
from jira_assets.jira import auth
from jira_sim.gateway import cloud_id_for

SEED = 23
NAMES = ["project_search", "project_versions", "issue_types", "boards", "board_sprints", "myself"]
SCOPED_TOKEN = "demo-scoped-token"
CLIENT = {"oauth_client_id": "demo-client-id", "oauth_client_secret": "demo-client-secret"}
ROOTS = {"project_search", "issue_types", "boards", "myself"}  # the others wait for a parent, and are skipped
SCOPED_ON_SITE = "this is a scoped token: set JIRA_AUTH=scoped-token (requests then go through the API gateway)"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with simulator(tmp_path_factory.mktemp("sim"), "--seed", str(SEED), "--burst-limit", "0") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(sim):
    sim.reset()
    auth._cloud_ids.clear()  # each test looks the cloudId up, as a fresh deployment would


def credentials(url: str, kind: str) -> dict:
    """JiraResource settings for each kind, the gateway and token endpoint being the simulator's."""
    if kind == "token":
        return {}
    if kind == "scoped-token":
        return {"auth": kind, "api_token": SCOPED_TOKEN, "gateway_url": url}
    return {"auth": kind, "email": None, "api_token": None, "gateway_url": url,
            "oauth_token_url": f"{url}/oauth/token", **CLIENT}


def gateway(url: str) -> str:
    return f"{url}/ex/jira/{cloud_id_for(SEED)}"


def assert_tables_equal_truth(url: str, lake_dir, names, *, via_gateway: bool) -> None:
    """Same keys and `_raw` as the truth; through the gateway Jira's REST links point at the gateway form, so they
    are read back in the site form first."""
    for name in names:
        spec = BY_NAME[name]
        expected = {key_of(spec, item["record"], item["parents"]): item["record"] for item in truth(url, name)}
        rows = table_rows(lake_dir, name)
        keys = [tuple(str(row[k]) for k in spec.primary_key) for row in rows]
        assert len(keys) == len(set(keys)) and set(keys) == set(expected), name
        for key, row in zip(keys, rows):
            raw = row["_raw"]
            if via_gateway:
                assert f"{url}/rest/" not in raw
                raw = raw.replace(f"{gateway(url)}/rest/", f"{url}/rest/")
            assert json.loads(raw) == expected[key], f"{name} {key}"


def counted(entries) -> Counter:
    """Requests by what they were for."""
    def kind(e):
        if e["path"] == "/oauth/token":
            return "token"
        if e["path"] == "/_edge/tenant_info":
            return "cloud id"
        return "gateway" if e["path"].startswith("/ex/jira/") else "site"
    return Counter(kind(e) for e in entries)


@pytest.mark.parametrize("kind", ["token", "scoped-token", "oauth"])
def test_each_kind_of_credential_syncs_the_tables_jira_serves(sim, tmp_path, kind):
    result = sync(sim.url, NAMES, lake_dir=tmp_path / "lake", **credentials(sim.url, kind))
    assert result.success, result.failures
    assert_tables_equal_truth(sim.url, tmp_path / "lake", NAMES, via_gateway=kind != "token")
    jira_requests = sum(result.metadata[name]["requests"] for name in NAMES)
    expected = {"token": {"site": jira_requests},
                "scoped-token": {"cloud id": 1, "gateway": jira_requests},
                # one access token per step: each step has its own client, and no token outlived an hour here
                "oauth": {"cloud id": 1, "token": len(NAMES), "gateway": jira_requests}}[kind]
    assert counted(sim.new_entries()) == expected


def test_a_scoped_token_on_the_site_url_fails_every_step_in_one_line(sim, tmp_path):
    result = sync(sim.url, NAMES, lake_dir=tmp_path / "lake", api_token=SCOPED_TOKEN)
    assert not result.success and set(result.failures) == ROOTS
    for message in result.failures.values():
        assert SCOPED_ON_SITE in message and "\n" not in message and SCOPED_TOKEN not in message
    assert sum("answered HTTP 401" in m for m in result.failures.values()) == 1  # the others were not sent
    assert counted(sim.new_entries()) == {"site": 1}


def test_a_wrong_client_secret_fails_every_step_in_one_line(sim, tmp_path):
    settings = {**credentials(sim.url, "oauth"), "oauth_client_secret": "wrong-secret-0c4f"}
    result = sync(sim.url, NAMES, lake_dir=tmp_path / "lake", **settings)
    assert not result.success and set(result.failures) == ROOTS
    for message in result.failures.values():
        assert "JIRA_OAUTH_CLIENT_ID (demo-client-id) or JIRA_OAUTH_CLIENT_SECRET is wrong" in message
        assert "\n" not in message and "wrong-secret-0c4f" not in message
    # the first step's token request was refused; the others knew it and asked nothing
    assert counted(sim.new_entries()) == {"cloud id": 1, "token": 1}


def test_an_access_token_that_expires_mid_run_is_renewed(tmp_path):
    """2-second access tokens; Jira rate-limits the run's first project/search with Retry-After 3, so the whole
    machine's throttle pauses 3 s and project_search's step outlives its first token. Three steps, one token each,
    and project_search's a second one after the pause: four token requests, and no request met an expired token."""
    names = ["project_search", "project_versions", "issue_types"]
    with simulator(tmp_path, "--seed", str(SEED), "--burst-limit", "0", "--oauth-token-seconds", "2") as short:
        short.set_faults(fail_first={"/rest/api/2/project/search": [429]}, retry_after_seconds=3)
        result = sync(short.url, names, lake_dir=tmp_path / "lake", **credentials(short.url, "oauth"))
        assert result.success, result.failures
        entries = short.new_entries()
        assert counted(entries) == {"cloud id": 1, "token": 4,
                                    "gateway": sum(result.metadata[n]["requests"] for n in names)}
        assert [e["status"] for e in entries if e["path"].startswith("/ex/jira/")].count(429) == 1
        assert {e["status"] for e in entries} == {200, 429}  # not a single 401
        assert entries[-1]["t"] - entries[0]["t"] > 3
        assert_tables_equal_truth(short.url, tmp_path / "lake", names, via_gateway=True)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["scoped-token", "oauth"])
def test_the_commands_a_person_types_work_with_each_kind(tmp_path, kind):
    """`dagster asset materialize` from the repo root (a process per step) with the settings of the README."""
    names = ["project_search", "project_versions", "project_components"]
    with simulator(tmp_path, "--seed", str(SEED), "--burst-limit", "0") as running:
        url = running.url
        settings = {"JIRA_AUTH": kind, "JIRA_GATEWAY_URL": url}
        if kind == "oauth":
            settings.update(JIRA_EMAIL=None, JIRA_API_TOKEN=None, JIRA_OAUTH_TOKEN_URL=f"{url}/oauth/token",
                            JIRA_OAUTH_CLIENT_ID=CLIENT["oauth_client_id"],
                            JIRA_OAUTH_CLIENT_SECRET=CLIENT["oauth_client_secret"])
        else:
            settings.update(JIRA_API_TOKEN=SCOPED_TOKEN, JIRA_EMAIL=EMAIL)
        run = materialize(project_env(tmp_path, url, **settings), "project_search+")
        assert run.returncode == 0, output(run)
        assert_tables_equal_truth(url, tmp_path / "lake", names, via_gateway=True)
        counts = counted(running.new_entries())
    # each step is its own process: its own cloudId lookup and, for a service account, its own access token
    assert counts["cloud id"] == len(names) and counts["site"] == 0
    assert counts["token"] == (len(names) if kind == "oauth" else 0)
