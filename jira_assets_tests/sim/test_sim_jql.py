"""Pure, fast tests of the simulator's JQL parser/evaluator (jira_sim.jql)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from jira_sim.jql import (
    UNBOUNDED_MESSAGE,
    JqlError,
    UnboundedJqlError,
    compile_jql,
    local_to_instant,
)

SYD = ZoneInfo("Australia/Sydney")
UTC = timezone.utc


@dataclass
class Issue:
    id: int
    key: str
    project_id: int
    created: datetime
    updated: datetime
    fields: dict = field(default_factory=dict)

    @property
    def project_key(self) -> str:
        return self.key.split("-")[0]

    def field(self, name):
        return self.fields.get(name)


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


def mk(id_, key, pid=100, upd=None, created=None, **fields):
    upd = upd or utc(2025, 1, 1)
    return Issue(id_, key, pid, created or upd, upd, fields)


def keys(q, issues):
    return [i.key for i in q.sort(i for i in issues if q.matches(i))]


# ---------------------------------------------------------------------------------------------------------------------
# bounded / parse errors

@pytest.mark.parametrize("text", ["", "   ", "order by key desc", "ORDER BY updated ASC, id ASC"])
def test_unbounded(text):
    with pytest.raises(UnboundedJqlError) as ei:
        compile_jql(text, SYD)
    assert str(ei.value) == UNBOUNDED_MESSAGE
    assert ei.value.messages == [UNBOUNDED_MESSAGE]
    assert isinstance(ei.value, JqlError)


@pytest.mark.parametrize("text,message", [
    ("(project = A", "Error in the JQL Query: Expecting ')' before the end of the query."),
    ("project in (A, B", "Error in the JQL Query: Expecting ')' before the end of the query."),
    ("project = A B", "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'B'. (line 1, character 13)"),
    ("project = ", "Error in the JQL Query: Expecting either a value, list or function before the end of the query."),
    ("project = \"A", "Error in the JQL Query: The quoted string 'A' has not been completed. (line 1, character 11)"),
    ("nosuchfield = 1", "Field 'nosuchfield' does not exist or you do not have permission to view it."),
    ("project ~ A", "The operator '~' is not supported by the 'project' field."),
    ("project = A ORDER key", "Error in the JQL Query: Expecting 'BY' but got 'key'. (line 1, character 19)"),
    ("project = A ORDER BY nosuch", "Field 'nosuch' does not exist or you do not have permission to view it."),
    ("key = 12ab", "The issue key '12ab' for field 'key' is invalid."),
])
def test_parse_errors(text, message):
    with pytest.raises(JqlError) as ei:
        compile_jql(text, SYD)
    assert not isinstance(ei.value, UnboundedJqlError)
    assert str(ei.value) == message


def test_operator_error_lists_valid_operators():
    with pytest.raises(JqlError) as ei:
        compile_jql("project foo A", SYD)
    assert str(ei.value).startswith("Error in the JQL Query: Expecting operator but got 'foo'. The valid operators")


def test_bad_date_message():
    with pytest.raises(JqlError) as ei:
        compile_jql('updated >= "2025-13-01"', SYD)
    assert str(ei.value).startswith("Date value '2025-13-01' for field 'updated' is invalid. Valid formats include:")


# ---------------------------------------------------------------------------------------------------------------------
# project / key / id

ISSUES = [
    mk(10001, "ABC-1", 100), mk(10002, "ABC-2", 100), mk(10010, "ABC-10", 100),
    mk(10003, "XYZ-1", 200), mk(10004, "XYZ-2", 200),
]


@pytest.mark.parametrize("text,expected", [
    ("project = ABC", {"ABC-1", "ABC-2", "ABC-10"}),
    ("PROJECT = 'abc'", {"ABC-1", "ABC-2", "ABC-10"}),
    ('project = "200"', {"XYZ-1", "XYZ-2"}),
    ("project = 200", {"XYZ-1", "XYZ-2"}),
    ("project in (abc, 200)", {"ABC-1", "ABC-2", "ABC-10", "XYZ-1", "XYZ-2"}),
    ("project not in (ABC)", {"XYZ-1", "XYZ-2"}),
    ("project != ABC", {"XYZ-1", "XYZ-2"}),
    ("key = ABC-2", {"ABC-2"}),
    ("issuekey in (abc-1, XYZ-2)", {"ABC-1", "XYZ-2"}),
    ("key > ABC-2", {"ABC-10"}),
    ("id = 10003", {"XYZ-1"}),
    ("id in (10001, 10004, 99)", {"ABC-1", "XYZ-2"}),
    ("id >= 10004", {"ABC-10", "XYZ-2"}),
    ("key = 10002", {"ABC-2"}),
    ("project = ABC AND NOT key = ABC-1", {"ABC-2", "ABC-10"}),
    ("project = ABC and key = ABC-1 or project = XYZ", {"ABC-1", "XYZ-1", "XYZ-2"}),  # AND binds tighter
    ("project = ABC and (key = ABC-1 or project = XYZ)", {"ABC-1"}),
    ("not (project = ABC or id = 10003)", {"XYZ-2"}),
    ("project = ABC && !(id = 10001 || id = 10002)", {"ABC-10"}),
])
def test_project_key_id(text, expected):
    q = compile_jql(text, SYD)
    assert {i.key for i in ISSUES if q.matches(i)} == expected


def test_refs_and_validate():
    q = compile_jql("project in (ABC, 'NOPE', 200) AND key in (ABC-1, ABC-99)", SYD)
    assert q.project_refs == ["ABC", "NOPE", "200"]
    assert q.key_refs == ["ABC-1", "ABC-99"]
    q.validate(project_exists=lambda r: True, issue_key_exists=lambda k: True)
    with pytest.raises(JqlError) as ei:
        q.validate(project_exists=lambda r: r != "NOPE", issue_key_exists=lambda k: k != "ABC-99")
    assert ei.value.messages == ["The value 'NOPE' does not exist for the field 'project'.",
                                 "An issue with key 'ABC-99' does not exist for field 'key'."]


# ---------------------------------------------------------------------------------------------------------------------
# generic fields

def test_generic_fields():
    a = mk(1, "A-1", status={"name": "Done", "id": "10001"}, issuetype={"name": "Bug", "id": "1"},
           assignee={"accountId": "acc-1", "displayName": "Mia"}, labels=["x", "y"])
    b = mk(2, "A-2", status={"name": "To Do", "id": "10000"}, issuetype={"name": "Task", "id": "3"},
           assignee=None, labels=[])
    both = [a, b]

    def hit(text, **kw):
        q = compile_jql(text, SYD, **kw)
        return [i.key for i in both if q.matches(i)]

    assert hit("status = done") == ["A-1"]
    assert hit('status = "To Do"') == ["A-2"]
    assert hit("status in (10000, Done)") == ["A-1", "A-2"]
    assert hit("status != Done") == ["A-2"]
    assert hit("type = Bug") == ["A-1"]
    assert hit("issuetype not in (Bug)") == ["A-2"]
    assert hit("assignee is EMPTY") == ["A-2"]
    assert hit("assignee = EMPTY") == ["A-2"]
    assert hit("assignee is not empty") == ["A-1"]
    assert hit("assignee != acc-1") == []  # != never matches an empty field, as in Jira
    assert hit("assignee in (EMPTY, acc-1)") == ["A-1", "A-2"]
    assert hit("assignee = currentUser()", current_user="acc-1") == ["A-1"]
    assert hit("labels = y") == ["A-1"]
    assert hit("labels is empty") == ["A-2"]


# ---------------------------------------------------------------------------------------------------------------------
# dates: caller's time zone, minute precision, DST, epoch ms, relative

def test_literal_read_in_callers_time_zone_at_minute_precision():
    # 2025-01-01 10:05 Sydney (AEDT, +11) == 2024-12-31T23:05Z
    edge = utc(2024, 12, 31, 23, 5)
    just_before = mk(1, "A-1", upd=edge - timedelta(milliseconds=1))
    at = mk(2, "A-2", upd=edge)
    mid_minute = mk(3, "A-3", upd=edge + timedelta(seconds=59, milliseconds=999))
    next_minute = mk(4, "A-4", upd=edge + timedelta(minutes=1))
    issues = [just_before, at, mid_minute, next_minute]

    def hit(op, lit='"2025-01-01 10:05"', tz=SYD):
        q = compile_jql(f"updated {op} {lit}", tz)
        return [i.key for i in issues if q.matches(i)]

    assert hit(">=") == ["A-2", "A-3", "A-4"]
    assert hit(">") == ["A-4"]  # the whole 10:05 minute is "equal"
    assert hit("=") == ["A-2", "A-3"]
    assert hit("<=") == ["A-1", "A-2", "A-3"]
    assert hit("<") == ["A-1"]
    assert hit("!=") == ["A-1", "A-4"]
    assert hit(">=", '"2025/01/01 10:05"') == ["A-2", "A-3", "A-4"]
    # the same literal in UTC is 11 hours later: nothing matches
    assert hit(">=", tz=ZoneInfo("UTC")) == []
    # date-only literal is local midnight
    q = compile_jql('created >= "2025-01-01" AND created < "2025-01-02"', SYD)
    assert q.matches(mk(5, "A-5", upd=utc(2024, 12, 31, 13, 0)))  # 00:00 Sydney
    assert not q.matches(mk(6, "A-6", upd=utc(2024, 12, 31, 12, 59, 59)))
    assert not q.matches(mk(7, "A-7", upd=utc(2025, 1, 1, 13, 0)))


def test_dst_fall_back_ambiguous_time_resolves_to_later_instant():
    # Sydney 2025-04-06 03:00 AEDT -> 02:00 AEST: 02:30 happens at 15:30Z and again at 16:30Z.
    inst = local_to_instant(datetime(2025, 4, 6, 2, 30), SYD)
    assert inst == utc(2025, 4, 5, 16, 30)
    q = compile_jql('updated >= "2025-04-06 02:30"', SYD)
    assert not q.matches(mk(1, "A-1", upd=utc(2025, 4, 5, 15, 30)))  # first 02:30 (AEDT)
    assert q.matches(mk(2, "A-2", upd=utc(2025, 4, 5, 16, 30)))  # second 02:30 (AEST)
    # an unambiguous neighbour keeps its plain offset
    assert local_to_instant(datetime(2025, 4, 6, 3, 0), SYD) == utc(2025, 4, 5, 17, 0)
    assert local_to_instant(datetime(2025, 4, 6, 1, 59), SYD) == utc(2025, 4, 5, 14, 59)


def test_dst_spring_forward_gap_moves_forward():
    # Sydney 2025-10-05 02:00 AEST -> 03:00 AEDT: 02:30 never happens; read as 03:30 AEDT == 16:30Z.
    assert local_to_instant(datetime(2025, 10, 5, 2, 30), SYD) == utc(2025, 10, 4, 16, 30)
    assert local_to_instant(datetime(2025, 10, 5, 3, 30), SYD) == utc(2025, 10, 4, 16, 30)
    q = compile_jql('updated < "2025-10-05 02:30"', SYD)
    assert q.matches(mk(1, "A-1", upd=utc(2025, 10, 4, 16, 29, 59)))
    assert not q.matches(mk(2, "A-2", upd=utc(2025, 10, 4, 16, 30)))


def test_epoch_millis_compare_at_minute_precision():
    ms = 1_700_000_000_000  # 2023-11-14T22:13:20Z
    q = compile_jql(f"updated >= {ms}", SYD)
    assert q.matches(mk(1, "A-1", upd=utc(2023, 11, 14, 22, 13, 0)))  # same minute
    assert not q.matches(mk(2, "A-2", upd=utc(2023, 11, 14, 22, 12, 59, 999000)))
    q = compile_jql(f'updated > "{ms}"', SYD)
    assert not q.matches(mk(3, "A-3", upd=utc(2023, 11, 14, 22, 13, 59)))
    assert q.matches(mk(4, "A-4", upd=utc(2023, 11, 14, 22, 14)))


@pytest.mark.parametrize("lit,delta", [
    ("-5m", timedelta(minutes=5)), ("-2h", timedelta(hours=2)), ("-1d", timedelta(days=1)),
    ("-1w", timedelta(weeks=1)), ('"-4w 2d"', timedelta(weeks=4, days=2)),
])
def test_relative_dates(lit, delta):
    now = utc(2026, 11, 1, 12, 0, 30)
    q = compile_jql(f"updated >= {lit}", SYD, now=now)
    assert q.matches(mk(1, "A-1", upd=now - delta))
    assert q.matches(mk(2, "A-2", upd=(now - delta).replace(second=0)))  # minute floor
    assert not q.matches(mk(3, "A-3", upd=(now - delta).replace(second=0) - timedelta(seconds=1)))
    q = compile_jql("updated <= now()", SYD, now=now)
    assert q.matches(mk(4, "A-4", upd=now)) and not q.matches(mk(5, "A-5", upd=now + timedelta(minutes=1)))


def test_full_load_query_of_the_connector():
    q = compile_jql('updated >= "1970-01-01 00:00" ORDER BY updated ASC, id ASC', SYD)
    assert q.order_by == [("updated", True), ("id", True)] and q.explicit_order
    t = utc(2025, 3, 1, 8, 0)
    issues = [mk(5, "B-1", upd=t), mk(3, "A-3", upd=t), mk(9, "A-1", upd=t - timedelta(days=1)),
              mk(1, "A-9", upd=t + timedelta(milliseconds=1))]
    assert keys(q, issues) == ["A-1", "A-3", "B-1", "A-9"]


# ---------------------------------------------------------------------------------------------------------------------
# ordering

def test_order_by_key_uses_project_then_number():
    issues = [mk(1, "AB-10"), mk(2, "AB-9"), mk(3, "AA-100"), mk(4, "B-1")]
    assert keys(compile_jql("id > 0 ORDER BY key ASC", SYD), issues) == ["AA-100", "AB-9", "AB-10", "B-1"]
    assert keys(compile_jql("id > 0 order by issuekey desc", SYD), issues) == ["B-1", "AB-10", "AB-9", "AA-100"]


def test_default_order_is_key_desc():
    q = compile_jql("id > 0", SYD)
    assert q.order_by == [("key", False)] and not q.explicit_order
    assert keys(q, [mk(1, "A-2"), mk(2, "A-10"), mk(3, "A-1")]) == ["A-10", "A-2", "A-1"]


def test_order_by_multiple_fields_and_directions():
    t = utc(2025, 1, 1)
    issues = [mk(1, "A-1", created=t, upd=t), mk(2, "A-2", created=t, upd=t + timedelta(1)),
              mk(3, "A-3", created=t + timedelta(1), upd=t)]
    assert keys(compile_jql("id > 0 ORDER BY created DESC, updated DESC", SYD), issues) == ["A-3", "A-2", "A-1"]
    assert keys(compile_jql("id > 0 ORDER BY updated, id DESC", SYD), issues) == ["A-3", "A-1", "A-2"]


def test_order_by_rank_and_function_hook():
    issues = [mk(1, "A-1", rank="0|i0000c:"), mk(2, "A-2", rank="0|i0000a:"), mk(3, "A-3")]
    assert keys(compile_jql("project = A ORDER BY Rank ASC", SYD), issues) == ["A-3", "A-2", "A-1"]

    versions = {"unreleasedversions": ["2.0", "10002"], "opensprints": []}
    hook = lambda name, args: versions.get(name)  # noqa: E731
    a = mk(1, "A-1", fixVersions=[{"name": "1.0", "id": "10001"}])
    b = mk(2, "A-2", fixVersions=[{"name": "2.0", "id": "10002"}])
    q = compile_jql("fixVersion in unreleasedVersions()", SYD, functions=hook)
    assert [i.key for i in (a, b) if q.matches(i)] == ["A-2"]
    q = compile_jql("fixVersion != unreleasedVersions() AND sprint not in openSprints()", SYD, functions=hook)
    assert [i.key for i in (a, b) if q.matches(i)] == []  # sprint is empty: NOT IN never matches empty
    with pytest.raises(JqlError) as ei:
        compile_jql("fixVersion in nosuch()", SYD, functions=hook)
    assert str(ei.value) == "Unable to find JQL function 'nosuch()'."


def test_unresolved_and_order_by_other_field():
    a = mk(1, "A-1", resolution=None, priority={"name": "High", "id": "2"})
    b = mk(2, "A-2", resolution={"name": "Done", "id": "1"}, priority={"name": "Low", "id": "4"})
    q = compile_jql("project = A AND resolution = Unresolved ORDER BY priority DESC", SYD)
    assert [i.key for i in (a, b) if q.matches(i)] == ["A-1"]
    assert keys(compile_jql("resolution != Unresolved", SYD), [a, b]) == ["A-2"]
    assert keys(compile_jql("id > 0 ORDER BY priority ASC", SYD), [b, a]) == ["A-1", "A-2"]
