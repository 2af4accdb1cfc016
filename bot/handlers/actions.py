"""Buttons: Show query, Open in Logfire, Pin chart, Retry, and the connect buttons."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers import blocks, connection, slack_io
from bot.handlers.jobs import Jobs
from bot.handlers.questions import Ask, answer_in_thread
from bot.oauth.authorization import Requester
from bot.services import Services

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services, jobs: Jobs) -> None:
    @app.action(blocks.OPEN_IN_LOGFIRE)
    @app.action(blocks.AUTHORIZE)
    async def url_button(ack) -> None:  # type: ignore[no-untyped-def]
        await ack()  # URL buttons open in the browser; Slack still expects an acknowledgement

    @app.action(blocks.SHOW_QUERY)
    async def show_query(ack, action: dict[str, Any], respond) -> None:  # type: ignore[no-untyped-def]
        await ack()
        queries = await services.analyst.queries(action["value"])
        text, body = blocks.show_query(queries)
        await respond(text=text, blocks=body, response_type="ephemeral", replace_original=False)

    @app.action(blocks.PIN_CHART)
    async def pin_chart(
        ack, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, respond
    ) -> None:  # type: ignore[no-untyped-def]
        await ack()
        jobs.start(_pin(client, respond, action["value"], body["channel"]["id"]), name="pin chart")

    @app.action(blocks.RETRY)
    async def retry(
        ack, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, respond
    ) -> None:  # type: ignore[no-untyped-def]
        await ack()
        recorded = await services.analyst.recorded(action["value"])
        if recorded is None or recorded.thread_ts is None:
            text, notice = blocks.retry_unavailable()
            await respond(text=text, blocks=notice, response_type="ephemeral", replace_original=False)
            return
        ask = Ask(
            recorded.team_id, recorded.channel_id, body["user"]["id"], recorded.question, recorded.thread_ts
        )
        jobs.start(answer_in_thread(services, client, ask), name="retry")

    @app.action(blocks.HOME_CONNECT)
    async def home_connect(ack, body: dict[str, Any], client: AsyncWebClient) -> None:  # type: ignore[no-untyped-def]
        await ack()
        user = body["user"]["id"]
        requester = Requester(body["team"]["id"], user, None, (body.get("enterprise") or {}).get("id"))
        text, prompt = await connection.connect(services, client, requester, "")
        await slack_io.post(client, user, text, prompt)


async def _pin(client: AsyncWebClient, respond, file_id: str, channel: str) -> None:  # type: ignore[no-untyped-def]
    """Pin the message that shares the chart (pins.add pins messages, not files)."""
    try:
        message_ts = await slack_io.message_of_file(client, file_id, channel)
        if message_ts is None:
            text, body = blocks.pin_failed("file_not_shared")
        else:
            await client.pins_add(channel=channel, timestamp=message_ts)
            text, body = blocks.pinned()
    except SlackApiError as error:
        code = slack_io.error_code(error)
        log.info("pinning %s in %s failed: %s", file_id, channel, code)
        text, body = blocks.pinned() if code == "already_pinned" else blocks.pin_failed(code)
    await respond(text=text, blocks=body, response_type="ephemeral", replace_original=False)
