"""The one Definitions object: every enabled Jira endpoint as an asset, the Jira resource, the Iceberg IO manager."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job

from jira_assets.assets import build_assets
from jira_assets.lake.io_manager import IcebergIOManager
from jira_assets.resources import JiraResource

assets = build_assets()

# The main job: every enabled endpoint, parents before children.
sync_all = define_asset_job("jira_sync_all", selection=AssetSelection.all(), description="Every enabled Jira endpoint.")

defs = Definitions(
    assets=assets,
    jobs=[sync_all],
    resources={
        "jira": JiraResource.from_env(),
        "lake": IcebergIOManager(),
    },
)
