"""What the executor's fork server imports once, so every step process forked from it starts with it imported:
the modules this code location is built from (not a Definitions object: in a `dg` project the component's
instances are, not the environment's), and the parts of Dagster a step process loads to reach its instance (storage, logs, compute
log capture), which the code location itself does not import."""

import dagster._core.storage.event_log.sqlite  # noqa: F401
import dagster._core.storage.local_compute_log_manager  # noqa: F401
import dagster._core.storage.runs.sqlite  # noqa: F401
import dagster._core.storage.schedules.sqlite  # noqa: F401
import dagster._core.storage.sqlite_storage  # noqa: F401

import jira_assets.defs.component  # noqa: F401
import jira_assets.sync.run  # noqa: F401
import jira_assets.lake.writer  # noqa: F401
import jira_assets.derived.history  # noqa: F401
