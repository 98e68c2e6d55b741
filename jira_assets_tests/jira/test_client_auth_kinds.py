"""Every kind of Atlassian credential at the client, over real HTTP against the simulator: classic and scoped API
tokens, and a service account's OAuth 2.0 client credentials; the API gateway and the cloudId lookup; the token
requests (counted exactly, on the simulator's side), their renewal, and each refusal as the one line a person reads.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from _client_fixtures import EMAIL, FAST, TOKEN, simulator
from jira_assets.jira import auth
from jira_assets.jira.auth import ApiToken, OAuthClientCredentials
from jira_assets.jira.client import AccessSetupError, JiraClient, JiraError, check_credentials
from jira_assets.jira.throttle import get_throttle, sqlite_throttle
from jira_sim.gateway import cloud_id_for

SEED = 17
SCOPED_TOKEN = "demo-scoped-token"
CLIENT_ID, CLIENT_SECRET = "demo-client-id", "demo-client-secret"
MYSELF = "/rest/api/2/myself"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with simulator(tmp_path_factory.mktemp("sim"), "--seed", str(SEED), "--burst-limit", "0") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(sim):
    sim.reset()
    auth._cloud_ids.clear()  # every test looks the cloudId up as a fresh process would


def scoped(token: str = SCOPED_TOKEN) -> ApiToken:
    return ApiToken(EMAIL, token, scoped=True)


def oauth(url: str, secret: str = CLIENT_SECRET) -> OAuthClientCredentials:
    return OAuthClientCredentials(CLIENT_ID, secret, f"{url}/oauth/token")


def client(url, tmp_path, credential, *, rate_limit: float = 50, **kwargs) -> JiraClient:
    kwargs = {**FAST, **kwargs}
    kwargs.setdefault("throttle", sqlite_throttle(url, rate_limit, tmp_path / "throttle.sqlite"))
    return JiraClient(url, credential=credential, gateway_url=url, rate_limit=rate_limit, **kwargs)


def gateway_path(path: str) -> str:
    return f"/ex/jira/{cloud_id_for(SEED)}{path}"


def paths(entries) -> list[str]:
    return [e["path"] for e in entries]


def token_requests(entries) -> int:
    return sum(1 for e in entries if e["method"] == "POST" and e["path"] == "/oauth/token")


def run(coro):
    return asyncio.run(coro)


def test_a_scoped_token_goes_through_the_gateway_with_the_cloud_id_looked_up_once(sim, tmp_path):
    async def go():
        async with client(sim.url, tmp_path, scoped()) as first:
            me = await first.get_json(MYSELF)
            await first.get_json("/rest/api/2/serverInfo")
            assert first.base_url == sim.url + gateway_path("")
            assert first.cloud_id == cloud_id_for(SEED) and first.site_url == sim.url
        async with client(sim.url, tmp_path, scoped()) as second:  # the same process: the cloudId is known
            await second.get_json(MYSELF)
        return me

    me = run(go())
    assert me["emailAddress"] == EMAIL
    assert paths(sim.new_entries()) == ["/_edge/tenant_info", gateway_path(MYSELF),
                                        gateway_path("/rest/api/2/serverInfo"), gateway_path(MYSELF)]


def test_a_given_cloud_id_needs_no_lookup(sim, tmp_path):
    async def go():
        async with client(sim.url, tmp_path, scoped(), cloud_id=cloud_id_for(SEED).upper()) as c:
            return await check_credentials(c)

    result = run(go())
    assert result.ok and result.base_url == sim.url + gateway_path("")
    assert paths(sim.new_entries()) == [gateway_path(MYSELF)]
    with pytest.raises(ValueError, match="JIRA_CLOUD_ID must be the site's cloudId, a UUID"):
        JiraClient(sim.url, credential=scoped(), cloud_id="../../rest")


def test_a_cloud_id_of_another_site_is_named(sim, tmp_path):
    other = str(uuid.uuid4())

    async def go():
        async with client(sim.url, tmp_path, scoped(), cloud_id=other) as c:
            return await check_credentials(c)

    result = run(go())
    assert not result.ok and result.status == 404
    assert f"knows no Jira site with cloudId {other}: check JIRA_CLOUD_ID" in result.problem


def test_a_site_without_tenant_info_is_one_line_naming_the_settings(sim, tmp_path):
    async def go():
        async with client(sim.url + "/no-such-site", tmp_path, scoped()) as c:
            with pytest.raises(AccessSetupError) as info:
                await c.get_json(MYSELF, endpoint="myself")
            return info.value

    err = run(go())
    text = str(err)
    assert "\n" not in text and "/no-such-site/_edge/tenant_info answered HTTP 404" in text
    assert "set JIRA_CLOUD_ID" in text and err.fatal
    assert paths(sim.new_entries()) == ["/no-such-site/_edge/tenant_info"]  # a 404 is not tried again


def test_a_scoped_token_on_the_site_url_says_to_set_jira_auth(sim, tmp_path):
    async def go():
        async with client(sim.url, tmp_path, ApiToken(EMAIL, SCOPED_TOKEN)) as c:
            result = await check_credentials(c)
            with pytest.raises(JiraError) as info:
                await c.get_json("/rest/api/2/serverInfo", endpoint="server_info")
            return result, info.value

    result, err = run(go())
    assert not result.ok and result.status == 401 and "(classic API token)" in str(result)
    assert "this is a scoped token: set JIRA_AUTH=scoped-token (requests then go through the API gateway)" in (
        result.problem)
    assert "this is a scoped token: set JIRA_AUTH=scoped-token" in str(err) and "\n" not in str(err)
    assert SCOPED_TOKEN not in str(result) + str(err)


def test_a_wrong_scoped_token_is_refused_by_the_gateway(sim, tmp_path):
    async def go():
        async with client(sim.url, tmp_path, scoped("not-the-token")) as c:
            return await check_credentials(c)

    result = run(go())
    assert not result.ok and result.status == 401
    assert "the API gateway refused the scoped API token" in result.problem and "not-the-token" not in str(result)


def test_oauth_fetches_one_token_for_many_concurrent_requests(sim, tmp_path):
    async def go():
        async with client(sim.url, tmp_path, oauth(sim.url)) as c:
            pages = await asyncio.gather(*[c.get_json("/rest/api/2/issuetype") for _ in range(12)])
            result = await check_credentials(c)
            return c, pages, result

    c, pages, result = run(go())
    entries = sim.new_entries()
    assert token_requests(entries) == 1 == c.token_requests
    assert len(pages) == 12 and c.stats.requests == 13  # the token request is not a Jira request
    assert sum(1 for e in entries if e["path"].startswith("/ex/jira/")) == 13
    assert result.ok and result.token_expires_at is not None
    text = str(result)
    assert "credential: OAuth 2.0 client credentials (service account), client id demo-client-id" in text
    assert f"requests go to: {sim.url}{gateway_path('')}" in text and "access token expires: " in text


def test_a_wrong_client_secret_is_one_line_and_fatal(sim, tmp_path):
    async def go():
        async with client(sim.url, tmp_path, oauth(sim.url, "wrong-secret-4d1e")) as c:
            result = await check_credentials(c)
            with pytest.raises(JiraError) as info:
                await c.get_json("/rest/api/2/issuetype", endpoint="issue_types")
            return result, info.value

    result, err = run(go())
    assert not result.ok and result.problem.startswith(
        f"the OAuth token endpoint {sim.url}/oauth/token answered HTTP 401 (access_denied")
    assert "JIRA_OAUTH_CLIENT_ID (demo-client-id) or JIRA_OAUTH_CLIENT_SECRET is wrong" in result.problem
    # the refusal is remembered (contact.py): the next request fails with it, sending nothing
    assert err.fatal and not err.sent and "JIRA_OAUTH_CLIENT_SECRET is wrong" in str(err) and "\n" not in str(err)
    assert "wrong-secret-4d1e" not in str(result) + str(err) + repr(err.__dict__)
    assert paths(sim.new_entries()) == ["/_edge/tenant_info", "/oauth/token"]  # a refusal is not retried


def test_a_token_the_gateway_refuses_is_renewed_once(sim, tmp_path):
    sim.set_faults(fail_first={MYSELF: [401]})

    async def go():
        async with client(sim.url, tmp_path, oauth(sim.url)) as c:
            return c, await c.get_json(MYSELF, endpoint="myself")

    c, me = run(go())
    assert me["accountId"]
    entries = sim.new_entries()
    assert [(e["path"], e["status"]) for e in entries] == [
        ("/_edge/tenant_info", 200), ("/oauth/token", 200), (gateway_path(MYSELF), 401), ("/oauth/token", 200),
        (gateway_path(MYSELF), 200)]
    assert c.stats.requests == 2 and c.stats.by_status == {401: 1, 200: 1}


def test_a_revoked_token_fails_after_one_renewal(sim, tmp_path):
    sim.set_faults(revoke_token=True)

    async def go():
        async with client(sim.url, tmp_path, oauth(sim.url)) as c:
            return await check_credentials(c)

    result = run(go())
    assert not result.ok and result.status == 401
    assert "refused a freshly issued OAuth access token" in result.problem
    entries = sim.new_entries()
    assert token_requests(entries) == 2 and sum(1 for e in entries if e["path"] == gateway_path(MYSELF)) == 2


def test_a_token_endpoint_failing_once_is_retried(sim, tmp_path):
    sim.set_faults(fail_first={"/oauth/token": [503]})

    async def go():
        async with client(sim.url, tmp_path, oauth(sim.url)) as c:
            await c.get_json(MYSELF)
            return c

    c = run(go())
    assert [e["status"] for e in sim.new_entries() if e["path"] == "/oauth/token"] == [503, 200]
    assert c.stats.retries == 1 and c.stats.requests == 1


def test_a_token_due_while_its_request_waited_for_a_slot_is_replaced_before_sending(tmp_path):
    """4-second tokens are renewed with 0.4 s left; at 1 request/s the header of each request is set about a second
    before its slot. Seven requests in a row: the first token is sent at 0, 1, 2 and 3 s; the fifth request still
    took it (0.5 s left when its header was set) but it is due when its slot comes at 4 s, so it goes unsent, and
    the fifth to seventh requests leave at 5, 6 and 7 s with the second token. No request meets an expired token."""
    with simulator(tmp_path, "--seed", str(SEED), "--burst-limit", "0", "--oauth-token-seconds", "4") as short:
        async def go():
            async with client(short.url, tmp_path, oauth(short.url), rate_limit=1) as c:
                for _ in range(7):
                    await c.get_json("/rest/api/2/serverInfo")
                return c

        c = run(go())
        entries = short.new_entries()
    assert token_requests(entries) == 2 == c.token_requests
    jira = [e for e in entries if e["path"].startswith("/ex/jira/")]
    assert len(jira) == 7 == c.stats.requests and {e["status"] for e in jira} == {200}


def test_the_throttle_is_the_site_s_whatever_the_credential(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("JIRA_THROTTLE_DB", str(tmp_path / "machine.sqlite"))
    classic = JiraClient(sim.url, EMAIL, TOKEN)
    through_gateway = [JiraClient(sim.url, credential=scoped(), gateway_url=sim.url),
                       JiraClient(sim.url, credential=oauth(sim.url), gateway_url=sim.url,
                                  cloud_id=cloud_id_for(SEED))]
    assert all(c.throttle is classic.throttle for c in through_gateway)
    assert classic.throttle is get_throttle(sim.url, classic.rate_limit)


def test_reprs_name_the_kind_and_never_a_secret(sim):
    clients = [JiraClient(sim.url, EMAIL, TOKEN), JiraClient(sim.url, credential=scoped()),
               JiraClient(sim.url, credential=oauth(sim.url))]
    text = " ".join(repr(c) + str(c) + repr(c.credential) + repr(c._auth) for c in clients)
    for secret in (TOKEN, SCOPED_TOKEN, CLIENT_SECRET):
        assert secret not in text
    assert "kind='token'" in text and "kind='scoped-token'" in text and "client_id='demo-client-id'" in text
    with pytest.raises(ValueError, match="either email and api_token or a credential"):
        JiraClient(sim.url, EMAIL, TOKEN, credential=scoped())
