"""Helpers for the tests of the Claude engine (a module the tests import, not a conftest).

`claude_rig` wires the real pieces over loopback: the session sandbox Logfire behind a workspace connected
through the real OAuth flow, the MCP pool, the Analyst on SQLite, and the `ClaudeEngine` on the real
`anthropic` SDK pointed at the Anthropic stand-in. The script helpers play a sensible model: they read the
tool results the bot sends, as a model would, and answer from them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anthropic

from bot.analysis.claude import Caps, ClaudeEngine
from bot.analysis.claude.results import ResultFormat, compact_result
from bot.analysis.service import Analyst
from bot.analysis.types import AnalysisResult, Question
from bot.charts import close_renderer
from bot.config import DEFAULT_MODEL
from bot.mcp_client.pool import McpPool
from sandbox.logfire.ground_truth import GroundTruth
from sandbox.logfire.server import SandboxLogfire
from tests.fakes.anthropic_api import (
    AnthropicStandIn,
    Reply,
    Step,
    ToolCall,
    tool_result_text,
    tool_results,
    tool_use,
    tool_uses,
)
from tests.mcp_client.conftest import connect_team, make_pool
from tests.oauth_harness import OAuthHarness

TEAM = "T1"
RESULT_HEADER = re.compile(r"^result (r\d+): ")


@dataclass
class ClaudeRig:
    api: AnthropicStandIn
    engine: ClaudeEngine
    analyst: Analyst
    pool: McpPool
    sandbox: SandboxLogfire
    oauth: OAuthHarness

    @property
    def truth(self) -> GroundTruth:
        return self.sandbox.dataset().ground_truth

    def window(self, name: str) -> tuple[datetime, datetime]:
        return self.truth.window(name)

    async def ask(self, text: str, thread_ts: str | None = None) -> AnalysisResult:
        return await self.analyst.answer(Question(TEAM, "C1", "U1", text, thread_ts))


@asynccontextmanager
async def claude_rig(
    oauth: OAuthHarness,
    sandbox: SandboxLogfire,
    *,
    caps: Caps | None = None,
    max_retries: int = 2,
    result_format: ResultFormat = compact_result,
    model: str = DEFAULT_MODEL,
) -> AsyncIterator[ClaudeRig]:
    await connect_team(oauth, sandbox, TEAM)
    pool = make_pool(oauth, call_timeout=20.0)
    async with AnthropicStandIn() as api:
        client = anthropic.AsyncAnthropic(api_key=api.api_key, base_url=api.base_url, max_retries=max_retries)
        engine = ClaudeEngine(client, model, caps, result_format=result_format)
        try:
            yield ClaudeRig(api, engine, Analyst(pool, oauth.database, engine), pool, sandbox, oauth)
        finally:
            await engine.aclose()
            await pool.close()


def stop_chart_workers() -> None:
    """Shut the process-wide chart renderer down (a module fixture calls it after the module's tests)."""
    asyncio.run(close_renderer())


# --- Reading what the bot sent, as the model would ---------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read_table(text: str) -> tuple[str, list[dict[str, str]]]:
    """(result id, rows as dicts of strings) from a table result: compact CSV, or raw JSON rows."""
    header, _, body = text.partition("\n")
    found = RESULT_HEADER.match(header)
    assert found, f"not a table result: {text[:200]!r}"
    if body.startswith("["):
        rows = [{key: _text(value) for key, value in row.items()} for row in json.loads(body)]
        return found.group(1), rows
    return found.group(1), list(csv.DictReader(io.StringIO(body)))


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def last_results(body: Mapping[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(tool_result block, its text) of the request's last user message."""
    return [(block, tool_result_text(block)) for block in tool_results(body)]


# --- Scripted turns ----------------------------------------------------------------------------------------

Summarize = Callable[[list[dict[str, str]]], tuple[str, list[dict[str, str]]]]


def query(sql: str, window: tuple[datetime, datetime], *, preamble: str | None = None) -> Reply:
    start, end = window
    arguments = {"query": sql, "start_timestamp": iso(start), "end_timestamp": iso(end)}
    return tool_use("query_run", arguments, preamble=preamble)


def chart_and_answer(chart: dict[str, Any] | None, summarize: Summarize, time_window: str) -> Step:
    """The turn after a query: render_chart on the result just received (unless `chart` is None) and the
    answer, together."""

    def step(body: dict[str, Any]) -> Reply:
        (block, text), *_ = last_results(body)
        assert not block.get("is_error"), text
        result_id, rows = read_table(text)
        summary, numbers = summarize(rows)
        answer = ToolCall("answer", {"summary": summary, "key_numbers": numbers, "time_window": time_window})
        if chart is None:
            return tool_uses(answer)
        return tool_uses(ToolCall("render_chart", {**chart, "result_id": result_id}), answer)

    return step


def answer_call(
    summary: str, numbers: list[dict[str, str]] | None = None, window: str = "last 24 hours"
) -> Reply:
    return tool_use("answer", {"summary": summary, "key_numbers": numbers or [], "time_window": window})
