"""Questions asked every way Slack allows, answered in the right thread with a chart and working buttons."""

from __future__ import annotations

from bot.handlers import blocks
from sandbox.slack import Message
from tests.slack_app.conftest import SlackApp, find_element


async def answered_thread(app: SlackApp, channel: str, root_ts: str) -> list[Message]:
    """The thread once the answer (with its Pin chart button) and the chart file are in."""

    def complete() -> list[Message] | None:
        thread = app.emu.thread(channel, root_ts)
        pinnable = [m for m in thread if find_element(m, blocks.PIN_CHART_ACTION)]
        charts = [m for m in thread if m.files]
        return thread if pinnable and charts else None

    return await app.emu.wait_for(complete, within=30)


def answer_of(thread: list[Message]) -> Message:
    return next(m for m in thread if find_element(m, blocks.SHOW_QUERY_ACTION))


async def test_slash_command_question(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    delivery = await slack_app.emu.slash_command("top 10 errors in agent service", user="bob")
    assert delivery.status == 200 and delivery.elapsed < 3

    root = await slack_app.emu.wait_for(lambda: slack_app.emu.messages("general"))
    assert "asked" in root[0].text and "top 10 errors in agent service" in root[0].text
    thread = await answered_thread(slack_app, "general", root[0].ts)
    answer = answer_of(thread)
    assert "offline mode" in (answer.text + str(answer.blocks)).lower()
    assert all(message.unfurls_off for message in thread if message.bot_id and not message.files)
    chart = next(m for m in thread if m.files).files[0]
    assert chart.data.startswith(b"\x89PNG") and len(chart.data) > 10_000

    pin = next(m for m in thread if find_element(m, blocks.PIN_CHART_ACTION))
    await slack_app.emu.click(pin, blocks.PIN_CHART_ACTION, user="bob")
    pinned = await slack_app.emu.wait_for(lambda: slack_app.emu.pins("general"), within=20)
    assert pinned[0].files and pinned[0].files[0].id == chart.id

    await slack_app.emu.click(answer, blocks.SHOW_QUERY_ACTION, user="bob")
    shown = await slack_app.ephemeral_saying("bob", "SELECT")
    assert "agent" in str(shown.blocks)


async def test_mention_in_a_channel_then_a_follow_up_in_its_thread(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    mention = slack_app.emu.bot_mention()
    post = await slack_app.emu.user_message(f"{mention} slowest endpoints in the last hour", user="bob")
    thread = await answered_thread(slack_app, "general", post.message.ts)
    assert "http_route" in str(await slack_app.services.analyst.queries(_analysis_id(thread)))

    follow_up = await slack_app.emu.user_message(
        f"{mention} and in the last 6 hours?", user="bob", thread_ts=post.message.ts
    )
    assert follow_up.deliveries

    def two_answers() -> list[Message] | None:
        answers = [
            m
            for m in slack_app.emu.thread("general", post.message.ts)
            if find_element(m, blocks.SHOW_QUERY_ACTION)
        ]
        return answers if len(answers) == 2 else None

    answers = await slack_app.emu.wait_for(two_answers, within=30)
    second = await slack_app.services.analyst.queries(
        find_element(answers[1], blocks.SHOW_QUERY_ACTION)["value"]
    )
    assert any("http_route" in (query.sql or "") for query in second)  # the earlier turn set the family


async def test_direct_message(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    post = await slack_app.emu.user_message("trace count by status code today", user="bob", channel="dm")
    thread = await answered_thread(slack_app, post.message.channel, post.message.ts)
    assert answer_of(thread)


async def test_not_connected_is_a_plain_message_in_the_thread(slack_app: SlackApp) -> None:
    await slack_app.emu.slash_command("slowest endpoints today", user="bob")
    root = await slack_app.emu.wait_for(lambda: slack_app.emu.messages("general"))

    def reply() -> Message | None:
        replies = [m for m in slack_app.emu.thread("general", root[0].ts) if m.ts != root[0].ts]
        return replies[0] if replies else None

    message = await slack_app.emu.wait_for(reply, within=10)
    assert "/logfire connect" in message.text + str(message.blocks)


def _analysis_id(thread: list[Message]) -> str:
    return find_element(answer_of(thread), blocks.SHOW_QUERY_ACTION)["value"]


async def test_web_api_calls_share_kept_alive_connections(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    slack_app.emu.connections.clear()
    calls_before = len(slack_app.emu.calls)
    post = await slack_app.emu.user_message(f"{slack_app.emu.bot_mention()} p95 latency by route", user="bob")
    await answered_thread(slack_app, "general", post.message.ts)

    calls = len(slack_app.emu.calls) - calls_before
    assert calls >= 6 and len(slack_app.emu.connections) <= 2, (calls, slack_app.emu.connections)
