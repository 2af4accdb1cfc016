"""Work started after `ack()`: tracked, so nothing is collected mid-flight and shutdown can drain it.

Acknowledgements go first: Slack drops a request not answered within 3 s, while the work after it takes
seconds anyway. So a job starts once no request is waiting for its response (counted by `count_requests`,
the web app's middleware), or after `ACKS_FIRST_SECONDS` at the latest. In a burst of questions the bot then
acknowledges them all before it starts answering the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

ACKS_FIRST_SECONDS = 1.0


class Jobs:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.accepting = True
        self._requests = 0
        self._no_requests = asyncio.Event()
        self._no_requests.set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any] | None:
        if not self.accepting:
            work.close()
            log.warning("shutting down: not starting %s", name)
            return None
        task = asyncio.create_task(self._after_acks(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    @web.middleware
    async def count_requests(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """aiohttp middleware: counts the requests being answered."""
        self._requests += 1
        self._no_requests.clear()
        try:
            return await handler(request)
        finally:
            self._requests -= 1
            if not self._requests:
                self._no_requests.set()

    async def _after_acks(self, work: Coroutine[Any, Any, Any]) -> Any:
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._no_requests.wait(), ACKS_FIRST_SECONDS)
        except BaseException:  # cancelled before it started
            work.close()
            raise
        return await work

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
