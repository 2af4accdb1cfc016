"""How the app treats Slack's requests: fast acks, one answer per event, signatures enforced."""

from __future__ import annotations

import asyncio
import time

from sandbox.slack import Message
from tests.slack_app.conftest import SlackApp


async def test_acks_stay_fast_while_an_analysis_takes_ten_seconds(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    slack_app.sandbox.controls.inject("latency", tool="query_run", seconds=10.0, times=2)
    started = time.perf_counter()
    first = await slack_app.emu.slash_command("slowest endpoints in the last hour", user="bob")
    mention = await slack_app.emu.user_message(f"{slack_app.emu.bot_mention()} errors today", user="bob")
    assert first.status == 200 and first.elapsed < 1.0
    assert all(delivery.status == 200 and delivery.elapsed < 1.0 for delivery in mention.deliveries)
    assert time.perf_counter() - started < 3

    root = (await slack_app.emu.wait_for(lambda: slack_app.emu.messages("general")))[0]

    def answered() -> list[Message] | None:
        replies = [m for m in slack_app.emu.thread("general", root.ts) if m.ts != root.ts and m.bot_id]
        return replies or None

    await slack_app.emu.wait_for(answered, within=40)
    assert time.perf_counter() - started >= 10  # the answer really waited for Logfire


async def test_a_retried_event_is_answered_once(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    post = await slack_app.emu.user_message(f"{slack_app.emu.bot_mention()} trace count by status code today")
    retried = await slack_app.emu.retry(post.deliveries[0], num=1)
    assert retried.status == 200

    def answers() -> list[Message]:
        return [m for m in slack_app.emu.thread("general", post.message.ts) if m.bot_id and m.files]

    await slack_app.emu.wait_for(answers, within=30)
    await asyncio.sleep(1.0)  # time for a second (wrong) answer to arrive
    assert len(answers()) == 1
    assert len(slack_app.emu.calls_to("files.completeUploadExternal")) == 1


async def test_unsigned_wrongly_signed_and_stale_requests_are_refused(slack_app: SlackApp) -> None:
    for signing in ("missing", "wrong", "stale"):
        delivery = await slack_app.emu.slash_command("status", user="bob", signing=signing)
        assert delivery.status == 401, signing
    assert slack_app.emu.calls_to("chat.postEphemeral") == []
