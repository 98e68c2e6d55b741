"""Fault injection, Jira's burst rate limits and the request log, as one ASGI middleware.

How __main__.py wires it (no custom uvicorn protocol class is needed):

    from jira_sim.faults import FaultMiddleware, add_fault_arguments, fault_config_from_args
    add_fault_arguments(parser)                      # after --seed/--latency-ms/--request-log are defined
    args = parser.parse_args()
    faults = FaultMiddleware(starlette_app, fault_config_from_args(args), request_log=args.request_log,
                             seed=args.seed)
    uvicorn.Config(faults, host=..., port=..., ...)   # the middleware is the outermost ASGI app
    # POST /__sim/faults:  faults.config = FaultConfig.from_dict(body)   (ValueError -> 400)
    # GET  /__sim/faults:  faults.config.to_dict()
    # GET  /__sim/stats:   faults.stats()  -> {"requests": N, "by_path": {...}, "by_status": {...}}
    # on shutdown:         faults.close()  (closes the request log)

Order of decisions for each request (paths under /__sim/ pass through untouched, are not counted and not logged):

1. ``revoke_token`` -> 401 text ``Client must be authenticated to access this resource.`` (through the API gateway,
   ``/ex/jira/{cloudId}/...``, the gateway's JSON ``{"code":401,"message":"Unauthorized"}``); ``/_edge/tenant_info``
   and ``/oauth/token`` take no API token and are not revoked.
2. ``deny_paths`` (path prefixes) -> 403 ErrorCollection.

Path prefixes (``deny_paths``, ``fail_first``) match the path as requested or its site form (a gateway request
``/ex/jira/{cloudId}/rest/api/2/myself`` matches ``/rest/api/2/myself``), and burst buckets key on the site form:
the gateway reaches the same site, under the same limits.
3. ``fail_first`` {path prefix: [status, ...]}: the n-th request to a prefix (counted since the config was set) gets
   the n-th entry. Entries: an HTTP status (429 gets the full rate-limit treatment, 5xx/4xx an error body),
   ``"reset"``, ``"truncate"``, ``"html429"``, or ``0``/``"ok"`` to let that request through.
4. ``throttle_storm`` (the next N requests) / ``throttle_storm_seconds`` (a window starting when the config is set)
   -> 429.
5. Jira's per-endpoint, per-method burst limit: a token bucket (capacity = limit, refill = limit per second) keyed by
   method + path template (numeric ids and issue keys -> ``{id}``). ``burst_limit`` (default 100, like Jira; 0 turns
   it off) is the GET/POST rate, PUT/DELETE/PATCH get half; Jira's documented overrides scale with it: changelog
   endpoints (GET issue/{id}/changelog, POST changelog/bulkfetch) and GET component, GET issuesecurityschemes/{id}
   x2, GET issue/{id}, GET user and POST search/approximate-count x1.5. Answers 429 with ``Retry-After`` (seconds
   until a token is back, at least 1, unless ``retry_after_seconds`` is set), ``X-RateLimit-Limit``,
   ``X-RateLimit-Remaining: 0``, ``X-RateLimit-Reset`` (ISO instant) and ``RateLimit-Reason: jira-burst-based``.
6. Random faults: ``throttle_rate`` (429), else ``error_rate`` (a status from ``error_statuses``, uniformly), else
   ``reset_rate``, else ``truncate_rate``; ``slow_body_ms`` applies to a ``slow_body_rate`` share of the rest.

Every 429 (from any step) has an HTML "Oops - an error has occurred" error429 body with probability
``html_429_rate``, else Jira's JSON ``{"errorMessages":["The request has been rate-limited. Please try again
later."],"errors":{},"status":429}``. ``retry_after_http_date`` sends Retry-After as an HTTP-date instead of seconds.
Added latency (``latency_ms`` + uniform [0, ``latency_jitter_ms``)) applies to every non-/__sim/ request, faulted
or not. Successful responses carry ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining`` from the bucket.

Determinism: every non-/__sim/ request draws exactly ``DRAWS_PER_REQUEST`` floats from ``random.Random(seed)`` at
arrival (synchronously, before any await), whether or not a rate is set, so the decisions for the k-th request
after the config was (re)set are a pure function of (seed, k, config). Setting ``middleware.config`` re-seeds the
generator (``config.seed`` if given, else the middleware's ``seed``) and restarts the storm and fail_first counters;
burst buckets persist (they model real time).

Resets and truncation are real connection faults, not 500s: the middleware finds the connection's asyncio transport
(``scope["extensions"]["jira_sim.transport"]`` if a server provides it, else the ``transport`` attribute of the
uvicorn request cycle that owns ``receive`` -- true for uvicorn's h11 and httptools protocols, HTTP and HTTPS).
A reset sets SO_LINGER(on, 0) and aborts the transport before any byte of the response, so the peer gets a TCP RST:
httpx raises ``ReadError`` over plain HTTP (over TLS it sees ``RemoteProtocolError`` "Server disconnected without
sending a response"). A truncation sends the status line and headers with the full ``Content-Length``, about half of
the body, then closes the connection (FIN after the partial body): httpx raises ``RemoteProtocolError`` "peer closed
connection without sending complete message body". The request is not passed to the app for a reset; for a
truncation it is. Without a reachable transport (another server) both fall back to "headers with Content-Length,
then return without the body", which uvicorn answers by closing the connection.

Request log (``request_log`` path): one JSON object per line per non-/__sim/ request:
``{"t": time.monotonic() at arrival, "method", "path", "query", "status", "bytes"}`` with status as answered (0 for a
reset) and bytes = response body bytes actually sent; injected faults add ``"fault": "<kind>"`` (throttle, burst,
storm, error, reset, truncate, slow, revoked, denied, fail_first). Each line is written and flushed just *before* the
response's last bytes are sent, so once a client has its response, the line is in the file. Lines are therefore in
completion order, not arrival order. time.monotonic() is CLOCK_MONOTONIC on Linux, so other processes on the machine
can compare it with their own time.monotonic().
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import random
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from typing import Any, Awaitable, Callable

__all__ = [
    "FaultConfig",
    "FaultMiddleware",
    "add_fault_arguments",
    "fault_config_from_args",
    "DRAWS_PER_REQUEST",
    "RATE_LIMITED_MESSAGE",
    "UNAUTHENTICATED_TEXT",
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

DRAWS_PER_REQUEST = 8
RATE_LIMITED_MESSAGE = "The request has been rate-limited. Please try again later."
UNAUTHENTICATED_TEXT = "Client must be authenticated to access this resource."
_DENIED_MESSAGE = "You are not authorized to perform this action. Administrator privileges are required."
_SIM_PREFIX = "/__sim/"
_SPECIAL_ENTRIES = {"reset", "truncate", "html429", "ok"}

_HTML_429 = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Oops - an error has occurred</title>
</head>
<body id="jira" class=" error-page error429">
<div id="page"><div id="content"><div class="aui-page-panel"><div class="aui-page-panel-inner">
<section class="aui-page-panel-content">
<div class="error-image"></div>
<h1>Oops - an error has occurred</h1>
<p>Rate limit exceeded.</p>
<p>The request has been rate-limited. Please try again later.</p>
</section></div></div></div></div>
</body>
</html>
"""

_GATEWAY_HTML = """<!DOCTYPE html>
<html><head><title>{status} {reason}</title></head>
<body><h1>{reason}</h1><p>The server encountered a temporary error and could not complete your request.</p></body>
</html>
"""

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


# --------------------------------------------------------------------------------------------------------------------
# configuration

@dataclass
class FaultConfig:
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=lambda: [500, 502, 503, 504])
    throttle_rate: float = 0.0
    throttle_storm: int = 0  # the next N requests all answer 429
    throttle_storm_seconds: float = 0.0  # every request answers 429 for this long after the config is set
    retry_after_seconds: float | None = None  # None: 1 s for injected 429s, time-to-next-token for burst 429s
    retry_after_http_date: bool = False
    html_429_rate: float = 0.0
    reset_rate: float = 0.0
    truncate_rate: float = 0.0
    slow_body_ms: float = 0.0  # pause before each of the body's SLOW_BODY_CHUNKS chunks
    slow_body_rate: float = 1.0
    burst_limit: float = 100.0  # Jira's per-endpoint GET/POST burst rate; 0 = off
    revoke_token: bool = False
    deny_paths: list[str] = field(default_factory=list)
    fail_first: dict[str, list[int | str]] = field(default_factory=dict)
    seed: int | None = None

    SLOW_BODY_CHUNKS = 4  # class constant, not a field

    def __post_init__(self) -> None:
        for name in ("error_rate", "throttle_rate", "html_429_rate", "reset_rate", "truncate_rate",
                     "slow_body_rate"):
            v = float(getattr(self, name))
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {v}")
            setattr(self, name, v)
        for name in ("latency_ms", "latency_jitter_ms", "slow_body_ms", "burst_limit", "throttle_storm_seconds"):
            v = float(getattr(self, name))
            if v < 0:
                raise ValueError(f"{name} must not be negative")
            setattr(self, name, v)
        self.throttle_storm = int(self.throttle_storm)
        if self.retry_after_seconds is not None:
            self.retry_after_seconds = float(self.retry_after_seconds)
        self.error_statuses = [int(s) for s in self.error_statuses]
        if not self.error_statuses:
            raise ValueError("error_statuses must not be empty")
        if isinstance(self.deny_paths, str):
            self.deny_paths = [self.deny_paths]
        self.deny_paths = [str(p) for p in self.deny_paths]
        ff: dict[str, list[int | str]] = {}
        for prefix, entries in dict(self.fail_first).items():
            out: list[int | str] = []
            for e in entries:
                if isinstance(e, str) and e.lower() in _SPECIAL_ENTRIES:
                    out.append(e.lower())
                elif isinstance(e, str) and e.isdigit() or isinstance(e, int):
                    out.append(int(e))
                else:
                    raise ValueError(f"fail_first entry {e!r} must be a status or one of {sorted(_SPECIAL_ENTRIES)}")
            ff[str(prefix)] = out
        self.fail_first = ff
        if self.seed is not None:
            self.seed = int(self.seed)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "FaultConfig":
        """Build from a JSON body (``POST /__sim/faults``); keys as the fields or the CLI flags (``-`` or ``_``).
        Raises ValueError on unknown keys or bad values."""
        names = {f.name for f in dataclasses.fields(cls)}
        aliases = {"retry_after": "retry_after_seconds", "fault_seed": "seed", "deny_path": "deny_paths"}
        kwargs: dict[str, Any] = {}
        for key, value in (data or {}).items():
            k = str(key).lstrip("-").replace("-", "_")
            k = aliases.get(k, k)
            if k not in names:
                raise ValueError(f"unknown fault setting {key!r}")
            kwargs[k] = value
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ValueError(str(exc)) from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """Fault flags. ``--latency-ms``, ``--seed`` and ``--request-log`` belong to the CLI owner; they are read by
    ``fault_config_from_args`` if present."""
    g = parser.add_argument_group("faults (see jira_sim/faults.py)")
    g.add_argument("--latency-jitter-ms", type=float, default=0.0, help="extra uniform random latency [0, N) ms")
    g.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered 500/502/503/504")
    g.add_argument("--error-statuses", default="500,502,503,504", help="comma list the error rate draws from")
    g.add_argument("--throttle-rate", type=float, default=0.0, help="share of requests answered 429")
    g.add_argument("--throttle-storm", type=int, default=0, help="the first N requests all answer 429")
    g.add_argument("--throttle-storm-seconds", type=float, default=0.0, help="answer every request 429 for S s")
    g.add_argument("--retry-after", type=float, default=None, help="Retry-After seconds on 429 (and 503)")
    g.add_argument("--retry-after-http-date", action="store_true", help="send Retry-After as an HTTP-date")
    g.add_argument("--html-429-rate", type=float, default=0.0, help="share of 429s with Jira's HTML error page")
    g.add_argument("--reset-rate", type=float, default=0.0, help="share of connections reset with no response")
    g.add_argument("--truncate-rate", type=float, default=0.0, help="share of bodies cut short, then connection closed")
    g.add_argument("--slow-body-ms", type=float, default=0.0, help="pause before each of 4 body chunks")
    g.add_argument("--slow-body-rate", type=float, default=1.0, help="share of responses slowed by --slow-body-ms")
    g.add_argument("--burst-limit", type=float, default=100.0,
                   help="per-endpoint GET/POST burst limit in requests/s like Jira (changelog x2); 0 = off")
    g.add_argument("--revoke-token", action="store_true", help="answer every request 401 (revoked token)")
    g.add_argument("--deny-path", action="append", default=[], metavar="PREFIX",
                   help="answer requests under PREFIX with 403 (repeatable)")
    g.add_argument("--fail-first", type=json.loads, default={}, metavar="JSON",
                   help='e.g. \'{"/rest/api/2/myself": [503, 429]}\' statuses for the first requests to a prefix')
    g.add_argument("--fault-seed", type=int, default=None, help="seed for fault decisions (default: --seed)")


def fault_config_from_args(args: argparse.Namespace) -> FaultConfig:
    seed = args.fault_seed if getattr(args, "fault_seed", None) is not None else getattr(args, "seed", None)
    return FaultConfig(
        latency_ms=getattr(args, "latency_ms", 0.0) or 0.0,
        latency_jitter_ms=args.latency_jitter_ms,
        error_rate=args.error_rate,
        error_statuses=[int(s) for s in str(args.error_statuses).split(",") if s.strip()],
        throttle_rate=args.throttle_rate,
        throttle_storm=args.throttle_storm,
        throttle_storm_seconds=args.throttle_storm_seconds,
        retry_after_seconds=args.retry_after,
        retry_after_http_date=args.retry_after_http_date,
        html_429_rate=args.html_429_rate,
        reset_rate=args.reset_rate,
        truncate_rate=args.truncate_rate,
        slow_body_ms=args.slow_body_ms,
        slow_body_rate=args.slow_body_rate,
        burst_limit=args.burst_limit,
        revoke_token=args.revoke_token,
        deny_paths=list(args.deny_path or []),
        fail_first=dict(args.fail_first or {}),
        seed=seed,
    )


# --------------------------------------------------------------------------------------------------------------------
# burst limits

# the API gateway form /ex/jira/{cloudId}/rest/... reaches the same site: same buckets, same path prefixes
_GATEWAY_PREFIX = "/ex/jira/"
# what needs no API token: the tenant_info lookup and the OAuth token endpoint (a revoked token changes neither)
_NO_CREDENTIALS = ("/_edge/", "/oauth/")


def site_path(path: str) -> str:
    """``/ex/jira/<cloudId>/rest/api/2/myself`` -> ``/rest/api/2/myself``; other paths unchanged."""
    if not path.startswith(_GATEWAY_PREFIX):
        return path
    tail = path[len(_GATEWAY_PREFIX):].partition("/")[2]
    return "/" + tail


_ID_SEGMENT = re.compile(r"^(\d+|[A-Za-z][A-Za-z0-9_]*-\d+)$")
# (method, template regex, factor relative to the GET/POST default) -- Jira's documented per-endpoint overrides
_OVERRIDES: list[tuple[str, re.Pattern[str], float]] = [
    ("GET", re.compile(r"^/rest/api/[23]/issue/\{id\}/changelog$"), 2.0),
    ("POST", re.compile(r"^/rest/api/[23]/changelog/bulkfetch$"), 2.0),
    ("GET", re.compile(r"^/rest/api/[23]/component(/\{id\})?$"), 2.0),
    ("GET", re.compile(r"^/rest/api/[23]/issuesecurityschemes/\{id\}$"), 2.0),
    ("GET", re.compile(r"^/rest/api/[23]/issue/\{id\}$"), 1.5),
    ("GET", re.compile(r"^/rest/api/[23]/user$"), 1.5),
    ("POST", re.compile(r"^/rest/api/[23]/search/approximate-count$"), 1.5),
]


def endpoint_template(path: str) -> str:
    """``/rest/api/2/issue/10001/comment`` -> ``/rest/api/2/issue/{id}/comment`` (the API version stays)."""
    segs = path.rstrip("/").split("/")
    out = [("{id}" if _ID_SEGMENT.match(seg) and (i == 0 or segs[i - 1] != "api") else seg)
           for i, seg in enumerate(segs)]
    return "/".join(out) or "/"


def burst_rate(method: str, template: str, base: float) -> float:
    for m, rx, factor in _OVERRIDES:
        if m == method and rx.match(template):
            return base * factor
    return base / 2 if method in ("PUT", "DELETE", "PATCH") else base


class _Bucket:
    __slots__ = ("rate", "tokens", "stamp")

    def __init__(self, rate: float, now: float):
        self.rate = rate
        self.tokens = rate
        self.stamp = now

    def take(self, rate: float, now: float) -> tuple[bool, float]:
        """-> (allowed, seconds until the next token when refused)."""
        if rate != self.rate:  # limit changed at runtime: keep the fill ratio
            self.tokens = self.tokens * rate / self.rate if self.rate else rate
            self.rate = rate
        self.tokens = min(rate, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True, 0.0
        return False, (1.0 - self.tokens) / rate


# --------------------------------------------------------------------------------------------------------------------
# middleware

@dataclass
class _Plan:
    kind: str = "pass"  # pass | respond | reset | truncate | slow
    fault: str | None = None
    status: int = 200
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    delay: float = 0.0  # seconds of added latency
    limit_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class FaultMiddleware:
    def __init__(self, app: Callable, config: FaultConfig | None = None, request_log: str | None = None,
                 seed: int = 0, clock: Callable[[], float] = time.monotonic):
        self.app = app
        self.seed = seed
        self.clock = clock  # drives burst buckets and storm windows; tests pass a frozen clock for exact counts
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._log_lock = threading.Lock()
        self._log = open(request_log, "a", encoding="utf-8", buffering=1) if request_log else None
        self._requests = 0
        self._by_path: dict[str, int] = {}
        self._by_status: dict[str, int] = {}
        self.config = config or FaultConfig()

    # ---- runtime config ----
    @property
    def config(self) -> FaultConfig:
        return self._config

    @config.setter
    def config(self, value: FaultConfig) -> None:
        if isinstance(value, dict):
            value = FaultConfig.from_dict(value)
        self._config = value
        self._rng = random.Random(value.seed if value.seed is not None else self.seed)
        self._storm_left = value.throttle_storm
        self._storm_until = self.clock() + value.throttle_storm_seconds if value.throttle_storm_seconds else 0.0
        self._fail_counts = {prefix: 0 for prefix in value.fail_first}

    def stats(self) -> dict[str, Any]:
        return {"requests": self._requests, "by_path": dict(self._by_path), "by_status": dict(self._by_status)}

    def close(self) -> None:
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    # ---- ASGI ----
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("path", "").startswith(_SIM_PREFIX):
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        plan = self._plan(scope, self.clock())  # synchronous: decisions follow arrival order exactly
        self._requests += 1
        path = scope.get("path", "")
        self._by_path[path] = self._by_path.get(path, 0) + 1
        rec = _Record(self, arrived, scope, plan.fault)
        try:
            if plan.delay > 0:
                await asyncio.sleep(plan.delay)
            if plan.kind == "respond":
                headers = plan.headers + [(b"content-length", str(len(plan.body)).encode())]
                await send({"type": "http.response.start", "status": plan.status, "headers": headers})
                rec.done(plan.status, len(plan.body))
                await send({"type": "http.response.body", "body": plan.body})
            elif plan.kind == "reset":
                rec.done(0, 0)
                await self._reset(scope, receive, send)
            else:
                await self._run_app(scope, receive, send, plan, rec)
        finally:
            rec.done(rec.status, rec.sent)  # no-op unless the response never completed (app error, disconnect)

    def _plan(self, scope: Scope, now: float) -> _Plan:
        cfg = self._config
        draws = [self._rng.random() for _ in range(DRAWS_PER_REQUEST)]
        u_throttle, u_error, u_status, u_reset, u_truncate, u_slow, u_html, u_jitter = draws
        path = scope.get("path", "")
        site = site_path(path)
        method = scope.get("method", "GET").upper()
        delay = (cfg.latency_ms + u_jitter * cfg.latency_jitter_ms) / 1000.0

        template = endpoint_template(site)
        rate = burst_rate(method, template, cfg.burst_limit) if cfg.burst_limit > 0 else 0.0

        def too_many(fault: str, retry: float | None = None, reason: str | None = None) -> _Plan:
            return self._plan_429(fault, delay, u_html, retry, reason, rate)

        if cfg.revoke_token and path.startswith(_GATEWAY_PREFIX):
            return _Plan("respond", "revoked", 401, _json_headers(), b'{"code":401,"message":"Unauthorized"}', delay)
        if cfg.revoke_token and not path.startswith(_NO_CREDENTIALS):
            return _Plan("respond", "revoked", 401, [(b"content-type", b"text/plain;charset=UTF-8"),
                                                      (b"x-seraph-loginreason", b"AUTHENTICATED_FAILED"),
                                                      (b"www-authenticate", b'Basic realm="protected-area"')],
                         UNAUTHENTICATED_TEXT.encode(), delay)
        if any(path.startswith(p) or site.startswith(p) for p in cfg.deny_paths):
            return _Plan("respond", "denied", 403, _json_headers(),
                         _error_collection([_DENIED_MESSAGE], status=None), delay)
        for prefix, entries in cfg.fail_first.items():
            if path.startswith(prefix) or site.startswith(prefix):
                n = self._fail_counts[prefix]
                if n < len(entries):
                    self._fail_counts[prefix] = n + 1
                    entry = entries[n]
                    if entry in (0, "ok"):
                        break
                    if entry == "reset":
                        return _Plan("reset", "fail_first", 0, delay=delay)
                    if entry == "truncate":
                        return _Plan("truncate", "fail_first", delay=delay,
                                     limit_headers=self._peek_limit_headers(method, template, rate))
                    if entry == "html429":
                        return self._plan_429("fail_first", delay, 0.0, None, None, rate, force_html=True)
                    if entry == 429:
                        return too_many("fail_first")
                    return self._plan_error("fail_first", int(entry), delay)
                break
        if self._storm_left > 0:
            self._storm_left -= 1
            return too_many("storm")
        if self._storm_until and now < self._storm_until:
            return too_many("storm")
        limit_headers: list[tuple[bytes, bytes]] = []
        if rate > 0:
            bucket = self._buckets.get((method, template))
            if bucket is None:
                bucket = self._buckets[(method, template)] = _Bucket(rate, now)
            ok, wait = bucket.take(rate, now)
            if not ok:
                return too_many("burst", retry=max(1, math.ceil(wait)), reason="jira-burst-based")
            limit_headers = [(b"x-ratelimit-limit", _num(rate)),
                             (b"x-ratelimit-remaining", str(int(bucket.tokens)).encode())]
        if u_throttle < cfg.throttle_rate:
            return too_many("throttle")
        if u_error < cfg.error_rate:
            status = cfg.error_statuses[min(int(u_status * len(cfg.error_statuses)), len(cfg.error_statuses) - 1)]
            return self._plan_error("error", status, delay)
        if u_reset < cfg.reset_rate:
            return _Plan("reset", "reset", 0, delay=delay)
        if u_truncate < cfg.truncate_rate:
            return _Plan("truncate", "truncate", delay=delay, limit_headers=limit_headers)
        if cfg.slow_body_ms > 0 and u_slow < cfg.slow_body_rate:
            return _Plan("slow", "slow", delay=delay, limit_headers=limit_headers)
        return _Plan("pass", None, delay=delay, limit_headers=limit_headers)

    def _peek_limit_headers(self, method: str, template: str, rate: float) -> list[tuple[bytes, bytes]]:
        bucket = self._buckets.get((method, template))
        if rate <= 0:
            return []
        remaining = int(bucket.tokens) if bucket else int(rate)
        return [(b"x-ratelimit-limit", _num(rate)), (b"x-ratelimit-remaining", str(remaining).encode())]

    def _retry_after_value(self, seconds: float) -> bytes:
        if self._config.retry_after_http_date:
            return formatdate(time.time() + seconds, usegmt=True).encode()
        return _num(seconds)

    def _plan_429(self, fault: str, delay: float, u_html: float, retry: float | None, reason: str | None,
                  rate: float, force_html: bool = False) -> _Plan:
        cfg = self._config
        seconds = cfg.retry_after_seconds if cfg.retry_after_seconds is not None else (retry or 1)
        reset_at = datetime.now(timezone.utc) + timedelta(seconds=max(seconds, 1))
        headers = [
            (b"retry-after", self._retry_after_value(seconds)),
            (b"x-ratelimit-limit", _num(rate if rate > 0 else 100)),
            (b"x-ratelimit-remaining", b"0"),
            (b"x-ratelimit-reset", reset_at.strftime("%Y-%m-%dT%H:%M:%SZ").encode()),
            (b"ratelimit-reason", (reason or "jira-burst-based").encode()),
        ]
        if force_html or u_html < cfg.html_429_rate:
            headers.append((b"content-type", b"text/html;charset=UTF-8"))
            body = _HTML_429.encode()
        else:
            headers.extend(_json_headers())
            body = _error_collection([RATE_LIMITED_MESSAGE], status=429)
        return _Plan("respond", fault, 429, headers, body, delay)

    def _plan_error(self, fault: str, status: int, delay: float) -> _Plan:
        headers: list[tuple[bytes, bytes]] = []
        if status in (502, 504):  # gateway errors come from Atlassian's edge as HTML
            reason = _REASONS.get(status, "Error")
            headers.append((b"content-type", b"text/html;charset=UTF-8"))
            body = _GATEWAY_HTML.format(status=status, reason=reason).encode()
        elif status == 401:
            headers.append((b"content-type", b"text/plain;charset=UTF-8"))
            body = UNAUTHENTICATED_TEXT.encode()
        else:
            headers.extend(_json_headers())
            msg = {500: "Internal server error", 503: "Service unavailable. Please try again later.",
                   403: _DENIED_MESSAGE, 404: "The requested resource could not be found.",
                   400: "Bad request."}.get(status, _REASONS.get(status, "Error"))
            body = _error_collection([msg], status=None)
        if status == 503 and self._config.retry_after_seconds is not None:
            headers.append((b"retry-after", self._retry_after_value(self._config.retry_after_seconds)))
        return _Plan("respond", fault, status, headers, body, delay)

    # ---- response paths ----
    async def _run_app(self, scope: Scope, receive: Receive, send: Send, plan: _Plan, rec: "_Record") -> None:
        if plan.kind == "pass":
            async def passthrough(message: dict) -> None:
                if message["type"] == "http.response.start":
                    rec.status = message["status"]
                    message = _with_headers(message, plan.limit_headers)
                elif message["type"] == "http.response.body":
                    rec.sent += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        rec.done(rec.status, rec.sent)  # log before the last bytes leave: readers never lag
                await send(message)

            await self.app(scope, receive, passthrough)
            return

        # truncate / slow: buffer the whole response, then misbehave
        start: dict | None = None
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None:
            return
        body = b"".join(chunks)
        status = start["status"]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if plan.kind == "truncate":
            promised = max(len(body), 2)
            part = body[: len(body) // 2]
            headers.append((b"content-length", str(promised).encode()))
            await send(_with_headers({**start, "headers": headers}, plan.limit_headers))
            rec.done(status, len(part))
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await self._abort(scope, receive, rst=False)
            return
        headers.append((b"content-length", str(len(body)).encode()))
        await send(_with_headers({**start, "headers": headers}, plan.limit_headers))
        rec.status = status
        n = FaultConfig.SLOW_BODY_CHUNKS
        step = max(1, math.ceil(len(body) / n))
        pieces = [body[i:i + step] for i in range(0, len(body), step)] or [b""]
        for i, piece in enumerate(pieces):
            await asyncio.sleep(self._config.slow_body_ms / 1000.0)
            last = i == len(pieces) - 1
            if last:
                rec.done(status, len(body))
            else:
                rec.sent += len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": not last})

    async def _reset(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self._abort(scope, receive, rst=True):
            # no transport reachable: promise a body and never send it; the server closes the connection
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"64"), (b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b"", "more_body": True})

    @staticmethod
    async def _abort(scope: Scope, receive: Receive, rst: bool) -> bool:
        """Drop the connection: with ``rst`` a TCP reset before anything is sent; else a plain close after what was
        already written (so the peer reads the partial body, then EOF)."""
        cycle = getattr(receive, "__self__", None)
        transport = (scope.get("extensions") or {}).get("jira_sim.transport")
        if transport is None:
            transport = getattr(cycle, "transport", None)
        if transport is None or not hasattr(transport, "abort"):
            return False
        if rst:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                try:  # linger 0: closing sends RST instead of FIN -> "connection reset by peer"
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            transport.abort()
        else:
            transport.close()  # flushes the partial body, then FIN
        # let the server's connection_lost mark the cycle disconnected, so it neither sends a 500 nor logs an error
        for _ in range(200):
            await asyncio.sleep(0 if _ < 3 else 0.005)
            if getattr(cycle, "disconnected", True):
                break
        return True

    # ---- request log ----
    def _write_log(self, arrived: float, scope: Scope, status: int, sent: int, fault: str | None) -> None:
        if self._log is None:
            return
        qs = scope.get("query_string", b"")
        entry: dict[str, Any] = {
            "t": arrived,
            "method": scope.get("method", ""),
            "path": scope.get("path", ""),
            "query": qs.decode("latin-1") if isinstance(qs, (bytes, bytearray)) else str(qs),
            "status": status,
            "bytes": sent,
        }
        if fault:
            entry["fault"] = fault
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._log_lock:
            if self._log is not None:
                self._log.write(line)
                self._log.flush()


class _Record:
    """One request's log line and stats, written exactly once (just before the response's last bytes go out)."""

    __slots__ = ("mw", "arrived", "scope", "fault", "status", "sent", "written")

    def __init__(self, mw: FaultMiddleware, arrived: float, scope: Scope, fault: str | None):
        self.mw, self.arrived, self.scope, self.fault = mw, arrived, scope, fault
        self.status, self.sent, self.written = 0, 0, False

    def done(self, status: int, sent: int) -> None:
        if self.written:
            return
        self.written = True
        self.status, self.sent = status, sent
        self.mw._by_status[str(status)] = self.mw._by_status.get(str(status), 0) + 1
        self.mw._write_log(self.arrived, self.scope, status, sent, self.fault)


def _num(x: float) -> bytes:
    return (str(int(x)) if float(x).is_integer() else f"{x:g}").encode()


def _json_headers() -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json;charset=UTF-8")]


def _error_collection(messages: list[str], status: int | None) -> bytes:
    body: dict[str, Any] = {"errorMessages": messages, "errors": {}}
    if status is not None:
        body["status"] = status
    return json.dumps(body, separators=(",", ":")).encode()


def _with_headers(message: dict, extra: list[tuple[bytes, bytes]]) -> dict:
    if not extra:
        return message
    have = {k.lower() for k, _ in message.get("headers", [])}
    headers = list(message.get("headers", [])) + [(k, v) for k, v in extra if k not in have]
    return {**message, "headers": headers}
