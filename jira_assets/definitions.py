"""The one Definitions object: every enabled Jira endpoint as an asset, the Jira resource, the Iceberg IO manager."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job

from jira_assets.assets import build_assets, enabled_endpoints
from jira_assets.automation import automation_definitions, with_automation
from jira_assets.lake.io_manager import IcebergIOManager
from jira_assets.lake.snowflake import snowflake_sync_from_env
from jira_assets.resources import JiraResource

names = enabled_endpoints()
assets = build_assets(names)
# Operations (jira_assets/automation.py, asset_checks.py): jobs, schedules, sensors and asset checks for the enabled
# endpoints; with_automation() adds freshness policies and the freshness re-materialization condition.
automation = automation_definitions(assets, names)

# The main job: every enabled endpoint, parents before children.
# Tagged with the issues lane, so the change sensor and the schedules wait for it instead of racing its commits.
sync_all = define_asset_job("jira_sync_all", selection=AssetSelection.all(), description="Every enabled Jira endpoint.",
                            tags={"jira_assets/lane": "issues"})

defs = Definitions(
    assets=with_automation(assets),
    jobs=[sync_all, *automation["jobs"]],
    schedules=automation["schedules"],
    sensors=automation["sensors"],
    asset_checks=automation["asset_checks"],
    resources={
        "jira": JiraResource.from_env(),
        # With JIRA_ASSETS_SNOWFLAKE_MODE=object-store, every commit is followed by ALTER ICEBERG TABLE ... REFRESH.
        "lake": IcebergIOManager(snowflake=snowflake_sync_from_env()),
    },
)
