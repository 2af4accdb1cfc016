import multiprocessing
import os
import signal

import pytest

from bot.charts import ChartRenderer, ChartRenderError
from tests.charts.test_render import CASES


async def test_a_dead_worker_fails_one_render_and_the_next_starts_a_new_pool() -> None:
    before = set(multiprocessing.active_children())
    renderer = ChartRenderer(workers=1)
    try:
        await renderer.start()
        (worker,) = set(multiprocessing.active_children()) - before
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(timeout=10)
        with pytest.raises(ChartRenderError, match="worker process died"):
            await renderer.render(*CASES["bar"])
        chart = await renderer.render(*CASES["bar"])
        assert chart.png.startswith(b"\x89PNG")
    finally:
        await renderer.aclose()
    assert not set(multiprocessing.active_children()) - before


async def test_a_render_that_takes_too_long_is_abandoned() -> None:
    renderer = ChartRenderer(workers=1, pool="thread", timeout=0.001)
    try:
        with pytest.raises(ChartRenderError, match="longer than"):
            await renderer.render(*CASES["table"])
    finally:
        await renderer.aclose()
