"""An issue's history as intervals, status intervals, flow metrics and sprint rows, from hand-written changelogs
(the shapes Jira's changelog items have), against the rules of docs/derived-tables.md."""

from __future__ import annotations

import datetime as dt

import pytest

from jira_assets.derived.flow import FlowFields, FlowStages, Stage, Status, flow_row, status_intervals
from jira_assets.derived.sprints import IssueTimes, Sprint, sprint_issue_row, sprint_report_row
from jira_assets.derived.timeline import FieldKinds, changes_of, field_history

UTC = dt.timezone.utc
CREATED = dt.datetime(2025, 1, 1, tzinfo=UTC)


def day(n: int, hour: int = 0) -> dt.datetime:
    return CREATED + dt.timedelta(days=n, hours=hour)


def item(field, frm=None, frm_s=None, to=None, to_s=None, field_id=None):
    return {"field": field, "fieldtype": "jira", "fieldId": field_id or field, "from": frm, "fromString": frm_s,
            "to": to, "toString": to_s}


def history(hid, when, *items, author="acc-1"):
    return {"id": str(hid), "created": when.isoformat(), "author_account_id": author, "items": list(items)}


KINDS = FieldKinds.from_catalogue([
    {"id": "customfield_10020", "name": "Sprint", "schema": {"type": "array", "custom":
                                                             "com.pyxis.greenhopper.jira:gh-sprint"}},
    {"id": "customfield_10021", "name": "Flagged", "schema": {"type": "array", "items": "option"}},
    {"id": "customfield_10016", "name": "Story point estimate", "schema": {"type": "number"}},
])
STATUSES = {s.id: s for s in (Status("1", "To Do", "new"), Status("3", "In Progress", "indeterminate"),
                              Status("5", "Review", "indeterminate"), Status("6", "Done", "done"),
                              Status("7", "Closed", "done"))}


def test_single_value_field_first_interval_is_the_first_changes_from():
    changes = changes_of([
        history(11, day(3), item("status", "3", "In Progress", "6", "Done")),
        history(10, day(1), item("status", "1", "To Do", "3", "In Progress")),  # out of order: sorted by created
    ])
    intervals = field_history(CREATED, changes, KINDS)["status"]
    assert [(i.valid_from, i.valid_to, i.value_id, i.value, i.history_id) for i in intervals] == [
        (CREATED, day(1), "1", "To Do", None),
        (day(1), day(3), "3", "In Progress", "10"),
        (day(3), None, "6", "Done", "11"),
    ]
    assert intervals[1].author == "acc-1" and intervals[0].author is None


def test_several_items_of_one_field_in_one_history_are_one_change_and_a_same_value_change_starts_an_interval():
    changes = changes_of([
        history(1, day(1), item("assignee", None, None, "a", "Ann"), item("assignee", "a", "Ann", "b", "Bob")),
        history(2, day(2), item("assignee", "b", "Bob", "b", "Bob")),
    ])
    intervals = field_history(CREATED, changes, KINDS)["assignee"]
    assert [(i.value_id, i.valid_from) for i in intervals] == [(None, CREATED), ("b", day(1)), ("b", day(2))]


def test_labels_carry_the_whole_set_space_separated():
    changes = changes_of([
        history(1, day(1), item("labels", None, "", None, "ux backend")),
        history(2, day(2), item("labels", None, "ux backend", None, "backend")),
    ])
    intervals = field_history(CREATED, changes, KINDS)["labels"]
    assert [i.value_ids for i in intervals] == [[], ["backend", "ux"], ["backend"]]
    assert [i.value_id for i in intervals] == [None, "backend,ux", "backend"]
    assert [i.value for i in intervals] == [None, "backend, ux", "backend"]


def test_the_sprint_field_carries_ids_and_names_comma_separated():
    changes = changes_of([
        history(1, day(1), item("Sprint", "", "", "12", "PROJ Sprint 7", field_id="customfield_10020")),
        history(2, day(8), item("Sprint", "12", "PROJ Sprint 7", "12, 13", "PROJ Sprint 7, PROJ Sprint 8",
                                field_id="customfield_10020")),
    ])
    intervals = field_history(CREATED, changes, KINDS)["customfield_10020"]
    assert [i.value_ids for i in intervals] == [[], ["12"], ["12", "13"]]
    assert intervals[2].values == ["PROJ Sprint 7", "PROJ Sprint 8"]
    assert intervals[0].field == "Sprint"


def test_bracketed_option_ids_of_a_multi_select():
    changes = changes_of([history(1, day(1), item("Flagged", None, None, "[10019]", "Impediment",
                                                  field_id="customfield_10021"))])
    intervals = field_history(CREATED, changes, KINDS)["customfield_10021"]
    assert [(i.value_ids, i.values) for i in intervals] == [([], []), (["10019"], ["Impediment"])]


def test_components_add_and_remove_one_element_and_the_set_before_is_worked_back_from_today():
    changes = changes_of([
        history(1, day(1), item("Component", None, None, "20", "API", field_id="components")),
        history(2, day(2), item("Component", "10", "Web", None, None, field_id="components")),
    ])
    today = {"components": [{"id": "20", "name": "API"}, {"id": "30", "name": "Mobile"}]}
    intervals = field_history(CREATED, changes, KINDS, today)["components"]
    assert [i.value_ids for i in intervals] == [["10", "30"], ["10", "20", "30"], ["20", "30"]]
    assert intervals[0].values == ["Mobile", "Web"]
    assert intervals[-1].values == ["API", "Mobile"]


def test_status_intervals_directions_and_an_issue_never_moved():
    changes = changes_of([
        history(1, day(1), item("status", "1", "To Do", "3", "In Progress")),
        history(2, day(2), item("status", "3", "In Progress", "5", "Review")),
        history(3, day(3), item("status", "5", "Review", "1", "To Do")),
    ])
    rows = status_intervals("100", CREATED, field_history(CREATED, changes, KINDS)["status"], STATUSES["1"],
                            STATUSES)
    assert [r["direction"] for r in rows] == ["initial", "forward", "lateral", "backward"]
    assert [r["seconds"] for r in rows] == [86400.0, 86400.0, 86400.0, None]
    assert [r["status_category_key"] for r in rows] == ["new", "indeterminate", "indeterminate", "new"]
    alone = status_intervals("101", CREATED, None, STATUSES["3"], STATUSES)
    assert alone == [{"issue_id": "101", "sequence": 1, "status_id": "3", "status_name": "In Progress",
                      "status_category_key": "indeterminate", "entered_at": CREATED, "exited_at": None,
                      "seconds": None, "direction": "initial"}]


def _flow(changes, stages=None, flagged_now=False):
    history_ = field_history(CREATED, changes_of(changes), KINDS)
    status_rows = status_intervals("100", CREATED, history_.get("status"), STATUSES["1"], STATUSES)
    issue = {"issue_id": "100", "project_id": "1", "project_key": "P", "issue_type_id": "10001", "created": CREATED}
    return flow_row(issue, status_rows, history_, stages or FlowStages.from_env({}),
                    FlowFields("customfield_10021", "customfield_10020"), flagged_now)


def test_flow_done_is_the_start_of_the_last_stay_in_done_and_a_reopening_counts():
    row = _flow([
        history(1, day(1), item("status", "1", "To Do", "3", "In Progress")),
        history(2, day(2), item("status", "3", "In Progress", "6", "Done")),
        history(3, day(3), item("status", "6", "Done", "3", "In Progress")),
        history(4, day(5), item("status", "3", "In Progress", "6", "Done")),
        history(5, day(6), item("status", "6", "Done", "7", "Closed")),
        history(6, day(6, 1), item("assignee", None, None, "a", "Ann")),
    ])
    assert row["committed_at"] == day(1)
    assert row["done_at"] == day(5)  # Done -> Closed stays in the done stage
    assert row["lead_seconds"] == 5 * 86400.0 and row["cycle_seconds"] == 4 * 86400.0
    assert row["times_reopened"] == 1 and row["status_changes"] == 5 and row["assignee_changes"] == 1


def test_flow_not_done_now_has_no_done_time_and_blocked_time_counts_ended_flags():
    row = _flow([
        history(1, day(1), item("Flagged", None, None, "[10019]", "Impediment", field_id="customfield_10021")),
        history(2, day(3), item("Flagged", "[10019]", "Impediment", None, None, field_id="customfield_10021")),
        history(3, day(4), item("Flagged", None, None, "[10019]", "Impediment", field_id="customfield_10021")),
    ])
    assert row["done_at"] is None and row["lead_seconds"] is None and row["committed_at"] is None
    assert row["blocked_seconds"] == 2 * 86400.0 and row["blocked_now"] is True
    assert _flow([], flagged_now=True)["blocked_now"] is True


def test_flow_stages_by_name_and_id_and_bad_stages_name_the_setting():
    stages = FlowStages.from_env({"JIRA_FLOW_COMMITMENT": "Review", "JIRA_FLOW_DONE": "7"})
    row = _flow([
        history(1, day(1), item("status", "1", "To Do", "5", "Review")),
        history(2, day(2), item("status", "5", "Review", "6", "Done")),
        history(3, day(4), item("status", "6", "Done", "7", "Closed")),
    ], stages)
    assert row["committed_at"] == day(1) and row["done_at"] == day(4)
    assert stages.fingerprint != FlowStages.from_env({}).fingerprint
    with pytest.raises(ValueError, match="JIRA_FLOW_DONE: 'category:finished' names no status category"):
        FlowStages.from_env({"JIRA_FLOW_DONE": "category:finished"})
    with pytest.raises(ValueError, match="JIRA_FLOW_COMMITMENT must name statuses"):
        Stage.parse(" , ", "JIRA_FLOW_COMMITMENT")


def test_sprint_rows_in_at_start_added_removed_and_the_report():
    sprint = Sprint(12, 3, "PROJ Sprint 7", "closed", day(10), day(24), day(24, 2))
    sprint_field = "customfield_10020"
    status_changes = [history(9, day(20), item("status", "1", "To Do", "6", "Done"))]

    def issue(issue_id, changes, estimate_now=None):
        hist = field_history(CREATED, changes_of(changes + status_changes), KINDS)
        return IssueTimes(issue_id, hist.get(sprint_field), set(), hist.get("customfield_10016"), estimate_now,
                          hist["status"])

    committed = issue("1", [history(1, day(9), item("Sprint", "", "", "12", "S7", field_id=sprint_field)),
                            history(2, day(12), item("Story point estimate", None, "3", None, "5",
                                                     field_id="customfield_10016"))])
    added_then_removed = issue("2", [history(3, day(11), item("Sprint", "", "", "12", "S7", field_id=sprint_field)),
                                     history(4, day(13), item("Sprint", "12", "S7", "", "", field_id=sprint_field))],
                               estimate_now=8.0)
    rows = [sprint_issue_row(sprint, i, {"6"}, day(30)) for i in (committed, added_then_removed)]
    assert rows[0] == {"sprint_id": 12, "issue_id": "1", "board_id": 3, "in_at_start": True, "added": False,
                       "removed": False, "in_at_end": True, "estimate_at_start": 3.0, "estimate_at_end": 5.0,
                       "status_at_end": "6", "done_at_end": True}
    assert (rows[1]["in_at_start"], rows[1]["added"], rows[1]["removed"], rows[1]["in_at_end"]) == (
        False, True, True, False)
    assert rows[1]["estimate_at_end"] == 8.0  # never changed: its value now
    report = sprint_report_row(sprint, rows)
    assert (report["committed_issues"], report["committed_points"], report["completed_issues"],
            report["completed_points"], report["added_issues"], report["removed_issues"],
            report["not_completed_issues"]) == (1, 3.0, 1, 5.0, 1, 1, 0)


def test_custom_label_fields_are_space_separated_and_each_interval_has_the_name_it_was_written_with():
    kinds = FieldKinds.from_catalogue([{"id": "customfield_10051", "name": "Tech tags", "schema": {
        "type": "array", "items": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:labels"}}])
    changes = changes_of([
        history(1, day(1), item("Tech tags", None, "ios", None, "ios kafka", field_id="customfield_10051")),
        history(2, day(2), item("Tags", None, "ios kafka", None, "kafka", field_id="customfield_10051")),  # renamed
    ])
    intervals = field_history(CREATED, changes, kinds)["customfield_10051"]
    assert [i.values for i in intervals] == [["ios"], ["ios", "kafka"], ["kafka"]]
    assert [i.value for i in intervals] == ["ios", "ios, kafka", "kafka"]
    assert [i.field for i in intervals] == ["Tech tags", "Tech tags", "Tags"]


def test_an_issue_created_into_a_running_sprint_was_added_not_committed():
    sprint = Sprint(12, 3, "PROJ Sprint 7", "active", day(10), day(24), None)
    created = day(12)
    statuses = field_history(created, changes_of([history(1, day(13), item("status", "1", "To Do", "6", "Done"))]),
                             KINDS)["status"]
    # The Sprint field and the estimate never changed: they hold their current values since the creation only.
    issue = IssueTimes("5", None, {"12"}, None, 3.0, statuses)
    row = sprint_issue_row(sprint, issue, {"6"}, day(20))
    assert (row["in_at_start"], row["added"], row["removed"], row["in_at_end"]) == (False, True, False, True)
    assert (row["estimate_at_start"], row["estimate_at_end"], row["done_at_end"]) == (None, 3.0, True)
