"""Acceptance: the four seed questions and paraphrases of them, answered by the offline planner through the
real Analyst, MCP pool and sandbox, agree with the sandbox's ground truth over the exact window the planner
used (read back from the recorded tool arguments), each with a chart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.analysis.conftest import (
    Asked,
    Asking,
    check_error_rate,
    check_errors,
    check_latency,
    check_llm_usage,
    check_status_codes,
    check_volume,
)

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
Window = timedelta | str  # a rolling length back from now, or "today" / "yesterday"
Check = Callable[[Asked, Asking], None]


@dataclass(frozen=True)
class Case:
    question: str
    window: Window
    check: Check

    def __str__(self) -> str:
        return self.question


def latency(statistic: str = "p95", limit: int = 10) -> Check:
    return lambda asked, asking: check_latency(asked, asking.truth, statistic, limit)


def status_codes(service: str | None = None) -> Check:
    return lambda asked, asking: check_status_codes(asked, asking.truth, service)


def errors(service: str | None, limit: int = 10, *, exceptions_only: bool = False) -> Check:
    return lambda asked, asking: check_errors(
        asked, asking.truth_without_span_events(), service, exceptions_only=exceptions_only, limit=limit
    )


def llm_usage() -> Check:
    return lambda asked, asking: check_llm_usage(asked, asking.truth)


def error_rate(service: str | None = None) -> Check:
    return lambda asked, asking: check_error_rate(asked, asking.truth_of_root_spans(), service)


def volume(service: str | None = None, measure: str = "records") -> Check:
    def check(asked: Asked, asking: Asking) -> None:
        truth = asking.truth_of_root_spans() if measure == "traces" else asking.truth
        check_volume(asked, truth, service, measure)

    return check


SEEDS_AND_PARAPHRASES = [
    # "Show me the slowest API endpoints in the last hour" and paraphrases
    Case("Show me the slowest API endpoints in the last hour", HOUR, latency()),
    Case("which routes were slowest over the past hour?", HOUR, latency()),
    Case("p95 latency by endpoint, last 60 minutes", HOUR, latency()),
    Case("top 5 slowest routes in the last hour", HOUR, latency(limit=5)),
    Case("API latency per route in the past hour", HOUR, latency()),
    Case("endpoints with the highest p99 in the last hour", HOUR, latency("p99")),
    Case("average response time per endpoint, last hour", HOUR, latency("avg")),
    Case("Which endpoints were slowest in the past 6 hours (max duration)?", 6 * HOUR, latency("max")),
    # "Trace count by status code today"
    Case("Trace count by status code today", "today", status_codes()),
    Case("how many requests per HTTP status code today?", "today", status_codes()),
    Case("status code breakdown for today", "today", status_codes()),
    Case("count of traces by response status since midnight", "today", status_codes()),
    Case("today's HTTP status codes", "today", status_codes()),
    Case("requests by status code in the gateway today", "today", status_codes("api-gateway")),
    # "Top 10 errors in the agent service"
    Case("Top 10 errors in the agent service", DAY, errors("agent")),
    Case("what are the most common errors in agent?", DAY, errors("agent")),
    Case("top 10 exceptions for the agent service", DAY, errors("agent", exceptions_only=True)),
    Case("agent service: top 10 errors over the last 3 days", 3 * DAY, errors("agent")),
    Case("most frequent errors from agent yesterday", "yesterday", errors("agent")),
    Case("top 5 errors in the billing worker today", "today", errors("billing-worker", limit=5)),
    Case("Top 10 errors in the agnet service in the last 24 hours", DAY, errors("agent")),
    # "What was the average token cost per request yesterday?"
    Case("What was the average token cost per request yesterday?", "yesterday", llm_usage()),
    Case("avg LLM cost per request yesterday", "yesterday", llm_usage()),
    Case("how much did each request cost on average yesterday?", "yesterday", llm_usage()),
    Case("mean cost per request for yesterday's LLM calls", "yesterday", llm_usage()),
    Case("yesterday's average AI spend per request", "yesterday", llm_usage()),
    Case("token usage per model yesterday", "yesterday", llm_usage()),
    Case("total LLM cost in the last 24 hours", DAY, llm_usage()),
]

OTHER_FAMILIES = [
    Case("error rate over the last 24 hours", DAY, error_rate()),
    Case("errors per hour in the agent service today", "today", error_rate("agent")),
    Case("record volume per service over the last 6 hours", 6 * HOUR, volume()),
    Case("requests per minute in the last 15 minutes", timedelta(minutes=15), volume(measure="traces")),
    Case("how much traffic did billing-worker get in the past 7 days", 7 * DAY, volume("billing-worker")),
]


def test_the_table_covers_the_four_seeds_and_twenty_paraphrases() -> None:
    seeds = {
        "Show me the slowest API endpoints in the last hour",
        "Trace count by status code today",
        "Top 10 errors in the agent service",
        "What was the average token cost per request yesterday?",
    }
    questions = {case.question for case in SEEDS_AND_PARAPHRASES}
    assert seeds <= questions and len(questions - seeds) >= 20


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case", SEEDS_AND_PARAPHRASES + OTHER_FAMILIES, ids=str)
async def test_answers_agree_with_the_ground_truth(asking: Asking, case: Case) -> None:
    before = datetime.now(UTC)
    asked = await asking.ask(case.question)
    after = datetime.now(UTC)

    result = asked.result
    assert result.mode == "offline" and "Offline mode" in result.summary
    assert result.queries and all(query.error is None for query in result.queries)
    for query in result.queries:
        assert_window(asked.window(query), case.window, before, after)
    case.check(asked, asking)
    if asked.table().rows:
        assert len(result.charts) == 1 and result.charts[0].png.startswith(b"\x89PNG")
        assert result.window_label and result.window_label in result.charts[0].title
    else:  # only when the window is (almost) empty, e.g. "today" just after midnight
        assert result.charts == []


def assert_window(
    window: tuple[datetime, datetime], expected: Window, before: datetime, after: datetime
) -> None:
    start, end = window
    midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
    if expected == "yesterday":
        assert end == before.replace(hour=0, minute=0, second=0, microsecond=0) and start == end - DAY
    else:
        assert before <= end <= after
        assert start == (midnight if expected == "today" else end - expected)
