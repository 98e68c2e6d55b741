"""Jira's timestamp forms. Jira renders every timestamp in the calling user's time zone with its offset
(`2023-04-04T06:30:12.345-0700`, `-0800` once daylight saving ends, `+0530`); the simulator's caller is in
Australia/Sydney, so its timestamps read `+1100` in summer and `+1000` in winter. Internally every instant stays
epoch milliseconds; only rendering knows the zone.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

# the zone of the calling user (demo@example.com), the one Jira renders timestamps in
CALLER_TZ = "Australia/Sydney"

_QUARTER_HOUR = 900_000


class ZoneOffsets:
    """A zone's UTC offset at an instant, memoized per UTC quarter hour: every zone in use changes its offset on a
    quarter hour, and rendering is on the request path (thousands of timestamps a page)."""

    def __init__(self, name: str):
        self.zone = ZoneInfo(name)
        self._memo: dict[int, tuple[int, str, str]] = {}

    def at(self, ms: int) -> tuple[int, str, str]:
        """(offset ms, "+1100", "+11:00") at instant `ms`."""
        q = ms // _QUARTER_HOUR
        hit = self._memo.get(q)
        if hit is None:
            off = datetime.fromtimestamp(q * 900, self.zone).utcoffset()
            secs = int(off.total_seconds()) if off is not None else 0
            sign = "-" if secs < 0 else "+"
            hh, mm = divmod(abs(secs) // 60, 60)
            hit = self._memo[q] = (secs * 1000, f"{sign}{hh:02d}{mm:02d}", f"{sign}{hh:02d}:{mm:02d}")
        return hit


CALLER = ZoneOffsets(CALLER_TZ)


def fmt_ms(ms: int) -> str:
    """Jira's REST timestamp in the caller's zone, e.g. 2025-01-10T20:15:32.123+1100."""
    off, short, _ = CALLER.at(ms)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((ms + off) // 1000)) + ".%03d" % (ms % 1000) + short


def fmt_agile(ms: int) -> str:
    """The Agile API's form for sprint dates, in the caller's zone with a colon: 2025-01-27T20:00:00.000+11:00."""
    off, _, colon = CALLER.at(ms)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((ms + off) // 1000)) + ".%03d" % (ms % 1000) + colon


def fmt_utc_z(ms: int) -> str:
    """UTC with a Z, the form of the sprint objects inside an issue's Sprint field (Jira Software serializes them
    itself, not in the caller's zone): 2025-01-27T09:00:00.000Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def fmt_date(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms // 1000))


def fmt_user_date(ms: int) -> str:
    """A date as Jira shows it to people (versions' userReleaseDate, date fields in changelog strings): 31/Jan/25."""
    return time.strftime("%d/%b/%y", time.gmtime(ms // 1000))


def fmt_user_datetime(ms: int) -> str:
    """A date-time as Jira shows it to the caller (datetime fields in changelog strings): 31/Jan/25 9:05 AM."""
    off, _, _ = CALLER.at(ms)
    tm = time.gmtime((ms + off) // 1000)
    return time.strftime("%d/%b/%y ", tm) + f"{(tm.tm_hour - 1) % 12 + 1}:{tm.tm_min:02d} " + \
        ("AM" if tm.tm_hour < 12 else "PM")
