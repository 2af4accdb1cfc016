"""App Home: the workspace's connection at a glance, and a way to connect."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import LogfireBotError
from bot.handlers import blocks
from bot.services import Services


async def publish(services: Services, client: AsyncWebClient, team_id: str, user_id: str) -> None:
    connection = await services.vault.connection(team_id)
    catalog = None
    if connection is not None and not connection.needs_reconnect_reason:
        try:
            catalog = await services.pool.catalog(team_id)
        except LogfireBotError:
            catalog = None
    last = await services.analyst.last_question(team_id)
    await client.views_publish(
        user_id=user_id, view=blocks.home(connection, catalog, last, services.analyst.mode)
    )
