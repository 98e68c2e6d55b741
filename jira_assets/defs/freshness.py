"""Freshness policies, the freshness re-materialization condition, and the schedule settings they share.

Environment (read when the code location loads; README "Operations"):

    JIRA_ASSETS_FRESHNESS_GROUP_<GROUP>   "WARN/FAIL" for an asset group, e.g. JIRA_ASSETS_FRESHNESS_GROUP_ISSUES=1h/3h
    JIRA_ASSETS_FRESHNESS_ASSET_<NAME>    the same for one endpoint, e.g. JIRA_ASSETS_FRESHNESS_ASSET_BOARDS=12h/1d
    JIRA_ASSETS_FRESHNESS_DEFAULT         every group without a built-in or configured policy (default 1d/2d)
        Durations: 90s, 30m, 2h, 1d, 1w or sums such as 1d12h. "6h" alone = fail after 6 h, no warning;
        "off" = no freshness policy. Built in: issues 2h/6h, every other group 1d/2d.
    JIRA_ASSETS_SCHEDULE_TIMEZONE         IANA zone of every cron here and in automation.py, default UTC
    JIRA_ASSETS_FRESHNESS_RETRY_CRON      how often a still-failing asset is re-requested, default "0 * * * *"
    JIRA_ASSETS_AUTOMATION_STATUS         default | running | stopped: `stopped` starts every schedule and sensor
                                          stopped (turn them on in the UI), `running` starts them all
"""

# No `from __future__ import annotations`: kept like the other Dagster-facing modules.

import os
import re
from datetime import timedelta

from dagster import AutomationCondition, DefaultScheduleStatus, DefaultSensorStatus, FreshnessPolicy

from jira_assets.endpoints import ISSUES
from jira_assets.spec import EndpointSpec

ENV_FRESHNESS_GROUP = "JIRA_ASSETS_FRESHNESS_GROUP_"
ENV_FRESHNESS_ASSET = "JIRA_ASSETS_FRESHNESS_ASSET_"
ENV_FRESHNESS_DEFAULT = "JIRA_ASSETS_FRESHNESS_DEFAULT"
ENV_TIMEZONE = "JIRA_ASSETS_SCHEDULE_TIMEZONE"
ENV_RETRY_CRON = "JIRA_ASSETS_FRESHNESS_RETRY_CRON"
ENV_STATUS = "JIRA_ASSETS_AUTOMATION_STATUS"

# (warn, fail). Issues, changelogs, comments and worklogs are what analysts watch move; dimensions change rarely.
BUILTIN_FRESHNESS: dict[str, tuple[timedelta | None, timedelta]] = {
    ISSUES: (timedelta(hours=2), timedelta(hours=6)),
}
DEFAULT_FRESHNESS: tuple[timedelta | None, timedelta] = (timedelta(days=1), timedelta(days=2))

DEFAULT_RETRY_CRON = "0 * * * *"

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


def cron_setting(setting: str, default: str) -> str:
    from dagster._utils.schedules import is_valid_cron_string

    value = (os.environ.get(setting) or default).strip()
    if not is_valid_cron_string(value):
        raise ValueError(f"{setting}: {value!r} is not a valid cron expression (e.g. {default!r})")
    return value


def schedule_timezone() -> str:
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


def schedule_status(default: DefaultScheduleStatus) -> DefaultScheduleStatus:
    override = _status_override()
    if override == "default":
        return default
    return DefaultScheduleStatus.RUNNING if override == "running" else DefaultScheduleStatus.STOPPED


def sensor_status(default: DefaultSensorStatus) -> DefaultSensorStatus:
    override = _status_override()
    if override == "default":
        return default
    return DefaultSensorStatus.RUNNING if override == "running" else DefaultSensorStatus.STOPPED


# ---- declarative automation: re-materialize what fails its freshness policy ------------------------------------


def freshness_retry_condition() -> AutomationCondition:
    """Request the asset when its freshness turns FAIL, and again at each retry tick while it stays failing.

    The retry tick bounds how often a broken sync is retried (a failing Jira must not be hammered every
    evaluation); nothing is requested while the asset or one of its parents is already being materialized.
    """
    failed = AutomationCondition.freshness_failed()
    retry_tick = AutomationCondition.cron_tick_passed(cron_setting(ENV_RETRY_CRON, DEFAULT_RETRY_CRON), schedule_timezone())
    return (
        failed
        & (failed.newly_true() | retry_tick)
        & ~AutomationCondition.in_progress()
        & ~AutomationCondition.any_deps_in_progress()
    ).with_label("freshness failed: re-materialize")


def automation_condition_for(spec: EndpointSpec) -> AutomationCondition | None:
    """The asset's automation condition: only assets with a freshness policy have one."""
    return freshness_retry_condition() if freshness_policy_for(spec) is not None else None
