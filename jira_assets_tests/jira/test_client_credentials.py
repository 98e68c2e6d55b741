"""`check_credentials` (what `jira-assets check` prints): who is authenticated, or what to fix."""

from __future__ import annotations

import asyncio

import pytest

from _client_fixtures import EMAIL, OddJira, free_port, make_client, simulator
from jira_assets.jira.client import check_credentials
from jira_assets.defs.resources import JiraResource


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with simulator(tmp_path_factory.mktemp("sim"), "--seed", "11", "--burst-limit", "0") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(sim):
    sim.reset()


def check(url, tmp_path, **kwargs):
    async def go():
        async with make_client(url, tmp_path, **kwargs) as client:
            return await check_credentials(client)

    return asyncio.run(go())


def test_success_prints_account_site_and_time_zone(sim, tmp_path):
    result = check(sim.url, tmp_path)
    me = sim.truth("myself")[0]["record"]
    assert result.ok and result.status == 200
    assert result.account_id == me["accountId"] and result.time_zone == "Australia/Sydney"
    text = str(result)
    assert text.startswith(f"OK: authenticated to {sim.url}")
    assert f"accountId {me['accountId']}" in text and me["displayName"] in text
    assert f"site: {sim.url}" in text and "time zone: Australia/Sydney" in text
    assert [e["path"] for e in sim.new_entries()] == ["/rest/api/2/myself"]


def test_wrong_token_explains_expiry_and_owner(sim, tmp_path):
    result = check(sim.url, tmp_path, api_token="not-the-token")
    assert not result.ok and result.status == 401
    text = str(result)
    assert text.startswith(f"FAILED: {sim.url} as {EMAIL}")
    assert "API token is wrong or expired" in text and "expire after at most one year" in text
    assert f"JIRA_EMAIL ({EMAIL}) is not the email address of the Atlassian account that owns the token" in text
    assert "not-the-token" not in text
    assert len(sim.new_entries()) == 1  # 401 is never retried


def test_email_of_someone_else_is_a_401_too(sim, tmp_path):
    result = check(sim.url, tmp_path, email="someone.else@example.com")
    assert not result.ok and result.status == 401 and "someone.else@example.com" in result.problem


def test_revoked_token_text_body(sim, tmp_path):
    sim.set_faults(revoke_token=True)
    result = check(sim.url, tmp_path)
    assert result.status == 401 and "expired" in result.problem and len(sim.new_entries()) == 1


def test_forbidden(sim, tmp_path):
    sim.set_faults(deny_paths=["/rest/api/2/myself"])
    result = check(sim.url, tmp_path)
    assert not result.ok and result.status == 403
    assert "refused it (HTTP 403: You are not authorized" in result.problem
    assert "deactivated" in result.problem
    assert len(sim.new_entries()) == 1


def test_no_such_site(sim, tmp_path):
    result = check(sim.url + "/no-such-site", tmp_path)
    assert not result.ok and result.status == 404
    assert result.problem.startswith(f"No such Jira site: {sim.url}/no-such-site answered HTTP 404")
    assert "JIRA_SUBDOMAIN" in result.problem


def test_unreachable_site(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = check(url, tmp_path, max_attempts=2)
    assert not result.ok and result.status is None
    assert result.problem.startswith(f"Could not reach {url}") and "ConnectError" in result.problem


def test_anonymous_myself_is_not_success(tmp_path):
    with OddJira() as odd:
        result = check(odd.url + "/anon", tmp_path)
    assert not result.ok and result.status == 200 and "anonymous" in result.problem


def test_resource_check_from_the_environment(sim, monkeypatch):
    monkeypatch.setenv("JIRA_BASE_URL", sim.url)
    monkeypatch.setenv("JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("JIRA_API_TOKEN", "demo-token")
    monkeypatch.setenv("JIRA_RATE_LIMIT", "20")
    resource = JiraResource.from_env()
    import dagster as dg

    with dg.build_resources({"jira": resource}) as resources:
        result = resources.jira.check_credentials()
    assert result.ok and result.time_zone == "Australia/Sydney" and result.site == sim.url
