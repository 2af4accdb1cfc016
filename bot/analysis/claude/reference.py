"""The schema reference of each workspace's Logfire (`query_schema_reference`), kept in memory for a while:
it goes into the cached part of the system prompt, so it must not change from one question to the next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from bot.analysis.toolbox import Toolbox
from bot.errors import LogfireBotError
from bot.mcp_client.catalog import ToolCatalog

log = logging.getLogger(__name__)

SCHEMA_TOOL = "query_schema_reference"
DEFAULT_LIFETIME = 3600.0


@dataclass(frozen=True)
class _Entry:
    text: str
    catalog: str  # fingerprint of the tool listing it was fetched under
    fetched_at: float


class SchemaReferences:
    def __init__(self, lifetime_seconds: float = DEFAULT_LIFETIME) -> None:
        self.lifetime_seconds = lifetime_seconds
        self.fetches = 0
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def get(self, tools: Toolbox, catalog: ToolCatalog) -> str | None:
        """The workspace's schema reference, fetched at most once per lifetime (None if not offered).

        Fetched through the pool, so the read-only gate applies; it is context for the model, not a query
        of the analysis, so it is not listed among the analysis' queries.
        """
        allowed = {tool.name for tool in catalog.allowed}
        if SCHEMA_TOOL not in allowed:
            return None
        key = (tools.team_id, tools.mcp_url)
        async with self._locks[key]:
            entry = self._entries.get(key)
            if entry and entry.catalog == catalog.fingerprint and not self._expired(entry):
                return entry.text
            text = await self._fetch(tools)
            if text is not None:
                self._entries[key] = _Entry(text, catalog.fingerprint, time.monotonic())
            return text

    def forget(self, team_id: str) -> None:
        for key in [key for key in self._entries if key[0] == team_id]:
            del self._entries[key]

    def _expired(self, entry: _Entry) -> bool:
        return time.monotonic() - entry.fetched_at > self.lifetime_seconds

    async def _fetch(self, tools: Toolbox) -> str | None:
        self.fetches += 1
        try:
            outcome = await tools.pool.call(tools.team_id, SCHEMA_TOOL, {})
        except LogfireBotError as error:
            log.info("no schema reference for team %s: %s", tools.team_id, error)
            return None
        if outcome.is_error or not outcome.text.strip():
            log.info("no schema reference for team %s: %s", tools.team_id, outcome.text[:200])
            return None
        return outcome.text.strip()
