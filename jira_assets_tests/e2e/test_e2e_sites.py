"""Two Jira sites in one deployment: each table holds exactly the union of both sites' ground truth, each row says
its site; an incremental round on one site changes only that site's rows; a site whose credentials fail fails only
its own assets and leaves the other's tables, and its own, as they were."""

from __future__ import annotations

import json

import pytest
from _simulator import EMAIL, TOKEN, advance, start_simulator, truth
from _sync import key_of, without_embedded_issues
from dagster import AssetSelection, materialize

from jira_assets.defs.definitions import SiteDefinition, build_definitions
from jira_assets.defs.io_manager import IcebergIOManager
from jira_assets.defs.resources import JiraResource
from jira_assets.defs.run_report import run_outcome
from jira_assets.endpoints import BY_NAME
from jira_assets.lake.arrow import SITE_COLUMN
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.writer import LakeWriter

pytestmark = pytest.mark.slow

NAMES = ["issue_search", "issue_changelog", "issue_comments", "fields", "project_search", "project_versions",
         "boards", "board_sprints"]
SITES = ("acme", "globex")


def definitions(urls: dict[str, str], lake_dir, tokens: dict[str, str] | None = None):
    sites = [SiteDefinition(JiraResource(site=site, base_url=url, email=EMAIL, api_token=(tokens or {}).get(site, TOKEN),
                                         rate_limit=50, backoff_base_seconds=0.01),
                            IcebergIOManager(lake_dir=str(lake_dir)))
             for site, url in urls.items()]
    return build_definitions(NAMES, sites)


def run(defs, selection=None):
    result = materialize(list(defs.assets), resources=defs.resources, raise_on_error=False,
                         selection=(selection or AssetSelection.all()).without_checks(),
                         run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    return result, *run_outcome(result)


def rows_by_site(lake_dir, name) -> dict[str, dict[tuple, dict]]:
    spec = BY_NAME[name]
    out: dict[str, dict[tuple, dict]] = {}
    for row in LakeWriter(open_catalog(str(lake_dir))).read_table(name).to_pylist():
        out.setdefault(row[SITE_COLUMN], {})[tuple(str(row[k]) for k in spec.primary_key)] = row
    return out


def assert_site_equals_truth(url, lake_dir, name, site):
    spec = BY_NAME[name]
    expected = {key_of(spec, i["record"], i["parents"]): i["record"] for i in truth(url, name)}
    ours = rows_by_site(lake_dir, name).get(site, {})
    assert set(ours) == set(expected), (name, site, sorted(set(expected) ^ set(ours))[:5])
    for key, row in ours.items():
        raw, record = json.loads(row["_raw"]), expected[key]
        if name == "issue_search":
            raw, record = without_embedded_issues(raw), without_embedded_issues(record)
        assert raw == record, (name, site, key)


@pytest.fixture(scope="module")
def two_sites():
    with start_simulator("--scale", "demo", "--seed", "31") as (acme, _), \
            start_simulator("--scale", "demo", "--seed", "32") as (globex, _):
        yield {"acme": acme, "globex": globex}


def test_every_table_holds_the_union_of_both_sites(two_sites, tmp_path):
    defs = definitions(two_sites, tmp_path / "lake")
    result, metadata, failures = run(defs)
    assert result.success, failures
    assert sorted(metadata) == sorted(f"{site}/{name}" for site in SITES for name in NAMES)
    for name in NAMES:
        assert set(rows_by_site(tmp_path / "lake", name)) == set(SITES), name
        for site in SITES:
            assert_site_equals_truth(two_sites[site], tmp_path / "lake", name, site)
    # Each site's jobs, schedules and sensors are its own.
    job_names = {job.name for job in defs.resolve_all_job_defs()}
    assert {"jira_issues_incremental_acme", "jira_issues_incremental_globex", "jira_sync_all_acme"} <= job_names
    assert {s.name for s in defs.sensors} >= {"jira_issue_change_sensor_acme", "jira_issue_change_sensor_globex"}


def test_an_incremental_round_on_one_site_changes_only_its_rows(tmp_path):
    with start_simulator("--scale", "demo", "--seed", "33") as (acme, _), \
            start_simulator("--scale", "demo", "--seed", "34") as (globex, _):
        urls = {"acme": acme, "globex": globex}
        defs = definitions(urls, tmp_path / "lake")
        assert run(defs)[0].success
        before = {name: rows_by_site(tmp_path / "lake", name)["globex"] for name in NAMES}
        advance(acme, minutes=30, update_issues=10, add_issues=3, delete_issues=2, add_comments=5)
        advance(globex, minutes=30, update_issues=10)  # changes globex's Jira, but only acme is synced
        result, metadata, failures = run(defs, AssetSelection.key_prefixes(["acme"]))
        assert result.success, failures
        assert metadata["acme/issue_search"]["incremental"] is True
        assert metadata["acme/issue_search"]["issues_deleted"] == 2
        for name in NAMES:
            assert_site_equals_truth(acme, tmp_path / "lake", name, "acme")
            assert rows_by_site(tmp_path / "lake", name)["globex"] == before[name], name


def test_a_site_whose_token_fails_fails_only_its_own_assets(two_sites, tmp_path):
    assert run(definitions(two_sites, tmp_path / "lake"))[0].success
    before = {name: rows_by_site(tmp_path / "lake", name) for name in NAMES}
    result, metadata, failures = run(definitions(two_sites, tmp_path / "lake", {"globex": "revoked"}))
    assert not result.success
    assert failures and all(step.startswith("globex__") for step in failures), sorted(failures)
    assert all(key.startswith("acme/") for key in metadata)
    assert "401" in next(iter(failures.values()))
    for name in NAMES:
        assert rows_by_site(tmp_path / "lake", name)["globex"] == before[name]["globex"], name
