"""Injected 429s and errors, and slack_sdk's retry handlers recovering from them."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator


async def test_429_without_a_retry_handler_raises(emu: SlackEmulator, client: AsyncWebClient) -> None:
    emu.fail_next("chat.postMessage", retry_after=0)
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel=emu.channel("general").id, text="hi")
    assert limited.value.response.status_code == 429
    assert limited.value.response["error"] == "ratelimited"
    assert limited.value.response.headers["Retry-After"] == "0"
    assert emu.messages("general") == []
    await client.chat_postMessage(channel=emu.channel("general").id, text="hi")
    assert [c.status for c in emu.calls_to("chat.postMessage")] == [429, 200]


async def test_rate_limit_retry_handler_retries_and_succeeds(emu: SlackEmulator) -> None:
    client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    emu.fail_next("chat.postMessage", retry_after=0)
    emu.fail_next("upload", retry_after=0)

    posted = await client.chat_postMessage(channel=emu.channel("general").id, text="answer")
    upload = await client.files_upload_v2(channel=emu.channel("general").id, content=b"png", filename="c.png")

    answer, share = emu.messages("general")
    assert answer.ts == posted["ts"] and share.files[0].id == upload["file"]["id"]
    assert emu.file(upload["file"]["id"]).data == b"png"
    assert [c.status for c in emu.calls_to("chat.postMessage")] == [429, 200]
    assert [c.status for c in emu.calls_to("upload")] == [429, 200]


async def test_generic_error_injection(emu: SlackEmulator, client: AsyncWebClient) -> None:
    emu.fail_next("auth.test", status=200, error="internal_error", times=2)
    emu.fail_next("auth.test", status=503, error="service_unavailable")
    for status, error in ((200, "internal_error"), (200, "internal_error"), (503, "service_unavailable")):
        with pytest.raises(SlackApiError) as failed:
            await client.auth_test()
        assert (failed.value.response.status_code, failed.value.response["error"]) == (status, error)
    assert (await client.auth_test())["ok"]
