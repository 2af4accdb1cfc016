"""Per-workspace MCP sessions, reused across questions, and the only way tools get called.

Every call goes through the read-only gate again at call time, whatever name the model sent; a session the
server lost (or a broken connection) is rebuilt once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx2

from bot.errors import LogfireUnavailable, ToolRefused
from bot.mcp_client.catalog import ToolCatalog, ToolChanges
from bot.mcp_client.gate import ToolGate
from bot.mcp_client.results import ToolOutcome, outcome_of
from bot.mcp_client.session import McpSession, SessionLost, SessionSettings
from db.engine import Database
from db.models import LogfireConnection, utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")


class Credentials(Protocol):
    """Where a workspace's Logfire is and how to authenticate (the OAuth token vault)."""

    async def mcp_url(self, team_id: str) -> str: ...  # raises NotConnected

    def auth(self, team_id: str) -> httpx2.Auth: ...


@dataclass(frozen=True)
class PoolSettings:
    session: SessionSettings = field(default_factory=SessionSettings)
    catalog_seconds: float = 600.0  # how long a tool listing is trusted


class McpPool:
    def __init__(
        self,
        credentials: Credentials,
        gate: ToolGate,
        database: Database,
        settings: PoolSettings | None = None,
    ) -> None:
        self.credentials = credentials
        self.gate = gate
        self.database = database
        self.settings = settings or PoolSettings()
        self.sessions_opened = 0
        self._sessions: dict[str, McpSession] = {}
        self._catalogs: dict[str, _Cached] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def catalog(self, team_id: str, *, refresh: bool = False) -> ToolCatalog:
        """The workspace's tools as the gate judges them (listed at most every `catalog_seconds`)."""
        cached = self._catalogs.get(team_id)
        if cached and not refresh and time.monotonic() - cached.listed_at < self.settings.catalog_seconds:
            return cached.catalog
        tools, instructions = await self._with_session(team_id, lambda session: session.list_tools())
        catalog = ToolCatalog.judged(tools, instructions, self.gate, utcnow())
        await self._remember(team_id, catalog)
        self._catalogs[team_id] = _Cached(catalog, time.monotonic())
        return catalog

    async def call(
        self, team_id: str, name: str, arguments: dict[str, Any], *, read_timeout_seconds: float | None = None
    ) -> ToolOutcome:
        """Call one tool if, and only if, the gate allows it now."""
        listed = (await self.catalog(team_id)).get(name)
        if listed is None:
            log.warning("refused unknown tool %r for team %s", name, team_id)
            raise ToolRefused(name, "Logfire does not offer a tool of that name")
        verdict = self.gate.judge(listed.tool)
        if not verdict.allowed:
            log.warning("refused tool %r for team %s: %s", name, team_id, verdict.reason)
            raise ToolRefused(name, verdict.reason)
        started = time.perf_counter()
        result = await self._with_session(
            team_id, lambda session: session.call_tool(name, arguments, read_timeout_seconds)
        )
        return outcome_of(result, name, arguments, time.perf_counter() - started)

    async def close(self, team_id: str | None = None) -> None:
        """Close one workspace's session (after a disconnect) or all of them (at shutdown)."""
        teams = [team_id] if team_id else list(self._sessions)
        for team in teams:
            self._catalogs.pop(team, None)
            if session := self._sessions.pop(team, None):
                await session.close()

    async def _with_session(self, team_id: str, operation: Callable[[McpSession], Awaitable[T]]) -> T:
        session = await self._session(team_id)
        try:
            return await operation(session)
        except SessionLost as lost:
            log.info("MCP session of team %s lost (%s); opening a new one", team_id, lost)
        session = await self._session(team_id, replacing=session)
        try:
            return await operation(session)
        except SessionLost as lost:
            raise LogfireUnavailable(f"the MCP session broke twice ({lost})") from None

    async def _session(self, team_id: str, replacing: McpSession | None = None) -> McpSession:
        mcp_url = await self.credentials.mcp_url(team_id)
        async with self._locks[team_id]:
            current = self._sessions.get(team_id)
            if (
                current is not None
                and current is not replacing
                and current.alive
                and current.mcp_url == mcp_url
            ):
                return current
            if current is not None:
                await current.close()
            session = McpSession(mcp_url, self.credentials.auth(team_id), self.settings.session)
            await session.open()
            self.sessions_opened += 1
            self._sessions[team_id] = session
            return session

    async def _remember(self, team_id: str, catalog: ToolCatalog) -> ToolChanges:
        """Store the listing's fingerprint; log and keep a note when it changed since the last session."""
        async with self.database.sessions() as session, session.begin():
            row = await session.get(LogfireConnection, team_id)
            if row is None or row.tools_fingerprint == catalog.fingerprint:
                return ToolChanges()
            previous = (row.tools_summary or {}).get("tools") or {}
            changes = catalog.changes_since(previous) if previous else ToolChanges()
            if changes:
                log.warning("the Logfire tools of team %s changed: %s", team_id, changes.describe())
            note = (row.tools_summary or {}).get("last_change")
            if changes:
                note = {"at": catalog.fetched_at.isoformat(), "what": changes.describe()}
            row.tools_fingerprint = catalog.fingerprint
            row.tools_summary = {"tools": catalog.fingerprints(), "last_change": note}
            return changes


@dataclass(frozen=True)
class _Cached:
    catalog: ToolCatalog
    listed_at: float
