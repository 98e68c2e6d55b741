"""The new secrets appear nowhere either: scoped API tokens, OAuth client secrets and the Bearer tokens the token
endpoint issues stay out of logs (DEBUG, httpx and httpcore included), exceptions, reprs, pickles, Dagster events,
the stored run and the repository snapshot the UI shows resource config from."""

from __future__ import annotations

import asyncio
import base64
import logging
import pickle
import traceback

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value

from _client_fixtures import EMAIL, FAST, simulator
from jira_assets.defs.resources import JiraResource
from jira_assets.jira.auth import ApiToken, OAuthClientCredentials
from jira_assets.jira.client import JiraClient, JiraError, check_credentials
from jira_assets.jira.throttle import sqlite_throttle

SCOPED_TOKEN = "demo-scoped-token"
CLIENT_SECRET = "demo-client-secret"
WRONG_SECRET = "wrong-secret-9b2c71"
WRONG_SCOPED = "wrong-scoped-5e8a02"
ISSUED = "sim-oauth-"  # every access token the simulator issues starts so


def assert_clean(text: str, where: str) -> None:
    forbidden = [SCOPED_TOKEN, CLIENT_SECRET, WRONG_SECRET, WRONG_SCOPED, ISSUED]
    forbidden += [base64.b64encode(f"{EMAIL}:{t}".encode()).decode() for t in (SCOPED_TOKEN, WRONG_SCOPED)]
    forbidden += [base64.b64encode(f"demo-client-id:{s}".encode()).decode() for s in (CLIENT_SECRET, WRONG_SECRET)]
    for secret in forbidden:
        assert secret not in text, f"a secret ({secret[:6]}...) found in {where}"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with simulator(tmp_path_factory.mktemp("sim"), "--seed", "19", "--burst-limit", "0",
                   "--oauth-token-seconds", "2") as running:
        yield running


def test_no_secret_in_logs_errors_or_reprs(sim, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    logging.getLogger("httpcore").setLevel(logging.DEBUG)
    texts: list[str] = []
    errors: list[BaseException] = []
    token_url = f"{sim.url}/oauth/token"

    def make(credential, **kw) -> JiraClient:
        return JiraClient(sim.url, credential=credential, gateway_url=sim.url, rate_limit=50, **FAST,
                          throttle=sqlite_throttle(sim.url, 50, tmp_path / "throttle.sqlite"), **kw)

    async def attempt(client: JiraClient, path: str = "/rest/api/2/myself") -> None:
        try:
            await client.get_json(path, endpoint="myself")
        except JiraError as err:
            errors.append(err)

    async def scenario():
        credentials = [ApiToken(EMAIL, SCOPED_TOKEN, scoped=True), OAuthClientCredentials("demo-client-id",
                                                                                          CLIENT_SECRET, token_url)]
        for credential in credentials:
            async with make(credential) as client:
                texts.extend([repr(client), str(client), repr(client.credential), repr(client._auth)])
                texts.append(str(await check_credentials(client)))
                if client.access_token is not None:
                    await asyncio.sleep(2.1)  # the access token expires: the next request renews it
                sim.set_faults(fail_first={"/rest/api/2/serverInfo": [503, 429]}, retry_after_seconds=0)
                await client.get_json("/rest/api/2/serverInfo")
                texts.extend([repr(client.access_token), repr(client.stats.as_dict())])
                sim.set_faults(revoke_token=True)
            async with make(credential) as revoked:
                await attempt(revoked)
            sim.set_faults()
        for credential in (ApiToken(EMAIL, WRONG_SCOPED, scoped=True),
                           OAuthClientCredentials("demo-client-id", WRONG_SECRET, token_url),
                           ApiToken(EMAIL, SCOPED_TOKEN)):  # a scoped token on the site URL
            client = make(credential) if credential.via_gateway else JiraClient(
                sim.url, credential=credential, throttle=sqlite_throttle(sim.url, 50, tmp_path / "throttle.sqlite"))
            async with client:
                texts.append(str(await check_credentials(client)))
            async with make(credential) if credential.via_gateway else JiraClient(
                    sim.url, credential=credential, scope="another",
                    throttle=sqlite_throttle(sim.url, 50, tmp_path / "throttle.sqlite")) as again:
                await attempt(again)

    asyncio.run(scenario())
    assert len(errors) == 5 and {e.status for e in errors} == {401, None}
    for err in errors:
        texts += [str(err), repr(err), repr(err.__dict__), "".join(traceback.format_exception(err))]
        assert_clean(pickle.dumps(err).decode("latin-1"), "a pickled JiraError")
    for text in texts:
        assert_clean(text, "a repr or message")
    assert "HTTP Request: POST" in caplog.text and "/oauth/token" in caplog.text  # logging was on
    assert_clean(caplog.text, "captured logs")
    out, err_out = capfd.readouterr()
    assert_clean(out + err_out, "stdout/stderr")


def test_resource_repr_and_ui_config_show_no_secret(monkeypatch):
    monkeypatch.setenv("JIRA_SUBDOMAIN", "acme")
    monkeypatch.setenv("JIRA_AUTH", "oauth")
    monkeypatch.setenv("JIRA_OAUTH_CLIENT_ID", "demo-client-id")
    monkeypatch.setenv("JIRA_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
    resource = JiraResource.from_env()
    assert_clean(repr(resource) + str(resource), "resource repr")

    @dg.asset
    def uses_jira(jira: JiraResource) -> None:
        return None

    snap = RepositorySnap.from_def(dg.Definitions(assets=[uses_jira], resources={"jira": resource})
                                   .get_repository_def())
    assert_clean(serialize_value(snap), "the repository snapshot (what the UI shows)")
    jira_snap = next(r for r in snap.resources if r.name == "jira")
    shown = {k: getattr(v, "name", v) for k, v in jira_snap.configured_values.items()}
    assert shown["oauth_client_secret"] == "JIRA_OAUTH_CLIENT_SECRET" and shown["auth"] == "JIRA_AUTH"
    assert shown["api_token"] == shown["email"] == "null"  # not read for a service account

    with dg.build_resources({"jira": resource}) as built:
        assert built.jira.oauth_client_secret == CLIENT_SECRET
        assert_clean(repr(built.jira) + str(built.jira) + repr(built.jira.credential()), "resolved resource")


def test_dagster_events_and_storage_show_no_secret(sim, monkeypatch, tmp_path):
    monkeypatch.setenv("JIRA_BASE_URL", sim.url)
    monkeypatch.setenv("JIRA_AUTH", "oauth")
    monkeypatch.setenv("JIRA_GATEWAY_URL", sim.url)
    monkeypatch.setenv("JIRA_OAUTH_TOKEN_URL", f"{sim.url}/oauth/token")
    monkeypatch.setenv("JIRA_OAUTH_CLIENT_ID", "demo-client-id")
    monkeypatch.setenv("JIRA_RATE_LIMIT", "50")
    monkeypatch.setenv("JIRA_THROTTLE_DB", str(tmp_path / "throttle.sqlite"))

    @dg.asset
    def jira_ok(context, jira: JiraResource) -> None:
        context.log.info(f"resource: {jira!r}")
        result = jira.check_credentials()
        context.log.info(str(result))
        assert result.ok

    @dg.asset
    def jira_fails(context, jira: JiraResource) -> None:
        async def go():
            async with jira.client() as client:
                context.log.info(f"client: {client!r}")
                await client.get_json("/rest/api/2/myself", endpoint="myself")

        asyncio.run(go())

    instance = dg.DagsterInstance.ephemeral()
    sim.set_faults()
    monkeypatch.setenv("JIRA_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
    ok = dg.materialize([jira_ok], resources={"jira": JiraResource.from_env()}, instance=instance)
    assert ok.success
    monkeypatch.setenv("JIRA_OAUTH_CLIENT_SECRET", WRONG_SECRET)
    failed = dg.materialize([jira_fails], resources={"jira": JiraResource.from_env()}, instance=instance,
                            raise_on_error=False)
    assert not failed.success
    for run in (ok, failed):
        assert_clean(serialize_value(instance.all_logs(run.run_id)), "the Dagster event log")
        assert_clean(serialize_value(instance.get_run_by_id(run.run_id)), "the stored Dagster run")
    failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
    assert "JIRA_OAUTH_CLIENT_SECRET is wrong" in serialize_value(failure)  # the error is there, the secret not
