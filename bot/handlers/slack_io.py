"""The Web API calls the handlers make, each with the bot's conventions: unfurls off, threads kept,
`ok` checked (slack_sdk raises SlackApiError on `ok: false`; callers catch it where a fallback exists)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.charts import RenderedChart

log = logging.getLogger(__name__)

Blocks = list[dict[str, Any]]
SHARE_POLL_SECONDS = 0.25
SHARE_WAIT_SECONDS = 15.0


async def post(
    client: AsyncWebClient,
    channel: str,
    text: str,
    blocks: Blocks | None = None,
    thread_ts: str | None = None,
) -> str:
    """Post a message (unfurls off); returns its ts."""
    response = await client.chat_postMessage(
        channel=channel,
        text=text,
        blocks=blocks,
        thread_ts=thread_ts,
        unfurl_links=False,
        unfurl_media=False,
    )
    return response["ts"]


async def update(
    client: AsyncWebClient, channel: str, ts: str, text: str, blocks: Blocks | None = None
) -> None:
    await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks or [])


async def delete(client: AsyncWebClient, channel: str, ts: str) -> None:
    try:
        await client.chat_delete(channel=channel, ts=ts)
    except SlackApiError as error:
        log.info("could not delete message %s: %s", ts, error.response.get("error"))


async def ephemeral(
    client: AsyncWebClient,
    channel: str,
    user: str,
    text: str,
    blocks: Blocks | None = None,
    thread_ts: str | None = None,
) -> None:
    await client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts)


async def tell(
    client: AsyncWebClient, user: str, channel: str | None, text: str, blocks: Blocks | None = None
) -> None:
    """An ephemeral note in the channel the user was in, else a direct message from the app."""
    if channel:
        try:
            await ephemeral(client, channel, user, text, blocks)
            return
        except SlackApiError as error:
            log.info("ephemeral in %s failed (%s); sending a DM", channel, error.response.get("error"))
    await post(client, user, text, blocks)


async def upload_chart(client: AsyncWebClient, channel: str, thread_ts: str, chart: RenderedChart) -> str:
    """Upload a chart PNG into the thread (files_upload_v2); returns the file id."""
    response = await client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts,
        content=chart.png,
        filename=chart.filename,
        title=chart.title,
    )
    files = response.get("files") or [response.get("file")]
    return files[0]["id"]


async def message_of_file(client: AsyncWebClient, file_id: str, channel: str) -> str | None:
    """The ts of the message that shared a file in a channel (Slack fills `shares` in after the upload)."""
    deadline = asyncio.get_running_loop().time() + SHARE_WAIT_SECONDS
    while True:
        info = await client.files_info(file=file_id)
        shares = info["file"].get("shares", {})
        for visibility in ("public", "private"):
            if entries := shares.get(visibility, {}).get(channel):
                return entries[0]["ts"]
        if asyncio.get_running_loop().time() > deadline:
            return None
        await asyncio.sleep(SHARE_POLL_SECONDS)


def error_code(error: SlackApiError) -> str:
    return str(error.response.get("error", "unknown_error"))
