"""First contact with a site: one request goes first, and what Jira answered it is shared with every process.

When a run starts dozens of steps at once with a wrong token, each would send its own request and get its own 401
(and Atlassian can lock an account after repeated failures). Instead, the first request of a scope (a Dagster run)
is sent alone, under a lock every process of the machine (or fleet) shares with the throttle, and its outcome is
recorded as a verdict:

- `ok`: any answer other than 401 - the credentials work; everyone goes ahead;
- `rejected`: 401 - every later request of the scope fails at once with the same sentence, without being sent;
- `unreachable`: a network failure no retry can fix (network.py) - the same.

Verdicts are keyed by a hash of scope, site, email and token (never the token itself) and expire, so a new run,
or a fixed setting, always tries again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

OK, REJECTED, UNREACHABLE = "ok", "rejected", "unreachable"
TTL_SECONDS = {OK: 600.0, REJECTED: 600.0, UNREACHABLE: 600.0}
UNSCOPED_TTL_SECONDS = 30.0  # verdicts of clients outside a run (scripts, `check`) pass quickly


@dataclass(frozen=True)
class Verdict:
    kind: str
    status: int | None = None
    message: str = ""
    at: float = 0.0

    @property
    def bad(self) -> bool:
        return self.kind != OK


def contact_key(scope: str, site: str, email: str, token: str) -> str:
    return hashlib.sha256("\x1f".join((scope, site, email, token)).encode()).hexdigest()[:32]


class ContactStore:
    """Where verdicts live and the lock the first request is sent under."""

    def get(self, key: str) -> Verdict | None:
        raise NotImplementedError

    def put(self, key: str, verdict: Verdict) -> None:
        raise NotImplementedError

    def acquire(self, key: str) -> Any:
        """Block until this process may send the scope's first request; returns a handle for `release`."""
        raise NotImplementedError

    def release(self, handle: Any) -> None:
        raise NotImplementedError

    def fresh(self, key: str, scoped: bool) -> Verdict | None:
        verdict = self.get(key)
        if verdict is None:
            return None
        ttl = TTL_SECONDS[verdict.kind] if scoped else UNSCOPED_TTL_SECONDS
        return verdict if time.time() - verdict.at < ttl else None


class MemoryContactStore(ContactStore):
    """One process only (a throttle without a shared store)."""

    def __init__(self) -> None:
        self._verdicts: dict[str, Verdict] = {}
        self._lock = threading.Lock()

    def get(self, key):
        return self._verdicts.get(key)

    def put(self, key, verdict):
        self._verdicts[key] = verdict

    def acquire(self, key):
        self._lock.acquire()
        return self._lock

    def release(self, handle):
        handle.release()


class SQLiteContactStore(ContactStore):
    """A table in the throttle's SQLite file, and a file lock beside it."""

    def __init__(self, db_path: str | Path) -> None:
        from filelock import FileLock

        self._path = str(db_path)
        # Acquired in a worker thread and released on the event loop's: not tied to a thread.
        self._lock = FileLock(self._path + ".contact.lock", thread_local=False)
        with self._connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS jira_site_contact (key TEXT PRIMARY KEY, verdict TEXT NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=30)

    def get(self, key):
        with self._connect() as conn:
            row = conn.execute("SELECT verdict FROM jira_site_contact WHERE key = ?", (key,)).fetchone()
        return Verdict(**json.loads(row[0])) if row else None

    def put(self, key, verdict):
        with self._connect() as conn:
            conn.execute("INSERT INTO jira_site_contact (key, verdict) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET verdict = excluded.verdict", (key, json.dumps(asdict(verdict))))

    def acquire(self, key):
        self._lock.acquire()
        return self._lock

    def release(self, handle):
        handle.release()


class RedisContactStore(ContactStore):
    """Keys beside the throttle's in Redis (with an expiry), and a Redis lock."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def get(self, key):
        raw = self._redis.get(f"{self._prefix}:contact:{key}")
        return Verdict(**json.loads(raw)) if raw else None

    def put(self, key, verdict):
        self._redis.set(f"{self._prefix}:contact:{key}", json.dumps(asdict(verdict)),
                        ex=int(max(TTL_SECONDS.values())) + 60)

    def acquire(self, key):
        # Acquired in a worker thread and released on the event loop's: not tied to a thread.
        lock = self._redis.lock(f"{self._prefix}:contact-lock:{key}", timeout=600, sleep=0.02, thread_local=False)
        lock.acquire()
        return lock

    def release(self, handle):
        try:
            handle.release()
        except Exception:  # noqa: BLE001 - an expired lock is released already
            pass
