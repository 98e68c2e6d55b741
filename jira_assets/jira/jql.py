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



def without_order_by(jql: str) -> str:
    """A JQL query without its ORDER BY clause (outside quoted strings): what a filter copied from Jira often has,
    and what cannot stand inside the parentheses the sync puts a filter in."""
    quote = ""
    i = 0
    while i < len(jql):
        ch = jql[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "oO" and jql[i:i + 5].lower() == "order" and (i == 0 or not jql[i - 1].isalnum()):
            rest = jql[i + 5:]
            if rest[:1].isspace() and rest.lstrip().lower().startswith("by") and rest.lstrip()[2:3] in ("", " ", "\t", "\n"):
                return jql[:i].rstrip()
        i += 1
    return jql.strip()
