"""App Home, admin-only connecting, uninstalling, and draining running answers at shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.handlers import blocks
from sandbox.logfire.server import SandboxLogfire
from tests.slack_app.conftest import SlackApp, find_element, slack_app_on


async def test_app_home_shows_the_connection_and_connects_from_a_button(slack_app: SlackApp) -> None:
    emu = slack_app.emu
    await emu.open_home(user="alice")
    view = await emu.wait_for(lambda: emu.home_view("alice"))
    assert "not connected" in str(view["blocks"])

    await emu.click_home(blocks.CONNECT_ACTION, user="alice")
    dm = await emu.wait_for(
        lambda: next(
            (m for m in emu.messages(emu.workspace.im("alice")) if "Authorize" in str(m.blocks)),
            None,
        )
    )
    assert find_element(dm, blocks.AUTHORIZE_ACTION)["url"].startswith(slack_app.sandbox.issuer)

    assert (await slack_app.connect(user="alice")).status_code == 200
    await emu.open_home(user="alice")
    view = await emu.wait_for(lambda: (v := emu.home_view("alice")) and "acme/production" in str(v) and v)
    assert "Reconnect" in str(view["blocks"])


async def test_only_admins_connect_when_asked(
    sandbox: SandboxLogfire, tmp_path: Path, encryption_key: str
) -> None:
    async with slack_app_on(sandbox, tmp_path, encryption_key, logfire_admin_only=True) as app:
        await app.emu.slash_command("connect", user="bob")
        refused = await app.ephemeral_saying("bob", "admins")
        assert find_element(refused, blocks.AUTHORIZE_ACTION) is None
        assert (await app.connect(user="alice")).status_code == 200  # alice is a workspace admin
        await app.emu.slash_command("disconnect", user="bob")
        await app.ephemeral_saying("bob", "Only workspace admins can disconnect")
        assert await app.services.vault.connection(app.emu.workspace.id) is not None


async def test_uninstalling_removes_the_logfire_connection(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    team = slack_app.emu.workspace.id
    row = await slack_app.services.vault.connection(team)
    refresh = slack_app.services.box.unseal(row, "refresh_token")

    deliveries = await slack_app.emu.uninstall()
    assert all(delivery.status == 200 for delivery in deliveries)

    async def removed() -> bool:
        return await slack_app.services.vault.connection(team) is None

    assert await slack_app.emu.wait_for(removed, within=10)
    assert await slack_app.sandbox.provider.load_refresh_token(None, refresh) is None  # revoked at Logfire


async def test_shutdown_waits_for_running_answers(
    sandbox: SandboxLogfire, tmp_path: Path, encryption_key: str
) -> None:
    async with slack_app_on(sandbox, tmp_path, encryption_key) as app:
        assert (await app.connect()).status_code == 200
        await app.services.pool.catalog(app.emu.workspace.id)
        sandbox.controls.inject("latency", tool="query_run", seconds=2.0)
        await app.emu.slash_command("slowest endpoints in the last hour", user="bob")
        root = (await app.emu.wait_for(lambda: app.emu.messages("general")))[0]
        await asyncio.sleep(0.3)
        assert len(app.bot.bot.jobs) == 1
    sandbox.controls.clear_faults()
    replies = [m for m in app.emu.thread("general", root.ts) if m.ts != root.ts and m.bot_id]
    assert any(find_element(m, blocks.SHOW_QUERY_ACTION) for m in replies)
