"""Which catalogue rows become assets: JIRA_ASSETS_INCLUDE / JIRA_ASSETS_EXCLUDE (README "Configuration")."""

from __future__ import annotations

import os

from jira_assets.endpoints import ADMIN_ONLY, BY_NAME, DEFAULT_ENABLED

INCLUDE_ENV = "JIRA_ASSETS_INCLUDE"
EXCLUDE_ENV = "JIRA_ASSETS_EXCLUDE"


def enabled_endpoints(include: str | None = None, exclude: str | None = None) -> list[str]:
    """The endpoints to define as assets, in catalogue order.

    Both are comma-separated endpoint names; the word `default` stands for the endpoints on by default, `all` for
    every endpoint and `admin` for those that need Jira admin rights. Include starts from `default`.
    """
    # Set but empty (as .env files often leave it) means the default set, as unset does.
    include = (os.environ.get(INCLUDE_ENV, "") if include is None else include).strip() or "default"
    exclude = os.environ.get(EXCLUDE_ENV, "") if exclude is None else exclude
    chosen = _expand(include, INCLUDE_ENV)
    dropped = _expand(exclude, EXCLUDE_ENV)
    names = [name for name in BY_NAME if name in chosen and name not in dropped]
    for name in names:
        parent = BY_NAME[name].parent
        if parent and parent.asset not in names:
            raise ValueError(
                f"endpoint {name!r} takes its ids from {parent.asset!r}, which is not enabled: "
                f"enable {parent.asset!r} or exclude {name!r} too ({INCLUDE_ENV} / {EXCLUDE_ENV})"
            )
        for needed in BY_NAME[name].sync.requires:
            if needed not in names:
                raise ValueError(
                    f"table {name!r} is computed from {needed!r}, which is not enabled: "
                    f"enable {needed!r} or exclude {name!r} too ({INCLUDE_ENV} / {EXCLUDE_ENV})"
                )
    return names


def descendants(names: list[str] | set[str]) -> list[str]:
    """The endpoints that take their ids, or are computed, directly or through others, from any of `names`."""
    found: set[str] = set()
    frontier = set(names)
    while frontier:
        frontier = {s.name for s in BY_NAME.values()
                    if (s.parent and s.parent.asset in frontier) or frontier & set(s.sync.requires)} - found
        found |= frontier
    return [n for n in BY_NAME if n in found]


def _expand(words: str, setting: str) -> set[str]:
    groups = {"default": set(DEFAULT_ENABLED), "all": set(BY_NAME), "admin": set(ADMIN_ONLY)}
    out: set[str] = set()
    for word in (w.strip() for w in words.split(",")):
        if not word:
            continue
        if word in groups:
            out |= groups[word]
        elif word in BY_NAME:
            out.add(word)
        else:
            raise ValueError(f"{setting} names an unknown endpoint {word!r}: use default, all, admin or endpoint "
                             f"names ({', '.join(BY_NAME)})")
    return out
