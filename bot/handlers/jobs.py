"""Work started after `ack()`: tracked, so nothing is collected mid-flight and shutdown can drain it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Jobs:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.accepting = True

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any] | None:
        if not self.accepting:
            work.close()
            log.warning("shutting down: not starting %s", name)
            return None
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("background job %s failed", task.get_name(), exc_info=error)

    async def drain(self, seconds: float) -> None:
        """Stop accepting work and wait (up to `seconds`) for what runs; cancel what is left."""
        self.accepting = False
        if not self._tasks:
            return
        log.info("waiting for %d running job(s)", len(self._tasks))
        _, pending = await asyncio.wait(set(self._tasks), timeout=seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            log.warning("cancelled %d job(s) still running at shutdown", len(pending))
