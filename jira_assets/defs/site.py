"""How one Jira site's definitions are named in a deployment.

A deployment of one site keeps the plain names (`issue_search`, resources `jira` and `lake`, job
`jira_issues_incremental`), so `dagster asset materialize --select issue_search+` works as it always has. A
deployment of several sites gives each its own asset key prefix (`acme/issue_search`), resources (`jira_acme`,
`lake_acme`), jobs, schedules, sensors and issues lane, so a site that fails fails only its own assets and runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dagster import AssetKey

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class SiteNames:
    """`prefix` None: the deployment's only site, under the plain names."""

    prefix: str | None = None

    def __post_init__(self) -> None:
        if self.prefix is not None and not _NAME.match(self.prefix):
            raise ValueError(f"site name {self.prefix!r} must be lowercase letters, digits and underscores, starting "
                             "with a letter (it prefixes asset keys and job names), e.g. acme or acme_eu")

    def key(self, table: str) -> AssetKey:
        return AssetKey([self.prefix, table]) if self.prefix else AssetKey(table)

    def op(self, table: str) -> str:
        return f"{self.prefix}__{table}" if self.prefix else table

    def named(self, base: str) -> str:
        """A job, schedule or sensor name of this site."""
        return f"{base}_{self.prefix}" if self.prefix else base

    @property
    def jira_key(self) -> str:
        return f"jira_{self.prefix}" if self.prefix else "jira"

    @property
    def lake_key(self) -> str:
        return f"lake_{self.prefix}" if self.prefix else "lake"

    @property
    def issues_lane(self) -> str:
        """The run-queue lane of this site's issues runs: one at a time per site (dagster.yaml)."""
        return f"issues:{self.prefix}" if self.prefix else "issues"


ONLY_SITE = SiteNames()
