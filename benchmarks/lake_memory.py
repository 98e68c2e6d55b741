"""Peak memory of the Iceberg sink on a large sync.

Writes N synthetic records of ~K KB JSON each (issue-shaped: nested fields, long text) in
streamed batches through records_to_batch + LakeWriter (replace), then merges 1% changed
records into the result (copy-on-write rewrite), and reports peak RSS for each phase.

    .venv/bin/python benchmarks/lake_memory.py                 # 100,000 x ~5 KB (the issue's bar)
    .venv/bin/python benchmarks/lake_memory.py --records 20000 --lake-dir /tmp/bench_lake
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from jira_assets.lake.arrow import Column, records_to_batch, schema_for
from jira_assets.lake.catalog import open_catalog
from jira_assets.lake.writer import LakeWriter, TableWrite

COLUMNS = [
    Column("id", "id", "string"),
    Column("key", "key", "string"),
    Column("project_id", "fields.project.id", "string"),
    Column("status_id", "fields.status.id", "string"),
    Column("assignee_account_id", "fields.assignee.accountId", "string"),
    Column("created", "fields.created", "timestamptz"),
    Column("updated", "fields.updated", "timestamptz"),
    Column("duedate", "fields.duedate", "date"),
    Column("story_points", "fields.customfield_10016", "double"),
    Column("labels", "fields.labels", "json"),
]
# prose-like text: a 5,000-word vocabulary compresses about as well as real descriptions do
_vocab_rng = random.Random(0)
VOCABULARY = ["".join(_vocab_rng.choices("abcdefghijklmnopqrstuvwxyz", k=_vocab_rng.randint(2, 9))) for _ in range(5000)]


def record(i: int, kb: float, rng: random.Random, version: int = 0) -> dict:
    text_len = max(0, int(kb * 1024) - 620)
    text = " ".join(rng.choices(VOCABULARY, k=text_len // 6 + 1))[:text_len]
    minute = i % 60
    return {
        "id": str(10000 + i),
        "key": f"PRJ-{i}",
        "self": f"https://example.invalid/rest/api/2/issue/{10000 + i}",
        "fields": {
            "project": {"id": str(10000 + i % 40), "key": f"P{i % 40}", "name": f"Project {i % 40}"},
            "status": {"id": str(i % 7), "name": "In Progress", "statusCategory": {"id": 4, "key": "indeterminate"}},
            "assignee": {"accountId": f"5b10a2844c20165700ede{i % 500:03d}", "displayName": f"User {i % 500}", "active": True},
            "created": f"2024-0{1 + i % 9}-1{i % 10}T10:{minute:02d}:00.000+0000",
            "updated": f"2025-0{1 + i % 9}-1{i % 10}T11:{minute:02d}:00.000+1000",
            "duedate": "2025-01-31" if i % 3 else None,
            "customfield_10016": (i % 13) * 0.5,
            "labels": [f"label-{i % 17}", f"team-{i % 5}"],
            "summary": f"Synthetic issue {i} v{version}",
            "description": text,
            "comment": {"comments": [], "maxResults": 0, "total": 0, "startAt": 0},
        },
    }


class PeakRss:
    """Samples RSS every 20 ms (psutil) alongside the kernel's ru_maxrss high-water mark."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self.peak = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def batches(ids, kb, batch_size, synced, version=0):
    rng = random.Random(42 + version)
    ids = list(ids)
    for start in range(0, len(ids), batch_size):
        recs = [record(i, kb, rng, version) for i in ids[start : start + batch_size]]
        yield records_to_batch(recs, COLUMNS, synced_at=synced)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--record-kb", type=float, default=5.0)
    ap.add_argument("--batch-size", type=int, default=1000, help="records per Arrow batch (one Jira page ~ 100-5000)")
    ap.add_argument("--changed-pct", type=float, default=1.0, help="share of records merged in phase 2")
    ap.add_argument("--target-mb", type=int, default=None, help="in-memory MB per data file (LakeWriter default if unset)")
    ap.add_argument("--lake-dir", help="default: a temp dir, removed afterwards")
    args = ap.parse_args()

    lake_dir = Path(args.lake_dir) if args.lake_dir else Path(tempfile.mkdtemp(prefix="lake_bench_"))
    synced = dt.datetime.now(dt.timezone.utc)
    mb = 1024 * 1024
    try:
        kwargs = {"target_file_bytes": args.target_mb * 1024 * 1024} if args.target_mb else {}
        lake = LakeWriter(open_catalog(lake_dir), **kwargs)
        base_rss = psutil.Process().memory_info().rss
        sample = len(records_to_batch([record(1, args.record_kb, random.Random(1))], COLUMNS, synced_at=synced).column("_raw")[0].as_py())
        print(f"records: {args.records:,} x ~{sample / 1024:.1f} KB raw JSON, batches of {args.batch_size}")
        print(f"RSS after imports: {base_rss / mb:.0f} MB")

        t0 = time.perf_counter()
        with PeakRss() as full:
            r = lake.write(
                "bench",
                TableWrite(batches=batches(range(args.records), args.record_kb, args.batch_size, synced),
                           schema=schema_for(COLUMNS), mode="replace", key_columns=["id"]),
                run_id="bench-full",
            )
        t_full = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (lake_dir / "warehouse").rglob("*.parquet"))
        print(f"full replace: {r.rows_written:,} rows, {r.data_files} data files, {size / mb:.0f} MB Parquet, "
              f"{t_full:.1f} s, peak RSS {full.peak / mb:.0f} MB")

        changed = sorted(random.Random(7).sample(range(args.records), max(1, int(args.records * args.changed_pct / 100))))
        t0 = time.perf_counter()
        with PeakRss() as merge:
            r2 = lake.write(
                "bench",
                TableWrite(batches=batches(changed, args.record_kb, args.batch_size, synced, version=1),
                           schema=schema_for(COLUMNS), mode="merge", key_columns=["id"]),
                run_id="bench-merge",
            )
        t_merge = time.perf_counter() - t0
        print(f"merge {len(changed):,} changed rows: {r2.rows_deleted:,} replaced, total {r2.total_rows:,}, "
              f"{t_merge:.1f} s, peak RSS {merge.peak / mb:.0f} MB")
        print(f"process peak RSS (ru_maxrss): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        assert r.rows_written == args.records and r2.total_rows == args.records
    finally:
        if not args.lake_dir:
            shutil.rmtree(lake_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
