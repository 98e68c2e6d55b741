"""The automation definitions load, validate and say what they promise: freshness per group, jobs, defaults."""

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from dagster import (
    AssetKey,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    DagsterInstance,
    FreshnessPolicy,
    IOManager,
    evaluate_automation_conditions,
    materialize,
)
from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

from jira_assets.defs import freshness
from jira_assets.defs.assets import build_assets
from jira_assets.defs.automation import (
    CENSUS_JOB,
    CENSUS_SCHEDULE,
    CHANGE_SENSOR,
    DAILY_JOB,
    DAILY_SCHEDULE,
    FRESHNESS_SENSOR,
    INCREMENTAL_JOB,
    INCREMENTAL_SCHEDULE,
    automation_definitions,
)
from jira_assets.defs.checks import check_keys
from jira_assets.defs.freshness import freshness_policy_for, parse_duration, parse_freshness
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.defs.maintenance import MAINTENANCE_SCHEDULE
from jira_assets.defs.resources import JiraResource
from jira_assets.endpoints import BY_NAME, DEFAULT_ENABLED
from jira_assets.sync.base import CENSUS_TAG
from _automation_fixtures import REPO_ROOT, project_env, stand_in_assets

ISSUE_CHILDREN = ["issue_changelog", "issue_comments", "issue_worklog"]
# a primary-key check per table, a parent check per child, the issue count check, a drop check per table replaced
# whole (full refresh, and issue_search's full loads), and the derived tables' own checks
EXPECTED_CHECKS = (len(DEFAULT_ENABLED) + sum(1 for n in DEFAULT_ENABLED if BY_NAME[n].parent) + 1
                   + sum(1 for n in DEFAULT_ENABLED if not BY_NAME[n].sync.incremental) + 1
                   + sum(len(BY_NAME[n].sync.checks) for n in DEFAULT_ENABLED))


def stand_in_defs(names=DEFAULT_ENABLED) -> Definitions:
    names = list(names)
    return Definitions(
        assets=build_assets(names),
        **automation_definitions(names),
        resources={"jira": JiraResource(base_url="http://127.0.0.1:9", email="a@example.com", api_token="x"),
                   "lake": IcebergIOManager()},
    )


# ---- configuration ------------------------------------------------------------------------------------------


def test_durations_and_windows_parse():
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1d12h") == timedelta(hours=36)
    assert parse_duration(" 2H ") == timedelta(hours=2)
    assert parse_freshness("2h/6h", setting="X") == (timedelta(hours=2), timedelta(hours=6))
    assert parse_freshness("6h", setting="X") == (None, timedelta(hours=6))
    assert parse_freshness("off", setting="X") is None
    for bad in ("", "6", "6 hours", "h", "0m", "1x"):
        with pytest.raises(ValueError, match="X"):
            parse_freshness(bad, setting="X")
    with pytest.raises(ValueError, match="shorter than the failure window"):
        parse_freshness("6h/2h", setting="X")


def test_builtin_freshness_issues_tight_dimensions_loose():
    issues = freshness_policy_for(BY_NAME["issue_search"])
    assert issues == FreshnessPolicy.time_window(fail_window=timedelta(hours=6), warn_window=timedelta(hours=2))
    for name in ISSUE_CHILDREN + ["worklog_updated"]:
        assert freshness_policy_for(BY_NAME[name]) == issues
    loose = FreshnessPolicy.time_window(fail_window=timedelta(days=2), warn_window=timedelta(days=1))
    for name in ("statuses", "boards", "project_search", "users_search", "server_info", "workflows"):
        assert freshness_policy_for(BY_NAME[name]) == loose


def test_freshness_overrides_asset_then_group_then_default(monkeypatch):
    monkeypatch.setenv("JIRA_ASSETS_FRESHNESS_DEFAULT", "12h/1d")
    monkeypatch.setenv("JIRA_ASSETS_FRESHNESS_GROUP_BOARDS_AND_SPRINTS", "3h")
    monkeypatch.setenv("JIRA_ASSETS_FRESHNESS_ASSET_SPRINT_ISSUES", "30m/1h")
    monkeypatch.setenv("JIRA_ASSETS_FRESHNESS_GROUP_ISSUES", "off")
    assert freshness_policy_for(BY_NAME["statuses"]) == FreshnessPolicy.time_window(
        fail_window=timedelta(days=1), warn_window=timedelta(hours=12))
    assert freshness_policy_for(BY_NAME["boards"]) == FreshnessPolicy.time_window(fail_window=timedelta(hours=3))
    assert freshness_policy_for(BY_NAME["sprint_issues"]) == FreshnessPolicy.time_window(
        fail_window=timedelta(hours=1), warn_window=timedelta(minutes=30))
    assert freshness_policy_for(BY_NAME["issue_search"]) is None
    assert freshness.automation_condition_for(BY_NAME["issue_search"]) is None
    monkeypatch.setenv("JIRA_ASSETS_FRESHNESS_ASSET_BOARDS", "soon")
    with pytest.raises(ValueError, match="JIRA_ASSETS_FRESHNESS_ASSET_BOARDS"):
        freshness_policy_for(BY_NAME["boards"])


def test_bad_cron_timezone_and_status_are_named(monkeypatch):
    names = list(DEFAULT_ENABLED)
    for var, value in (("JIRA_ASSETS_DAILY_CRON", "every day"), ("JIRA_ASSETS_SCHEDULE_TIMEZONE", "Mars/Base"),
                       ("JIRA_ASSETS_AUTOMATION_STATUS", "sometimes"), ("JIRA_ASSETS_CHANGE_SENSOR_SECONDS", "5")):
        with monkeypatch.context() as m:
            m.setenv(var, value)
            with pytest.raises(ValueError, match=var):
                automation_definitions(names)


# ---- what gets defined ----------------------------------------------------------------------------------------


def test_jobs_schedules_sensors_and_defaults():
    defs = stand_in_defs()
    Definitions.validate_loadable(defs)
    inc = defs.resolve_job_def(INCREMENTAL_JOB).asset_layer.selected_asset_keys
    lane = {n for n in DEFAULT_ENABLED if BY_NAME[n].sync.incremental}
    assert inc == {AssetKey(n) for n in lane}
    assert lane >= {"issue_search", *ISSUE_CHILDREN, "worklog_updated", "issue_labels", "issue_field_history",
                    "sprint_report"}
    census = defs.resolve_job_def(CENSUS_JOB)
    following = {n for n in lane if BY_NAME[n].sync.follows_deletions}
    assert census.asset_layer.selected_asset_keys == {AssetKey(n) for n in following}
    assert following >= {"issue_search", *ISSUE_CHILDREN, "issue_flow"} and "worklog_updated" not in following
    assert census.run_tags[CENSUS_TAG] == "true"
    daily = defs.resolve_job_def(DAILY_JOB).asset_layer.selected_asset_keys
    assert daily == {AssetKey(n) for n in DEFAULT_ENABLED} - inc
    assert len(daily) == len(DEFAULT_ENABLED) - len(inc) > 0

    schedules = {s.name: s for s in defs.schedules}
    assert set(schedules) == {INCREMENTAL_SCHEDULE, DAILY_SCHEDULE, CENSUS_SCHEDULE}
    assert schedules[INCREMENTAL_SCHEDULE].cron_schedule == "0 * * * *"
    assert schedules[DAILY_SCHEDULE].cron_schedule == "0 2 * * *"
    assert schedules[CENSUS_SCHEDULE].cron_schedule == "30 3 * * *"
    assert all(s.default_status == DefaultScheduleStatus.RUNNING for s in schedules.values())
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {CHANGE_SENSOR, FRESHNESS_SENSOR}
    assert sensors[CHANGE_SENSOR].minimum_interval_seconds == 300
    assert all(s.default_status == DefaultSensorStatus.RUNNING for s in sensors.values())

    graph = defs.resolve_asset_graph()
    for name in DEFAULT_ENABLED:
        node = graph.get(AssetKey(name))
        assert node.freshness_policy == freshness_policy_for(BY_NAME[name])
        assert node.automation_condition is not None
    keys = check_keys(DEFAULT_ENABLED)
    assert len(keys) == EXPECTED_CHECKS
    assert set(keys) == set(graph.asset_check_keys)


def test_cron_and_status_overrides(monkeypatch):
    monkeypatch.setenv("JIRA_ASSETS_INCREMENTAL_CRON", "*/15 * * * *")
    monkeypatch.setenv("JIRA_ASSETS_SCHEDULE_TIMEZONE", "Australia/Sydney")
    monkeypatch.setenv("JIRA_ASSETS_AUTOMATION_STATUS", "stopped")
    monkeypatch.setenv("JIRA_ASSETS_CHANGE_SENSOR_SECONDS", "60")
    defs = stand_in_defs()
    schedules = {s.name: s for s in defs.schedules}
    assert schedules[INCREMENTAL_SCHEDULE].cron_schedule == "*/15 * * * *"
    assert schedules[INCREMENTAL_SCHEDULE].execution_timezone == "Australia/Sydney"
    assert all(s.default_status == DefaultScheduleStatus.STOPPED for s in defs.schedules)
    assert all(s.default_status == DefaultSensorStatus.STOPPED for s in defs.sensors)
    assert {s.name: s for s in defs.sensors}[CHANGE_SENSOR].minimum_interval_seconds == 60


def test_without_issue_search_only_daily_and_freshness():
    names = [n for n in DEFAULT_ENABLED if n not in ("issue_search", *ISSUE_CHILDREN)]
    defs = stand_in_defs(names)
    Definitions.validate_loadable(defs)
    assert [s.name for s in defs.schedules] == [DAILY_SCHEDULE]
    assert [s.name for s in defs.sensors] == [FRESHNESS_SENSOR]


# ---- the freshness automation condition ------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::dagster.BetaWarning")  # raised inside Dagster's own test helper
def test_freshness_failure_requests_rematerialization_then_waits_for_retry_tick():
    """FAIL -> requested at once; still FAIL -> not again until the hourly retry tick; PASS -> never."""
    names = ["statuses", "boards", "board_configuration"]
    assets = stand_in_assets(names)
    defs = Definitions(assets=assets, resources={"lake": _NullIO()})
    with DagsterInstance.ephemeral() as instance:
        materialize(assets, instance=instance, resources={"lake": _NullIO()})
        t0 = datetime(2026, 11, 2, 10, 20, tzinfo=timezone.utc)
        result = evaluate_automation_conditions(defs, instance=instance, evaluation_time=t0)
        assert result.total_requested == 0  # all PASS/UNKNOWN: nothing to do

        _report(instance, "boards", FreshnessState.FAIL)
        result = evaluate_automation_conditions(defs, instance=instance, cursor=result.cursor,
                                                evaluation_time=t0 + timedelta(minutes=1))
        assert result.get_num_requested(AssetKey("boards")) == 1
        assert result.total_requested == 1

        result = evaluate_automation_conditions(defs, instance=instance, cursor=result.cursor,
                                                evaluation_time=t0 + timedelta(minutes=2))
        assert result.total_requested == 0  # still failing, but the retry tick has not passed

        result = evaluate_automation_conditions(defs, instance=instance, cursor=result.cursor,
                                                evaluation_time=t0 + timedelta(minutes=41))
        assert result.get_num_requested(AssetKey("boards")) == 1  # 11:00 tick passed
        assert result.total_requested == 1

        _report(instance, "boards", FreshnessState.PASS, previous=FreshnessState.FAIL)
        result = evaluate_automation_conditions(defs, instance=instance, cursor=result.cursor,
                                                evaluation_time=t0 + timedelta(minutes=101))
        assert result.total_requested == 0


class _NullIO(IOManager):
    """An IO manager that stores nothing: the stand-in assets only need materialization events."""

    def handle_output(self, context, obj):
        pass

    def load_input(self, context):
        return None


def _report(instance, name, state, previous=FreshnessState.PASS):
    # What the freshness daemon records when an asset's freshness state changes.
    instance._report_runless_asset_event(FreshnessStateChange(  # noqa: SLF001
        key=AssetKey(name), new_state=state, previous_state=previous,
        state_change_timestamp=datetime.now(timezone.utc).timestamp()))


# ---- the real project ---------------------------------------------------------------------------------------------


def test_dagster_definitions_validate_from_repo_root(tmp_path):
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dagster"), "definitions", "validate"],
        cwd=REPO_ROOT, env=project_env(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "demo-token" not in proc.stdout + proc.stderr


def test_project_definitions_carry_the_automation(tmp_path):
    code = (
        "from jira_assets.definitions import defs\n"
        "from dagster import AssetKey\n"
        "g = defs.resolve_asset_graph()\n"
        "print(sorted(s.name for s in defs.schedules))\n"
        "print(sorted(s.name for s in defs.sensors))\n"
        "print(sum(1 for k in g.get_all_asset_keys() if g.get(k).freshness_policy is not None))\n"
        "print(len(list(g.asset_check_keys)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=project_env(tmp_path), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == str(sorted([CENSUS_SCHEDULE, DAILY_SCHEDULE, INCREMENTAL_SCHEDULE, MAINTENANCE_SCHEDULE]))
    assert lines[1] == str(sorted([CHANGE_SENSOR, FRESHNESS_SENSOR]))
    assert lines[2] == str(len(DEFAULT_ENABLED))
    assert lines[3] == str(EXPECTED_CHECKS)
