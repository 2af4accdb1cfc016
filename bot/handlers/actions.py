"""Buttons: Show query, Open in Logfire, Pin chart, Retry, and the connect buttons."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers import blocks, connection, slack_io
from bot.handlers.blocks import Message
from bot.handlers.jobs import Jobs
from bot.handlers.questions import Ask, answer_in_thread
from bot.oauth.authorization import Requester
from bot.services import Services

log = logging.getLogger(__name__)

EPHEMERAL = {"response_type": "ephemeral", "replace_original": False}


def register(app: AsyncApp, services: Services, jobs: Jobs) -> None:
    @app.action(blocks.OPEN_IN_LOGFIRE_ACTION)
    @app.action(blocks.AUTHORIZE_ACTION)
    async def url_button(ack) -> None:  # type: ignore[no-untyped-def]
        await ack()  # URL buttons open in the browser; Slack still expects an acknowledgement

    @app.action(blocks.SHOW_QUERY_ACTION)
    async def show_query(ack, action: dict[str, Any], respond) -> None:  # type: ignore[no-untyped-def]
        await ack()
        recorded = await services.analyst.recorded(action["value"])
        queries = await services.analyst.queries(action["value"]) if recorded else []
        messages = blocks.query_messages(queries, recorded.question) if queries else []
        for text, body in messages or [blocks.query_not_found_message()]:
            await respond(text=text, blocks=body, **EPHEMERAL)

    @app.action(re.compile(blocks.PIN_CHART_ACTION_PATTERN))
    async def pin_chart(
        ack, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, respond
    ) -> None:  # type: ignore[no-untyped-def]
        await ack()
        jobs.start(_pin(client, respond, action["value"], body["channel"]["id"]), name="pin chart")

    @app.action(blocks.RETRY_ACTION)
    async def retry(
        ack, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, respond
    ) -> None:  # type: ignore[no-untyped-def]
        await ack()
        recorded = await services.analyst.recorded(action["value"])
        if recorded is None or recorded.thread_ts is None:
            text, notice = blocks.query_not_found_message()
            await respond(text=text, blocks=notice, **EPHEMERAL)
            return
        ask = Ask(
            recorded.team_id, recorded.channel_id, body["user"]["id"], recorded.question, recorded.thread_ts
        )
        jobs.start(answer_in_thread(services, client, ask), name="retry")

    @app.action(re.compile(blocks.CONNECT_ACTION_PATTERN))
    async def home_connect(ack, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:  # type: ignore[no-untyped-def]
        """From App Home: a fresh Authorize link in the app's DM (links expire; a Home view stays)."""
        await ack()
        user, team = body["user"]["id"], body["team"]["id"]
        choice = action.get("value", "")
        if choice == "reconnect":
            current = await services.vault.connection(team)
            choice = current.mcp_url if current else ""
        requester = Requester(team, user, None, (body.get("enterprise") or {}).get("id"))
        text, prompt = await connection.connect(services, client, requester, choice)
        await slack_io.post(client, user, text, prompt)


async def _pin(client: AsyncWebClient, respond, file_id: str, channel: str) -> None:  # type: ignore[no-untyped-def]
    """Pin the message that shares the chart (pins.add pins messages, not files)."""
    text, body = await _pin_result(client, file_id, channel)
    await respond(text=text, blocks=body, **EPHEMERAL)


async def _pin_result(client: AsyncWebClient, file_id: str, channel: str) -> Message:
    try:
        message_ts = await slack_io.message_of_file(client, file_id, channel)
        if message_ts is None:
            return blocks.chart_not_ready_message()
        await client.pins_add(channel=channel, timestamp=message_ts)
        return blocks.chart_pinned_message()
    except SlackApiError as error:
        code = slack_io.error_code(error)
        log.info("pinning %s in %s failed: %s", file_id, channel, code)
        if code == "already_pinned":
            return blocks.chart_pinned_message(already=True)
        return blocks.slack_error_message(
            code, "pin the chart", needed=error.response.get("needed") or "pins:write"
        )
