"""Keeping a connection alive: proactive and reactive refresh, one refresh across processes, dead grants."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import update

from bot.errors import NotConnected
from bot.oauth.authorization import Requester
from bot.oauth.crypto import SecretBox
from db.engine import Database
from db.migrate import upgrade
from db.models import LogfireConnection, utcnow
from sandbox.logfire.server import SandboxLogfire
from tests.conftest import open_in_schema, postgres_schema
from tests.oauth.test_connect import list_tools_as
from tests.oauth.worker import INITIALIZE, MCP_HEADERS
from tests.oauth_harness import OAuthHarness, make_harness


async def connect(oauth: OAuthHarness, sandbox: SandboxLogfire, team: str = "T1") -> LogfireConnection:
    page = await oauth.connect(Requester(team, "U1"), sandbox.mcp_url, issuer=sandbox.issuer)
    assert page.status_code == 200, page.text
    return await oauth.vault.connection(team)


async def set_local_expiry(database: Database, team: str, remaining: timedelta) -> None:
    async with database.sessions() as session, session.begin():
        await session.execute(
            update(LogfireConnection)
            .where(LogfireConnection.team_id == team)
            .values(expires_at=utcnow() + remaining)
        )


async def test_a_token_about_to_expire_is_refreshed_before_use(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    row = await connect(oauth, sandbox)
    old_access = oauth.box.unseal(row, "access_token")
    await set_local_expiry(oauth.database, "T1", timedelta(seconds=30))  # inside the refresh margin

    token = await oauth.vault.access_token("T1")

    assert token != old_access
    assert sandbox.controls.token_refreshes == 1
    refreshed = await oauth.vault.connection("T1")
    assert refreshed.version == row.version + 1
    assert oauth.box.unseal(refreshed, "refresh_token") != oauth.box.unseal(row, "refresh_token")  # rotated
    assert refreshed.expires_at - utcnow() > timedelta(minutes=50)
    assert await oauth.vault.access_token("T1") == token  # fresh now: no second refresh
    assert sandbox.controls.token_refreshes == 1


async def test_a_token_the_server_stopped_accepting_is_refreshed_after_one_401(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    """Our clock says 50 minutes are left (skew, or revocation at the server): the 401 path recovers."""
    row = await connect(oauth, sandbox)
    assert sandbox.controls.expire_access_tokens(oauth.box.unseal(row, "access_token")) == 1
    statuses: list[int] = []

    async def record(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    async with httpx2.AsyncClient(auth=oauth.vault.auth("T1"), event_hooks={"response": [record]}) as http:
        response = await http.post(sandbox.mcp_url, json=INITIALIZE, headers=MCP_HEADERS)

    assert response.status_code == 200
    assert statuses == [401, 200]
    assert sandbox.controls.token_refreshes == 1


async def test_concurrent_calls_after_expiry_refresh_once(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    await connect(oauth, sandbox)
    sandbox.controls.expire_access_tokens()
    await set_local_expiry(oauth.database, "T1", -timedelta(seconds=1))
    async with httpx2.AsyncClient(auth=oauth.vault.auth("T1"), timeout=30) as http:
        responses = await asyncio.gather(
            *(http.post(sandbox.mcp_url, json=INITIALIZE, headers=MCP_HEADERS) for _ in range(20))
        )
    assert [response.status_code for response in responses] == [200] * 20
    assert sandbox.controls.token_refreshes == 1


@pytest.fixture
async def postgres_oauth(sandbox: SandboxLogfire, secret_box: SecretBox, bot_web_parts) -> AsyncIterator:
    async with postgres_schema() as (url, schema):
        database = open_in_schema(url, schema)
        await upgrade(database)
        harness, runner = await make_harness(database, secret_box, *bot_web_parts, {"us": sandbox.mcp_url})
        yield harness, url, schema
        await runner.cleanup()
        await harness.http.aclose()
        await database.dispose()


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.oauth.worker", *args]


async def run_worker(keys: str, *args: str) -> dict:
    process = await asyncio.create_subprocess_exec(
        *worker_command(*args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "TOKEN_ENCRYPTION_KEYS": keys},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout.decode().strip().splitlines()[-1])


@pytest.mark.postgres
async def test_twenty_calls_in_two_processes_refresh_once(
    postgres_oauth, sandbox: SandboxLogfire, encryption_key: str
) -> None:
    oauth, url, schema = postgres_oauth
    await connect(oauth, sandbox)
    sandbox.controls.expire_access_tokens()
    await set_local_expiry(oauth.database, "T1", -timedelta(seconds=1))
    start_at = str(time.time() + 4.0)  # both processes are up and waiting by then
    args = (url, schema, "T1", sandbox.mcp_url, oauth.web.redirect_uri, "10", start_at)

    first, second = await asyncio.gather(
        run_worker(encryption_key, "calls", *args), run_worker(encryption_key, "calls", *args)
    )

    assert first["statuses"] + second["statuses"] == [200] * 20
    assert first["refreshes"] + second["refreshes"] == 1
    assert sandbox.controls.token_refreshes == 1


async def test_a_revoked_refresh_token_asks_for_reconnection(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    row = await connect(oauth, sandbox)
    assert sandbox.controls.revoke(oauth.box.unseal(row, "refresh_token"))
    await set_local_expiry(oauth.database, "T1", -timedelta(seconds=1))

    with pytest.raises(NotConnected) as caught:
        await oauth.vault.access_token("T1")
    assert "Run `/logfire connect`" in str(caught.value)
    assert "revoked" in str(caught.value)
    marked = await oauth.vault.connection("T1")
    assert marked.needs_reconnect_reason
    attempts = sandbox.controls.token_refreshes

    with pytest.raises(NotConnected):  # the next question gets the prompt at once, without asking Logfire
        await oauth.vault.access_token("T1")
    assert sandbox.controls.token_refreshes == attempts

    page = await connect(oauth, sandbox)  # reconnecting clears the mark
    assert page.needs_reconnect_reason is None
    assert await list_tools_as(oauth, "T1", sandbox.mcp_url)


async def test_a_restarted_process_uses_the_stored_tokens(
    oauth: OAuthHarness, sandbox: SandboxLogfire, encryption_key: str
) -> None:
    await connect(oauth, sandbox)
    clients = len(sandbox.provider._store.clients)
    url = str(oauth.database.engine.url)

    result = await run_worker(
        encryption_key, "tools", url, "-", "T1", sandbox.mcp_url, oauth.web.redirect_uri
    )

    assert result == {"tools": len(await sandbox_tool_names(oauth, sandbox)), "refreshes": 0}
    assert len(sandbox.provider._store.clients) == clients  # no new registration
    assert sandbox.controls.token_refreshes == 0


async def sandbox_tool_names(oauth: OAuthHarness, sandbox: SandboxLogfire) -> list[str]:
    return await list_tools_as(oauth, "T1", sandbox.mcp_url)
