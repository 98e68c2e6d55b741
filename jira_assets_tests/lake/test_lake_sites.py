"""Several sites in one table: each site's writes replace and delete only its own rows, each site reads only its
rows and its commits, and rows written before tables had a `site` column go with the first write of a site."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from jira_assets.lake.arrow import SITE_COLUMN, Column, records_to_batch
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.reader import SITE_ROWS_PROPERTY
from jira_assets.lake.writer import LakeWriter, TableWrite

SYNCED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
COLUMNS = [Column("id", "id", "string"), Column("name", "name", "string")]
KEY = (SITE_COLUMN, "id")


def write(lake, site, ids, mode="replace", name="v1", deletes=None, cursor=None):
    records = [{"id": str(i), "name": f"{name}-{i}"} for i in ids]
    extra = {SITE_COLUMN: [site] * len(records)} if site else None
    batch = records_to_batch(records, COLUMNS, extra=extra, extra_types={SITE_COLUMN: "string"} if site else None,
                             synced_at=SYNCED)
    return lake.write("t", TableWrite([batch], batch.schema, mode, KEY if site else ("id",),
                                      summary={"cursor": cursor} if cursor else {}, deletes=deletes, site=site))


@pytest.fixture
def lake(tmp_path):
    return LakeWriter(open_catalog(tmp_path / "lake"))


def ids(lake, site):
    return sorted(int(i) for i in lake.for_site(site).read_table("t", ["id"]).column("id").to_pylist())


def test_each_site_replaces_and_deletes_only_its_own_rows(lake):
    write(lake, "acme", [1, 2, 3], cursor="a1")
    write(lake, "globex", [1, 2], cursor="g1")
    assert (ids(lake, "acme"), ids(lake, "globex")) == ([1, 2, 3], [1, 2])
    write(lake, "acme", [4])  # a replace of acme: globex keeps its rows
    assert (ids(lake, "acme"), ids(lake, "globex")) == ([4], [1, 2])
    write(lake, "globex", [3], mode="merge", deletes=pa.table({"id": ["1"]}))  # deletes only globex's id 1
    write(lake, "acme", [1], mode="merge")
    assert (ids(lake, "acme"), ids(lake, "globex")) == ([1, 4], [2, 3])
    assert lake.read_table("t", ["id"]).num_rows == 4


def test_each_site_sees_its_own_commits_and_row_count(lake):
    write(lake, "acme", [1, 2, 3], cursor="a1")
    write(lake, "globex", [1], cursor="g1")
    write(lake, "globex", [2, 3], mode="merge")
    acme, globex, other = lake.for_site("acme"), lake.for_site("globex"), lake.for_site("initech")
    assert (acme.last_committed_property("t", "cursor"), globex.last_committed_property("t", "cursor")) == (
        "a1", "g1")
    assert (acme.row_count("t"), globex.row_count("t"), other.row_count("t")) == (3, 3, 0)
    assert globex.last_committed_property("t", SITE_ROWS_PROPERTY) == "3"
    assert acme.table_exists("t") and not other.table_exists("t")
    assert len(list(globex.commit_properties("t"))) == 2
    assert lake.row_count("t") == 6  # the whole table


def test_rows_written_before_the_site_column_belong_to_no_site_and_go_with_its_first_replace(lake):
    write(lake, None, [1, 2, 3])  # a table from before the site column
    assert ids(lake, "acme") == [] and not lake.for_site("acme").table_exists("t")
    write(lake, "acme", [7])
    assert ids(lake, "acme") == [7]
    assert lake.read_table("t", ["id"]).column("id").to_pylist() == ["7"]
