"""The Claude path on the four seed questions, with a scripted stand-in model that behaves like a sensible
one (one query with an explicit window, then render_chart and answer in one turn):

- model calls per question;
- input tokens sent per question with compact results (CSV with row and byte caps) and with raw results
  (every row as JSON objects: the baseline, measured in the same run), their ratio, and the same for the
  tool results alone (the part the format changes); estimated cost of each;
- chart render time (median, the charts the questions asked for, in the process pool).

    .venv/bin/python -m bench.analysis [--records 100000] [--repeats 3]

The workspace connects through the bot's real OAuth flow; tools go through the pool and the read-only gate
to the sandbox Logfire; the real `anthropic` SDK talks to the Anthropic stand-in over loopback. Token counts
are the stand-in's (about characters / 4 per block), so the ratios matter more than the absolute numbers.
An extra line (not a seed question) asks for a 100-row listing, where the row and byte caps bite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from dataclasses import dataclass
from typing import Any

import anthropic

from bench.charts import render_median
from bench.mcp_overhead import connect
from bot.analysis.claude import ClaudeEngine, compact_result, raw_result
from bot.analysis.claude.results import ResultFormat
from bot.analysis.toolbox import Toolbox
from bot.analysis.types import Question, Workspace
from bot.charts import ChartSpec, close_renderer
from bot.config import DEFAULT_MODEL
from bot.mcp_client.gate import ToolGate
from bot.mcp_client.pool import McpPool
from bot.oauth.crypto import SecretBox, generate_key
from bot.tables import ResultTable
from db.engine import open_database
from db.migrate import upgrade
from db.models import utcnow
from sandbox.logfire.examples import (
    AGENT_ERRORS,
    EXAMPLES,
    LLM_COST,
    SLOWEST_ENDPOINTS,
    STATUS_CODES,
    Example,
)
from sandbox.logfire.server import SandboxLogfire
from tests.analysis.conftest_claude import chart_and_answer, query
from tests.fakes.anthropic_api import AnthropicStandIn, RecordedRequest, estimate_tokens, tool_results

TEAM = "TBENCH"
WINDOW_WORDS = {"last_hour": "last 1 hour", "today": "today", "yesterday": "yesterday", "all": "last 4 days"}
CHARTS: dict[str, dict[str, Any] | None] = {
    SLOWEST_ENDPOINTS.question: {
        "kind": "hbar",
        "title": "p95 latency by route",
        "x": "http_route",
        "y": ["p95"],
    },
    STATUS_CODES.question: {
        "kind": "bar",
        "title": "Traces by status",
        "x": "http_response_status_code",
        "y": ["n"],
    },
    # Several messages per exception type: a table, as the chart validator tells a model that tries hbar.
    AGENT_ERRORS.question: {
        "kind": "table",
        "title": "Top errors, service agent",
        "x": "exception_type",
        "y": ["exception_message", "n"],
    },
    LLM_COST.question: {
        "kind": "big_number",
        "title": "Average LLM cost per request",
        "y": ["avg_cost_per_request"],
    },
}
LISTING = Example(
    "List the 100 most recent exceptions with their service, span and message",
    "all",
    "SELECT start_timestamp, service_name, span_name, exception_type, exception_message, trace_id "
    "FROM records WHERE is_exception ORDER BY start_timestamp DESC LIMIT 100",
)


@dataclass(frozen=True)
class Measured:
    model_calls: int
    input_tokens: int
    result_tokens: int
    cost_usd: float
    charts: list[tuple[ChartSpec, ResultTable]]
    prefix: tuple[int, int, int]  # tool definitions, their tokens, system prompt tokens


def summarize(rows: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    """What a sensible model writes: the row count and the first row's figures."""
    first = rows[0] if rows else {}
    numbers = [{"label": key[:80], "value": (value or "-")[:40]} for key, value in list(first.items())[:4]]
    summary = f"{len(rows)} rows; first: " + ", ".join(f"{key} {value}" for key, value in first.items())
    return summary[:1500], numbers


async def ask(
    example: Example, sandbox: SandboxLogfire, pool: McpPool, result_format: ResultFormat
) -> Measured:
    words = WINDOW_WORDS[example.window]
    chart = CHARTS.get(example.question)
    script = [
        query(example.sql, sandbox.dataset().ground_truth.window(example.window)),
        chart_and_answer({**chart, "time_range": words} if chart else None, summarize, f"{words} (UTC)"),
    ]
    async with AnthropicStandIn(script=script) as api:
        client = anthropic.AsyncAnthropic(api_key=api.api_key, base_url=api.base_url, max_retries=0)
        engine = ClaudeEngine(client, DEFAULT_MODEL, result_format=result_format)
        tools = Toolbox(pool, TEAM, sandbox.mcp_url)
        question = Question(TEAM, "C1", "U1", example.question)
        try:
            answer = await engine.answer(question, [], Workspace(TEAM, "us", None, utcnow()), tools)
        except Exception as error:
            raise RuntimeError(f"{example.question}: {error}; script problems: {api.script_errors}") from None
        finally:
            await engine.aclose()
    records = api.message_requests
    results = [block for record in records for block in tool_results(record.body)]
    specs = [ChartSpec.model_validate(call["input"]) for call in _calls(records, "render_chart")]
    first = records[0].body
    return Measured(
        model_calls=answer.usage.model_calls,
        input_tokens=answer.usage.input_tokens,
        result_tokens=estimate_tokens({"messages": [{"role": "user", "content": results}]}) if results else 0,
        cost_usd=answer.usage.cost_usd,
        charts=[(spec, tools.tables[spec.result_id]) for spec in specs],
        prefix=(
            len(first["tools"]),
            estimate_tokens({"tools": first["tools"]}),
            estimate_tokens({"system": first["system"]}),
        ),
    )


def _calls(records: list[RecordedRequest], name: str) -> list[dict[str, Any]]:
    return [
        block
        for record in records
        for block in record.response["content"]
        if block["type"] == "tool_use" and block["name"] == name
    ]


async def measure(records: int) -> dict[str, dict[str, Measured]]:
    """Every question asked twice against one sandbox: with raw results, then with compact ones."""
    measured: dict[str, dict[str, Measured]] = {}
    with tempfile.TemporaryDirectory() as folder:
        sandbox = SandboxLogfire(records=records, auto_approve=True)
        await asyncio.to_thread(sandbox.start)
        database = open_database(f"sqlite+aiosqlite:///{folder}/bench.db")
        await upgrade(database)
        pool = McpPool(
            await connect(sandbox, database, SecretBox.from_text(generate_key())), ToolGate(), database
        )
        try:
            for example in (*EXAMPLES, LISTING):
                measured[example.question] = {
                    "raw": await ask(example, sandbox, pool, raw_result),
                    "compact": await ask(example, sandbox, pool, compact_result),
                }
        finally:
            await pool.close()
            await database.dispose()
            await asyncio.to_thread(sandbox.stop)
    return measured


COLUMNS = ("calls", "input raw", "compact", "ratio", "results raw", "compact", "ratio", "cost raw", "compact")


def row(label: str, calls: str, raw: tuple[int, int, float], compact: tuple[int, int, float]) -> str:
    cells = (
        calls,
        f"{raw[0]:,}",
        f"{compact[0]:,}",
        f"{compact[0] / raw[0]:.2f}",
        f"{raw[1]:,}",
        f"{compact[1]:,}",
        f"{compact[1] / raw[1]:.2f}" if raw[1] else "-",
        f"${raw[2]:.4f}",
        f"${compact[2]:.4f}",
    )
    return f"{label[:56]:<56}" + "".join(f"{cell:>12}" for cell in cells)


def figures(run: Measured) -> tuple[int, int, float]:
    return run.input_tokens, run.result_tokens, run.cost_usd


async def main(records: int, repeats: int) -> None:
    measured = await measure(records)
    seeds = [measured[example.question] for example in EXAMPLES]
    tools, tool_tokens, system_tokens = seeds[0]["compact"].prefix
    print(
        f"Claude path, model {DEFAULT_MODEL}, sandbox of {records:,} records; token counts from the stand-in"
    )
    print(
        f"prefix of every call: {tools} tool definitions ({tool_tokens:,} tokens) + system prompt "
        f"({system_tokens:,} tokens), written to the prompt cache by the first call and read by the next"
    )
    print("baseline: raw results (every row as JSON objects); ratio = compact / raw")
    print(f"{'question':<56}" + "".join(f"{column:>12}" for column in COLUMNS))
    for example in (*EXAMPLES, LISTING):
        runs = measured[example.question]
        label = example.question if example is not LISTING else "extra: " + example.question
        if example is LISTING:
            totals = [
                tuple(map(sum, zip(*(figures(run[name]) for run in seeds), strict=True)))
                for name in ("raw", "compact")
            ]
            print(row("all four seed questions", "", *totals))
        print(row(label, str(runs["compact"].model_calls), figures(runs["raw"]), figures(runs["compact"])))
    cases = [case for runs in seeds for case in runs["compact"].charts]
    try:
        median = await render_median(cases, repeats)
    finally:
        await close_renderer()
    calls = statistics.mean(runs["compact"].model_calls for runs in seeds)
    print(f"model calls per seed question: {calls:g} (mean; each asks the query, then charts and answers)")
    print(
        f"chart render time (median): {median * 1000:.0f} ms "
        f"({len(cases)} seed charts x {repeats} repeats, process pool)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.records, options.repeats))
