"""The Iceberg catalog the lake writes to: the embedded SQLite lake by default, or any pyiceberg catalog.

`open_catalog()` is cached per process; SQLite "database is locked" errors from concurrent step processes are
retried (`retry_busy`).
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.utils.config import Config

try:  # SQLAlchemy is present whenever the SQL catalog is; other catalogs do not need it
    from sqlalchemy.exc import OperationalError as _SqlOperationalError
except ImportError:  # pragma: no cover
    _SqlOperationalError = ()  # type: ignore[assignment]

log = logging.getLogger(__name__)

# Project defaults for the embedded lake (README "Configuration").
LAKE_DIR_ENV = "JIRA_ASSETS_LAKE_DIR"
DEFAULT_LAKE_DIR = ".jira_lake"
DEFAULT_CATALOG_NAME = "jira"
DEFAULT_NAMESPACE = "jira"

_catalog_lock = threading.Lock()
_catalog_cache: dict[tuple, Catalog] = {}


def resolve_lake_dir(lake_dir: str | os.PathLike | None = None) -> Path:
    return Path(lake_dir or os.environ.get(LAKE_DIR_ENV) or DEFAULT_LAKE_DIR).expanduser().resolve()


def is_sqlite_busy(exc: BaseException) -> bool:
    if not _SqlOperationalError or not isinstance(exc, _SqlOperationalError):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def retry_busy(fn, *args, attempts: int = 8, **kwargs):
    """Run a catalog call, retrying while SQLite reports the database locked (other writers)."""
    for attempt in range(attempts):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not is_sqlite_busy(exc) or attempt == attempts - 1:
                raise
            time.sleep(min(2.0, 0.05 * 2**attempt) * (1 + random.random()))
    raise AssertionError("unreachable")


def _enable_wal(catalog: SqlCatalog) -> None:
    # WAL: readers never block the writer and commits need no exclusive lock, so step
    # processes committing different tables only queue briefly on the write lock.
    try:
        with catalog.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    except Exception as exc:  # another process may hold the lock; WAL is an optimisation
        log.debug("could not switch catalog to WAL: %s", exc)


class LakeError(RuntimeError):
    """The lake itself is unusable (lost, corrupt, read-only or copied catalog); the message says what to do."""


def check_embedded_lake(root: Path) -> None:
    """Refuse, in one sentence, a lake that would otherwise be silently resynced from scratch (lost cursors) or
    written somewhere else than it seems: an empty, corrupt or missing catalog beside existing tables, a read-only
    folder, a copied lake whose catalog still points at the original."""
    db, warehouse = root / "catalog.db", root / "warehouse"
    start_over = f"or delete {root} to start over with a full resync"
    empty = not db.exists() or db.stat().st_size == 0
    if empty:
        # A catalog being created by another process is empty for a moment too: only tables without it are a loss.
        if warehouse.is_dir() and next(warehouse.rglob("*.metadata.json"), None) is not None:
            state = "is missing" if not db.exists() else "is empty (0 bytes)"
            raise LakeError(f"{db} {state} while {warehouse} holds tables: the catalog (every table's current "
                            f"version and the sync cursors) was lost. Restore it from a backup, {start_over}")
        if root.exists() and not os.access(root, os.W_OK):
            raise LakeError(f"{root} is read-only: make it writable (the sync commits every table there), or set "
                            f"{LAKE_DIR_ENV} to a writable folder")
        return
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            row = (conn.execute("SELECT metadata_location FROM iceberg_tables WHERE metadata_location IS NOT NULL "
                                "LIMIT 1").fetchone() if "iceberg_tables" in tables else None)
    except sqlite3.DatabaseError as exc:
        raise LakeError(f"{db} is not a readable SQLite catalog ({exc}): restore it from a backup, {start_over}") \
            from None
    for path in (root, db, warehouse):
        if path.exists() and not os.access(path, os.W_OK):
            raise LakeError(f"{path} is read-only: make {root} writable (the sync commits every table there), or set "
                            f"{LAKE_DIR_ENV} to a writable folder")
    if row and not str(row[0]).startswith(warehouse.as_uri() + "/"):
        raise LakeError(f"{root} holds a catalog whose tables live elsewhere ({row[0]}): a lake records absolute "
                        f"paths, so a copied or moved lake folder keeps reading and writing the original. Point "
                        f"{LAKE_DIR_ENV} at the original folder")


def _embedded_catalog(catalog_name: str, root: Path) -> SqlCatalog:
    for attempt in range(10):
        try:
            catalog = SqlCatalog(
                catalog_name,
                # timeout = SQLite busy timeout (seconds) while other processes commit
                uri=f"sqlite:///{root / 'catalog.db'}?timeout=60",
                warehouse=(root / "warehouse").as_uri(),
            )
            break
        except Exception as exc:
            # Two processes initialising a fresh catalog.db race on CREATE TABLE; the loser
            # sees "already exists" or "locked" - the next attempt finds the tables.
            if not (_SqlOperationalError and isinstance(exc, _SqlOperationalError)) or attempt == 9:
                raise
            time.sleep(0.05 * (attempt + 1) * (1 + random.random()))
    _enable_wal(catalog)
    return catalog


def open_catalog(
    lake_dir: str | os.PathLike | None = None,
    catalog_name: str = DEFAULT_CATALOG_NAME,
    properties: Mapping[str, str] | None = None,
) -> Catalog:
    """The catalog to write to, cached per process.

    - `properties` given: `load_catalog(catalog_name, **properties)` (any pyiceberg catalog);
    - else if pyiceberg has configuration for `catalog_name` (`.pyiceberg.yaml`,
      `PYICEBERG_CATALOG__<NAME>__*` env vars): `load_catalog(catalog_name)`;
    - else the embedded lake: SqlCatalog on `<lake_dir>/catalog.db` (SQLite) with warehouse
      `<lake_dir>/warehouse`; lake_dir defaults to $JIRA_ASSETS_LAKE_DIR or `.jira_lake`.
    """
    # the pid is part of the key: a forked child must not share its parent's SQLite connections
    if properties:
        key: tuple = ("props", catalog_name, tuple(sorted((k, str(v)) for k, v in properties.items())))
    elif (configured := Config().get_catalog_config(catalog_name)) is not None:
        key = ("config", catalog_name, tuple(sorted((k, str(v)) for k, v in configured.items())))
    else:
        key = ("embedded", catalog_name, str(resolve_lake_dir(lake_dir)))
    with _catalog_lock:
        cached = _catalog_cache.get((os.getpid(), key))
        if cached is not None:
            return cached
        if key[0] == "props":
            catalog = retry_busy(load_catalog, catalog_name, **{k: str(v) for k, v in properties.items()})
        elif key[0] == "config":
            # pass what we read: load_catalog's own config snapshot is taken at import time
            catalog = retry_busy(load_catalog, catalog_name, **configured)
        else:
            root = Path(key[2])
            check_embedded_lake(root)
            (root / "warehouse").mkdir(parents=True, exist_ok=True)
            catalog = _embedded_catalog(catalog_name, root)
        _catalog_cache[(os.getpid(), key)] = catalog
        return catalog
