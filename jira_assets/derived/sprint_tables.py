"""sprint_issue_history and sprint_report, rebuilt whole each run from the lake (sprints are few): the Sprint field's
and the estimate's history from issue_field_history, statuses from issue_status_intervals, the sprints from
board_sprints, each board's estimation field and last column from board_configuration. No request.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jira_assets.derived.buckets import Buckets, bucket_count
from jira_assets.derived.history import field_column
from jira_assets.derived.sprints import ESTIMATE_FIELD_NAMES, IssueTimes, Sprint, sprint_issue_row, sprint_report_row
from jira_assets.derived.timeline import Interval
from jira_assets.jira.custom_fields import SPRINT
from jira_assets.lake.arrow import RAW_COLUMN
from jira_assets.sync import summary as keys
from jira_assets.sync.base import LakeView, SyncContext, SyncPlan, SyncStrategy
from jira_assets.sync.custom_columns import field_rows_from

STARTED = ("active", "closed")
HISTORY_COLUMNS = ("issue_id", "field_id", "sequence", "valid_from", "valid_to", "value", "value_id", "value_ids")


def started_sprints(lake: LakeView, table: str) -> dict[str, Sprint]:
    """Sprints that started, once each (a sprint shared by boards is listed per board: its origin board's row)."""
    rows = lake.read_table(table, ["id", "board_id", "origin_board_id", "name", "state", "start_date", "end_date",
                                   "complete_date"],
                           types={"id": "long", "board_id": "long", "origin_board_id": "long",
                                  "start_date": "timestamptz", "end_date": "timestamptz",
                                  "complete_date": "timestamptz"}).to_pylist()
    out: dict[str, Sprint] = {}
    for row in sorted(rows, key=lambda r: r["board_id"] != r["origin_board_id"]):  # origin rows first
        key = str(row["id"])
        if key in out or row["state"] not in STARTED or row["start_date"] is None:
            continue
        out[key] = Sprint(int(row["id"]), row["origin_board_id"] if row["origin_board_id"] is not None
                          else row["board_id"], row["name"], row["state"], row["start_date"], row["end_date"],
                          row["complete_date"])
    return out


@dataclass
class BoardRules:
    """Per board: the status ids of its last column and its estimation field."""

    done: dict[int, set[str]]
    estimate: dict[int, str]
    done_category: set[str]  # statuses of category done: the last column of a board whose configuration is unknown
    default_estimates: list[str]  # Story Points / Story point estimate, for boards that name no estimation field

    def done_statuses(self, board: int | None) -> set[str]:
        return self.done.get(board, self.done_category) if board is not None else self.done_category

    def estimate_fields(self, board: int | None) -> list[str]:
        named = self.estimate.get(board) if board is not None else None
        return [named] if named else self.default_estimates


def board_rules(lake: LakeView, configuration: str, statuses: str, catalogue: str) -> BoardRules:
    config = lake.read_table(configuration, ["board_id", "columns", "estimation_field_id"],
                             types={"board_id": "long"}).to_pylist()
    done: dict[int, set[str]] = {}
    estimate: dict[int, str] = {}
    for row in config:
        columns = json.loads(row["columns"]) if row["columns"] else []
        if columns:
            done[row["board_id"]] = {str(s.get("id")) for s in (columns[-1].get("statuses") or [])}
        if row["estimation_field_id"]:
            estimate[row["board_id"]] = row["estimation_field_id"]
    table = lake.read_table(statuses, ["id", "status_category_key"])
    done_category = {str(i) for i, k in zip(table.column("id").to_pylist(),
                                            table.column("status_category_key").to_pylist()) if k == "done"}
    fields = field_rows_from(lake.read_table(catalogue, [RAW_COLUMN]).column(RAW_COLUMN).to_pylist()) \
        if lake.table_exists(catalogue) else []
    by_name = {f.get("name"): str(f.get("id")) for f in fields}
    defaults = [by_name[n] for n in ESTIMATE_FIELD_NAMES if n in by_name]
    return BoardRules(done, estimate, done_category, defaults)


def sprint_field_id(lake: LakeView, catalogue: str) -> str | None:
    fields = field_rows_from(lake.read_table(catalogue, [RAW_COLUMN]).column(RAW_COLUMN).to_pylist()) \
        if lake.table_exists(catalogue) else []
    return next((str(f["id"]) for f in fields if (f.get("schema") or {}).get("custom") == SPRINT), None)


def _interval(row: dict[str, Any]) -> Interval:
    ids = row.get("value_ids")
    return Interval(row["field_id"], row["field_id"], row["valid_from"], row.get("value"), row.get("value_id"),
                    None, list(ids) if ids is not None else None, valid_to=row.get("valid_to"))


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, repr=False)
class SprintIssueHistory(SyncStrategy):
    """sprint_issue_history: per started sprint and issue ever in it, membership, estimates and done at the end."""

    field_history: str = "issue_field_history"
    status_intervals: str = "issue_status_intervals"
    issues: str = "issue_search"
    current_sprints: str = "issue_sprints"
    sprints: str = "board_sprints"
    configuration: str = "board_configuration"
    field_catalogue: str = "fields"
    statuses: str = "statuses"
    name = "derived_sprint_issue_history"
    derived = True
    incremental = True  # rebuilt whole (sprints are few), with the issues run that refreshes its inputs

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.field_history, self.status_intervals, self.issues, self.current_sprints, self.sprints,
                self.configuration, self.field_catalogue, self.statuses)

    @property
    def requires(self) -> tuple[str, ...]:
        return (self.field_history, self.status_intervals, self.sprints)

    def plan(self, ctx: SyncContext) -> SyncPlan:
        lake = ctx.lake
        self.check_inputs(ctx)
        sprints = started_sprints(lake, self.sprints)
        rules = board_rules(lake, self.configuration, self.statuses, self.field_catalogue)
        sprint_field = sprint_field_id(lake, self.field_catalogue)
        estimate_fields = sorted({f for s in sprints.values() for f in rules.estimate_fields(s.board_id)})
        metadata: dict[str, Any] = {"sprints": len(sprints)}
        summary = {keys.FULL: "true"}

        def pages(client):
            return self._pages(ctx, sprints, rules, sprint_field, estimate_fields)

        return SyncPlan(pages, "replace", summary, None, metadata)

    async def _pages(self, ctx: SyncContext, sprints: dict[str, Sprint], rules: BoardRules, sprint_field: str | None,
                     estimate_fields: list[str]):
        lake = ctx.lake
        if not sprints:
            return
        # The issues ever in a sprint: the Sprint field's history, and the issues in one now.
        wanted_fields = [f for f in (sprint_field, *estimate_fields) if f]
        in_history = lake.read_table(self.field_history, ["issue_id", "field_id"])
        in_history = in_history.filter(pc.equal(in_history.column("field_id"), sprint_field or ""))
        now_in = lake.read_table(self.current_sprints, ["issue_id", "sprint_id"], types={"sprint_id": "long"})
        relevant = pa.array(sorted({str(i) for i in in_history.column("issue_id").to_pylist()}
                                   | {str(i) for i in now_in.column("issue_id").to_pylist()}), pa.string())
        if not len(relevant):
            return

        def only_relevant(batches: Iterator[pa.RecordBatch], key: str = "issue_id"):
            for batch in batches:
                yield batch.filter(pc.is_in(batch.column(key).cast(pa.string()), value_set=relevant))

        estimate_columns = {f: field_column(lake, self.issues, f, ctx.site) for f in estimate_fields}
        issue_columns = ["id", *sorted({c for c in estimate_columns.values() if c})]
        if any(c is None for c in estimate_columns.values()):
            issue_columns.append(RAW_COLUMN)  # a system estimation field (time estimates): read from the record
        with Buckets(bucket_count(len(relevant) * 8)) as buckets:
            buckets.add("history", only_relevant(lake.iter_batches(
                self.field_history, list(HISTORY_COLUMNS), matching=("field_id", wanted_fields))), "issue_id")
            buckets.add("status", only_relevant(lake.iter_batches(
                self.status_intervals, ["issue_id", "entered_at", "exited_at", "status_id"])), "issue_id")
            buckets.add("now_in", only_relevant(iter(now_in.to_batches())), "issue_id")
            buckets.add("issues", only_relevant(lake.iter_batches(self.issues, issue_columns), "id"), "id")
            for part in buckets.each(["history", "status", "now_in", "issues"]):
                page = []
                for issue_id, times_for in _issues_of(part, sprint_field, estimate_columns):
                    for sprint_key in times_for.ever:
                        sprint = sprints.get(sprint_key)
                        if sprint is None:
                            continue
                        times = times_for.for_fields(rules.estimate_fields(sprint.board_id))
                        row = sprint_issue_row(sprint, times, rules.done_statuses(sprint.board_id), ctx.synced_at)
                        page.append(row)
                if page:
                    yield [(row, {}) for row in page]


@dataclass
class _IssueSprintData:
    issue_id: str
    sprints: list[Interval] | None
    sprints_now: set[str]
    estimates: dict[str, list[Interval]]
    estimates_now: dict[str, float | None]
    statuses: list[Interval]

    @property
    def ever(self) -> set[str]:
        found = set(self.sprints_now)
        for interval in self.sprints or []:
            found.update(interval.value_ids or [])
        return found

    def for_fields(self, fields: list[str]) -> IssueTimes:
        """The issue's times with its estimate from the first of `fields` it has (history or a value now)."""
        chosen = next((f for f in fields if f in self.estimates or self.estimates_now.get(f) is not None),
                      fields[0] if fields else "")
        return IssueTimes(self.issue_id, self.sprints, self.sprints_now, self.estimates.get(chosen),
                          self.estimates_now.get(chosen), self.statuses)


def _issues_of(part: dict[str, pa.Table], sprint_field: str | None,
               estimate_columns: dict[str, str | None]) -> Iterator[tuple[str, _IssueSprintData]]:
    history: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in part["history"].to_pylist():
        history[str(row["issue_id"])][row["field_id"]].append(row)
    statuses: dict[str, list[Interval]] = defaultdict(list)
    for row in sorted(part["status"].to_pylist(), key=lambda r: (str(r["issue_id"]), r["entered_at"])):
        statuses[str(row["issue_id"])].append(Interval("status", "status", row["entered_at"], None,
                                                       row["status_id"], valid_to=row["exited_at"]))
    now_in: dict[str, set[str]] = defaultdict(set)
    for row in part["now_in"].to_pylist():
        now_in[str(row["issue_id"])].add(str(row["sprint_id"]))
    current: dict[str, dict[str, float | None]] = {}
    for row in part["issues"].to_pylist():
        fields = None
        values: dict[str, float | None] = {}
        for field_id, column in estimate_columns.items():
            if column is not None:
                values[field_id] = _number(row.get(column))
            else:
                if fields is None:
                    fields = (json.loads(row[RAW_COLUMN]).get("fields") or {}) if row.get(RAW_COLUMN) else {}
                values[field_id] = _number(fields.get(field_id))
        current[str(row["id"])] = values
    for issue_id in sorted(set(history) | set(now_in)):
        fields = history.get(issue_id, {})
        sprint_rows = sorted(fields.get(sprint_field or "", []), key=lambda r: r["sequence"])
        estimates = {f: [_interval(r) for r in sorted(rows, key=lambda r: r["sequence"])]
                     for f, rows in fields.items() if f != sprint_field}
        yield issue_id, _IssueSprintData(issue_id, [_interval(r) for r in sprint_rows] or None,
                                         now_in.get(issue_id, set()), estimates, current.get(issue_id, {}),
                                         statuses.get(issue_id, []))


@dataclass(frozen=True, repr=False)
class SprintReport(SyncStrategy):
    """sprint_report: per started sprint, what Jira's Sprint Report and Velocity Chart show, from
    sprint_issue_history."""

    sprint_issues: str = "sprint_issue_history"
    sprints: str = "board_sprints"
    name = "derived_sprint_report"
    derived = True
    incremental = True

    @property
    def reads(self) -> tuple[str, ...]:
        return (self.sprint_issues, self.sprints)

    @property
    def requires(self) -> tuple[str, ...]:
        return (self.sprint_issues, self.sprints)

    def plan(self, ctx: SyncContext) -> SyncPlan:
        lake = ctx.lake
        self.check_inputs(ctx)
        sprints = started_sprints(lake, self.sprints)
        rows = lake.read_table(self.sprint_issues, ["sprint_id", "in_at_start", "added", "removed", "in_at_end",
                                                    "estimate_at_start", "estimate_at_end", "done_at_end"],
                               types={"sprint_id": "long"}).to_pylist()
        by_sprint: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            by_sprint[str(row["sprint_id"])].append(row)

        async def pages(client):
            page = [(sprint_report_row(sprint, by_sprint.get(key, [])), {})
                    for key, sprint in sorted(sprints.items(), key=lambda kv: int(kv[0]))]
            if page:
                yield page

        return SyncPlan(pages, "replace", {keys.FULL: "true"}, None, {"sprints": len(sprints)})

