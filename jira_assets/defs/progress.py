"""Progress a person can follow, in the CLI's output and the run's log in the UI alike: which asset is syncing,
its rows and requests so far, and the time left, estimated from the request plan.

The plan is what each asset's previous sync cost (the `requests` of its last materialization of the same kind,
full or incremental, from the Dagster instance); the run's requests done are its assets' materializations so far
plus the running step's own. An asset never synced before has no estimate: its lines say so.
"""

from __future__ import annotations

import time
from typing import Any

from dagster import AssetKey, AssetRecordsFilter, DagsterEventType

from jira_assets.sync.progress import SyncProgress

PROGRESS_EVERY_SECONDS = 5.0


def _metadata(entry: Any) -> dict[str, Any]:
    materialization = entry.dagster_event.step_materialization_data.materialization
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


def duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class ProgressReport:
    """Logs one step's progress every few seconds, with the run's, through the step's Dagster log."""

    def __init__(self, context: Any, key: AssetKey, rate: float, incremental: bool | None) -> None:
        name = key.path[-1]
        self.context, self.name, self.rate = context, name, rate
        self.last_logged = time.monotonic()
        run_keys = list(getattr(context.run, "asset_selection", None) or [key])
        self.run_assets = [k.path[-1] for k in run_keys]
        self.expected: dict[str, int] = {}
        instance = context.instance
        record = instance.get_run_record_by_id(context.run_id)
        # Only syncs before this run are a plan for it.
        before = (record.start_time or record.create_timestamp.timestamp()) if record else time.time()
        for key in run_keys:
            found = instance.fetch_materializations(AssetRecordsFilter(asset_key=key, before_timestamp=before),
                                                    limit=5).records
            for record in found:
                meta = _metadata(record.event_log_entry)
                # An estimate from a sync of the other kind (a full load for an incremental run) would mislead.
                if isinstance(meta.get("requests"), int) and (key.path[-1] != name or
                                                              meta.get("incremental", False) == incremental):
                    self.expected[key.path[-1]] = meta["requests"]
                    break

    def _run_done(self, own: int) -> int:
        records = self.context.instance.get_records_for_run(
            self.context.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
        done = {r.event_log_entry.dagster_event.asset_key.path[-1]: _metadata(r.event_log_entry).get("requests", 0)
                for r in records}
        done[self.name] = own
        return sum(v for v in done.values() if isinstance(v, int))

    def line(self, progress: SyncProgress, final: bool = False) -> str:
        mine = self.expected.get(self.name)
        if final:
            text = f"{self.name}: {progress.rows:,} rows, {progress.requests:,} requests in {duration(progress.seconds)}"
        else:
            of = f" of ~{mine:,}" if mine else " (first sync of this kind: no estimate)"
            text = f"{self.name}: {progress.rows:,} rows, {progress.requests:,}{of} requests so far"
        if len(self.run_assets) > 1:
            total = sum(self.expected.get(n, 0) for n in self.run_assets)
            done = self._run_done(progress.requests)
            unknown = [n for n in self.run_assets if n not in self.expected]
            if total:
                left = max(0, total - done)
                text += (f"; run: {done:,} of ~{total:,} requests, ~{duration(left / self.rate)} left at "
                         f"{self.rate:g}/s")
                if unknown:
                    text += f" (+ {len(unknown)} assets with no estimate yet)"
            else:
                text += f"; run: {done:,} requests so far"
        return text

    def tick(self, progress: SyncProgress) -> None:
        if time.monotonic() - self.last_logged >= PROGRESS_EVERY_SECONDS:
            self.last_logged = time.monotonic()
            self.context.log.info(self.line(progress))

    def done(self, progress: SyncProgress) -> None:
        self.context.log.info(self.line(progress, final=True))
