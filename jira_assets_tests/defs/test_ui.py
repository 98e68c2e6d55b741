"""The UI itself: dagster-webserver on the project, asked through Dagster's GraphQL API what an operator would see."""

import urllib.request

from _automation_fixtures import graphql, project_env, running_webserver
from jira_assets.defs.maintenance import MAINTENANCE_SCHEDULE
from jira_assets.defs.checks import COUNT_CHECK, DROP_CHECK, PARENT_CHECK, PRIMARY_KEY_CHECK
from jira_assets.defs.automation import (
    CENSUS_JOB,
    CENSUS_SCHEDULE,
    CHANGE_SENSOR,
    DAILY_JOB,
    DAILY_SCHEDULE,
    FRESHNESS_SENSOR,
    INCREMENTAL_JOB,
    INCREMENTAL_SCHEDULE,
)
from jira_assets.endpoints import BY_NAME, DEFAULT_ENABLED, ISSUES

ASSETS_QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    kinds
    description
    tags { key value }
    metadataEntries { label ... on TableSchemaMetadataEntry { schema { columns { name type } } } }
    owners { __typename ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
    internalFreshnessPolicy { __typename ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds } }
    automationCondition { label }
    assetChecksOrError { __typename ... on AssetChecks { checks { name description } } }
  }
  repositoriesOrError { __typename ... on RepositoryConnection { nodes {
    name
    jobs { name }
    schedules { name cronSchedule executionTimezone defaultStatus scheduleState { status } }
    sensors { name minIntervalSeconds defaultStatus sensorState { status } }
  } } }
}
"""

HOUR = 3600
DAY = 24 * HOUR


def test_webserver_shows_assets_groups_freshness_checks_schedules_and_sensors(tmp_path):
    env = project_env(tmp_path)
    with running_webserver(env) as base:
        data = graphql(base, ASSETS_QUERY)
        with urllib.request.urlopen(base + "/asset-groups", timeout=30) as response:
            page = response.read().decode()
    assert "<html" in page.lower()  # the UI itself is served, not only the API

    nodes = {n["assetKey"]["path"][-1]: n for n in data["assetNodes"]}
    assert set(nodes) == set(DEFAULT_ENABLED)
    for name, node in nodes.items():
        spec = BY_NAME[name]
        assert node["groupName"] == spec.group, name
        assert {"jira", "iceberg"} <= set(node["kinds"]), name
        assert node["description"] == spec.description, name
        assert node["owners"], name
        assert node["tags"], name
        # the column schema from the catalogue: primary key and parent key columns, the typed ones, _raw, _synced_at
        (schema,) = [m["schema"] for m in node["metadataEntries"] if m["label"] == "dagster/column_schema"]
        columns = [c["name"] for c in schema["columns"]]
        assert set(spec.primary_key) <= set(columns), name
        assert {c.name for c in spec.columns} <= set(columns), name
        assert {"_raw", "_synced_at"} <= set(columns), name
        policy = node["internalFreshnessPolicy"]
        assert policy["__typename"] == "TimeWindowFreshnessPolicy", name
        expected = (6 * HOUR, 2 * HOUR) if spec.group == ISSUES else (2 * DAY, DAY)
        assert (policy["failWindowSeconds"], policy["warnWindowSeconds"]) == expected, name
        assert node["automationCondition"]["label"] == "freshness failed: re-materialize", name
        checks = {c["name"] for c in node["assetChecksOrError"]["checks"]}
        wanted = {PRIMARY_KEY_CHECK}
        if spec.parent is not None:
            wanted.add(PARENT_CHECK)
        if name == "issue_search":
            wanted.add(COUNT_CHECK)
        if not spec.sync.incremental or name == "issue_search":  # tables replaced whole
            wanted.add(DROP_CHECK)
        wanted |= {c.name for c in spec.sync.checks}  # a derived table's own checks
        assert checks == wanted, name

    (repo,) = data["repositoriesOrError"]["nodes"]
    assert {INCREMENTAL_JOB, DAILY_JOB, CENSUS_JOB} <= {j["name"] for j in repo["jobs"]}
    schedules = {s["name"]: s for s in repo["schedules"]}
    assert set(schedules) == {INCREMENTAL_SCHEDULE, DAILY_SCHEDULE, CENSUS_SCHEDULE, MAINTENANCE_SCHEDULE}
    assert schedules[MAINTENANCE_SCHEDULE]["cronSchedule"] == "45 4 * * *"
    assert schedules[INCREMENTAL_SCHEDULE]["cronSchedule"] == "0 * * * *"
    assert schedules[DAILY_SCHEDULE]["cronSchedule"] == "0 2 * * *"
    assert schedules[CENSUS_SCHEDULE]["cronSchedule"] == "30 3 * * *"
    for schedule in schedules.values():
        assert schedule["executionTimezone"] == "UTC"
        assert schedule["defaultStatus"] == "RUNNING"
        assert schedule["scheduleState"]["status"] == "RUNNING"
    sensors = {s["name"]: s for s in repo["sensors"]}
    assert set(sensors) == {CHANGE_SENSOR, FRESHNESS_SENSOR}
    assert sensors[CHANGE_SENSOR]["minIntervalSeconds"] == 300
    assert all(s["defaultStatus"] == "RUNNING" for s in sensors.values())
