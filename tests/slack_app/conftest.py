"""The real Slack app (Bolt on aiohttp) on loopback, with the Slack emulator as Slack and the sandbox as
Logfire; requests reach the bot only as signed HTTP from the emulator."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from bot.app import RunningBot, running
from bot.config import load_settings
from bot.handlers import blocks
from bot.manifest import bot_scopes
from bot.services import Services
from sandbox.logfire.browser import consent
from sandbox.logfire.server import SandboxLogfire
from sandbox.slack import Message, SlackEmulator

# Errors Slack gives for a message the bot built wrong (Block Kit, sizes, missing arguments).
MALFORMED = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "msg_blocks_too_long",
    "invalid_arguments",
    "no_text",
}


@dataclass
class SlackApp:
    emu: SlackEmulator
    sandbox: SandboxLogfire
    services: Services
    bot: RunningBot

    async def connect(
        self, user: str = "alice", channel: str = "general", choice: str = ""
    ) -> httpx2.Response:
        """`/logfire connect`, the Authorize button, the consent page, the callback page."""
        await self.emu.slash_command(f"connect {choice}".strip(), user=user, channel=channel)
        prompt = await self.emu.wait_for(
            lambda: _with_action(self.emu.ephemerals(user=user), blocks.AUTHORIZE_ACTION)
        )
        leaving = await consent(button_url(prompt, blocks.AUTHORIZE_ACTION), issuer=self.sandbox.issuer)
        async with httpx2.AsyncClient(timeout=30) as browser:
            return await browser.get(leaving)

    async def ephemeral_saying(self, user: str, words: str, within: float = 10.0) -> Message:
        return await self.emu.wait_for(
            lambda: next(
                (m for m in self.emu.ephemerals(user=user) if words in m.text + str(m.blocks)), None
            ),
            within=within,
        )


def _with_action(messages: list[Message], action_id: str) -> Message | None:
    return next((message for message in reversed(messages) if find_element(message, action_id)), None)


def find_element(message: Message, action_id: str) -> dict[str, Any] | None:
    for block in message.blocks:
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            if element.get("action_id") == action_id:
                return element
    return None


def button_url(message: Message, action_id: str) -> str:
    element = find_element(message, action_id)
    assert element is not None and element.get("url"), message.blocks
    return element["url"]


@asynccontextmanager
async def slack_app_on(
    sandbox: SandboxLogfire, folder: Path, key: str, **overrides: object
) -> AsyncIterator[SlackApp]:
    """The bot, the emulator and `sandbox` wired together; `overrides` are settings (e.g. region URLs)."""
    async with SlackEmulator() as emu:
        emu.workspace.scopes[:] = bot_scopes()
        sock = socket.create_server(("127.0.0.1", 0))
        bot_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = load_settings(
            **{
                "slack_bot_token": emu.bot_token,
                "slack_signing_secret": emu.signing_secret,
                "slack_api_url": emu.api_url,
                "database_url": f"sqlite+aiosqlite:///{folder}/bot.db",
                "token_encryption_keys": key,
                "public_url": bot_url,
                "logfire_mcp_url": sandbox.mcp_url,
                "logfire_region_urls": {"us": sandbox.mcp_url, "eu": "https://logfire-eu.pydantic.dev/mcp"},
                **overrides,
            }
        )
        services = await Services.start(settings)
        try:
            async with running(services, sock) as bot:
                emu.app.request_url = f"{bot.url}/slack/events"
                yield SlackApp(emu, sandbox, services, bot)
        finally:
            await services.close()
        refused = [(call.method, call.error) for call in emu.calls if call.error in MALFORMED]
        assert refused == [], f"Slack would have refused these messages: {refused}"


@pytest.fixture
async def slack_app(sandbox: SandboxLogfire, tmp_path: Path, encryption_key: str) -> AsyncIterator[SlackApp]:
    async with slack_app_on(sandbox, tmp_path, encryption_key) as app:
        yield app
