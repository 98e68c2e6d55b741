"""The lake's upkeep as Dagster job and schedule: compaction, snapshot expiry and orphan removal (lake/maintenance.py)
of every table of a site's lake, daily.

| name | kind | default | what it does |
|---|---|---|---|
| `jira_lake_maintenance` | job | | one op that maintains every enabled table of the site's lake, table by table, each under the lock its syncs take |
| `jira_lake_maintenance_schedule` | schedule | RUNNING, `45 4 * * *` | the job, daily, between the census (03:30) and the next hour's incremental run |

A deployment of several sites gets one job and schedule per site (`jira_lake_maintenance_<site>`), each on the
site's lake resource (`lake_<site>`). Each table's figures go to an observation of its asset; the op's output
carries the totals.

Environment (the schedule's cron when the code location loads, the rest when the run starts; the run's config wins):

    JIRA_ASSETS_MAINTENANCE_CRON        default "45 4 * * *"
    JIRA_ASSETS_KEEP_SNAPSHOTS_DAYS     time travel window, default 7 (commits still needed are kept beyond it)
    JIRA_ASSETS_ORPHAN_MIN_AGE_HOURS    unreferenced files younger than this stay, default 1
    JIRA_ASSETS_COMPACT_TARGET_MB       compacted file size, on disk, default 8
"""

# No `from __future__ import annotations`: Dagster reads the op's config annotation at definition time.

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from dagster import (
    AssetObservation,
    Config,
    DefaultScheduleStatus,
    Failure,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    ScheduleDefinition,
    job,
    op,
)

from jira_assets.defs.automation import TRIGGER_TAG
from jira_assets.defs.freshness import cron_setting, schedule_status, schedule_timezone
from jira_assets.defs.site import ONLY_SITE, SiteNames
from jira_assets.endpoints import BY_NAME
from jira_assets.env import env_number
from jira_assets.lake.history import SUMMARIZED_COMMITS
from jira_assets.lake.maintenance import (
    DEFAULT_COMPACT_TARGET_MB,
    DEFAULT_KEEP_SNAPSHOTS_DAYS,
    DEFAULT_ORPHAN_MIN_AGE_HOURS,
    LakeMaintenance,
    MaintenancePolicy,
    Retain,
    TableMaintenance,
)
from jira_assets.lake.reader import SITE_PROPERTY, LakeReader
from jira_assets.sync import summary as keys
from jira_assets.sync.scope import parse_instant

MAINTENANCE_JOB = "jira_lake_maintenance"
MAINTENANCE_SCHEDULE = "jira_lake_maintenance_schedule"
MAINTENANCE_OP = "maintain_lake_tables"
ENV_MAINTENANCE_CRON = "JIRA_ASSETS_MAINTENANCE_CRON"
DEFAULT_MAINTENANCE_CRON = "45 4 * * *"
KEEP_SNAPSHOTS_DAYS_ENV = "JIRA_ASSETS_KEEP_SNAPSHOTS_DAYS"
ORPHAN_MIN_AGE_HOURS_ENV = "JIRA_ASSETS_ORPHAN_MIN_AGE_HOURS"
COMPACT_TARGET_MB_ENV = "JIRA_ASSETS_COMPACT_TARGET_MB"
# Per-commit lists nobody reads as a 'last committed' value: not kept once their commits expire.
NOT_KEPT_AFTER_EXPIRY = (keys.CENSUS_GONE,)


class MaintenanceConfig(Config):
    """Run config of the maintenance op; unset values come from the environment (module docstring)."""

    keep_snapshots_days: Optional[float] = None
    orphan_min_age_hours: Optional[float] = None
    target_file_mb: Optional[float] = None
    lock_timeout_seconds: float = 600.0
    tables: Optional[list[str]] = None  # a subset of the job's tables (default: all of them)

    def policy(self) -> MaintenancePolicy:
        days = self.keep_snapshots_days
        if days is None:
            days = env_number(KEEP_SNAPSHOTS_DAYS_ENV, DEFAULT_KEEP_SNAPSHOTS_DAYS, what="a number of days")
        hours = self.orphan_min_age_hours
        if hours is None:
            hours = env_number(ORPHAN_MIN_AGE_HOURS_ENV, DEFAULT_ORPHAN_MIN_AGE_HOURS, what="a number of hours")
        mb = self.target_file_mb
        if mb is None:
            mb = env_number(COMPACT_TARGET_MB_ENV, DEFAULT_COMPACT_TARGET_MB, above=0, what="a number of megabytes")
        return MaintenancePolicy(keep_snapshots=dt.timedelta(days=days), orphan_min_age=dt.timedelta(hours=hours),
                                 target_file_bytes=max(1, int(mb * 1024 * 1024)),
                                 lock_timeout=self.lock_timeout_seconds)


# ---- which commits expiry must keep --------------------------------------------------------------------------------


def upstream_tables(name: str) -> set[str]:
    """The tables whose commits `name`'s strategy follows or reads (its parent, `reads`, `requires`)."""
    spec = BY_NAME.get(name)
    if spec is None:
        return set()
    ups = {spec.parent.asset} if spec.parent else set()
    return ups | set(getattr(spec.sync, "reads", ())) | set(getattr(spec.sync, "requires", ()))


def retention_rules(reader: LakeReader, names: Iterable[str]) -> dict[str, Retain]:
    """For each table other tables follow: keep its commits some follower has not processed yet.

    A follower records the newest commit of its parent it has processed (`jira.parent.synced-at`, per site); the
    parent's commits synced after the oldest of those are what its next run walks (its census deletions, full
    loads), so expiry keeps them whatever their age. A follower that never committed for a site reloads fully: it
    needs nothing kept."""
    names = list(names)
    followers: dict[str, list[str]] = {}
    for name in names:
        for parent in upstream_tables(name):
            followers.setdefault(parent, []).append(name)
    rules: dict[str, Retain] = {}
    for parent, children in followers.items():
        marks: dict[Optional[str], dt.datetime] = {}
        for child in children:
            for site, mark in _watermarks(reader, child).items():
                marks[site] = min(mark, marks.get(site, mark))
        if marks:
            rules[parent] = _unprocessed_by(marks)
    return rules


def _watermarks(reader: LakeReader, table: str) -> dict[Optional[str], dt.datetime]:
    """The newest parent watermark of each site's commits of `table`."""
    found: dict[Optional[str], dt.datetime] = {}
    for props in reader.commit_properties(table):
        site = props.get(SITE_PROPERTY)
        if site in found or (site is None and SUMMARIZED_COMMITS in props):
            continue  # the site's newest already seen, or the whole table's summary (not one site's)
        mark = parse_instant(props.get(keys.PARENT_WATERMARK))
        if mark is not None:
            found[site] = mark
    return found


def _unprocessed_by(marks: Mapping[Optional[str], dt.datetime]) -> Retain:
    def retain(props: Mapping[str, str]) -> bool:
        synced = parse_instant(props.get(keys.SYNCED_AT))
        mark = marks.get(props.get(SITE_PROPERTY))
        return synced is not None and mark is not None and synced > mark

    return retain


# ---- the op, job and schedule --------------------------------------------------------------------------------------


def _observation(result: TableMaintenance) -> dict[str, Any]:
    figures = result.summary()
    metadata: dict[str, Any] = {k: v for k, v in figures.items() if k != "skipped"}
    metadata["table"] = result.table
    if figures["skipped"]:
        metadata["skipped"] = figures["skipped"]
    return metadata


def _totals(results: Sequence[TableMaintenance]) -> dict[str, Any]:
    def total(key: str) -> int:
        return int(sum(r.summary()[key] for r in results))

    keys_ = ("files_before", "files_after", "snapshots_expired", "orphans_removed", "orphan_bytes_removed",
             "data_bytes_before", "data_bytes_after", "metadata_bytes_before", "metadata_bytes_after")
    metadata: dict[str, Any] = {k: total(k) for k in keys_}
    metadata["tables"] = len(results)
    rows = ["| table | files before | after | snapshots expired | orphans removed | bytes removed | skipped |",
            "|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        s = r.summary()
        rows.append(f"| {r.table} | {s['files_before']} | {s['files_after']} | {s['snapshots_expired']} | "
                    f"{s['orphans_removed']} | {s['orphan_bytes_removed']:,} | {s['skipped']} |")
    metadata["per_table"] = MetadataValue.md("\n".join(rows))
    return metadata


def build_maintenance_op(table_names: Sequence[str], site: SiteNames = ONLY_SITE):
    names = list(dict.fromkeys(table_names))

    @op(
        name=site.op(MAINTENANCE_OP),
        required_resource_keys={site.lake_key},
        out=Out(Nothing, description="nothing stored; the totals are its metadata"),
        description="Compacts small data files, expires snapshots outside the time-travel window (keeping the "
        "commits cursors and following tables still need) and removes orphaned files, for every table of the "
        "site's lake, each under the lock its syncs take.",
    )
    def maintain_lake_tables(context: OpExecutionContext, config: MaintenanceConfig):
        lake = getattr(context.resources, site.lake_key)
        policy = config.policy()
        chosen = names if config.tables is None else [n for n in names if n in set(config.tables)]
        unknown = sorted(set(config.tables or ()) - set(names))
        if unknown:
            raise Failure(description=f"not tables of this job: {', '.join(unknown)}", allow_retries=False)
        writer = lake.writer()
        maintenance = LakeMaintenance(writer, policy, exclude_from_history=NOT_KEPT_AFTER_EXPIRY)
        rules = retention_rules(writer, names)
        snowflake = getattr(lake, "snowflake", None)
        results: list[TableMaintenance] = []
        errors: list[str] = []
        context.log.info(f"maintaining {len(chosen)} tables: keep {policy.keep_snapshots.total_seconds() / 86400:g} "
                         f"days of snapshots, orphans older than {policy.orphan_min_age.total_seconds() / 3600:g} h, "
                         f"compact files under {policy.small_bytes:,} bytes into <= {policy.target_file_bytes:,}")

        def refresh_snowflake(name: str):
            def after_commit(table) -> None:
                if snowflake is not None:
                    snowflake.after_commit(name, table.metadata_location, context, namespace=lake.namespace)
            return after_commit

        for name in chosen:
            try:
                result = maintenance.maintain(name, retain=rules.get(name), after_commit=refresh_snowflake(name),
                                              on_wait=context.log.info)
            except Exception as exc:  # one table's failure must not stop the others' upkeep
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
                context.log.error(f"maintenance of {name} failed: {type(exc).__name__}: {exc}")
                continue
            if not result.exists:
                continue
            results.append(result)
            if result.skipped:
                context.log.warning(f"{name}: {result.skipped}")
            context.log_event(AssetObservation(asset_key=site.key(name), metadata=_observation(result)))
        totals = _totals(results)
        if errors:
            raise Failure(description=f"maintenance failed for {len(errors)} of {len(chosen)} tables: "
                          + "; ".join(errors), metadata=totals)
        yield Output(None, metadata=totals)

    return maintain_lake_tables


def maintenance_definitions(table_names: Iterable[str], site_names: SiteNames | Sequence[SiteNames] = (ONLY_SITE,)
                            ) -> dict[str, list]:
    """A maintenance job and its daily schedule per site: `jobs += d["jobs"]; schedules += d["schedules"]`."""
    names = [n for n in dict.fromkeys(table_names)]
    sites = [site_names] if isinstance(site_names, SiteNames) else list(site_names)
    jobs, schedules = [], []
    for site in sites:
        maintain = build_maintenance_op(names, site)

        @job(name=site.named(MAINTENANCE_JOB), tags={"jira_assets/maintenance": "true"},
             description="Compaction, snapshot expiry and orphan removal of every table"
             + (f" of {site.prefix}'s lake." if site.prefix else " of the lake."))
        def maintenance_job():
            maintain()

        jobs.append(maintenance_job)
        schedules.append(ScheduleDefinition(
            name=site.named(MAINTENANCE_SCHEDULE),
            job=maintenance_job,
            cron_schedule=cron_setting(ENV_MAINTENANCE_CRON, DEFAULT_MAINTENANCE_CRON),
            execution_timezone=schedule_timezone(),
            default_status=schedule_status(DefaultScheduleStatus.RUNNING),
            tags={TRIGGER_TAG: "schedule"},
            description="Daily lake maintenance: small files compacted, snapshots outside the time-travel window "
            "expired (cursors kept), orphaned files removed. Safe while syncs run (the tables' locks).",
        ))
    return {"jobs": jobs, "schedules": schedules}
