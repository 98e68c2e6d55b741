"""The issue-keyed history tables (issue_field_history, issue_status_intervals, issue_flow): rows per issue computed
from its changelog and its current record, read from the lake, with no request.

Each follows issue_search's commits as the children do, but never past what issue_changelog has processed (its
watermark), so an issue's changelog and record always agree: after the first build, only issues synced since the
table's last commit are recomputed (their rows replaced in one commit), and issues the census found deleted lose
theirs. The issues and their changelogs are brought together bucket by bucket (buckets.py), so memory stays flat.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jira_assets.derived.buckets import Buckets, bucket_count
from jira_assets.derived.checks import ROW_PER_ISSUE_CHECK, SECONDS_CHECK, current_check, interval_checks
from jira_assets.derived.flow import FlowFields, FlowStages, Status, flow_row, status_intervals
from jira_assets.derived.timeline import ADD_REMOVE, Change, FieldKinds, Interval, changes_of, field_history
from jira_assets.jira.custom_fields import SPRINT
from jira_assets.lake.arrow import RAW_COLUMN, SYNCED_AT_COLUMN
from jira_assets.sync import summary as keys
from jira_assets.sync.base import LakeView, SyncContext, SyncPlan, SyncStrategy
from jira_assets.sync.custom_columns import field_rows_from, site_columns
from jira_assets.sync.follow_parent import parent_changes
from jira_assets.sync.scope import parse_instant

FLAGGED_FIELD_NAME = "Flagged"  # Jira Software's impediment flag (a checkbox custom field)
ISSUE_COLUMNS = ("id", "key", "project_id", "project_key", "issue_type_id", "created", "status_id")
CHANGELOG_COLUMNS = ("issue_id", "id", "created", "author_account_id", "items")
PUSHDOWN_IDS = 5000  # changed issues up to this many are looked up by id in the changelog scan; more, it is read whole


@dataclass
class Catalogue:
    """What the field and status catalogues say, as the history tables need it."""

    kinds: FieldKinds
    statuses: dict[str, Status]
    flow_fields: FlowFields

    @classmethod
    def read(cls, lake: LakeView, fields: str, statuses: str) -> Catalogue:
        rows = field_rows_from(lake.read_table(fields, [RAW_COLUMN]).column(RAW_COLUMN).to_pylist()) \
            if lake.table_exists(fields) else []
        flagged = next((str(r["id"]) for r in rows if r.get("name") == FLAGGED_FIELD_NAME), None)
        sprint = next((str(r["id"]) for r in rows if (r.get("schema") or {}).get("custom") == SPRINT), None)
        table = lake.read_table(statuses, ["id", "name", "status_category_key"])
        known = {str(i): Status(str(i), n, k) for i, n, k in zip(*(table.column(c).to_pylist() for c in
                                                                   ("id", "name", "status_category_key")))}
        return cls(FieldKinds.from_catalogue(rows), known, FlowFields(flagged, sprint))


@dataclass
class IssueTimeline:
    """One issue as the history tables see it: its record's columns, its changes and each field's intervals."""

    record: dict[str, Any]  # ISSUE_COLUMNS of issue_search
    raw: str | None
    changes: list[Change]
    history: dict[str, list[Interval]]
    flagged_now: bool

    @property
    def issue_id(self) -> str:
        return str(self.record["id"])

    @property
    def created(self) -> dt.datetime:
        return self.record["created"]

    def current_status(self, catalogue: Catalogue) -> Status:
        status_id = str(self.record.get("status_id") or "")
        known = catalogue.statuses.get(status_id)
        if known is not None:
            return known
        fields = json.loads(self.raw).get("fields") or {} if self.raw else {}
        status = fields.get("status") or {}
        return Status(status_id, status.get("name"), (status.get("statusCategory") or {}).get("key"))


def _needs_current(changes: list[Change]) -> bool:
    """Whether working back an add/remove field's sets needs the issue's current fields."""
    return any(str(item.get("fieldId") or item.get("field")) in ADD_REMOVE or item.get("field") in ADD_REMOVE
               for change in changes for item in change.items)


def _has_value(value: Any) -> bool:
    return value not in (None, "", [], {})


@dataclass(frozen=True, repr=False)
class IssueHistoryTable(SyncStrategy):
    """A table of rows per issue computed from its timeline; subclasses say which rows (`rows_of`)."""

    issues: str = "issue_search"
    changelog: str = "issue_changelog"
    field_catalogue: str = "fields"
    statuses: str = "statuses"
    derived = True
    incremental = True  # rides with the incremental issues run, after the changelog
    follows_deletions = True

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.changelog, self.field_catalogue, self.statuses)

    @property
    def requires(self) -> tuple[str, ...]:
        # Without the field catalogue and the statuses the rows would differ (a list field's empty value, a
        # status's category), and an incremental run would never correct them.
        return (self.issues, self.changelog, self.field_catalogue, self.statuses)

    def settings(self, ctx: SyncContext) -> Any:
        """The settings the rows are computed with (read once per run from the site's settings), or None."""
        return None

    def settings_fingerprint(self, settings: Any) -> str:
        """Changes with the settings, which rebuilds the table whole ("" when there are none)."""
        return ""

    def rows_of(self, issue: IssueTimeline, catalogue: Catalogue, settings: Any) -> Iterable[dict[str, Any]]:
        raise NotImplementedError

    def plan(self, ctx: SyncContext) -> SyncPlan:
        spec, lake = ctx.spec, ctx.lake
        self.check_inputs(ctx)
        # Never past the issue_search commit whose changelogs are in the lake.
        bound = parse_instant(lake.last_committed_property(self.changelog, keys.PARENT_WATERMARK))
        commits = [p for p in lake.commit_properties(self.issues)
                   if bound is None or (parse_instant(p.get(keys.SYNCED_AT)) or bound) <= bound]
        own = parse_instant(lake.last_committed_property(spec.name, keys.PARENT_WATERMARK))
        changes = parent_changes(commits, own)
        settings = self.settings(ctx)
        fingerprint = self.settings_fingerprint(settings)
        full = (changes.full or ctx.options.full_refresh or not lake.table_exists(spec.name)
                or (fingerprint and lake.last_committed_property(spec.name, keys.SETTINGS) != fingerprint))
        summary = {keys.FULL: str(bool(full)).lower()}
        if fingerprint:
            summary[keys.SETTINGS] = fingerprint
        watermark = changes.watermark if changes.watermark is not None else own
        if watermark is not None:
            summary[keys.PARENT_WATERMARK] = watermark.isoformat()
        since = None if full else changes.since
        changed = _issues_synced(lake, self.issues, since, watermark)
        gone = sorted(changes.gone_ids)
        metadata: dict[str, Any] = {"incremental": not full, "issues_changed": len(changed),
                                    "issues_deleted": len(gone)}
        catalogue = Catalogue.read(lake, self.field_catalogue, self.statuses)
        flagged_column = field_column(lake, self.issues, catalogue.flow_fields.flagged, ctx.site)
        changelog_rows = lake.row_count(self.changelog)
        issue_rows = max(1, lake.row_count(self.issues))

        def issue_batches() -> Iterator[pa.RecordBatch]:
            present = set(lake.column_types(self.issues))
            wanted = (*ISSUE_COLUMNS, *([flagged_column] if flagged_column else []), RAW_COLUMN, SYNCED_AT_COLUMN)
            columns = [c for c in wanted if c in present]
            newer = None if since is None else (SYNCED_AT_COLUMN, since)
            for batch in lake.iter_batches(self.issues, columns, newer_than=newer):
                if watermark is not None:
                    limit = pa.scalar(watermark, pa.timestamp("us", tz="UTC"))
                    batch = batch.filter(pc.less_equal(batch.column(SYNCED_AT_COLUMN), limit))
                yield batch

        async def pages(client):
            if not changed:
                return
            with Buckets(bucket_count(changelog_rows * len(changed) // issue_rows)) as buckets:
                buckets.add("issues", issue_batches(), "id")
                ids = None if full or len(changed) > PUSHDOWN_IDS else changed
                buckets.add("changelog", _changelog_batches(lake, self.changelog, ids, None if full else changed),
                            "issue_id")
                for part in buckets.each(["issues", "changelog"]):
                    page = []
                    for issue in _timelines(part["issues"], part["changelog"], catalogue, flagged_column):
                        page.extend(({k: v for k, v in row.items() if k != "issue_id"},
                                     {"issue_id": issue.issue_id}) for row in self.rows_of(issue, catalogue, settings))
                    if page:
                        yield page

        def deletes() -> list[pa.Table]:
            return [pa.table({"issue_id": pa.array(changed + gone, pa.string())})]

        return SyncPlan(pages, "replace" if full else "merge", summary, None if full else deletes, metadata)


def field_column(lake: LakeView, table: str, field_id: str | None, site: str | None) -> str | None:
    """The issue table's column this site fills with a custom field's value, if any."""
    if not field_id:
        return None
    return next((column for column, key in site_columns(lake, table, site).items() if key == (field_id, "")), None)


def _issues_synced(lake: LakeView, table: str, since: dt.datetime | None, until: dt.datetime | None) -> list[str]:
    """Ids of the issue rows synced after `since` (all when None) and not after `until`."""
    rows = lake.read_table(table, ["id", SYNCED_AT_COLUMN], types={SYNCED_AT_COLUMN: "timestamptz"})
    stamps = rows.column(SYNCED_AT_COLUMN)
    keep = None
    if since is not None:
        keep = pc.greater(stamps, pa.scalar(since, pa.timestamp("us", tz="UTC")))
    if until is not None:
        upto = pc.less_equal(stamps, pa.scalar(until, pa.timestamp("us", tz="UTC")))
        keep = upto if keep is None else pc.and_(keep, upto)
    if keep is not None:
        rows = rows.filter(keep)
    return [str(i) for i in rows.column("id").to_pylist()]


def _changelog_batches(lake: LakeView, table: str, ids: list[str] | None, wanted: list[str] | None):
    """The changelog rows of the wanted issues (every row when None): looked up by id when there are few, else
    read whole and filtered."""
    matching = None if ids is None else ("issue_id", ids)
    wanted_array = None if wanted is None or ids is not None else pa.array(wanted, pa.string())
    for batch in lake.iter_batches(table, list(CHANGELOG_COLUMNS), matching=matching):
        if wanted_array is not None:
            batch = batch.filter(pc.is_in(batch.column("issue_id").cast(pa.string()), value_set=wanted_array))
        yield batch


def _timelines(issues: pa.Table, changelog: pa.Table, catalogue: Catalogue,
               flagged_column: str | None) -> Iterator[IssueTimeline]:
    by_issue: dict[str, list[dict]] = {}
    if changelog.num_rows:
        for row in changelog.to_pylist():
            by_issue.setdefault(str(row["issue_id"]), []).append(row)
    columns = [c for c in ISSUE_COLUMNS if c in issues.column_names]
    records = issues.select(columns).to_pylist()
    raws = issues.column(RAW_COLUMN).to_pylist() if RAW_COLUMN in issues.column_names else [None] * len(records)
    flags = (issues.column(flagged_column).to_pylist() if flagged_column and flagged_column in issues.column_names
             else [None] * len(records))
    for record, raw, flag in zip(records, raws, flags):
        changes = changes_of(by_issue.get(str(record["id"]), []))
        current = None
        fields: dict[str, Any] | None = None
        if raw and (_needs_current(changes) or (flagged_column is None and catalogue.flow_fields.flagged)):
            fields = (json.loads(raw).get("fields") or {})
            current = fields
        flagged_now = _has_value(flag) if flagged_column else _has_value(
            (fields or {}).get(catalogue.flow_fields.flagged or ""))
        yield IssueTimeline(record, raw, changes, field_history(record["created"], changes, catalogue.kinds, current),
                            flagged_now)


@dataclass(frozen=True, repr=False)
class FieldHistory(IssueHistoryTable):
    """issue_field_history: every field's intervals."""

    name = "derived_field_history"
    checks = (interval_checks(["issue_id", "field_id"], "valid_from", "valid_to"),
              current_check("field_id", "value_id"))

    def rows_of(self, issue, catalogue, settings):
        for field_id, intervals in issue.history.items():
            for sequence, interval in enumerate(intervals, start=1):
                yield {
                    "issue_id": issue.issue_id, "field_id": field_id, "field": interval.field,
                    "sequence": sequence, "valid_from": interval.valid_from, "valid_to": interval.valid_to,
                    "value": interval.value, "value_id": interval.value_id, "values": interval.values,
                    "value_ids": interval.value_ids, "author_account_id": interval.author,
                    "changelog_id": interval.history_id,
                }


@dataclass(frozen=True, repr=False)
class StatusIntervals(IssueHistoryTable):
    """issue_status_intervals: the status field's intervals, with categories and directions."""

    name = "derived_status_intervals"
    checks = (interval_checks(["issue_id"], "entered_at", "exited_at"), current_check(None, "status_id"),
              SECONDS_CHECK)

    def rows_of(self, issue, catalogue, settings):
        return status_intervals(issue.issue_id, issue.created, issue.history.get("status"),
                                issue.current_status(catalogue), catalogue.statuses)


@dataclass(frozen=True, repr=False)
class FlowMetrics(IssueHistoryTable):
    """issue_flow: one row per issue, with the stages of JIRA_FLOW_COMMITMENT and JIRA_FLOW_DONE."""

    name = "derived_flow_metrics"
    checks = (ROW_PER_ISSUE_CHECK,)

    def settings(self, ctx: SyncContext) -> FlowStages:
        return FlowStages.from_env(ctx.env)

    def settings_fingerprint(self, settings: FlowStages) -> str:
        return settings.fingerprint

    def rows_of(self, issue, catalogue, stages):
        statuses = status_intervals(issue.issue_id, issue.created, issue.history.get("status"),
                                    issue.current_status(catalogue), catalogue.statuses)
        record = {"issue_id": issue.issue_id, "created": issue.created,
                  **{k: issue.record.get(k) for k in ("project_id", "project_key", "issue_type_id")}}
        yield flow_row(record, statuses, issue.history, stages, catalogue.flow_fields, issue.flagged_now)
