"""A child following its parent's commits after the parent's snapshots expired (real tables): commits it had already
processed cost nothing; commits it had not, now only a summary, make it reload fully rather than miss a deletion."""

from __future__ import annotations

import datetime as dt

import pytest

from jira_assets.lake.arrow import Column, records_to_batch, schema_for
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.maintenance import LakeMaintenance, MaintenancePolicy
from jira_assets.lake.writer import LakeWriter, TableWrite
from jira_assets.sync import summary as keys
from jira_assets.sync.follow_parent import parent_changes

COLUMNS = [Column("id", "id", "string")]
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def parent(tmp_path):
    lake = LakeWriter(open_catalog(tmp_path / "lake"))
    for i in range(4):
        summary = {keys.SYNCED_AT: (T0 + dt.timedelta(hours=i)).isoformat(), keys.FULL: "false"}
        if i == 1:
            summary[keys.CENSUS_GONE] = "42"
        lake.write("parent", TableWrite([records_to_batch([{"id": str(i)}], COLUMNS, synced_at=T0)],
                                        schema_for(COLUMNS), "merge", ("id",), summary=summary))
    return lake


def expire_all_but_the_latest(lake):
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)
    maintenance = LakeMaintenance(lake, MaintenancePolicy(keep_snapshots=dt.timedelta(0)),
                                  exclude_from_history=(keys.CENSUS_GONE,))
    assert maintenance.expire_snapshots("parent", now=later).snapshots_expired == 3


def test_a_child_that_had_followed_every_expired_commit_stays_incremental(parent):
    watermark = T0 + dt.timedelta(hours=2)
    before = parent_changes(parent.commit_properties("parent"), watermark)
    expire_all_but_the_latest(parent)
    after = parent_changes(parent.commit_properties("parent"), watermark)
    assert before == after
    assert (after.full, after.since, after.watermark, after.gone_ids) == (False, watermark, T0 + dt.timedelta(hours=3),
                                                                           set())


def test_a_child_behind_the_expired_commits_reloads_fully(parent):
    watermark = T0  # it has not processed hours 1-3, among them a census that removed issue 42
    assert parent_changes(parent.commit_properties("parent"), watermark).gone_ids == {"42"}
    expire_all_but_the_latest(parent)
    after = parent_changes(parent.commit_properties("parent"), watermark)
    assert after.full is True and after.watermark == T0 + dt.timedelta(hours=3)
