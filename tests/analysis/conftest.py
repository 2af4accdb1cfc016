"""The offline planner as the Slack app runs it: the real Analyst, an MCP pool over a workspace connected to
the session sandbox through the real OAuth flow, and the sandbox's ground truth to compare with."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
import pytest_asyncio
from aiohttp import web

from bot.analysis.engine import EngineAnswer
from bot.analysis.offline import OfflinePlanner
from bot.analysis.service import Analyst
from bot.analysis.toolbox import Toolbox
from bot.analysis.types import AnalysisResult, Mode, QueryRun, Question, Turn, Workspace
from bot.charts import close_renderer, default_renderer
from bot.oauth.crypto import SecretBox, generate_key
from bot.tables import ResultTable
from db.engine import open_database
from db.migrate import upgrade
from sandbox.logfire.ground_truth import GroundTruth, ModelUsage
from sandbox.logfire.server import SandboxLogfire
from tests.mcp_client.conftest import connect_team, make_pool
from tests.oauth_harness import BotWeb, make_harness

TEAM = "T1"


class KeepingPlanner:
    """The offline planner, keeping the toolbox of each analysis so a test can read the tables it produced."""

    mode: Mode = "offline"

    def __init__(self) -> None:
        self.planner = OfflinePlanner()
        self.toolboxes: list[Toolbox] = []

    async def answer(
        self, question: Question, history: list[Turn], workspace: Workspace, tools: Toolbox
    ) -> EngineAnswer:
        self.toolboxes.append(tools)
        return await self.planner.answer(question, history, workspace, tools)


@dataclass(frozen=True)
class Asked:
    result: AnalysisResult
    tables: dict[str, ResultTable]

    @property
    def query(self) -> QueryRun:
        """The last query the planner ran (the family's own)."""
        return self.result.queries[-1]

    def table(self, query: QueryRun | None = None) -> ResultTable:
        query = query or self.query
        assert query.result_id is not None, query
        return self.tables[query.result_id]

    def window(self, query: QueryRun | None = None) -> tuple[datetime, datetime]:
        """The window the planner passed to Logfire, read back from the recorded tool arguments."""
        start, end = (query or self.query).window
        assert start and end, "every query must carry an explicit window"
        return datetime.fromisoformat(start), datetime.fromisoformat(end)


@dataclass
class Asking:
    analyst: Analyst
    engine: KeepingPlanner
    sandbox: SandboxLogfire

    async def ask(self, text: str, thread_ts: str | None = None) -> Asked:
        result = await self.analyst.answer(Question(TEAM, "C1", "U1", text, thread_ts))
        return Asked(result, dict(self.engine.toolboxes[-1].tables))

    @property
    def truth(self) -> GroundTruth:
        return self.sandbox.dataset().ground_truth

    def truth_without_span_events(self) -> GroundTruth:
        """Ground truth over spans and logs only: an exception counts on its span, not again as an event."""
        dataset = self.sandbox.dataset()
        records = dataset.records.filter(pc.not_equal(dataset.records["kind"], "span_event"))
        return GroundTruth(records, dataset.generated_at)

    def truth_of_root_spans(self) -> GroundTruth:
        """Ground truth over root spans only (one per trace)."""
        records = self.sandbox.dataset().records
        roots = pc.and_(pc.is_null(records["parent_span_id"]), pc.equal(records["kind"], "span"))
        return GroundTruth(records.filter(roots), self.sandbox.dataset().generated_at)


@pytest.fixture(scope="session")
def chart_workers() -> Iterator[None]:
    """The process-wide chart renderer, started once and shut down after the session."""
    asyncio.run(default_renderer().start())
    yield
    asyncio.run(close_renderer())


@asynccontextmanager
async def connected_workspace(sandbox: SandboxLogfire, directory: Path) -> AsyncIterator[Asking]:
    """Workspace T1 connected to the sandbox through the real OAuth flow (bot state in SQLite under
    `directory`), and an Analyst running the offline planner over an MCP pool of its tokens."""
    database = open_database(f"sqlite+aiosqlite:///{directory}/bot.db")
    await upgrade(database)
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    bot_web = BotWeb(f"http://127.0.0.1:{sock.getsockname()[1]}")
    regions = {"us": sandbox.mcp_url, "eu": "https://eu.invalid/mcp"}
    harness, runner = await make_harness(
        database, SecretBox.from_text(generate_key()), bot_web, web.Application(), sock, regions
    )
    pool = None
    try:
        await connect_team(harness, sandbox, TEAM)
        pool = make_pool(harness, call_timeout=20.0)
        engine = KeepingPlanner()
        yield Asking(Analyst(pool, database, engine), engine, sandbox)
    finally:
        if pool is not None:
            await pool.close()
        await runner.cleanup()
        await harness.http.aclose()
        await database.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def asking(
    sandbox: SandboxLogfire, chart_workers: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Asking]:
    """One connected workspace per test module (tests of the module share its event loop)."""
    async with connected_workspace(sandbox, tmp_path_factory.mktemp("offline")) as asking:
        yield asking


# --- checks against the ground truth (numbers read from the tables the planner produced) -------------------

PERCENTILE_RANK_SLACK = 2.0  # percentile points; see `statistic_bounds`
COST_TOLERANCE = 1e-9


def statistic_bounds(durations: np.ndarray, statistic: str) -> tuple[float, float]:
    """The values a correct answer may give for a statistic of these durations.

    avg and max are exact (avg up to float summation order). Percentiles come from Logfire's
    `approx_percentile_cont`, a t-digest estimate whose error is bounded in rank, not in value (smallest at
    the tails, where p95 and p99 sit), and which interpolates between neighbouring values its own way. So a
    percentile q must lie between the exact percentiles q ± 2 points, widened to one neighbouring value
    (100/n points) for small groups. The sandbox computes percentiles exactly, well inside these bounds.
    """
    if statistic == "avg":
        mean = float(np.mean(durations))
        return mean - abs(mean) * 1e-9, mean + abs(mean) * 1e-9
    if statistic == "max":
        return float(durations.max()), float(durations.max())
    q = float(statistic.removeprefix("p"))
    slack = max(PERCENTILE_RANK_SLACK, 100.0 / len(durations))
    low = float(np.percentile(durations, max(0.0, q - slack)))
    high = float(np.percentile(durations, min(100.0, q + slack)))
    return low - 1e-12, high + 1e-12


def check_latency(asked: Asked, truth: GroundTruth, statistic: str, limit: int) -> None:
    start, end = asked.window()
    durations = truth.route_durations(start, end)
    rows = asked.table().records()
    column = f"{statistic}_duration"
    assert len(rows) == min(limit, len(durations))
    for row in rows:
        assert row["requests"] == len(durations[row["route"]])
        low, high = statistic_bounds(durations[row["route"]], statistic)
        assert low <= row[column] <= high, (row, low, high)
    slowest_shown = min(row[column] for row in rows)
    left_out = set(durations) - {row["route"] for row in rows}
    for route in left_out:  # no route left out is slower than the ones shown
        low, _ = statistic_bounds(durations[route], statistic)
        assert low <= slowest_shown, (route, low, slowest_shown)


def check_status_codes(asked: Asked, truth: GroundTruth, service: str | None) -> None:
    start, end = asked.window()
    counts = {row["status_code"]: row["traces"] for row in asked.table().records()}
    assert counts == truth.status_code_counts(start, end, service)


def check_errors(
    asked: Asked, truth: GroundTruth, service: str | None, *, exceptions_only: bool, limit: int
) -> None:
    """`truth` counts spans and logs only (see `Asking.truth_without_span_events`)."""
    start, end = asked.window()
    if exceptions_only:
        expected = truth.exception_counts(start, end, service, by_message=True)
    else:
        expected = truth.top_errors(start, end, service)
    got = [
        (row["exception_type"], row["exception_message"], row["occurrences"], _moment(row["last_seen"]))
        for row in asked.table().records()
    ]
    assert got == [(e.exception_type, e.exception_message, e.count, e.last_seen) for e in expected[:limit]]


def check_llm_usage(asked: Asked, truth: GroundTruth) -> None:
    totals_query, per_model_query = asked.result.queries[-2:]
    start, end = asked.window(totals_query)
    assert asked.window(per_model_query) == (start, end)
    usage = truth.llm_usage(start, end)
    (totals,) = asked.table(totals_query).records()
    _check_model_usage(totals, usage.total)
    models = {row["model"]: row for row in asked.table(per_model_query).records()}
    assert set(models) == set(usage.by_model)
    for model, expected in usage.by_model.items():
        _check_model_usage(models[model], expected)


def _check_model_usage(row: dict[str, object], expected: ModelUsage) -> None:
    assert row["requests"] == expected.requests
    assert row["input_tokens"] == expected.input_tokens
    assert row["output_tokens"] == expected.output_tokens
    assert abs(float(row["cost_usd"]) - expected.cost_usd) <= COST_TOLERANCE
    assert abs(float(row["avg_cost_per_request"]) - expected.avg_cost_per_request) <= COST_TOLERANCE


def bucket_width(sql: str) -> timedelta:
    """The width of `time_bucket('<n> <unit>', ...)` in a query."""
    match = re.search(r"time_bucket\('(\d+) (minute|hour|day)s?'", sql)
    assert match, sql
    return timedelta(**{match.group(2) + "s": int(match.group(1))})


def check_error_rate(asked: Asked, roots: GroundTruth, service: str | None) -> None:
    """`roots` holds root spans only (see `Asking.truth_of_root_spans`)."""
    start, end = asked.window()
    width = bucket_width(asked.query.sql or "")
    errors = roots.errors_over_time(start, end, width, service)
    traces = _summed(roots.volume_over_time(start, end, width, service))
    rows = asked.table().records()
    assert {_moment(r["bucket"]): r["traces"] for r in rows} == traces
    assert {_moment(r["bucket"]): r["errors"] for r in rows if r["errors"]} == errors
    for row in rows:
        assert row["error_rate_pct"] == pytest.approx(100 * row["errors"] / row["traces"], rel=1e-12)


def check_volume(asked: Asked, truth: GroundTruth, service: str | None, measure: str) -> None:
    start, end = asked.window()
    expected = truth.volume_over_time(start, end, bucket_width(asked.query.sql or ""), service)
    got: dict[str, dict[datetime, int]] = {}
    for row in asked.table().records():
        got.setdefault(row["service_name"], {})[_moment(row["bucket"])] = row[measure]
    assert got == expected


def _summed(per_service: dict[str, dict[datetime, int]]) -> dict[datetime, int]:
    total: dict[datetime, int] = {}
    for buckets in per_service.values():
        for moment, count in buckets.items():
            total[moment] = total.get(moment, 0) + count
    return total


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)
