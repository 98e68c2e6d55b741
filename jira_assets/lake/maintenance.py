"""Tables that stay healthy: compaction of small data files, snapshot expiry, removal of orphaned files.

Plain API (no Dagster, no Jira): `LakeMaintenance(lake, MaintenancePolicy()).maintain(name)` does all three
for one table, holding the table's write lock (`locks.table_lock`, the one every sync holds from reading its cursor
to its commit), so it never lands between a sync's read and its commit:

1. **compaction** (`compact`): the current snapshot's data files smaller than `small_file_bytes` are packed, in
   scan order, into bins of at most `target_file_bytes` (on-disk bytes) and each bin of two or more files is
   rewritten as one file, in ONE overwrite commit. Rows are read and written with the table's schema (field ids
   kept), in their order, sorted per file when the table has a sort order. The same commit drops the manifests
   that list no live file (pyiceberg 0.12's overwrite carries every earlier commit's manifest of deleted entries
   into each new snapshot, one more per merge); with no file to rewrite, a commit of only that is made once there
   are `min_input_files` such manifests. The commit's summary carries
   `lake.maintenance=compaction` and none of the writers' properties: readers walk back past it to the commit that
   set a cursor (history.last_committed_property), a site's reader only sees the site's commits, and strategies
   that follow a table's commits skip commits without a sync time - so every cursor reads the same afterwards.
2. **snapshot expiry** (`expire_snapshots`): pyiceberg's `ExpireSnapshots` removes the commits older than
   `keep_snapshots`, except the current one and the newest commits a caller's `retain(properties)` still needs
   (e.g. commits another table has not followed yet); only the oldest stretch of the history goes, so what is
   left is one unbroken ancestry. In the same commit the expired commits' properties are folded into the table
   property `lake.expired-history` (history.py), so a cursor committed before the window still reads the same.
3. **orphan removal** (`remove_orphan_files`): files under the table's data and metadata folders that no live
   snapshot, manifest or metadata log entry references, and older than `orphan_min_age`: what killed runs and
   expired snapshots leave. A file being written by a run in flight is younger than that, and under the lock no
   sync of the table is in flight at all; on catalogs without a lock (REST) the age is at least
   `unlocked_orphan_min_age` (3 days), since a long sync may commit files it wrote hours earlier.

A commit that loses a race (CommitFailedException, or pyiceberg's ValidationException when a concurrent commit
touched the same files) is thrown away with the files it wrote and planned again from the fresh table, so
maintenance never overwrites or loses another writer's commit.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.io.pyarrow import ArrowScan, PyArrowFileIO, _dataframe_to_data_files
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.manifest import DataFile
from pyiceberg.table import FileScanTask, Table
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.table.sorting import NullOrder, SortDirection
from pyiceberg.table.update import AssertRefSnapshotId
from pyiceberg.table.snapshots import Operation
from pyiceberg.table.update.snapshot import ExpireSnapshots, _OverwriteFiles
from pyiceberg.transforms import DayTransform, HourTransform, IdentityTransform, MonthTransform, TruncateTransform, \
    YearTransform

from jira_assets.lake import history
from jira_assets.lake.catalog import is_sqlite_busy
from jira_assets.lake.locks import TableBusy, has_table_locks, table_lock
from jira_assets.lake.reader import SITE_PROPERTY, LakeReader

log = logging.getLogger(__name__)

MAINTENANCE_PROPERTY = "lake.maintenance"  # commit summary: which maintenance step made the commit
REWRITTEN_FILES_PROPERTY = "lake.rewritten-files"

DEFAULT_KEEP_SNAPSHOTS_DAYS = 7.0
DEFAULT_ORPHAN_MIN_AGE_HOURS = 1.0
DEFAULT_COMPACT_TARGET_MB = 8.0  # on disk; the writer's full files are ~5 MB of zstd Parquet (32 MB of Arrow)
UNLOCKED_ORPHAN_MIN_AGE = dt.timedelta(days=3)

_MB = 1024 * 1024
_RETRYABLE = (CommitFailedException, ValidationException)
# Sort transforms that keep the source column's order, so sorting by the source sorts by the transform.
_ORDER_PRESERVING = (IdentityTransform, YearTransform, MonthTransform, DayTransform, HourTransform, TruncateTransform)


@dataclass(frozen=True)
class MaintenancePolicy:
    keep_snapshots: dt.timedelta = dt.timedelta(days=DEFAULT_KEEP_SNAPSHOTS_DAYS)  # time travel window
    orphan_min_age: dt.timedelta = dt.timedelta(hours=DEFAULT_ORPHAN_MIN_AGE_HOURS)
    target_file_bytes: int = int(DEFAULT_COMPACT_TARGET_MB * _MB)  # on-disk size of a compacted file, at most
    small_file_bytes: int | None = None  # files below this are rewritten (default: 3/4 of the target)
    min_input_files: int = 2  # fewer small files than this in a partition: nothing to gain
    lock_timeout: float | None = 600.0  # seconds to wait for a sync holding the table, then skip it this time
    attempts: int = 4  # plans per step when commits keep losing races
    unlocked_orphan_min_age: dt.timedelta = UNLOCKED_ORPHAN_MIN_AGE

    @property
    def small_bytes(self) -> int:
        return self.small_file_bytes if self.small_file_bytes is not None else self.target_file_bytes * 3 // 4


# --- results ------------------------------------------------------------------------------------------------------


@dataclass
class CompactionResult:
    files_before: int = 0
    files_after: int = 0
    files_rewritten: int = 0  # small files replaced
    files_written: int = 0  # files that replaced them
    bytes_rewritten: int = 0
    bytes_written: int = 0
    manifests_before: int = 0
    manifests_after: int = 0
    snapshot_id: int | None = None  # the compaction commit, if there was one
    retries: int = 0
    skipped: str = ""


@dataclass
class ExpiryResult:
    snapshots_before: int = 0
    snapshots_expired: int = 0
    snapshots_after: int = 0
    oldest_kept: dt.datetime | None = None
    retries: int = 0


@dataclass
class OrphanResult:
    files_listed: int = 0
    orphans_found: int = 0  # unreferenced, any age
    orphans_removed: int = 0  # unreferenced and old enough
    bytes_removed: int = 0
    young_kept: int = 0  # unreferenced but too young to be sure no write in flight needs them
    removed: list[str] = field(default_factory=list)
    min_age_hours: float = 0.0
    metadata_bytes_before: int = 0  # the metadata folder (metadata files, manifest lists, manifests)
    metadata_bytes_after: int = 0
    skipped: str = ""


@dataclass
class TableMaintenance:
    table: str
    exists: bool = True
    skipped: str = ""  # why nothing was done (busy, missing)
    compaction: CompactionResult = field(default_factory=CompactionResult)
    expiry: ExpiryResult = field(default_factory=ExpiryResult)
    orphans: OrphanResult = field(default_factory=OrphanResult)
    data_bytes_before: int = 0
    data_bytes_after: int = 0
    seconds: float = 0.0

    @property
    def committed(self) -> bool:
        return self.compaction.snapshot_id is not None or self.expiry.snapshots_expired > 0

    def summary(self) -> dict[str, Any]:
        """Flat figures (for Dagster metadata, logs, benchmarks)."""
        return {
            "files_before": self.compaction.files_before, "files_after": self.compaction.files_after,
            "files_rewritten": self.compaction.files_rewritten, "files_written": self.compaction.files_written,
            "manifests_before": self.compaction.manifests_before, "manifests_after": self.compaction.manifests_after,
            "data_bytes_before": self.data_bytes_before, "data_bytes_after": self.data_bytes_after,
            "snapshots_before": self.expiry.snapshots_before, "snapshots_expired": self.expiry.snapshots_expired,
            "snapshots_after": self.expiry.snapshots_after,
            "orphans_removed": self.orphans.orphans_removed, "orphan_bytes_removed": self.orphans.bytes_removed,
            "orphans_too_young": self.orphans.young_kept,
            "metadata_bytes_before": self.orphans.metadata_bytes_before,
            "metadata_bytes_after": self.orphans.metadata_bytes_after,
            "retries": self.compaction.retries + self.expiry.retries, "seconds": round(self.seconds, 3),
            "skipped": "; ".join(s for s in (self.skipped, self.compaction.skipped, self.orphans.skipped) if s),
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- helpers --------------------------------------------------------------------------------------------------------


def _props(snapshot: Snapshot) -> dict[str, str]:
    return {k: str(v) for k, v in (snapshot.summary.additional_properties if snapshot.summary else {}).items()}


class _CompactionCommit(_OverwriteFiles):
    """pyiceberg's overwrite, without carrying forward the manifests that list no live file (only entries of files
    earlier commits deleted): the manifests of the deleted entries of this very commit stay, as the spec wants."""

    def _existing_manifests(self):
        return [m for m in super()._existing_manifests() if m.has_added_files() or m.has_existing_files()]


def _dead_manifests(table: Table) -> int:
    snapshot = table.current_snapshot()
    if snapshot is None:
        return 0
    return sum(not (m.has_added_files() or m.has_existing_files()) and m.added_snapshot_id != snapshot.snapshot_id
               for m in snapshot.manifests(table.io))


def _current_files(table: Table) -> list[FileScanTask]:
    if table.current_snapshot() is None:
        return []
    return list(table.scan().plan_files())


def _sort_keys(table: Table) -> list[tuple[str, str, str]]:
    """Arrow sort keys (column, order, null placement) of the table's sort order, up to the first field whose
    transform does not keep the source column's order; [] for an unsorted table."""
    keys: list[tuple[str, str, str]] = []
    schema = table.schema()
    for f in table.sort_order().fields:
        if not isinstance(f.transform, _ORDER_PRESERVING):
            break
        keys.append((schema.find_column_name(f.source_id),
                     "descending" if f.direction == SortDirection.DESC else "ascending",
                     "at_start" if f.null_order == NullOrder.NULLS_FIRST else "at_end"))
    return keys


def _read_files(table: Table, files: Sequence[DataFile]) -> pa.Table:
    md = table.metadata
    scan = ArrowScan(table_metadata=md, io=table.io, projected_schema=md.schema(), row_filter=AlwaysTrue())
    parts = [scan.to_table([FileScanTask(f)]) for f in files]
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _bins(files: Sequence[DataFile], target: int) -> list[list[DataFile]]:
    """Consecutive files packed greedily: a bin takes the next file while its on-disk total stays <= target."""
    out: list[list[DataFile]] = []
    current: list[DataFile] = []
    size = 0
    for f in files:
        if current and size + f.file_size_in_bytes > target:
            out.append(current)
            current, size = [], 0
        current.append(f)
        size += f.file_size_in_bytes
    if current:
        out.append(current)
    return out


def _location_key(location: str) -> str:
    """A file location as the file system lists it (no scheme): how references and listings are compared."""
    return PyArrowFileIO.parse_location(location)[2]


def summarize_expired(expired: Sequence[Mapping[str, str]], previous: Sequence[Mapping[str, str]],
                      scope_key: str = SITE_PROPERTY, exclude: Iterable[str] = ()) -> list[dict[str, str]]:
    """The new `lake.expired-history`: expired commits' properties (newest first) folded over the previous one.

    Entry 0 is the whole table's (no scope key), then one per value of `scope_key`, each holding its key. Each
    holds every property's newest value; SUMMARIZED_COMMITS counts the commits it stands for."""
    exclude = set(exclude) | {history.SUMMARIZED_COMMITS}
    whole: dict[str, str] = {}
    scoped: dict[str, dict[str, str]] = {}
    counts: dict[str | None, int] = {None: 0}
    old_whole = next((dict(p) for p in previous if scope_key not in p), {})
    old_scoped = {p[scope_key]: dict(p) for p in previous if scope_key in p}

    def fold(into: dict[str, str], props: Mapping[str, str]) -> None:
        for k, v in props.items():
            if k not in exclude and k not in into:
                into[k] = v

    for props in expired:  # newest first: the first value seen of a key is its newest
        fold(whole, {k: v for k, v in props.items() if k != scope_key})
        counts[None] += 1
        scope = props.get(scope_key)
        if scope is not None:
            fold(scoped.setdefault(scope, {}), props)
            counts[scope] = counts.get(scope, 0) + 1
    fold(whole, old_whole)
    for scope, props in old_scoped.items():
        fold(scoped.setdefault(scope, {}), props)
    whole[history.SUMMARIZED_COMMITS] = str(counts[None] + int(old_whole.get(history.SUMMARIZED_COMMITS, 0)))
    out = [whole]
    for scope in sorted(scoped):
        entry = scoped[scope]
        entry[scope_key] = scope
        entry[history.SUMMARIZED_COMMITS] = str(
            counts.get(scope, 0) + int(old_scoped.get(scope, {}).get(history.SUMMARIZED_COMMITS, 0)))
        out.append(entry)
    return out


# --- the maintenance ------------------------------------------------------------------------------------------------


Retain = Callable[[Mapping[str, str]], bool]


class LakeMaintenance:
    """Maintenance of the tables of one lake (a LakeReader's catalog and namespace)."""

    def __init__(self, lake: LakeReader, policy: MaintenancePolicy | None = None,
                 exclude_from_history: Iterable[str] = ()) -> None:
        """`exclude_from_history`: summary keys not worth keeping once their commits expire (long per-commit lists
        nobody reads as a 'last committed' value)."""
        self.lake = lake.for_site(None) if lake.site is not None else lake
        self.policy = policy or MaintenancePolicy()
        self.exclude_from_history = tuple(exclude_from_history)
        # Test seam: called with the planned table just before a commit (a real concurrent write may land there).
        self.before_commit: Callable[[str, str], None] | None = None

    # -- everything, under the lock

    def lock(self, name: str, on_wait=None):
        return table_lock(self.lake.catalog, self.lake.namespace, name, on_wait, self.policy.lock_timeout)

    def maintain(self, name: str, retain: Retain | None = None, after_commit: Callable[[Table], None] | None = None,
                 now: dt.datetime | None = None, on_wait=None) -> TableMaintenance:
        """Compact, expire, then remove orphans, holding the table's lock; `after_commit(table)` runs after the
        commits and before orphans go (e.g. to point Snowflake at the new metadata file)."""
        started = time.monotonic()
        result = TableMaintenance(self.lake.qualified_name(name))
        try:
            with self.lock(name, on_wait):
                table = self.lake.load(name)
                if table is None:
                    result.exists, result.skipped = False, "no such table"
                    return result
                result.data_bytes_before = _data_bytes(table)
                result.compaction = self._compact(name)
                result.expiry = self._expire(name, retain, now)
                table = self.lake.load(name)
                result.data_bytes_after = _data_bytes(table)
                if result.committed and after_commit is not None:
                    after_commit(table)
                result.orphans = self._remove_orphans(name, now)
        except TableBusy as busy:
            result.skipped = f"skipped: {busy}"
        finally:
            result.seconds = time.monotonic() - started
        return result

    def compact(self, name: str) -> CompactionResult:
        with self.lock(name):
            return self._compact(name)

    def expire_snapshots(self, name: str, retain: Retain | None = None, now: dt.datetime | None = None) -> ExpiryResult:
        with self.lock(name):
            return self._expire(name, retain, now)

    def remove_orphan_files(self, name: str, now: dt.datetime | None = None) -> OrphanResult:
        with self.lock(name):
            return self._remove_orphans(name, now)

    # -- compaction

    def _compact(self, name: str) -> CompactionResult:
        result = CompactionResult()
        for attempt in range(self.policy.attempts):
            table = self.lake.load(name)
            if table is None:
                result.skipped = "no such table"
                return result
            tasks = _current_files(table)
            result.files_before = result.files_after = len(tasks)
            if any(t.delete_files for t in tasks):
                result.skipped = "the table has delete files (not written by this lake): not compacted"
                return result
            result.manifests_before = result.manifests_after = len(table.current_snapshot().manifests(table.io)) \
                if table.current_snapshot() else 0
            plan = self._plan_bins(table, [t.file for t in tasks])
            if not plan and _dead_manifests(table) < max(1, self.policy.min_input_files):
                return result
            written: list[DataFile] = []
            committing = False
            try:
                written = self._rewrite(table, plan)
                removed = [f for b in plan for f in b]
                props = {MAINTENANCE_PROPERTY: "compaction" if plan else "manifests",
                         REWRITTEN_FILES_PROPERTY: str(len(removed))}
                tx = table.transaction()
                with _CompactionCommit(operation=Operation.OVERWRITE, transaction=tx, io=table.io,
                                       snapshot_properties=props) as overwrite:
                    for f in removed:
                        overwrite.delete_data_file(f)
                    for f in written:
                        overwrite.append_data_file(f)
                if self.before_commit is not None:
                    self.before_commit(name, "compaction")
                committing = True
                committed = tx.commit_transaction()
            except BaseException as exc:
                # Lost a race (or failed before committing): nothing landed, so its files can go. Any other failure
                # of the commit itself leaves its outcome unknown: keep the files (orphan removal takes them later).
                if not committing or isinstance(exc, _RETRYABLE) or is_sqlite_busy(exc):
                    _delete_quietly(table.io, [f.file_path for f in written])
                if (isinstance(exc, _RETRYABLE) or is_sqlite_busy(exc)) and attempt + 1 < self.policy.attempts:
                    log.info("table %s: compaction lost a race with another commit (%s); planning again", name, exc)
                    result.retries += 1
                    continue
                raise
            result.files_rewritten = len(removed)
            result.files_written = len(written)
            result.bytes_rewritten = sum(f.file_size_in_bytes for f in removed)
            result.bytes_written = sum(f.file_size_in_bytes for f in written)
            result.files_after = len(tasks) - len(removed) + len(written)
            result.snapshot_id = committed.current_snapshot().snapshot_id
            result.manifests_after = len(committed.current_snapshot().manifests(committed.io))
            return result
        return result  # pragma: no cover - the loop returns or raises

    def _plan_bins(self, table: Table, files: Sequence[DataFile]) -> list[list[DataFile]]:
        """Bins of small files of the table's current partition spec, per partition, two or more files each."""
        spec_id = table.metadata.default_spec_id
        groups: dict[Any, list[DataFile]] = {}
        for f in files:
            if f.spec_id == spec_id and f.file_size_in_bytes < self.policy.small_bytes:
                groups.setdefault(tuple(f.partition), []).append(f)
        plan: list[list[DataFile]] = []
        for small in groups.values():
            if len(small) < max(2, self.policy.min_input_files):
                continue
            plan += [b for b in _bins(small, self.policy.target_file_bytes) if len(b) > 1]
        return plan

    def _rewrite(self, table: Table, plan: list[list[DataFile]]) -> list[DataFile]:
        md = table.metadata
        keys = _sort_keys(table)
        write_uuid, counter = uuid.uuid4(), itertools.count(0)
        written: list[DataFile] = []
        try:
            for files in plan:
                data = _read_files(table, files)
                if keys:
                    data = data.take(pc.sort_indices(data, options=pc.SortOptions(sort_keys=keys)))
                for f in _dataframe_to_data_files(table_metadata=md, df=data, io=table.io, write_uuid=write_uuid,
                                                  counter=counter):
                    f.spec_id = md.default_spec_id  # (pyiceberg 0.12 cannot record a file's sort_order_id yet)
                    written.append(f)
                del data
                pa.default_memory_pool().release_unused()
        except BaseException:
            _delete_quietly(table.io, [f.file_path for f in written])
            raise
        return written

    # -- snapshot expiry

    def _expire(self, name: str, retain: Retain | None, now: dt.datetime | None) -> ExpiryResult:
        result = ExpiryResult()
        now = now or dt.datetime.now(dt.timezone.utc)
        cutoff_ms = int((now - self.policy.keep_snapshots).timestamp() * 1000)
        for attempt in range(self.policy.attempts):
            table = self.lake.load(name)
            if table is None or table.current_snapshot() is None:
                return result
            result.snapshots_before = result.snapshots_after = len(table.snapshots())
            ancestry = list(history.ancestors(table))  # newest first
            keep_upto = 0  # the current snapshot, always
            for i, snapshot in enumerate(ancestry):
                if snapshot.timestamp_ms >= cutoff_ms or (retain is not None and retain(_props(snapshot))):
                    keep_upto = i
            expired = ancestry[keep_upto + 1:]
            kept = ancestry[: keep_upto + 1]
            result.oldest_kept = dt.datetime.fromtimestamp(kept[-1].timestamp_ms / 1000, dt.timezone.utc)
            # Snapshots no branch or tag leads to (a rolled-back commit) go once they are older than the window;
            # what other branches and tags lead to stays.
            reachable = {s.snapshot_id for s in ancestry}
            for ref_name, ref in table.metadata.refs.items():
                if ref_name != "main":
                    reachable |= {s.snapshot_id for s in _ancestry_of(table, ref.snapshot_id)}
            stray = [s for s in table.snapshots() if s.snapshot_id not in reachable and s.timestamp_ms < cutoff_ms]
            ids = [s.snapshot_id for s in expired + stray]
            if not ids:
                return result
            entries = summarize_expired([_props(s) for s in expired], history.expired_history(table),
                                        exclude=self.exclude_from_history)
            try:
                tx = table.transaction()
                # Planned from this head: a commit landing meanwhile (even another expiry, on a catalog without
                # locks) makes this one fail and be planned again, never fold the history twice or lose a fold.
                tx._apply((), (AssertRefSnapshotId(snapshot_id=table.metadata.current_snapshot_id, ref="main"),))
                ExpireSnapshots(transaction=tx).by_ids(ids).commit()
                if expired:
                    tx.set_properties({history.EXPIRED_HISTORY_PROPERTY: json.dumps(entries, sort_keys=True)})
                if self.before_commit is not None:
                    self.before_commit(name, "expiry")
                tx.commit_transaction()
            except Exception as exc:
                if (isinstance(exc, _RETRYABLE) or is_sqlite_busy(exc)) and attempt + 1 < self.policy.attempts:
                    log.info("table %s: snapshot expiry lost a race with another commit (%s); planning again", name,
                             exc)
                    result.retries += 1
                    continue
                raise
            result.snapshots_expired = len(ids)
            result.snapshots_after = result.snapshots_before - len(ids)
            return result
        return result  # pragma: no cover

    # -- orphan files

    def _remove_orphans(self, name: str, now: dt.datetime | None) -> OrphanResult:
        result = OrphanResult()
        table = self.lake.load(name)
        if table is None:
            result.skipped = "no such table"
            return result
        min_age = self.policy.orphan_min_age
        if not has_table_locks(self.lake.catalog):
            min_age = max(min_age, self.policy.unlocked_orphan_min_age)
        result.min_age_hours = min_age.total_seconds() / 3600
        io = table.io
        if not isinstance(io, PyArrowFileIO):
            result.skipped = f"orphan removal lists files through PyArrowFileIO, not {type(io).__name__}"
            return result
        from pyarrow.fs import FileSelector, FileType

        props = table.properties
        location = table.location().rstrip("/")
        metadata_root = props.get("write.metadata.path", f"{location}/metadata").rstrip("/")
        roots = {props.get("write.data.path", f"{location}/data").rstrip("/"), metadata_root}
        scheme, netloc, _ = PyArrowFileIO.parse_location(location)
        fs = io.fs_by_scheme(scheme, netloc)
        listed = []
        for root in sorted(roots):
            selector = FileSelector(_location_key(root), recursive=True, allow_not_found=True)
            listed += [i for i in fs.get_file_info(selector) if i.type == FileType.File]
        result.files_listed = len(listed)
        metadata_key = _location_key(metadata_root) + "/"
        result.metadata_bytes_before = sum(i.size or 0 for i in listed if i.path.startswith(metadata_key))
        # References are read after the listing: a file committed in between is referenced by then.
        referenced = self._referenced(self.lake.load(name))
        if not referenced:
            raise RuntimeError(f"table {name}: no file is referenced, refusing to remove orphans")
        cutoff = (now or dt.datetime.now(dt.timezone.utc)) - min_age
        removed_metadata = 0
        for info in listed:
            if info.path in referenced:
                continue
            result.orphans_found += 1
            if info.mtime is None or info.mtime >= cutoff:
                result.young_kept += 1
                continue
            target = info.path if scheme == "file" else f"{scheme}://{info.path}"
            try:
                io.delete(target)
            except FileNotFoundError:
                continue
            result.orphans_removed += 1
            result.bytes_removed += info.size or 0
            result.removed.append(target)
            if info.path.startswith(metadata_key):
                removed_metadata += info.size or 0
        result.metadata_bytes_after = result.metadata_bytes_before - removed_metadata
        return result

    @staticmethod
    def _referenced(table: Table | None) -> set[str]:
        """Every file the table's metadata leads to: metadata files in the log, statistics, each live snapshot's
        manifest list, manifests and data and delete files."""
        if table is None:
            return set()
        md = table.metadata
        paths = {table.metadata_location, *(e.metadata_file for e in md.metadata_log)}
        paths |= {s.statistics_path for s in md.statistics}
        paths |= {s.statistics_path for s in md.partition_statistics}
        for snapshot in md.snapshots:
            paths.add(snapshot.manifest_list)
            for manifest in snapshot.manifests(table.io):
                paths.add(manifest.manifest_path)
        if md.snapshots:
            paths |= set(table.inspect.all_files().column("file_path").to_pylist())
        return {_location_key(p) for p in paths if p}


def _ancestry_of(table: Table, snapshot_id: int) -> list[Snapshot]:
    out: list[Snapshot] = []
    snapshot = table.snapshot_by_id(snapshot_id)
    seen: set[int] = set()
    while snapshot is not None and snapshot.snapshot_id not in seen:
        seen.add(snapshot.snapshot_id)
        out.append(snapshot)
        snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id) if snapshot.parent_snapshot_id else None
    return out


def _data_bytes(table: Table | None) -> int:
    summary = history.read_summary(table) if table is not None else {}
    return int(summary.get("total-files-size") or 0)


def _delete_quietly(io, paths: Iterable[str]) -> None:
    for p in paths:
        try:
            io.delete(p)
        except Exception as exc:  # best effort: an orphan is invisible to readers, and orphan removal takes it
            log.warning("could not delete uncommitted data file %s: %s", p, exc)
