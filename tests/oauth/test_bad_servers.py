"""Servers that get OAuth wrong: each a clear message and a log line, never a crash or a half-written row.

The misbehaving server is an aiohttp app on loopback that answers like a broken or non-Logfire deployment.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlencode

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.errors import ConnectFailed, LogfireUnavailable
from bot.logs import configure_logging
from bot.oauth.authorization import Requester
from db.models import LogfireConnection, OAuthClient
from tests.oauth_harness import OAuthHarness

ALICE = Requester("T1", "U1", "C1")


class BadServer:
    """A server at /mcp whose OAuth documents and endpoints each test shapes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.mcp_url = f"{self.base}/mcp"
        self.routes: dict[str, Callable[[web.Request], web.StreamResponse]] = {}
        self.user_agents: list[tuple[str, str]] = []

    def metadata(self, **overrides: object) -> dict:
        return {
            "issuer": self.base,
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "registration_endpoint": f"{self.base}/register",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            **overrides,
        }

    def well_behaved_discovery(self, **metadata: object) -> None:
        prm = {"resource": self.mcp_url, "authorization_servers": [self.base]}
        self.routes["/.well-known/oauth-protected-resource/mcp"] = lambda _: web.json_response(prm)
        self.routes["/.well-known/oauth-authorization-server"] = lambda _: web.json_response(
            self.metadata(**metadata)
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.user_agents.append((request.path, request.headers.get("User-Agent", "")))
        if request.path == "/mcp":
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        handler = self.routes.get(request.path)
        return await _maybe_await(handler(request)) if handler else web.Response(status=404)


async def _maybe_await(value):  # type: ignore[no-untyped-def]
    return await value if hasattr(value, "__await__") else value


@pytest.fixture
async def bad_server() -> AsyncIterator[BadServer]:
    server = BadServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, server.sock).start()
    yield server
    await runner.cleanup()


@pytest.fixture
def captured_logs() -> io.StringIO:
    stream = io.StringIO()
    handler = configure_logging("text", "INFO", stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


async def nothing_written(oauth: OAuthHarness) -> bool:
    async with oauth.database.sessions() as session:
        return (await session.scalars(select(LogfireConnection))).first() is None


async def test_a_server_without_oauth_metadata(oauth: OAuthHarness, bad_server: BadServer) -> None:
    with pytest.raises(ConnectFailed) as caught:
        await oauth.flow.start_authorization(ALICE, bad_server.mcp_url)
    message = str(caught.value)
    assert message.startswith(f"No OAuth metadata found for {bad_server.mcp_url}")
    assert "HTTP 404" in message and "Check the MCP URL" in message
    assert await nothing_written(oauth)


async def test_metadata_that_is_not_json(oauth: OAuthHarness, bad_server: BadServer) -> None:
    page = web.Response(text="<html>Welcome</html>", content_type="text/html")
    bad_server.routes["/.well-known/oauth-authorization-server"] = lambda _: page
    with pytest.raises(ConnectFailed, match="oauth-authorization-server: not JSON"):
        await oauth.flow.start_authorization(ALICE, bad_server.mcp_url)


async def test_metadata_without_pkce_s256(oauth: OAuthHarness, bad_server: BadServer) -> None:
    bad_server.well_behaved_discovery(code_challenge_methods_supported=["plain"])
    with pytest.raises(ConnectFailed, match="does not support PKCE with S256"):
        await oauth.flow.start_authorization(ALICE, bad_server.mcp_url)


async def test_metadata_naming_another_issuer(oauth: OAuthHarness, bad_server: BadServer) -> None:
    bad_server.well_behaved_discovery(issuer="https://elsewhere.example")
    with pytest.raises(ConnectFailed, match="will not send credentials"):
        await oauth.flow.start_authorization(ALICE, bad_server.mcp_url)


async def test_a_trailing_slash_on_the_issuer_is_tolerated(
    oauth: OAuthHarness, bad_server: BadServer
) -> None:
    bad_server.well_behaved_discovery(issuer=bad_server.base + "/")
    bad_server.routes["/register"] = lambda _: web.json_response(
        {"client_id": "c1", "client_secret": "s" * 32, "token_endpoint_auth_method": "client_secret_post"},
        status=201,
    )
    url = await oauth.flow.start_authorization(ALICE, bad_server.mcp_url)
    assert url.startswith(f"{bad_server.base}/authorize?")


async def test_no_registration_endpoint_says_what_the_operator_must_set(
    oauth: OAuthHarness, bad_server: BadServer
) -> None:
    bad_server.well_behaved_discovery(registration_endpoint=None, client_id_metadata_document_supported=True)
    with pytest.raises(ConnectFailed) as caught:
        await oauth.flow.start_authorization(ALICE, bad_server.mcp_url)
    assert "client ID metadata document" in str(caught.value)
    assert "LOGFIRE_OAUTH_CLIENT_ID and LOGFIRE_OAUTH_CLIENT_SECRET" in str(caught.value)


async def test_a_malformed_registration_answer(oauth: OAuthHarness, bad_server: BadServer) -> None:
    bad_server.well_behaved_discovery()
    bad_server.routes["/register"] = lambda _: web.json_response(
        {"error": "invalid_client_metadata"}, status=400
    )
    with pytest.raises(ConnectFailed, match="refused to register this bot"):
        await oauth.flow.start_authorization(ALICE, bad_server.mcp_url)
    async with oauth.database.sessions() as session:
        assert (await session.scalars(select(OAuthClient))).first() is None


async def test_a_token_response_without_an_access_token(
    oauth: OAuthHarness, bad_server: BadServer, captured_logs: io.StringIO
) -> None:
    bad_server.well_behaved_discovery()
    bad_server.routes["/register"] = lambda _: web.json_response(
        {"client_id": "c1", "client_secret": "s" * 32, "token_endpoint_auth_method": "client_secret_post"},
        status=201,
    )

    def authorize(request: web.Request) -> web.StreamResponse:
        query = {"code": "code-123456", "state": request.query["state"], "iss": bad_server.base}
        raise web.HTTPFound(f"{request.query['redirect_uri']}?{urlencode(query)}")

    bad_server.routes["/authorize"] = authorize
    bad_server.routes["/token"] = lambda _: web.json_response({"token_type": "Bearer", "expires_in": 3600})
    page = await oauth.follow(
        await oauth.flow.start_authorization(ALICE, bad_server.mcp_url), issuer=bad_server.base
    )

    assert page.status_code == 400
    assert "did not issue tokens" in page.text and "without an access_token" in page.text
    assert await nothing_written(oauth)
    [(requester, error)] = oauth.web.failed
    assert requester == ALICE and "without an access_token" in str(error)
    assert "callback for team T1 refused: Logfire did not issue tokens" in captured_logs.getvalue()
    from_bot = [agent for path, agent in bad_server.user_agents if path != "/authorize"]  # not the browser
    assert len(from_bot) >= 5  # probe, metadata, registration, token
    assert {agent.split("/")[0] for agent in from_bot} == {"logfire-for-slack"}


async def test_a_server_that_is_down(oauth: OAuthHarness) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(LogfireUnavailable, match=f"cannot reach http://127.0.0.1:{port}/mcp"):
        await oauth.flow.start_authorization(ALICE, f"http://127.0.0.1:{port}/mcp")


async def test_a_server_error_on_the_metadata(oauth: OAuthHarness, bad_server: BadServer) -> None:
    bad_server.routes["/.well-known/oauth-protected-resource/mcp"] = lambda _: web.Response(status=503)
    with pytest.raises(LogfireUnavailable, match="answered HTTP 503"):
        await oauth.flow.start_authorization(ALICE, bad_server.mcp_url)
