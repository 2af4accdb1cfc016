"""Anthropic failing while the real Slack app answers: the Claude engine on the real SDK, pointed at the
Anthropic stand-in, behind the bot served to the Slack emulator; the workspace connected to the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.handlers import blocks
from sandbox.logfire.examples import STATUS_CODES
from sandbox.logfire.server import SandboxLogfire
from sandbox.slack import Message
from tests.analysis.conftest_claude import chart_and_answer, query
from tests.analysis.test_claude_loop import STATUS_CHART, status_summary
from tests.fakes.anthropic_api import AnthropicStandIn, overloaded, rate_limited
from tests.slack_app.conftest import SlackApp, find_element, slack_app_on
from tests.slack_app.test_failures import ask, thread_reply


@pytest.fixture
async def api() -> AsyncIterator[AnthropicStandIn]:
    async with AnthropicStandIn() as stand_in:
        yield stand_in


@pytest.fixture
async def claude_app(
    api: AnthropicStandIn, sandbox: SandboxLogfire, tmp_path: Path, encryption_key: str
) -> AsyncIterator[SlackApp]:
    """The Slack app on Claude (no SDK retries, so a failure shows at once), connected to the sandbox."""
    settings = {
        "anthropic_api_key": api.api_key,
        "anthropic_base_url": api.base_url,
        "logfire_bot_model_retries": 0,
    }
    async with slack_app_on(sandbox, tmp_path, encryption_key, **settings) as app:
        assert (await app.connect()).status_code == 200
        yield app


def replies(app: SlackApp, root_ts: str) -> list[Message]:
    return [m for m in app.emu.thread("general", root_ts) if m.ts != root_ts]


async def test_overloaded_claude_says_so_in_the_thread_and_retry_answers(
    claude_app: SlackApp, api: AnthropicStandIn, sandbox: SandboxLogfire
) -> None:
    api.queue(overloaded())
    root_ts = await ask(claude_app, STATUS_CODES.question)
    failure = await thread_reply(claude_app, root_ts, "overloaded")

    assert failure.text.startswith("Claude is overloaded right now")
    assert "Try again in a minute" in failure.text
    assert replies(claude_app, root_ts) == [failure]  # the progress message is gone
    assert [record.status for record in api.message_requests] == [529]

    api.queue(
        query(STATUS_CODES.sql, sandbox.dataset().ground_truth.window("today")),
        chart_and_answer(STATUS_CHART, status_summary, "today (UTC)"),
    )
    await claude_app.emu.click(failure, blocks.RETRY_ACTION, user="bob")
    answer = await thread_reply(claude_app, root_ts, blocks.PIN_CHART_ACTION, within=30)

    assert "traces" in answer.text and find_element(answer, blocks.SHOW_QUERY_ACTION)
    assert len([m for m in replies(claude_app, root_ts) if m.files]) == 1
    assert [record.status for record in api.message_requests] == [529, 200, 200]
    assert api.pending == 0


async def test_a_rate_limited_claude_says_when_to_try_again(
    claude_app: SlackApp, api: AnthropicStandIn
) -> None:
    api.queue(rate_limited("7"))
    root_ts = await ask(claude_app, "How many services sent data today?")
    failure = await thread_reply(claude_app, root_ts, "rate limit")

    assert failure.text == (
        "The bot reached its Anthropic rate limit. Too many questions at once. Try again in 7 s."
    )
    assert find_element(failure, blocks.RETRY_ACTION)
    assert replies(claude_app, root_ts) == [failure]
