"""The offline planner on the real path (Analyst, MCP pool, sandbox): questions outside its families,
unknown services, follow-ups in a thread, and Logfire's errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.analysis.offline.writing import OFFLINE_LABEL
from bot.errors import LogfireUnavailable, ToolFailed
from tests.analysis.conftest import Asking, check_errors, check_latency

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_question_outside_the_families_calls_no_tool(asking: Asking) -> None:
    asked = await asking.ask("Can you write me a haiku about our deploys?")
    result = asked.result
    assert result.queries == [] and result.charts == [] and asked.tables == {}
    assert asking.sandbox.controls.tool_calls["query_run"] == 0
    assert result.summary.endswith(OFFLINE_LABEL) and "Top 10 errors in the agent service" in result.summary
    assert result.window_label is None


async def test_an_unknown_service_gets_the_services_that_exist(asking: Asking) -> None:
    asked = await asking.ask("Top 10 errors in the payments service today")
    start, end = asked.window()
    services = asking.truth.service_names(start, end)
    assert services and all(f"`{name}`" in asked.result.summary for name in services)
    assert "payments" in asked.result.summary and asked.result.summary.endswith(OFFLINE_LABEL)
    assert len(asked.result.queries) == 1 and asked.result.charts == []  # only the list of services


async def test_the_default_window_is_said(asking: Asking) -> None:
    asked = await asking.ask("Top 10 errors in the agent service")
    start, end = asked.window()
    assert end - start == timedelta(hours=24)
    assert "names no time window, so this covers the last 24 hours" in asked.result.summary
    assert asked.result.window_label == "last 24 hours (UTC)"
    assert asked.result.summary.splitlines()[0].startswith("The most common error in `agent`")


async def test_follow_ups_reuse_the_family_service_and_window(asking: Asking) -> None:
    thread = "1700000000.000100"
    without_events = asking.truth_without_span_events()
    first = await asking.ask("Top 10 errors in the agent service", thread)
    check_errors(first, without_events, "agent", exceptions_only=False, limit=10)

    yesterday = await asking.ask("and yesterday?", thread)
    start, end = yesterday.window()
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert (start, end) == (midnight - timedelta(days=1), midnight)
    check_errors(yesterday, without_events, "agent", exceptions_only=False, limit=10)

    billing = await asking.ask("what about billing-worker?", thread)
    assert billing.window() == (start, end)
    check_errors(billing, without_events, "billing-worker", exceptions_only=False, limit=10)
    assert "`billing-worker`" in billing.result.summary and billing.result.charts


async def test_a_follow_up_switches_the_statistic(asking: Asking) -> None:
    thread = "1700000000.000200"
    first = await asking.ask("slowest endpoints in the last 6 hours", thread)
    check_latency(first, asking.truth, "p95", 10)
    p99 = await asking.ask("show p99 instead", thread)
    start, end = p99.window()
    assert end - start == timedelta(hours=6)
    check_latency(p99, asking.truth, "p99", 10)
    assert "p99" in p99.result.summary.splitlines()[0] and p99.result.charts


async def test_a_query_error_becomes_a_message_with_logfires_text(asking: Asking) -> None:
    asking.sandbox.controls.inject("is_error", tool="query_run", message="Query exceeded memory", times=1)
    with pytest.raises(ToolFailed, match="Query exceeded memory") as caught:
        await asking.ask("Trace count by status code today")
    assert caught.value.name == "query_run"


async def test_logfire_being_down_is_not_a_query_error(asking: Asking) -> None:
    asking.sandbox.controls.inject("http_500", tool="query_run", times=1)
    with pytest.raises(LogfireUnavailable):
        await asking.ask("Trace count by status code today")
