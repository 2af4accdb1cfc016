"""The bot's OAuth side against the sandbox (fixtures and helpers): a real callback server and a browser."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import httpx2
import pytest
from aiohttp import web

from bot.errors import LogfireBotError
from bot.http import new_http_client
from bot.oauth.authorization import Connected, OAuthFlow, Requester
from bot.oauth.callback_page import CALLBACK_PATH, callback_handler
from bot.oauth.crypto import SecretBox
from bot.oauth.vault import TokenVault
from db.engine import Database, open_database
from db.migrate import upgrade
from sandbox.logfire.server import SandboxLogfire
from tests.sandbox.clients import browse

ALICE_REQUESTER = Requester("T1", "U1", "C1")


@dataclass
class BotWeb:
    """The bot's callback route, served for real, remembering what it told whom and every body it served."""

    base_url: str
    connected: list[Connected] = field(default_factory=list)
    failed: list[tuple[Requester, LogfireBotError]] = field(default_factory=list)
    served: list[str] = field(default_factory=list)

    @property
    def redirect_uri(self) -> str:
        return self.base_url + CALLBACK_PATH


@dataclass
class OAuthHarness:
    database: Database
    box: SecretBox
    http: httpx2.AsyncClient
    web: BotWeb
    flow: OAuthFlow
    vault: TokenVault

    async def connect(
        self,
        requester: Requester,
        mcp_url: str,
        *,
        issuer: str,
        approve: bool = True,
        project: str | None = None,
    ) -> httpx2.Response:
        """`/logfire connect`, then a browser through the consent form to the bot's callback page."""
        url = await self.flow.start_authorization(requester, mcp_url)
        return await self.follow(url, issuer=issuer, approve=approve, project=project)

    async def follow(
        self, url: str, *, issuer: str, approve: bool = True, project: str | None = None
    ) -> httpx2.Response:
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as browser:
            leaving = await browse(browser, url, issuer=issuer, approve=approve, project=project)
            location = leaving.headers["location"]
            assert location.startswith(self.web.redirect_uri), location
            return await browser.get(location)

    async def authorization_redirect(
        self, requester: Requester, mcp_url: str, *, issuer: str, approve: bool = True
    ) -> tuple[str, dict[str, str]]:
        """Start and consent, but stop before the callback: (callback URL, its query parameters)."""
        url = await self.flow.start_authorization(requester, mcp_url)
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as browser:
            leaving = await browse(browser, url, issuer=issuer, approve=approve)
        location = leaving.headers["location"]
        return location, {key: values[0] for key, values in parse_qs(urlparse(location).query).items()}

    async def callback(self, params: dict[str, str]) -> httpx2.Response:
        async with httpx2.AsyncClient(timeout=30) as browser:
            return await browser.get(self.web.redirect_uri, params=params)


def _bound_socket() -> socket.socket:
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


@pytest.fixture
async def bot_web_parts() -> AsyncIterator[tuple[BotWeb, web.Application, socket.socket]]:
    sock = _bound_socket()
    bot_web = BotWeb(f"http://127.0.0.1:{sock.getsockname()[1]}")

    @web.middleware
    async def remember_bodies(request: web.Request, handler):  # type: ignore[no-untyped-def]
        response = await handler(request)
        bot_web.served.append(response.text or "")
        return response

    yield bot_web, web.Application(middlewares=[remember_bodies]), sock


async def make_harness(
    database: Database,
    box: SecretBox,
    bot_web: BotWeb,
    app: web.Application,
    sock: socket.socket,
    region_urls: dict[str, str],
) -> tuple[OAuthHarness, web.AppRunner]:
    http = new_http_client()
    flow = OAuthFlow(database, box, http, bot_web.redirect_uri, region_urls)
    vault = TokenVault(database, box, http, bot_web.redirect_uri, region_urls)

    async def on_connected(connected: Connected) -> str | None:
        bot_web.connected.append(connected)
        return None

    async def on_failed(requester: Requester, error: LogfireBotError) -> None:
        bot_web.failed.append((requester, error))

    app.router.add_get(CALLBACK_PATH, callback_handler(flow, on_connected, on_failed))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return OAuthHarness(database, box, http, bot_web, flow, vault), runner


@pytest.fixture
async def sqlite_database(tmp_path) -> AsyncIterator[Database]:
    database = open_database(f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    await upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
async def oauth(
    sandbox: SandboxLogfire, sqlite_database: Database, secret_box: SecretBox, bot_web_parts
) -> AsyncIterator[OAuthHarness]:
    """The bot's OAuth services on SQLite, with `us` pointing at the session sandbox."""
    bot_web, app, sock = bot_web_parts
    harness, runner = await make_harness(
        sqlite_database,
        secret_box,
        bot_web,
        app,
        sock,
        {"us": sandbox.mcp_url, "eu": "https://eu.invalid/mcp"},
    )
    yield harness
    await runner.cleanup()
    await harness.http.aclose()
