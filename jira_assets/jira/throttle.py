"""One request throttle for the whole machine (or fleet), shared by every thread, task and process.

Limit: at most `rate` requests in any window of 1.03 s, paced (about one request every 1.03/rate s) rather than
in bursts. Backends (pyrate-limiter 4.x buckets, sliding-window log):
- SQLite (default): `SQLiteBucket` in a file every process on the machine opens, guarded by a file lock.
  Location: env `JIRA_THROTTLE_DB`, default `<system temp dir>/jira-assets-throttle-<uid>.sqlite`.
- Redis (a fleet of machines): `RedisBucket`, selected by env `JIRA_THROTTLE_REDIS_URL` (e.g. redis://host:6379/0).

Each Jira site gets its own bucket (table / key), so two sites never share a budget. A 429's wait is stored
in the same shared store as a "paused until" instant that every process honours before its next request.

Why not `Limiter.try_acquire`: its blocking retry advances the item's timestamp by the time it slept rather
than reading the clock again, so lock waits (other processes holding the file lock) make recorded timestamps
earlier than the real send time, and the async variant polls the file lock on the event loop. Here the clock
is read *under* the shared lock right before the put, and all waiting happens on one daemon thread per
throttle, so the event loop never blocks and any number of concurrent requests can queue for slots.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import math
import os
import queue
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pyrate_limiter import Rate, RateItem, RedisBucket, SQLiteBucket, SQLiteQueries, validate_rate_list

logger = logging.getLogger(__name__)

ENV_DB = "JIRA_THROTTLE_DB"
ENV_REDIS_URL = "JIRA_THROTTLE_REDIS_URL"
DEFAULT_RATE = 5.0
# Windows are 3% longer than one second, so a request that leaves the client a few tens of ms late (scheduling,
# socket write) still never lands in the same server-side 1-second window as the (limit+1)-th one before it.
DEFAULT_MARGIN = 0.03
_LEAK_EVERY_S = 10.0
_PAUSE_POLL_S = 0.5  # re-read the shared pause at least this often (another process may extend it)


def default_db_path() -> Path:
    """`$JIRA_THROTTLE_DB`, else a per-user file in the system temp dir (shared by every process of that user)."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"jira-assets-throttle-{uid}.sqlite"


def site_key(base_url: str) -> str:
    """A stable name for a Jira site: `acme.atlassian.net`, `127.0.0.1:8123`, `proxy.corp/jira`."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path.rstrip('/')}"


def rates_for(requests_per_second: float, margin: float = DEFAULT_MARGIN) -> list[Rate]:
    """pyrate-limiter rates admitting at most `requests_per_second` in any window of (1 + margin) seconds.

    Admissions are paced (about one slot of k requests every >= 100 ms) rather than allowed in one burst per
    second: bursts make every waiting process wake at the same instant and contend for the CPU, which delays
    some sends by tens of ms - enough to crowd the next second on the server's side.
    """
    rps = float(requests_per_second)
    if not (rps > 0) or math.isinf(rps):
        raise ValueError(f"rate limit must be a positive number of requests per second, got {requests_per_second!r}")
    window = 1000.0 * (1.0 + margin)
    per_slot = max(1, int(rps // 10))
    rates = [Rate(per_slot, int(math.ceil(per_slot * window / rps)))]
    per_window = int(rps)
    if per_window > per_slot:
        # The exact cap per (1 + margin) s too, in case the pacing rounds to bursts that could add up to more.
        both = [*rates, Rate(per_window, int(math.ceil(window)))]
        if validate_rate_list(both):
            rates = both
    return rates


class Throttle:
    """Admits requests at the configured rate, shared by all users of the same store and site."""

    rate: float
    description: str

    async def acquire(self) -> float:
        """Wait for a slot (and for any shared pause to end); return the seconds waited."""
        raise NotImplementedError

    async def pause(self, seconds: float) -> float:
        """Pause every user of this throttle for `seconds` from now (never shortens a longer pause)."""
        raise NotImplementedError

    def paused_until(self) -> float:
        """Epoch seconds until which requests are paused (0 if not paused)."""
        raise NotImplementedError


class _Worker:
    """One daemon thread running blocking calls in order. Daemon, so a long pause never holds up exit."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], Any]) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((fn, fut))
        return fut

    def _run(self) -> None:
        while True:
            fn, fut = self._jobs.get()
            if not fut.set_running_or_notify_cancel():
                continue  # the waiting task was cancelled before its turn: no slot is taken
            try:
                fut.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - delivered to the awaiting task
                fut.set_exception(exc)


class _PauseStore:
    def until(self) -> float:
        raise NotImplementedError

    def extend(self, until: float) -> float:
        raise NotImplementedError


class _SQLitePauseStore(_PauseStore):
    """`paused_until` rows in the same SQLite file as the bucket, one row per site."""

    def __init__(self, db_path: Path, key: str) -> None:
        self._key = key
        self._path = db_path
        self._local = threading.local()
        conn = self._conn()
        conn.execute("CREATE TABLE IF NOT EXISTS jira_throttle_pause (site TEXT PRIMARY KEY, until REAL NOT NULL)")
        conn.commit()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level="DEFERRED")
            self._local.conn = conn
        return conn

    def until(self) -> float:
        row = self._conn().execute("SELECT until FROM jira_throttle_pause WHERE site = ?", (self._key,)).fetchone()
        return float(row[0]) if row else 0.0

    def extend(self, until: float) -> float:
        conn = self._conn()
        conn.execute(
            "INSERT INTO jira_throttle_pause (site, until) VALUES (?, ?) "
            "ON CONFLICT(site) DO UPDATE SET until = max(until, excluded.until)",
            (self._key, until),
        )
        conn.commit()
        return self.until()


_REDIS_EXTEND = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return tostring(current)
"""


class _RedisPauseStore(_PauseStore):
    def __init__(self, redis_client: Any, key: str) -> None:
        self._redis = redis_client
        self._key = key
        self._extend = redis_client.register_script(_REDIS_EXTEND)

    def until(self) -> float:
        value = self._redis.get(self._key)
        return float(value) if value else 0.0

    def extend(self, until: float) -> float:
        ttl_ms = max(1, int((until - time.time()) * 1000) + 1000)
        return float(self._extend(keys=[self._key], args=[repr(until), ttl_ms]))


class BucketThrottle(Throttle):
    """A pyrate-limiter bucket plus a shared pause, driven from one daemon thread per process."""

    def __init__(
        self,
        bucket: Any,
        pause_store: _PauseStore,
        *,
        rate: float,
        item_name: str,
        lock: Any = None,
        description: str = "",
    ) -> None:
        self.rate = rate
        self.description = description
        self._bucket = bucket
        self._pause = pause_store
        self._name = item_name
        self._lock = lock
        self._worker = _Worker(f"jira-throttle[{item_name}]")
        self._last_leak = 0.0
        self.admitted = 0  # slots this process took (diagnostics; the simulator's log is the measurement)

    async def acquire(self) -> float:
        started = time.monotonic()
        await asyncio.wrap_future(self._worker.submit(self._acquire_blocking))
        return time.monotonic() - started

    async def pause(self, seconds: float) -> float:
        until = time.time() + max(0.0, seconds)
        # Not on the throttle thread: it may be asleep waiting for a slot.
        return await asyncio.to_thread(self._pause.extend, until)

    def paused_until(self) -> float:
        return self._pause.until()

    def acquire_blocking(self) -> None:
        """The same admission for synchronous callers (runs on the calling thread)."""
        self._acquire_blocking()

    def _acquire_blocking(self) -> None:
        while True:
            remaining = self._pause.until() - time.time()
            if remaining > 0:
                time.sleep(min(remaining, _PAUSE_POLL_S))
                continue
            wait_ms = self._try_put()
            if wait_ms is None:
                self.admitted += 1
                return
            time.sleep(max(wait_ms, 1) / 1000.0)

    def _try_put(self) -> int | None:
        """Put one item, reading the clock under the shared lock. None if admitted, else ms to wait."""
        if self._lock is not None:
            with self._lock:
                return self._put_now()
        return self._put_now()

    def _put_now(self) -> int | None:
        now_ms = time.time_ns() // 1_000_000
        if now_ms / 1000.0 - self._last_leak > _LEAK_EVERY_S:
            self._bucket.leak(now_ms)
            self._last_leak = now_ms / 1000.0
        item = RateItem(self._name, now_ms, weight=1)
        if self._bucket.put(item):
            return None
        wait = self._bucket.waiting(item)
        if wait < 0:
            raise RuntimeError("the throttle's rate can never admit a request")
        return wait


def sqlite_throttle(
    base_url: str,
    rate: float = DEFAULT_RATE,
    db_path: str | os.PathLike | None = None,
    *,
    margin: float = DEFAULT_MARGIN,
) -> BucketThrottle:
    """SQLite bucket + file lock in `db_path` (default `default_db_path()`), one table per Jira site."""
    from filelock import FileLock

    path = Path(db_path) if db_path else default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = site_key(base_url)
    table = _table_name(key)
    # Short poll: lock holds are a few ms, and the default 50 ms poll would stall admissions.
    lock = FileLock(str(path) + ".lock", poll_interval=0.002)
    with lock:
        conn = sqlite3.connect(str(path), isolation_level="DEFERRED", check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(SQLiteQueries.CREATE_BUCKET_TABLE.format(table=table))
        conn.execute(
            SQLiteQueries.CREATE_INDEX_ON_TIMESTAMP.format(index_name=f"idx_{table}_ts", table_name=table)
        )
        conn.commit()
        pause = _SQLitePauseStore(path, key)
    bucket = SQLiteBucket(rates_for(rate, margin), conn, table, lock=lock)
    return BucketThrottle(
        bucket, pause, rate=rate, item_name=key, lock=lock, description=f"sqlite:{path}#{table} at {rate:g}/s"
    )


def redis_throttle(
    base_url: str, rate: float = DEFAULT_RATE, redis_url: str | None = None, *, margin: float = DEFAULT_MARGIN
) -> BucketThrottle:
    """Redis sorted-set bucket (atomic Lua put) shared by every machine using the same Redis and site."""
    import redis

    url = redis_url or os.environ[ENV_REDIS_URL]
    client = redis.Redis.from_url(url)
    key = site_key(base_url)
    prefix = f"jira-assets:throttle:{key}"
    bucket = RedisBucket.init(rates_for(rate, margin), client, prefix)
    pause = _RedisPauseStore(client, prefix + ":paused_until")
    safe_url = _redact_url(url)
    return BucketThrottle(bucket, pause, rate=rate, item_name=key, description=f"redis:{safe_url}#{prefix} at {rate:g}/s")


_registry: dict[tuple, Throttle] = {}
_registry_lock = threading.Lock()


def get_throttle(
    base_url: str,
    rate: float = DEFAULT_RATE,
    *,
    db_path: str | os.PathLike | None = None,
    redis_url: str | None = None,
    margin: float = DEFAULT_MARGIN,
) -> Throttle:
    """The process-wide throttle for a site: Redis if a URL is given or `JIRA_THROTTLE_REDIS_URL` is set, else SQLite.

    Cached per process (and re-created after a fork), so every client in a process shares one worker thread.
    """
    redis_url = redis_url or os.environ.get(ENV_REDIS_URL) or None
    if redis_url:
        location: tuple = ("redis", redis_url)
    else:
        location = ("sqlite", str(Path(db_path) if db_path else default_db_path()))
    cache_key = (os.getpid(), location, site_key(base_url), float(rate), margin)
    with _registry_lock:
        throttle = _registry.get(cache_key)
        if throttle is None:
            if redis_url:
                throttle = redis_throttle(base_url, rate, redis_url, margin=margin)
            else:
                throttle = sqlite_throttle(base_url, rate, location[1], margin=margin)
            _registry[cache_key] = throttle
            logger.debug("throttle for %s: %s", site_key(base_url), throttle.description)
        return throttle


def _table_name(key: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")[:40]
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return f"jira_throttle_{slug}_{digest}"


def _redact_url(url: str) -> str:
    return re.sub(r"(?<=//)[^/@]*@", "***@", url)
