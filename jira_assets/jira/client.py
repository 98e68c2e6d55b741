"""Async Jira Cloud client: the credentials (auth.py), the shared throttle, retries that respect Jira, error mapping,
stats.

Every request the connector makes goes through `JiraClient.request_json`. Rules (docs/jira-api.md, "Rate limits"):
- 429, 500, 502, 503, 504, connect/read timeouts, connection resets and truncated or non-JSON 200 bodies are
  retried with exponential backoff and jitter (base 2 s: 2, 4, 8, ... x [0.7, 1.3]), bounded by `max_attempts`
  and `max_retry_seconds`. `Retry-After` (seconds or HTTP date; `Beta-Retry-After`, `X-RateLimit-Reset` as
  fallbacks) is the minimum wait, and a 429's wait pauses the shared throttle for every process.
- Any other status (400, 401, 403, 404, 409, 410, ...) is never retried: it raises `JiraError`, which names the
  endpoint, status, Jira's errorMessages/errors and the likely cause.
- Credentials go only to the configured origin: redirects are followed only within it; a redirect to another
  host raises instead of being followed, so the Authorization header never leaves the site.
- Scoped API tokens and OAuth service accounts reach the site through the API gateway (auth.py): the base URL is
  the gateway's, with the site's cloudId, looked up on the first request when not given. An OAuth access token the
  gateway refuses with 401 is replaced and the request sent once more (through the throttle: Jira may count it).
- Secrets (API tokens, client secrets, access tokens) are never logged, never put in an exception and never shown
  in a repr.
"""

from __future__ import annotations

import asyncio
import email.utils
import html
import json as jsonlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

import httpx

from jira_assets.jira import network
from jira_assets.jira.auth import (
    CLASSIC_TOKEN, CLASSIC_TOKEN_REFUSED, DEFAULT_GATEWAY_URL, TENANT_INFO_PATH, TOKEN_HELP_URL, USER_AGENT,
    AccessToken, ApiToken, AuthServiceError, ClientCredentialsAuth, Credential, discover_cloud_id, gateway_base_url,
    validate_cloud_id,
)
from jira_assets.jira.contact import OK, REJECTED, UNREACHABLE, Verdict, contact_key
from jira_assets.jira.site import origin, validate_base_url
from jira_assets.jira.throttle import DEFAULT_RATE, Paused, Throttle, Ticket, get_throttle

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_RETRY_EXCEPTIONS = (
    httpx.TimeoutException,  # connect, read, write, pool timeouts
    httpx.NetworkError,  # connect errors, resets (ReadError/WriteError), closed connections
    httpx.RemoteProtocolError,  # peer closed mid-body (truncated), malformed responses
    httpx.DecodingError,  # a compressed body cut short
)
SCOPED_ON_SITE_HINT = (
    "this is a scoped token: set JIRA_AUTH=scoped-token (requests then go through the API gateway), or create a "
    f"classic API token at {TOKEN_HELP_URL}"
)

HINTS = {
    400: (
        "Jira rejected the request as malformed: an unbounded or malformed JQL query (JQL must restrict the "
        "search, e.g. `updated >= ...`), a parameter outside Jira's limits (such as maxResults), or a "
        "mismatched endpoint version (a v3 path or body shape sent to v2, or a removed operation)"
    ),
    401: CLASSIC_TOKEN_REFUSED,
    403: (
        "the account is authenticated but lacks a permission this endpoint needs (many configuration "
        "endpoints need 'Administer Jira'), or the site's plan does not include the feature (e.g. priority "
        "schemes need Premium or Enterprise, audit records a paid plan)"
    ),
    404: (
        "the resource does not exist or is not visible to this account, or the feature is not available on "
        "this site (Jira Software not installed, issue linking or time tracking disabled, a private board); "
        "if every request answers 404, the site address is wrong"
    ),
    405: "the endpoint does not accept this HTTP method (an API version or path mismatch)",
    409: "Jira reported a conflict; for users/search this means the request took longer than 10 seconds",
    410: "Atlassian removed this endpoint (for example /rest/api/2/search; use /rest/api/2/search/jql)",
    422: "Jira could not process the request for this object (e.g. a board with no columns mapped to statuses)",
    429: "Jira kept rate-limiting the requests; lower JIRA_RATE_LIMIT or retry later",
}


class JiraError(Exception):
    """A request Jira refused (or that kept failing until the retry budget ran out).

    Attributes: endpoint, status (None for network failures), method, path, error_messages, errors, hint,
    attempts, reason (short text of a non-JSON body, or the network error).
    """

    def __init__(
        self,
        endpoint: str,
        status: int | None,
        method: str,
        path: str,
        error_messages: list[str] | None = None,
        errors: Mapping[str, Any] | None = None,
        hint: str = "",
        *,
        attempts: int = 1,
        reason: str = "",
        site: str = "",
        fatal: bool = False,
        sent: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.fatal = fatal  # no request to this site can succeed now (credentials, address): stop the whole run
        self.sent = sent  # False: refused before sending, on what an earlier request of the run found
        self.status = status
        self.method = method
        self.path = path
        self.error_messages = list(error_messages or [])
        self.errors = dict(errors or {})
        self.hint = hint
        self.attempts = attempts
        self.reason = reason
        self.site = site
        super().__init__(self._sentence())

    def _sentence(self) -> str:
        where = f"{self.method} {self.path}" + (f" ({self.endpoint})" if self.endpoint else "")
        if not getattr(self, "sent", True):
            head = f"{where} was not sent: " + (f"an earlier request of this run got HTTP {self.status}"
                                               if self.status else "an earlier request of this run failed")
        elif self.status is None:
            head = f"{where} failed"
        else:
            try:
                phrase = HTTPStatus(self.status).phrase
            except ValueError:
                phrase = ""
            head = f"{where} answered HTTP {self.status}" + (f" {phrase}" if phrase else "")
        if self.attempts > 1:
            head += f" after {self.attempts} attempts"
        details = [m for m in self.error_messages if m]
        details += [f"{k}: {v}" for k, v in self.errors.items()]
        if not details and self.reason:
            details.append(self.reason)
        if not getattr(self, "sent", True):
            head, details = f"{head} ({self.reason})" if self.reason else head, []
        text = head + (": " + "; ".join(d.rstrip(".") for d in details) if details else "")
        if self.hint:
            text += f". Likely cause: {self.hint.rstrip('.')}"
        return text if text.endswith(".") else text + "."

    def __reduce__(self):  # picklable across processes with all its attributes
        return (_rebuild_error, (self.__class__, self.__dict__.copy()))


class AccessSetupError(JiraError):
    """Jira was never asked: what the credentials need first failed (the cloudId lookup, the OAuth token request).
    `reason` says which request failed and how, `hint` what to fix."""


def _rebuild_error(cls, state):
    err = cls.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, err._sentence())
    return err


@dataclass
class ClientStats:
    """What one client did. Requests counts every HTTP request sent (retries and redirect hops included)."""

    requests: int = 0
    retries: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    by_error: dict[str, int] = field(default_factory=dict)  # network failures and truncated bodies, by kind
    by_endpoint: dict[str, int] = field(default_factory=dict)
    skipped_parents: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)  # "<endpoint> <status>: <message>" -> count
    skips: list[dict[str, Any]] = field(default_factory=list)  # first 1000 skips in detail
    throttle_wait_seconds: float = 0.0
    retry_wait_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _count(self, table: dict, key: Any, n: int = 1) -> None:
        with self._lock:
            table[key] = table.get(key, 0) + n

    def record_skip(self, endpoint: str, method: str, path: str, status: int | None, message: str) -> None:
        reason = f"{endpoint} {status}: {message}" if message else f"{endpoint} {status}"
        with self._lock:
            self.skipped_parents += 1
            self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1
            if len(self.skips) < 1000:
                self.skips.append(
                    {"endpoint": endpoint, "method": method, "path": path, "status": status, "message": message}
                )

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "by_status": dict(self.by_status),
                "by_error": dict(self.by_error),
                "by_endpoint": dict(self.by_endpoint),
                "skipped_parents": self.skipped_parents,
                "skip_reasons": dict(self.skip_reasons),
                "throttle_wait_seconds": round(self.throttle_wait_seconds, 3),
                "retry_wait_seconds": round(self.retry_wait_seconds, 3),
            }


class _TokenDue(Exception):
    """Raised from the trace hook, before a request's headers are written, when its access token is due."""


# A token can be due at admission only when the wait for a slot is long beside its lifetime; after this many in a
# row the request goes anyway (the gateway's 401, if any, renews the token once more).
MAX_STALE_TOKENS = 3


class _Retryable(Exception):
    """One failed attempt that may be retried."""

    def __init__(self, kind: str, status: int | None = None, wait_at_least: float | None = None,
                 response: httpx.Response | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.status = status
        self.wait_at_least = wait_at_least
        self.response = response


Validator = type | tuple | Callable[[Any], bool] | None


class JiraClient:
    """Async Jira Cloud REST client. Use as `async with JiraClient(...) as client:`.

    rate_limit: requests/second for the shared throttle (used when `throttle` is None, which selects the
    machine-wide default from `get_throttle`). timeout: read/write seconds; connect_timeout: connect seconds.
    max_attempts: attempts per request including the first; max_retry_seconds: how long a request may keep
    being retried, from its first failure (backoff waits included; time queued for throttle slots before the
    first attempt is not). backoff_base/backoff_max: first backoff and its cap, in seconds.
    """

    def __init__(
        self,
        base_url: str,
        email: str = "",
        api_token: str = "",
        *,
        credential: Credential | None = None,
        cloud_id: str | None = None,
        gateway_url: str | None = None,
        rate_limit: float = DEFAULT_RATE,
        throttle: Throttle | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_attempts: int = 6,
        max_retry_seconds: float = 300.0,
        backoff_base: float = 2.0,
        backoff_max: float = 60.0,
        max_connections: int = 64,
        scope: str = "",
    ) -> None:
        """base_url: the site (`https://acme.atlassian.net`, a proxy, the simulator). The credential is either
        `email` + `api_token` (a classic API token) or `credential` (auth.py: a scoped token, an OAuth client).
        Through the API gateway (scoped tokens, OAuth), requests go to `gateway_url` (default
        https://api.atlassian.com) + `/ex/jira/{cloud_id}`; without `cloud_id` it is looked up from the site."""
        self.site_url = validate_base_url(base_url)
        if credential is None:
            if not email or not api_token:
                raise ValueError("JiraClient needs an email and an API token (JIRA_EMAIL, JIRA_API_TOKEN)")
            credential = ApiToken(email, api_token)
        elif email or api_token:
            raise ValueError("give JiraClient either email and api_token or a credential, not both")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.credential = credential  # its secret lives only inside it and the httpx auth below
        self.email = credential.principal  # who the credentials authenticate as, for messages
        self.gateway_url = None
        self.cloud_id = validate_cloud_id(cloud_id) if cloud_id else None
        self.base_url: str | None = self.site_url  # where requests go; through the gateway, known once the cloudId is
        if credential.via_gateway:
            self.gateway_url = validate_base_url(gateway_url or DEFAULT_GATEWAY_URL, "JIRA_GATEWAY_URL")
            self.base_url = gateway_base_url(self.gateway_url, self.cloud_id) if self.cloud_id else None
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self._auth = credential.httpx_auth(httpx.Timeout(self.timeout, connect=self.connect_timeout))
        # The first request of a scope (a run) goes alone and its outcome is shared (contact.py).
        self._contact_key = contact_key(scope, self.site_url, *credential.identity())
        self._scoped = bool(scope)
        self._contact_ok = False
        self._contact_lock: asyncio.Lock | None = None
        self._gateway_lock: asyncio.Lock | None = None
        self.rate_limit = float(rate_limit)
        self._throttle = throttle
        self.max_attempts = int(max_attempts)
        self.max_retry_seconds = float(max_retry_seconds)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_connections = int(max_connections)
        self.stats = ClientStats()
        self._http: httpx.AsyncClient | None = None
        self._origin = origin(self.base_url) if self.base_url else None

    def __repr__(self) -> str:
        return (f"JiraClient(site_url={self.site_url!r}, base_url={self.base_url!r}, "
                f"credential={self.credential!r})")

    __str__ = __repr__

    @property
    def throttle(self) -> Throttle:
        # Keyed by the site, however it is reached: Jira's limits are the tenant's, whatever the credential kind.
        if self._throttle is None:
            self._throttle = get_throttle(self.site_url, self.rate_limit)
        return self._throttle

    @property
    def access_token(self) -> AccessToken | None:
        """The OAuth access token in use (None for API tokens, and before the first request)."""
        return self._auth.token if isinstance(self._auth, ClientCredentialsAuth) else None

    @property
    def token_requests(self) -> int:
        """OAuth token requests this client sent (0 for API tokens)."""
        return self._auth.token_requests if isinstance(self._auth, ClientCredentialsAuth) else 0

    async def __aenter__(self) -> JiraClient:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def open(self) -> None:
        if self._http is not None:
            return
        _ = self.throttle  # open the shared store now, so a misconfiguration fails before any request
        self._http = httpx.AsyncClient(
            base_url=self.base_url or "",
            auth=self._auth,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            # pool=None: requests beyond the pool size queue for a connection instead of failing.
            timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout, pool=None),
            limits=httpx.Limits(max_connections=self.max_connections, max_keepalive_connections=self.max_connections),
            follow_redirects=False,  # redirects are handled in `_send`, so auth never leaves the origin
        )
        await _warm_up_http_stack()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # ---- public request API ------------------------------------------------------------------------------

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None, *, endpoint: str = "",
                       expect: Validator = None) -> Any:
        return await self.request_json("GET", path, params=params, endpoint=endpoint, expect=expect)

    async def post_json(self, path: str, json: Any = None, *, params: Mapping[str, Any] | None = None,
                        endpoint: str = "", expect: Validator = None) -> Any:
        return await self.request_json("POST", path, params=params, json=json, endpoint=endpoint, expect=expect)

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        endpoint: str = "",
        expect: Validator = None,
    ) -> Any:
        """Send one logical request (with retries) and return the decoded JSON body.

        `expect` is a type, tuple of types or predicate the decoded body must satisfy; a 200 whose body
        does not is treated like a truncated body and retried.
        """
        if self._http is None:
            raise RuntimeError("use `async with JiraClient(...)` (or await client.open()) before requests")
        method = method.upper()
        endpoint = endpoint or path
        if self.base_url is None:
            await self._learn_cloud_id(method, path, endpoint)
        if self._contact_ok:
            return await self._request_with_retries(method, path, params, json, endpoint, expect)
        if self._contact_lock is None:
            self._contact_lock = asyncio.Lock()
        async with self._contact_lock:
            if self._contact_ok:
                pass
            elif not self._known_good(method, path, endpoint):
                store = self.throttle.contact
                handle = await asyncio.to_thread(store.acquire, self._contact_key)
                try:
                    if not self._known_good(method, path, endpoint):
                        try:
                            result = await self._request_with_retries(method, path, params, json, endpoint, expect)
                        except JiraError as err:
                            if not err.fatal and err.status is not None:  # Jira answered: the credentials work
                                self._record(Verdict(OK, at=time.time()))
                            raise
                        self._record(Verdict(OK, at=time.time()))
                        return result
                finally:
                    store.release(handle)
        return await self._request_with_retries(method, path, params, json, endpoint, expect)

    async def _learn_cloud_id(self, method: str, path: str, endpoint: str) -> None:
        """Through the API gateway without a given cloudId: look it up from the site (once per process)."""
        if self._gateway_lock is None:
            self._gateway_lock = asyncio.Lock()
        async with self._gateway_lock:
            if self.base_url is not None:
                return
            try:
                self.cloud_id = await discover_cloud_id(
                    self.site_url, httpx.Timeout(self.timeout, connect=self.connect_timeout))
            except AuthServiceError as err:
                raise self._access_setup_error(err, method, path, endpoint, 1, await self._unfixable(err)) from None
            self.base_url = gateway_base_url(self.gateway_url, self.cloud_id)
            self._origin = origin(self.base_url)
            self._http.base_url = self.base_url

    async def _unfixable(self, err: AuthServiceError) -> str | None:
        """Why the cloudId lookup or the token request cannot succeed on another try, if it is the network's."""
        if err.network_error is None:
            return None
        setting = None if err.url == self.site_url + TENANT_INFO_PATH else "JIRA_OAUTH_TOKEN_URL"
        return await network.unfixable_cause(err.network_error, err.url, setting)

    def _access_setup_error(self, err: AuthServiceError, method, path, endpoint, attempts: int,
                            cause: str | None) -> JiraError:
        """What a person reads when the cloudId lookup or the token endpoint failed: fatal, as a refused login is."""
        hint = cause or err.hint or ("the network did not answer properly" if err.network_error is not None else "")
        return AccessSetupError(endpoint, None, method, path, hint=hint, reason=err.what, site=self.site_url,
                                attempts=attempts, fatal=True)

    def _known_good(self, method: str, path: str, endpoint: str) -> bool:
        """True when this scope's credentials are known to work; raises the recorded error when they are known
        not to (without sending anything); False when nobody has tried yet."""
        verdict = self.throttle.contact.fresh(self._contact_key, self._scoped)
        if verdict is None:
            return False
        if verdict.bad:
            ago = time.time() - verdict.at
            raise JiraError(
                endpoint, verdict.status, method, path, hint=verdict.message, site=self.base_url, fatal=True,
                reason=f"{ago:.0f} s ago", sent=False,
            )
        self._contact_ok = True
        return True

    def _record(self, verdict: Verdict) -> None:
        if verdict.kind == OK:
            self._contact_ok = True
        try:
            self.throttle.contact.put(self._contact_key, verdict)
        except Exception as exc:  # noqa: BLE001 - sharing the verdict is an optimisation, never a failure
            logger.debug("could not record the site verdict: %s", exc)

    async def _request_with_retries(self, method, path, params, json, endpoint, expect) -> Any:
        try:
            return await self._retrying(method, path, params, json, endpoint, expect)
        except JiraError as err:
            if err.fatal:
                self._record(Verdict(REJECTED if err.status == 401 else UNREACHABLE, err.status, err.hint,
                                     time.time()))
            raise

    async def _retrying(self, method, path, params, json, endpoint, expect) -> Any:
        first_failure: float | None = None  # the retry budget runs from here, not from time queued for slots
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(method, path, params, json, endpoint, expect, attempt)
            except _Retryable as failure:
                if first_failure is None:
                    first_failure = time.monotonic()
                delay = self._backoff(attempt)
                if failure.wait_at_least is not None:
                    delay = max(delay, failure.wait_at_least)
                elapsed = time.monotonic() - first_failure
                if attempt >= self.max_attempts or elapsed + delay > self.max_retry_seconds:
                    raise self._exhausted(failure, method, path, endpoint, attempt, delay, elapsed) from None
                if failure.status == 429:
                    # Jira asked this client to slow down: every process sharing the throttle waits too.
                    await self.throttle.pause(delay)
                self.stats.retries += 1
                self.stats.retry_wait_seconds += delay
                logger.warning(
                    "%s %s (%s): %s; retry %d of %d in %.1f s",
                    method, path, endpoint, failure.kind, attempt, self.max_attempts - 1, delay,
                )
                await asyncio.sleep(delay)

    # ---- internals -----------------------------------------------------------------------------------------

    async def _attempt(self, method, path, params, json, endpoint, expect, attempt) -> Any:
        try:
            response = await self._send(method, path, params, json, endpoint)
        except AuthServiceError as err:  # the OAuth token request, made before this request could be sent
            cause = await self._unfixable(err)
            if err.retryable and cause is None:
                wait = _retry_after(err.response) if err.response is not None else None
                raise _Retryable(err.what, wait_at_least=wait) from None  # not Jira's 429: the throttle goes on
            raise self._access_setup_error(err, method, path, endpoint, attempt, cause) from None
        except _RETRY_EXCEPTIONS as exc:
            kind = type(exc).__name__
            self.stats._count(self.stats.by_error, kind)
            detail = str(exc)[:200]
            kind_text = f"{kind}: {detail}" if detail and detail != kind else kind
            setting = "JIRA_GATEWAY_URL" if self.gateway_url else None
            cause = await network.unfixable_cause(exc, self.base_url, setting)
            if cause:
                raise JiraError(endpoint, None, method, path, hint=cause, reason=kind_text, site=self.base_url,
                                attempts=attempt, fatal=True) from None
            raise _Retryable(kind_text) from None
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or (not response.content and method != "GET"):
                return None
            body, problem = _decode(response, expect)
            if problem:
                self.stats._count(self.stats.by_error, "truncated_body")
                raise _Retryable(f"HTTP {status} with {problem}", status=status, response=response)
            return body
        if status in RETRY_STATUSES:
            raise _Retryable(f"HTTP {status}", status=status, wait_at_least=_retry_after(response), response=response)
        raise self._error_from_response(response, method, path, endpoint, attempts=attempt)

    async def _send(self, method, path, params, json, endpoint) -> httpx.Response:
        """One request (plus same-origin redirect hops), each hop admitted by the throttle and counted."""
        assert self._http is not None
        url: str | httpx.URL = path
        renewed = False
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._send_one(method, url, params, json, endpoint)
            self.stats._count(self.stats.by_status, response.status_code)
            if response.status_code == 401 and isinstance(self._auth, ClientCredentialsAuth) and not renewed:
                # The gateway refused the access token (revoked, or expired by its clock): once more, with a new
                # token, in a throttle slot of its own like every request Jira sees.
                self._auth.discard(response.request)
                renewed = True
                continue
            if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
                return response
            target = response.url.join(response.headers["location"])
            if origin(str(target)) != self._origin:
                scheme, host, port = origin(str(target))
                raise JiraError(
                    endpoint, response.status_code, method, path,
                    hint=(
                        f"Jira redirected to another host ({scheme}://{host}:{port}); the connector sends "
                        f"credentials only to {self.base_url}, so it did not follow. If the site moved or was "
                        f"renamed, set JIRA_SUBDOMAIN / JIRA_BASE_URL to the new address"
                    ),
                    reason="redirect to another host", site=self.base_url,
                )
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, json = "GET", None
            url, params = target, None  # the Location already carries its query
        raise JiraError(endpoint, None, method, path, hint="too many redirects", site=self.base_url)

    async def _send_one(self, method, url, params, json, endpoint) -> httpx.Response:
        """One HTTP request through the throttle. The slot is taken from httpx's trace hook just before the
        request headers are written, so connection setup never eats into the spacing Jira sees."""
        assert self._http is not None
        stale_tokens = 0
        while True:
            async with self.throttle.slot() as ticket:
                request = self._http.build_request(method, url, params=params, json=json)
                check_token = stale_tokens < MAX_STALE_TOKENS
                request.extensions["trace"] = self._trace(ticket, request, check_token=check_token)
                try:
                    response = await self._http.send(request)
                except Paused:
                    continue  # a 429 elsewhere paused everyone while this one waited: wait outside, then retry
                except _TokenDue:
                    stale_tokens += 1
                    continue  # nothing was sent: build it again, with a new access token
                except BaseException:
                    self._count_sent(ticket, endpoint)
                    raise
                if not ticket.admitted:  # a transport that never traced: take the slot late rather than never
                    await ticket.admit()
                self._count_sent(ticket, endpoint)
                return response

    def _trace(self, ticket: Ticket, request: httpx.Request, *, check_token: bool):
        """httpx's trace hook: the ticket's (the throttle slot); with an OAuth access token, also a last look at the
        token once the slot is taken. Its header was set before the wait for the slot, and a token due by now is
        dropped before a byte is sent (the slot goes unused), so no request leaves with a token about to expire."""
        auth = self._auth
        if not isinstance(auth, ClientCredentialsAuth) or not check_token:
            return ticket.trace

        async def trace(event: str, info: dict) -> None:
            await ticket.trace(event, info)
            if event.endswith("send_request_headers.started") and auth.carries_due_token(request):
                raise _TokenDue()

        return trace

    def _count_sent(self, ticket: Ticket, endpoint: str) -> None:
        if ticket.admitted:  # a request that failed before it was written (e.g. connect error) was never sent
            self.stats.requests += 1
            self.stats._count(self.stats.by_endpoint, endpoint)
            self.stats.throttle_wait_seconds += ticket.waited

    def _backoff(self, attempt: int) -> float:
        """Atlassian's recommendation: 2, 4, 8, ... seconds, each times a random factor in [0.7, 1.3]."""
        base = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return base * random.uniform(0.7, 1.3)

    def _exhausted(self, failure: _Retryable, method, path, endpoint, attempts, next_delay, elapsed) -> JiraError:
        if attempts >= self.max_attempts:
            budget = f"gave up after {attempts} attempts in {elapsed:.0f} s (max_attempts={self.max_attempts})"
        else:
            budget = (
                f"gave up after {attempts} attempts: the next wait ({next_delay:.0f} s) would exceed "
                f"max_retry_seconds={self.max_retry_seconds:g}"
            )
        if failure.response is not None and failure.status is not None:
            err = self._error_from_response(failure.response, method, path, endpoint, attempts=attempts)
            if failure.status == 200:
                err.hint = f"the response body was not the expected JSON ({failure.kind}); {budget}"
            else:
                base_hint = HINTS.get(failure.status, "Jira or a proxy in front of it is failing")
                err.hint = f"{base_hint}; {budget}"
            err.args = (err._sentence(),)
            return err
        return JiraError(
            endpoint, None, method, path,
            hint=f"Jira or the network did not answer properly; {budget}", attempts=attempts,
            reason=failure.kind, site=self.base_url,
        )

    def _no_site_hint(self) -> str:
        if self.gateway_url:
            return (f"the API gateway at {self.gateway_url} knows no Jira site with cloudId {self.cloud_id}: check "
                    "JIRA_CLOUD_ID (unset, it is looked up from the site) and JIRA_GATEWAY_URL")
        return (f"no Jira site answers at {self.base_url}: check JIRA_SUBDOMAIN (the part before .atlassian.net) "
                "or JIRA_BASE_URL")

    def _error_from_response(self, response: httpx.Response, method, path, endpoint, *, attempts=1) -> JiraError:
        status = response.status_code
        messages, errors, reason = _parse_error_body(response)
        hint = HINTS.get(status, "")
        if status == 401:
            category = response.headers.get("x-failure-category", "")
            login = response.headers.get("x-seraph-loginreason", "")
            hint = self.credential.refused_hint()
            if "AUTH_MISMATCH" in category.upper():
                hint = SCOPED_ON_SITE_HINT
            elif "AUTHENTICATION_DENIED" in login.upper():
                hint = (
                    "Atlassian locked the account's API logins after repeated failures (CAPTCHA); log in to "
                    "the site once in a browser, then check the token and JIRA_EMAIL. " + hint
                )
        elif status == 404 and path.rstrip("/").endswith("/myself"):
            hint = self._no_site_hint()
        return JiraError(
            endpoint, status, method, path, messages, errors, hint, attempts=attempts, reason=reason,
            site=self.base_url, fatal=status == 401,
        )


async def _warm_up_http_stack() -> None:
    """Load what httpcore imports lazily on its first connection (its anyio backend, ~100-200 ms on a busy box).

    Otherwise the first request of a fresh process reaches Jira that much after the throttle admitted it, and
    can land in the same server-side second as requests admitted a second later.
    """
    try:
        import anyio
        import httpcore._backends.anyio  # noqa: F401 - the import is the point

        await anyio.sleep(0)  # loads anyio's asyncio backend
    except Exception:  # noqa: BLE001 - an optimisation only; never a reason to fail
        pass


def _decode(response: httpx.Response, expect: Validator) -> tuple[Any, str]:
    """(body, problem): problem is "" when the body is complete JSON of the expected shape."""
    content = response.content
    declared = response.headers.get("content-length")
    if declared and "content-encoding" not in response.headers:
        try:
            if int(declared) != len(content):
                return None, f"a truncated body ({len(content)} of {declared} bytes)"
        except ValueError:
            pass
    try:
        body = jsonlib.loads(content)
    except ValueError:
        ctype = response.headers.get("content-type", "")
        return None, f"a body that is not JSON ({len(content)} bytes{', ' + ctype if ctype else ''})"
    if expect is not None:
        ok = isinstance(body, expect) if isinstance(expect, (type, tuple)) else bool(expect(body))
        if not ok:
            return None, f"JSON of an unexpected shape ({type(body).__name__})"
    return body, ""


def _parse_error_body(response: httpx.Response) -> tuple[list[str], dict[str, Any], str]:
    """Jira's ErrorCollection when the body is JSON; else a short plain-text reason (HTML pages, text 401s)."""
    text = response.text if response.content else ""
    try:
        body = jsonlib.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        messages = [str(m) for m in (body.get("errorMessages") or []) if m]
        errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
        if not messages and not errors:
            for key in ("message", "errorMessage", "error"):
                if isinstance(body.get(key), str):
                    messages.append(body[key])
                    break
        return messages, dict(errors), ""
    return [], {}, _text_reason(text, response.headers.get("content-type", ""))


def _text_reason(text: str, content_type: str) -> str:
    if not text.strip():
        return "empty body"
    if "html" in content_type.lower() or text.lstrip().startswith("<"):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        stripped = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.IGNORECASE | re.DOTALL)
        stripped = re.sub(r"<[^>]+>", " ", stripped)
        stripped = re.sub(r"\s+", " ", stripped).strip()
        stripped = html.unescape(stripped)
        head = html.unescape(re.sub(r"\s+", " ", title.group(1)).strip()) if title else ""
        summary = head if head else stripped
        if head and stripped and not stripped.startswith(head):
            summary = f"{head}: {stripped}"
        return "HTML page: " + summary[:200]
    return re.sub(r"\s+", " ", text).strip()[:200]


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds Jira asked to wait: Retry-After (seconds or HTTP date), Beta-Retry-After, then X-RateLimit-Reset."""
    for name in ("retry-after", "beta-retry-after"):
        value = response.headers.get(name)
        if value:
            seconds = _parse_retry_value(value.strip())
            if seconds is not None:
                return seconds
    reset = response.headers.get("x-ratelimit-reset")
    if reset and response.status_code == 429:
        try:
            instant = datetime.fromisoformat(reset.strip().replace("Z", "+00:00"))
            if instant.tzinfo is None:
                instant = instant.replace(tzinfo=timezone.utc)
            return max(0.0, instant.timestamp() - time.time())
        except ValueError:
            return None
    return None


def _parse_retry_value(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


# ---- credential check (used by `jira-assets check` and at the start of every run) ---------------------------


@dataclass
class CredentialCheck:
    """Outcome of GET /rest/api/2/myself. `ok` and `lines()` are what the CLI prints.

    site: the site; base_url: where requests went (the site, or the API gateway with the cloudId); email: who the
    credentials authenticate as (the email, or the OAuth client); credential: the kind of credential and how it is
    sent ("<kind>, <how>"); token_expires_at: the OAuth access token's expiry (None for API tokens)."""

    ok: bool
    site: str
    email: str
    status: int | None = None
    account_id: str | None = None
    display_name: str | None = None
    email_address: str | None = None
    time_zone: str | None = None
    account_type: str | None = None
    problem: str = ""
    base_url: str | None = None
    credential: str = ""
    token_expires_at: datetime | None = None

    def lines(self) -> list[str]:
        if self.ok:
            who = self.display_name or self.account_id or "?"
            if self.email_address:
                who += f" <{self.email_address}>"
            lines = [
                f"OK: authenticated to {self.site}",
                f"account: {who} (accountId {self.account_id}, type {self.account_type or 'unknown'})",
                f"site: {self.site}",
                f"credential: {self.credential}",
                f"requests go to: {self.base_url}",
            ]
            if self.token_expires_at is not None:
                left = max(0.0, (self.token_expires_at - datetime.now(timezone.utc)).total_seconds())
                within = f"{left / 60:.0f} min" if left >= 120 else f"{left:.0f} s"
                lines.append(f"access token expires: {self.token_expires_at.isoformat(timespec='seconds')} "
                             f"(in {within}; a new one is fetched before then)")
            zone = self.time_zone or "not visible (privacy settings); JQL dates are read in the account time zone"
            lines.append(f"time zone: {zone}")
            return lines
        return [f"FAILED: {self.site} as {self.email} ({self.credential.split(',')[0]})", self.problem]

    def __str__(self) -> str:
        return "\n".join(self.lines())


async def check_credentials(client: JiraClient) -> CredentialCheck:
    """Validate the client's credentials with GET /rest/api/2/myself and explain any failure."""
    site, email_ = client.site_url, client.email
    common = {"site": site, "email": email_, "credential": client.credential.describe()}
    try:
        me = await client.get_json("/rest/api/2/myself", endpoint="myself", expect=dict)
    except JiraError as err:
        return CredentialCheck(ok=False, status=err.status, problem=_check_problem(err, client),
                               base_url=client.base_url, **common)
    if not me.get("accountId"):
        return CredentialCheck(
            ok=False, status=200, base_url=client.base_url,
            problem=(
                "Jira answered /myself without an account: it treated the request as anonymous, so the "
                "credentials were not accepted. " + client.credential.refused_hint()
            ),
            **common,
        )
    token = client.access_token
    return CredentialCheck(
        ok=True, status=200, base_url=client.base_url,
        account_id=me.get("accountId"), display_name=me.get("displayName"), email_address=me.get("emailAddress"),
        time_zone=me.get("timeZone"), account_type=me.get("accountType"),
        token_expires_at=token.expires_at if token is not None else None, **common,
    )


def _check_problem(err: JiraError, client: JiraClient) -> str:
    email_ = client.email
    if err.status == 401:
        if client.credential.kind == CLASSIC_TOKEN and err.hint == CLASSIC_TOKEN_REFUSED:
            cause = (
                f"either the API token is wrong or expired (Atlassian API tokens expire after at most one year; "
                f"create a new one at {TOKEN_HELP_URL} and update JIRA_API_TOKEN), or JIRA_EMAIL ({email_}) is "
                f"not the email address of the Atlassian account that owns the token"
            )
        else:
            cause = err.hint
        return f"Jira rejected the credentials (HTTP 401): {cause}."
    if err.status == 403:
        detail = "; ".join(err.error_messages) or err.reason
        return (
            "Jira authenticated the request but refused it (HTTP 403"
            + (f": {detail}" if detail else "")
            + "): the account may be deactivated, have no access to Jira on this site, or the site's "
            "authentication policy may block API tokens."
        )
    if err.status == 404:
        if client.gateway_url:
            return (f"No such Jira site: {client.base_url} answered HTTP 404 for /rest/api/2/myself: "
                    f"{client._no_site_hint()}.")
        return (
            f"No such Jira site: {client.base_url} answered HTTP 404 for /rest/api/2/myself. Check JIRA_SUBDOMAIN "
            f"(the `acme` in https://acme.atlassian.net) or JIRA_BASE_URL."
        )
    if err.status in REDIRECT_STATUSES:
        return f"{err}"
    if err.status is None:
        if isinstance(err, AccessSetupError):
            return f"{err.reason}: {err.hint}."
        return (f"Could not reach {client.base_url or client.site_url}: {err.reason or err}. Check the address "
                "and the network (proxy, firewall).")
    return str(err)
