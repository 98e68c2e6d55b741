"""JiraComponent: the Dagster component that adds Jira Cloud to any `dg` project (README "Use it in your own Dagster
project").

    dg scaffold defs jira_assets.JiraComponent jira_acme     # writes defs/jira_acme/defs.yaml

A component instance lists one or more sites, each with its own credential (the names of the environment variables
that hold it, never the values) and its own throttle bucket, and says which endpoints become assets, which custom
fields get columns, where the lake is and how Snowflake follows it. This repository's own `definitions.py` is one
instance of it, built from the environment (`JiraComponent.from_env()`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from dagster import Component, ComponentLoadContext, Definitions, EnvVar, Model, Resolvable, Scaffolder, ScaffoldRequest
from dagster.components.scaffold.scaffold import scaffold_with
from pydantic import Field, PrivateAttr, model_validator

from jira_assets.defs.checks import parse_tolerance
from jira_assets.defs.definitions import SiteDefinition, build_definitions, settings_problems, step_executor
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.defs.resources import JiraResource
from jira_assets.defs.site import SiteNames
from jira_assets.defs.snowflake import MODE_ENV, snowflake_sync_from_env
from jira_assets.jira.auth import OAUTH
from jira_assets.lake.catalog import DEFAULT_NAMESPACE
from jira_assets.selection import enabled_endpoints
from jira_assets.derived.flow import FlowStages
from jira_assets.settings import (
    AUTH_ENV, CLOUD_ID_ENV, GATEWAY_URL_ENV, OAUTH_CLIENT_ID_ENV, OAUTH_CLIENT_SECRET_ENV, OAUTH_TOKEN_URL_ENV,
    RATE_LIMIT_ENV, SettingsError, collect, jira_connection_problems,
)
from jira_assets.sync.custom_columns import FieldSelection
from jira_assets.sync.scope import IncrementalSettings

_DEFS_FOLDER_PREFIX = re.compile(r"^jira[_-]?")


class JiraSite(Model):
    """One Jira Cloud site and the credential that reads it."""

    name: str = Field(description="The site's name in this deployment: the `site` column of every row, and (with "
                      "several sites) the prefix of its asset keys, resources, jobs and schedules, e.g. `acme`.")
    subdomain: str | None = Field(default=None, description="`acme` for https://acme.atlassian.net.")
    base_url: str | None = Field(default=None, description="Instead of subdomain: the site's URL (a proxy, a custom "
                                 "domain, the simulator); http:// only on loopback.")
    auth: Literal["token", "scoped-token", "oauth"] = Field(
        default="token", description="token: a classic API token on the site URL; scoped-token: a scoped API token "
        "through the API gateway; oauth: a service account's OAuth 2.0 client credentials through the gateway.")
    email_env: str = Field(default="JIRA_EMAIL", description="Environment variable holding the account's email "
                           "(token, scoped-token).")
    api_token_env: str = Field(default="JIRA_API_TOKEN", description="Environment variable holding the API token "
                               "(token, scoped-token).")
    oauth_client_id_env: str = Field(default="JIRA_OAUTH_CLIENT_ID", description="Environment variable holding the "
                                     "OAuth client id (oauth).")
    oauth_client_secret_env: str = Field(default="JIRA_OAUTH_CLIENT_SECRET", description="Environment variable "
                                         "holding the OAuth client secret (oauth).")
    cloud_id: str | None = Field(default=None, description="The site's cloudId (scoped-token, oauth); unset, it is "
                                 "looked up from the site.")
    gateway_url: str | None = Field(default=None, description="The API gateway, default https://api.atlassian.com.")
    oauth_token_url: str | None = Field(default=None, description="The OAuth token endpoint, default Atlassian's.")
    rate_limit: float | None = Field(default=None, description="Requests/second for this site across the machine "
                                     "(Jira's limits are per site); unset: JIRA_RATE_LIMIT, else 5.")
    jql_filter: str | None = Field(default=None, description="Restrict issues (and their changelogs, comments, "
                                   "worklogs) to a JQL clause; unset: JIRA_JQL_FILTER.")
    start_date: str | None = Field(default=None, description="yyyy-mm-dd: only issues updated on or after it; "
                                   "unset: JIRA_START_DATE.")
    custom_fields: str | None = Field(default=None, description="Which custom fields get typed columns: `used`, "
                                      "`all`, `none`, plus field ids or names, `-<id or name>` to leave one out; "
                                      "unset: JIRA_CUSTOM_FIELDS, else used.")
    flow_commitment: str | None = Field(default=None, description="issue_flow's commitment statuses; unset: "
                                        "JIRA_FLOW_COMMITMENT.")
    flow_done: str | None = Field(default=None, description="issue_flow's done statuses; unset: JIRA_FLOW_DONE.")

    @model_validator(mode="after")
    def _one_address(self) -> JiraSite:
        SiteNames(self.name)  # raises with the rule a name must follow
        if not self.subdomain and not self.base_url:
            raise ValueError(f"site {self.name!r}: set subdomain (acme for https://acme.atlassian.net) or base_url")
        return self

    def resource(self) -> JiraResource:
        """The site's JiraResource: secrets as EnvVars (resolved when a run starts, shown by name in the UI)."""
        credential: dict[str, Any]
        if self.auth == OAUTH:
            credential = {"oauth_client_id": EnvVar(self.oauth_client_id_env),
                          "oauth_client_secret": EnvVar(self.oauth_client_secret_env)}
        else:
            credential = {"email": EnvVar(self.email_env), "api_token": EnvVar(self.api_token_env)}
        plain = {"subdomain": self.subdomain, "base_url": self.base_url, "cloud_id": self.cloud_id,
                 "gateway_url": self.gateway_url, "oauth_token_url": self.oauth_token_url,
                 "rate_limit": self.rate_limit, "jql_filter": self.jql_filter, "start_date": self.start_date,
                 "custom_fields": self.custom_fields, "flow_commitment": self.flow_commitment,
                 "flow_done": self.flow_done}
        return JiraResource(site=self.name, auth=self.auth, **credential,
                            **{k: v for k, v in plain.items() if v is not None})

    def settings_env(self) -> dict[str, str]:
        """The environment as this site's settings read it: its own values under the standard names."""
        own = {AUTH_ENV: self.auth, "JIRA_SUBDOMAIN": self.subdomain, "JIRA_BASE_URL": self.base_url,
               CLOUD_ID_ENV: self.cloud_id, GATEWAY_URL_ENV: self.gateway_url,
               OAUTH_TOKEN_URL_ENV: self.oauth_token_url,
               RATE_LIMIT_ENV: None if self.rate_limit is None else str(self.rate_limit)}
        env = {**os.environ, **{name: value or "" for name, value in own.items()}}
        env.update(self.resource().settings_env())
        return env

    def problems(self) -> list[str]:
        """One line per unusable setting of this site, naming the site's own credential variables."""
        env = self.settings_env()
        names = {"JIRA_EMAIL": self.email_env, "JIRA_API_TOKEN": self.api_token_env,
                 OAUTH_CLIENT_ID_ENV: self.oauth_client_id_env, OAUTH_CLIENT_SECRET_ENV: self.oauth_client_secret_env}
        problems = jira_connection_problems(env, secret_names=names)
        for read in (IncrementalSettings.from_env, FlowStages.from_env, FieldSelection.from_env):
            problems += collect(lambda: read(env))
        return problems


class JiraLake(Model):
    """Where the tables go: the embedded lake, or any pyiceberg catalog."""

    lake_dir: str | None = Field(default=None, description="The embedded lake (SQLite catalog and warehouse) "
                                 "directory; unset: JIRA_ASSETS_LAKE_DIR, else .jira_lake.")
    catalog_properties: dict[str, str] | None = Field(
        default=None, description="pyiceberg catalog properties (type: rest, uri: ..., warehouse: ...); they replace "
        "the embedded lake.")
    namespace: str = Field(default=DEFAULT_NAMESPACE, description="The Iceberg namespace (Snowflake schema).")
    namespace_per_site: bool = Field(default=False, description="true: each site's tables in a namespace of their "
                                     "own, `<namespace>_<site>`; false: all sites side by side, told apart by the "
                                     "`site` column.")
    target_file_mb: int = Field(default=32, description="Size of the Parquet data files written, MB.")

    def io_manager(self, site: str | None, snowflake) -> IcebergIOManager:
        namespace = f"{self.namespace}_{site}" if self.namespace_per_site and site else self.namespace
        fields: dict[str, Any] = {"namespace": namespace, "target_file_mb": self.target_file_mb}
        if self.lake_dir is not None:
            fields["lake_dir"] = self.lake_dir
        if self.catalog_properties:
            fields["catalog_properties"] = dict(self.catalog_properties)
        if snowflake is not None:
            fields["snowflake"] = snowflake.model_copy(update={"namespace": namespace})
        return IcebergIOManager(**fields)


class JiraSnowflake(Model):
    """How Snowflake follows the lake (docs/snowflake.md); connection settings come from SNOWFLAKE_* variables."""

    mode: Literal["none", "horizon", "rest", "object-store"] = Field(
        default="none", description="none: Snowflake reads nothing from here; horizon / rest: Snowflake follows the "
        "catalog itself; object-store: every commit is followed by ALTER ICEBERG TABLE ... REFRESH.")


class JiraComponentScaffolder(Scaffolder):
    """`dg scaffold defs jira_assets.JiraComponent jira_acme`: a defs.yaml for the site `acme`, every setting shown."""

    def scaffold(self, request: ScaffoldRequest) -> None:
        target = Path(request.target_path)
        target.mkdir(parents=True, exist_ok=True)
        site = _DEFS_FOLDER_PREFIX.sub("", target.name).replace("-", "_").lower() or "jira"
        if not re.match(r"^[a-z]", site):
            site = f"site_{site}"
        (target / "defs.yaml").write_text(SCAFFOLD_YAML.format(type_name=request.type_name, site=site))


SCAFFOLD_YAML = """\
type: {type_name}

attributes:
  sites:
    - name: {site}
      subdomain: {site}                 # https://{site}.atlassian.net (or base_url: https://jira.example.com)
      auth: token                       # token | scoped-token | oauth
      email_env: JIRA_EMAIL             # the names of the variables holding the credential, never the values
      api_token_env: JIRA_API_TOKEN
      # oauth_client_id_env: JIRA_OAUTH_CLIENT_ID
      # oauth_client_secret_env: JIRA_OAUTH_CLIENT_SECRET
      # cloud_id: 00000000-0000-0000-0000-000000000000
      # rate_limit: 5                   # requests/second for this site
      # jql_filter: project in (OPS, WEB)
      # start_date: "2024-01-01"
      custom_fields: used               # used | all | none, plus ids or names; -<id or name> leaves one out
  include: default                      # default | all | admin | endpoint names, comma-separated
  exclude: ""                           # e.g. admin, for an account without Jira admin rights
  lake:
    lake_dir: .jira_lake                # the embedded lake; or catalog_properties: {{type: rest, uri: ...}}
    namespace: jira
    namespace_per_site: false
  snowflake:
    mode: none                          # none | horizon | rest | object-store (docs/snowflake.md)
"""


@scaffold_with(JiraComponentScaffolder)
class JiraComponent(Component, Resolvable, Model):
    """Jira Cloud as Iceberg tables: every endpoint an asset with its checks, the jobs, schedules and sensors that
    keep them fresh, for one site or several."""

    sites: list[JiraSite] = Field(description="The Jira sites this instance syncs, each with its own credential.")
    include: str | list[str] = Field(default="default", description="Tables to define as assets: `default`, `all`, "
                                     "`admin` or endpoint names.")
    exclude: str | list[str] = Field(default="", description="Tables to leave out, same words.")
    lake: JiraLake = Field(default_factory=JiraLake, description="Where the tables go.")
    snowflake: JiraSnowflake = Field(default_factory=JiraSnowflake, description="How Snowflake follows the lake.")
    prefix_with_site: bool | None = Field(
        default=None, description="Prefix asset keys, resources, jobs and schedules with the site's name. Unset: "
        "only when this instance has several sites. Set true when several instances (one per site) share a project.")

    _from_environment: bool = PrivateAttr(default=False)

    @classmethod
    def from_env(cls) -> JiraComponent:
        """The one-site instance the environment describes (README "Configuration"): this repository's own. Its
        resource reads JIRA_* through EnvVars when a run starts; its lake and Snowflake follow JIRA_ASSETS_*."""
        env = os.environ
        component = cls.model_construct(
            sites=[], include=env.get("JIRA_ASSETS_INCLUDE", ""), exclude=env.get("JIRA_ASSETS_EXCLUDE", ""),
            lake=JiraLake(), snowflake=JiraSnowflake(), prefix_with_site=False)
        component._from_environment = True
        return component

    # ---- the definitions ------------------------------------------------------------------------------------

    def endpoint_names(self) -> list[str]:
        return enabled_endpoints(_words(self.include), _words(self.exclude))

    def site_definitions(self) -> list[SiteDefinition]:
        if self._from_environment:
            # With JIRA_ASSETS_SNOWFLAKE_MODE=object-store, every commit is followed by ALTER ICEBERG TABLE ... REFRESH.
            return [SiteDefinition(JiraResource.from_env(), IcebergIOManager(snowflake=snowflake_sync_from_env()),
                                   SiteNames())]
        names = [site.name for site in self.sites]
        duplicate = sorted({n for n in names if names.count(n) > 1})
        if duplicate:
            raise ValueError(f"two sites are both named {duplicate[0]!r}: give each its own name")
        prefixed = len(self.sites) > 1 if self.prefix_with_site is None else self.prefix_with_site
        snowflake = None
        if self.snowflake.mode != "none":
            snowflake = snowflake_sync_from_env({**os.environ, MODE_ENV: self.snowflake.mode})
        return [SiteDefinition(site.resource(), self.lake.io_manager(site.name, snowflake),
                               SiteNames(site.name) if prefixed else SiteNames())
                for site in self.sites]

    def problems(self) -> list[str]:
        """One line per unusable setting of this instance, before anything runs."""
        if self._from_environment:
            return settings_problems()
        problems = collect(self.endpoint_names)
        if not self.sites:
            problems.append("sites is empty: list at least one Jira site")
        for site in self.sites:
            problems += [f"site {site.name}: {p}" for p in site.problems()]
        for read in (parse_tolerance, step_executor):
            problems += collect(read)
        if self.snowflake.mode != "none":
            problems += collect(lambda: snowflake_sync_from_env({**os.environ, MODE_ENV: self.snowflake.mode}))
        return problems

    def definitions(self) -> Definitions:
        """Every asset, check, job, schedule and sensor of this instance; SettingsError lists each bad setting."""
        problems = self.problems()
        if problems:
            raise SettingsError(problems)
        return build_definitions(self.endpoint_names(), self.site_definitions())

    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        return self.definitions()


def _words(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else ",".join(value)

