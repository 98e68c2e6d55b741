"""Site configuration: a bare subdomain or an explicit base URL, checked before any request is made."""

from __future__ import annotations

import pytest

from _client_fixtures import OddJira
from jira_assets.jira.client import JiraClient
from jira_assets.jira.site import SiteConfigError, resolve_base_url, validate_base_url, validate_subdomain
from jira_assets.defs.resources import JiraResource


@pytest.mark.parametrize(
    ("pasted", "what", "advice"),
    [
        ("acme.atlassian.net", "a dot", "Set JIRA_SUBDOMAIN=acme instead."),
        ("https://acme.atlassian.net", "a URL scheme", "Set JIRA_SUBDOMAIN=acme instead."),
        ("https://acme.atlassian.net/", "a slash", "Set JIRA_SUBDOMAIN=acme instead."),
        ("https://acme.atlassian.net/jira/software/projects/KAN/boards/1", "a slash", "Set JIRA_SUBDOMAIN=acme instead."),
        ("acme.atlassian.net:443", "a port", "Set JIRA_SUBDOMAIN=acme instead."),
        ("acme:8080", "a port", "Set JIRA_SUBDOMAIN=acme instead."),
        ("admin@acme.atlassian.net", "an @", "Set JIRA_SUBDOMAIN=acme instead."),
        ("acme#board", "a #", "Set JIRA_SUBDOMAIN=acme instead."),
        ("acme?x=1", "a ?", "Set JIRA_SUBDOMAIN=acme instead."),
        ("acme corp", "a space", "Use only letters, digits and hyphens"),
        (" acme", "a space", "Set JIRA_SUBDOMAIN=acme instead."),
        ("acme_corp", "characters other than", "Use only letters, digits and hyphens"),
        ("-acme", "characters other than", "Use only letters, digits and hyphens"),
        ("a" * 64, "more than 63 characters", "Use only letters"),
        ("jira.example.com", "a dot", "set JIRA_BASE_URL=https://jira.example.com instead"),
    ],
)
def test_bad_subdomain_says_what_to_paste_instead(pasted, what, advice):
    with pytest.raises(SiteConfigError) as info:
        validate_subdomain(pasted)
    message = str(info.value)
    assert "bare site name" in message and what in message and advice in message
    assert repr(pasted) in message  # shows what was set


def test_empty_subdomain():
    with pytest.raises(SiteConfigError, match="JIRA_SUBDOMAIN is empty"):
        validate_subdomain("")


def test_credentials_pasted_into_the_subdomain_are_not_echoed():
    with pytest.raises(SiteConfigError) as info:
        validate_subdomain("https://me:s3cret-token@acme.atlassian.net")
    assert "s3cret-token" not in str(info.value) and "me:" not in str(info.value)
    assert "Set JIRA_SUBDOMAIN=acme instead." in str(info.value)


@pytest.mark.parametrize("good", ["acme", "ACME", "acme-corp", "a1", "x"])
def test_good_subdomains(good):
    assert validate_subdomain(good) == good.lower()
    assert resolve_base_url(good) == f"https://{good.lower()}.atlassian.net"


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://acme.atlassian.net/", "https://acme.atlassian.net"),
        ("https://jira.example.com/jira", "https://jira.example.com/jira"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://localhost:8123/", "http://localhost:8123"),
        ("http://[::1]:8123", "http://[::1]:8123"),
        ("http://127.5.6.7", "http://127.5.6.7"),
    ],
)
def test_good_base_urls(url, normalised):
    assert validate_base_url(url) == normalised


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://acme.atlassian.net", "only for loopback"),
        ("http://10.0.0.5:8080", "only for loopback"),
        ("http://127.0.0.1.nip.io", "only for loopback"),
        ("ftp://acme.atlassian.net", "must start with https://"),
        ("acme.atlassian.net", "must start with https://"),
        ("https://user:hunter2@acme.atlassian.net", "must not contain credentials"),
        ("https://acme.atlassian.net/?x=1", "query or fragment"),
        ("https://acme.atlassian.net/#x", "query or fragment"),
        ("https://acme.atlassian.net:notaport", "not a valid URL"),
        ("https:///path", "no host name"),
        ("https://acme.atlassian.net /x", "spaces"),
    ],
)
def test_bad_base_urls(url, message):
    with pytest.raises(SiteConfigError, match=message) as info:
        validate_base_url(url)
    assert "hunter2" not in str(info.value)


def test_base_url_wins_over_subdomain_but_a_bad_subdomain_still_fails():
    assert resolve_base_url("acme", "http://127.0.0.1:9") == "http://127.0.0.1:9"
    with pytest.raises(SiteConfigError, match="Set JIRA_SUBDOMAIN=acme"):
        resolve_base_url("acme.atlassian.net", "http://127.0.0.1:9")
    with pytest.raises(SiteConfigError, match="No Jira site configured"):
        resolve_base_url(None, None)


def test_client_refuses_plain_http_to_a_remote_host():
    with pytest.raises(SiteConfigError, match="only for loopback"):
        JiraClient("http://acme.atlassian.net", "me@example.com", "tok")


def test_a_bad_subdomain_fails_before_any_request(tmp_path):
    """Resource with an explicit (reachable) base URL and a bad subdomain: nothing reaches the server."""
    with OddJira() as odd:
        resource = JiraResource(subdomain="https://acme.atlassian.net", email="demo@example.com",
                                api_token="demo-token", base_url=odd.url)
        with pytest.raises(SiteConfigError, match="Set JIRA_SUBDOMAIN=acme instead."):
            resource.client()
        with pytest.raises(SiteConfigError, match="Set JIRA_SUBDOMAIN=acme instead."):
            resource.check_credentials()
        assert odd.seen == []


def test_resource_builds_the_atlassian_url_from_the_subdomain():
    resource = JiraResource(subdomain="Acme", email="me@example.com", api_token="tok")
    assert resource.site_url == "https://acme.atlassian.net"
    client = resource.client()
    assert client.base_url == "https://acme.atlassian.net" and client.rate_limit == 5.0


def test_rate_limit_comes_from_the_environment_at_run_time(monkeypatch):
    resource = JiraResource(subdomain="acme", email="me@example.com", api_token="tok")
    monkeypatch.setenv("JIRA_RATE_LIMIT", "2.5")
    assert resource.client().rate_limit == 2.5
    monkeypatch.setenv("JIRA_RATE_LIMIT", "fast")
    with pytest.raises(ValueError, match="JIRA_RATE_LIMIT must be a number"):
        resource.client()
    monkeypatch.setenv("JIRA_RATE_LIMIT", "0")
    with pytest.raises(ValueError, match="greater than 0"):
        resource.client()
    assert JiraResource(subdomain="acme", email="e", api_token="t", rate_limit=7).client().rate_limit == 7


def test_source_side_imports_neither_dagster_nor_pyiceberg():
    """design.md: nothing below jira_assets.jira knows Dagster or Iceberg."""
    import subprocess
    import sys

    code = (
        "import importlib, pkgutil, sys\n"
        "import jira_assets.jira as pkg\n"
        "for m in pkgutil.iter_modules(pkg.__path__):\n"
        "    importlib.import_module(f'jira_assets.jira.{m.name}')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'pyiceberg'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
