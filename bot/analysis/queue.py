"""At most N analyses at a time in this process; later questions wait their turn in arrival order.

A burst of questions then neither starves the process (Slack wants every request acknowledged within 3 s) nor
floods Logfire and Anthropic with concurrent calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


class AnalysisQueue:
    def __init__(self, size: int) -> None:
        self.size = size
        self.running = 0
        self.waiting = 0
        self._slots = asyncio.Semaphore(size)

    @asynccontextmanager
    async def turn(self, on_queued: Callable[[int], Awaitable[None]]) -> AsyncIterator[None]:
        """Hold one of the slots for the block; when none is free, first `await on_queued(ahead)`, where
        `ahead` counts the questions running or waiting before this one."""
        if self._slots.locked():
            ahead = self.running + self.waiting
            self.waiting += 1
            try:
                await on_queued(ahead)
                await self._slots.acquire()
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()
