import asyncio
from collections.abc import Iterator

import pytest

from bot.charts import ChartRenderer, close_renderer, default_renderer


@pytest.fixture(scope="session")
def renderer() -> Iterator[ChartRenderer]:
    """The process-wide renderer, its worker processes started and warmed once per test session."""
    renderer = default_renderer()
    asyncio.run(renderer.start())
    yield renderer
    asyncio.run(close_renderer())
