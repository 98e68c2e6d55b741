"""The Definitions of one deployment: every enabled endpoint as an asset (with its checks), the jobs, schedules and
sensors that keep them fresh, the Jira resource and the Iceberg IO manager."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dagster import AssetSelection, Definitions, define_asset_job, multiprocess_executor

from jira_assets.derived.flow import FlowStages
from jira_assets.defs.assets import build_assets
from jira_assets.defs.automation import LANE_TAG, automation_definitions
from jira_assets.defs.checks import parse_tolerance
from jira_assets.defs.io_manager import IcebergIOManager, metadata_versions_from_env
from jira_assets.defs.maintenance import maintenance_definitions
from jira_assets.defs.resources import JiraResource
from jira_assets.defs.site import SiteNames
from jira_assets.defs.snowflake import snowflake_sync_from_env
from jira_assets.env import env_number
from jira_assets.selection import enabled_endpoints
from jira_assets.settings import collect, jira_connection_problems
from jira_assets.sync.scope import IncrementalSettings

SYNC_ALL_JOB = "jira_sync_all"


@dataclass(frozen=True)
class SiteDefinition:
    """One Jira site of a deployment: its credentials and site, the lake its tables go to, and the names its
    definitions take (None: plain names for a deployment's only site, the site's prefix when there are several)."""

    jira: JiraResource
    lake: IcebergIOManager
    naming: SiteNames | None = None


def build_definitions(names: Iterable[str], sites: Sequence[SiteDefinition]) -> Definitions:
    """Every enabled endpoint of every site as an asset, with the jobs, schedules and sensors (the component's
    instances call this). One site keeps the plain names; several get one prefix each (defs/site.py), their own
    resources, jobs, schedules, sensors and issues lane, so a failing site fails only its own assets."""
    names = list(names)
    prefixes = [site.naming if site.naming is not None
                else SiteNames() if len(sites) == 1 else SiteNames(site.jira.site_name) for site in sites]
    duplicate = sorted({p.prefix or "(unprefixed)" for p in prefixes if prefixes.count(p) > 1})
    if duplicate:
        raise ValueError(f"two sites are both named {duplicate[0]!r}: give each its own site name")
    assets, jobs, schedules, sensors, resources = [], [], [], [], {}
    for site, naming in zip(sites, prefixes):
        automation = automation_definitions(names, naming)
        # The site's main job: every enabled endpoint, parents before children. In the site's issues lane, so the
        # change sensor and the schedules wait for it instead of racing its commits.
        jobs.append(define_asset_job(naming.named(SYNC_ALL_JOB),
                                     selection=AssetSelection.assets(*[naming.key(n) for n in names]),
                                     description="Every enabled Jira endpoint" + (
                                         f" of {naming.prefix}." if naming.prefix else "."),
                                     tags={LANE_TAG: naming.issues_lane}))
        assets += build_assets(names, naming)
        jobs += automation["jobs"]
        schedules += automation["schedules"]
        sensors += automation["sensors"]
        resources[naming.jira_key] = site.jira
        resources[naming.lake_key] = site.lake
    maintenance = maintenance_definitions(names, prefixes)
    jobs += maintenance["jobs"]
    schedules += maintenance["schedules"]
    return Definitions(executor=step_executor(), assets=assets, jobs=jobs, schedules=schedules, sensors=sensors,
                       resources=resources)


MAX_CONCURRENT_ENV = "JIRA_ASSETS_MAX_CONCURRENT"
DEFAULT_MAX_CONCURRENT = 8


def step_executor():
    """Dagster's multiprocess executor, each step a process forked from a server that has already imported this
    code location (a fresh interpreter costs seconds of imports per step), several steps at once: the machine-wide
    throttle, not the executor, bounds the requests, so while one step commits others keep it busy."""
    return _multiprocess(env_number(MAX_CONCURRENT_ENV, DEFAULT_MAX_CONCURRENT, kind=int, minimum=1,
                                    what="a whole number of steps"))


@functools.cache
def _multiprocess(max_concurrent: int):
    # One object per setting: Definitions.merge accepts several instances' executors only when they are the same.
    return multiprocess_executor.configured({
        "max_concurrent": max_concurrent,
        "start_method": {"forkserver": {"preload_modules": ["jira_assets.defs.step_preload"]}},
    })


def settings_problems() -> list[str]:
    """One line per unusable setting of the deployment (README "Configuration"); empty when all are fine."""
    problems = jira_connection_problems()
    for read in (enabled_endpoints, IncrementalSettings.from_env, FlowStages.from_env, parse_tolerance,
                 snowflake_sync_from_env, step_executor, metadata_versions_from_env):
        problems += collect(read)
    return problems
