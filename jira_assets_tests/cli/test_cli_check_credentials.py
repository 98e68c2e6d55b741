"""`jira-assets check` with each kind of Atlassian credential: which kind is in use, where the requests go (the site,
or the API gateway with the site's cloudId), the access token's expiry for a service account; each refusal and each
bad setting as one line that says what to fix."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from _cli import jira_assets, output, project_env
from _simulator import EMAIL, start_simulator

from jira_assets.settings import jira_connection_problems
from jira_sim.gateway import cloud_id_for

SEED = 29
CLOUD_ID = cloud_id_for(SEED)


@pytest.fixture(scope="module")
def url():
    with start_simulator("--scale", "demo", "--seed", str(SEED)) as (running, _):
        yield running


def kind_settings(url: str, kind: str, **extra) -> dict:
    if kind == "scoped-token":
        return {"JIRA_AUTH": kind, "JIRA_API_TOKEN": "demo-scoped-token", "JIRA_GATEWAY_URL": url, **extra}
    if kind == "oauth":
        return {"JIRA_AUTH": kind, "JIRA_EMAIL": None, "JIRA_API_TOKEN": None, "JIRA_GATEWAY_URL": url,
                "JIRA_OAUTH_TOKEN_URL": f"{url}/oauth/token", "JIRA_OAUTH_CLIENT_ID": "demo-client-id",
                "JIRA_OAUTH_CLIENT_SECRET": "demo-client-secret", **extra}
    return dict(extra)


def test_a_classic_token_goes_to_the_site(url, tmp_path):
    out = jira_assets(project_env(tmp_path, url), "check")
    assert out.returncode == 0, output(out)
    assert f"credential: classic API token, HTTP Basic as {EMAIL}" in out.stdout
    assert f"requests go to: {url}\n" in out.stdout and "access token" not in out.stdout


def test_a_scoped_token_goes_through_the_gateway(url, tmp_path):
    out = jira_assets(project_env(tmp_path, url, **kind_settings(url, "scoped-token")), "check")
    assert out.returncode == 0, output(out)
    assert f"OK: authenticated to {url}" in out.stdout
    assert f"credential: scoped API token, HTTP Basic as {EMAIL}" in out.stdout
    assert f"requests go to: {url}/ex/jira/{CLOUD_ID}\n" in out.stdout
    assert "All enabled endpoints are readable." in out.stdout


def test_a_service_account_reports_its_access_token_expiry(url, tmp_path):
    before = datetime.now(timezone.utc)
    out = jira_assets(project_env(tmp_path, url, **kind_settings(url, "oauth", JIRA_CLOUD_ID=CLOUD_ID)), "check")
    assert out.returncode == 0, output(out)
    assert "credential: OAuth 2.0 client credentials (service account), client id demo-client-id" in out.stdout
    assert f"requests go to: {url}/ex/jira/{CLOUD_ID}\n" in out.stdout
    line = next(line for line in out.stdout.splitlines() if line.startswith("access token expires: "))
    expires = datetime.fromisoformat(line.split(": ", 1)[1].split(" ")[0])
    assert before + timedelta(seconds=3590) < expires < datetime.now(timezone.utc) + timedelta(seconds=3601)
    assert "(in 60 min; a new one is fetched before then)" in line or "(in 59 min" in line
    assert "demo-client-secret" not in output(out)


def test_a_scoped_token_on_the_site_url_says_which_setting_to_change(url, tmp_path):
    out = jira_assets(project_env(tmp_path, url, JIRA_API_TOKEN="demo-scoped-token"), "check")
    assert out.returncode == 1
    assert out.stdout.splitlines()[0] == f"FAILED: {url} as {EMAIL} (classic API token)"
    assert ("this is a scoped token: set JIRA_AUTH=scoped-token (requests then go through the API gateway)"
            in out.stdout.splitlines()[1])
    assert "demo-scoped-token" not in output(out)


def test_a_wrong_client_secret_says_so(url, tmp_path):
    settings = kind_settings(url, "oauth", JIRA_OAUTH_CLIENT_SECRET="not-the-secret")
    out = jira_assets(project_env(tmp_path, url, **settings), "check")
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0] == f"FAILED: {url} as OAuth client demo-client-id (OAuth 2.0 client credentials (service account))"
    assert "JIRA_OAUTH_CLIENT_SECRET is wrong" in lines[1] and len(lines) == 2
    assert "not-the-secret" not in output(out)


def test_bad_credential_settings_are_one_line_each_from_the_command(tmp_path):
    env = project_env(tmp_path, "http://127.0.0.1:9", JIRA_AUTH="oauth", JIRA_OAUTH_CLIENT_SECRET="s3cr3t x",
                      JIRA_CLOUD_ID="acme")
    out = jira_assets(env, "check")
    assert out.returncode == 1 and "Traceback" not in output(out)
    assert out.stderr.strip().splitlines() == [
        "FAILED: JIRA_OAUTH_CLIENT_ID is not set: set it to the client id of the service account's OAuth 2.0 "
        "credential (Atlassian Administration, Directory > Service accounts)",
        "FAILED: JIRA_OAUTH_CLIENT_SECRET has a space or line break inside it (8 characters): paste it again, as one "
        "word",
        "FAILED: JIRA_CLOUD_ID must be the site's cloudId, a UUID such as 0123abcd-4567-89ab-cdef-0123456789ab, got "
        "'acme' (leave it unset to look it up from the site)",
    ]
    assert "s3cr3t" not in output(out)


SITE = {"JIRA_SUBDOMAIN": "acme", "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": "tok"}
SERVICE_ACCOUNT = {"JIRA_SUBDOMAIN": "acme", "JIRA_AUTH": "oauth", "JIRA_OAUTH_CLIENT_ID": "id",
                   "JIRA_OAUTH_CLIENT_SECRET": "secret"}
CASES = [
    (SITE, []),
    ({**SITE, "JIRA_AUTH": "Scoped-Token "}, []),
    (SERVICE_ACCOUNT, []),
    ({**SERVICE_ACCOUNT, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_GATEWAY_URL": "https://proxy.corp/atlassian",
      "JIRA_OAUTH_TOKEN_URL": "http://127.0.0.1:9/oauth/token"}, []),
    ({**SITE, "JIRA_AUTH": "basic"}, ["JIRA_AUTH must be token (a classic API token, sent to the site URL), "
                                      "scoped-token (a scoped API token, through the API gateway) or oauth (a "
                                      "service account's OAuth 2.0 client credentials, through the API gateway), "
                                      "got 'basic'"]),
    ({**SITE, "JIRA_AUTH": "scoped-token", "JIRA_API_TOKEN": ""},
     ["JIRA_API_TOKEN is empty: set it to a scoped Atlassian API token (create one at "
      "https://id.atlassian.com/manage-profile/security/api-tokens)"]),
    ({**SITE, "JIRA_CLOUD_ID": CLOUD_ID},
     ["JIRA_CLOUD_ID is set, but JIRA_AUTH is token (a classic API token, sent to the site URL), which does not "
      "read it: set JIRA_AUTH=scoped-token or JIRA_AUTH=oauth, or unset JIRA_CLOUD_ID"]),
    ({**SITE, "JIRA_OAUTH_CLIENT_SECRET": "secret"},
     ["JIRA_OAUTH_CLIENT_SECRET is set, but JIRA_AUTH is token (a classic API token, sent to the site URL), which "
      "does not read it: set JIRA_AUTH=oauth, or unset JIRA_OAUTH_CLIENT_SECRET"]),
    ({**SITE, "JIRA_AUTH": "scoped-token", "JIRA_GATEWAY_URL": "http://api.atlassian.com"},
     ["JIRA_GATEWAY_URL uses http:// for api.atlassian.com, which would send the credentials unencrypted; use "
      "https://api.atlassian.com (http:// is accepted only for loopback addresses such as 127.0.0.1)"]),
    ({**SERVICE_ACCOUNT, "JIRA_OAUTH_TOKEN_URL": "auth.atlassian.com/oauth/token"},
     ["JIRA_OAUTH_TOKEN_URL must start with https:// (e.g. https://auth.atlassian.com/oauth/token), got "
      "'auth.atlassian.com/oauth/token'"]),
    ({"JIRA_AUTH": "oauth", "JIRA_OAUTH_CLIENT_ID": "id"},
     ["JIRA_OAUTH_CLIENT_SECRET is not set: set it to the client secret of the same credential",
      "No Jira site configured: set JIRA_SUBDOMAIN (e.g. `acme` for https://acme.atlassian.net) or JIRA_BASE_URL "
      "(a proxy, custom domain or the simulator)"]),
]


@pytest.mark.parametrize("env, problems", CASES)
def test_credential_settings(env, problems):
    assert jira_connection_problems(env) == problems
