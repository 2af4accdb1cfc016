"""A workspace connected to the sandbox through the real OAuth flow, and an MCP pool over its tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.mcp_client.gate import ToolGate
from bot.mcp_client.pool import McpPool, PoolSettings
from bot.mcp_client.session import SessionSettings
from bot.oauth.authorization import Requester
from sandbox.logfire.server import SandboxLogfire
from tests.oauth_harness import OAuthHarness


@dataclass
class Connected:
    oauth: OAuthHarness
    pool: McpPool
    team: str = "T1"


def make_pool(oauth: OAuthHarness, gate: ToolGate | None = None, **session: float | str) -> McpPool:
    settings = PoolSettings(session=SessionSettings(**session))
    return McpPool(oauth.vault, gate or ToolGate(), oauth.database, settings)


async def connect_team(
    oauth: OAuthHarness, sandbox: SandboxLogfire, team: str, project: str | None = None
) -> None:
    page = await oauth.connect(Requester(team, "U1"), sandbox.mcp_url, issuer=sandbox.issuer, project=project)
    assert page.status_code == 200, page.text


@pytest.fixture
async def connected(oauth: OAuthHarness, sandbox: SandboxLogfire) -> AsyncIterator[Connected]:
    await connect_team(oauth, sandbox, "T1")
    pool = make_pool(oauth, call_timeout=20.0)
    yield Connected(oauth, pool)
    await pool.close()
