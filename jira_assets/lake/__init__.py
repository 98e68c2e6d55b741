"""Sink side: Arrow batches -> Iceberg tables (pyiceberg). Knows nothing about the source.

Names are imported lazily so `jira_assets.lake.arrow` / `.writer` do not pull in Dagster.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Column": "arrow",
    "records_to_batch": "arrow",
    "schema_for": "arrow",
    "LakeWriter": "writer",
    "TableWrite": "writer",
    "WriteResult": "writer",
    "open_catalog": "writer",
    "read_summary": "writer",
    "last_committed_property": "writer",
    "IcebergIOManager": "io_manager",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
