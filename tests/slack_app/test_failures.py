"""Every failure a user can hit ends in a plain message in the right place."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.handlers import blocks
from sandbox.logfire.server import SandboxLogfire
from sandbox.slack import Message
from tests.oauth.test_refresh import set_local_expiry
from tests.slack_app.conftest import SlackApp, find_element, slack_app_on


async def thread_reply(app: SlackApp, root_ts: str, words: str, within: float = 20) -> Message:
    def found() -> Message | None:
        return next(
            (
                m
                for m in app.emu.thread("general", root_ts)
                if m.ts != root_ts and words in m.text + str(m.blocks)
            ),
            None,
        )

    return await app.emu.wait_for(found, within=within)


async def ask(app: SlackApp, question: str) -> str:
    await app.emu.slash_command(question, user="bob")
    roots = await app.emu.wait_for(lambda: [m for m in app.emu.messages("general") if question in m.text])
    return roots[-1].ts


async def test_region_mismatch_is_explained_with_the_command_to_run(
    eu_behind_us: SandboxLogfire, us: SandboxLogfire, tmp_path: Path, encryption_key: str
) -> None:
    regions = {"us": us.mcp_url, "eu": eu_behind_us.mcp_url}
    async with slack_app_on(us, tmp_path, encryption_key, logfire_region_urls=regions) as app:
        app.sandbox = us  # the browser ends up on the US authorization server
        page = await app.connect(user="alice", choice="eu")
        assert page.status_code == 400 and "Region mismatch" in page.text
        notice = await app.ephemeral_saying("alice", "/logfire connect us")
        assert "region" in (notice.text + str(notice.blocks)).lower()
        assert await app.services.vault.connection(app.emu.workspace.id) is None


async def test_a_revoked_connection_asks_to_reconnect(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    team = slack_app.emu.workspace.id
    row = await slack_app.services.vault.connection(team)
    slack_app.sandbox.controls.revoke(slack_app.services.box.unseal(row, "refresh_token"))
    await set_local_expiry(slack_app.services.database, team, -timedelta(seconds=1))

    root_ts = await ask(slack_app, "slowest endpoints in the last hour")
    reply = await thread_reply(slack_app, root_ts, "/logfire connect")
    assert "revoked" in (reply.text + str(reply.blocks)).lower()


async def test_logfire_down_then_retry(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    await slack_app.services.pool.catalog(slack_app.emu.workspace.id)  # session open before the fault
    slack_app.sandbox.controls.inject("http_500", tool="query_run")

    root_ts = await ask(slack_app, "trace count by status code today")
    failure = await thread_reply(slack_app, root_ts, "not answering")
    retry = find_element(failure, blocks.RETRY_ACTION)
    assert retry is not None

    slack_app.sandbox.controls.clear_faults()
    await slack_app.emu.click(failure, blocks.RETRY_ACTION, user="bob")
    answer = await thread_reply(slack_app, root_ts, blocks.SHOW_QUERY_ACTION, within=30)
    assert find_element(answer, blocks.SHOW_QUERY_ACTION)


async def test_slack_rate_limits_are_retried_and_nothing_is_lost(slack_app: SlackApp) -> None:
    assert (await slack_app.connect()).status_code == 200
    slack_app.emu.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=1, times=2)
    slack_app.emu.fail_next("files.completeUploadExternal", status=429, error="ratelimited", retry_after=1)

    root_ts = await ask(slack_app, "average token cost per request yesterday")
    answer = await thread_reply(slack_app, root_ts, blocks.PIN_CHART_ACTION, within=40)
    assert find_element(answer, blocks.PIN_CHART_ACTION)
    throttled = [call for call in slack_app.emu.calls if call.status == 429]
    assert len(throttled) == 3
    assert len([m for m in slack_app.emu.thread("general", root_ts) if m.files]) == 1
