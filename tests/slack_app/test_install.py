"""Installing the app into several workspaces (Slack OAuth), with tokens rotated, sealed and removed."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from bot.app import running
from bot.config import load_settings
from bot.handlers import blocks
from bot.manifest import bot_scopes
from bot.oauth.crypto import SecretBox, generate_key
from bot.oauth.key_rotation import rotate_keys
from bot.services import Services
from bot.slack_installations import EncryptedInstallationStore, rotate_slack_tokens
from sandbox.logfire.browser import consent
from sandbox.logfire.server import SandboxLogfire
from sandbox.slack import SlackApp as EmulatedApp
from sandbox.slack import SlackEmulator
from tests.slack_app.conftest import button_url

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


async def install(bot_url: str, team_id: str) -> int:
    """A browser: /slack/install → Slack's consent (for `team_id`) → the bot's Slack OAuth callback."""
    async with aiohttp.ClientSession() as browser:
        start = await browser.get(f"{bot_url}/slack/install", allow_redirects=False)
        cookie = start.cookies["slack-app-oauth-state"].value
        approved = await browser.get(f"{start.headers['Location']}&team={team_id}", allow_redirects=False)
        callback = await browser.get(
            approved.headers["Location"],
            allow_redirects=False,
            headers={"Cookie": f"slack-app-oauth-state={cookie}"},
        )
        await callback.read()
        return callback.status


@asynccontextmanager
async def installable_bot(sandbox: SandboxLogfire, folder: Path, key: str) -> AsyncIterator[tuple]:
    """An emulator whose app rotates tokens, a second workspace, and the bot in multi-workspace mode."""
    async with SlackEmulator(app=EmulatedApp(token_rotation=True, token_ttl=3600)) as emu:
        globex = emu.add_workspace("Globex")
        sock = socket.create_server(("127.0.0.1", 0))
        bot_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = load_settings(
            slack_client_id=emu.app.client_id,
            slack_client_secret=emu.app.client_secret,
            slack_signing_secret=emu.signing_secret,
            slack_api_url=emu.api_url,
            database_url=f"sqlite+aiosqlite:///{folder}/bot.db",
            token_encryption_keys=key,
            public_url=bot_url,
            logfire_mcp_url=sandbox.mcp_url,
            logfire_region_urls={"us": sandbox.mcp_url},
        )
        services = await Services.start(settings)
        try:
            async with running(services, sock) as bot:
                emu.app.request_url = f"{bot.url}/slack/events"
                emu.app.redirect_urls = [f"{bot.url}/slack/oauth_redirect"]
                yield emu, globex, services, bot
        finally:
            await services.close()


async def test_install_connect_and_uninstall(
    sandbox: SandboxLogfire, tmp_path: Path, encryption_key: str
) -> None:
    async with installable_bot(sandbox, tmp_path, encryption_key) as (emu, globex, services, bot):
        assert await install(bot.url, globex.id) == 200
        assert globex.installed and sorted(globex.scopes) == sorted(bot_scopes())
        stored = await _stored_tokens(services)
        assert stored and all(value.startswith("lfb1:") for value in stored)

        await emu.slash_command("connect", workspace=globex)
        prompt = await emu.wait_for(lambda: [m for m in emu.ephemerals() if "Authorize" in str(m.blocks)])
        leaving = await consent(button_url(prompt[-1], blocks.AUTHORIZE_ACTION), issuer=sandbox.issuer)
        async with aiohttp.ClientSession() as browser, browser.get(leaving) as page:
            assert page.status == 200
        await emu.wait_for(lambda: [m for m in emu.ephemerals() if "onnected" in m.text + str(m.blocks)])
        grants = [call.params.get("grant_type") for call in emu.calls_to("oauth.v2.access")]
        assert "refresh_token" in grants  # Bolt rotated the expiring Slack token, and saved it sealed
        assert globex.bot_token not in await _stored_tokens(services)

        await emu.uninstall(globex)

        async def removed() -> bool:
            return await services.vault.connection(globex.id) is None and not await _stored_tokens(services)

        assert await emu.wait_for(removed, within=10)


async def test_key_rotation_reseals_the_slack_tokens(
    sandbox: SandboxLogfire, tmp_path: Path, encryption_key: str
) -> None:
    async with installable_bot(sandbox, tmp_path, encryption_key) as (emu, globex, services, bot):
        assert await install(bot.url, globex.id) == 200
        new_key = generate_key()
        report = await rotate_keys(
            services.database, SecretBox.from_text(f"{new_key},{encryption_key}"), also=rotate_slack_tokens
        )
        assert report.by_column["slack installations"] >= 2
        only_new = EncryptedInstallationStore(
            emu.app.client_id, services.database.engine, SecretBox.from_text(new_key)
        )
        found = await only_new.async_find_bot(enterprise_id=None, team_id=globex.id)
        assert found.bot_token == globex.bot_token


async def _stored_tokens(services: Services) -> list[str]:
    async with services.database.engine.connect() as connection:
        rows = await connection.execute(text("SELECT bot_token, bot_refresh_token FROM slack_bots"))
        return [value for row in rows for value in row if value]
