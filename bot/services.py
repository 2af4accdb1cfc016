"""The bot's services wired from the settings: database, secret box, OAuth flow and vault, MCP pool, analyst.

`logfire-bot run`, `ask` and `demo` all start from here; the Slack handlers receive the result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx2

from bot.analysis.engine import Engine
from bot.analysis.queue import AnalysisQueue
from bot.analysis.service import Analyst
from bot.charts import close_renderer
from bot.config import Settings
from bot.http import new_http_client
from bot.mcp_client.gate import ToolGate
from bot.mcp_client.pool import McpPool, PoolSettings
from bot.mcp_client.session import SessionSettings
from bot.oauth.authorization import OAuthFlow
from bot.oauth.crypto import SecretBox
from bot.oauth.registration import ClientCredentials
from bot.oauth.vault import TokenVault
from db.engine import Database, open_database
from db.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    database: Database
    box: SecretBox
    http: httpx2.AsyncClient
    flow: OAuthFlow
    vault: TokenVault
    pool: McpPool
    analyst: Analyst
    queue: AnalysisQueue

    @classmethod
    async def start(cls, settings: Settings, engine: Engine | None = None) -> Services:
        """Open the database (applying pending migrations) and build everything on it."""
        box = settings.secret_box  # fails early, naming the variable, when the keys are missing
        database = open_database(settings.database_url)
        before, after = await upgrade(database)
        if before != after:
            log.info("database migrated from %s to %s", before or "empty", after)
        http = new_http_client()
        redirect_uri = settings.logfire_redirect_uri
        regions = settings.logfire_region_urls
        preregistered = _preregistered_client(settings)
        flow = OAuthFlow(database, box, http, redirect_uri, regions, preregistered)
        vault = TokenVault(database, box, http, redirect_uri, regions, preregistered)
        gate = ToolGate.configured(
            strict=settings.logfire_tools_strict,
            allow=settings.logfire_tools_allow,
            deny=settings.logfire_tools_deny,
            extra_verbs=settings.logfire_tools_extra_write_verbs,
        )
        pool = McpPool(
            vault, gate, database, PoolSettings(SessionSettings(handshake=settings.logfire_mcp_handshake))
        )
        analyst = Analyst(pool, database, engine or make_engine(settings))
        queue = AnalysisQueue(settings.logfire_bot_max_concurrent_analyses)
        return cls(settings, database, box, http, flow, vault, pool, analyst, queue)

    async def close(self) -> None:
        await self.pool.close()
        await self.analyst.aclose()
        await close_renderer()
        await self.http.aclose()
        await self.database.dispose()


def make_engine(settings: Settings) -> Engine:
    """Claude when an Anthropic key is configured, else the offline planner."""
    if settings.anthropic_api_key is not None:
        from bot.analysis.claude import ClaudeEngine

        return ClaudeEngine.from_settings(settings)
    from bot.analysis.offline import OfflinePlanner

    return OfflinePlanner()


def _preregistered_client(settings: Settings) -> ClientCredentials | None:
    if not settings.logfire_oauth_client_id:
        return None
    secret = settings.logfire_oauth_client_secret
    return ClientCredentials(
        settings.logfire_oauth_client_id,
        secret.get_secret_value() if secret else None,
        "client_secret_post" if secret else "none",
    )
