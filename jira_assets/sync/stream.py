"""Bridge an async page producer to the synchronous iterator of Arrow batches the IO manager consumes.

The producer runs in its own thread with its own event loop; a small bounded queue between the two sides
keeps memory flat (the client waits while the lake writer is busy) and carries the producer's error, if any,
to the consumer, so a failed fetch aborts the commit instead of committing half a table.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

_END = object()


class _Error:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def iterate_in_thread(make_producer: Callable[[], AsyncIterator[Any]], max_queued: int = 4) -> Iterator[Any]:
    """Yield what `make_producer()` yields, running it on a private event loop in a worker thread."""
    items: queue.Queue = queue.Queue(maxsize=max_queued)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    async def pump() -> None:
        agen = make_producer()
        try:
            async for item in agen:
                if not await asyncio.to_thread(put, item):
                    return  # the consumer went away
        finally:
            await agen.aclose()

    def run() -> None:
        try:
            asyncio.run(pump())
        except BaseException as exc:  # noqa: BLE001 - handed over to the consumer thread
            put(_Error(exc))
            return
        put(_END)

    thread = threading.Thread(target=run, name="jira-fetch", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, _Error):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)
