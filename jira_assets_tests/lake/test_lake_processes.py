"""Real processes against one embedded lake: a writer killed with SIGKILL mid-write, and
several processes committing different tables to the same SQLite catalog at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.writer import LakeWriter, TableWrite

WORKER_PRELUDE = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from jira_assets.lake.arrow import Column, records_to_batch, schema_for
    from jira_assets.lake.catalog import open_catalog
    from jira_assets.lake.writer import LakeWriter, TableWrite

    SYNCED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    COLS = [Column("id", "id", "string"), Column("v", "v", "long")]
    SCHEMA = schema_for(COLS)

    def batch(ids, v):
        return records_to_batch([{"id": str(i), "v": v, "pad": "x" * 200} for i in ids], COLS, synced_at=SYNCED)
    """
)

KILLED_WRITER = WORKER_PRELUDE + textwrap.dedent(
    """
    lake_dir, marker = sys.argv[1], Path(sys.argv[2])
    lake = LakeWriter(open_catalog(lake_dir), target_file_bytes=4096)

    def endless():
        for i in range(10**6):
            yield batch(range(1000 + 50 * i, 1050 + 50 * i), 2)
            if i == 5:
                marker.write_text("data files written")  # several Parquet files exist by now
            if i >= 5:
                time.sleep(0.2)

    lake.write("victim", TableWrite(batches=endless(), schema=SCHEMA, mode="merge", key_columns=["id"],
                                    summary={"cursor": "never"}))
    """
)

CONCURRENT_WRITER = WORKER_PRELUDE + textwrap.dedent(
    """
    lake_dir, table, go, commits = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    Path(str(go) + "." + table).write_text("ready")  # imports done
    while not go.exists():
        time.sleep(0.005)
    lake = LakeWriter(open_catalog(lake_dir))  # all processes initialise the fresh catalog at once
    for c in range(commits):
        lake.write(table, TableWrite(batches=[batch(range(c * 10, c * 10 + 20), c)], schema=SCHEMA,
                                     mode="merge", key_columns=["id"], summary={"commit": str(c)}))
    print("ok", table)
    """
)


def _run(script: str, tmp_path: Path, *args: str) -> subprocess.Popen:
    path = tmp_path / f"worker_{abs(hash(script))}.py"
    path.write_text(script)
    return subprocess.Popen([sys.executable, str(path), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_mid_write_leaves_previous_snapshot(tmp_path):
    lake_dir = tmp_path / "lake"
    import datetime as dt

    from jira_assets.lake.arrow import Column, records_to_batch, schema_for

    cols = [Column("id", "id", "string"), Column("v", "v", "long")]
    synced = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    lake = LakeWriter(open_catalog(lake_dir))
    first = records_to_batch([{"id": str(i), "v": 1} for i in range(100)], cols, synced_at=synced)
    lake.write("victim", TableWrite(batches=[first], schema=schema_for(cols), mode="merge", key_columns=["id"], summary={"cursor": "c1"}))
    before = lake.load("victim").current_snapshot().snapshot_id
    files_before = set((lake_dir / "warehouse").rglob("*.parquet"))

    marker = tmp_path / "marker"
    proc = _run(KILLED_WRITER, tmp_path, str(lake_dir), str(marker))
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "worker never reached the middle of its write"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    # the killed write had put data files on disk, none of them visible
    assert len(set((lake_dir / "warehouse").rglob("*.parquet")) - files_before) >= 3
    lake = LakeWriter(open_catalog(lake_dir))
    table = lake.load("victim")
    assert table.current_snapshot().snapshot_id == before
    assert lake.last_committed_property("victim", "cursor") == "c1"
    data = lake.read_table("victim", ["id", "v"])
    assert data.num_rows == 100 and set(data.column("v").to_pylist()) == {1}

    # the next write succeeds and sees exactly the previous state
    again = records_to_batch([{"id": str(i), "v": 3} for i in range(90, 110)], cols, synced_at=synced)
    result = lake.write("victim", TableWrite(batches=[again], schema=schema_for(cols), mode="merge", key_columns=["id"], summary={"cursor": "c2"}))
    assert result.rows_deleted == 10 and result.total_rows == 110
    assert lake.last_committed_property("victim", "cursor") == "c2"


def test_processes_commit_different_tables_concurrently(tmp_path):
    lake_dir = tmp_path / "lake"
    go = tmp_path / "go"
    commits = 5
    tables = ["alpha", "beta", "gamma"]
    procs = [_run(CONCURRENT_WRITER, tmp_path, str(lake_dir), t, str(go), str(commits)) for t in tables]
    deadline = time.monotonic() + 120
    while not all(Path(f"{go}.{t}").exists() for t in tables):  # every worker at the start line
        assert all(p.poll() is None for p in procs), [p.stderr.read() for p in procs if p.poll() is not None]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    go.write_text("go")
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.startswith("ok")

    lake = LakeWriter(open_catalog(lake_dir))
    for t in tables:
        table = lake.load(t)
        assert len(table.snapshots()) == commits
        data = lake.read_table(t, ["id", "v"]).to_pylist()
        # commit c writes ids c*10 .. c*10+19 with v=c; later commits win on overlap
        assert len(data) == (commits - 1) * 10 + 20
        expected = {str(i): min(i // 10, commits - 1) for i in range((commits - 1) * 10 + 20)}
        assert {r["id"]: r["v"] for r in data} == expected
        assert lake.last_committed_property(t, "commit") == str(commits - 1)


def test_commit_retries_while_catalog_is_locked(tmp_path, caplog):
    """Another connection takes the SQLite catalog's lock after the data is written and holds it
    longer than the busy timeout: the commit is retried with the same data files and lands."""
    import datetime as dt
    import logging
    import sqlite3
    import threading

    from jira_assets.lake.arrow import Column, records_to_batch, schema_for

    db = tmp_path / "cat.db"
    (tmp_path / "wh").mkdir()
    props = {"type": "sql", "uri": f"sqlite:///{db}?timeout=0.1", "warehouse": (tmp_path / "wh").as_uri()}
    lake = LakeWriter(open_catalog(properties=props))
    cols = [Column("id", "id", "string")]
    synced = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    mk = lambda ids: records_to_batch([{"id": str(i)} for i in ids], cols, synced_at=synced)  # noqa: E731
    lake.write("t", TableWrite(batches=[mk(range(10))], schema=schema_for(cols), mode="merge", key_columns=["id"]))

    take_lock, locked = threading.Event(), threading.Event()

    def hold_lock():
        take_lock.wait(30)
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        time.sleep(1.5)  # longer than the busy timeout: the first commit attempts fail
        conn.execute("ROLLBACK")
        conn.close()

    def batches():
        yield mk(range(5, 15))
        take_lock.set()  # all data is in; lock the catalog before the commit
        assert locked.wait(30)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        with caplog.at_level(logging.WARNING, logger="jira_assets.lake.io_manager"):
            result = lake.write("t", TableWrite(batches=batches(), schema=schema_for(cols), mode="merge", key_columns=["id"]))
    finally:
        take_lock.set()
        holder.join()
    assert any("catalog busy on commit" in r.getMessage() for r in caplog.records)
    assert result.total_rows == 15 and result.rows_deleted == 5
    table = lake.load("t")
    assert len(table.snapshots()) == 2
    assert sorted(lake.read_table("t", ["id"]).column("id").to_pylist(), key=int) == [str(i) for i in range(15)]
