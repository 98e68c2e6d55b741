"""Asset checks run by Dagster on real Iceberg tables: they pass on tables landed from the simulator's truth and
fail, explaining themselves, on tables corrupted here on purpose."""

from dagster import AssetCheckSeverity, AssetKey, AssetSelection, Definitions, define_asset_job, instance_for_test

from _automation_fixtures import (  # noqa: F401
    fresh_sim_url,
    jira_for,
    lake,
    land,
    land_truth,
    sim_post,
    sim_url,
    table_write,
    truth,
)
from jira_assets.defs.assets import build_assets
from jira_assets.defs.checks import COUNT_CHECK, PARENT_CHECK, PRIMARY_KEY_CHECK
from jira_assets.lake.writer import TableWrite

# A spread of tables: string and long keys, composite keys, every kind of parent link.
TABLES = ["issue_search", "issue_comments", "issue_changelog", "boards", "board_sprints", "sprint_issues",
          "groups", "group_members", "project_search", "project_versions", "statuses"]


def run_checks(url, lake, names=TABLES, only: list[str] | None = None) -> dict[tuple[str, str], object]:
    """Execute the checks of `names` (no materialization) in one in-process Dagster run; results by (table, check)."""
    job = define_asset_job("checks_only", selection=AssetSelection.checks_for_assets(*[AssetKey(n) for n in names]))
    defs = Definitions(assets=build_assets(names), jobs=[job],
                       resources={"lake": lake, "jira": jira_for(url)})
    with instance_for_test() as instance:
        result = defs.resolve_job_def("checks_only").execute_in_process(instance=instance, raise_on_error=True)
    evaluations = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    if only is not None:
        evaluations = {k: v for k, v in evaluations.items() if k[0] in only}
    return evaluations


def append(lake, name, items):
    """Append rows as they are (a merge without keys appends): the way to corrupt a table on purpose."""
    rows = table_write(name, items)
    lake.writer().write(name, TableWrite(batches=rows.batches, schema=rows.schema, mode="merge"))


def meta(evaluation, key):
    return evaluation.metadata[key].value


def test_every_check_passes_on_tables_landed_from_truth(sim_url, lake):
    for name in TABLES:
        land_truth(lake, sim_url, name)
    results = run_checks(sim_url, lake)
    # one primary-key check per table, a parent check per child (6 here), the issue count check, a drop check per
    # table replaced whole (9 here)
    assert len(results) == len(TABLES) + 6 + 1 + 9
    failed = {k: v.description for k, v in results.items() if not v.passed}
    assert failed == {}
    count = results[("issue_search", COUNT_CHECK)]
    assert meta(count, "difference") == 0
    assert meta(count, "lake_rows") == meta(count, "jira_approximate_count") > 0
    assert "created <" in meta(count, "jql")
    assert meta(results[("issue_comments", PARENT_CHECK)], "orphan_rows") == 0


def test_primary_key_check_fails_on_duplicates_and_nulls(sim_url, lake):
    items = truth(sim_url, "issue_search")
    land(lake, "issue_search", items)
    # Append two existing issues again and one issue without an id.
    append(lake, "issue_search", items[:2] + [{"parents": {}, "record": dict(items[2]["record"], id=None)}])

    check = run_checks(sim_url, lake, ["issue_search"])[("issue_search", PRIMARY_KEY_CHECK)]
    assert not check.passed
    assert check.severity == AssetCheckSeverity.ERROR
    assert meta(check, "duplicate_keys") == 2
    assert meta(check, "duplicate_rows") == 2
    assert meta(check, "rows_with_null_key") == 1
    assert meta(check, "rows") == len(items) + 3
    assert "2 keys appear more than once" in check.description
    assert "1 rows have a null primary-key column (id: 1)" in check.description
    for issue in items[:2]:
        assert issue["record"]["id"] in meta(check, "duplicate_key_sample")


def test_composite_primary_key_check_fails_on_duplicate_pair(sim_url, lake):
    items = land_truth(lake, sim_url, "group_members")
    append(lake, "group_members", items[:1])
    check = run_checks(sim_url, lake, ["group_members"])[("group_members", PRIMARY_KEY_CHECK)]
    assert not check.passed
    assert meta(check, "duplicate_keys") == 1 and meta(check, "primary_key") == "site, group_id, account_id"


def test_parent_check_fails_on_orphans(sim_url, lake):
    land_truth(lake, sim_url, "issue_search")
    comments = truth(sim_url, "issue_comments")
    orphans = [{"parents": {"issue_id": "990001"}, "record": dict(comments[0]["record"], id="880001")},
               {"parents": {"issue_id": "990001"}, "record": dict(comments[0]["record"], id="880002")},
               {"parents": {"issue_id": "990002"}, "record": dict(comments[0]["record"], id="880003")}]
    land(lake, "issue_comments", comments + orphans)
    # A scrum board vanished from boards: its sprints are orphans (long keys).
    sprints = land_truth(lake, sim_url, "board_sprints")
    gone = sprints[0]["parents"]["board_id"]
    land(lake, "boards", [b for b in truth(sim_url, "boards") if b["record"]["id"] != gone])
    lost = [s for s in sprints if s["parents"]["board_id"] == gone]

    results = run_checks(sim_url, lake, ["issue_search", "issue_comments", "boards", "board_sprints"])
    check = results[("issue_comments", PARENT_CHECK)]
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    assert meta(check, "orphan_rows") == 3
    assert meta(check, "orphan_parent_ids") == 2
    assert meta(check, "orphan_parent_id_sample") == ["990001", "990002"]
    assert "3 rows point at 2 issue_id values missing from issue_search.id" in check.description
    assert results[("issue_comments", PRIMARY_KEY_CHECK)].passed

    sprint_check = results[("board_sprints", PARENT_CHECK)]
    assert not sprint_check.passed and lost
    assert meta(sprint_check, "orphan_rows") == len(lost)
    assert meta(sprint_check, "orphan_parent_id_sample") == [str(gone)]


def test_count_check_fails_when_the_lake_misses_issues_and_honours_the_tolerance(sim_url, lake, monkeypatch):
    items = truth(sim_url, "issue_search")
    oldest_first = sorted(items, key=lambda i: i["record"]["fields"]["created"])
    land(lake, "issue_search", oldest_first[5:])  # five issues lost from the table

    check = run_checks(sim_url, lake, ["issue_search"])[("issue_search", COUNT_CHECK)]
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    assert meta(check, "difference") == -5
    assert meta(check, "allowed_difference") == 1  # 0.1% of the count, rounded up
    assert "the lake is missing issues Jira has" in check.description

    monkeypatch.setenv("JIRA_ASSETS_COUNT_TOLERANCE", "5")
    check = run_checks(sim_url, lake, ["issue_search"])[("issue_search", COUNT_CHECK)]
    assert check.passed and meta(check, "allowed_difference") == 5 and meta(check, "difference") == -5


def test_count_check_fails_after_issues_are_deleted_in_jira(fresh_sim_url, lake):
    land_truth(lake, fresh_sim_url, "issue_search")
    assert run_checks(fresh_sim_url, lake, ["issue_search"])[("issue_search", COUNT_CHECK)].passed
    applied = sim_post(fresh_sim_url, "/__sim/advance", {"delete_issues": 4})["applied"]
    assert applied["delete_issues"] == 4
    check = run_checks(fresh_sim_url, lake, ["issue_search"])[("issue_search", COUNT_CHECK)]
    assert not check.passed
    assert meta(check, "difference") == 4
    assert "deletion census" in check.description


def test_checks_on_a_missing_table_say_what_to_do(sim_url, lake):
    results = run_checks(sim_url, lake, ["issue_search", "issue_comments"])
    for key, check in results.items():
        assert not check.passed and check.severity == AssetCheckSeverity.WARN, key
        assert "materialize issue" in check.description, key
