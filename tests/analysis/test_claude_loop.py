"""The Claude tool loop end to end: the real SDK against the Anthropic stand-in, the real pool and sandbox
Logfire behind the tools, the Analyst recording each question.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.analysis.claude.pricing import price_of
from db.models import Analysis
from sandbox.logfire.examples import STATUS_CODES
from tests.analysis.conftest_claude import (
    ClaudeRig,
    answer_call,
    chart_and_answer,
    claude_rig,
    iso,
    last_results,
    query,
    read_table,
    stop_chart_workers,
)
from tests.fakes.anthropic_api import Reply, tool_use

STATUS_CHART = {
    "kind": "bar",
    "title": "Traces by status code",
    "time_range": "today",
    "x": "http_response_status_code",
    "y": ["n"],
}


@pytest.fixture(scope="module", autouse=True)
def _chart_workers() -> Iterator[None]:
    yield
    stop_chart_workers()


@pytest.fixture
async def rig(oauth, sandbox) -> AsyncIterator[ClaudeRig]:
    async with claude_rig(oauth, sandbox) as ready:
        yield ready


def status_summary(rows: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    total = sum(int(row["n"]) for row in rows)
    top = max(rows, key=lambda row: int(row["n"]))
    summary = f"**{total:,} traces** today; most answered `{top['http_response_status_code']}` ({top['n']})."
    numbers = [{"label": "traces", "value": f"{total:,}"}]
    numbers += [
        {"label": f"status {row['http_response_status_code']}", "value": row["n"]} for row in rows[:5]
    ]
    return summary, numbers


async def test_a_one_query_question_is_answered_in_two_model_calls_with_a_chart(rig: ClaudeRig) -> None:
    window = rig.window("today")
    rig.api.queue(
        query(STATUS_CODES.sql, window, preamble="I'll count root spans by status code."),
        chart_and_answer(STATUS_CHART, status_summary, "today (UTC)"),
    )

    result = await rig.ask(STATUS_CODES.question)

    truth = rig.truth.status_code_counts(*window)
    numbers = {number.label: number.value for number in result.key_numbers}
    assert numbers["traces"] == f"{sum(truth.values()):,}"
    statuses = {
        int(label.split()[1]): int(value) for label, value in numbers.items() if label.startswith("status ")
    }
    assert len(statuses) == min(5, len(truth)) and all(
        truth[code] == count for code, count in statuses.items()
    )
    assert min(statuses.values()) >= sorted(truth.values(), reverse=True)[len(statuses) - 1]
    assert len(rig.api.message_requests) == 2 and result.usage.model_calls == 2
    assert not result.partial and result.notes == []
    assert result.summary.startswith(f"*{sum(truth.values()):,} traces* today")
    assert result.window_label == "today (UTC)"
    [chart] = result.charts
    assert chart.title.startswith("Traces by status code") and chart.png.startswith(b"\x89PNG")
    [run] = result.queries
    assert (run.tool, run.sql, run.window) == (
        "query_run",
        STATUS_CODES.sql,
        (iso(window[0]), iso(window[1])),
    )


async def test_what_the_bot_sends_tools_schemas_cache_breakpoints_and_the_window(rig: ClaudeRig) -> None:
    window = rig.window("today")
    rig.api.queue(
        query(STATUS_CODES.sql, window), chart_and_answer(STATUS_CHART, status_summary, "today (UTC)")
    )
    await rig.ask(STATUS_CODES.question)

    catalog = await rig.pool.catalog("T1")
    allowed = {tool.name: tool.tool for tool in catalog.allowed}
    first, second = (record.body for record in rig.api.message_requests)
    sent = {tool["name"]: tool for tool in first["tools"]}
    assert list(sent) == [*sorted(allowed), "render_chart", "answer"]
    assert not {tool.name for tool in catalog.blocked} & set(sent)
    for name, tool in allowed.items():
        assert sent[name]["input_schema"] == tool.input_schema
        assert sent[name].get("description") == tool.description
    assert second["tools"] == first["tools"]

    last_tool = f"tools.{len(sent) - 1}"
    assert rig.api.cache_breakpoints(first) == [last_tool, "system.0", "messages.0.content.0"]
    assert rig.api.cache_breakpoints(second) == [last_tool, "system.0", "messages.2.content.0"]
    stable, moment = (block["text"] for block in first["system"])
    assert "CREATE TABLE records" in stable  # the server's schema reference, in the cached part
    assert "Logfire region: us" in moment and "Current time: " in moment
    assert first["system"][0] == second["system"][0]

    usage = [record.response["usage"] for record in rig.api.message_requests]
    assert usage[0]["cache_creation_input_tokens"] > 1024 and usage[0]["cache_read_input_tokens"] == 0
    assert usage[1]["cache_read_input_tokens"] >= usage[0]["cache_creation_input_tokens"]

    [call] = [call for call in rig.sandbox.controls.calls if call.name == "query_run"]
    assert call.arguments == {
        "query": STATUS_CODES.sql,
        "start_timestamp": iso(window[0]),
        "end_timestamp": iso(window[1]),
    }
    ((block, text),) = last_results(second)
    assert read_table(text)[0] == "r1" and not block.get("is_error")


async def test_tokens_and_cost_are_recorded_in_the_analyses_row(rig: ClaudeRig) -> None:
    window = rig.window("today")
    rig.api.queue(
        query(STATUS_CODES.sql, window), chart_and_answer(STATUS_CHART, status_summary, "today (UTC)")
    )
    result = await rig.ask(STATUS_CODES.question)

    sent = rig.api.total_usage()
    input_total = sum(
        sent[key] for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    assert result.usage.model_calls == 2
    assert (result.usage.input_tokens, result.usage.output_tokens) == (input_total, sent["output_tokens"])
    assert result.usage.cache_read_tokens == sent["cache_read_input_tokens"]
    # Sonnet 5.5 list prices per million tokens (platform.claude.com): input 2, output 10, 5-minute cache
    # write 2.50, cache read 0.10.
    assert price_of(rig.engine.model) is not None and rig.engine.model.startswith("claude-sonnet-5-5")
    expected = (
        sent["input_tokens"] * 2.0
        + sent["output_tokens"] * 10.0
        + sent["cache_creation_input_tokens"] * 2.5
        + sent["cache_read_input_tokens"] * 0.10
    ) / 1_000_000
    assert result.usage.cost_usd == pytest.approx(expected, abs=1e-6) and expected > 0

    async with rig.oauth.database.sessions() as session:
        row = await session.scalar(select(Analysis).where(Analysis.id == result.analysis_id))
    assert (row.status, row.mode, row.model) == ("answered", "claude", rig.engine.model)
    assert (row.input_tokens, row.output_tokens) == (input_total, sent["output_tokens"])
    assert row.cost_usd == pytest.approx(expected, abs=1e-6)
    assert row.timings["model_calls"] == 2
    assert row.answer == result.summary
    assert [call["tool"] for call in row.tool_calls] == ["query_run"]


async def test_a_follow_up_carries_the_thread_and_a_new_question_reads_the_prompt_cache(
    rig: ClaudeRig,
) -> None:
    window = rig.window("today")
    rig.api.queue(
        query(STATUS_CODES.sql, window), chart_and_answer(STATUS_CHART, status_summary, "today (UTC)")
    )
    first = await rig.ask(STATUS_CODES.question, thread_ts="1700000000.000100")

    def answer_from_history(body: dict[str, Any]) -> Reply:
        roles = [message["role"] for message in body["messages"]]
        assert roles == ["user", "assistant", "user"], roles
        assert body["messages"][0]["content"] == STATUS_CODES.question
        assert body["messages"][1]["content"] == first.summary
        return answer_call("From the earlier answer: the same counts.", window="today (UTC)")

    rig.api.queue(answer_from_history)
    follow_up = await rig.ask("And which was the most common?", thread_ts="1700000000.000100")

    assert follow_up.usage.model_calls == 1 and follow_up.summary.startswith("From the earlier answer")
    assert (
        rig.api.message_requests[-1].body["messages"][-1]["content"][0]["text"]
        == "And which was the most common?"
    )
    assert rig.api.message_requests[-1].response["usage"]["cache_read_input_tokens"] > 1024


async def test_a_wrong_chart_field_comes_back_as_a_tool_error_and_the_corrected_spec_renders(
    rig: ClaudeRig,
) -> None:
    window = rig.window("today")
    wrong = {**STATUS_CHART, "y": ["count"]}

    def fix_chart(body: dict[str, Any]) -> Reply:
        chart, answer = last_results(body)
        assert chart[0]["is_error"] and "count" in chart[1]
        assert not answer[0].get("is_error") and "Fix the chart" in answer[1]
        return tool_use("render_chart", {**STATUS_CHART, "result_id": "r1"})

    rig.api.queue(
        query(STATUS_CODES.sql, window), chart_and_answer(wrong, status_summary, "today (UTC)"), fix_chart
    )
    result = await rig.ask(STATUS_CODES.question)

    assert len(rig.api.message_requests) == 3 and result.usage.model_calls == 3
    [chart] = result.charts
    assert chart.title.startswith("Traces by status code")
    assert not result.partial and result.key_numbers


async def test_a_long_window_reaches_logfire_as_sent(rig: ClaudeRig) -> None:
    end = rig.window("all")[1]
    window = (end - timedelta(days=3), end)
    rig.api.queue(
        query(
            "SELECT service_name, count(*) AS n FROM records GROUP BY service_name ORDER BY n DESC LIMIT 20",
            window,
        ),
        chart_and_answer(
            {
                "kind": "hbar",
                "title": "Records by service",
                "time_range": "last 3 days",
                "x": "service_name",
                "y": ["n"],
            },
            lambda rows: (f"{len(rows)} services.", [{"label": "services", "value": str(len(rows))}]),
            "last 3 days (UTC)",
        ),
    )
    result = await rig.ask("Volume by service over the last 3 days")
    [call] = [call for call in rig.sandbox.controls.calls if call.name == "query_run"]
    assert (call.arguments["start_timestamp"], call.arguments["end_timestamp"]) == (
        iso(window[0]),
        iso(window[1]),
    )
    assert result.key_numbers[0].value == str(len(rig.truth.service_names(*window)))


async def test_the_schema_reference_is_fetched_once_per_workspace_and_lifetime(rig: ClaudeRig) -> None:
    for summary in ("First.", "Second."):
        rig.api.queue(answer_call(summary))
        await rig.ask("What tables are there?")
    assert rig.sandbox.controls.tool_calls["query_schema_reference"] == 1
    first, second = (record.body["system"][0]["text"] for record in rig.api.message_requests)
    assert first == second and "<schema_reference>" in first

    rig.engine.references.lifetime_seconds = 0.0
    rig.api.queue(answer_call("Third."))
    await rig.ask("What tables are there?")
    assert rig.sandbox.controls.tool_calls["query_schema_reference"] == 2
