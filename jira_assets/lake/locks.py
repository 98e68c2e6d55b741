"""One writer per table at a time, whoever launched it (a schedule, the UI, the command line, another machine).

A sync reads its cursor, fetches and commits; two syncs of one table at once would both start from the same cursor
and the second commit would be refused. The lock makes the second wait for the first, then start from its commit.
It is released when the holder ends, however it ends (a killed process releases a file lock or a database session
with it), so a crash never leaves a table locked.

- the embedded lake and any SQLite SQL catalog: a file lock beside the catalog file;
- a PostgreSQL SQL catalog: a session-level advisory lock on a connection of its own;
- other catalogs (REST): no lock; the catalog refuses the later of two commits from the same base.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog

log = logging.getLogger(__name__)


class TableBusy(TimeoutError):
    """The table's lock was not free within the time the caller was willing to wait."""


def _dialect(catalog: Catalog):
    engine = getattr(catalog, "engine", None) if isinstance(catalog, SqlCatalog) else None
    dialect = engine.dialect.name if engine is not None else ""
    if dialect == "sqlite" and not engine.url.database:
        dialect = ""  # an in-memory SQLite catalog lives in one process: nothing to lock against
    return engine, dialect


def has_table_locks(catalog: Catalog) -> bool:
    """Whether `table_lock` really excludes other writers of this catalog (else it is a no-op)."""
    return _dialect(catalog)[1] in ("sqlite", "postgresql")


@contextlib.contextmanager
def table_lock(catalog: Catalog, namespace: str, name: str, on_wait=None, timeout: float | None = None) -> Iterator[None]:
    """Hold the table's write lock for the duration of the block; `on_wait(message)` is called before waiting.
    `timeout`: seconds to wait at most, then TableBusy (None: as long as it takes)."""
    engine, dialect = _dialect(catalog)
    if dialect == "sqlite":
        with _file_lock(Path(engine.url.database).resolve().parent / "locks" / f"{namespace}.{name}.lock",
                        f"{namespace}.{name}", on_wait, timeout):
            yield
    elif dialect == "postgresql":
        with _advisory_lock(engine, f"jira-assets:{namespace}.{name}", on_wait, timeout):
            yield
    else:
        yield


@contextlib.contextmanager
def _file_lock(path: Path, label: str, on_wait, timeout: float | None = None) -> Iterator[None]:
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        _waiting(label, on_wait)
        try:
            lock.acquire(timeout=-1 if timeout is None else timeout)
        except Timeout:
            raise TableBusy(f"{label} stayed locked by another writer for {timeout:g} s") from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _advisory_lock(engine, label: str, on_wait, timeout: float | None = None) -> Iterator[None]:
    from sqlalchemy import text

    key = int.from_bytes(hashlib.sha256(label.encode()).digest()[:8], "big", signed=True)
    with engine.connect() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            _waiting(label, on_wait)
            if timeout is None:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            else:
                deadline = time.monotonic() + timeout
                while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                    if time.monotonic() >= deadline:
                        conn.rollback()
                        raise TableBusy(f"{label} stayed locked by another writer for {timeout:g} s")
                    time.sleep(0.5)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _waiting(label: str, on_wait) -> None:
    message = f"another sync of {label} is running: waiting for it to commit"
    (on_wait or log.info)(message)
