"""Events: mentions (in channels and threads), direct messages, App Home, and uninstalls.

Follow-ups in a channel thread mention the bot (the app does not read channel history); in the app's DM every
message is a question.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import NotConnected
from bot.handlers import blocks, home, slack_io
from bot.handlers.jobs import Jobs
from bot.handlers.questions import Ask, answer_in_thread
from bot.services import Services

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def question_text(text: str) -> str:
    """The question without the mentions of the bot (or anyone)."""
    return " ".join(MENTION.sub(" ", text or "").split())


def register(app: AsyncApp, services: Services, jobs: Jobs) -> None:
    @app.event("app_mention")
    async def on_mention(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context
    ) -> None:  # type: ignore[no-untyped-def]
        ask = _ask(body, event, event.get("thread_ts") or event["ts"])
        if not ask.text:
            text, help_blocks = blocks.help_message(context.get("bot_user_id"))
            await slack_io.post(client, ask.channel_id, text, help_blocks, thread_ts=ask.thread_ts)
            return
        jobs.start(answer_in_thread(services, client, ask), name="mention")

    @app.event("message")
    async def on_direct_message(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        ask = _ask(body, event, event.get("thread_ts") or event["ts"])
        if ask.text:
            jobs.start(answer_in_thread(services, client, ask), name="direct message")

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") == "home":
            await home.publish(services, client, _team(body), event["user"])

    @app.event("app_uninstalled")
    async def on_uninstalled(body: dict[str, Any], context) -> None:  # type: ignore[no-untyped-def]
        """The workspace removed the app: its Slack installation goes, and its Logfire tokens too."""
        await _forget_logfire(services, _team(body))
        if app.installation_store is not None:
            await AsyncTokenRevocationListeners(app.installation_store).handle_app_uninstalled_events(context)

    @app.event("tokens_revoked")
    async def on_tokens_revoked(event: dict[str, Any], body: dict[str, Any], context) -> None:  # type: ignore[no-untyped-def]
        if event.get("tokens", {}).get("bot"):  # without its bot token the workspace cannot use the app
            await _forget_logfire(services, _team(body))
        if app.installation_store is not None:
            await AsyncTokenRevocationListeners(app.installation_store).handle_tokens_revoked_events(
                event, context
            )


async def _forget_logfire(services: Services, team: str) -> None:
    try:
        result = await services.vault.disconnect(team)
        log.info("removed the Logfire connection of team %s (revoked: %s)", team, result.revoked)
    except NotConnected:
        pass
    await services.pool.close(team)


def _team(body: dict[str, Any]) -> str:
    return body.get("team_id") or body.get("authorizations", [{}])[0].get("team_id", "")


def _ask(body: dict[str, Any], event: dict[str, Any], thread_ts: str) -> Ask:
    team = event.get("team") or _team(body)
    return Ask(team, event["channel"], event["user"], question_text(event.get("text", "")), thread_ts)
