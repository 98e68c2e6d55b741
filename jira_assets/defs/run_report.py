"""What a finished in-process Dagster run reports: each asset's materialization metadata and each failed step's
error with its causes (the Jira error sits in the cause chain when the IO manager raised it)."""

from __future__ import annotations

from typing import Any


def run_outcome(result) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """(asset key ("issue_search", or "acme/issue_search" in a deployment of several sites) -> metadata as plain
    values, step key -> error message with its causes, one per line)."""
    metadata: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    for event in result.all_events:
        if event.is_step_materialization:
            mat = event.step_materialization_data.materialization
            metadata[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        if event.is_step_failure:
            error, messages = event.step_failure_data.error, []
            while error is not None:
                messages.append(error.message.strip())
                error = error.cause
            failures[event.step_key] = "\n".join(messages)
    return metadata, failures
