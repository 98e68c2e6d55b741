"""Failures no retry can fix fail at once, with the sentence that says what to check; and a run's first request
goes alone, so a refused credential costs one request however many steps start at once."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from _client_fixtures import EMAIL, TOKEN, make_client, simulator
from _simulator import self_signed_cert

from jira_assets.jira.client import JiraClient, JiraError
from jira_assets.jira.throttle import sqlite_throttle


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fails(url: str, tmp_path: Path, **kw) -> JiraError:
    async def go():
        async with make_client(url, tmp_path, max_attempts=4, **kw) as client:
            with pytest.raises(JiraError) as info:
                await client.get_json("/rest/api/2/serverInfo", endpoint="server_info")
            assert client.stats.retries == 0
            return info.value

    return asyncio.run(go())


def test_nothing_listening_is_not_retried(tmp_path):
    port = free_port()
    err = fails(f"http://127.0.0.1:{port}", tmp_path)
    assert err.fatal and err.status is None and err.attempts == 1
    assert f"nothing accepts connections at 127.0.0.1:{port} (connection refused)" in str(err)


def test_a_name_that_does_not_resolve_is_not_retried(tmp_path):
    err = fails("https://no-such-jira-site.invalid", tmp_path)
    assert err.fatal and "the host name no-such-jira-site.invalid does not resolve" in str(err)


def test_https_asked_of_a_plain_http_server(tmp_path):
    with simulator(tmp_path) as sim:
        plain = sim.url.replace("http://", "https://")
        err = fails(plain, tmp_path)
    assert err.fatal and "does not speak TLS (https)" in str(err) and sim.url.split("//")[1] in str(err)


def test_http_asked_of_an_https_server_and_an_untrusted_certificate(tmp_path):
    certfile, keyfile = self_signed_cert(tmp_path)
    with simulator(tmp_path, "--certfile", str(certfile), "--keyfile", str(keyfile)) as sim:
        assert sim.url.startswith("https://")
        host = sim.url.split("//")[1]
        err = fails(f"http://{host}", tmp_path)
        assert err.fatal and f"{host} speaks https, not http: use https://{host}" in str(err)
        err = fails(sim.url, tmp_path)
        assert err.fatal and f"the TLS certificate of {host} is not trusted" in str(err)
        assert sim.entries() == []  # none of them reached Jira


WORKER = """
import asyncio, sys
from jira_assets.jira.client import JiraClient, JiraError
from jira_assets.jira.throttle import sqlite_throttle

async def main(url, db, token, scope):
    client = JiraClient(url, "demo@example.com", token, throttle=sqlite_throttle(url, 50, db), scope=scope,
                        backoff_base=0.01, backoff_max=0.05)
    async with client:
        try:
            await client.get_json("/rest/api/2/serverInfo", endpoint="server_info")
            print("ok")
        except JiraError as err:
            print("sent" if err.sent else "not-sent", err.status)

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.parametrize("token, sent", [("wrong-token", 1), (TOKEN, 8)])
def test_the_first_request_of_a_run_goes_alone(tmp_path, token, sent):
    """Eight processes of one run start at once: with a wrong token one request reaches Jira and the other seven
    fail without sending; with the right one all eight go ahead."""
    with simulator(tmp_path) as sim:
        sim.mark()
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, sim.url, str(tmp_path / "t.sqlite"), token, "run-1"],
                                  stdout=subprocess.PIPE, text=True) for _ in range(8)]
        results = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
        entries = sim.new_entries(settle=0.2)
    assert len(entries) == sent
    if token == TOKEN:
        assert results == ["ok"] * 8
    else:
        assert results == ["not-sent 401"] * 7 + ["sent 401"]
        assert entries[0]["status"] == 401


def test_a_new_run_tries_again(tmp_path):
    """A verdict belongs to its run: the next run (a fixed token is a new key anyway) sends its own first request."""

    async def one(url, scope):
        client = JiraClient(url, EMAIL, "wrong-token", throttle=sqlite_throttle(url, 50, tmp_path / "t.sqlite"),
                            scope=scope)
        async with client:
            with pytest.raises(JiraError) as info:
                await client.get_json("/rest/api/2/serverInfo", endpoint="server_info")
            return info.value.sent

    with simulator(tmp_path) as sim:
        sim.mark()
        assert asyncio.run(one(sim.url, "run-1")) is True
        assert asyncio.run(one(sim.url, "run-1")) is False
        assert asyncio.run(one(sim.url, "run-2")) is True
        assert len(sim.new_entries(settle=0.2)) == 2


def test_an_error_is_one_sentence_without_doubled_periods():
    err = JiraError("issue_comments", 404, "GET", "/rest/api/2/issue/1/comment",
                    ["Issue does not exist or you do not have permission to see it."],
                    hint="the resource does not exist or is not visible to this account.")
    text = str(err)
    assert ".." not in text and "\n" not in text
    assert text.endswith("Likely cause: the resource does not exist or is not visible to this account.")
