"""Everything the demo needs, on loopback with ephemeral ports: the sandbox Logfire (consent page on), the
Slack emulator, and the bot's real app in HTTP mode with a fresh SQLite database and a generated key."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.app import RunningBot, running
from bot.config import load_settings
from bot.manifest import bot_scopes
from bot.oauth.crypto import generate_key
from bot.services import Services
from sandbox.logfire.server import SandboxLogfire
from sandbox.slack import SlackEmulator

DEMO_RECORDS = 100_000


@dataclass
class DemoWorld:
    sandbox: SandboxLogfire
    emu: SlackEmulator
    services: Services
    bot: RunningBot
    database_file: Path

    @property
    def mode(self) -> str:
        """ "claude" or "offline", the engine answering."""
        return self.services.analyst.mode


@asynccontextmanager
async def started_sandbox(records: int = DEMO_RECORDS) -> AsyncIterator[SandboxLogfire]:
    """A US-region sandbox Logfire that asks for consent like the real one (no auto-approve)."""
    sandbox = SandboxLogfire(records=records, auto_approve=False)
    await asyncio.to_thread(sandbox.start)
    try:
        yield sandbox
    finally:
        await asyncio.to_thread(sandbox.stop)


@asynccontextmanager
async def demo_world(sandbox: SandboxLogfire) -> AsyncIterator[DemoWorld]:
    """The emulator and the bot wired to `sandbox`; the rest of the settings (e.g. `ANTHROPIC_API_KEY`,
    which selects Claude over the offline planner) come from the environment as for `logfire-bot run`."""
    with tempfile.TemporaryDirectory(prefix="logfire-bot-demo-") as folder:
        database_file = Path(folder) / "demo.db"
        async with SlackEmulator() as emu:
            emu.workspace.scopes[:] = bot_scopes()
            sock = socket.create_server(("127.0.0.1", 0))
            bot_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            settings = load_settings(
                slack_bot_token=emu.bot_token,
                slack_signing_secret=emu.signing_secret,
                slack_api_url=emu.api_url,
                database_url=f"sqlite+aiosqlite:///{database_file}",
                token_encryption_keys=generate_key(),
                public_url=bot_url,
                logfire_mcp_url=sandbox.mcp_url,
                logfire_region_urls={"us": sandbox.mcp_url},
            )
            services = await Services.start(settings)
            try:
                async with running(services, sock) as bot:
                    emu.app.request_url = f"{bot.url}/slack/events"
                    yield DemoWorld(sandbox, emu, services, bot, database_file)
            finally:
                await services.close()
