"""A small real Bolt AsyncApp, served by aiohttp on loopback, driven by the emulator acting as Slack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator

ANSWER_BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*3 errors* in the last hour"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Show query"},
                "action_id": "show_query",
                "value": "q1",
            },
            {"type": "button", "text": {"type": "plain_text", "text": "Refresh"}, "action_id": "refresh"},
            {"type": "button", "text": {"type": "plain_text", "text": "Dismiss"}, "action_id": "dismiss"},
        ],
    },
]


class BotRecord:
    """What the test app saw, for assertions."""

    def __init__(self) -> None:
        self.retry_headers: list[str] = []
        self.actions: list[dict[str, Any]] = []
        self.lifecycle: list[str] = []


def build_app(emu: SlackEmulator, seen: BotRecord) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=emu.bot_token, base_url=emu.api_url), signing_secret=emu.signing_secret
    )
    event_ids: set[str] = set()

    @app.middleware
    async def dedupe(req: Any, resp: Any, next: Any) -> Any:
        if retry := req.headers.get("x-slack-retry-num"):
            seen.retry_headers.append(retry[0])
        if event_id := req.body.get("event_id"):
            if event_id in event_ids:
                return BoltResponse(status=200, body="")
            event_ids.add(event_id)
        return await next()

    @app.command("/logfire")
    async def command(ack: Any, command: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        text = command["text"]
        if text == "help":
            await ack(text="Ask me about your traces.")
        elif text == "announce":
            await ack(response_type="in_channel", text="Logfire is connected.")
        elif text == "slow":
            await asyncio.sleep(0.5)
            await ack()
        elif text == "broken":
            await ack(text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": ""}}])
        elif text == "later":
            await ack()
            await respond(text="Connected to Logfire (us).")
        else:
            await ack()
            root = await client.chat_postMessage(
                channel=command["channel_id"], text=f"<@{command['user_id']}> asked: {text}"
            )
            await client.chat_postMessage(
                channel=command["channel_id"],
                thread_ts=root["ts"],
                text="3 errors",
                blocks=ANSWER_BLOCKS,
                unfurl_links=False,
                unfurl_media=False,
            )

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: Any, set_status: Any, say_stream: Any) -> None:
        if event["text"].endswith("stream please"):
            await set_status(status="is querying Logfire…")
            stream = await say_stream()
            await stream.append(markdown_text="Streamed *answer*.")
            await stream.stop()
        else:
            await say(text=f"answer: {event['text']}", thread_ts=event.get("thread_ts") or event["ts"])

    @app.event("message")
    async def message(event: dict[str, Any], say: Any) -> None:
        if event.get("channel_type") == "im":
            await say(text="answer in the DM", thread_ts=event.get("thread_ts") or event["ts"])
        elif event.get("thread_ts") and "<@" not in event["text"]:
            await say(text=f"follow-up to {event['parent_user_id']}", thread_ts=event["thread_ts"])

    @app.action("show_query")
    async def show_query(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        seen.actions.append(body)
        await respond(text=f"SELECT … -- {body['actions'][0]['value']}", replace_original=False)

    @app.action("refresh")
    async def refresh(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        seen.actions.append(body)
        await respond(text="refreshed", replace_original=True)

    @app.action("dismiss")
    async def dismiss(ack: Any, respond: Any) -> None:
        await ack()
        await respond(delete_original=True)

    @app.action("connect")
    async def connect(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.actions.append(body)

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "Not connected"}},
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "Connect"},
                                "action_id": "connect",
                            }
                        ],
                    },
                ],
            },
        )

    @app.event("tokens_revoked")
    async def revoked(event: dict[str, Any]) -> None:
        seen.lifecycle.append(f"tokens_revoked:{event['tokens']['bot'][0]}")

    @app.event("app_uninstalled")
    async def uninstalled(context: Any) -> None:
        seen.lifecycle.append(f"app_uninstalled:{context.team_id}")

    return app


@pytest.fixture
async def bot(emu: SlackEmulator) -> AsyncIterator[BotRecord]:
    seen = BotRecord()
    runner = web.AppRunner(build_app(emu, seen).web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    emu.app.request_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    yield seen
    await runner.cleanup()


async def test_command_acks_become_ephemeral_or_channel_messages(emu: SlackEmulator, bot: BotRecord) -> None:
    help_ = await emu.slash_command("help", user="bob")
    assert help_.ok and help_.text == "Ask me about your traces."
    assert [m.text for m in emu.ephemerals("bob")] == ["Ask me about your traces."]

    await emu.slash_command("announce")
    assert [m.text for m in emu.messages("general")] == ["Logfire is connected."]

    later = await emu.slash_command("later", channel="dm")
    assert later.text == ""
    shown = await emu.wait_for(lambda: emu.ephemerals("alice", channel=emu.workspace.im("alice")))
    assert shown[0].text == "Connected to Logfire (us)." and shown[0].source == "response_url"
    assert max(d.elapsed for d in emu.courier.deliveries) < 3

    broken = await emu.slash_command("broken", user="bob")
    assert broken.ok and broken.meta["ack_error"] == "invalid_blocks"
    assert emu.ephemerals("bob")[-1].text == '/logfire failed with the error "invalid_blocks"'


async def test_a_late_ack_is_a_timeout(emu: SlackEmulator, bot: BotRecord) -> None:
    emu.courier.ack_timeout = 0.2
    late = await emu.slash_command("slow")
    assert late.timed_out and late.status is None and late.elapsed < 0.5
    assert emu.ephemerals("alice")[-1].text == '/logfire failed with the error "operation_timeout"'


async def test_question_answered_in_a_thread_with_working_buttons(emu: SlackEmulator, bot: BotRecord) -> None:
    await emu.slash_command("top 10 errors", user="bob")
    root = await emu.wait_for(lambda: emu.messages("general"))
    thread = await emu.wait_for_thread("general", root[0].ts)
    assert thread[0].text == f"<@{emu.user('bob').id}> asked: top 10 errors"
    answer = thread[1]
    assert answer.unfurls_off and answer.blocks[1]["elements"][0]["action_id"] == "show_query"

    click = await emu.click(answer, "show_query", user="bob")
    assert click.ok
    payload = bot.actions[-1]
    assert payload["container"] == {
        "type": "message",
        "message_ts": answer.ts,
        "channel_id": answer.channel,
        "is_ephemeral": False,
        "thread_ts": root[0].ts,
    }
    action = payload["actions"][0]
    assert (action["action_id"], action["value"], action["block_id"]) == (
        "show_query",
        "q1",
        answer.blocks[1]["block_id"],
    )
    assert payload["message"]["ts"] == answer.ts and payload["user"]["id"] == emu.user("bob").id
    sql = await emu.wait_for(lambda: emu.ephemerals("bob"))
    assert sql[0].text == "SELECT … -- q1" and sql[0].channel == answer.channel

    await emu.click(answer, "refresh")
    await emu.wait_for(lambda: emu.thread("general", root[0].ts)[1].text == "refreshed")
    assert emu.thread("general", root[0].ts)[1].blocks == []


async def test_delete_original_and_ephemeral_clicks(emu: SlackEmulator, bot: BotRecord) -> None:
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    alice = emu.user("alice")
    await client.chat_postEphemeral(
        channel=emu.channel("general").id, user=alice.id, text="menu", blocks=ANSWER_BLOCKS
    )
    menu = emu.ephemerals("alice")[0]
    with pytest.raises(ValueError, match="recipient"):
        await emu.click(menu, "dismiss", user="bob")
    await emu.click(menu, "show_query")
    assert bot.actions[-1]["container"]["is_ephemeral"] is True and "message" not in bot.actions[-1]
    await emu.wait_for(lambda: len(emu.ephemerals("alice")) == 2)
    await emu.click(menu, "dismiss")
    await emu.wait_for(lambda: len(emu.ephemerals("alice")) == 1)
    assert emu.ephemerals("alice")[0].text.startswith("SELECT")


async def test_mentions_dms_and_thread_follow_ups(emu: SlackEmulator, bot: BotRecord) -> None:
    emu.app.bot_events.add("message.channels")
    mention = await emu.user_message(f"{emu.bot_mention()} errors today?")
    assert [d.meta["event_type"] for d in mention.deliveries] == ["app_mention", "message"]
    thread = await emu.wait_for_thread("general", mention.message.ts)
    assert thread[1].text == f"answer: {emu.bot_mention()} errors today?"

    follow_up = await emu.user_message("and yesterday?", user="bob", thread_ts=mention.message.ts)
    assert [d.meta["event_type"] for d in follow_up.deliveries] == ["message"]
    thread = await emu.wait_for_thread("general", mention.message.ts, replies=3)
    assert thread[3].text == f"follow-up to {emu.user('alice').id}"

    dm = await emu.user_message("errors today?", channel="dm")
    assert [d.meta["event_type"] for d in dm.deliveries] == ["message"]
    reply = await emu.wait_for_thread(emu.workspace.im("alice"), dm.message.ts)
    assert reply[1].text == "answer in the DM"

    ignored = await emu.user_message(f"{emu.bot_mention()} hello?", channel="random")
    assert ignored.deliveries == [], "the bot is not in #random, so Slack tells it nothing"


async def test_status_and_streamed_answer(emu: SlackEmulator, bot: BotRecord) -> None:
    mention = await emu.user_message(f"{emu.bot_mention()} stream please")
    thread = await emu.wait_for_thread("general", mention.message.ts)
    await emu.wait_for(lambda: not emu.thread("general", mention.message.ts)[1].streaming)
    assert emu.thread("general", mention.message.ts)[1].text == "Streamed *answer*."
    assert [s.status for s in emu.status_history("general", mention.message.ts)] == ["is querying Logfire…"]
    assert emu.status("general", mention.message.ts) == "", "the reply cleared the status"
    start = emu.calls_to("chat.startStream")[0].params
    assert (start["recipient_user_id"], start["recipient_team_id"]) == (
        emu.user("alice").id,
        emu.workspace.id,
    )
    assert thread[1].user == emu.workspace.bot_user.id


async def test_a_retried_event_is_answered_once(emu: SlackEmulator, bot: BotRecord) -> None:
    mention = await emu.user_message(f"{emu.bot_mention()} errors?")
    await emu.wait_for_thread("general", mention.message.ts)
    retry = await emu.retry(mention.deliveries[0], reason="http_timeout")
    assert retry.ok and retry.retry_num == 1 and bot.retry_headers == ["1"]
    await asyncio.sleep(0.2)
    assert len(emu.thread("general", mention.message.ts)) == 2


@pytest.mark.parametrize("signing", ["wrong", "missing", "stale"])
async def test_bolt_refuses_bad_signatures(emu: SlackEmulator, bot: BotRecord, signing: Any) -> None:
    refused = await emu.slash_command("help", signing=signing)
    assert refused.status == 401
    assert emu.ephemerals("alice")[0].text == '/logfire failed with the error "dispatch_failed"'
    mention = await emu.user_message(f"{emu.bot_mention()} hi", signing=signing)
    assert [d.status for d in mention.deliveries] == [401]
    assert (await emu.send_raw(b"command=%2Flogfire&text=help", signing=signing)).status == 401
    assert (await emu.slash_command("help")).ok
    assert emu.ephemerals("alice")[-1].text == "Ask me about your traces."


async def test_app_home_and_its_buttons(emu: SlackEmulator, bot: BotRecord) -> None:
    opened = await emu.open_home(user="bob")
    assert opened.ok
    view = await emu.wait_for(lambda: emu.home_view("bob"))
    await emu.click_home("connect", user="bob")
    payload = bot.actions[-1]
    assert payload["container"] == {"type": "view", "view_id": view["id"]} and "response_url" not in payload


async def test_url_verification_and_uninstall(emu: SlackEmulator, bot: BotRecord) -> None:
    token = emu.bot_token
    handshake = await emu.verify_url()
    assert handshake.json() == {"challenge": handshake.meta["challenge"]}
    deliveries = await emu.uninstall()
    assert [d.status for d in deliveries] == [200, 200]
    await emu.wait_for(lambda: len(bot.lifecycle) == 2)
    assert bot.lifecycle == [
        f"tokens_revoked:{emu.workspace.bot_user.id}",
        f"app_uninstalled:{emu.workspace.id}",
    ]
    with pytest.raises(SlackApiError) as revoked:
        await AsyncWebClient(token=token, base_url=emu.api_url).auth_test()
    assert revoked.value.response["error"] == "token_revoked"
