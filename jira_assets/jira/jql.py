"""JQL literals as Jira reads them: dates in the caller's time zone at minute precision, or epoch milliseconds."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def jql_minute(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as a JQL date literal: the caller's wall-clock time, floored to the minute."""
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def epoch_ms(moment: datetime) -> int:
    """An instant as epoch milliseconds, which JQL compares without any time zone."""
    return int(moment.timestamp() * 1000)


def floor_minute(moment: datetime) -> datetime:
    """Jira compares JQL dates at minute precision; every modern UTC offset is whole minutes, so UTC flooring
    equals flooring in the user's time zone."""
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0)

