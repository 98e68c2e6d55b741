"""JiraResource: the Dagster face of the source side; everything below it (jira_assets.jira) is plain Python.

Configuration (environment, read by `JiraResource.from_env()`):
    JIRA_SUBDOMAIN   bare site name: `acme` for https://acme.atlassian.net
    JIRA_EMAIL       email of the Atlassian account that owns the API token
    JIRA_API_TOKEN   the API token (classic token; Basic auth)
    JIRA_BASE_URL    optional: overrides https://<subdomain>.atlassian.net (proxy, custom domain, simulator)
    JIRA_RATE_LIMIT  optional: requests/second for the whole machine, default 5
    JIRA_THROTTLE_DB / JIRA_THROTTLE_REDIS_URL  where the shared throttle lives (see jira_assets.jira.throttle)

The token is configured through `EnvVar`, so Dagster's UI shows the variable's name, never its value; the
resource's repr masks it too.
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
from jira_assets.jira.client import CredentialCheck, JiraClient, check_credentials
from jira_assets.jira.site import resolve_base_url, site_name
from jira_assets.jira.throttle import DEFAULT_RATE
from jira_assets.settings import RATE_LIMIT_ENV, clean_secret

T = TypeVar("T")
_SECRET_FIELDS = frozenset({"api_token"})


class JiraResource(ConfigurableResource):
    """Credentials, site and request policy for Jira Cloud; `client()` returns a configured `JiraClient`."""

    subdomain: str | None = Field(
        default=None,
        description="Bare site name, e.g. `acme` for https://acme.atlassian.net (env JIRA_SUBDOMAIN). "
        "Not needed when base_url is set.",
    )
    email: str = Field(description="Email of the Atlassian account that owns the API token (env JIRA_EMAIL).")
    api_token: str = Field(
        description="Atlassian API token (env JIRA_API_TOKEN). Always pass EnvVar('JIRA_API_TOKEN') so the UI "
        "shows the variable's name, not the token."
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

        JIRA_SUBDOMAIN is required unless JIRA_BASE_URL is set; JIRA_RATE_LIMIT is read at run time.
        """
        kwargs: dict[str, Any] = {"email": EnvVar("JIRA_EMAIL"), "api_token": EnvVar("JIRA_API_TOKEN")}
        if os.environ.get("JIRA_SITE", "").strip():
            kwargs["site"] = os.environ["JIRA_SITE"].strip()
        has_base_url = bool(os.environ.get("JIRA_BASE_URL"))
        if has_base_url:
            kwargs["base_url"] = EnvVar("JIRA_BASE_URL")
        if os.environ.get("JIRA_SUBDOMAIN") or not has_base_url:
            kwargs["subdomain"] = EnvVar("JIRA_SUBDOMAIN")
        return cls(**kwargs)

    # ---- what the asset layer and the CLI use ----------------------------------------------------------------

    @property
    def site_name(self) -> str:
        """What this site's rows carry in the `site` column: stable across runs (never a port or a path)."""
        return site_name(self.site, self.subdomain, self.base_url)

    @property
    def site_url(self) -> str:
        """The validated base URL requests (and credentials) go to. Raises SiteConfigError with what to set."""
        return resolve_base_url(self.subdomain, self.base_url)

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
        options.update(overrides)
        return JiraClient(self.site_url, clean_secret(self.email), clean_secret(self.api_token), **options)

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

    # ---- never show the token ------------------------------------------------------------------------------------

    def __repr_args__(self):
        for name, value in super().__repr_args__():
            yield name, ("***" if name in _SECRET_FIELDS and value else value)
