"""files_upload_v2 end to end, files.info shares that appear late (clients poll), pins, slack_file images."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(4096)


async def share_of(client: AsyncWebClient, file_id: str, channel_id: str) -> dict[str, Any]:
    """Poll files.info until the file's share in the channel appears (what the bot must do to pin)."""
    for _ in range(100):
        shares = (await client.files_info(file=file_id))["file"]["shares"]
        for visibility in ("public", "private"):
            if channel_id in shares.get(visibility, {}):
                return shares[visibility][channel_id][0]
        await asyncio.sleep(0.02)
    raise AssertionError("the share never appeared")


async def test_upload_v2_into_a_thread(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general = emu.channel("general")
    root = await client.chat_postMessage(channel=general.id, text="question")
    upload = await client.files_upload_v2(
        channel=general.id, thread_ts=root["ts"], content=PNG, filename="chart.png", title="p95 latency"
    )
    file_id = upload["file"]["id"]
    assert [c.method for c in emu.calls[1:]] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert emu.calls[1].params["length"] == str(len(PNG))
    assert upload["file"]["shares"] == {}, "the completion answers before Slack has shared the file"

    reply = emu.thread(general, root["ts"])[1]
    assert (
        reply.files[0].id == file_id and reply.files[0].data == PNG and reply.files[0].title == "p95 latency"
    )
    share = await share_of(client, file_id, general.id)
    assert (share["ts"], share["thread_ts"]) == (reply.ts, root["ts"])

    file = (await client.files_info(file=file_id))["file"]
    headers = {"Authorization": f"Bearer {emu.bot_token}"}
    async with aiohttp.ClientSession() as session, session.get(file["url_private"], headers=headers) as got:
        assert await got.read() == PNG


async def test_pin_the_chart_message_found_through_shares(emu: SlackEmulator, client: AsyncWebClient) -> None:
    ops = emu.channel("ops")
    root = await client.chat_postMessage(channel=ops.id, text="question")
    upload = await client.files_upload_v2(channel=ops.id, thread_ts=root["ts"], content=PNG, filename="c.png")
    share = await share_of(client, upload["file"]["id"], ops.id)

    await client.pins_add(channel=ops.id, timestamp=share["ts"])
    with pytest.raises(SlackApiError) as twice:
        await client.pins_add(channel=ops.id, timestamp=share["ts"])
    assert twice.value.response["error"] == "already_pinned"
    items = (await client.pins_list(channel=ops.id))["items"]
    assert [(i["type"], i["message"]["ts"]) for i in items] == [("message", share["ts"])]
    assert emu.pins(ops)[0].files[0].data == PNG

    await client.pins_remove(channel=ops.id, timestamp=share["ts"])
    assert emu.pins(ops) == []
    with pytest.raises(SlackApiError) as unpinned:
        await client.pins_remove(channel=ops.id, timestamp=share["ts"])
    assert unpinned.value.response["error"] == "no_pin"


async def test_pin_errors(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general, random = emu.channel("general"), emu.channel("random")
    elsewhere = await emu.user_message("a message the bot cannot see", channel="random")
    cases = [
        ({"channel": general.id, "timestamp": "1.000001"}, "message_not_found"),
        ({"channel": random.id, "timestamp": elsewhere.message.ts}, "not_in_channel"),
        ({"channel": "C0NOSUCH", "timestamp": "1.000001"}, "channel_not_found"),
    ]
    for args, error in cases:
        with pytest.raises(SlackApiError) as failed:
            await client.pins_add(**args)
        assert failed.value.response["error"] == error
    emu.workspace.scopes.remove("pins:write")
    with pytest.raises(SlackApiError) as scope:
        await client.pins_add(channel=general.id, timestamp=elsewhere.message.ts)
    assert scope.value.response["needed"] == "pins:write"


async def test_slack_file_image_needs_a_processed_share(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general = emu.channel("general")
    upload = await client.files_upload_v2(channel=general.id, content=PNG, filename="chart.png")
    image = {"type": "image", "slack_file": {"id": upload["file"]["id"]}, "alt_text": "chart"}
    with pytest.raises(SlackApiError) as early:
        await client.chat_postMessage(channel=general.id, text="chart", blocks=[image])
    assert early.value.response["error"] == "invalid_blocks"
    assert "invalid slack file" in early.value.response["errors"][0]
    await share_of(client, upload["file"]["id"], general.id)
    posted = await client.chat_postMessage(channel=general.id, text="chart", blocks=[image])
    assert posted["message"]["blocks"][0]["slack_file"]["id"] == upload["file"]["id"]
    with pytest.raises(SlackApiError) as other_channel:
        await client.chat_postMessage(channel=emu.channel("ops").id, text="chart", blocks=[image])
    assert other_channel.value.response["error"] == "invalid_blocks"


async def test_upload_errors(emu: SlackEmulator, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as missing:
        await client.api_call("files.getUploadURLExternal", params={"filename": "x.png"})
    assert missing.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as not_uploaded:
        await client.files_completeUploadExternal(files=[{"id": "F0NOTHERE", "title": "x"}])
    assert not_uploaded.value.response["error"] == "file_not_found"
    with pytest.raises(SlackApiError) as bad_blocks:
        await client.files_upload_v2(
            channel=emu.channel("general").id,
            content=PNG,
            filename="c.png",
            blocks=json.dumps([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}]),
        )
    assert bad_blocks.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError) as outsider:
        await client.files_upload_v2(channel=emu.channel("random").id, content=PNG, filename="c.png")
    assert outsider.value.response["error"] == "not_in_channel"
