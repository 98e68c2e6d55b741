"""Schedules and the change sensor, evaluated with Dagster's context builders against the simulator and a real lake."""

from datetime import datetime, timezone

import pytest
from dagster import AssetKey, DagsterRun, DagsterRunStatus, RunRequest, SkipReason, build_schedule_context
from dagster import build_sensor_context, instance_for_test
from dagster._core.utils import make_new_run_id

from _automation_fixtures import fresh_sim_url, jira_for, lake, land_truth, sim_get, sim_post, stand_in_assets  # noqa: F401
from jira_assets.defs.automation import (
    CENSUS_SCHEDULE,
    CHANGE_SENSOR,
    DAILY_SCHEDULE,
    INCREMENTAL_JOB,
    INCREMENTAL_SCHEDULE,
    ISSUES_LANE,
    LANE_TAG,
    TRIGGER_TAG,
    automation_definitions,
)
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.endpoints import DEFAULT_ENABLED
from jira_assets.sync.base import CENSUS_TAG


@pytest.fixture(scope="module")
def automation():
    names = list(DEFAULT_ENABLED)
    defs = automation_definitions(names)
    return {d.name: d for d in defs["schedules"] + defs["sensors"]}


def requests_made(url: str) -> int:
    return sim_get(url, "/__sim/stats")["requests"]


def evaluate(sensor_def, instance, resources, cursor):
    with build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
        result = sensor_def(context)
        return result, context.cursor


def add_run(instance, *, job_name: str, tags: dict, asset_selection=None) -> str:
    run_id = make_new_run_id()
    instance.add_run(DagsterRun(job_name=job_name, run_id=run_id, status=DagsterRunStatus.STARTED, tags=tags,
                                asset_selection=asset_selection))
    return run_id


def test_change_sensor_requests_a_run_only_when_jira_changed(automation, fresh_sim_url, lake):
    url = fresh_sim_url
    sensor_def = automation[CHANGE_SENSOR]
    resources = {"jira": jira_for(url), "lake": lake}
    with instance_for_test() as instance:
        # Nothing landed yet: the sensor asks for the first load without asking Jira anything.
        before = requests_made(url)
        result, cursor = evaluate(sensor_def, instance, resources, None)
        assert isinstance(result, RunRequest) and result.tags[TRIGGER_TAG] == "change_sensor"
        assert requests_made(url) == before

        land_truth(lake, url, "issue_search")
        before = requests_made(url)
        result, cursor = evaluate(sensor_def, instance, resources, cursor)
        assert isinstance(result, SkipReason), result
        assert "nothing to sync" in result.skip_message
        assert requests_made(url) == before + 1  # one approximate-count, nothing else

        # The clock moves, nothing changes: still nothing to do.
        sim_post(url, "/__sim/advance", {"minutes": 30})
        result, cursor = evaluate(sensor_def, instance, resources, cursor)
        assert isinstance(result, SkipReason), result

        applied = sim_post(url, "/__sim/advance", {"update_issues": 3, "add_issues": 2, "minutes": 5})["applied"]
        assert applied["update_issues"] == 3 and applied["add_issues"] == 2
        before = requests_made(url)
        result, cursor = evaluate(sensor_def, instance, resources, cursor)
        assert isinstance(result, RunRequest), result
        assert requests_made(url) == before + 1
        assert result.tags["jira_assets/changed_issues"] == "5"
        first_key = result.run_key

        # Same lake, same changes: the same run key, so Dagster would not launch it twice.
        result, cursor = evaluate(sensor_def, instance, resources, cursor)
        assert isinstance(result, RunRequest) and result.run_key == first_key

        # While that run is queued or running the sensor waits, and does not ask Jira.
        run_id = add_run(instance, job_name=INCREMENTAL_JOB, tags={LANE_TAG: ISSUES_LANE})
        before = requests_made(url)
        result, cursor = evaluate(sensor_def, instance, resources, cursor)
        assert isinstance(result, SkipReason) and run_id in result.skip_message
        assert requests_made(url) == before
        instance.delete_run(run_id)

        # The sync lands the changes: nothing left to do.
        land_truth(lake, url, "issue_search")
        result, cursor = evaluate(sensor_def, instance, resources, cursor)
        assert isinstance(result, SkipReason), result

        # The catalog is unreachable: the sensor's own cursor stands in for the lake's high-water mark.
        broken = {"jira": resources["jira"], "lake": IcebergIOManager(
            catalog_name="unreachable", catalog_properties={"type": "rest", "uri": "http://127.0.0.1:9"})}
        sim_post(url, "/__sim/advance", {"update_issues": 2, "minutes": 5})
        result, _ = evaluate(sensor_def, instance, broken, cursor)
        assert isinstance(result, RunRequest) and result.tags["jira_assets/changed_issues"] == "2"
        with pytest.raises(Exception):
            evaluate(sensor_def, instance, broken, None)  # no cursor either: the tick fails visibly


def test_schedules_request_tagged_runs_and_wait_for_issues_runs(automation):
    when = datetime(2026, 11, 2, 3, 30, tzinfo=timezone.utc)
    with instance_for_test() as instance:
        for name in (INCREMENTAL_SCHEDULE, CENSUS_SCHEDULE, DAILY_SCHEDULE):
            context = build_schedule_context(instance=instance, scheduled_execution_time=when)
            requests = automation[name].evaluate_tick(context).run_requests
            assert len(requests) == 1
            assert requests[0].tags[TRIGGER_TAG] == "schedule"
            assert (requests[0].tags.get(CENSUS_TAG) == "true") == (name == CENSUS_SCHEDULE)

        # A run that writes issue_search (here a manual, untagged `--select issue_search+`) blocks the incremental
        # and census ticks, not the daily refresh of the other endpoints.
        add_run(instance, job_name="__ASSET_JOB", tags={}, asset_selection=frozenset({AssetKey("issue_search")}))
        for name, blocked in ((INCREMENTAL_SCHEDULE, True), (CENSUS_SCHEDULE, True), (DAILY_SCHEDULE, False)):
            context = build_schedule_context(instance=instance, scheduled_execution_time=when)
            data = automation[name].evaluate_tick(context)
            assert (len(data.run_requests) == 0) == blocked, name
            if blocked:
                assert "already queued or running" in data.skip_message


@pytest.mark.slow
def test_change_sensor_end_to_end_with_the_real_incremental_job(fresh_sim_url, lake, monkeypatch):
    """The run the sensor asks for, executed with the real assets, lands the changes; then the sensor is quiet."""
    from dagster import Definitions

    from jira_assets.defs.assets import build_assets

    monkeypatch.setenv("JIRA_RATE_LIMIT", "50")
    url = fresh_sim_url
    incremental = ["issue_search", "issue_changelog", "issue_comments", "issue_worklog", "worklog_updated"]
    assets = build_assets(incremental)
    resources = {"jira": jira_for(url), "lake": lake}
    defs = Definitions(assets=assets, **automation_definitions(incremental),
                       resources=resources)
    sensor_def = {s.name: s for s in defs.sensors}[CHANGE_SENSOR]
    with instance_for_test() as instance:
        job = defs.resolve_job_def(INCREMENTAL_JOB)
        result, cursor = evaluate(sensor_def, instance, resources, None)
        assert isinstance(result, RunRequest)
        assert job.execute_in_process(instance=instance, tags=result.tags).success
        result, cursor = evaluate(sensor_def, instance, resources, cursor)
        assert isinstance(result, SkipReason), result

        sim_post(url, "/__sim/advance", {"update_issues": 4, "minutes": 10})
        result, cursor = evaluate(sensor_def, instance, resources, cursor)
        assert isinstance(result, RunRequest) and result.tags["jira_assets/changed_issues"] == "4"
        run = job.execute_in_process(instance=instance, tags=result.tags)
        assert run.success
        assert all(e.passed for e in run.get_asset_check_evaluations())
        result, cursor = evaluate(sensor_def, instance, resources, cursor)
        assert isinstance(result, SkipReason), result
