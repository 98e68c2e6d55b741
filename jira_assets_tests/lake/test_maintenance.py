"""Lake maintenance on real pyiceberg tables: compaction (exact file counts, rows, sort order, cursors), snapshot
expiry (window, latest, retained commits, cursors of expired commits), orphan removal (exactly the old unreferenced
files, never a fresh one, never a referenced one) and maintenance racing real writes (nothing lost)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyiceberg.table.sorting import NullOrder
from pyiceberg.transforms import IdentityTransform

from jira_assets.lake.arrow import SITE_COLUMN, Column, records_to_batch, schema_for
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.history import EXPIRED_HISTORY_PROPERTY, SUMMARIZED_COMMITS
from jira_assets.lake.maintenance import MAINTENANCE_PROPERTY, LakeMaintenance, MaintenancePolicy
from jira_assets.lake.writer import LakeWriter, TableWrite

COLUMNS = [Column("id", "id", "string"), Column("name", "name", "string"), Column("n", "n", "long")]
SCHEMA = schema_for(COLUMNS)
SYNCED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
LONG_AGO = dt.timedelta(0)  # a window of nothing: only what must be kept stays
HOUR = dt.timedelta(hours=1)


def batch(ids, name="v1", site=None):
    records = [{"id": str(i), "name": f"{name}-{i}", "n": i} for i in ids]
    if site is None:
        return records_to_batch(records, COLUMNS, synced_at=SYNCED)
    return records_to_batch(records, COLUMNS, extra={SITE_COLUMN: [site] * len(records)},
                            extra_types={SITE_COLUMN: "string"}, synced_at=SYNCED)


def merge(lake: LakeWriter, ids, name="v1", table="t", **summary):
    """A sync's merge by key; a site's writer writes the site column too, keyed as the connector keys tables."""
    b = batch(ids, name, lake.site)
    key = ["id"] if lake.site is None else [SITE_COLUMN, "id"]
    return lake.write(table, TableWrite(batches=[b], schema=b.schema, mode="merge", key_columns=key, summary=summary))


@pytest.fixture
def lake(tmp_path):
    return LakeWriter(open_catalog(tmp_path / "lake"))


def rows(lake, name="t"):
    """Every column of every row (the _raw JSON and sync time included), in key order."""
    return sorted(lake.read_table(name).to_pylist(), key=lambda r: int(r["id"]))


def data_files(lake, name="t") -> list[str]:
    return lake.load(name).inspect.files().column("file_path").to_pylist()


ICEBERG_OWN = re.compile(r"^(added-|deleted-|removed-|changed-|total-|partition|lake\.summarized-commits$)")


def cursor_view(lake, name="t", sites=(None,)) -> dict:
    """What every reader reads: each property's last committed value, whether the table exists and its rows, per
    site (None: the whole table)."""
    view = {}
    for site in sites:
        reader = lake.for_site(site)
        keys = sorted({k for p in reader.commit_properties(name) for k in p
                       if not ICEBERG_OWN.match(k) and k != MAINTENANCE_PROPERTY and not k.startswith("lake.rewr")})
        view[site] = {k: reader.last_committed_property(name, k) for k in keys}
        view[site]["__exists"] = reader.table_exists(name)
        view[site]["__rows"] = reader.row_count(name)
    return view


def policy(**kw) -> MaintenancePolicy:
    return MaintenancePolicy(**{"keep_snapshots": LONG_AGO, "orphan_min_age": HOUR, **kw})


# ---- compaction --------------------------------------------------------------------------------------------------


def test_compaction_leaves_one_file_for_many_small_writes_with_rows_and_cursors_unchanged(lake):
    sites = ("acme", "beta")
    for i in range(12):
        writer = lake.for_site(sites[i % 2])
        merge(writer, range(i * 10, i * 10 + 10), **{"cursor": f"c{i:02d}"}, **({"rare": "r2"} if i == 2 else {}))
    merge(lake.for_site("acme"), [3, 25], name="v2", cursor="c12")  # rewrites two files, adds one
    assert len(data_files(lake)) == 13
    before_rows, before_view = rows(lake), cursor_view(lake, sites=(None, *sites))

    result = LakeMaintenance(lake, policy()).compact("t")

    assert (result.files_before, result.files_rewritten, result.files_written, result.files_after) == (13, 13, 1, 1)
    assert len(data_files(lake)) == 1
    assert rows(lake) == before_rows
    assert cursor_view(lake, sites=(None, *sites)) == before_view
    assert before_view["acme"]["cursor"] == "c12" and before_view["beta"]["cursor"] == "c11"
    assert before_view["acme"]["rare"] == "r2" and "rare" not in before_view["beta"]
    assert before_view[None]["cursor"] == "c12" and before_view["acme"]["__rows"] == 60 == len(rows(lake)) / 2
    assert lake.load("t").current_snapshot().summary[MAINTENANCE_PROPERTY] == "compaction"
    # 12 manifests (one per write; the merge's own two replace those of the files it rewrote), then one of the new
    # file and one of this commit's deletions.
    assert result.manifests_before == 12 and result.manifests_after == 2
    # Nothing left to gain: a second pass commits nothing.
    snapshots = len(lake.load("t").snapshots())
    again = LakeMaintenance(lake, policy()).compact("t")
    assert (again.files_rewritten, again.snapshot_id) == (0, None)
    assert len(lake.load("t").snapshots()) == snapshots


def test_compaction_packs_small_files_into_target_sized_bins_and_leaves_big_files_alone(lake):
    merge(lake, range(1000, 3000))  # one big file
    for i in range(12):
        merge(lake, range(i * 10, i * 10 + 10))
    table = lake.load("t")
    sizes = dict(zip(table.inspect.files().column("file_path").to_pylist(),
                     table.inspect.files().column("file_size_in_bytes").to_pylist()))
    big = max(sizes, key=sizes.get)
    small = [s for p, s in sizes.items() if p != big]
    assert 4 * max(small) < 5 * min(small) and sizes[big] > 2 * max(small)
    target = 4 * max(small)  # four small files a bin: 12 -> 3

    result = LakeMaintenance(lake, policy(target_file_bytes=target, small_file_bytes=2 * max(small))).compact("t")

    assert (result.files_before, result.files_rewritten, result.files_written) == (13, 12, 3)
    assert big in data_files(lake) and len(data_files(lake)) == 4
    assert [r["id"] for r in rows(lake)] == [str(i) for i in [*range(120), *range(1000, 3000)]]


def test_a_table_replaced_again_and_again_sheds_the_manifests_of_its_deleted_files(lake):
    for i in range(5):
        lake.write("t", TableWrite(batches=[batch(range(i, i + 20), f"r{i}")], schema=SCHEMA, summary={"n": str(i)}))
    table = lake.load("t")
    manifests = table.current_snapshot().manifests(table.io)
    assert len(manifests) == 5 and len(data_files(lake)) == 1  # 1 live, 4 of deleted files (3 carried forward)
    before_rows, before_view = rows(lake), cursor_view(lake)

    result = LakeMaintenance(lake, policy()).compact("t")

    assert (result.files_rewritten, result.manifests_before, result.manifests_after) == (0, 5, 1)
    assert lake.load("t").current_snapshot().summary[MAINTENANCE_PROPERTY] == "manifests"
    assert rows(lake) == before_rows and cursor_view(lake) == before_view
    assert LakeMaintenance(lake, policy()).compact("t").snapshot_id is None  # nothing more to shed


def test_compaction_sorts_each_file_by_the_tables_sort_order(lake):
    ids = [7, 3, 11, 0, 5, 9, 1, 10, 2, 8, 4, 6]
    merge(lake, ids[:3], table="sorted")
    with lake.load("sorted").transaction() as tx:
        tx.update_sort_order().desc("n", IdentityTransform(), NullOrder.NULLS_LAST).commit()
    assert not lake.load("sorted").sort_order().is_unsorted
    for chunk in (ids[3:6], ids[6:9], ids[9:]):
        merge(lake, chunk, table="sorted")
    before = rows(lake, "sorted")

    result = LakeMaintenance(lake, policy()).compact("sorted")

    assert result.files_written == 1
    [path] = data_files(lake, "sorted")
    assert pq.read_table(path.removeprefix("file://")).column("n").to_pylist() == sorted(ids, reverse=True)
    assert rows(lake, "sorted") == before


# ---- snapshot expiry ---------------------------------------------------------------------------------------------


def _write_history(lake, n=8):
    """n commits alternating two sites, at least 2 ms apart; `first-only` only in the first of each site."""
    for i in range(n):
        site = "acme" if i % 2 == 0 else "beta"
        extra = {"first-only": f"{site}-first"} if i < 2 else {}
        merge(lake.for_site(site), range(i * 5, i * 5 + 5), cursor=f"c{i}", **extra)
        time.sleep(0.005)
    table = lake.load("t")
    return sorted(table.snapshots(), key=lambda s: s.timestamp_ms)


def test_expiry_keeps_the_window_and_what_was_committed_before_it_reads_the_same(lake):
    snapshots = _write_history(lake, 8)
    before_view = cursor_view(lake, sites=(None, "acme", "beta"))
    before_rows = rows(lake)
    # The window starts at the 6th commit: the five before it go.
    now = dt.datetime.fromtimestamp(snapshots[5].timestamp_ms / 1000, dt.timezone.utc) + dt.timedelta(days=7)
    result = LakeMaintenance(lake, MaintenancePolicy()).expire_snapshots("t", now=now)

    assert (result.snapshots_before, result.snapshots_expired, result.snapshots_after) == (8, 5, 3)
    left = lake.load("t").snapshots()
    assert [s.snapshot_id for s in left] == [s.snapshot_id for s in snapshots[5:]]
    assert cursor_view(lake, sites=(None, "acme", "beta")) == before_view
    assert before_view["acme"]["first-only"] == "acme-first" and before_view["beta"]["first-only"] == "beta-first"
    assert rows(lake) == before_rows
    # Time travel inside the window still works: the oldest kept commit reads as it was.
    oldest = lake.load("t").scan(snapshot_id=snapshots[5].snapshot_id).to_arrow()
    assert sorted(int(i) for i in oldest.column("id").to_pylist()) == list(range(30))
    history = lake.load("t").properties[EXPIRED_HISTORY_PROPERTY]
    assert f'"{SUMMARIZED_COMMITS}": "5"' in history


def test_expiry_with_no_window_keeps_the_latest_and_every_cursor(lake):
    _write_history(lake, 6)
    before_view = cursor_view(lake, sites=(None, "acme", "beta"))
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)
    maintenance = LakeMaintenance(lake, policy())

    result = maintenance.expire_snapshots("t", now=later)

    assert (result.snapshots_expired, result.snapshots_after) == (5, 1)
    assert cursor_view(lake, sites=(None, "acme", "beta")) == before_view
    # More commits, expired again: the history folds in, newest values win, counts add up.
    merge(lake.for_site("beta"), [100], cursor="c6")
    merge(lake.for_site("acme"), [101], cursor="c7")
    assert maintenance.expire_snapshots("t", now=later).snapshots_expired == 2
    view = cursor_view(lake, sites=(None, "acme", "beta"))
    assert (view[None]["cursor"], view["acme"]["cursor"], view["beta"]["cursor"]) == ("c7", "c7", "c6")
    assert view["beta"]["first-only"] == "beta-first"
    entries = [p for p in lake.commit_properties("t") if SUMMARIZED_COMMITS in p]
    assert [e[SUMMARIZED_COMMITS] for e in entries] == ["7", "3", "4"]  # whole table, acme, beta


def test_expiry_keeps_every_commit_a_retain_rule_still_needs_and_all_after_it(lake):
    snapshots = _write_history(lake, 8)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)

    result = LakeMaintenance(lake, policy()).expire_snapshots("t", now=later,
                                                              retain=lambda props: props.get("cursor") == "c3")

    assert result.snapshots_expired == 3  # c0..c2; c3 is needed, so c4..c7 stay with it (one unbroken history)
    assert [s.snapshot_id for s in lake.load("t").snapshots()] == [s.snapshot_id for s in snapshots[3:]]
    assert [p["cursor"] for p in lake.commit_properties("t") if SUMMARIZED_COMMITS not in p] == \
        ["c7", "c6", "c5", "c4", "c3"]


# ---- orphan files ------------------------------------------------------------------------------------------------


def _age(path: Path, by: dt.timedelta) -> None:
    t = time.time() - by.total_seconds()
    os.utime(path, (t, t))


KILLED_WRITER = r"""
import datetime as dt, sys, time
from jira_assets.lake.arrow import SITE_COLUMN, Column, records_to_batch, schema_for
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.writer import LakeWriter, TableWrite
COLUMNS = [Column("id", "id", "string"), Column("name", "name", "string"), Column("n", "n", "long")]
def batches():
    for i in range(1000):
        yield records_to_batch([{"id": str(j), "name": "x" * 200, "n": j} for j in range(i * 50, i * 50 + 50)],
                               COLUMNS, synced_at=dt.datetime.now(dt.timezone.utc))
        if i == 5:
            print("written", flush=True)
            time.sleep(600)  # killed here, files written, nothing committed
lake = LakeWriter(open_catalog(sys.argv[1]), target_file_bytes=4096)
lake.write("t", TableWrite(batches=batches(), schema=schema_for(COLUMNS), mode="merge", key_columns=["id"]))
"""


def _killed_write(lake_dir: Path) -> None:
    """A real writer process killed mid-write (SIGKILL): its data files are on disk, referenced by nothing."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(lake_dir)], stdout=subprocess.PIPE, env=env,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)


@pytest.mark.slow
def test_orphan_removal_deletes_exactly_the_old_unreferenced_files(tmp_path):
    lake_dir = tmp_path / "lake"
    lake = LakeWriter(open_catalog(lake_dir))
    for i in range(4):
        merge(lake, range(i * 10, i * 10 + 10), cursor=f"c{i}")
    location = Path(lake.load("t").location().removeprefix("file://"))
    on_disk_before = {p for p in location.rglob("*") if p.is_file()}
    _killed_write(lake_dir)
    killed = {p for p in location.rglob("*") if p.is_file()} - on_disk_before
    assert len(killed) >= 5 and all(p.parent.name == "data" for p in killed)
    old_stray = location / "metadata" / "00000-stray.metadata.json"
    old_stray.write_text("{}")
    fresh_stray = location / "data" / "00000-0-fresh.parquet"
    fresh_stray.write_bytes(b"in flight")
    for p in {*killed, old_stray}:
        _age(p, 2 * HOUR)
    orphan_bytes = sum(p.stat().st_size for p in {*killed, old_stray})
    for p in on_disk_before:  # referenced files, however old, stay
        _age(p, 30 * 24 * HOUR)
    before_rows = rows(lake)

    result = LakeMaintenance(lake, policy()).remove_orphan_files("t")

    assert {Path(p) for p in result.removed} == {*killed, old_stray}
    assert (result.orphans_found, result.orphans_removed, result.young_kept) == (len(killed) + 2, len(killed) + 1, 1)
    assert result.bytes_removed == orphan_bytes
    on_disk = {p for p in location.rglob("*") if p.is_file()}
    assert on_disk == on_disk_before | {fresh_stray}
    assert rows(lake) == before_rows
    for snapshot in lake.load("t").snapshots():  # every commit still reads: nothing it needs went
        lake.load("t").scan(snapshot_id=snapshot.snapshot_id).to_arrow()


def test_after_compaction_and_expiry_only_live_files_remain_and_every_snapshot_reads(lake):
    for i in range(10):
        merge(lake, range(i * 10, i * 10 + 10), cursor=f"c{i}")
    merge(lake, [5, 55], name="v2", cursor="c10")
    location = Path(lake.load("t").location().removeprefix("file://"))
    data_before = set((location / "data").iterdir())
    assert len(data_before) == 13  # 10 appends, and the merge's two rewritten files and one new
    before_rows, before_view = rows(lake), cursor_view(lake)
    later = dt.datetime.now(dt.timezone.utc) + 2 * HOUR  # everything on disk is "old" by then

    result = LakeMaintenance(lake, policy()).maintain("t", now=later)

    assert result.compaction.files_after == 1 and result.expiry.snapshots_after == 1
    table = lake.load("t")
    local = lambda p: Path(p.removeprefix("file://"))  # noqa: E731
    live_data = {local(p) for p in table.inspect.all_files().column("file_path").to_pylist()}
    assert set((location / "data").iterdir()) == live_data and len(live_data) == 1
    snapshot = table.current_snapshot()
    live_metadata = {local(table.metadata_location), *(local(e.metadata_file) for e in table.metadata.metadata_log),
                     local(snapshot.manifest_list), *(local(m.manifest_path) for m in snapshot.manifests(table.io))}
    assert set((location / "metadata").iterdir()) == live_metadata
    removed = {Path(p) for p in result.orphans.removed}
    assert {p for p in removed if p.parent.name == "data"} == data_before
    assert result.orphans.metadata_bytes_after == sum(p.stat().st_size for p in live_metadata)
    assert rows(lake) == before_rows and cursor_view(lake) == before_view


# ---- running beside syncs ----------------------------------------------------------------------------------------


def test_maintenance_waits_for_a_sync_holding_the_table_and_skips_it_after_its_timeout(lake):
    for i in range(3):
        merge(lake, [i])
    held, release = threading.Event(), threading.Event()

    def sync():
        with lake.table_lock("t"):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=sync)
    thread.start()
    held.wait(10)
    try:
        result = LakeMaintenance(lake, policy(lock_timeout=0.3)).maintain("t")
    finally:
        release.set()
        thread.join()
    assert "skipped" in result.skipped and not result.committed
    assert len(data_files(lake)) == 3
    assert LakeMaintenance(lake, policy()).maintain("t").compaction.files_after == 1


@pytest.mark.slow
def test_maintenance_racing_real_writes_loses_nothing(lake):
    """Syncs write as the asset does (the table's lock around each write) while maintenance runs in a loop with no
    window and no orphan age: every write lands, every row is there, the cursor is the last write's."""
    expected: dict[str, str] = {}
    errors: list[BaseException] = []
    done = threading.Event()
    writes = 30

    def syncs():
        try:
            for i in range(writes):
                ids = [*range(i * 10, i * 10 + 10), *(range(0, i * 10, 7))]  # new rows and updates of old ones
                with lake.table_lock("t"):
                    merge(lake, ids, name=f"w{i}", cursor=f"c{i:02d}")
                for j in ids:
                    expected[str(j)] = f"w{i}-{j}"
                time.sleep(0.03)  # a sync's fetching, between its commits
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            done.set()

    passes = []
    maintenance = LakeMaintenance(lake, policy(orphan_min_age=dt.timedelta(0)))
    thread = threading.Thread(target=syncs)
    thread.start()
    while not done.is_set():
        passes.append(maintenance.maintain("t"))
        time.sleep(0.02)  # (a loop re-taking the lock at once would starve the writer's polling)
    thread.join()
    passes.append(maintenance.maintain("t"))
    assert errors == []
    assert sum(p.compaction.files_rewritten > 0 for p in passes) >= 3  # it really ran between the writes
    assert {r["id"]: r["name"] for r in lake.read_table("t").to_pylist()} == expected
    assert lake.last_committed_property("t", "cursor") == f"c{writes - 1:02d}"
    # Every commit made is in the history, as a commit or counted in the summary of the expired ones: the syncs'
    # and maintenance's compactions, none overwritten by another.
    table = lake.load("t")
    whole = next(p for p in lake.commit_properties("t") if SUMMARIZED_COMMITS in p)
    compactions = sum(p.compaction.snapshot_id is not None for p in passes)
    assert len(table.snapshots()) + int(whole[SUMMARIZED_COMMITS]) == writes + compactions
    assert len(table.snapshots()) == 1 and len(data_files(lake)) == 1


def test_a_commit_landing_between_plan_and_commit_makes_compaction_plan_again(lake):
    """No lock (a catalog without one): a real write lands after compaction planned and before it commits; the
    compaction loses the race, plans again from the fresh table, and lands; the write is kept."""
    for i in range(6):
        merge(lake, range(i * 10, i * 10 + 10), cursor=f"c{i}")
    maintenance = LakeMaintenance(lake, policy())
    landed = []

    def concurrent_write(name, step):
        if not landed:
            merge(lake, [5, 15, 99], name="late", cursor="late")  # rewrites two files compaction planned to drop
            landed.append(step)

    maintenance.before_commit = concurrent_write
    result = maintenance._compact("t")

    assert landed == ["compaction"] and result.retries == 1
    assert result.files_after == 1 and len(data_files(lake)) == 1
    names = {r["id"]: r["name"] for r in lake.read_table("t").to_pylist()}
    assert len(names) == 61 and {names["5"], names["15"], names["99"]} == {"late-5", "late-15", "late-99"}
    assert lake.last_committed_property("t", "cursor") == "late"


def test_a_commit_landing_between_plan_and_commit_makes_expiry_plan_again(lake):
    for i in range(5):
        merge(lake, range(i * 10, i * 10 + 10), cursor=f"c{i}")
    maintenance = LakeMaintenance(lake, policy())
    landed = []

    def concurrent_write(name, step):
        if not landed:
            merge(lake, [77], name="late", cursor="late")
            landed.append(step)

    maintenance.before_commit = concurrent_write
    result = maintenance._expire("t", None, dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30))

    assert landed == ["expiry"] and result.retries == 1
    assert (result.snapshots_before, result.snapshots_expired, result.snapshots_after) == (6, 5, 1)
    assert lake.last_committed_property("t", "cursor") == "late"
    assert len(lake.read_table("t")) == 51


# ---- metadata files ----------------------------------------------------------------------------------------------


def metadata_files(lake, name="t") -> list[Path]:
    location = lake.load(name).metadata_location.removeprefix("file://")
    return sorted(Path(location).parent.glob("*.metadata.json"))


def test_each_commit_keeps_only_the_newest_metadata_files_and_every_snapshot_still_reads(tmp_path):
    lake = LakeWriter(open_catalog(tmp_path / "lake"), metadata_versions=3)
    for i in range(12):
        merge(lake, [i], f"m{i}", cursor=str(i))
    table = lake.load("t")
    # The current file and the 3 before it; the 9 older ones went with the commits that pushed them out.
    assert len(metadata_files(lake)) == 4
    assert len(table.metadata.metadata_log) == 3
    assert len(table.metadata.snapshots) == 12  # time travel is in the current file: every snapshot reads
    assert [table.scan(snapshot_id=s.snapshot_id).to_arrow().num_rows for s in table.metadata.snapshots] == \
        list(range(1, 13))
    assert lake.last_committed_property("t", "cursor") == "11"


def test_a_table_written_before_the_bound_takes_it_on_its_next_commit(tmp_path):
    catalog = open_catalog(tmp_path / "lake")
    unbounded = LakeWriter(catalog)
    for i in range(8):
        merge(unbounded, [i])
    # As a lake written before the bound existed: the table has no retention properties.
    with unbounded.load("t").transaction() as tx:
        tx.remove_properties("write.metadata.previous-versions-max", "write.metadata.delete-after-commit.enabled")
    assert len(metadata_files(unbounded)) == 9
    bounded = LakeWriter(catalog, metadata_versions=2)
    merge(bounded, [8])
    props = bounded.load("t").properties
    assert props["write.metadata.previous-versions-max"] == "2"
    assert props["write.metadata.delete-after-commit.enabled"] == "true"
    assert len(metadata_files(bounded)) == 3
    assert bounded.row_count("t") == 9
