"""Rendering charts off the event loop, in a small pool of worker processes.

matplotlib holds the GIL for most of a render, so rendering in threads stalls the event loop; a worker
process does not. Measured with `python -m bench.charts` on the shared 2-core dev machine, max lag of a
10 ms ticker during 20 concurrent renders with 2 workers, over 8 runs at load average 1–2.6:
66–273 ms with threads, 2.5–12 ms with processes (11–24× less). Workers run at nice +5 so the bot's own
process wins the CPU (at equal load: 3–6 ms with it, 4–8 ms without). A warm render takes 150–250 ms
either way (median, pool round trip included; drawing inline costs the same).

The pool uses the "spawn" start method (forking a process that runs an event loop and threads is
unsafe), is created on first use, warms each worker once (imports and a first draw in the initializer)
and is shut down by `aclose()`. Only plain data crosses the boundary: ChartData in, PNG bytes out.
Validation and alt text stay in the calling process: they are cheap and their errors go to the model.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import signal
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Literal

from bot.charts.data import ChartData, Series
from bot.charts.describe import alt_text
from bot.charts.draw import draw_png
from bot.charts.spec import ChartSpec
from bot.charts.validate import prepare_chart
from bot.tables import ResultTable

PoolKind = Literal["process", "thread"]

WORKER_NICENESS = 5


class ChartRenderError(RuntimeError):
    """Rendering failed for a reason that is not the spec's (a crashed worker, a timeout)."""


@dataclass(frozen=True)
class RenderedChart:
    png: bytes
    alt_text: str
    title: str
    filename: str
    width: int
    height: int


class ChartRenderer:
    """Renders validated charts in a pool of `workers` processes (or threads, for comparison)."""

    def __init__(self, workers: int = 2, *, pool: PoolKind = "process", timeout: float = 30.0) -> None:
        self.workers = workers
        self.pool = pool
        self.timeout = timeout
        self._executor: Executor | None = None

    async def start(self) -> None:
        """Start and warm every worker now rather than on the first chart."""
        executor = self._ensure_executor()
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(executor, os.getpid) for _ in range(self.workers)))

    async def render(self, spec: ChartSpec, table: ResultTable) -> RenderedChart:
        """Validate `spec` against `table` (ChartSpecError if it does not fit) and draw it."""
        data = prepare_chart(spec, table)
        png, width, height = await self.draw(data)
        return RenderedChart(
            png=png,
            alt_text=alt_text(data),
            title=data.full_title,
            filename=filename(data),
            width=width,
            height=height,
        )

    async def draw(self, data: ChartData) -> tuple[bytes, int, int]:
        """The PNG of already validated data, drawn in the pool."""
        executor = self._ensure_executor()
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(executor, draw_png, data), self.timeout)
        except BrokenProcessPool:
            self._discard(executor)
            raise ChartRenderError(
                "The chart worker process died; the next chart starts a new one."
            ) from None
        except TimeoutError:
            raise ChartRenderError(f"Drawing the chart took longer than {self.timeout:g} s.") from None

    async def aclose(self) -> None:
        """Stop the workers (waiting for renders in progress)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    def _ensure_executor(self) -> Executor:
        if self._executor is None:
            if self.pool == "thread":
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="chart")
            else:
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_worker
                )
        return self._executor

    def _discard(self, executor: Executor) -> None:
        if self._executor is executor:
            self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)


def filename(data: ChartData) -> str:
    """A file name from the title and time window: `p95-latency-by-route-last-1h-utc.png`."""
    slug = re.sub(r"[^a-z0-9]+", "-", data.full_title.lower()).strip("-")[:80].rstrip("-")
    return f"{slug or 'chart'}.png"


def _warm_worker() -> None:
    """Runs once in each worker: ignore Ctrl-C (the parent shuts the pool down), lower its priority below
    the bot's loop, load fonts, draw once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(WORKER_NICENESS)
    draw_png(
        ChartData(
            kind="bar",
            title="warm-up",
            time_label="now",
            x_kind="category",
            x_label="x",
            y_label="y",
            unit="count",
            x=["a"],
            series=[Series("y", [1])],
        )
    )


_default: ChartRenderer | None = None


def default_renderer() -> ChartRenderer:
    """The process-wide renderer (2 worker processes), created on first use."""
    global _default
    if _default is None:
        _default = ChartRenderer()
    return _default


async def render_chart(spec: ChartSpec, table: ResultTable) -> RenderedChart:
    """Validate and draw one chart with the process-wide renderer; ChartSpecError if the spec does not fit."""
    return await default_renderer().render(spec, table)


async def close_renderer() -> None:
    """Shut the process-wide renderer down (call at application shutdown)."""
    global _default
    renderer, _default = _default, None
    if renderer is not None:
        await renderer.aclose()
