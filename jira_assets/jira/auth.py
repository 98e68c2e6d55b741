"""The kinds of Atlassian credential a Jira Cloud site takes, and where each one sends its requests.

| kind (`JIRA_AUTH`) | credential | sent as | requests go to |
|---|---|---|---|
| `token` (default) | a classic API token | HTTP Basic, email + token | the site, `https://{subdomain}.atlassian.net` |
| `scoped-token` | a scoped API token (a person's, a service account's) | HTTP Basic, email + token | the API gateway |
| `oauth` | a service account's OAuth 2.0 client id and secret | a Bearer access token | the API gateway |

The API gateway is `https://api.atlassian.com/ex/jira/{cloudId}`; the cloudId, unless given, is read from the site's
`/_edge/tenant_info` once per process. OAuth access tokens come from the client-credentials grant at
`https://auth.atlassian.com/oauth/token`; each client fetches its own on first use and a new one when little of its
lifetime is left (`refresh_margin`) or when the gateway refuses it.

Neither the cloudId lookup nor a token request is a Jira REST request: neither is sent to Jira's REST API, so
neither takes a slot of the Jira throttle nor counts in the client's request statistics. They are rare (once per
process, once per token lifetime) and go to other Atlassian services (the site's edge, the identity service).

Secrets (tokens, client secrets, access tokens) live only in these objects and in httpx's auth; no repr shows them
and no message quotes them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx

CLASSIC_TOKEN, SCOPED_TOKEN, OAUTH = "token", "scoped-token", "oauth"
AUTH_KINDS = (CLASSIC_TOKEN, SCOPED_TOKEN, OAUTH)
DEFAULT_GATEWAY_URL = "https://api.atlassian.com"
DEFAULT_TOKEN_URL = "https://auth.atlassian.com/oauth/token"
TENANT_INFO_PATH = "/_edge/tenant_info"
TOKEN_HELP_URL = "https://id.atlassian.com/manage-profile/security/api-tokens"
SERVICE_ACCOUNTS_HELP = "Atlassian Administration, Directory > Service accounts"
USER_AGENT = "jira-assets/0.1 (+httpx)"
CLASSIC_TOKEN_REFUSED = (
    "authentication failed: the API token is wrong or expired (Atlassian API tokens expire after at most one year; "
    f"create a new one at {TOKEN_HELP_URL}), or JIRA_EMAIL is not the email address of the Atlassian account that "
    "owns the token"
)
MAX_REFRESH_MARGIN_SECONDS = 300.0
_LOOKUP_ATTEMPTS = 3
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def gateway_base_url(gateway_url: str, cloud_id: str) -> str:
    """Where a site's REST API is reached through the API gateway."""
    return f"{gateway_url}/ex/jira/{cloud_id}"


def validate_cloud_id(value: str, name: str = "JIRA_CLOUD_ID") -> str:
    """A cloudId is a UUID; anything else would end up in every request path."""
    text = (value or "").strip()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ValueError(
            f"{name} must be the site's cloudId, a UUID such as 0123abcd-4567-89ab-cdef-0123456789ab, got "
            f"{text[:60]!r} (leave it unset to look it up from the site)") from None


def refresh_margin(lifetime: float) -> float:
    """How much of an access token's lifetime may be left when it is renewed: a tenth, at most 5 minutes.

    A 60-minute token is renewed after 55 minutes; a short one, proportionally (a 2-second one after 1.8 s).
    """
    return min(MAX_REFRESH_MARGIN_SECONDS, lifetime / 10.0)


class AuthServiceError(Exception):
    """A request to a service the credentials need before Jira answers (the site's tenant_info, the OAuth token
    endpoint) failed. `str()` is one line without any secret; `hint` says what to fix.

    retryable: a network failure, 429 or 5xx (worth another attempt); network_error: the httpx exception, if any;
    response: the refusal, if there was one (for its Retry-After)."""

    def __init__(self, what: str, hint: str = "", *, retryable: bool = False,
                 network_error: BaseException | None = None, response: httpx.Response | None = None,
                 url: str = "") -> None:
        self.what = what
        self.hint = hint
        self.retryable = retryable
        self.network_error = network_error
        self.response = response
        self.url = url
        super().__init__(what + (f": {hint}" if hint else ""))


# ---- the credentials -----------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ApiToken:
    """An Atlassian API token with its account's email, sent as HTTP Basic. Classic tokens work on the site URL;
    scoped ones only through the API gateway."""

    email: str
    token: str
    scoped: bool = False

    @property
    def kind(self) -> str:
        return SCOPED_TOKEN if self.scoped else CLASSIC_TOKEN

    @property
    def label(self) -> str:
        return "scoped API token" if self.scoped else "classic API token"

    @property
    def via_gateway(self) -> bool:
        return self.scoped

    @property
    def principal(self) -> str:
        return self.email

    def identity(self) -> tuple[str, str]:
        """(who, secret): what a verdict about these credentials is keyed by, once hashed."""
        return f"{self.kind}:{self.email}", self.token

    def httpx_auth(self, timeout: httpx.Timeout) -> httpx.Auth:
        return httpx.BasicAuth(self.email, self.token)

    def describe(self) -> str:
        return f"{self.label}, HTTP Basic as {self.email}"

    def refused_hint(self) -> str:
        if self.scoped:
            return (
                f"the API gateway refused the scoped API token: it is wrong, expired or revoked, or JIRA_EMAIL "
                f"({self.email}) is not the email of the account that owns it (a service account's email ends in "
                f"@serviceaccount.atlassian.com); create a new scoped token at {TOKEN_HELP_URL} (a service "
                f"account's in {SERVICE_ACCOUNTS_HELP}) and update JIRA_API_TOKEN"
            )
        return CLASSIC_TOKEN_REFUSED

    def __repr__(self) -> str:
        return f"ApiToken(kind={self.kind!r}, email={self.email!r}, token='***')"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class OAuthClientCredentials:
    """A service account's OAuth 2.0 credential: the client id and secret exchanged for short-lived Bearer tokens."""

    client_id: str
    client_secret: str
    token_url: str = DEFAULT_TOKEN_URL

    kind = OAUTH
    label = "OAuth 2.0 client credentials (service account)"
    via_gateway = True

    @property
    def principal(self) -> str:
        return f"OAuth client {self.client_id}"

    def identity(self) -> tuple[str, str]:
        return f"{self.kind}:{self.client_id}:{self.token_url}", self.client_secret

    def httpx_auth(self, timeout: httpx.Timeout) -> ClientCredentialsAuth:
        return ClientCredentialsAuth(self, timeout)

    def describe(self) -> str:
        return f"{self.label}, client id {self.client_id}, Bearer tokens from {self.token_url}"

    def refused_hint(self) -> str:
        return (
            "the API gateway refused a freshly issued OAuth access token: the service account has no role on "
            "this site, or its OAuth credential lacks the scopes this request needs (e.g. read:jira-work, "
            f"read:jira-user); check the service account in {SERVICE_ACCOUNTS_HELP}, and JIRA_CLOUD_ID if set"
        )

    def __repr__(self) -> str:
        return (f"OAuthClientCredentials(client_id={self.client_id!r}, client_secret='***', "
                f"token_url={self.token_url!r})")

    __str__ = __repr__


Credential = ApiToken | OAuthClientCredentials


# ---- OAuth 2.0 access tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AccessToken:
    """A Bearer token and its lifetime. The lifetime is counted from when the token was asked for, so the client's
    idea of its expiry is never later than the token endpoint's."""

    value: str
    lifetime: float  # seconds, as the token endpoint said (`expires_in`)
    requested_at: float  # time.monotonic() when it was asked for
    expires_at: datetime  # the same instant on the wall clock, for people

    @property
    def header(self) -> str:
        return f"Bearer {self.value}"

    def remaining(self) -> float:
        return self.requested_at + self.lifetime - time.monotonic()

    def due(self) -> bool:
        """Time to renew it (it may still work for a little while: see `refresh_margin`)."""
        return self.remaining() < refresh_margin(self.lifetime)

    def __repr__(self) -> str:
        return f"AccessToken(value='***', expires_at={self.expires_at.isoformat()!r})"

    __str__ = __repr__


class ClientCredentialsAuth(httpx.Auth):
    """httpx auth for a service account: each request carries a Bearer token from the client-credentials grant.

    The token is fetched on first use and again once it is due (`AccessToken.due`); a token the gateway refused is
    dropped with `discard`, so the request's retry carries a new one, and the client asks `carries_due_token` once a
    request's throttle slot is taken (its header was set before the wait). Requests waiting for a token share the
    one request made for it (a lock). Async only: the connector's client is an httpx.AsyncClient.
    """

    def __init__(self, credential: OAuthClientCredentials, timeout: httpx.Timeout) -> None:
        self._credential = credential
        self._timeout = timeout
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()
        self.token_requests = 0  # token requests sent by this client

    @property
    def token(self) -> AccessToken | None:
        """The current access token (None before the first request)."""
        return self._token

    async def async_auth_flow(self, request: httpx.Request):
        token = await self.valid_token()
        request.headers["Authorization"] = token.header
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("ClientCredentialsAuth needs an httpx.AsyncClient")

    async def valid_token(self) -> AccessToken:
        async with self._lock:
            if self._token is None or self._token.due():
                self.token_requests += 1
                self._token = await request_access_token(self._credential, self._timeout)
            return self._token

    def carries_due_token(self, request: httpx.Request) -> bool:
        """Whether `request` carries a token that is due: renewed or dropped since, or due by now."""
        token = self._token
        return token is None or request.headers.get("authorization") != token.header or token.due()

    def discard(self, request: httpx.Request) -> None:
        """The gateway refused the token `request` carried: forget it, unless a newer one has replaced it already."""
        if self._token is not None and request.headers.get("authorization") == self._token.header:
            self._token = None

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth({self._credential!r})"


async def request_access_token(credential: OAuthClientCredentials, timeout: httpx.Timeout) -> AccessToken:
    """One client-credentials grant at the token endpoint. Raises AuthServiceError (one line, no secret)."""
    url = credential.token_url
    requested_at, requested_wall = time.monotonic(), time.time()
    body = {"grant_type": "client_credentials", "client_id": credential.client_id,
            "client_secret": credential.client_secret}
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                     headers={"Accept": "application/json", "User-Agent": USER_AGENT}) as http:
            response = await http.post(url, json=body)
    except httpx.HTTPError as exc:
        raise AuthServiceError(f"the OAuth token request to {url} failed ({type(exc).__name__})",
                               retryable=True, network_error=exc, url=url) from None
    status = response.status_code
    if status == 200:
        data = _json_object(response)
        value, lifetime = data.get("access_token"), data.get("expires_in")
        bearer = str(data.get("token_type") or "Bearer").lower() == "bearer"
        if isinstance(value, str) and value and bearer and isinstance(lifetime, (int, float)) and lifetime > 0:
            expires_at = datetime.fromtimestamp(requested_wall + lifetime, timezone.utc)
            return AccessToken(value, float(lifetime), requested_at, expires_at)
        raise AuthServiceError(f"{url} answered HTTP 200 without a Bearer access token and its lifetime",
                               retryable=True, response=response, url=url)
    error, description = _oauth_error(response, credential.client_secret)
    what = f"the OAuth token endpoint {url} answered HTTP {status}" + (
        f" ({error}{': ' + description if description else ''})" if error else "")
    if status in _RETRY_STATUSES:
        raise AuthServiceError(what, retryable=True, response=response, url=url)
    if status in (401, 403) or error in ("access_denied", "invalid_client", "unauthorized_client"):
        hint = (f"the OAuth client was refused: JIRA_OAUTH_CLIENT_ID ({credential.client_id}) or "
                "JIRA_OAUTH_CLIENT_SECRET is wrong, or the credential was revoked or has expired; create a new "
                f"OAuth 2.0 credential for the service account in {SERVICE_ACCOUNTS_HELP}")
    elif status in (404, 405):
        hint = f"no OAuth token endpoint answers there: check JIRA_OAUTH_TOKEN_URL (default {DEFAULT_TOKEN_URL})"
    else:
        hint = f"the token endpoint did not accept the client-credentials grant: check JIRA_OAUTH_TOKEN_URL ({url})"
    raise AuthServiceError(what, hint, response=response, url=url)


def _json_object(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _oauth_error(response: httpx.Response, secret: str) -> tuple[str, str]:
    """RFC 6749's `error` and `error_description` (short, and never echoing the secret)."""
    data = _json_object(response)
    error = str(data.get("error") or "")[:60]
    description = " ".join(str(data.get("error_description") or "").split())[:160]
    if secret:
        error, description = error.replace(secret, "***"), description.replace(secret, "***")
    return error, description


# ---- the cloudId -----------------------------------------------------------------------------------------------

_cloud_ids: dict[str, str] = {}  # site URL -> cloudId: a site's cloudId never changes, so once per process


async def discover_cloud_id(site_url: str, timeout: httpx.Timeout) -> str:
    """The site's cloudId from `{site}/_edge/tenant_info` (no credentials are sent). A network failure, 429 or 5xx
    is tried again twice; other failures raise AuthServiceError at once."""
    if site_url in _cloud_ids:
        return _cloud_ids[site_url]
    url = site_url + TENANT_INFO_PATH
    hint = "check JIRA_SUBDOMAIN / JIRA_BASE_URL, or set JIRA_CLOUD_ID to the site's cloudId"
    for attempt in range(1, _LOOKUP_ATTEMPTS + 1):
        try:
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                         headers={"Accept": "application/json", "User-Agent": USER_AGENT}) as http:
                response = await http.get(url)
        except httpx.HTTPError as exc:
            failure = AuthServiceError(f"looking up the site's cloudId at {url} failed ({type(exc).__name__})",
                                       hint, retryable=True, network_error=exc, url=url)
        else:
            if response.status_code == 200:
                try:
                    cloud_id = validate_cloud_id(str(_json_object(response).get("cloudId") or ""), "the cloudId")
                except ValueError:
                    raise AuthServiceError(f"{url} answered without a cloudId", hint, url=url) from None
                _cloud_ids[site_url] = cloud_id
                return cloud_id
            failure = AuthServiceError(f"looking up the site's cloudId: {url} answered HTTP {response.status_code}",
                                       hint, retryable=response.status_code in _RETRY_STATUSES, response=response,
                                       url=url)
        if not failure.retryable or attempt == _LOOKUP_ATTEMPTS:
            raise failure
        await asyncio.sleep(attempt)
    raise AssertionError("unreachable")
