"""The lists Jira embeds in an issue (`fields.issuelinks`, `fixVersions`, `versions`, `components`, `labels`, the
Sprint field), read as records of their own: each returns (record, computed values) pairs. Source side: shapes only.
"""

from __future__ import annotations

from typing import Any

Items = list[tuple[dict, dict[str, Any]]]


def objects(items: list) -> Items:
    """Lists of objects, each a record as Jira sent it (versions, components)."""
    return [(item, {}) for item in items if isinstance(item, dict)]


def links(items: list) -> Items:
    """Issue links: which way the link points from this issue, and the issue at its other end."""
    out: Items = []
    for link in items:
        if not isinstance(link, dict):
            continue
        inward = "inwardIssue" in link
        other = link.get("inwardIssue" if inward else "outwardIssue") or {}
        out.append((link, {"direction": "inward" if inward else "outward", "other_issue_id": other.get("id"),
                           "other_issue_key": other.get("key")}))
    return out


def labels(items: list) -> Items:
    """Labels are bare strings: each becomes `{"label": ...}`."""
    return [({"label": label}, {}) for label in items if isinstance(label, str)]


def sprints(items: list) -> Items:
    """The Sprint field's sprints, and which one is current: the last that is not closed (Jira lists them in order,
    the issue's open sprint last)."""
    sprint_objects = [s for s in items if isinstance(s, dict)]
    open_ = [s for s in sprint_objects if s.get("state") != "closed"]
    current = open_[-1].get("id") if open_ else None
    return [(s, {"is_current": current is not None and s.get("id") == current}) for s in sprint_objects]
