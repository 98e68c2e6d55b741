"""The Definitions of one deployment: every enabled endpoint as an asset (with its checks), the jobs, schedules and
sensors that keep them fresh, the Jira resource and the Iceberg IO manager."""

from __future__ import annotations

from collections.abc import Iterable

from dagster import AssetSelection, Definitions, define_asset_job

from jira_assets.defs.assets import build_assets
from jira_assets.defs.automation import ISSUES_LANE, LANE_TAG, automation_definitions
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.defs.resources import JiraResource
from jira_assets.defs.snowflake import snowflake_sync_from_env
from jira_assets.selection import enabled_endpoints

SYNC_ALL_JOB = "jira_sync_all"


def build_definitions(names: Iterable[str] | None = None) -> Definitions:
    names = list(enabled_endpoints() if names is None else names)
    automation = automation_definitions(names)
    # The main job: every enabled endpoint, parents before children. In the issues lane, so the change sensor and
    # the schedules wait for it instead of racing its commits.
    sync_all = define_asset_job(SYNC_ALL_JOB, selection=AssetSelection.all(), description="Every enabled Jira endpoint.",
                                tags={LANE_TAG: ISSUES_LANE})
    return Definitions(
        assets=build_assets(names),
        jobs=[sync_all, *automation["jobs"]],
        schedules=automation["schedules"],
        sensors=automation["sensors"],
        resources={
            "jira": JiraResource.from_env(),
            # With JIRA_ASSETS_SNOWFLAKE_MODE=object-store, every commit is followed by ALTER ICEBERG TABLE ... REFRESH.
            "lake": IcebergIOManager(snowflake=snowflake_sync_from_env()),
        },
    )
