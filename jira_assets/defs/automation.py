"""Dagster-native operations: the jobs, schedules and sensors that keep the lake fresh without anyone clicking.

| name | kind | default | what it does |
|---|---|---|---|
| `jira_issues_incremental_schedule` | schedule | RUNNING, `0 * * * *` | the incremental issues run: every endpoint whose strategy keeps a cursor (`issue_search+`, `worklog_updated`); a heartbeat so the issues group stays fresh on quiet sites |
| `jira_daily_refresh_schedule` | schedule | RUNNING, `0 2 * * *` | full refresh of every other enabled endpoint |
| `jira_issues_census_schedule` | schedule | RUNNING, `30 3 * * *` | the deletion census at a quiet hour: an `issue_search+` run tagged `jira_assets/census=true` (any issues run still does one when the last is older than JIRA_CENSUS_EVERY_HOURS) |
| `jira_issue_change_sensor` | sensor | RUNNING, every 300 s | one `POST search/approximate-count` per tick; requests an incremental run only when Jira has changes newer than the lake |
| `jira_freshness_automation` | automation condition sensor | RUNNING, every 60 s | re-materializes assets whose freshness policy FAILs (freshness.py) |

Schedules and the change sensor skip a tick while an issues run (incremental or census) is queued or running.

Environment (read when the code location loads; the time zone and status settings are in freshness.py):

    JIRA_ASSETS_INCREMENTAL_CRON          default "0 * * * *"
    JIRA_ASSETS_DAILY_CRON                default "0 2 * * *"
    JIRA_ASSETS_CENSUS_CRON               default "30 3 * * *"
    JIRA_ASSETS_CHANGE_SENSOR_SECONDS     change sensor interval, default 300 (at least 30)
"""

# No `from __future__ import annotations`: Dagster reads the sensor parameters' annotations (resources, context) at
# definition time and needs them as real types.

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from jira_assets.defs.freshness import (
    cron_setting, freshness_policy_for, schedule_status, schedule_timezone, sensor_status,
)
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.defs.site import ONLY_SITE, SiteNames
from jira_assets.endpoints import BY_NAME
from jira_assets.env import env_number
from jira_assets.jira.jql import epoch_ms, floor_minute
from jira_assets.sync.base import CENSUS_TAG
from jira_assets.sync.issue_search import IssueSearchCursor
from jira_assets.sync.scope import IncrementalSettings, scope_jql

# ---- names other parts rely on --------------------------------------------------------------------------------

CENSUS_TAG_VALUE = "true"
# Every run that writes the issues tables carries this tag, so dagster.yaml can allow one at a time.
LANE_TAG = "jira_assets/lane"
ISSUES_LANE = "issues"
# What started a run: schedule, change_sensor, freshness (shown in the run list).
TRIGGER_TAG = "jira_assets/trigger"

INCREMENTAL_JOB = "jira_issues_incremental"
DAILY_JOB = "jira_daily_refresh"
CENSUS_JOB = "jira_issues_census"
INCREMENTAL_SCHEDULE = "jira_issues_incremental_schedule"
DAILY_SCHEDULE = "jira_daily_refresh_schedule"
CENSUS_SCHEDULE = "jira_issues_census_schedule"
CHANGE_SENSOR = "jira_issue_change_sensor"
FRESHNESS_SENSOR = "jira_freshness_automation"

ENV_INCREMENTAL_CRON = "JIRA_ASSETS_INCREMENTAL_CRON"
ENV_DAILY_CRON = "JIRA_ASSETS_DAILY_CRON"
ENV_CENSUS_CRON = "JIRA_ASSETS_CENSUS_CRON"
ENV_SENSOR_SECONDS = "JIRA_ASSETS_CHANGE_SENSOR_SECONDS"
DEFAULT_INCREMENTAL_CRON = "0 * * * *"
DEFAULT_DAILY_CRON = "0 2 * * *"
DEFAULT_CENSUS_CRON = "30 3 * * *"
DEFAULT_SENSOR_SECONDS = 300
FRESHNESS_SENSOR_SECONDS = 60


def _sensor_seconds() -> int:
    return env_number(ENV_SENSOR_SECONDS, DEFAULT_SENSOR_SECONDS, kind=int, minimum=30,
                      what="a whole number of seconds")


# ---- which assets each job covers -------------------------------------------------------------------------------


def issue_roots(enabled_names: Iterable[str]) -> list[str]:
    """The enabled endpoints synced by issue search with a cursor (issue_search): the incremental lane's root."""
    return [n for n in enabled_names if isinstance(BY_NAME[n].sync, IssueSearchCursor)]


def incremental_names(enabled_names: Iterable[str]) -> list[str]:
    """Every enabled endpoint whose strategy keeps cursors (issue_search+, worklog_updated); none without a root."""
    enabled = [n for n in enabled_names if n in BY_NAME]
    if not issue_roots(enabled):
        return []
    return [n for n in enabled if BY_NAME[n].sync.incremental]


def census_names(enabled_names: Iterable[str]) -> list[str]:
    """issue_search and the tables that follow its deletions: what a deleted issue has to be removed from."""
    return [n for n in incremental_names(enabled_names) if BY_NAME[n].sync.follows_deletions]


def daily_names(enabled_names: Iterable[str]) -> list[str]:
    incremental = set(incremental_names(enabled_names))
    return [n for n in enabled_names if n not in incremental]


def _selection(names: Sequence[str], site: SiteNames) -> AssetSelection:
    return AssetSelection.assets(*[site.key(n) for n in names])


IN_FLIGHT = (DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
             DagsterRunStatus.STARTED)


def _issues_runs_in_flight(instance, job_names: Sequence[str], site: SiteNames) -> list[str]:
    """Ids of queued or running runs that write issue_search (and would race this one on its table).

    A run counts when it is in the issues lane (tag), is one of `job_names`, or selects issue_search explicitly
    (freshness automation, a manual `--select issue_search+`).
    """
    runs = instance.get_runs(filters=RunsFilter(statuses=list(IN_FLIGHT)), limit=100)
    roots = {site.key(n) for n in BY_NAME if isinstance(BY_NAME[n].sync, IssueSearchCursor)}
    return [
        r.run_id for r in runs
        if r.tags.get(LANE_TAG) == site.issues_lane or r.job_name in job_names
        or roots & set(r.asset_selection or ())
    ]


# ---- the change sensor -------------------------------------------------------------------------------------------


def lake_high_water(lake: IcebergIOManager, name: str, site: str | None = None) -> tuple[datetime | None, int | None]:
    """(max `updated` of the site's rows in the issue table, its snapshot id), (None, None) without a table."""
    reader = lake.reader().for_site(site)
    table = reader.load(name)
    if table is None or table.current_snapshot() is None:
        return None, None
    return reader.column_max(name, "updated"), table.current_snapshot().snapshot_id


def _parse_cursor(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def build_change_sensor(job: UnresolvedAssetJobDefinition, in_flight_jobs: Sequence[str], root: str,
                        site: SiteNames = ONLY_SITE):
    @sensor(
        name=site.named(CHANGE_SENSOR),
        required_resource_keys={site.jira_key, site.lake_key},
        job=job,
        minimum_interval_seconds=_sensor_seconds(),
        default_status=sensor_status(DefaultSensorStatus.RUNNING),
        description=(
            "Asks Jira for the approximate number of issues updated after the newest `updated` in the lake "
            "(one POST search/approximate-count) and requests an incremental issues run only when it is not zero. "
            "Cursor: the lake's high-water mark (max issue_search.updated); the sensor's own cursor when the lake "
            "cannot be read."
        ),
    )
    def jira_issue_change_sensor(context: SensorEvaluationContext, **_resources):
        # The site's resources have per-site names, so they are read from the context (invoking the sensor directly
        # also hands them over as keywords).
        jira = getattr(context.resources, site.jira_key)
        lake = getattr(context.resources, site.lake_key)
        busy = _issues_runs_in_flight(context.instance, in_flight_jobs, site)
        if busy:
            return SkipReason(f"an issues run is already queued or running ({', '.join(busy)}); not asking Jira")
        previous = _parse_cursor(context.cursor)
        try:
            high_water, snapshot_id = lake_high_water(lake, root, jira.site_name)
        except Exception as exc:
            # The catalog is unreachable (a remote catalog's outage): fall back to the high-water mark this sensor
            # saw last time rather than asking for a full load.
            if not previous.get("high_water"):
                raise
            context.log.warning(f"could not read issue_search from the lake ({exc}); using the sensor's cursor")
            high_water, snapshot_id = datetime.fromisoformat(previous["high_water"]), previous.get("snapshot_id")
        if high_water is None:
            context.update_cursor(json.dumps({"high_water": None, "checked_at": _now_iso()}))
            return RunRequest(run_key=f"initial-load-{snapshot_id}",
                              tags={TRIGGER_TAG: "change_sensor", "jira_assets/reason": "no issues in the lake yet"})
        # Strictly newer minutes than the lake's newest change: nothing the lake holds can match, so any count
        # means Jira has changes the lake lacks (a change in that same last minute waits for the next one).
        since = floor_minute(high_water) + timedelta(minutes=1)
        jql = f"({scope_jql(IncrementalSettings.from_env(jira.settings_env()))}) AND updated >= {epoch_ms(since)}"
        count = jira.approximate_count(jql, endpoint="change_sensor")
        context.update_cursor(json.dumps({
            "high_water": high_water.isoformat(), "since": since.isoformat(), "count": count,
            "snapshot_id": snapshot_id, "checked_at": _now_iso(),
        }))
        if count == 0:
            return SkipReason(f"no issue updated since {since.isoformat()} (lake high-water mark "
                              f"{high_water.isoformat()}); nothing to sync")
        return RunRequest(
            # Same lake state and same count -> same key, so Dagster never launches a duplicate run for it.
            run_key=f"changes-{snapshot_id}-{epoch_ms(since)}-{count}",
            tags={TRIGGER_TAG: "change_sensor", "jira_assets/changed_issues": str(count),
                  "jira_assets/since": since.isoformat()},
        )

    return jira_issue_change_sensor


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---- schedules ---------------------------------------------------------------------------------------------------


def build_incremental_schedule(job: UnresolvedAssetJobDefinition, in_flight_jobs: Sequence[str],
                               site: SiteNames = ONLY_SITE):
    @schedule(
        name=site.named(INCREMENTAL_SCHEDULE),
        job=job,
        cron_schedule=cron_setting(ENV_INCREMENTAL_CRON, DEFAULT_INCREMENTAL_CRON),
        execution_timezone=schedule_timezone(),
        default_status=schedule_status(DefaultScheduleStatus.RUNNING),
        description="Incremental issue_search+ (and worklog_updated): fetches only what changed since the cursor. "
        "Also the heartbeat that keeps the issues group fresh when nothing changes. Skips while an issues run "
        "is queued or running.",
    )
    def incremental_schedule(context: ScheduleEvaluationContext):
        busy = _issues_runs_in_flight(context.instance, in_flight_jobs, site)
        if busy:
            return SkipReason(f"an issues run is already queued or running ({', '.join(busy)})")
        return RunRequest(tags={TRIGGER_TAG: "schedule"})

    return incremental_schedule


def build_census_schedule(job: UnresolvedAssetJobDefinition, in_flight_jobs: Sequence[str],
                          site: SiteNames = ONLY_SITE):
    @schedule(
        name=site.named(CENSUS_SCHEDULE),
        job=job,
        cron_schedule=cron_setting(ENV_CENSUS_CRON, DEFAULT_CENSUS_CRON),
        execution_timezone=schedule_timezone(),
        default_status=schedule_status(DefaultScheduleStatus.RUNNING),
        description=f"Deletion census: an issue_search+ run tagged {CENSUS_TAG}={CENSUS_TAG_VALUE}, which lists "
        "every issue id (fields=id, 5000 a page) and removes issues deleted in Jira from issue_search and its "
        "children. Skips while an issues run is queued or running.",
    )
    def census_schedule(context: ScheduleEvaluationContext):
        busy = _issues_runs_in_flight(context.instance, in_flight_jobs, site)
        if busy:
            return SkipReason(f"an issues run is already queued or running ({', '.join(busy)})")
        return RunRequest(tags={TRIGGER_TAG: "schedule", CENSUS_TAG: CENSUS_TAG_VALUE})

    return census_schedule


def build_daily_schedule(job: UnresolvedAssetJobDefinition, site: SiteNames = ONLY_SITE):
    @schedule(
        name=site.named(DAILY_SCHEDULE),
        job=job,
        cron_schedule=cron_setting(ENV_DAILY_CRON, DEFAULT_DAILY_CRON),
        execution_timezone=schedule_timezone(),
        default_status=schedule_status(DefaultScheduleStatus.RUNNING),
        description="Daily full refresh of every enabled endpoint outside the incremental issues run "
        "(projects, boards and sprints, users and groups, schemes, dimensions, ...).",
    )
    def daily_schedule(context: ScheduleEvaluationContext):
        return RunRequest(tags={TRIGGER_TAG: "schedule"})

    return daily_schedule


# ---- everything together ------------------------------------------------------------------------------------------


def automation_definitions(enabled_names: Iterable[str], site: SiteNames = ONLY_SITE) -> dict[str, list]:
    """Jobs, schedules and sensors for the enabled endpoints (the assets carry their own freshness policies,
    automation conditions and checks): `Definitions(assets=..., **automation_definitions(names), ...)`."""
    enabled = [n for n in enabled_names if n in BY_NAME]
    jobs: list[UnresolvedAssetJobDefinition] = []
    schedules: list = []
    sensors: list = []

    incremental = incremental_names(enabled)
    census = census_names(enabled)
    daily = daily_names(enabled)
    if incremental:
        incremental_job = define_asset_job(
            site.named(INCREMENTAL_JOB), selection=_selection(incremental, site),
            description="issue_search+ and worklog_updated, incrementally (only what changed since the cursor).",
            run_tags={LANE_TAG: site.issues_lane},
        )
        census_job = define_asset_job(
            site.named(CENSUS_JOB), selection=_selection(census, site),
            description=f"issue_search+ with the deletion census ({CENSUS_TAG}={CENSUS_TAG_VALUE}).",
            run_tags={LANE_TAG: site.issues_lane, CENSUS_TAG: CENSUS_TAG_VALUE},
        )
        lane_jobs = [site.named(INCREMENTAL_JOB), site.named(CENSUS_JOB)]
        jobs += [incremental_job, census_job]
        schedules += [build_incremental_schedule(incremental_job, lane_jobs, site),
                      build_census_schedule(census_job, lane_jobs, site)]
        sensors.append(build_change_sensor(incremental_job, lane_jobs, issue_roots(enabled)[0], site))
    if daily:
        daily_job = define_asset_job(
            site.named(DAILY_JOB), selection=_selection(daily, site),
            description="Full refresh of every enabled endpoint outside the incremental issues run.",
        )
        jobs.append(daily_job)
        schedules.append(build_daily_schedule(daily_job, site))

    with_policy = [n for n in enabled if freshness_policy_for(BY_NAME[n]) is not None]
    if with_policy:
        sensors.append(
            AutomationConditionSensorDefinition(
                site.named(FRESHNESS_SENSOR),
                target=_selection(with_policy, site),
                default_status=sensor_status(DefaultSensorStatus.RUNNING),
                minimum_interval_seconds=FRESHNESS_SENSOR_SECONDS,
                run_tags={TRIGGER_TAG: "freshness"},
                description="Re-materializes assets whose freshness policy fails: as soon as it fails, then at "
                "most once per JIRA_ASSETS_FRESHNESS_RETRY_CRON tick while it keeps failing.",
            )
        )
    return {"jobs": jobs, "schedules": schedules, "sensors": sensors}
