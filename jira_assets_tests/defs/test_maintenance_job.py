"""The maintenance job through Dagster, on a lake the real sync wrote from the simulator: it compacts, expires and
cleans every table without changing a row or a cursor, keeps the issue_search commits its children have not
followed yet, and the next syncs are incremental and equal Jira. Plus the job and schedule names per site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _simulator import advance, start_simulator, truth
from _sync import assert_table_equals_truth, lake, sync
from dagster import DefaultScheduleStatus

from jira_assets.defs.automation import automation_definitions
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.defs.maintenance import maintenance_definitions
from jira_assets.defs.site import ONLY_SITE, SiteNames
from jira_assets.endpoints import BY_NAME
from jira_assets.lake.history import SUMMARIZED_COMMITS
from jira_assets.lake.maintenance import MAINTENANCE_PROPERTY
from jira_assets.lake.reader import SITE_PROPERTY

TABLES = ["issue_search", "issue_changelog", "issue_comments", "issue_worklog"]
CHILDREN = TABLES[1:]
NO_WINDOW = {"keep_snapshots_days": 0, "orphan_min_age_hours": 0}


def run_maintenance(lake_dir, config=NO_WINDOW, names=TABLES):
    [job] = maintenance_definitions(names, [ONLY_SITE])["jobs"]
    result = job.execute_in_process(resources={"lake": IcebergIOManager(lake_dir=str(lake_dir))},
                                    run_config={"ops": {"maintain_lake_tables": {"config": dict(config)}}},
                                    raise_on_error=False)
    assert result.success
    observed = {obs.asset_key.path[-1]: {k: getattr(v, "value", v) for k, v in obs.metadata.items()}
                for obs in result.asset_observations_for_node("maintain_lake_tables")}
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    totals = {k: getattr(v, "value", v) for k, v in output.event_specific_data.metadata.items()}
    return observed, totals


def state(lake_dir, site):
    """Each table's rows and what its site's reader reads (every property's last committed value)."""
    writer = lake(lake_dir)
    reader = writer.for_site(site)
    out = {}
    for name in TABLES:
        spec = BY_NAME[name]
        rows = sorted(writer.read_table(name).to_pylist(), key=lambda r: tuple(str(r[k]) for k in spec.primary_key))
        keys = sorted({k for p in reader.commit_properties(name) for k in p if k.startswith("jira.")})
        out[name] = (rows, {k: reader.last_committed_property(name, k) for k in keys}, reader.row_count(name))
    return out


def files(lake_dir, name) -> int:
    return len(lake(lake_dir).load(name).inspect.files())


def on_disk(lake_dir, name) -> set[Path]:
    location = Path(lake(lake_dir).load(name).location().removeprefix("file://"))
    return {p for p in location.rglob("*") if p.is_file()}


def files_but_metadata(files: set[Path]) -> set[Path]:
    return {p for p in files if not p.name.endswith(".metadata.json")}


@pytest.mark.slow
def test_the_maintenance_job_on_a_synced_lake_keeps_rows_cursors_and_unfollowed_commits(tmp_path):
    lake_dir = tmp_path / "lake"
    with start_simulator("--scale", "demo", "--seed", "31") as (url, _):
        assert sync(url, TABLES, lake_dir=lake_dir).success
        for _ in range(4):
            advance(url, minutes=30, update_issues=6, add_comments=8, add_worklogs=3)
            result = sync(url, TABLES, lake_dir=lake_dir)
            assert result.success, result.failures
            assert result.metadata["issue_search"]["incremental"] is True
        site = next(lake(lake_dir).commit_properties("issue_search"))[SITE_PROPERTY]
        before = state(lake_dir, site)
        files_before = {n: files(lake_dir, n) for n in TABLES}
        snapshots_before = {n: len(lake(lake_dir).load(n).snapshots()) for n in TABLES}
        assert files_before["issue_search"] >= 4 and snapshots_before["issue_search"] == 5

        observed, totals = run_maintenance(lake_dir)

        assert set(observed) == set(TABLES)
        for name in TABLES:
            figures = observed[name]
            expected_files = 1 if files_before[name] > 1 else files_before[name]
            assert (figures["files_before"], figures["files_after"]) == (files_before[name], expected_files), name
            assert files(lake_dir, name) == expected_files
            assert figures["snapshots_before"] == snapshots_before[name] + (files_before[name] > 1)
            assert figures["snapshots_after"] == len(lake(lake_dir).load(name).snapshots()) == 1, name
            assert figures["orphans_removed"] > 0 and figures["metadata_bytes_after"] < figures[
                "metadata_bytes_before"]
        assert totals["files_after"] == sum(observed[n]["files_after"] for n in TABLES)
        assert totals["snapshots_expired"] == sum(observed[n]["snapshots_expired"] for n in TABLES)
        assert state(lake_dir, site) == before  # not a row, not a cursor changed

        # issue_search alone, twice: its children now lag two commits behind, which expiry must keep.
        for _ in range(2):
            advance(url, minutes=30, update_issues=6, add_comments=8)
            assert sync(url, ["issue_search"], lake_dir=lake_dir).success
        observed, _ = run_maintenance(lake_dir)
        issues = lake(lake_dir).load("issue_search")
        kept = [s.summary.additional_properties for s in issues.snapshots()]
        assert observed["issue_search"]["snapshots_after"] == len(kept) == 3  # the compaction on the two syncs
        assert sum(MAINTENANCE_PROPERTY in p for p in kept) == 1
        assert observed["issue_search"]["snapshots_expired"] == 1  # the first compaction

        # The children follow those two commits incrementally; the next maintenance lets them go.
        result = sync(url, TABLES, lake_dir=lake_dir)
        assert result.success, result.failures
        for name in TABLES:
            assert result.metadata[name]["incremental"] is True, name
        for name in CHILDREN:
            assert_table_equals_truth(url, lake_dir, name)
        # (issue_search compared as of each issue's own last change: its embedded copies of other issues, such as
        # the epic in the Parent Link field, lag in any incremental sync)
        ours = {r["id"]: json.loads(r["_raw"])["fields"]["updated"]
                for r in lake(lake_dir).read_table("issue_search").to_pylist()}
        assert ours == {i["record"]["id"]: i["record"]["fields"]["updated"] for i in truth(url, "issue_search")}
        observed, _ = run_maintenance(lake_dir)
        assert observed["issue_search"]["snapshots_after"] == 1
        summary = [p for p in lake(lake_dir).for_site(site).commit_properties("issue_search")
                   if SUMMARIZED_COMMITS in p]
        assert len(summary) == 1 and int(summary[0][SUMMARIZED_COMMITS]) >= 7

        # The defaults (7 days, 1 h) keep every commit this young test made; expiring them all still leaves their
        # files, minutes old, to a later run.
        disk = on_disk(lake_dir, "issue_comments")
        advance(url, minutes=30, add_comments=8)
        assert sync(url, TABLES, lake_dir=lake_dir).success
        observed, _ = run_maintenance(lake_dir, config={})
        assert observed["issue_comments"]["snapshots_expired"] == 0
        assert observed["issue_comments"]["snapshots_after"] >= 2
        observed, _ = run_maintenance(lake_dir, config={"keep_snapshots_days": 0})
        comments = observed["issue_comments"]
        assert comments["snapshots_expired"] >= 1 and comments["snapshots_after"] == 1
        assert comments["orphans_removed"] == 0 and comments["orphans_too_young"] > 0
        # (each commit deletes the metadata.json files beyond the newest JIRA_ASSETS_KEEP_METADATA_VERSIONS)
        assert files_but_metadata(disk) <= files_but_metadata(on_disk(lake_dir, "issue_comments"))


def test_one_maintenance_job_and_daily_schedule_per_site_on_its_own_lake_resource():
    one = maintenance_definitions(TABLES, [ONLY_SITE])
    assert [j.name for j in one["jobs"]] == ["jira_lake_maintenance"]
    [schedule] = one["schedules"]
    assert (schedule.name, schedule.cron_schedule, schedule.default_status) == (
        "jira_lake_maintenance_schedule", "45 4 * * *", DefaultScheduleStatus.RUNNING)
    assert one["jobs"][0].get_node_named("maintain_lake_tables").definition.required_resource_keys == {"lake"}
    # Not at the time of any other schedule (hourly incremental at :00, daily refresh 02:00, census 03:30).
    others = {s.cron_schedule for s in automation_definitions(list(BY_NAME))["schedules"]}
    assert others == {"0 * * * *", "0 2 * * *", "30 3 * * *"} and schedule.cron_schedule not in others
    assert schedule.cron_schedule.split()[0] not in {c.split()[0] for c in others}

    several = maintenance_definitions(TABLES, [SiteNames("acme"), SiteNames("globex")])
    assert [j.name for j in several["jobs"]] == ["jira_lake_maintenance_acme", "jira_lake_maintenance_globex"]
    assert [s.name for s in several["schedules"]] == ["jira_lake_maintenance_schedule_acme",
                                                      "jira_lake_maintenance_schedule_globex"]
    assert [j.get_node_named(f"{p}__maintain_lake_tables").definition.required_resource_keys
            for j, p in zip(several["jobs"], ("acme", "globex"))] == [{"lake_acme"}, {"lake_globex"}]


def test_the_schedule_time_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("JIRA_ASSETS_MAINTENANCE_CRON", "15 5 * * 0")
    assert maintenance_definitions(TABLES)["schedules"][0].cron_schedule == "15 5 * * 0"
    monkeypatch.setenv("JIRA_ASSETS_MAINTENANCE_CRON", "every day")
    with pytest.raises(ValueError, match="JIRA_ASSETS_MAINTENANCE_CRON"):
        maintenance_definitions(TABLES)


def test_a_job_run_on_an_empty_lake_maintains_nothing_and_succeeds(tmp_path):
    observed, totals = run_maintenance(tmp_path / "lake")
    assert observed == {} and totals["tables"] == 0
