"""Chart rendering: median render time, and event-loop lag during concurrent renders, thread vs process pool.

Run: `.venv/bin/python -m bench.charts [--repeats N]`. Baselines measured in the same run: drawing in the
calling process (for the cost of the pool round trip) and a thread pool (for the loop lag).
`bench/analysis.py` can call `render_median()` for its "chart render time (median)" line.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from bot.charts import ChartRenderer, ChartSpec, prepare_chart
from bot.charts.draw import draw_png
from bot.charts.render import PoolKind
from bot.tables import ResultTable

Case = tuple[ChartSpec, ResultTable]

CONCURRENT = 20
TICK = 0.010


def seed_question_cases() -> list[Case]:
    """Charts like the ones the four seed questions get, plus a time series and a table."""
    rng = random.Random(7)
    start = datetime(2025, 3, 1, 9, tzinfo=UTC)
    routes = [f"GET /api/v1/resource-{i}/{{item_id}}" for i in range(16)]
    slowest = ResultTable(
        ["http_route", "p95", "n"],
        [[r, rng.uniform(0.01, 2.0), rng.randint(10, 9000)] for r in routes],
        "routes",
    )
    status = ResultTable(
        ["http_response_status_code", "n"],
        [[c, rng.randint(5, 50_000)] for c in (200, 201, 404, 500)],
        "status",
    )
    errors = ResultTable(
        ["exception_type", "n"], [[f"app.errors.Error{i}", rng.randint(1, 500)] for i in range(8)], "errors"
    )
    cost = ResultTable(
        ["model", "cost_usd"], [[m, rng.uniform(0.0004, 9.0)] for m in ("sonnet", "haiku", "gpt-4.1")], "cost"
    )
    volume = ResultTable(
        ["bucket", "n"],
        [[(start + timedelta(minutes=5 * i)).isoformat(), rng.randint(500, 900)] for i in range(72)],
        "volume",
    )
    return [
        _case(slowest, "hbar", "p95 by route", "http_route", "p95"),
        _case(status, "bar", "Requests by status", "http_response_status_code", "n"),
        _case(errors, "hbar", "Top errors", "exception_type", "n"),
        _case(cost, "bar", "LLM cost by model", "model", "cost_usd"),
        _case(volume, "line", "Requests per 5 minutes", "bucket", "n"),
        _case(slowest, "table", "Slowest routes", "http_route", "p95", "n"),
    ]


def _case(table: ResultTable, kind: str, title: str, x: str, *y: str) -> Case:
    spec = ChartSpec.model_validate(
        {"kind": kind, "title": title, "time_range": "last 1h", "result_id": table.result_id, "x": x, "y": y}
    )
    return spec, table


async def render_median(
    cases: list[Case] | None = None, repeats: int = 3, renderer: ChartRenderer | None = None
) -> float:
    """Median seconds of one render (validation, pool round trip, drawing), one at a time, pool warm."""
    own = renderer is None
    renderer = renderer or ChartRenderer()
    cases = cases or seed_question_cases()
    try:
        await renderer.start()
        for spec, table in cases:  # the first draw of each kind loads its glyphs
            await renderer.render(spec, table)
        timings = []
        for _ in range(repeats):
            for spec, table in cases:
                began = time.perf_counter()
                await renderer.render(spec, table)
                timings.append(time.perf_counter() - began)
        return statistics.median(timings)
    finally:
        if own:
            await renderer.aclose()


def inline_median(cases: list[Case], repeats: int) -> float:
    """Baseline: the same renders drawn in this process, no pool."""
    timings = []
    for _ in range(repeats + 1):
        for spec, table in cases:
            began = time.perf_counter()
            draw_png(prepare_chart(spec, table))
            timings.append(time.perf_counter() - began)
    return statistics.median(timings[len(cases) :])


async def loop_lag(pool: PoolKind, cases: list[Case]) -> tuple[float, float, float, float]:
    """(start-up s, wall s, max lag s, p99 lag s) of a 10 ms ticker during CONCURRENT renders."""
    renderer = ChartRenderer(pool=pool)
    began = time.perf_counter()
    await renderer.start()
    startup = time.perf_counter() - began
    await asyncio.gather(*(renderer.render(*case) for case in cases))
    stop, lags = asyncio.Event(), []

    async def tick() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            before = loop.time()
            await asyncio.sleep(TICK)
            lags.append(loop.time() - before - TICK)

    ticker = asyncio.create_task(tick())
    began = time.perf_counter()
    await asyncio.gather(*(renderer.render(*cases[i % len(cases)]) for i in range(CONCURRENT)))
    wall = time.perf_counter() - began
    stop.set()
    await ticker
    await renderer.aclose()
    lags.sort()
    return startup, wall, lags[-1], lags[int(len(lags) * 0.99)]


async def main(repeats: int) -> None:
    cases = seed_question_cases()
    inline = inline_median(cases, repeats)
    pooled = await render_median(cases, repeats)
    print(
        f"chart render time (median): {pooled * 1000:.0f} ms in the process pool, "
        f"{inline * 1000:.0f} ms drawn inline (ratio {pooled / inline:.2f})"
    )
    results = {pool: await loop_lag(pool, cases) for pool in ("thread", "process")}
    for pool, (startup, wall, worst, p99) in results.items():
        print(
            f"{pool:>7} pool, {CONCURRENT} concurrent renders: start-up {startup:.2f} s, wall {wall:.2f} s, "
            f"loop lag max {worst * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
        )
    ratio = results["thread"][2] / results["process"][2]
    print(f"max loop lag, thread pool / process pool: {ratio:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    asyncio.run(main(parser.parse_args().repeats))
