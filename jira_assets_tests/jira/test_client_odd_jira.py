"""Client behaviour against a deliberately misbehaving Jira (repeating pagers, redirects, odd bodies).

The simulator serves Jira faithfully; these cases need a Jira that breaks its own paging contract or redirects,
so they run against `OddJira`, a real HTTP server on loopback (see _client_fixtures.py).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from jira_assets.jira import paging
from jira_assets.jira.client import JiraError
from jira_assets.jira.paging import PagingError
from _client_fixtures import OddJira, make_client


@pytest.fixture
def odd():
    with OddJira() as server:
        yield server


async def _drain(pages):
    return [page async for page in pages]


def run(coro):
    return asyncio.run(coro)


def test_page_bean_that_ignores_start_at_fails_loudly_after_two_requests(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            with pytest.raises(PagingError, match="would repeat startAt=2"):
                await _drain(paging.page_bean(client, "/rest/api/2/project/search", endpoint="project_search"))
            return client.stats

    stats = run(go())
    assert odd.hits("/rest/api/2/project/search") == 2
    assert stats.requests == 2


def test_page_bean_serving_the_same_page_twice_fails_loudly(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            with pytest.raises(PagingError, match="same page"):
                await _drain(paging.page_bean(client, "/rest/api/2/filter/search", endpoint="filters"))

    run(go())
    assert odd.hits("/rest/api/2/filter/search") == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_cursor_repeating_its_token_fails_loudly(odd, tmp_path, method):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            with pytest.raises(PagingError, match="same nextPageToken twice"):
                await _drain(paging.cursor(client, method, "/rest/api/2/search/jql", {"jql": "updated >= -1d"},
                                           endpoint="issue_search", items_key="issues"))

    run(go())
    seen = [s for s in odd.seen if s["path"] == "/rest/api/2/search/jql"]
    assert len(seen) == 2
    if method == "GET":
        assert "nextPageToken" not in seen[0]["query"] and seen[1]["query"]["nextPageToken"] == "SAME"
    else:
        bodies = [json.loads(s["body"]) for s in seen]
        assert "nextPageToken" not in bodies[0] and bodies[1]["nextPageToken"] == "SAME"
        assert bodies[0]["maxResults"] == 5000


def test_since_until_repeating_since_fails_loudly(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            with pytest.raises(PagingError, match="since=5 again"):
                await _drain(paging.since_until(client, "/rest/api/2/worklog/updated", {"since": 0},
                                                endpoint="worklog_updated"))

    run(go())
    assert [s["query"]["since"] for s in odd.seen] == ["0", "5"]


def test_offset_limit_ignoring_offset_fails_loudly(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            with pytest.raises(PagingError, match="offset=2 again"):
                await _drain(paging.offset_limit(client, "/rest/api/2/auditing/record", endpoint="audit_records"))

    run(go())
    assert odd.hits("/rest/api/2/auditing/record") == 2


def test_same_origin_redirect_is_followed_with_credentials(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            data = await client.get_json("/redirect-same", endpoint="redirect")
            return data, client.stats

    data, stats = run(go())
    assert data["deploymentType"] == "Cloud"
    assert [s["path"] for s in odd.seen] == ["/redirect-same", "/rest/api/2/serverInfo"]
    assert all(s["authorization"] for s in odd.seen)
    assert stats.requests == 2 and stats.by_status == {302: 1, 200: 1}


def test_redirect_to_another_host_is_not_followed_and_credentials_never_leave(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            with pytest.raises(JiraError) as info:
                await client.get_json("/redirect-away", endpoint="redirect")
            return info.value, client.stats

    err, stats = run(go())
    assert err.status == 301 and "another host (http://localhost:" in str(err)
    assert "did not follow" in str(err)
    assert odd.hits("/capture") == 0  # nothing was sent to the other host, with or without credentials
    assert stats.requests == 1


def test_200_html_page_is_retried_as_a_truncated_body(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            data = await client.get_json("/html-then-json", endpoint="odd", expect=dict)
            return data, client.stats

    data, stats = run(go())
    assert data == {"id": "ok"}
    assert odd.hits("/html-then-json") == 2
    assert stats.requests == 2 and stats.retries == 1 and stats.by_error == {"truncated_body": 1}


def test_200_of_the_wrong_shape_is_retried(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            pages = await _drain(paging.page_bean(client, "/wrong-shape", endpoint="odd"))
            return pages, client.stats

    pages, stats = run(go())
    assert pages == [] and odd.hits("/wrong-shape") == 2 and stats.retries == 1


def test_200_that_never_becomes_json_gives_up_with_a_clear_error(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path, max_attempts=3) as client:
            with pytest.raises(JiraError) as info:
                await client.get_json("/html-always", endpoint="odd")
            return info.value

    err = run(go())
    assert odd.hits("/html-always") == 3
    assert err.status == 200 and err.attempts == 3
    assert "not the expected JSON" in str(err) and "after 3 attempts" in str(err)


def test_retry_after_as_http_date_is_the_minimum_wait(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            await client.get_json("/http-date-429", endpoint="odd")
            return loop.time() - started, client.stats

    elapsed, stats = run(go())
    # The date has one-second resolution and was "now + 2 s", so at least 1 s must have passed.
    assert elapsed >= 1.0
    assert stats.requests == 2 and stats.retries == 1 and stats.by_status == {429: 1, 200: 1}


def test_beta_retry_after_is_honoured_when_retry_after_is_absent(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            await client.get_json("/beta-retry-503", endpoint="odd")
            return loop.time() - started, client.stats

    elapsed, stats = run(go())
    assert elapsed >= 1.0 and stats.retries == 1 and stats.by_status == {503: 1, 200: 1}


def test_html_404_page_becomes_a_readable_error(odd, tmp_path):
    async def go():
        async with make_client(odd.url, tmp_path) as client:
            with pytest.raises(JiraError) as info:
                await client.get_json("/dead-link", endpoint="odd")
            return info.value

    err = run(go())
    assert odd.hits("/dead-link") == 1
    assert err.status == 404 and err.error_messages == []
    assert "HTML page: Oops, you've found a dead link. - JIRA" in str(err)
    assert "Likely cause: the resource does not exist" in str(err)
