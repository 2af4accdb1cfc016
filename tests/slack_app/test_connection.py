"""`/logfire connect`, `status`, `tools`, `disconnect` and `help`, as a Slack user meets them."""

from __future__ import annotations

from bot.handlers import blocks
from tests.slack_app.conftest import SlackApp, button_url


async def test_help(slack_app: SlackApp) -> None:
    delivery = await slack_app.emu.slash_command("", user="alice")
    assert delivery.status == 200
    shown = await slack_app.emu.wait_for(lambda: slack_app.emu.ephemerals(user="alice"))
    assert "/logfire connect" in str(shown[-1].blocks)
    assert "top 10 errors in the agent service" in str(shown[-1].blocks).lower()


async def test_connect_through_the_browser(slack_app: SlackApp) -> None:
    page = await slack_app.connect(user="alice")
    assert page.status_code == 200
    assert "Connected to Logfire" in page.text and "Project: acme/production" in page.text
    notice = await slack_app.ephemeral_saying("alice", "onnected")
    text = str(notice.blocks)
    assert "acme/production" in text and "read-only" in text
    connection = await slack_app.services.vault.connection(slack_app.emu.workspace.id)
    assert connection is not None and connection.connected_by == slack_app.emu.user("alice").id


async def test_the_authorize_button_points_at_the_sandbox(slack_app: SlackApp) -> None:
    await slack_app.emu.slash_command("connect", user="alice")
    prompt = await slack_app.emu.wait_for(
        lambda: next(
            (m for m in slack_app.emu.ephemerals(user="alice") if "Authorize" in str(m.blocks)), None
        )
    )
    url = button_url(prompt, blocks.AUTHORIZE_ACTION)
    assert url.startswith(f"{slack_app.sandbox.issuer}/authorize?")
    assert "project%3Aread" in url and "code_challenge_method=S256" in url


async def test_status_tools_and_disconnect(slack_app: SlackApp) -> None:
    await slack_app.emu.slash_command("status", user="bob")
    assert "not connected" in (await slack_app.ephemeral_saying("bob", "not connected")).text.lower()

    assert (await slack_app.connect(user="alice")).status_code == 200

    await slack_app.emu.slash_command("status", user="bob")
    status = await slack_app.ephemeral_saying("bob", "acme/production")
    assert "US" in str(status.blocks)

    await slack_app.emu.slash_command("tools", user="bob")
    listing = await slack_app.emu.wait_for(
        lambda: next(
            (m for m in slack_app.emu.ephemerals(user="bob") if "dashboard_delete" in str(m.blocks)), None
        )
    )
    text = str(listing.blocks)
    assert "query_run" in text and "write verb" in text

    await slack_app.emu.slash_command("disconnect", user="alice")
    done = await slack_app.ephemeral_saying("alice", "isconnected")
    assert "revoked" in str(done.blocks).lower()
    assert await slack_app.services.vault.connection(slack_app.emu.workspace.id) is None
