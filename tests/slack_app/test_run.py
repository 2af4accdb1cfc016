"""`logfire-bot run` as an operator starts it: its own process, configured from the environment, Slack being
the emulator and Logfire the sandbox; it answers a question and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2

from bot.config import Settings
from bot.handlers import blocks
from bot.manifest import bot_scopes
from sandbox.logfire.browser import consent
from sandbox.logfire.server import SandboxLogfire
from sandbox.slack import SlackEmulator
from tests.slack_app.conftest import button_url, find_element


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def bot_environment(emu: SlackEmulator, sandbox: SandboxLogfire, folder: Path, key: str, port: int) -> dict:
    ours = {name.upper() for name in Settings.model_fields}
    return {name: value for name, value in os.environ.items() if name not in ours} | {
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_SIGNING_SECRET": emu.signing_secret,
        "SLACK_API_URL": emu.api_url,
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bot.db",
        "TOKEN_ENCRYPTION_KEYS": key,
        "LOGFIRE_MCP_URL": sandbox.mcp_url,
        "LOGFIRE_REGION_URLS": f"us={sandbox.mcp_url}",
    }


@asynccontextmanager
async def bot_process(env: dict[str, str], url: str, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdout=output, stderr=output
        )
    try:
        async with httpx2.AsyncClient(timeout=2) as client:
            for _ in range(300):
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx2.TransportError:
                    await asyncio.sleep(0.1)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_run_answers_a_question_then_stops_on_sigterm(
    sandbox: SandboxLogfire, tmp_path: Path, encryption_key: str
) -> None:
    async with SlackEmulator() as emu:
        emu.workspace.scopes[:] = bot_scopes()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = bot_environment(emu, sandbox, tmp_path, encryption_key, port)
        async with bot_process(env, url, tmp_path / "bot.log") as process:
            emu.app.request_url = f"{url}/slack/events"
            await emu.slash_command("connect", user="alice")
            prompt = await emu.wait_for(lambda: emu.ephemerals(user="alice"), within=10)
            leaving = await consent(button_url(prompt[-1], blocks.AUTHORIZE_ACTION), issuer=sandbox.issuer)
            async with httpx2.AsyncClient(timeout=30) as browser:
                assert (await browser.get(leaving)).status_code == 200

            await emu.slash_command("trace count by status code today", user="bob")
            root = (await emu.wait_for(lambda: emu.messages("general")))[0]

            def answered() -> bool:
                thread = emu.thread("general", root.ts)
                return any(find_element(m, blocks.PIN_CHART_ACTION) for m in thread) and any(
                    m.files for m in thread
                )

            await emu.wait_for(answered, within=30)

            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 40) == 0
        assert "Traceback" not in (tmp_path / "bot.log").read_text()
