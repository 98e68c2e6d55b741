"""Dagster-native operations: freshness policies, schedules, sensors and declarative automation.

What keeps the lake fresh without anyone clicking (defaults; every one is overridable by environment):

| name | kind | default | what it does |
|---|---|---|---|
| `jira_issues_incremental_schedule` | schedule | RUNNING, `0 * * * *` | incremental `issue_search+` (+ `worklog_updated`); a heartbeat so the issues group stays fresh on quiet sites |
| `jira_daily_refresh_schedule` | schedule | RUNNING, `0 2 * * *` | full refresh of every other enabled endpoint |
| `jira_issues_census_schedule` | schedule | RUNNING, `30 3 * * *` | the deletion census at a quiet hour: an `issue_search+` run tagged `jira_assets/census=true` (any issues run still does one when the last is older than JIRA_CENSUS_EVERY_HOURS) |
| `jira_issue_change_sensor` | sensor | RUNNING, every 300 s | one `POST search/approximate-count` per tick; requests an incremental run only when Jira has changes newer than the lake |
| `jira_freshness_automation` | automation condition sensor | RUNNING, every 60 s | re-materializes assets whose freshness policy FAILs (at once, then at most once per retry tick) |

Schedules and the change sensor skip a tick while an issues run (incremental or census) is queued or running.
The freshness re-materialization needs the Dagster daemon (`dagster dev` runs it), which also evaluates the
freshness policies themselves.

Environment (read when the code location loads):

    JIRA_ASSETS_FRESHNESS_GROUP_<GROUP>   "WARN/FAIL" for an asset group, e.g. JIRA_ASSETS_FRESHNESS_GROUP_ISSUES=1h/3h
    JIRA_ASSETS_FRESHNESS_ASSET_<NAME>    the same for one endpoint, e.g. JIRA_ASSETS_FRESHNESS_ASSET_BOARDS=12h/1d
    JIRA_ASSETS_FRESHNESS_DEFAULT         every group without a built-in or configured policy (default 1d/2d)
        Durations: 90s, 30m, 2h, 1d, 1w or sums such as 1d12h. "6h" alone = fail after 6 h, no warning;
        "off" = no freshness policy. Built in: issues 2h/6h, every other group 1d/2d.
    JIRA_ASSETS_INCREMENTAL_CRON          default "0 * * * *"
    JIRA_ASSETS_DAILY_CRON                default "0 2 * * *"
    JIRA_ASSETS_CENSUS_CRON               default "30 3 * * *"
    JIRA_ASSETS_SCHEDULE_TIMEZONE         IANA zone for the three crons, default UTC
    JIRA_ASSETS_CHANGE_SENSOR_SECONDS     change sensor interval, default 300
    JIRA_ASSETS_FRESHNESS_RETRY_CRON      how often a still-failing asset is re-requested, default "0 * * * *"
    JIRA_ASSETS_AUTOMATION_STATUS         default | running | stopped: `stopped` starts every schedule and sensor
                                          above stopped (turn them on in the UI), `running` starts them all
"""

# No `from __future__ import annotations`: Dagster reads the sensor/check parameters' annotations (resources,
# context) at definition time and needs them as real types.

import asyncio
import json
import os
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pyarrow.compute as pc
from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    FreshnessPolicy,
    ResourceParam,
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

from jira_assets.endpoints import BY_NAME, ISSUES, EndpointSpec
from jira_assets.env import env_number
from jira_assets.incremental import CENSUS_TAG, IncrementalSettings
from jira_assets.lake.io_manager import IcebergIOManager
from jira_assets.resources import JiraResource

# ---- names other parts rely on --------------------------------------------------------------------------------

# Run tag that makes an issue_search run do the id-only deletion census (defined by the incremental sync).
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

ISSUE_ROOT = "issue_search"
# Incremental on issue_search's cursor (issue 5), so it rides with the incremental run.
INCREMENTAL_EXTRAS = ("worklog_updated",)

APPROXIMATE_COUNT_PATH = "/rest/api/2/search/approximate-count"

# ---- configuration ----------------------------------------------------------------------------------------------

ENV_PREFIX = "JIRA_ASSETS_"
ENV_FRESHNESS_GROUP = "JIRA_ASSETS_FRESHNESS_GROUP_"
ENV_FRESHNESS_ASSET = "JIRA_ASSETS_FRESHNESS_ASSET_"
ENV_FRESHNESS_DEFAULT = "JIRA_ASSETS_FRESHNESS_DEFAULT"
ENV_INCREMENTAL_CRON = "JIRA_ASSETS_INCREMENTAL_CRON"
ENV_DAILY_CRON = "JIRA_ASSETS_DAILY_CRON"
ENV_CENSUS_CRON = "JIRA_ASSETS_CENSUS_CRON"
ENV_TIMEZONE = "JIRA_ASSETS_SCHEDULE_TIMEZONE"
ENV_SENSOR_SECONDS = "JIRA_ASSETS_CHANGE_SENSOR_SECONDS"
ENV_RETRY_CRON = "JIRA_ASSETS_FRESHNESS_RETRY_CRON"
ENV_STATUS = "JIRA_ASSETS_AUTOMATION_STATUS"

# (warn, fail). Issues, changelogs, comments and worklogs are what analysts watch move; dimensions change rarely.
BUILTIN_FRESHNESS: dict[str, tuple[timedelta | None, timedelta]] = {
    ISSUES: (timedelta(hours=2), timedelta(hours=6)),
}
DEFAULT_FRESHNESS: tuple[timedelta | None, timedelta] = (timedelta(days=1), timedelta(days=2))

DEFAULT_INCREMENTAL_CRON = "0 * * * *"
DEFAULT_DAILY_CRON = "0 2 * * *"
DEFAULT_CENSUS_CRON = "30 3 * * *"
DEFAULT_RETRY_CRON = "0 * * * *"
DEFAULT_SENSOR_SECONDS = 300
FRESHNESS_SENSOR_SECONDS = 60

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)\s*([smhdw])", re.IGNORECASE)


def parse_duration(text: str, *, setting: str = "duration") -> timedelta:
    """'90s', '30m', '2h', '1d', '1w', or sums such as '1d12h' -> timedelta."""
    compact = text.strip().replace(" ", "")
    if not compact or _DURATION.sub("", compact) != "" or not _DURATION.findall(compact):
        raise ValueError(
            f"{setting}: {text!r} is not a duration; use a number with a unit s, m, h, d or w (e.g. 30m, 2h, 1d12h)"
        )
    seconds = sum(int(n) * _UNITS[u.lower()] for n, u in _DURATION.findall(compact))
    if seconds <= 0:
        raise ValueError(f"{setting}: {text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def parse_freshness(text: str, *, setting: str) -> tuple[timedelta | None, timedelta] | None:
    """'WARN/FAIL' ('2h/6h'), 'FAIL' ('6h', no warning) or 'off' -> (warn, fail) or None."""
    value = text.strip().lower()
    if value in ("off", "none", "no", "false", "0"):
        return None
    parts = [p.strip() for p in value.split("/")]
    if len(parts) == 1:
        return None, parse_duration(parts[0], setting=setting)
    if len(parts) != 2:
        raise ValueError(f"{setting}: {text!r} must be WARN/FAIL (e.g. 2h/6h), FAIL alone (6h) or off")
    warn = parse_duration(parts[0], setting=setting)
    fail = parse_duration(parts[1], setting=setting)
    if warn >= fail:
        raise ValueError(f"{setting}: the warning window ({parts[0]}) must be shorter than the failure window "
                         f"({parts[1]}) in {text!r}")
    return warn, fail


def _env_key(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def freshness_windows(spec: EndpointSpec) -> tuple[timedelta | None, timedelta] | None:
    """(warn, fail) for an endpoint: asset env > group env > built-in group default > JIRA_ASSETS_FRESHNESS_DEFAULT."""
    for setting in (ENV_FRESHNESS_ASSET + _env_key(spec.name), ENV_FRESHNESS_GROUP + _env_key(spec.group)):
        raw = os.environ.get(setting)
        if raw is not None and raw.strip():
            return parse_freshness(raw, setting=setting)
    if spec.group in BUILTIN_FRESHNESS:
        return BUILTIN_FRESHNESS[spec.group]
    raw = os.environ.get(ENV_FRESHNESS_DEFAULT)
    if raw is not None and raw.strip():
        return parse_freshness(raw, setting=ENV_FRESHNESS_DEFAULT)
    return DEFAULT_FRESHNESS


def freshness_policy_for(spec: EndpointSpec) -> FreshnessPolicy | None:
    """The asset's freshness policy (Dagster 1.13 `FreshnessPolicy.time_window`), or None when configured off."""
    windows = freshness_windows(spec)
    if windows is None:
        return None
    warn, fail = windows
    return FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)


def _cron(setting: str, default: str) -> str:
    from dagster._utils.schedules import is_valid_cron_string

    value = (os.environ.get(setting) or default).strip()
    if not is_valid_cron_string(value):
        raise ValueError(f"{setting}: {value!r} is not a valid cron expression (e.g. {default!r})")
    return value


def _schedule_timezone() -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = (os.environ.get(ENV_TIMEZONE) or "UTC").strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{ENV_TIMEZONE}: {value!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)") from None
    return value


def _status_override() -> str:
    value = (os.environ.get(ENV_STATUS) or "default").strip().lower()
    if value not in ("default", "running", "stopped"):
        raise ValueError(f"{ENV_STATUS} must be default, running or stopped, not {value!r}")
    return value


def _schedule_status(default: DefaultScheduleStatus) -> DefaultScheduleStatus:
    override = _status_override()
    if override == "default":
        return default
    return DefaultScheduleStatus.RUNNING if override == "running" else DefaultScheduleStatus.STOPPED


def _sensor_status(default: DefaultSensorStatus) -> DefaultSensorStatus:
    override = _status_override()
    if override == "default":
        return default
    return DefaultSensorStatus.RUNNING if override == "running" else DefaultSensorStatus.STOPPED


def _sensor_seconds() -> int:
    return env_number(ENV_SENSOR_SECONDS, DEFAULT_SENSOR_SECONDS, kind=int, minimum=30,
                      what="a whole number of seconds")


# ---- declarative automation: re-materialize what fails its freshness policy ------------------------------------


def freshness_retry_condition() -> AutomationCondition:
    """Request the asset when its freshness turns FAIL, and again at each retry tick while it stays failing.

    The retry tick bounds how often a broken sync is retried (a failing Jira must not be hammered every
    evaluation); nothing is requested while the asset or one of its parents is already being materialized.
    """
    failed = AutomationCondition.freshness_failed()
    retry_tick = AutomationCondition.cron_tick_passed(_cron(ENV_RETRY_CRON, DEFAULT_RETRY_CRON), _schedule_timezone())
    return (
        failed
        & (failed.newly_true() | retry_tick)
        & ~AutomationCondition.in_progress()
        & ~AutomationCondition.any_deps_in_progress()
    ).with_label("freshness failed: re-materialize")


def automation_condition_for(spec: EndpointSpec) -> AutomationCondition | None:
    """The asset's automation condition: only assets with a freshness policy have one."""
    return freshness_retry_condition() if freshness_policy_for(spec) is not None else None


def with_automation(assets_defs: Iterable[AssetsDefinition]) -> list[AssetsDefinition]:
    """Attach freshness policies and the freshness automation condition to assets the factory built without them.

    What the factory already set is kept, so this is a no-op once `build_asset` passes `freshness_policy_for(spec)`
    and `automation_condition_for(spec)` itself.
    """

    def fill(asset_spec):
        name = asset_spec.key.path[-1]
        spec = BY_NAME.get(name)
        if spec is None:
            return asset_spec
        changes: dict[str, Any] = {}
        if asset_spec.freshness_policy is None and freshness_policy_for(spec) is not None:
            changes["freshness_policy"] = freshness_policy_for(spec)
        if asset_spec.automation_condition is None and automation_condition_for(spec) is not None:
            changes["automation_condition"] = automation_condition_for(spec)
        return asset_spec.replace_attributes(**changes) if changes else asset_spec

    return [a.map_asset_specs(fill) for a in assets_defs]


# ---- which assets each job covers -------------------------------------------------------------------------------


def incremental_names(enabled_names: Iterable[str]) -> list[str]:
    """`issue_search+` (issue_search and the endpoints that take their ids from it) plus worklog_updated."""
    enabled = list(enabled_names)
    if ISSUE_ROOT not in enabled:
        return []
    chosen = {ISSUE_ROOT, *INCREMENTAL_EXTRAS}
    chosen |= {n for n in enabled if BY_NAME[n].parent is not None and BY_NAME[n].parent.asset == ISSUE_ROOT}
    return [n for n in enabled if n in chosen]


def census_names(enabled_names: Iterable[str]) -> list[str]:
    """issue_search and its children: what a deletion has to be removed from."""
    return [n for n in incremental_names(enabled_names) if n not in INCREMENTAL_EXTRAS]


def daily_names(enabled_names: Iterable[str]) -> list[str]:
    incremental = set(incremental_names(enabled_names))
    return [n for n in enabled_names if n not in incremental]


def _selection(names: Sequence[str]) -> AssetSelection:
    return AssetSelection.assets(*[AssetKey(n) for n in names])


IN_FLIGHT = (DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
             DagsterRunStatus.STARTED)


def _issues_runs_in_flight(instance, job_names: Sequence[str]) -> list[str]:
    """Ids of queued or running runs that write issue_search (and would race this one on its table).

    A run counts when it is in the issues lane (tag), is one of `job_names`, or selects issue_search explicitly
    (freshness automation, a manual `--select issue_search+`).
    """
    runs = instance.get_runs(filters=RunsFilter(statuses=list(IN_FLIGHT)), limit=100)
    root = AssetKey(ISSUE_ROOT)
    return [
        r.run_id for r in runs
        if r.tags.get(LANE_TAG) == ISSUES_LANE or r.job_name in job_names or root in (r.asset_selection or ())
    ]


# ---- the change sensor -------------------------------------------------------------------------------------------


def issue_filter_jql() -> str:
    """The restriction issue_search syncs with (JIRA_JQL_FILTER, JIRA_START_DATE; else all issues), without ORDER BY,
    so counts cover exactly the issues the sync does."""
    return " AND ".join(IncrementalSettings.from_env().scope_clauses())


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def floor_minute(moment: datetime) -> datetime:
    """Jira compares JQL dates at minute precision; every modern UTC offset is whole minutes, so UTC flooring
    equals flooring in the user's time zone."""
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0)


async def _approximate_count(jira: JiraResource, jql: str, endpoint: str) -> int:
    async with jira.client() as client:
        body = await client.post_json(APPROXIMATE_COUNT_PATH, json={"jql": jql}, endpoint=endpoint,
                                      expect=lambda b: isinstance(b, dict) and isinstance(b.get("count"), int))
    return int(body["count"])


def approximate_count(jira: JiraResource, jql: str, endpoint: str = "approximate_count") -> int:
    """POST /rest/api/2/search/approximate-count: one cheap request, `{"count": N}`."""
    return asyncio.run(_approximate_count(jira, jql, endpoint))


def lake_high_water(lake: IcebergIOManager, name: str = ISSUE_ROOT) -> tuple[datetime | None, int | None]:
    """(max `updated` in the lake's issue_search table, its snapshot id), (None, None) without a table."""
    writer = lake.writer()
    table = writer.load(name)
    if table is None or table.current_snapshot() is None:
        return None, None
    top = _max_from_file_stats(table, "updated")
    if top is _UNKNOWN:
        column = writer.read_table(name, ["updated"], types={"updated": "timestamptz"}).column("updated")
        top = pc.max(column).as_py() if len(column) else None
    return top, table.current_snapshot().snapshot_id


_UNKNOWN = object()


def _max_from_file_stats(table, column: str):
    """A column's maximum from the data files' upper bounds (metadata only, no data read); _UNKNOWN when some file
    has no statistics for it (then the caller scans the column)."""
    try:
        files = table.inspect.files()
        if files.num_rows == 0:
            return None
        bounds = files.column("readable_metrics").combine_chunks().field(column).field("upper_bound")
    except Exception:  # no such column, or a catalog without readable metrics
        return _UNKNOWN
    if bounds.null_count:
        return _UNKNOWN
    return pc.max(bounds).as_py()


def _parse_cursor(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def build_change_sensor(job: UnresolvedAssetJobDefinition, in_flight_jobs: Sequence[str]):
    @sensor(
        name=CHANGE_SENSOR,
        job=job,
        minimum_interval_seconds=_sensor_seconds(),
        default_status=_sensor_status(DefaultSensorStatus.RUNNING),
        description=(
            "Asks Jira for the approximate number of issues updated after the newest `updated` in the lake "
            "(one POST search/approximate-count) and requests an incremental issues run only when it is not zero. "
            "Cursor: the lake's high-water mark (max issue_search.updated); the sensor's own cursor when the lake "
            "cannot be read."
        ),
    )
    def jira_issue_change_sensor(context: SensorEvaluationContext, jira: JiraResource,
                                 lake: ResourceParam[IcebergIOManager]):
        busy = _issues_runs_in_flight(context.instance, in_flight_jobs)
        if busy:
            return SkipReason(f"an issues run is already queued or running ({', '.join(busy)}); not asking Jira")
        previous = _parse_cursor(context.cursor)
        try:
            high_water, snapshot_id = lake_high_water(lake)
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
        jql = f"({issue_filter_jql()}) AND updated >= {epoch_ms(since)}"
        count = approximate_count(jira, jql, endpoint="change_sensor")
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


def build_incremental_schedule(job: UnresolvedAssetJobDefinition, in_flight_jobs: Sequence[str]):
    @schedule(
        name=INCREMENTAL_SCHEDULE,
        job=job,
        cron_schedule=_cron(ENV_INCREMENTAL_CRON, DEFAULT_INCREMENTAL_CRON),
        execution_timezone=_schedule_timezone(),
        default_status=_schedule_status(DefaultScheduleStatus.RUNNING),
        description="Incremental issue_search+ (and worklog_updated): fetches only what changed since the cursor. "
        "Also the heartbeat that keeps the issues group fresh when nothing changes. Skips while an issues run "
        "is queued or running.",
    )
    def incremental_schedule(context: ScheduleEvaluationContext):
        busy = _issues_runs_in_flight(context.instance, in_flight_jobs)
        if busy:
            return SkipReason(f"an issues run is already queued or running ({', '.join(busy)})")
        return RunRequest(tags={TRIGGER_TAG: "schedule"})

    return incremental_schedule


def build_census_schedule(job: UnresolvedAssetJobDefinition, in_flight_jobs: Sequence[str]):
    @schedule(
        name=CENSUS_SCHEDULE,
        job=job,
        cron_schedule=_cron(ENV_CENSUS_CRON, DEFAULT_CENSUS_CRON),
        execution_timezone=_schedule_timezone(),
        default_status=_schedule_status(DefaultScheduleStatus.RUNNING),
        description=f"Deletion census: an issue_search+ run tagged {CENSUS_TAG}={CENSUS_TAG_VALUE}, which lists "
        "every issue id (fields=id, 5000 a page) and removes issues deleted in Jira from issue_search and its "
        "children. Skips while an issues run is queued or running.",
    )
    def census_schedule(context: ScheduleEvaluationContext):
        busy = _issues_runs_in_flight(context.instance, in_flight_jobs)
        if busy:
            return SkipReason(f"an issues run is already queued or running ({', '.join(busy)})")
        return RunRequest(tags={TRIGGER_TAG: "schedule", CENSUS_TAG: CENSUS_TAG_VALUE})

    return census_schedule


def build_daily_schedule(job: UnresolvedAssetJobDefinition):
    @schedule(
        name=DAILY_SCHEDULE,
        job=job,
        cron_schedule=_cron(ENV_DAILY_CRON, DEFAULT_DAILY_CRON),
        execution_timezone=_schedule_timezone(),
        default_status=_schedule_status(DefaultScheduleStatus.RUNNING),
        description="Daily full refresh of every enabled endpoint outside the incremental issues run "
        "(projects, boards and sprints, users and groups, schemes, dimensions, ...).",
    )
    def daily_schedule(context: ScheduleEvaluationContext):
        return RunRequest(tags={TRIGGER_TAG: "schedule"})

    return daily_schedule


# ---- everything together ------------------------------------------------------------------------------------------


def automation_definitions(
    assets_defs: Sequence[AssetsDefinition], enabled_names: Iterable[str]
) -> dict[str, list]:
    """Jobs, schedules, sensors and asset checks for the enabled endpoints.

    `Definitions(assets=with_automation(assets), **automation_definitions(assets, names), ...)`.
    """
    from jira_assets.asset_checks import build_asset_checks

    enabled = [n for n in enabled_names if n in BY_NAME]
    jobs: list[UnresolvedAssetJobDefinition] = []
    schedules: list = []
    sensors: list = []

    incremental = incremental_names(enabled)
    census = census_names(enabled)
    daily = daily_names(enabled)
    lane_jobs: list[str] = []
    if incremental:
        incremental_job = define_asset_job(
            INCREMENTAL_JOB, selection=_selection(incremental),
            description="issue_search+ and worklog_updated, incrementally (only what changed since the cursor).",
            run_tags={LANE_TAG: ISSUES_LANE},
        )
        census_job = define_asset_job(
            CENSUS_JOB, selection=_selection(census),
            description=f"issue_search+ with the deletion census ({CENSUS_TAG}={CENSUS_TAG_VALUE}).",
            run_tags={LANE_TAG: ISSUES_LANE, CENSUS_TAG: CENSUS_TAG_VALUE},
        )
        lane_jobs = [INCREMENTAL_JOB, CENSUS_JOB]
        jobs += [incremental_job, census_job]
        schedules += [build_incremental_schedule(incremental_job, lane_jobs),
                      build_census_schedule(census_job, lane_jobs)]
        sensors.append(build_change_sensor(incremental_job, lane_jobs))
    if daily:
        daily_job = define_asset_job(
            DAILY_JOB, selection=_selection(daily),
            description="Full refresh of every enabled endpoint outside the incremental issues run.",
        )
        jobs.append(daily_job)
        schedules.append(build_daily_schedule(daily_job))

    with_policy = [n for n in enabled if freshness_policy_for(BY_NAME[n]) is not None]
    if with_policy:
        sensors.append(
            AutomationConditionSensorDefinition(
                FRESHNESS_SENSOR,
                target=_selection(with_policy),
                default_status=_sensor_status(DefaultSensorStatus.RUNNING),
                minimum_interval_seconds=FRESHNESS_SENSOR_SECONDS,
                run_tags={TRIGGER_TAG: "freshness"},
                description="Re-materializes assets whose freshness policy fails: as soon as it fails, then at "
                "most once per JIRA_ASSETS_FRESHNESS_RETRY_CRON tick while it keeps failing.",
            )
        )

    return {
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "asset_checks": build_asset_checks(enabled),
    }
