"""How far one sync has got, updated by the fetcher as it streams and read by whoever reports it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class SyncProgress:
    rows: int = 0
    requests: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started
