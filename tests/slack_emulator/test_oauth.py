"""Installing the app into a second workspace through the emulator's authorize page, with a real Bolt OAuth
flow, Slack's SQLAlchemy stores, token rotation and uninstall."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import create_async_engine

from sandbox.slack import SlackApp, SlackEmulator

SCOPES = ["commands", "chat:write"]
# slack_sdk's own oauth_v2_access still builds aiohttp's deprecated BasicAuth.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
async def rotating_emu() -> AsyncIterator[SlackEmulator]:
    # A one-hour token is inside Bolt's two-hour refresh window, so Bolt rotates it on every request.
    async with SlackEmulator(app=SlackApp(token_rotation=True, token_ttl=3600)) as emulator:
        yield emulator


@pytest.fixture
async def installations(rotating_emu: SlackEmulator, tmp_path: Path) -> AsyncIterator[Any]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'slack.db'}")
    store = AsyncSQLAlchemyInstallationStore(client_id=rotating_emu.app.client_id, engine=engine)
    await store.create_tables()
    yield store
    await engine.dispose()


@pytest.fixture
async def bot_url(rotating_emu: SlackEmulator, installations: Any) -> AsyncIterator[str]:
    emu = rotating_emu
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600, engine=installations.engine)
    await states.create_tables()
    app = AsyncApp(
        client=AsyncWebClient(base_url=emu.api_url),
        signing_secret=emu.signing_secret,
        installation_store=installations,
        oauth_settings=AsyncOAuthSettings(
            client_id=emu.app.client_id,
            client_secret=emu.app.client_secret,
            scopes=SCOPES,
            installation_store=installations,
            state_store=states,
            authorization_url=emu.authorize_url,
            install_page_rendering_enabled=False,
        ),
    )
    app.enable_token_revocation_listeners()

    @app.command("/logfire")
    async def command(ack: Any, command: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
        await ack()
        await client.chat_postMessage(channel=command["channel_id"], text=f"hello {context.team_id}")

    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    emu.app.request_url = f"{url}/slack/events"
    emu.app.redirect_urls = [f"{url}/slack/oauth_redirect"]
    yield url
    await runner.cleanup()


async def install(bot_url: str, team_id: str) -> aiohttp.ClientResponse:
    """A browser: /slack/install → Slack's authorize page (for `team_id`) → the bot's OAuth callback."""
    async with aiohttp.ClientSession() as browser:
        start = await browser.get(f"{bot_url}/slack/install", allow_redirects=False)
        cookie = start.cookies["slack-app-oauth-state"].value
        consent = await browser.get(f"{start.headers['Location']}&team={team_id}", allow_redirects=False)
        callback = await browser.get(
            consent.headers["Location"],
            allow_redirects=False,
            headers={"Cookie": f"slack-app-oauth-state={cookie}"},
        )
        await callback.read()
        return callback


async def test_install_rotate_and_uninstall(
    rotating_emu: SlackEmulator, installations: Any, bot_url: str
) -> None:
    emu = rotating_emu
    globex = emu.add_workspace("Globex")
    assert not globex.installed

    callback = await install(bot_url, globex.id)
    assert callback.status == 200 and globex.installed and globex.scopes == SCOPES
    installation = await installations.async_find_installation(enterprise_id=None, team_id=globex.id)
    assert installation.bot_token == globex.bot_token and installation.user_id == globex.user("alice").id
    first_refresh_token = installation.bot_refresh_token

    await emu.slash_command("hi", workspace=globex)
    answer = await emu.wait_for(lambda: emu.messages(globex.channel("general")))
    assert answer[0].text == f"hello {globex.id}"
    grants = [c.params.get("grant_type") for c in emu.calls_to("oauth.v2.access")]
    assert grants == [None, "refresh_token"], "Bolt exchanged the code, then rotated the expiring token"
    assert emu.calls_to("chat.postMessage")[-1].token == globex.bot_token != installation.bot_token

    with pytest.raises(SlackApiError) as reused:
        await AsyncWebClient(base_url=emu.api_url).oauth_v2_access(
            client_id=emu.app.client_id,
            client_secret=emu.app.client_secret,
            grant_type="refresh_token",
            refresh_token=first_refresh_token,
        )
    assert reused.value.response["error"] == "invalid_refresh_token"

    await emu.uninstall(globex)
    await emu.wait_for(lambda: _gone(installations, globex.id))


async def _gone(installations: Any, team_id: str) -> bool:
    return await installations.async_find_installation(enterprise_id=None, team_id=team_id) is None


async def test_denied_and_malformed_authorizations(rotating_emu: SlackEmulator, bot_url: str) -> None:
    emu = rotating_emu
    async with aiohttp.ClientSession() as browser:
        start = await browser.get(f"{bot_url}/slack/install", allow_redirects=False)
        denied = await browser.get(f"{start.headers['Location']}&deny=1", allow_redirects=False)
        assert parse_qs(urlsplit(denied.headers["Location"]).query)["error"] == ["access_denied"]
        for query in (
            f"client_id=nope&scope={SCOPES[0]}",
            f"client_id={emu.app.client_id}&scope=commands&redirect_uri=https://evil.example/cb",
        ):
            wrong = await browser.get(f"{emu.authorize_url}?{query}", allow_redirects=False)
            assert wrong.status == 400
    client = AsyncWebClient(base_url=emu.api_url)
    for kwargs, error in (
        ({"client_secret": "nope", "code": "x"}, "bad_client_secret"),
        ({"client_secret": emu.app.client_secret, "code": "x"}, "invalid_code"),
    ):
        with pytest.raises(SlackApiError) as failed:
            await client.oauth_v2_access(client_id=emu.app.client_id, **kwargs)
        assert failed.value.response["error"] == error
