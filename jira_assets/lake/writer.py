"""Iceberg sink: stream Arrow batches into one table per asset, one atomic commit per write.

Plain API (no Dagster import): `LakeWriter(open_catalog()).write(name, TableWrite, run_id)`; reads come from
`reader.LakeReader`, which it extends. The Dagster IO manager (`jira_assets.defs.io_manager`) wraps it.

How a write works (see `LakeWriter.write`):
1. one pyiceberg transaction (a create-table transaction when the table does not exist yet, so a
   failed first write leaves no table behind); new columns are added inside it (additive only);
2. batches are conformed to the table schema and buffered up to `target_file_bytes`, then written
   as Parquet data files - memory is bounded by the buffer, never by the table;
3. merge mode: existing data files holding an incoming key (or a `deletes` match) are rewritten
   without those rows (copy-on-write), streamed file by file;
4. ONE overwrite snapshot removes the replaced files and adds the new ones; its summary carries
   the run id, row counts and the caller's `summary` (e.g. an incremental cursor), so the cursor
   is committed with exactly the data it describes.
If anything fails before the commit nothing is committed; data files written so far are deleted
(best effort - a killed process leaves unreferenced files, which readers never see).
"""

from __future__ import annotations

import itertools
import logging
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files, schema_to_pyarrow
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.manifest import DataFile
from pyiceberg.table import DataScan, FileScanTask, Table, TableProperties, Transaction

from jira_assets.lake import arrow as lake_arrow
from jira_assets.lake.catalog import DEFAULT_NAMESPACE, is_sqlite_busy, retry_busy
from jira_assets.lake.history import read_summary
from jira_assets.lake.locks import table_lock
from jira_assets.lake.arrow import SITE_COLUMN
from jira_assets.lake.reader import SITE_PROPERTY, SITE_ROWS_PROPERTY, LakeReader

log = logging.getLogger(__name__)

# In-memory Arrow bytes buffered per data file (~5 MB of zstd Parquet for JSON-heavy rows). It also
# bounds a merge: copy-on-write rewrites hold about three files' worth at once.
DEFAULT_TARGET_FILE_BYTES = 32 * 1024 * 1024

# Snapshot summary properties written by every commit.
RUN_ID_PROPERTY = "dagster.run-id"
ROWS_PROPERTY = "lake.rows-written"
DELETED_ROWS_PROPERTY = "lake.rows-deleted"
MODE_PROPERTY = "lake.mode"
WRITE_ID_PROPERTY = "lake.write-id"

# pyiceberg computes these itself; a caller property with the same name would clash.
_RESERVED_SUMMARY = re.compile(r"^(operation$|added-|deleted-|removed-|changed-|total-|partition)")

Mode = Literal["replace", "merge"]


@dataclass
class TableWrite:
    """What an asset returns: the rows to land and how.

    batches: Arrow record batches, consumed once, lazily (a generator is ideal).
    schema: the columns the table must have after this write (additive: columns the table has
        and the schema lacks are kept, filled with nulls for the new rows). If None, the first
        batch's schema is used.
    mode: "replace" = the table holds exactly these rows afterwards; "merge" = rows whose
        key_columns match an incoming row are replaced, others kept (no key_columns = append).
    key_columns: primary key. With keys, duplicate incoming keys are collapsed (last wins).
    summary: string properties stored in the commit's snapshot summary (e.g. a cursor); read once the batches are
        drained, so a producer may fill it in as it streams (a cursor can then never run ahead of the data).
    metadata: extra Dagster output metadata.
    deletes: merge mode only (a table, a list of tables, or a callable returning either, called once the batches
        are drained): rows of the existing table whose values in a table's columns
        equal any row of it are removed in the same commit (e.g. {"parent_id": [...deleted parent ids]}).
    renames: existing columns renamed in the same commit, old name -> new name (column ids stay, so history and
        readers by id keep working).
    """

    batches: Iterable[pa.RecordBatch]
    schema: pa.Schema | None = None
    mode: Mode = "replace"
    key_columns: Sequence[str] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    deletes: pa.Table | Sequence[pa.Table] | Callable[[], pa.Table | Sequence[pa.Table] | None] | None = None
    renames: Mapping[str, str] = field(default_factory=dict)
    site: str | None = None  # the site whose rows these are (None: the writer's); see reader.py

    def __post_init__(self) -> None:
        if self.mode not in ("replace", "merge"):
            raise ValueError(f"mode must be 'replace' or 'merge', not {self.mode!r}")
        if self.deletes is not None and self.mode != "merge":
            raise ValueError("deletes only make sense in merge mode")
        self.key_columns = tuple(self.key_columns)


@dataclass
class WriteResult:
    table: str  # "namespace.name"
    snapshot_id: int
    mode: str
    rows_written: int
    rows_deleted: int  # existing rows removed by a merge (replaced or deleted)
    duplicates_dropped: int  # incoming rows superseded by a later row with the same key
    data_files: int
    columns_added: list[str]
    total_rows: int | None
    preview: pa.Table  # the first few incoming rows (without _raw)




# --- arrow helpers --------------------------------------------------------------------------



def _conform(batch: pa.RecordBatch, target: pa.Schema, table_name: str) -> pa.RecordBatch:
    """Reorder/cast a batch to the table's Arrow schema; columns it lacks become nulls."""
    if batch.schema.equals(target, check_metadata=False):
        return batch
    arrays = []
    for f in target:
        idx = batch.schema.get_field_index(f.name)
        if idx < 0:
            arrays.append(pa.nulls(batch.num_rows, f.type))
            continue
        arr = batch.column(idx)
        if not arr.type.equals(f.type):
            try:
                arr = arr.cast(f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ValueError(
                    f"table {table_name}: column {f.name!r} is {f.type} in the table but the batch has "
                    f"{arr.type} values that do not convert ({exc}); schema changes must be additive"
                ) from exc
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def _key_array(data: pa.RecordBatch | pa.Table, columns: Sequence[str]) -> pa.Array:
    """One comparable string per row for a (possibly composite) key; null if any part is null."""
    parts = []
    for name in columns:
        col = data.column(name)
        if isinstance(col, pa.ChunkedArray) and col.num_chunks != 1:
            col = col.combine_chunks()
        elif isinstance(col, pa.ChunkedArray):
            col = col.chunk(0)
        parts.append(pc.cast(col, pa.large_string()))
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, pa.scalar("\x1f", pa.large_string()))


def _key_in(data: pa.RecordBatch | pa.Table, columns: Sequence[str], values: pa.Array) -> pa.Array:
    """Boolean mask: row's key is one of `values`. A null key never matches."""
    return pc.fill_null(pc.is_in(_key_array(data, columns), value_set=values), False)


def markdown_preview(preview: pa.Table, width: int = 40) -> str:
    if preview.num_columns == 0:
        return "(no columns)"
    names = preview.column_names
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in preview.to_pylist():
        cells = []
        for n in names:
            text = "" if row[n] is None else str(row[n])
            text = text.replace("|", "\\|").replace("\n", " ")
            cells.append(text if len(text) <= width else text[: width - 1] + "…")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --- the writer -----------------------------------------------------------------------------


class _FileWriter:
    """Turns lists of conformed batches into data files for one transaction; remembers them."""

    def __init__(self, tx: Transaction, io) -> None:
        self.tx = tx
        self.io = io
        self.write_uuid = uuid.uuid4()
        self.counter = itertools.count(0)
        self.written: list[DataFile] = []

    def write(self, batches: list[pa.RecordBatch]) -> list[DataFile]:
        batches = [b for b in batches if b.num_rows]
        if not batches:
            return []
        md = self.tx.table_metadata
        files = list(
            _dataframe_to_data_files(
                table_metadata=md, df=pa.Table.from_batches(batches), io=self.io, write_uuid=self.write_uuid, counter=self.counter
            )
        )
        for f in files:  # pyiceberg leaves it unset on fresh files; reading them back needs it
            f.spec_id = md.default_spec_id
        self.written.extend(files)
        return files

    def forget(self, files: Iterable[DataFile]) -> None:
        """Drop superseded (never committed) files of this write."""
        paths = {f.file_path for f in files}
        self.written = [f for f in self.written if f.file_path not in paths]
        for p in paths:
            self._delete(p)

    def cleanup(self) -> None:
        for f in self.written:
            self._delete(f.file_path)
        self.written = []

    def _delete(self, path: str) -> None:
        try:
            self.io.delete(path)
        except Exception as exc:  # best effort: an orphan file is invisible to readers
            log.warning("could not delete uncommitted data file %s: %s", path, exc)


class _Buffer:
    """Accumulates conformed batches until the target size, then hands them over."""

    def __init__(self, target_bytes: int) -> None:
        self.target_bytes = target_bytes
        self.batches: list[pa.RecordBatch] = []
        self.nbytes = 0

    def add(self, batch: pa.RecordBatch) -> bool:
        self.batches.append(batch)
        self.nbytes += batch.nbytes
        return self.nbytes >= self.target_bytes

    def take(self) -> list[pa.RecordBatch]:
        out, self.batches, self.nbytes = self.batches, [], 0
        return out


def _scan_task_batches(md, io, task: FileScanTask, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
    schema = md.schema() if columns is None else md.schema().select(*columns)
    return ArrowScan(table_metadata=md, io=io, projected_schema=schema, row_filter=AlwaysTrue()).to_record_batches([task])


def _resolve_deletes(deletes, declared: pa.Schema, name: str) -> list[pa.Table]:
    """TableWrite.deletes as a list of tables, evaluated after the stream (a callable may depend on what it saw)."""
    if callable(deletes):
        deletes = deletes()
    if deletes is None:
        return []
    tables = [deletes] if isinstance(deletes, pa.Table) else list(deletes)
    for table in tables:
        absent = [c for c in table.column_names if c not in declared.names]
        if absent:
            raise ValueError(f"table {name}: deletes name columns {absent} that are not in the schema")
    return tables


class _Matcher:
    """Row predicate 'this existing row must go': for merges, key in incoming keys or a deletes match; for a site's
    replace (`every_row`), every row of the site. With a `site`, only that site's rows can match (a replace also
    takes the rows written before tables had a site column)."""

    def __init__(self, key_columns: Sequence[str], keys: Iterable[str], deletes: Sequence[pa.Table],
                 site: str | None = None, every_row: bool = False) -> None:
        self.site = site
        self.every_row = every_row
        self.groups: list[tuple[tuple[str, ...], pa.Array]] = []
        keys = list(keys)
        if key_columns and keys:
            self.groups.append((tuple(key_columns), pa.array(keys, type=pa.large_string())))
        for table in deletes:
            if table.num_rows:
                cols = tuple(table.column_names)
                self.groups.append((cols, pc.drop_null(pc.unique(_key_array(table, cols)))))

    @property
    def columns(self) -> list[str]:
        return sorted({c for cols, _ in self.groups for c in cols} | ({SITE_COLUMN} if self.site else set()))

    def __bool__(self) -> bool:
        return bool(self.groups) or self.every_row

    def mask(self, data: pa.RecordBatch | pa.Table) -> pa.Array:
        result = pa.array([True] * data.num_rows) if self.every_row else None
        for cols, values in self.groups:
            m = _key_in(data, cols, values)
            result = m if result is None else pc.or_(result, m)
        if self.site is None:
            return result
        names = data.schema.names
        site = data.column(SITE_COLUMN) if SITE_COLUMN in names else pa.nulls(data.num_rows, pa.string())
        owned = pc.fill_null(pc.equal(site, self.site), False)
        if self.every_row:
            owned = pc.or_(owned, pc.is_null(site))
        return pc.and_(result, owned)


DEFAULT_METADATA_VERSIONS = 10


class LakeWriter(LakeReader):
    """Writes (and reads) tables of one namespace of a pyiceberg catalog."""

    def __init__(
        self,
        catalog: Catalog,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        target_file_bytes: int = DEFAULT_TARGET_FILE_BYTES,
        preview_rows: int = 5,
        commit_attempts: int = 5,
        metadata_versions: int = DEFAULT_METADATA_VERSIONS,
    ) -> None:
        super().__init__(catalog, namespace)
        self.target_file_bytes = target_file_bytes
        self.metadata_versions = metadata_versions
        self.preview_rows = preview_rows
        self.commit_attempts = commit_attempts
        self._namespace_ready = False

    def for_site(self, site: str | None) -> LakeWriter:
        """Writes of one site: a replace replaces only its rows, merges delete only its rows, commits say whose."""
        writer = LakeWriter(self.catalog, self.namespace, target_file_bytes=self.target_file_bytes,
                            preview_rows=self.preview_rows, commit_attempts=self.commit_attempts,
                            metadata_versions=self.metadata_versions)
        writer.site = site
        return writer

    def table_lock(self, name: str, on_wait=None, timeout: float | None = None):
        """The table's write lock (locks.py): hold it from reading a cursor to committing what it led to.
        Maintenance (maintenance.py) takes the same lock, so it never lands between a sync's read and its commit."""
        return table_lock(self.catalog, self.namespace, name, on_wait, timeout)

    def _ensure_namespace(self) -> None:
        if self._namespace_ready:
            return
        try:
            retry_busy(self.catalog.create_namespace_if_not_exists, self.namespace)
        except Exception:
            # Another process created it between the check and the insert (the SQL catalog then
            # raises IntegrityError rather than NamespaceAlreadyExistsError): fine if it exists now.
            if not retry_busy(self.catalog.namespace_exists, self.namespace):
                raise
        self._namespace_ready = True

    # -- writing

    def write(self, name: str, table_write: TableWrite, run_id: str | None = None) -> WriteResult:
        """Stream `table_write.batches` into table `name` and commit once. See module docstring."""
        tw = table_write
        site = tw.site if tw.site is not None else self.site
        for k in tw.summary:
            if _RESERVED_SUMMARY.match(k):
                raise ValueError(f"summary property {k!r} clashes with Iceberg's own snapshot summary fields")
        batches = iter(tw.batches)
        declared = tw.schema
        first: pa.RecordBatch | None = None
        if declared is None:
            first = next(batches, None)
            if first is None:
                existing = self.load(name)
                if existing is None:
                    raise ValueError(f"table {name}: no schema given and no batches to infer it from")
                declared = schema_to_pyarrow(existing.schema(), include_field_ids=False)
            else:
                declared = first.schema
            if first is not None:
                batches = itertools.chain([first], batches)
        missing_keys = [k for k in tw.key_columns if k not in declared.names]
        if missing_keys:
            raise ValueError(f"table {name}: key columns {missing_keys} are not in the schema")

        self._ensure_namespace()
        write_id = uuid.uuid4().hex
        table = self.load(name)
        base_snapshot_id = table.metadata.current_snapshot_id if table is not None else None
        if table is None:
            tx: Transaction = self.catalog.create_table_transaction(self.identifier(name), schema=declared,
                                                                    properties=self.metadata_properties())
            columns_added: list[str] = []
        else:
            tx = self._transaction(table)
            self._rename(tx, tw.renames)
            columns_added = self._evolve(tx, declared)

        io = tx._table.io
        files = _FileWriter(tx, io)
        try:
            state = self._stream(name, tx, files, batches, tw, columns_added)
            removed, rewritten, rows_deleted = [], [], 0
            if tw.mode == "replace" and site is None:
                if base_snapshot_id is not None:
                    removed = [t.file for t in DataScan(table_metadata=tx.table_metadata, io=io).plan_files()]
            elif tw.mode == "replace":  # one site's rows go; the other sites' stay
                if base_snapshot_id is not None:
                    matcher = _Matcher((), (), [], site=site, every_row=True)
                    removed, rewritten, rows_deleted = self._plan_merge_deletes(tx, io, files, matcher)
            elif base_snapshot_id is not None:
                deletes = _resolve_deletes(tw.deletes, declared, name)
                matcher = _Matcher(tw.key_columns, state["keys"], deletes, site=site)
                if matcher:
                    removed, rewritten, rows_deleted = self._plan_merge_deletes(tx, io, files, matcher)
            props = {str(k): str(v) for k, v in tw.summary.items() if v is not None}
            props.update(
                {
                    WRITE_ID_PROPERTY: write_id,
                    MODE_PROPERTY: tw.mode,
                    ROWS_PROPERTY: str(state["rows"]),
                    DELETED_ROWS_PROPERTY: str(rows_deleted),
                }
            )
            if run_id:
                props[RUN_ID_PROPERTY] = run_id
            if site is not None:
                props[SITE_PROPERTY] = site
                props[SITE_ROWS_PROPERTY] = str(self._site_rows_after(name, site, tw.mode, state["rows"],
                                                                      rows_deleted))
            new_files = state["files"] + rewritten
            committed = self._commit(name, tx, props, removed, new_files, base_snapshot_id, write_id, tw.renames)
        except BaseException:
            files.cleanup()
            raise

        snapshot = committed.current_snapshot()
        total = None
        if snapshot is not None and snapshot.summary is not None and snapshot.summary["total-records"] is not None:
            total = int(snapshot.summary["total-records"])
        return WriteResult(
            table=self.qualified_name(name),
            snapshot_id=snapshot.snapshot_id if snapshot else 0,
            mode=tw.mode,
            rows_written=state["rows"],
            rows_deleted=rows_deleted,
            duplicates_dropped=state["duplicates"],
            data_files=len(new_files),
            columns_added=columns_added,
            total_rows=total,
            preview=state["preview"],
        )

    def _site_rows_after(self, name: str, site: str, mode: str, written: int, deleted: int) -> int:
        """The site's rows once this commit lands: what a replace wrote, or what the site's last commit left plus
        what a merge adds less what it removes (counted once, for a table whose commits do not say yet)."""
        if mode == "replace":
            return written
        scoped = self.for_site(site)
        before = scoped.last_committed_property(name, SITE_ROWS_PROPERTY)
        if before is None:
            before = sum(b.num_rows for b in scoped.iter_batches(name, [SITE_COLUMN])) \
                if SITE_COLUMN in scoped.column_types(name) else 0
        return int(before) + written - deleted

    def _rename(self, tx: Transaction, renames: Mapping[str, str]) -> None:
        have = set(tx.table_metadata.schema().column_names)
        todo = {old: new for old, new in renames.items() if old in have and old != new}
        if todo:
            with tx.update_schema() as update:
                for old, new in todo.items():
                    update.rename_column(old, new)

    def _evolve(self, tx: Transaction, schema: pa.Schema) -> list[str]:
        """Add columns the table lacks (never drop, never retype). Returns the added names."""
        have = set(tx.table_metadata.schema().column_names)
        new = [f for f in schema if f.name not in have]
        if not new:
            return []
        with tx.update_schema() as update:
            update.union_by_name(pa.schema(new))
        return [f.name for f in new]

    def _stream(self, name, tx, files: _FileWriter, batches, tw: TableWrite, columns_added: list[str]) -> dict:
        """Write incoming batches to data files; dedupe by key (last wins). Bounded memory."""
        target = schema_to_pyarrow(tx.table_metadata.schema(), include_field_ids=False)
        buffer = _Buffer(self.target_file_bytes)
        keyed = bool(tw.key_columns)
        key_chunk: dict[str, int] = {}  # key -> chunk holding its latest row
        superseded: dict[int, set[str]] = {}  # chunk -> keys whose row there lost to a later one
        chunk_files: list[list[DataFile]] = []
        rows = 0
        duplicates = 0
        null_keys = 0
        preview_parts: list[pa.RecordBatch] = []
        preview_left = self.preview_rows

        def flush() -> None:
            nonlocal rows, duplicates, null_keys
            chunk = buffer.take()
            if not chunk:
                return
            if keyed:
                data = pa.Table.from_batches(chunk)
                keys = _key_array(data, tw.key_columns).to_pylist()
                seen: set[str] = set()
                keep = [True] * len(keys)
                for i in range(len(keys) - 1, -1, -1):  # keep the last row of each key in the chunk
                    k = keys[i]
                    if k is None:  # a row without a key cannot collide: keep it, but say so
                        null_keys += 1
                    elif k in seen:
                        keep[i] = False
                    else:
                        seen.add(k)
                kept = sum(keep)
                if kept != len(keys):
                    duplicates += len(keys) - kept
                    data = data.filter(pa.array(keep))
                    chunk = data.to_batches()
                idx = len(chunk_files)
                for k in seen:
                    prev = key_chunk.get(k)
                    if prev is not None:
                        superseded.setdefault(prev, set()).add(k)
                        duplicates += 1
                    key_chunk[k] = idx
                rows += kept
            else:
                rows += sum(b.num_rows for b in chunk)
            chunk_files.append(files.write(chunk))

        def record_batches() -> Iterator[pa.RecordBatch]:
            for item in batches:
                if isinstance(item, pa.RecordBatch):
                    yield item
                elif isinstance(item, pa.Table):
                    yield from item.to_batches()
                else:
                    raise TypeError(f"table {name}: expected pyarrow RecordBatch, got {type(item).__name__}")

        for batch in record_batches():
            extra = [f for f in batch.schema if f.name not in target.names]
            if extra:  # a column appeared mid-stream: add it inside the same transaction
                flush()
                columns_added.extend(self._evolve(tx, pa.schema(extra)))
                target = schema_to_pyarrow(tx.table_metadata.schema(), include_field_ids=False)
            conformed = _conform(batch, target, name)
            if preview_left > 0 and conformed.num_rows:
                part = conformed.slice(0, preview_left)
                preview_parts.append(part)
                preview_left -= part.num_rows
            if buffer.add(conformed):
                flush()
        flush()

        # Rows superseded by a later chunk: rewrite those (uncommitted) files without them.
        if superseded:
            md = tx.table_metadata
            for idx, lost in superseded.items():
                lost_values = pa.array(sorted(lost), type=pa.large_string())
                old = chunk_files[idx]
                buf = _Buffer(self.target_file_bytes)
                new: list[DataFile] = []
                for f in old:
                    for b in _scan_task_batches(md, files.io, FileScanTask(f)):
                        b = _conform(b, target, name)
                        b = b.filter(pc.invert(_key_in(b, tw.key_columns, lost_values)))
                        if buf.add(b):
                            new += files.write(buf.take())
                new += files.write(buf.take())
                files.forget(old)
                chunk_files[idx] = new
            rows -= sum(len(v) for v in superseded.values())

        if null_keys:
            log.warning("table %s: %d incoming rows have a null key (%s); kept as they are", name, null_keys, tw.key_columns)
        preview = pa.Table.from_batches(preview_parts) if preview_parts else target.empty_table()
        if lake_arrow.RAW_COLUMN in preview.column_names:
            preview = preview.drop_columns([lake_arrow.RAW_COLUMN])
        return {
            "files": [f for fs in chunk_files for f in fs],
            "rows": rows,
            "duplicates": duplicates,
            "keys": key_chunk.keys() if keyed else (),
            "preview": preview,
        }

    def _plan_merge_deletes(self, tx, io, files: _FileWriter, matcher: _Matcher):
        """Copy-on-write: find existing files with rows to remove; rewrite them without those rows."""
        md = tx.table_metadata
        target = schema_to_pyarrow(md.schema(), include_field_ids=False)
        removed: list[DataFile] = []
        rewritten: list[DataFile] = []
        rows_deleted = 0
        probe_cols = [c for c in matcher.columns if c in md.schema().column_names]
        for task in DataScan(table_metadata=md, io=io).plan_files():
            hits = 0
            total = 0
            for b in _scan_task_batches(md, io, task, probe_cols):
                hits += pc.sum(matcher.mask(b).cast(pa.int64())).as_py() or 0
                total += b.num_rows
            if hits == 0:
                continue
            removed.append(task.file)
            rows_deleted += hits
            if hits == total:
                continue
            buf = _Buffer(self.target_file_bytes)
            for b in _scan_task_batches(md, io, task):
                b = b.filter(pc.invert(matcher.mask(b)))
                if b.num_rows and buf.add(_conform(b, target, "rewrite")):
                    rewritten += files.write(buf.take())
            rewritten += files.write(buf.take())
            pa.default_memory_pool().release_unused()  # one file at a time: hand its memory back
        return removed, rewritten, rows_deleted

    def _commit(self, name, tx, props, removed, new_files, base_snapshot_id, write_id, renames=None) -> Table:
        """One snapshot: remove `removed`, add `new_files`. Retries only catalog lock contention."""
        attempt = 0
        while True:
            try:
                with tx.update_snapshot(snapshot_properties=props).overwrite() as overwrite:
                    for f in removed:
                        overwrite.delete_data_file(f)
                    for f in new_files:
                        overwrite.append_data_file(f)
                return tx.commit_transaction()
            except Exception as exc:
                attempt += 1
                if not is_sqlite_busy(exc) or attempt >= self.commit_attempts:
                    raise
                log.warning("table %s: catalog busy on commit (attempt %d), retrying", name, attempt)
                time.sleep(min(5.0, 0.2 * 2**attempt) * (1 + random.random()))
                tx = self._fresh_transaction(name, base_snapshot_id, write_id, tx, renames or {})
                if tx is None:  # the earlier attempt did land
                    return self.load(name)

    def metadata_properties(self) -> dict[str, str]:
        """Each commit deletes the metadata files beyond the newest `metadata_versions`: time travel needs only
        the current one (it lists every kept snapshot), and without a bound the folder grows by a file a commit."""
        return {TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED: "true",
                TableProperties.METADATA_PREVIOUS_VERSIONS_MAX: str(self.metadata_versions)}

    def _transaction(self, table: Table) -> Transaction:
        """A transaction on `table` that also brings its metadata retention to this writer's (older lakes)."""
        tx = table.transaction()
        wanted = self.metadata_properties()
        if any(table.properties.get(k) != v for k, v in wanted.items()):
            tx.set_properties(wanted)
        return tx

    def _fresh_transaction(self, name, base_snapshot_id, write_id, old_tx, renames=None) -> Transaction | None:
        """A new transaction equivalent to `old_tx` after a failed commit, if the table is unchanged."""
        table = self.load(name)
        if table is None:
            if base_snapshot_id is not None:
                raise CommitFailedException(f"table {name} disappeared during the write")
            return self.catalog.create_table_transaction(self.identifier(name), schema=old_tx.table_metadata.schema(),
                                                         properties=self.metadata_properties())
        if read_summary(table).get(WRITE_ID_PROPERTY) == write_id:
            return None
        if table.metadata.current_snapshot_id != base_snapshot_id:
            raise CommitFailedException(f"table {name} was changed by another writer during this write")
        tx = self._transaction(table)
        self._rename(tx, renames or {})
        wanted = old_tx.table_metadata.schema()
        new = [f for f in schema_to_pyarrow(wanted, include_field_ids=False) if f.name not in table.schema().column_names]
        if new:
            with tx.update_schema() as update:
                update.union_by_name(pa.schema(new))
        if tx.table_metadata.schema().as_struct() != wanted.as_struct():
            raise CommitFailedException(f"table {name}: schema changed by another writer during this write")
        return tx
