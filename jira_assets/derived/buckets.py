"""Rows of several tables brought together issue by issue with flat memory: each table is read once, batch by
batch, and spilled to temporary Arrow files by bucket of issue id; then one bucket at a time is read back, holding
every row of its issues from every table. The lake's tables are not ordered by issue, so this is what keeps a derived
table's build of a large site within a few hundred megabytes.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

ROWS_PER_BUCKET = 20_000  # rows of the largest table per bucket: a bucket's Python objects stay in tens of MB


def bucket_count(largest_table_rows: int) -> int:
    return max(1, -(-largest_table_rows // ROWS_PER_BUCKET))


def bucket_of(ids: pa.Array | pa.ChunkedArray, buckets: int) -> pa.Array:
    """Which bucket each issue id falls in (Jira's issue ids are numbers; anything else is hashed)."""
    try:
        numbers = pc.abs(pc.cast(ids, pa.int64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numbers = pa.array([zlib.crc32(str(i).encode()) for i in ids.to_pylist()], pa.int64())
    return pc.subtract(numbers, pc.multiply(pc.divide(numbers, buckets), buckets))


class Buckets:
    """`add(table, batches, key)` spills a table; `each()` yields, per bucket, {table: its rows in the bucket}."""

    def __init__(self, buckets: int) -> None:
        self.buckets = buckets
        self._dir = tempfile.TemporaryDirectory(prefix="jira-assets-buckets-")
        self._tables: dict[str, pa.Schema] = {}

    def _path(self, table: str, bucket: int) -> Path:
        return Path(self._dir.name) / f"{table}.{bucket}.arrow"

    def add(self, table: str, batches: Iterable[pa.RecordBatch], key: str) -> None:
        writers: dict[int, ipc.RecordBatchStreamWriter] = {}
        sinks = []
        schema = None
        try:
            for batch in batches:
                schema = batch.schema
                if not batch.num_rows:
                    continue
                where = bucket_of(batch.column(key), self.buckets)
                for bucket in pc.unique(where).to_pylist():
                    if bucket not in writers:
                        sink = pa.OSFile(str(self._path(table, bucket)), "wb")
                        sinks.append(sink)
                        writers[bucket] = ipc.new_stream(sink, batch.schema)
                    writers[bucket].write_batch(batch.filter(pc.equal(where, bucket)))
        finally:
            for writer in writers.values():
                writer.close()
            for sink in sinks:
                sink.close()
        if schema is not None:
            self._tables[table] = schema

    def read(self, table: str, bucket: int, schema: pa.Schema | None = None) -> pa.Table:
        path = self._path(table, bucket)
        if path.exists():
            with pa.OSFile(str(path), "rb") as source:
                return ipc.open_stream(source).read_all()
        schema = self._tables.get(table, schema)
        return (schema or pa.schema([])).empty_table()

    def each(self, tables: Iterable[str]) -> Iterator[dict[str, pa.Table]]:
        names = list(tables)
        for bucket in range(self.buckets):
            yield {name: self.read(name, bucket) for name in names}
            for name in names:
                self._path(name, bucket).unlink(missing_ok=True)

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> Buckets:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
