"""The Anthropic API failing: overload retried with backoff, rate limits and refusals as typed errors the
Slack layer can show, and the failure recorded in `analyses`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import pytest
from sqlalchemy import select

from bot.analysis.claude import ClaudeEngine
from bot.analysis.service import Analyst
from bot.analysis.types import Question
from bot.config import load_settings
from bot.errors import ModelOverloaded, ModelRateLimited, ModelRejected
from bot.handlers.blocks import error_message
from db.models import Analysis
from tests.analysis.conftest_claude import ClaudeRig, answer_call, claude_rig
from tests.fakes.anthropic_api import ErrorReply, overloaded, rate_limited

QUESTION = "How many services sent data today?"


@pytest.fixture
async def rig(oauth, sandbox) -> AsyncIterator[ClaudeRig]:
    async with claude_rig(oauth, sandbox, max_retries=2) as ready:
        yield ready


async def recorded(rig: ClaudeRig) -> Analysis:
    async with rig.oauth.database.sessions() as session:
        return await session.scalar(select(Analysis).order_by(Analysis.created_at.desc()).limit(1))


async def test_an_overloaded_api_is_retried_with_backoff_then_answers(rig: ClaudeRig) -> None:
    rig.api.queue(overloaded(), overloaded(), answer_call("Three services sent data today."))
    result = await rig.ask(QUESTION)

    assert result.summary == "Three services sent data today." and result.usage.model_calls == 1
    first, second, third = rig.api.message_requests
    assert [record.status for record in (first, second, third)] == [529, 529, 200]
    assert [record.headers["x-stainless-retry-count"] for record in (first, second, third)] == ["0", "1", "2"]
    # Exponential backoff with jitter: 0.5 s then 1 s, each shortened by at most a quarter.
    assert second.received_at - first.received_at >= 0.375
    assert third.received_at - second.received_at >= 0.75


async def test_retry_after_is_honoured(rig: ClaudeRig) -> None:
    rig.api.queue(overloaded(retry_after="1.2"), answer_call("Recovered."))
    await rig.ask(QUESTION)
    failed, answered = rig.api.message_requests
    assert answered.received_at - failed.received_at >= 1.2


async def test_rate_limits_past_the_retries_are_a_clear_error_and_a_failed_analysis(rig: ClaudeRig) -> None:
    rig.api.queue(rate_limited("0.05"), rate_limited("0.05"), rate_limited("7"))
    with pytest.raises(ModelRateLimited) as raised:
        await rig.ask(QUESTION)

    assert str(raised.value) == (
        "Claude is not available right now (the bot reached its Anthropic rate limit). "
        "Try again in about 7 s."
    )
    shown = error_message(raised.value)  # what the Slack layer posts for it
    assert "Anthropic rate limit" in shown.text and "Try again in 7 s" in shown.text
    assert (raised.value.kind, raised.value.retry_after) == ("model_rate_limited", 7.0)
    assert len(rig.api.message_requests) == 3 and rig.api.pending == 0
    row = await recorded(rig)
    assert row.status == "failed" and row.error == f"model_rate_limited: {raised.value}"


async def test_a_spend_limit_is_not_retried_and_says_who_must_act(rig: ClaudeRig) -> None:
    rig.api.queue(
        ErrorReply(
            429,
            "rate_limit_error",
            "You have reached your organization's monthly spend limit.",
            headers={"x-should-retry": "false"},
            details={"error_code": "enforced_spend_limit_reached"},
        )
    )
    with pytest.raises(ModelRejected, match=r"spend limit is reached.*ANTHROPIC_API_KEY"):
        await rig.ask(QUESTION)
    assert len(rig.api.message_requests) == 1


async def test_a_wrong_api_key_is_rejected_without_retries(rig: ClaudeRig) -> None:
    client = anthropic.AsyncAnthropic(api_key="wrong-key", base_url=rig.api.base_url, max_retries=2)
    engine = ClaudeEngine(client, rig.engine.model)
    try:
        with pytest.raises(ModelRejected, match=r"HTTP 401: the API key was refused"):
            await Analyst(rig.pool, rig.oauth.database, engine).answer(Question("T1", "C1", "U1", QUESTION))
    finally:
        await engine.aclose()
    assert [record.status for record in rig.api.requests] == [401]
    assert "wrong-key" not in str((await recorded(rig)).error)


async def test_the_engine_from_settings_uses_the_base_url_the_key_and_the_retries(rig: ClaudeRig) -> None:
    settings = load_settings(
        anthropic_api_key=rig.api.api_key,
        anthropic_base_url=rig.api.base_url,
        logfire_bot_model_retries=1,
        logfire_bot_max_steps=3,
    )
    engine = ClaudeEngine.from_settings(settings)
    assert (engine.model, engine.caps.max_steps) == (settings.logfire_bot_model, 3)
    rig.api.queue(overloaded("0.05"), overloaded("0.05"))
    try:
        with pytest.raises(ModelOverloaded, match="overloaded") as raised:
            await Analyst(rig.pool, rig.oauth.database, engine).answer(Question("T1", "C1", "U1", QUESTION))
    finally:
        await engine.aclose()
    assert [record.status for record in rig.api.message_requests] == [529, 529]
    assert "Claude is overloaded right now" in error_message(raised.value).text
    assert rig.api.message_requests[0].body["model"] == settings.logfire_bot_model
