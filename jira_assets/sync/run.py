"""One materialization, from the strategy's plan to the stream the lake commits.

`table_write` asks the endpoint's strategy for its plan, runs the plan's pages on a private event loop
(`stream.iterate_in_thread`), turns them into Arrow batches of about BATCH_ROWS rows (typed columns, parent keys,
`_raw`, `_synced_at`) and hands the lake a `TableWrite`: the batches, the mode, the key, the deletes, and the
summary and metadata the plan completes while it streams. Nothing here knows Dagster.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import pyarrow as pa

from jira_assets.jira.client import JiraClient, JiraError
from jira_assets.jira.fetch import Page
from jira_assets.lake.arrow import SITE_COLUMN, SYNCED_AT_COLUMN, records_to_batch
from jira_assets.lake.writer import TableWrite
from jira_assets.sync import summary as keys
from jira_assets.sync.base import SyncContext, SyncPlan, SyncRefused
from jira_assets.sync.progress import SyncProgress
from jira_assets.sync.stream import iterate_in_thread

# Rows per Arrow batch handed to the lake: large enough to keep Parquet efficient, small enough to keep memory flat.
BATCH_ROWS = 2000

OpenClient = Callable[[], AbstractAsyncContextManager[JiraClient]]


def table_write(ctx: SyncContext, open_client: OpenClient,
                explain: Callable[[Exception], Exception] | None = None,
                progress: SyncProgress | None = None) -> TableWrite:
    """The stream of batches for one materialization; summary and metadata are completed once it is drained.

    The first batch is pulled here, so the usual fatal errors (credentials, permission, a missing feature) raise
    from this call, in the caller's own step, rather than later inside the writer. `explain` turns a refusal
    (JiraError, SyncRefused) into the error the caller wants raised, wherever in the stream it happens. `progress`
    is kept up to date with the rows and requests so far."""
    progress = progress if progress is not None else SyncProgress()
    spec = ctx.spec
    plan = spec.sync.plan(ctx)
    plan.summary.update({keys.ENDPOINT: spec.name, keys.SYNCED_AT: ctx.synced_at.isoformat()})
    metadata = plan.metadata

    async def produce():
        async with open_client() as client:
            rows = 0
            try:
                async for batch in _batches(spec, plan, plan.pages(client), ctx.synced_at, ctx.site):
                    rows += batch.num_rows
                    progress.rows, progress.requests = rows, client.stats.requests
                    yield batch
                if plan.verify is not None:
                    await plan.verify(client, rows)
            except (JiraError, SyncRefused) as err:
                if explain is None:
                    raise
                raise explain(err) from None
            finally:
                stats = client.stats
                progress.requests = stats.requests
                metadata.update({
                    "requests": stats.requests,
                    "retries": stats.retries,
                    "skipped_parents": stats.skipped_parents,
                })
                if stats.skip_reasons:
                    metadata["skip_reasons"] = dict(stats.skip_reasons)

    batches = iterate_in_thread(produce)
    first = next(batches, None)
    return TableWrite(
        batches=itertools.chain([] if first is None else [first], batches),
        schema=spec.arrow_schema,
        mode=plan.mode,
        key_columns=list(spec.table_key),
        # The same dict the producer completes while streaming (cursors): the writer reads it once drained.
        summary=plan.summary,
        metadata=metadata,
        deletes=plan.deletes,
        renames=plan.renames,
        site=ctx.site,
    )


def _batches(spec: Any, plan: SyncPlan, pages: AsyncIterator[Page], synced_at: datetime, site: str
             ) -> AsyncIterator[pa.RecordBatch]:
    """Group pages of (record, keys) into Arrow batches of about BATCH_ROWS rows: the typed columns read from each
    record, the keyed columns (parent key, computed) from its keys, and the columns the plan derives per batch."""
    keyed = spec.keyed_columns
    typed = spec.typed_columns

    def to_batch(rows: Page) -> pa.RecordBatch:
        extra = {c.name: [_keyed_value(keys.get(c.name), c.type) for _, keys in rows] for c in keyed}
        extra[SITE_COLUMN] = [site] * len(rows)
        types = {c.name: c.type for c in keyed}
        docs = {c.name: c.doc for c in keyed}
        if plan.derive is not None:
            for column, values in plan.derive([r for r, _ in rows]).items():
                extra[column.name], types[column.name], docs[column.name] = values, column.type, column.doc
        row_synced = [keys.get(SYNCED_AT_COLUMN) for _, keys in rows]
        return records_to_batch([r for r, _ in rows], typed, extra=extra or None, extra_types=types, extra_docs=docs,
                                synced_at=synced_at, row_synced_at=row_synced if any(row_synced) else None,
                                keep_raw=not spec.sync.derived)

    async def gen():
        rows: Page = []
        async for page in pages:
            rows.extend(page)
            if len(rows) >= BATCH_ROWS:
                yield to_batch(rows)
                rows = []
        if rows:
            yield to_batch(rows)

    return gen()


def _keyed_value(value: Any, type_: str) -> Any:
    if value is None:
        return None
    if type_ == "long":
        return int(value)
    return str(value) if type_ == "string" else value
