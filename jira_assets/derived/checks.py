"""What must hold of the history tables, as checks over the lake (the Dagster layer turns each into an asset check).

| check | on | fails when |
|---|---|---|
| `intervals_contiguous` | issue_field_history, issue_status_intervals | an issue's intervals (of one field) overlap, leave a gap, do not start at its creation, or more than the last is open |
| `current_matches_issue_search` | issue_field_history, issue_status_intervals | the open interval's value differs from the issue's value in issue_search (status, assignee, priority, resolution, labels) |
| `seconds_sum_to_age` | issue_status_intervals | the closed intervals' seconds do not add up to the time from creation to the current interval's start |
| `one_row_per_issue` | issue_flow | an issue of issue_search has no row, or a row has no issue |

Issues synced into issue_search after the table's last commit are left out: their changelog may not be in yet.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jira_assets.lake.arrow import SYNCED_AT_COLUMN
from jira_assets.sync import summary as keys
from jira_assets.sync.base import LakeView
from jira_assets.sync.scope import parse_instant

SAMPLE = 10
TS = pa.timestamp("us", tz="UTC")


@dataclass
class Verdict:
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DerivedCheck:
    name: str
    description: str
    run: Callable[[LakeView, str], Verdict]
    warn: bool = False  # a warning, not an error: the table may be right and Jira's record incomplete


def _settled_issues(lake: LakeView, table: str, issues: str = "issue_search") -> pa.Table:
    """issue_search's id, created and current values, for the issues the table has processed."""
    watermark = parse_instant(lake.last_committed_property(table, keys.PARENT_WATERMARK))
    rows = lake.read_table(issues, ["id", "created", "status_id", "assignee_account_id", "priority_id",
                                    "resolution_id", "labels", SYNCED_AT_COLUMN],
                           types={"created": "timestamptz", SYNCED_AT_COLUMN: "timestamptz"})
    if watermark is not None and rows.num_rows:
        rows = rows.filter(pc.less_equal(rows.column(SYNCED_AT_COLUMN), pa.scalar(watermark, TS)))
    return rows.set_column(0, "id", pc.cast(rows.column("id"), pa.string()))


def _string_key(table: pa.Table, column: str = "issue_id") -> pa.Table:
    """The table with its join key as plain strings (the lake reads some as large strings)."""
    index = table.column_names.index(column)
    return table.set_column(index, column, pc.cast(table.column(column), pa.string()))


def _sample(table: pa.Table, mask: pa.Array, columns: list[str]) -> list[dict]:
    return table.filter(mask).select(columns).slice(0, SAMPLE).to_pylist()


def contiguous(group: list[str], start: str, end: str) -> Callable[[LakeView, str], Verdict]:
    def run(lake: LakeView, table: str) -> Verdict:
        rows = lake.read_table(table, [*group, "sequence", start, end],
                               types={"sequence": "long", start: "timestamptz", end: "timestamptz"})
        if not rows.num_rows:
            return Verdict(True, "no rows", {"rows": 0})
        rows = rows.sort_by([(c, "ascending") for c in (*group, "sequence")])
        n = rows.num_rows
        same = None
        for column in group:  # row i and row i+1 belong to the same issue (and field)
            a, b = rows.column(column).slice(0, n - 1), rows.column(column).slice(1)
            eq = pc.equal(a, b)
            same = eq if same is None else pc.and_(same, eq)
        ends, starts = rows.column(end).slice(0, n - 1), rows.column(start).slice(1)
        seq_a, seq_b = rows.column("sequence").slice(0, n - 1), rows.column("sequence").slice(1)
        # Within a group: each end is the next start, sequences count up by one; across groups: the last is open
        # and the next group starts at 1.
        within_bad = pc.and_(same, pc.or_(pc.fill_null(pc.not_equal(ends, starts), True),
                                          pc.not_equal(pc.add(seq_a, 1), seq_b)))
        across_bad = pc.and_(pc.invert(same), pc.or_(pc.is_valid(ends), pc.not_equal(seq_b, 1)))
        last_open = rows.column(end)[n - 1].is_valid
        first_bad = rows.column("sequence")[0].as_py() != 1
        bad = pc.or_(within_bad, across_bad)
        count = int(pc.sum(pc.cast(bad, pa.int64())).as_py() or 0) + int(last_open) + int(first_bad)
        # The first interval of each issue starts at its creation.
        firsts = _string_key(rows.filter(pc.equal(rows.column("sequence"), 1)).select(["issue_id", start]))
        issues = _settled_issues(lake, table).select(["id", "created"])
        joined = firsts.join(issues, "issue_id", "id")
        late = pc.fill_null(pc.not_equal(joined.column(start), joined.column("created")), False)
        late_count = int(pc.sum(pc.cast(late, pa.int64())).as_py() or 0)
        metadata = {"rows": n, "breaks": count, "first_not_at_creation": late_count}
        if count == 0 and late_count == 0:
            return Verdict(True, f"{n} intervals, contiguous from each issue's creation", metadata)
        sample = _sample(rows.slice(0, n - 1), bad, [*group, "sequence", start, end]) if count else []
        sample += _sample(joined, late, ["issue_id", start, "created"]) if late_count else []
        metadata["sample"] = sample
        return Verdict(False, f"{count} intervals overlap, leave a gap or are numbered wrongly, and {late_count} "
                       "issues' first interval does not start at their creation: a full refresh of the table "
                       "recomputes it", metadata)

    return run


# The fields whose open interval is compared with issue_search: history field id -> issue_search column.
CURRENT_COLUMNS = {"status": "status_id", "assignee": "assignee_account_id", "priority": "priority_id",
                   "resolution": "resolution_id", "labels": "labels"}


def _labels_text(values: list[Any]) -> list[str | None]:
    out = []
    for value in values:
        labels = json.loads(value) if isinstance(value, str) else (value or [])
        out.append(",".join(sorted(labels)) if labels else None)
    return out


def current_matches(field_column: str | None, value_column: str) -> Callable[[LakeView, str], Verdict]:
    """The open intervals' `value_column` against issue_search; `field_column` None: every row is the status."""
    def run(lake: LakeView, table: str) -> Verdict:
        wanted = ["issue_id", value_column, *([field_column] if field_column else [])]
        rows = lake.read_table(table, [*wanted, "sequence", "valid_to" if field_column else "exited_at"],
                               types={"sequence": "long"})
        end = "valid_to" if field_column else "exited_at"
        rows = _string_key(rows.filter(pc.is_null(rows.column(end))))
        issues = _settled_issues(lake, table)
        mismatches, compared, sample = 0, 0, []
        fields = CURRENT_COLUMNS if field_column else {"status": "status_id"}
        for history_field, column in fields.items():
            part = rows if field_column is None else rows.filter(pc.equal(rows.column(field_column), history_field))
            if not part.num_rows:
                continue
            now = issues.select(["id", column]).rename_columns(["id", "issue_value"])
            joined = part.join(now, "issue_id", "id")
            ours = [None if v in (None, "") else str(v) for v in joined.column(value_column).to_pylist()]
            theirs = joined.column("issue_value").to_pylist()
            theirs = _labels_text(theirs) if column == "labels" else [None if v is None else str(v) for v in theirs]
            for issue_id, a, b in zip(joined.column("issue_id").to_pylist(), ours, theirs):
                compared += 1
                if a != b:
                    mismatches += 1
                    if len(sample) < SAMPLE:
                        sample.append({"issue_id": issue_id, "field": history_field, "history": a, "issue": b})
        metadata = {"compared": compared, "mismatches": mismatches}
        if not mismatches:
            return Verdict(True, f"{compared} current values equal issue_search's", metadata)
        metadata["sample"] = sample
        return Verdict(False, f"{mismatches} of {compared} current values differ from issue_search's: the changelog "
                       "misses changes (an import or a migration writes none), or the issue changed after its "
                       "changelog was read", metadata)

    return run


def seconds_sum_to_age(lake: LakeView, table: str) -> Verdict:
    rows = lake.read_table(table, ["issue_id", "entered_at", "exited_at", "seconds"],
                           types={"entered_at": "timestamptz", "exited_at": "timestamptz", "seconds": "double"})
    if not rows.num_rows:
        return Verdict(True, "no rows", {"rows": 0})
    rows = _string_key(rows)
    sums = rows.group_by("issue_id").aggregate([("seconds", "sum")])
    current = rows.filter(pc.is_null(rows.column("exited_at"))).select(["issue_id", "entered_at"])
    issues = _settled_issues(lake, table).select(["id", "created"])
    joined = current.join(sums, "issue_id").join(issues, "issue_id", "id")
    bad, sample = 0, []
    for row in joined.to_pylist():
        if row["created"] is None:
            continue
        age = (row["entered_at"] - row["created"]).total_seconds()
        if abs((row["seconds_sum"] or 0.0) - age) > 0.001:
            bad += 1
            if len(sample) < SAMPLE:
                sample.append({"issue_id": row["issue_id"], "seconds": row["seconds_sum"], "age": age})
    metadata = {"issues": joined.num_rows, "mismatches": bad}
    if not bad:
        return Verdict(True, f"{joined.num_rows} issues: time in past statuses adds up to their age at the last "
                       "move", metadata)
    metadata["sample"] = sample
    return Verdict(False, f"{bad} issues' seconds in status do not add up to their age at their last move",
                   metadata)


def one_row_per_issue(lake: LakeView, table: str) -> Verdict:
    ours = pc.unique(pc.cast(lake.read_table(table, ["issue_id"]).column("issue_id"), pa.string()))
    theirs = _settled_issues(lake, table).column("id")
    missing = pc.filter(theirs, pc.invert(pc.is_in(theirs, value_set=ours)))
    extra = pc.filter(ours, pc.invert(pc.is_in(ours, value_set=pc.unique(theirs))))
    metadata = {"issues": len(theirs), "missing": len(missing), "extra": len(extra)}
    if not len(missing) and not len(extra):
        return Verdict(True, f"one row for each of the {len(theirs)} issues", metadata)
    metadata["sample_missing"] = missing.slice(0, SAMPLE).to_pylist()
    metadata["sample_extra"] = extra.slice(0, SAMPLE).to_pylist()
    return Verdict(False, f"{len(missing)} issues have no row and {len(extra)} rows have no issue", metadata)



def interval_checks(group: list[str], start: str, end: str) -> DerivedCheck:
    return DerivedCheck("intervals_contiguous", "Each issue's intervals (per field) start at its creation, follow one "
                        "another without overlap or gap, and only the last is open.", contiguous(group, start, end))


def current_check(field_column: str | None, value_column: str) -> DerivedCheck:
    return DerivedCheck("current_matches_issue_search", "The open interval holds the issue's value in issue_search "
                        "(status, assignee, priority, resolution, labels).",
                        current_matches(field_column, value_column), warn=True)


SECONDS_CHECK = DerivedCheck("seconds_sum_to_age", "Seconds in past statuses add up to the issue's age at its last "
                             "move.", seconds_sum_to_age)
ROW_PER_ISSUE_CHECK = DerivedCheck("one_row_per_issue", "One row for every issue of issue_search.", one_row_per_issue)
