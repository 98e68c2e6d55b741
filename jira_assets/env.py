"""Numbers read from environment variables, with an error that names the variable and what it must be."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping


def env_number(name: str, default: float, *, kind: type = float, minimum: float = 0, above: float | None = None,
               what: str = "a number", env: Mapping[str, str] | None = None):
    """`kind(env[name])` (the process environment by default), `default` when unset or empty; ValueError unless it
    parses, is finite, is >= minimum and, when `above` is given, is greater than it."""
    raw = (os.environ if env is None else env).get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be {what}, got {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be {what}, got {raw!r}")
    if above is not None and not value > above:
        raise ValueError(f"{name} must be {what} greater than {above:g}, got {raw!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value
