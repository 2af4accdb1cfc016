"""Nothing in clear through a whole connect → refresh → disconnect cycle; disconnect revokes at Logfire."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.errors import NotConnected
from bot.logs import configure_logging
from db.models import DiscoveredServer, OAuthClient, OAuthState
from sandbox.logfire.server import SandboxLogfire
from tests.oauth.test_refresh import connect, set_local_expiry
from tests.oauth.worker import INITIALIZE, MCP_HEADERS
from tests.oauth_harness import ALICE_REQUESTER, OAuthHarness


@pytest.fixture
def captured_logs() -> io.StringIO:
    stream = io.StringIO()
    handler = configure_logging("text", "DEBUG", stream=stream)
    for name in ("httpx2", "httpcore2", "aiohttp.access", "mcp"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield stream
    logging.getLogger().removeHandler(handler)


async def still_accepted(sandbox: SandboxLogfire, oauth: OAuthHarness, token: str) -> bool:
    response = await oauth.http.post(
        sandbox.mcp_url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    )
    return response.status_code == 200


async def test_no_secret_in_clear_anywhere(
    oauth: OAuthHarness, sandbox: SandboxLogfire, captured_logs: io.StringIO, tmp_path: Path
) -> None:
    secrets: list[str] = []

    callback_url, params = await oauth.authorization_redirect(
        ALICE_REQUESTER, sandbox.mcp_url, issuer=sandbox.issuer
    )
    async with oauth.database.sessions() as session:
        pending = (await session.scalars(select(OAuthState))).one()
        client = (await session.scalars(select(OAuthClient))).one()
    secrets += [oauth.box.unseal(pending, "code_verifier"), oauth.box.unseal(client, "client_secret")]
    secrets += [params["code"], params["state"]]
    assert (await oauth.callback(params)).status_code == 200
    row = await oauth.vault.connection("T1")
    secrets += [oauth.box.unseal(row, "access_token"), oauth.box.unseal(row, "refresh_token")]

    await set_local_expiry(oauth.database, "T1", -timedelta(seconds=1))
    await oauth.vault.access_token("T1")
    row = await oauth.vault.connection("T1")
    secrets += [oauth.box.unseal(row, "access_token"), oauth.box.unseal(row, "refresh_token")]
    logging.getLogger("tests").info("callback was %s", callback_url)  # as an access log would write it

    result = await oauth.vault.disconnect("T1")
    assert result.revoked
    await oauth.database.dispose()

    assert len(set(secrets)) == len(secrets) and all(len(secret) >= 20 for secret in secrets)
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("bot.db*"))
    logs = captured_logs.getvalue()
    served = "\n".join(oauth.web.served)
    assert "Connected to Logfire" in served and "refreshed the Logfire token" in logs
    for secret in secrets:
        assert secret.encode() not in stored
        assert secret not in logs
        assert secret not in served


async def test_disconnect_revokes_both_tokens_then_deletes(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    row = await connect(oauth, sandbox)
    access, refresh = oauth.box.unseal(row, "access_token"), oauth.box.unseal(row, "refresh_token")
    assert await still_accepted(sandbox, oauth, access)

    result = await oauth.vault.disconnect("T1")

    assert result.revoked and result.detail is None
    assert not await still_accepted(sandbox, oauth, access)
    assert await sandbox.provider.load_refresh_token(None, refresh) is None
    assert await oauth.vault.connection("T1") is None
    with pytest.raises(NotConnected):
        await oauth.vault.access_token("T1")


async def test_a_failed_revocation_still_deletes_and_says_so(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    await connect(oauth, sandbox)
    async with oauth.database.sessions() as session, session.begin():
        cached = await session.get(DiscoveredServer, sandbox.mcp_url)
        metadata = {**cached.authorization_server_metadata, "revocation_endpoint": f"{sandbox.base_url}/gone"}
        await session.execute(
            update(DiscoveredServer)
            .where(DiscoveredServer.mcp_url == sandbox.mcp_url)
            .values(authorization_server_metadata=metadata)
        )

    result = await oauth.vault.disconnect("T1")

    assert not result.revoked
    assert "revocation failed" in result.detail and "404" in result.detail
    assert await oauth.vault.connection("T1") is None


async def test_disconnecting_a_workspace_that_is_not_connected(oauth: OAuthHarness) -> None:
    with pytest.raises(NotConnected, match="not connected"):
        await oauth.vault.disconnect("T-nobody")
