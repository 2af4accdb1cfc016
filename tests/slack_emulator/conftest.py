from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator


@pytest.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(share_delay=0.2) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: SlackEmulator) -> AsyncIterator[AsyncWebClient]:
    web_client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    yield web_client
