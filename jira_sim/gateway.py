"""Every kind of Atlassian credential, answered the way the site and the API gateway answer it.

A Jira Cloud site is reached two ways, and the simulator serves both on one host:

- the site URL, `https://{subdomain}.atlassian.net/rest/...`: HTTP Basic with a classic (unscoped) API token only;
- the API gateway, `https://api.atlassian.com/ex/jira/{cloudId}/rest/...`: the same REST paths behind a prefix
  naming the site by its cloudId. Classic tokens (Basic), scoped API tokens (Basic, email + token as for classic
  ones) and OAuth 2.0 access tokens (Bearer) all work here.

Credentials (documented demo values):

| kind | sent as | site URL | gateway |
|---|---|---|---|
| classic API token | Basic `demo@example.com` / `demo-token` | 200 | 200 |
| scoped API token | Basic `demo@example.com` / `demo-scoped-token` | 401 + `x-failure-category` (1) | 200 |
| OAuth 2.0 access token | `Authorization: Bearer <access_token>` | 401 text (2) | 200; once expired 401 JSON (3) |
| anything else | | 401 text (2) | 401 JSON (3) |

(1) `x-failure-category: FAILURE_CLIENT_AUTH_MISMATCH`, the text body of (2). (2) `Client must be authenticated to
access this resource.` with `X-Seraph-LoginReason: AUTHENTICATED_FAILED`, as today. (3) the gateway's
`{"code": 401, "message": "Unauthorized"}`.

- `GET /_edge/tenant_info` (no auth) -> `{"cloudId": "<uuid>"}`, deterministic per seed. A gateway request for
  another cloudId answers 404 `{"code": 404, "message": "Not Found"}`.
- `POST /oauth/token` (no auth; form or JSON body, or the client id and secret as HTTP Basic) with
  `grant_type=client_credentials`, `client_id=demo-client-id`, `client_secret=demo-client-secret` ->
  `{"access_token", "expires_in", "token_type": "Bearer", "scope"}`. Tokens live `--oauth-token-seconds`
  (default 3600, Atlassian's 60 minutes) of real time. Wrong client credentials answer 401
  `{"error": "access_denied", "error_description": "Unauthorized"}`; another grant type 400
  `unsupported_grant_type`; a missing client id or secret 400 `invalid_request`.

Through the gateway, links in JSON bodies that point at the site's REST API (`self`, `nextPage` ...) point at the
gateway form instead, so a client that follows them stays on the base URL its credentials work with.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Callable
from urllib.parse import parse_qsl

from .http import EMAIL, TOKEN, dumps

SCOPED_TOKEN = "demo-scoped-token"
OAUTH_CLIENT_ID = "demo-client-id"
OAUTH_CLIENT_SECRET = "demo-client-secret"
# the classic scopes a read-only service account is given
OAUTH_SCOPE = "read:jira-work read:jira-user manage:jira-configuration"
GATEWAY_PREFIX = "/ex/jira/"
TOKEN_PATH = "/oauth/token"
TENANT_INFO_PATH = "/_edge/tenant_info"

GATEWAY_401 = {"code": 401, "message": "Unauthorized"}
GATEWAY_404 = {"code": 404, "message": "Not Found"}
JSON = b"application/json;charset=UTF-8"

# what an Authorization header is, as the edge tells them apart
CLASSIC, SCOPED, BEARER, BEARER_EXPIRED, NONE = "classic", "scoped", "bearer", "bearer-expired", "none"


def cloud_id_for(seed: int) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(f"{seed}:cloud-id".encode()).digest(), version=4))


def _basic(email: str, token: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{email}:{token}".encode())


class Gateway:
    """The cloudId, the OAuth token store, and how each Authorization header is read."""

    def __init__(self, seed: int, token_seconds: float = 3600.0, clock: Callable[[], float] = time.monotonic):
        self.seed = seed
        self.cloud_id = cloud_id_for(seed)
        self.token_seconds = float(token_seconds)
        self.clock = clock
        self._classic = _basic(EMAIL, TOKEN)
        self._scoped = _basic(EMAIL, SCOPED_TOKEN)
        self._tokens: dict[str, float] = {}      # access token -> expiry (clock seconds)
        self._issued = 0

    # ---- credentials ---------------------------------------------------------------------------------------
    def classify(self, auth: bytes | None) -> str:
        if auth == self._classic:
            return CLASSIC
        if auth == self._scoped:
            return SCOPED
        if auth and auth[:7].lower() == b"bearer ":
            expiry = self._tokens.get(auth[7:].strip().decode("latin-1"))
            if expiry is None:
                return NONE
            return BEARER if self.clock() < expiry else BEARER_EXPIRED
        return NONE

    def issue_token(self) -> str:
        now = self.clock()
        for tok, expiry in list(self._tokens.items()):
            if expiry <= now:
                del self._tokens[tok]
        self._issued += 1
        tok = "sim-oauth-" + hashlib.sha256(f"{self.seed}:{self._issued}:{now}".encode()).hexdigest()
        self._tokens[tok] = now + self.token_seconds
        return tok

    # ---- the gateway prefix --------------------------------------------------------------------------------
    def split(self, path: str) -> tuple[str, str] | None:
        """`/ex/jira/{cloudId}/rest/...` -> (cloudId, `/rest/...`); None if `path` is not in the gateway form."""
        if not path.startswith(GATEWAY_PREFIX):
            return None
        rest = path[len(GATEWAY_PREFIX):]
        cid, sep, tail = rest.partition("/")
        return cid, "/" + tail if sep else "/"

    def rewrite_links(self, body: bytes, base: str) -> bytes:
        site = f"{base}/rest/".encode()
        return body.replace(site, f"{base}{GATEWAY_PREFIX}{self.cloud_id}/rest/".encode()) if site in body else body

    # ---- the two unauthenticated endpoints -----------------------------------------------------------------
    async def tenant_info(self, scope, send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            return await send_json(send, 405, {"code": 405, "message": "Method Not Allowed"})
        await send_json(send, 200, {"cloudId": self.cloud_id})

    async def token_endpoint(self, scope, receive, send) -> None:
        if scope["method"] != "POST":
            return await send_json(send, 405, {"code": 405, "message": "Method Not Allowed"})
        raw = b""
        while True:
            msg = await receive()
            raw += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        params = _token_params(raw, dict(scope["headers"]))
        if params is None:
            return await send_json(send, 400, {"error": "invalid_request",
                                               "error_description": "The request body could not be read."})
        grant = params.get("grant_type")
        if grant != "client_credentials":
            return await send_json(send, 400, {"error": "unsupported_grant_type",
                                               "error_description": f"Unsupported grant type: {grant}"})
        cid, secret = params.get("client_id"), params.get("client_secret")
        if not cid or not secret:
            return await send_json(send, 400, {"error": "invalid_request",
                                               "error_description": "client_id and client_secret are required"})
        if (cid, secret) != (OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET):
            return await send_json(send, 401, {"error": "access_denied", "error_description": "Unauthorized"})
        await send_json(send, 200, {"access_token": self.issue_token(), "expires_in": int(self.token_seconds),
                                    "token_type": "Bearer", "scope": OAUTH_SCOPE},
                        [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")])


def _token_params(raw: bytes, headers: dict[bytes, bytes]) -> dict[str, str] | None:
    """The token request's parameters: a JSON or form body, client id and secret also from HTTP Basic."""
    ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    params: dict[str, str] = {}
    text = raw.decode("utf-8", "replace").strip()
    if ctype == b"application/json" or text.startswith("{"):
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        params = {str(k): str(v) for k, v in data.items() if v is not None}
    elif text:
        params = dict(parse_qsl(text, keep_blank_values=True))
    auth = headers.get(b"authorization", b"")
    if auth[:6].lower() == b"basic " and "client_id" not in params:
        try:
            cid, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        params.setdefault("client_id", cid)
        params.setdefault("client_secret", secret)
    return params


async def send_json(send, status: int, obj, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = dumps(obj)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", JSON), (b"content-length", str(len(body)).encode())]
                + (headers or [])})
    await send({"type": "http.response.body", "body": body})
