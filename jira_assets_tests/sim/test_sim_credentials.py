"""Every kind of Atlassian credential against the simulator over real HTTP: the site URL and the API gateway form
(/ex/jira/{cloudId}/rest/...), classic and scoped API tokens, OAuth 2.0 client credentials, and each refusal as
the site, the gateway and the token endpoint answer it; all over the fault middleware and the request log."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from jira_sim.gateway import cloud_id_for
from _simulator import AUTH, EMAIL, sim, start_simulator  # noqa: F401

V2 = "/rest/api/2"
SCOPED = (EMAIL, "demo-scoped-token")
CLIENT = {"grant_type": "client_credentials", "client_id": "demo-client-id", "client_secret": "demo-client-secret"}
UNAUTHENTICATED = "Client must be authenticated to access this resource."


def gateway(url: str) -> str:
    cloud_id = httpx.get(f"{url}/_edge/tenant_info", timeout=30).json()["cloudId"]
    return f"{url}/ex/jira/{cloud_id}"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_tenant_info_answers_the_cloud_id_without_credentials(sim):
    url, _ = sim
    r = httpx.get(f"{url}/_edge/tenant_info", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert set(r.json()) == {"cloudId"}
    cloud_id = r.json()["cloudId"]
    assert str(uuid.UUID(cloud_id)) == cloud_id
    assert cloud_id == cloud_id_for(1) != cloud_id_for(2)          # a pure function of the seed


def test_classic_token_works_on_the_site_and_through_the_gateway(sim):
    url, _ = sim
    gw = gateway(url)
    site = httpx.get(f"{url}{V2}/myself", auth=AUTH, timeout=30)
    via = httpx.get(f"{gw}{V2}/myself", auth=AUTH, timeout=30)
    assert site.status_code == via.status_code == 200
    assert via.json()["accountId"] == site.json()["accountId"] == via.headers["x-aaccountid"]
    # the same handlers answer; REST links point at the base URL the request used
    assert via.text == site.text.replace(f"{url}/rest/", f"{gw}/rest/")
    issue = httpx.get(f"{gw}{V2}/issue/PLAT-1", auth=AUTH, timeout=30).json()
    assert issue["self"].startswith(f"{gw}/rest/api/2/issue/")


def test_gateway_page_links_stay_on_the_gateway(sim):
    url, _ = sim
    gw = gateway(url)
    with httpx.Client(auth=SCOPED, timeout=30) as c:
        page = c.get(f"{gw}{V2}/project/search", params={"maxResults": 2}).json()
        keys = []
        while True:
            keys.extend(p["key"] for p in page["values"])
            if page["isLast"]:
                break
            assert page["nextPage"].startswith(f"{gw}/rest/")
            page = c.get(page["nextPage"]).json()       # a scoped token follows the link it was given
        assert len(keys) == 5


def test_scoped_token_works_only_through_the_gateway(sim):
    url, _ = sim
    via = httpx.get(f"{gateway(url)}{V2}/myself", auth=SCOPED, timeout=30)
    assert via.status_code == 200 and via.json()["emailAddress"] == EMAIL
    site = httpx.get(f"{url}{V2}/myself", auth=SCOPED, timeout=30)
    assert site.status_code == 401
    assert site.headers["x-failure-category"] == "FAILURE_CLIENT_AUTH_MISMATCH"
    assert site.text == UNAUTHENTICATED


def test_the_gateway_refuses_a_wrong_cloud_id_and_bad_credentials(sim):
    url, _ = sim
    wrong = httpx.get(f"{url}/ex/jira/{uuid.uuid4()}{V2}/myself", auth=AUTH, timeout=30)
    assert wrong.status_code == 404 and wrong.json() == {"code": 404, "message": "Not Found"}
    gw = gateway(url)
    for kw in ({}, {"auth": (EMAIL, "not-a-token")}, {"headers": bearer("never-issued")}):
        r = httpx.get(f"{gw}{V2}/myself", timeout=30, **kw)
        assert r.status_code == 401 and r.json() == {"code": 401, "message": "Unauthorized"}, kw
    # the site's own refusal is unchanged: plain text with the Seraph header
    r = httpx.get(f"{url}{V2}/myself", auth=(EMAIL, "not-a-token"), timeout=30)
    assert r.status_code == 401 and r.text == UNAUTHENTICATED
    assert r.headers["x-seraph-loginreason"] == "AUTHENTICATED_FAILED" and "x-failure-category" not in r.headers


def test_oauth_client_credentials_from_a_form_a_json_body_or_basic_auth(sim):
    url, _ = sim
    gw = gateway(url)
    answers = [httpx.post(f"{url}/oauth/token", data=CLIENT, timeout=30),
               httpx.post(f"{url}/oauth/token", json=CLIENT, timeout=30),
               httpx.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(CLIENT["client_id"], CLIENT["client_secret"]), timeout=30)]
    tokens = []
    for r in answers:
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        body = r.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and "read:jira-work" in body["scope"]
        tokens.append(body["access_token"])
    assert len(set(tokens)) == 3
    for token in tokens:
        ok = httpx.get(f"{gw}{V2}/search/jql", params={"jql": "project = PLAT"}, headers=bearer(token), timeout=30)
        assert ok.status_code == 200 and ok.json()["issues"]
        # a Bearer token means nothing to the site URL
        site = httpx.get(f"{url}{V2}/myself", headers=bearer(token), timeout=30)
        assert site.status_code == 401 and site.text == UNAUTHENTICATED


def test_the_token_endpoint_refuses_as_atlassian_does(sim):
    url, _ = sim
    for bad in ({**CLIENT, "client_secret": "wrong"}, {**CLIENT, "client_id": "someone-else"}):
        r = httpx.post(f"{url}/oauth/token", data=bad, timeout=30)
        assert r.status_code == 401 and r.json() == {"error": "access_denied", "error_description": "Unauthorized"}
    r = httpx.post(f"{url}/oauth/token", json={**CLIENT, "grant_type": "authorization_code"}, timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = httpx.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"}, timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = httpx.post(f"{url}/oauth/token", content=b"{not json", headers={"content-type": "application/json"},
                   timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert httpx.get(f"{url}/oauth/token", timeout=30).status_code == 405


def test_an_expired_oauth_token_is_refused_by_the_gateway():
    with start_simulator("--oauth-token-seconds", "1") as (url, _):
        gw = gateway(url)
        body = httpx.post(f"{url}/oauth/token", data=CLIENT, timeout=30).json()
        assert body["expires_in"] == 1
        assert httpx.get(f"{gw}{V2}/myself", headers=bearer(body["access_token"]), timeout=30).status_code == 200
        time.sleep(1.3)
        r = httpx.get(f"{gw}{V2}/myself", headers=bearer(body["access_token"]), timeout=30)
        assert r.status_code == 401 and r.json() == {"code": 401, "message": "Unauthorized"}
        fresh = httpx.post(f"{url}/oauth/token", json=CLIENT, timeout=30).json()["access_token"]
        assert httpx.get(f"{gw}{V2}/myself", headers=bearer(fresh), timeout=30).status_code == 200


def test_credentials_work_over_the_fault_middleware_and_the_request_log(tmp_path):
    log = tmp_path / "requests.jsonl"
    with start_simulator("--request-log", str(log), "--fail-first", json.dumps({f"{V2}/myself": [503]})) \
            as (url, _):
        gw = gateway(url)
        path = gw.removeprefix(url) + f"{V2}/myself"
        # the site path's fault schedule applies to the gateway form of the path: it reaches the same site
        assert httpx.get(f"{gw}{V2}/myself", auth=SCOPED, timeout=30).status_code == 503
        assert httpx.get(f"{gw}{V2}/myself", auth=SCOPED, timeout=30).status_code == 200
        token = httpx.post(f"{url}/oauth/token", data=CLIENT, timeout=30).json()["access_token"]
        httpx.post(f"{url}/__sim/faults", json={"revoke_token": True}, timeout=30).raise_for_status()
        revoked = httpx.get(f"{gw}{V2}/myself", headers=bearer(token), timeout=30)
        assert revoked.status_code == 401 and revoked.json() == {"code": 401, "message": "Unauthorized"}
        assert httpx.get(f"{url}{V2}/myself", auth=AUTH, timeout=30).text == UNAUTHENTICATED
        # neither the cloudId lookup nor the token endpoint takes an API token
        assert httpx.get(f"{url}/_edge/tenant_info", timeout=30).status_code == 200
        assert httpx.post(f"{url}/oauth/token", data=CLIENT, timeout=30).status_code == 200
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    mine = [(x["path"], x["status"]) for x in lines if x["path"] == path]
    assert mine == [(path, 503), (path, 200), (path, 401)]                  # the path as requested
    assert ("/oauth/token", 200) in [(x["path"], x["status"]) for x in lines]
    assert lines[[x["path"] for x in lines].index(path)]["fault"] == "fail_first"
