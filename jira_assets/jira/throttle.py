"""One request throttle for the whole machine (or fleet), shared by every thread, task and process.

Limit: at most `rate` requests in any window of 1.035 s, paced (about one request every 1.035/rate s) rather than
in bursts. Backends (pyrate-limiter 4.x buckets, sliding-window log):
- SQLite (default): `SQLiteBucket` in a file every process on the machine opens, guarded by a file lock.
  Location: env `JIRA_THROTTLE_DB`, default `<system temp dir>/jira-assets-throttle-<uid>.sqlite`.
- Redis (a fleet of machines): `RedisBucket`, selected by env `JIRA_THROTTLE_REDIS_URL` (e.g. redis://host:6379/0).

Each Jira site gets its own bucket (table / key), so two sites never share a budget. A 429's wait is stored
in the same shared store as a "paused until" instant that every process honours before its next request.

Why the bucket is driven here rather than through `Limiter.try_acquire[_async]`: the Limiter reads the clock
before it takes the shared lock (its blocking retry even advances the old timestamp by the time slept), so a
wait for another process's file lock records an admission earlier than the real send; and it knows nothing of
the shared pause. Here the clock is read *under* the shared lock, on the caller's event loop, at the moment the
request's headers are about to be written (JiraClient admits from httpx's trace hook, after the connection is
open), and a slot is moved to the moment the headers were written if the process was held up in between. So
the spacing enforced is the spacing on the wire, even on a busy machine. Waiting is `asyncio.sleep`, so any
number of requests can be in flight while others wait for slots.

Redis across machines uses each machine's clock (as pyrate-limiter's RedisBucket does): keep them NTP-synced.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import math
import os
import re
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pyrate_limiter import Rate, RateItem, RedisBucket, SQLiteBucket, SQLiteQueries, validate_rate_list

from jira_assets.jira.contact import ContactStore, MemoryContactStore, RedisContactStore, SQLiteContactStore

logger = logging.getLogger(__name__)

ENV_DB = "JIRA_THROTTLE_DB"
ENV_REDIS_URL = "JIRA_THROTTLE_REDIS_URL"
DEFAULT_RATE = 5.0
# Windows are 3.5% longer than one second, so a request that leaves the client a few tens of ms late (scheduling,
# socket write) still never lands in the same server-side 1-second window as the (limit+1)-th one before it.
DEFAULT_MARGIN = 0.035
_EARLY_MS = 2
_RESTAMP_AFTER_MS = 2  # a request written within 2 ms of its admission keeps its slot's timestamp
_WAKE_COST_MS = 3  # typical cost of one wait: the +1 ms pyrate adds, sleep overshoot, the put itself
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
    """pyrate-limiter rates: at most `requests_per_second` per (1 + margin) s, paced rather than in one burst.

    The cap `Rate(L, L/rps * 1.035 s)` is the guarantee. In front of it, a pacing rate (k requests per ~k/rps s,
    a few ms quicker than the cap) spreads admissions out: a burst per second would wake every waiting process
    at the same instant to contend for the CPU, delaying some sends by tens of ms - enough to crowd the next
    second on Jira's side. Being a little quicker than the cap means the fixed cost of a wake-up (~3 ms) is paid
    once per window, not once per request.
    """
    rps = float(requests_per_second)
    if not (rps > 0) or math.isinf(rps):
        raise ValueError(f"rate limit must be a positive number of requests per second, got {requests_per_second!r}")
    stretch = 1000.0 * (1.0 + margin) / rps  # ms per request, margin included
    per_window = int(rps)
    if per_window < 2:
        return [Rate(1, int(math.ceil(stretch)))]
    cap = Rate(per_window, int(math.ceil(per_window * stretch)))
    per_slot = max(1, per_window // 10)
    pace = Rate(per_slot, max(1, int(per_slot * stretch) - _WAKE_COST_MS))
    return [pace, cap] if validate_rate_list([pace, cap]) else [cap]


class Paused(Exception):
    """Raised inside a request when a shared pause began while it waited for its slot: back off and try again."""


class Throttle:
    """Admits requests at the configured rate, shared by all users of the same store and site."""

    rate: float
    description: str

    async def acquire(self) -> float:
        """Wait for any shared pause to end and take a slot; return the seconds waited."""
        raise NotImplementedError

    def slot(self) -> AbstractAsyncContextManager[Ticket]:
        """A ticket whose `admit()` takes the slot; call it at the moment the request is written (see Ticket)."""
        return _AcquireFirst(self)

    async def pause(self, seconds: float) -> float:
        """Pause every user of this throttle for `seconds` from now (never shortens a longer pause)."""
        raise NotImplementedError

    def paused_until(self) -> float:
        """Epoch seconds until which requests are paused (0 if not paused)."""
        raise NotImplementedError

    @property
    def contact(self) -> ContactStore:
        """Where the outcome of a scope's first request is shared (contact.py): the throttle's own store."""
        store = getattr(self, "_contact", None)
        if store is None:
            store = self._contact = MemoryContactStore()
        return store


class Ticket:
    """One request's way through the throttle.

    `async with throttle.slot() as ticket:` waits for any pause and queues behind the other requests of this event
    loop; `await ticket.admit()` then takes the slot. JiraClient passes `ticket.trace` as httpx's trace hook, which
    admits when the request headers are about to be written (after the connection is open) and, once they are
    written, moves the slot's timestamp to that moment (`sent()`) if the process was held up in between - so the
    spacing the throttle enforces is the spacing of requests on the wire.
    """

    admitted = False
    waited = 0.0

    async def admit(self) -> None:
        raise NotImplementedError

    async def sent(self) -> None:
        return None

    async def trace(self, event: str, info: dict) -> None:
        if event.endswith("send_request_headers.started"):
            if not self.admitted:
                await self.admit()
        elif event.endswith("send_request_headers.complete") and self.admitted:
            await self.sent()


class _AcquireFirst(Ticket):
    """Fallback for throttles without send-time admission: the slot is taken on entry."""

    def __init__(self, throttle: Throttle) -> None:
        self._throttle = throttle

    async def __aenter__(self) -> Ticket:
        self.waited = await self._throttle.acquire()
        self.admitted = True
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    async def admit(self) -> None:
        return None


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


# RedisBucket stores an admission as member "<item name>:<random id>:1" scored by its timestamp.
_REDIS_RESTAMP = """
local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
for _, member in ipairs(members) do
  if string.sub(member, 1, string.len(ARGV[2])) == ARGV[2] then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[3], member)
  end
end
return 0
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
    """A pyrate-limiter bucket plus a shared pause.

    The put happens on the caller's event loop at the moment the request is written (see Ticket): no hand-off
    between "admitted" and "on the wire" whose scheduling delay, on a busy machine, would let requests reach Jira
    bunched closer than they were admitted. Requests of one event loop queue in order on an asyncio.Lock;
    processes (and threads) contend through the bucket's shared lock.
    """

    def __init__(
        self,
        bucket: Any,
        pause_store: _PauseStore,
        *,
        rate: float,
        item_name: str,
        lock: Any = None,
        restamp: Callable[[RateItem, int], None] | None = None,
        description: str = "",
        contact: ContactStore | None = None,
    ) -> None:
        self._contact = contact
        self.rate = rate
        self.description = description
        self._restamp_fn = restamp
        self._seq = itertools.count(1)
        self._bucket = bucket
        self._pause = pause_store
        self._name = item_name
        self._lock = lock
        self._mutex = threading.Lock()  # the bucket object keeps the last verdict: one put+waiting at a time
        self._loop_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._last_leak = 0.0
        self.admitted = 0  # slots this process took (diagnostics; the simulator's log is the measurement)

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._mutex:
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
            return lock

    async def acquire(self) -> float:
        started = time.monotonic()
        async with self._loop_lock():
            await self._admit(raise_on_pause=False)
        return time.monotonic() - started

    def slot(self) -> AbstractAsyncContextManager[Ticket]:
        return _BucketTicket(self)

    async def _wait_for_pause(self) -> None:
        while (remaining := self._pause.until() - time.time()) > 0:
            await asyncio.sleep(min(remaining, _PAUSE_POLL_S))

    async def _admit(self, *, raise_on_pause: bool) -> RateItem:
        while True:
            if self._pause.until() > time.time():
                if raise_on_pause:
                    raise Paused()
                await self._wait_for_pause()
            outcome = self._try_put()
            if isinstance(outcome, RateItem):
                return outcome
            await asyncio.sleep(_sleep_for(outcome))

    def _restamp(self, item: RateItem) -> None:
        """Move an admitted slot to now (the moment its request was written), if that was noticeably later."""
        now_ms = time.time_ns() // 1_000_000
        if self._restamp_fn is None or now_ms - item.timestamp < _RESTAMP_AFTER_MS:
            return
        with self._mutex:
            if self._lock is not None:
                with self._lock:
                    self._restamp_fn(item, now_ms)
            else:
                self._restamp_fn(item, now_ms)
        item.timestamp = now_ms

    async def pause(self, seconds: float) -> float:
        until = time.time() + max(0.0, seconds)
        return self._pause.extend(until)

    def paused_until(self) -> float:
        return self._pause.until()

    def _try_put(self) -> RateItem | int:
        """Put one item, reading the clock under the shared lock: the admitted item, or ms to wait."""
        with self._mutex:
            if self._lock is not None:
                with self._lock:
                    return self._put_now()
            return self._put_now()

    def _put_now(self) -> RateItem | int:
        now_ms = time.time_ns() // 1_000_000
        if now_ms / 1000.0 - self._last_leak > _LEAK_EVERY_S:
            self._bucket.leak(now_ms)
            self._last_leak = now_ms / 1000.0
        # A name unique to this admission, so the slot can be found again to restamp it.
        item = RateItem(f"{self._name}|{os.getpid()}|{next(self._seq)}", now_ms, weight=1)
        if self._bucket.put(item):
            self.admitted += 1
            return item
        wait = self._bucket.waiting(item)
        if wait < 0:
            raise RuntimeError("the throttle's rate can never admit a request")
        return wait


class _BucketTicket(Ticket):
    """Holds this event loop's queue position from entry until the slot is taken (or the request failed first).

    Only one request per event loop is between "my turn" and "admitted", so at most one pooled connection waits
    for a slot. A pause that begins during that wait aborts the attempt (`Paused`) instead of holding an open
    connection through it; the caller waits outside and tries again.
    """

    def __init__(self, throttle: BucketThrottle) -> None:
        self._throttle = throttle
        self._lock: asyncio.Lock | None = None
        self._entered = 0.0
        self._item: RateItem | None = None

    async def __aenter__(self) -> Ticket:
        self._entered = time.monotonic()
        self._lock = self._throttle._loop_lock()
        await self._lock.acquire()
        try:
            # Let the request admitted just before this one reach its socket write before this one goes on.
            await asyncio.sleep(0)
            await self._throttle._wait_for_pause()
        except BaseException:
            self._release()
            raise
        return self

    async def admit(self) -> None:
        if self.admitted:
            return
        try:
            self._item = await self._throttle._admit(raise_on_pause=True)
        except BaseException:
            self._release()
            raise
        self.admitted = True
        self.waited = time.monotonic() - self._entered
        self._release()

    async def sent(self) -> None:
        if self._item is not None:
            item, self._item = self._item, None
            self._throttle._restamp(item)

    def _release(self) -> None:
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.release()

    async def __aexit__(self, *exc: Any) -> None:
        self._release()


def _sleep_for(wait_ms: int) -> float:
    """Seconds to sleep before the next put: a little less than asked, because sleeps overshoot by 1-5 ms and
    every ms of overshoot is throughput lost; waking early only costs one more (cheap) put."""
    return max(wait_ms - _EARLY_MS, 1) / 1000.0


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
    key = site_key(base_url)
    table = _table_name(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
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
            contact = SQLiteContactStore(path)
    except (OSError, sqlite3.Error) as exc:
        raise RuntimeError(
            f"cannot open the request throttle's store {path} ({exc}); set {ENV_DB} to a writable file that every "
            f"process on this machine can reach"
        ) from exc
    bucket = SQLiteBucket(rates_for(rate, margin), conn, table, lock=lock)
    update = f"UPDATE '{table}' SET item_timestamp = ? WHERE name = ?"

    def restamp(item: RateItem, now_ms: int) -> None:
        bucket.conn.execute(update, (now_ms, item.name)).close()
        bucket.conn.commit()

    return BucketThrottle(
        bucket, pause, rate=rate, item_name=key, lock=lock, restamp=restamp,
        description=f"sqlite:{path}#{table} at {rate:g}/s", contact=contact,
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
    # The bucket's Lua script counts entries up to the caller's own timestamp, so two machines putting within the
    # same millisecond could both be admitted (each misses the other's slightly later entry). A short Redis lock
    # around "read the clock, put" serialises them, as the file lock does for SQLite.
    lock = client.lock(prefix + ":lock", timeout=10, sleep=0.002, blocking_timeout=30)
    move = client.register_script(_REDIS_RESTAMP)

    def restamp(item: RateItem, now_ms: int) -> None:
        move(keys=[prefix], args=[item.timestamp, item.name + ":", now_ms])

    safe_url = _redact_url(url)
    return BucketThrottle(
        bucket, pause, rate=rate, item_name=key, lock=lock, restamp=restamp,
        description=f"redis:{safe_url}#{prefix} at {rate:g}/s", contact=RedisContactStore(client, prefix),
    )


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
