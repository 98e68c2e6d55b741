"""The history tables end to end: built from the lake with no request; every row equals the simulator's timeline
truth (computed from its own model of each issue, not from the changelog it renders); after rounds of changes the
incrementally maintained tables equal a full rebuild; their checks pass."""

from __future__ import annotations

import datetime as dt

import pytest
from _simulator import advance, start_simulator, truth
from _sync import lake, sync, table_rows

from jira_assets.endpoints import BY_NAME, DEFAULT_ENABLED
from jira_assets.lake.arrow import RAW_COLUMN, SYNCED_AT_COLUMN
from jira_assets.sync.base import FULL_REFRESH_TAG
from jira_assets.sync.summary import SETTINGS

pytestmark = pytest.mark.slow

HISTORY = [n for n in DEFAULT_ENABLED if BY_NAME[n].group == "history"]
ISSUE_HISTORY = ["issue_field_history", "issue_status_intervals", "issue_flow"]
# What the history tables are computed from, and the issues run that keeps them current.
INPUTS = ["issue_search", "issue_changelog", "fields", "statuses", "issue_sprints", "boards", "board_configuration",
          "board_sprints"]
ROUND = dict(update_issues=25, add_issues=6, delete_issues=2, add_comments=3, minutes=30)


def _plain(value):
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, float):
        return round(value, 3)
    return value


def rows_of(lake_dir, name) -> dict[tuple, dict]:
    spec = BY_NAME[name]
    out = {}
    for row in table_rows(lake_dir, name):
        record = {k: _plain(v) for k, v in row.items() if k not in (RAW_COLUMN, SYNCED_AT_COLUMN)}
        out[tuple(str(record[k]) for k in spec.primary_key)] = record
    return out


def truth_rows(url, name) -> dict[tuple, dict]:
    spec = BY_NAME[name]
    out = {}
    for item in truth(url, name):
        record = {k: _plain(v) for k, v in item["record"].items()}
        out[tuple(str(record[k]) for k in spec.primary_key)] = record
    return out


def assert_equal_tables(ours: dict, theirs: dict, name: str) -> None:
    missing, extra = sorted(set(theirs) - set(ours)), sorted(set(ours) - set(theirs))
    assert not missing and not extra, f"{name}: missing {missing[:5]}, unexpected {extra[:5]}"
    wrong = [(key, {c: (ours[key].get(c), v) for c, v in theirs[key].items() if ours[key].get(c) != v})
             for key in theirs if any(ours[key].get(c) != v for c, v in theirs[key].items())]
    assert not wrong, f"{name}: {len(wrong)} rows differ, e.g. {wrong[:3]}"


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("history")
    log = tmp / "requests.jsonl"
    with start_simulator("--scale", "demo", "--seed", "5", "--request-log", str(log)) as (url, _):
        lake_dir = tmp / "lake"
        first = sync(url, [*INPUTS, *HISTORY], lake_dir=lake_dir, checks=True)
        yield url, lake_dir, log, first


def test_the_first_build_succeeds_with_its_checks(tenant):
    _, _, _, first = tenant
    assert first.success, first.failures
    for name in HISTORY:
        assert first.metadata[name]["requests"] == 0
        assert first.metadata[name]["rows"] > 0, name


@pytest.mark.parametrize("name", HISTORY)
def test_table_equals_the_timeline_truth(tenant, name):
    url, lake_dir, _, _ = tenant
    assert_equal_tables(rows_of(lake_dir, name), truth_rows(url, name), name)


def test_materializing_only_the_history_tables_makes_no_request(tenant):
    url, lake_dir, log, _ = tenant
    before = len(log.read_text().splitlines())
    result = sync(url, HISTORY, lake_dir=lake_dir, tags={FULL_REFRESH_TAG: "true"})
    assert result.success, result.failures
    assert len(log.read_text().splitlines()) == before
    assert all(result.metadata[n]["requests"] == 0 for n in HISTORY)


def test_a_history_table_without_its_inputs_says_what_to_materialize(tmp_path):
    with start_simulator("--scale", "demo") as (url, _):
        result = sync(url, ["issue_field_history"], lake_dir=tmp_path / "empty")
    assert not result.success  # selected on its own, it fails (within `issue_search+` it would wait)
    assert result.failures["issue_field_history"].splitlines()[0].endswith(
        "issue_field_history is computed from issue_search, issue_changelog, fields and statuses, which have never "
        "been built: materialize issue_search, issue_changelog, fields and statuses first.")


def test_after_rounds_of_changes_incremental_tables_equal_a_full_rebuild_and_the_truth(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "6") as (url, _):
        lake_dir = tmp_path / "lake"
        assert sync(url, [*INPUTS, *HISTORY], lake_dir=lake_dir).success
        for round_ in range(3):
            advance(url, **ROUND)
            result = sync(url, [*INPUTS, *HISTORY], lake_dir=lake_dir, checks=True,
                          tags={"jira_assets/census": "true"} if round_ == 2 else {})
            assert result.success, result.failures
            for name in ISSUE_HISTORY:
                meta = result.metadata[name]
                assert meta["incremental"] and meta["mode"] == "merge", (name, meta)
                assert 0 < meta["issues_changed"] < 300, (name, meta)
        census = result.metadata["issue_field_history"]["issues_deleted"]
        assert census > 0  # the census round removed the deleted issues' rows
        incremental = {name: rows_of(lake_dir, name) for name in HISTORY}
        for name in HISTORY:
            assert_equal_tables(incremental[name], truth_rows(url, name), name)
        rebuilt = sync(url, HISTORY, lake_dir=lake_dir, tags={FULL_REFRESH_TAG: "true"})
        assert rebuilt.success, rebuilt.failures
        for name in HISTORY:
            assert rebuilt.metadata[name]["mode"] == "replace"
            assert rows_of(lake_dir, name) == incremental[name], name


def test_a_quiet_run_recomputes_nothing(tenant):
    url, lake_dir, _, _ = tenant
    result = sync(url, [*INPUTS, *ISSUE_HISTORY], lake_dir=lake_dir)
    assert result.success, result.failures
    for name in ISSUE_HISTORY:
        assert result.metadata[name]["issues_changed"] == 0
        assert result.metadata[name]["rows"] == 0


def test_changed_flow_stages_rebuild_issue_flow(tenant, monkeypatch):
    url, lake_dir, _, _ = tenant
    before = lake(lake_dir).last_committed_property("issue_flow", SETTINGS)
    monkeypatch.setenv("JIRA_FLOW_COMMITMENT", "category:done")
    result = sync(url, ["issue_flow"], lake_dir=lake_dir)
    assert result.success, result.failures
    assert result.metadata["issue_flow"]["mode"] == "replace"
    assert lake(lake_dir).last_committed_property("issue_flow", SETTINGS) != before
    flows = list(rows_of(lake_dir, "issue_flow").values())
    done = [f for f in flows if f["done_at"] is not None]
    assert done
    # Committed only once done: the first entry into a done status, never after the last stay in done began.
    assert all(f["committed_at"] is not None and f["committed_at"] <= f["done_at"] for f in done)
    assert all(f["committed_at"] is None for f in flows if f["done_at"] is None and f["times_reopened"] == 0)


def test_the_readme_queries_run_on_the_lake_and_say_what_the_tables_say(tenant):
    from pathlib import Path
    from statistics import median

    from jira_assets.cli.demo import HISTORY_QUERIES, run_history_queries
    from jira_assets.lake.catalog import open_catalog

    _, lake_dir, _, _ = tenant
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    for _, query in HISTORY_QUERIES.values():
        assert " ".join(query.split()) in readme
    results = run_history_queries(open_catalog(str(lake_dir)))
    cycle = results["Median cycle time per project"].fetchall()
    flows = [f for f in rows_of(lake_dir, "issue_flow").values() if f["done_at"] is not None]
    by_project = {}
    for f in flows:
        by_project.setdefault(f["project_key"], []).append(f["cycle_seconds"])
    assert cycle and {row[0]: row[1] for row in cycle} == {k: len(v) for k, v in by_project.items()}
    for project, _, median_cycle, _ in cycle:
        values = [v for v in by_project[project] if v is not None]
        assert median_cycle == (round(median(values) / 86400, 1) if values else None)
    sprints = results["Committed against completed points per sprint"].fetchall()
    assert len(sprints) == len(rows_of(lake_dir, "sprint_report"))
