"""JiraResource: the Dagster face of the source side; everything below it (jira_assets.jira) is plain Python.

Configuration (environment, read by `JiraResource.from_env()`; README "Configuration" and "Credentials"):
    JIRA_SUBDOMAIN   bare site name: `acme` for https://acme.atlassian.net
    JIRA_BASE_URL    optional: overrides https://<subdomain>.atlassian.net (proxy, custom domain, simulator)
    JIRA_AUTH        token (default: a classic API token) | scoped-token | oauth (a service account's OAuth client)
    JIRA_EMAIL, JIRA_API_TOKEN                       the account's email and its API token (token, scoped-token)
    JIRA_OAUTH_CLIENT_ID, JIRA_OAUTH_CLIENT_SECRET   the service account's OAuth 2.0 credential (oauth)
    JIRA_CLOUD_ID    optional: the site's cloudId (scoped-token, oauth); unset, it is looked up from the site
    JIRA_GATEWAY_URL / JIRA_OAUTH_TOKEN_URL          optional: the API gateway / token endpoint (proxy, simulator)
    JIRA_RATE_LIMIT  optional: requests/second for the whole machine, default 5
    JIRA_JQL_FILTER, JIRA_START_DATE, JIRA_CUSTOM_FIELDS, JIRA_FLOW_*   what to sync; a site may set its own
    JIRA_THROTTLE_DB / JIRA_THROTTLE_REDIS_URL  where the shared throttle lives (see jira_assets.jira.throttle)

Secrets (the API token, the client secret) are configured through `EnvVar`, so Dagster's UI shows the variable's
name, never its value; the resource's repr masks them too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from jira_assets.env import env_number
from jira_assets.jira import calls
from jira_assets.jira.auth import (
    DEFAULT_TOKEN_URL, OAUTH, SCOPED_TOKEN, ApiToken, Credential, OAuthClientCredentials,
)
from jira_assets.jira.client import CredentialCheck, JiraClient, check_credentials
from jira_assets.jira.site import resolve_base_url, site_name, validate_base_url
from jira_assets.jira.throttle import DEFAULT_RATE
from jira_assets.settings import (
    AUTH_ENV, CLOUD_ID_ENV, GATEWAY_URL_ENV, OAUTH_CLIENT_ID_ENV, OAUTH_CLIENT_SECRET_ENV, OAUTH_TOKEN_URL_ENV,
    RATE_LIMIT_ENV, auth_kind, clean_secret,
)

T = TypeVar("T")
_SECRET_FIELDS = frozenset({"api_token", "oauth_client_secret"})


class JiraResource(ConfigurableResource):
    """Credentials, site and request policy for Jira Cloud; `client()` returns a configured `JiraClient`."""

    subdomain: str | None = Field(
        default=None,
        description="Bare site name, e.g. `acme` for https://acme.atlassian.net (env JIRA_SUBDOMAIN). "
        "Not needed when base_url is set.",
    )
    auth: str = Field(
        default="token",
        description="Which Atlassian credential (env JIRA_AUTH): `token`, a classic API token (HTTP Basic on the "
        "site URL); `scoped-token`, a scoped API token (HTTP Basic through the API gateway); `oauth`, a service "
        "account's OAuth 2.0 client credentials (Bearer tokens through the API gateway).",
    )
    email: str | None = Field(
        default=None,
        description="Email of the Atlassian account that owns the API token (env JIRA_EMAIL); token and "
        "scoped-token.",
    )
    api_token: str | None = Field(
        default=None,
        description="Atlassian API token, classic or scoped (env JIRA_API_TOKEN). Always pass "
        "EnvVar('JIRA_API_TOKEN') so the UI shows the variable's name, not the token.",
    )
    oauth_client_id: str | None = Field(
        default=None, description="Client id of the service account's OAuth 2.0 credential (env JIRA_OAUTH_CLIENT_ID)."
    )
    oauth_client_secret: str | None = Field(
        default=None,
        description="Client secret of that credential (env JIRA_OAUTH_CLIENT_SECRET). Always pass "
        "EnvVar('JIRA_OAUTH_CLIENT_SECRET') so the UI shows the variable's name, not the secret.",
    )
    cloud_id: str | None = Field(
        default=None,
        description="The site's cloudId, for requests through the API gateway (env JIRA_CLOUD_ID). Unset: looked "
        "up from the site's /_edge/tenant_info.",
    )
    gateway_url: str | None = Field(
        default=None,
        description="The API gateway (env JIRA_GATEWAY_URL), default https://api.atlassian.com; requests go to "
        "<gateway>/ex/jira/<cloudId>. https:// only, except loopback addresses.",
    )
    oauth_token_url: str | None = Field(
        default=None,
        description=f"The OAuth 2.0 token endpoint (env JIRA_OAUTH_TOKEN_URL), default {DEFAULT_TOKEN_URL}.",
    )
    base_url: str | None = Field(
        default=None,
        description="Overrides https://<subdomain>.atlassian.net (env JIRA_BASE_URL): a proxy, custom domain or "
        "the simulator. https:// only, except loopback addresses.",
    )
    site: str | None = Field(
        default=None,
        description="The site's name in every table's `site` column (env JIRA_SITE); default: the subdomain, "
        "else the base URL's host. Rows of several sites can then share one table.",
    )
    rate_limit: float | None = Field(
        default=None,
        description="Requests/second for every process on this machine together. Unset: env JIRA_RATE_LIMIT "
        "at run time, else 5.",
    )
    jql_filter: str | None = Field(
        default=None, description="Restricts issues and their children to a JQL clause. Unset: env JIRA_JQL_FILTER.")
    start_date: str | None = Field(
        default=None, description="yyyy-mm-dd: only issues updated on or after it. Unset: env JIRA_START_DATE.")
    custom_fields: str | None = Field(
        default=None, description="Which custom fields get typed columns on issue_search (used, all, none, ids or "
        "names, -<id or name>). Unset: env JIRA_CUSTOM_FIELDS.")
    flow_commitment: str | None = Field(
        default=None, description="issue_flow's commitment stage. Unset: env JIRA_FLOW_COMMITMENT.")
    flow_done: str | None = Field(default=None, description="issue_flow's done stage. Unset: env JIRA_FLOW_DONE.")
    timeout_seconds: float = Field(default=30.0, description="Read/write timeout per request, seconds.")
    connect_timeout_seconds: float = Field(default=10.0, description="Connect timeout per request, seconds.")
    max_attempts: int = Field(default=6, description="Attempts per request, the first included (retries = n - 1).")
    max_retry_seconds: float = Field(
        default=300.0, description="Longest time one request may spend being retried, waits included, seconds."
    )
    backoff_base_seconds: float = Field(
        default=2.0, description="First retry wait when Jira gives no Retry-After; doubles per attempt (x0.7-1.3 "
        "jitter), seconds. Retry-After, when sent, is always the minimum wait."
    )

    @classmethod
    def from_env(cls) -> JiraResource:
        """Everything from environment variables via EnvVar (resolved when a run starts, never shown in the UI).

        JIRA_SUBDOMAIN is required unless JIRA_BASE_URL is set; the credential's variables are those of the kind
        JIRA_AUTH names; optional ones are read only when set; JIRA_RATE_LIMIT is read at run time.
        """
        env = os.environ
        kwargs: dict[str, Any] = {}
        if env.get("JIRA_SITE", "").strip():
            kwargs["site"] = env["JIRA_SITE"].strip()
        try:
            kind = auth_kind(env.get(AUTH_ENV))
        except ValueError:  # reported by settings.jira_connection_problems before anything runs
            kind = None
        if env.get(AUTH_ENV, "").strip():
            kwargs["auth"] = EnvVar(AUTH_ENV)
        if kind == OAUTH:
            kwargs.update(oauth_client_id=EnvVar(OAUTH_CLIENT_ID_ENV),
                          oauth_client_secret=EnvVar(OAUTH_CLIENT_SECRET_ENV))
        else:
            kwargs.update(email=EnvVar("JIRA_EMAIL"), api_token=EnvVar("JIRA_API_TOKEN"))
        optional = {"cloud_id": CLOUD_ID_ENV, "gateway_url": GATEWAY_URL_ENV, "oauth_token_url": OAUTH_TOKEN_URL_ENV}
        for field, name in optional.items():
            if env.get(name, "").strip():
                kwargs[field] = EnvVar(name)
        has_base_url = bool(env.get("JIRA_BASE_URL"))
        if has_base_url:
            kwargs["base_url"] = EnvVar("JIRA_BASE_URL")
        if env.get("JIRA_SUBDOMAIN") or not has_base_url:
            kwargs["subdomain"] = EnvVar("JIRA_SUBDOMAIN")
        return cls(**kwargs)

    # ---- what the asset layer and the CLI use ----------------------------------------------------------------

    @property
    def site_name(self) -> str:
        """What this site's rows carry in the `site` column: stable across runs (never a port or a path)."""
        return site_name(self.site, self.subdomain, self.base_url)

    @property
    def site_url(self) -> str:
        """The validated site URL: where classic-token requests go, and what names the tenant for the throttle and
        the cloudId lookup. Raises SiteConfigError with what to set."""
        return resolve_base_url(self.subdomain, self.base_url)

    def settings_env(self) -> dict[str, str]:
        """The settings the sync reads for this site: the environment, overlaid with what the site sets itself."""
        own = {"JIRA_JQL_FILTER": self.jql_filter, "JIRA_START_DATE": self.start_date,
               "JIRA_CUSTOM_FIELDS": self.custom_fields, "JIRA_FLOW_COMMITMENT": self.flow_commitment,
               "JIRA_FLOW_DONE": self.flow_done}
        return {**os.environ, **{name: value for name, value in own.items() if value is not None}}

    def credential(self) -> Credential:
        """The credential of the kind `auth` names (ValueError, naming the setting, when it is unusable)."""
        kind = auth_kind(self.auth)
        if kind == OAUTH:
            client_id, secret = clean_secret(self.oauth_client_id), clean_secret(self.oauth_client_secret)
            if not client_id or not secret:
                raise ValueError(f"JIRA_AUTH=oauth needs {OAUTH_CLIENT_ID_ENV} and {OAUTH_CLIENT_SECRET_ENV}")
            token_url = validate_base_url(self.oauth_token_url or DEFAULT_TOKEN_URL, OAUTH_TOKEN_URL_ENV)
            return OAuthClientCredentials(client_id, secret, token_url)
        email, token = clean_secret(self.email), clean_secret(self.api_token)
        if not email or not token:
            raise ValueError(f"JIRA_AUTH={kind} needs JIRA_EMAIL and JIRA_API_TOKEN")
        return ApiToken(email, token, scoped=kind == SCOPED_TOKEN)

    def effective_rate_limit(self) -> float:
        if self.rate_limit is not None:
            return float(self.rate_limit)
        # Dagster's EnvVar cannot fill a float field, so the rate is read when the run starts.
        return env_number(RATE_LIMIT_ENV, DEFAULT_RATE, above=0, what="a number of requests per second")

    def client(self, **overrides: Any) -> JiraClient:
        """A new JiraClient for this site (use it as `async with resource.client() as client:`).

        Clients in one process share the machine-wide throttle. `overrides` go to JiraClient (e.g. throttle=...).
        """
        options: dict[str, Any] = {
            "rate_limit": self.effective_rate_limit(),
            "timeout": self.timeout_seconds,
            "connect_timeout": self.connect_timeout_seconds,
            "max_attempts": self.max_attempts,
            "max_retry_seconds": self.max_retry_seconds,
            "backoff_base": self.backoff_base_seconds,
        }
        credential = self.credential()
        if credential.via_gateway:
            options.update(cloud_id=self.cloud_id or None, gateway_url=self.gateway_url or None)
        options.update(overrides)
        return JiraClient(self.site_url, credential=credential, **options)

    def run(self, call: Callable[[JiraClient], Awaitable[T]], **overrides: Any) -> T:
        """Run one async source call (`await call(client)`) on a fresh client, synchronously."""

        async def go() -> T:
            async with self.client(**overrides) as client:
                return await call(client)

        return asyncio.run(go())

    def approximate_count(self, jql: str, endpoint: str) -> int:
        """POST search/approximate-count for `jql`: one cheap request. Synchronous."""
        return self.run(lambda client: calls.approximate_count(client, jql, endpoint))

    def check_credentials(self, **overrides: Any) -> CredentialCheck:
        """GET /rest/api/2/myself; the result says who is authenticated, or what to fix. Synchronous."""
        return self.run(check_credentials, **overrides)

    # ---- never show a secret ------------------------------------------------------------------------------------

    def __repr_args__(self):
        for name, value in super().__repr_args__():
            yield name, ("***" if name in _SECRET_FIELDS and value else value)
