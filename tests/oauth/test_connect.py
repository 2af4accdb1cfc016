"""Connecting a workspace end to end against the sandbox: discovery, registration, consent, callback."""

from __future__ import annotations

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import select

from bot.http import new_http_client
from bot.oauth.authorization import OAuthFlow, Requester
from db.engine import open_database
from db.models import LogfireConnection, OAuthClient, OAuthState
from sandbox.logfire.server import SandboxLogfire
from tests.oauth_harness import OAuthHarness

ALICE = Requester("T1", "U1", "C1")


async def list_tools_as(oauth: OAuthHarness, team_id: str, mcp_url: str) -> list[str]:
    async with (
        httpx2.AsyncClient(auth=oauth.vault.auth(team_id), timeout=30) as http,
        Client(streamable_http_client(mcp_url, http_client=http), mode="legacy") as client,
    ):
        return [tool.name for tool in (await client.list_tools()).tools]


async def test_connect_end_to_end(oauth: OAuthHarness, sandbox: SandboxLogfire) -> None:
    clients_before = len(sandbox.provider._store.clients)
    page = await oauth.connect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer)

    assert page.status_code == 200
    assert "Connected to Logfire" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert [c.requester for c in oauth.web.connected] == [ALICE]

    async with oauth.database.sessions() as session:
        row = await session.get(LogfireConnection, "T1")
        registration = (await session.scalars(select(OAuthClient))).one()
        pending = (await session.scalars(select(OAuthState))).one()
    assert (row.region, row.mcp_url, row.resource, row.issuer) == (
        "us",
        sandbox.mcp_url,
        sandbox.mcp_url,
        sandbox.issuer,
    )
    assert row.connected_by == "U1" and row.version == 1 and row.expires_at is not None
    assert row.scope == "project:read"
    assert row.access_token.startswith("lfb1:") and row.refresh_token.startswith("lfb1:")
    access = oauth.box.unseal(row, "access_token")
    assert sandbox.provider.access_token_info(access) is not None  # the sandbox issued exactly that token
    assert registration.client_id == row.client_id and registration.client_secret.startswith("lfb1:")
    assert registration.registration["application_type"] == "web"
    assert registration.registration["grant_types"] == ["authorization_code", "refresh_token"]
    assert registration.registration["redirect_uris"] == [oauth.web.redirect_uri]
    assert pending.consumed_at is not None and len(pending.state_hash) == 64
    assert len(sandbox.provider._store.clients) == clients_before + 1

    tools = await list_tools_as(oauth, "T1", sandbox.mcp_url)
    assert "query_run" in tools


async def test_registration_is_shared_by_every_workspace(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    clients_before = len(sandbox.provider._store.clients)
    for team in ("TA", "TB", "TC"):
        page = await oauth.connect(Requester(team, "U1"), sandbox.mcp_url, issuer=sandbox.issuer)
        assert page.status_code == 200
    assert len(sandbox.provider._store.clients) == clients_before + 1
    async with oauth.database.sessions() as session:
        assert len((await session.scalars(select(OAuthClient))).all()) == 1
        client_ids = {row.client_id for row in (await session.scalars(select(LogfireConnection))).all()}
    assert len(client_ids) == 1


async def test_the_authorize_url_asks_for_read_access_with_pkce_and_resource(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    url = httpx2.URL(await oauth.flow.start_authorization(ALICE, sandbox.mcp_url))
    params = dict(url.params)
    assert str(url).startswith(sandbox.issuer + "/authorize")
    assert params["scope"] == "project:read"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["resource"] == sandbox.mcp_url
    assert params["redirect_uri"] == oauth.web.redirect_uri
    assert len(params["state"]) >= 43  # 256 bits, url-safe base64
    async with oauth.database.sessions() as session:
        pending = (await session.scalars(select(OAuthState))).one()
    assert params["state"] not in pending.state_hash
    assert "lfb1:" in pending.code_verifier


async def test_a_second_project_is_what_the_user_chose(oauth: OAuthHarness, sandbox: SandboxLogfire) -> None:
    page = await oauth.connect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer, project="staging")
    assert page.status_code == 200
    async with oauth.database.sessions() as session:
        row = await session.get(LogfireConnection, "T1")
    info = sandbox.provider.access_token_info(oauth.box.unseal(row, "access_token"))
    assert info.project_id == sandbox.directory.project("staging").id


async def test_a_callback_can_land_on_another_process(oauth: OAuthHarness, sandbox: SandboxLogfire) -> None:
    """The pending authorization lives in the database: a flow with its own engine and client finishes it."""
    _, params = await oauth.authorization_redirect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer)
    other_database = open_database(oauth.database.engine.url)
    async with new_http_client() as http:
        other = OAuthFlow(other_database, oauth.box, http, oauth.web.redirect_uri, oauth.flow.region_urls)
        connected = await other.complete_authorization(params)
    await other_database.dispose()
    assert connected.requester == ALICE
    assert await list_tools_as(oauth, "T1", sandbox.mcp_url)
