"""Events: mentions (in channels and threads), direct messages, replies in threads the bot answered,
App Home, and uninstalls."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import NotConnected
from bot.handlers import blocks, home, slack_io
from bot.handlers.jobs import Jobs
from bot.handlers.questions import Ask, answer_in_thread
from bot.services import Services

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "channel_join", "channel_leave"}


def question_text(text: str) -> str:
    """The question without the mentions of the bot (or anyone)."""
    return " ".join(MENTION.sub(" ", text or "").split())


def register(app: AsyncApp, services: Services, jobs: Jobs) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        thread_ts = event.get("thread_ts") or event["ts"]
        ask = _ask(body, event, thread_ts)
        if not ask.text:
            text, help_blocks = blocks.help()
            await slack_io.post(client, ask.channel_id, text, help_blocks, thread_ts=thread_ts)
            return
        jobs.start(answer_in_thread(services, client, ask), name="mention")

    @app.event("message")
    async def on_message(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context
    ) -> None:  # type: ignore[no-untyped-def]
        if event.get("subtype") in IGNORED_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        if event.get("channel_type") == "im":
            ask = _ask(body, event, event.get("thread_ts") or event["ts"])
            if ask.text:
                jobs.start(answer_in_thread(services, client, ask), name="direct message")
            return
        thread_ts = event.get("thread_ts")
        bot_user = context.get("bot_user_id")
        if not thread_ts or (bot_user and f"<@{bot_user}" in (event.get("text") or "")):
            return  # not a reply, or a mention (answered by on_mention)
        ask = _ask(body, event, thread_ts)
        if ask.text and await services.analyst.answered_in_thread(ask.team_id, ask.channel_id, thread_ts):
            jobs.start(answer_in_thread(services, client, ask), name="thread follow-up")

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") == "home":
            await home.publish(services, client, _team(body), event["user"])

    @app.event("app_uninstalled")
    @app.event("tokens_revoked")
    async def on_uninstalled(body: dict[str, Any]) -> None:
        team = _team(body)
        try:
            result = await services.vault.disconnect(team)
            log.info(
                "removed the Logfire connection of uninstalled team %s (revoked: %s)", team, result.revoked
            )
        except NotConnected:
            pass
        await services.pool.close(team)


def _team(body: dict[str, Any]) -> str:
    return body.get("team_id") or body.get("authorizations", [{}])[0].get("team_id", "")


def _ask(body: dict[str, Any], event: dict[str, Any], thread_ts: str) -> Ask:
    team = event.get("team") or _team(body)
    return Ask(team, event["channel"], event["user"], question_text(event.get("text", "")), thread_ts)
