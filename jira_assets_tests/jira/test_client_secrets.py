"""The API token appears nowhere: not in logs (at DEBUG, httpx/httpcore included), exception messages, reprs,
pickles, Dagster events, the stored run, or the repository snapshot the Dagster UI shows resource config from."""

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

from _client_fixtures import EMAIL, TOKEN, make_client, simulator
from jira_assets.jira import paging
from jira_assets.jira.client import JiraError, check_credentials
from jira_assets.defs.resources import JiraResource

WRONG_TOKEN = "wrong-token-7f3a9c"  # a rejected token must not leak either
SECRETS = [TOKEN, WRONG_TOKEN]


def forbidden_strings() -> list[str]:
    out = list(SECRETS)
    for token in SECRETS:
        out.append(base64.b64encode(f"{EMAIL}:{token}".encode()).decode())  # the Authorization header value
    return out


def assert_clean(text: str, where: str) -> None:
    for secret in forbidden_strings():
        assert secret not in text, f"secret found in {where}"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with simulator(tmp_path_factory.mktemp("sim"), "--seed", "13", "--burst-limit", "0") as running:
        yield running


def test_token_never_appears_in_logs_errors_or_reprs(sim, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # root: httpx, httpcore, jira_assets, everything
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    logging.getLogger("httpcore").setLevel(logging.DEBUG)
    texts: list[str] = []
    errors: list[BaseException] = []

    async def scenario():
        async with make_client(sim.url, tmp_path, rate_limit=50, max_attempts=8) as client:
            texts.extend([repr(client), str(client), repr(client.stats), str(client.stats.as_dict())])
            sim.set_faults(fail_first={"/rest/api/2/serverInfo": [429, 503, "reset", "truncate", "html429", 502]},
                           retry_after_seconds=0)
            await client.get_json("/rest/api/2/serverInfo", endpoint="server_info")
            sim.set_faults(fail_first={"/rest/api/2/serverInfo": [503, 503]})
            client.max_attempts = 2
            try:
                await client.get_json("/rest/api/2/serverInfo", endpoint="server_info")
            except JiraError as err:
                errors.append(err)
            client.max_attempts = 8
            sim.set_faults(deny_paths=["/rest/api/2/fieldconfiguration"])
            try:
                [p async for p in paging.page_bean(client, "/rest/api/2/fieldconfiguration", endpoint="fc")]
            except JiraError as err:
                errors.append(err)
            [p async for p in paging.page_bean(client, "/rest/api/2/fieldconfiguration", endpoint="fc",
                                                skip_statuses={403})]
            texts.append(repr(client.stats))
            texts.append(str(await check_credentials(client)))
        async with make_client(sim.url, tmp_path, api_token=WRONG_TOKEN) as bad:
            texts.extend([repr(bad), str(bad)])
            sim.set_faults()
            result = await check_credentials(bad)
            texts.append(str(result))
            try:
                await bad.get_json("/rest/api/2/myself", endpoint="myself")
            except JiraError as err:
                errors.append(err)
        sim.set_faults(revoke_token=True)
        async with make_client(sim.url, tmp_path) as revoked:
            try:
                await revoked.get_json("/rest/api/2/issuetype", endpoint="issue_types")
            except JiraError as err:
                errors.append(err)
        sim.set_faults()

    asyncio.run(scenario())
    assert len(errors) == 4 and {e.status for e in errors} == {503, 403, 401}
    for err in errors:
        texts += [str(err), repr(err), repr(err.__dict__), "".join(traceback.format_exception(err))]
        clone = pickle.loads(pickle.dumps(err))
        assert str(clone) == str(err) and clone.status == err.status
        assert_clean(pickle.dumps(err).decode("latin-1"), "a pickled JiraError")
    for text in texts:
        assert_clean(text, "a repr or message")
    assert "HTTP Request" in caplog.text  # httpx did log at DEBUG/INFO, so the check below means something
    assert_clean(caplog.text, "captured logs")
    out, err_out = capfd.readouterr()
    assert_clean(out + err_out, "stdout/stderr")


def test_resource_repr_and_ui_config_show_no_token(monkeypatch):
    monkeypatch.setenv("JIRA_SUBDOMAIN", "acme")
    monkeypatch.setenv("JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    resource = JiraResource.from_env()
    assert_clean(repr(resource) + str(resource) + f"{resource}", "resource repr")

    @dg.asset
    def uses_jira(jira: JiraResource) -> None:
        return None

    defs = dg.Definitions(assets=[uses_jira], resources={"jira": resource})
    snap = RepositorySnap.from_def(defs.get_repository_def())
    assert_clean(serialize_value(snap), "the repository snapshot (what the UI shows)")
    jira_snap = next(r for r in snap.resources if r.name == "jira")
    shown = {k: getattr(v, "name", v) for k, v in jira_snap.configured_values.items()}
    assert shown["api_token"] == "JIRA_API_TOKEN"  # the UI shows the variable's name

    with dg.build_resources({"jira": resource}) as built:
        assert built.jira.api_token == TOKEN  # resolved at run time...
        assert_clean(repr(built.jira) + str(built.jira), "resolved resource repr")  # ...and still masked


def test_dagster_run_events_and_storage_show_no_token(sim, monkeypatch, tmp_path):
    monkeypatch.setenv("JIRA_BASE_URL", sim.url)
    monkeypatch.setenv("JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    monkeypatch.setenv("JIRA_RATE_LIMIT", "50")

    @dg.asset
    def jira_ok(context, jira: JiraResource) -> None:
        context.log.info(f"resource: {jira!r}")
        result = jira.check_credentials()
        context.log.info(str(result))
        assert result.ok

    @dg.asset
    def jira_fails(context, jira: JiraResource) -> None:
        async def go():
            async with jira.client(backoff_base=0.01) as client:
                context.log.info(f"client: {client!r}")
                await client.get_json("/rest/api/2/myself", endpoint="myself")

        asyncio.run(go())

    instance = dg.DagsterInstance.ephemeral()
    sim.set_faults()
    ok = dg.materialize([jira_ok], resources={"jira": JiraResource.from_env()}, instance=instance)
    assert ok.success
    sim.set_faults(revoke_token=True)
    failed = dg.materialize([jira_fails], resources={"jira": JiraResource.from_env()}, instance=instance,
                            raise_on_error=False)
    sim.set_faults()
    assert not failed.success
    for run in (ok, failed):
        records = instance.all_logs(run.run_id)
        assert records
        assert_clean(serialize_value(records), "the Dagster event log")
        assert_clean(serialize_value(instance.get_run_by_id(run.run_id)), "the stored Dagster run")
    failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
    assert "answered HTTP 401" in serialize_value(failure)  # the error is there, the token is not
