"""App Home: the workspace's connection at a glance, and a way to connect."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import LogfireBotError
from bot.handlers import blocks
from bot.handlers.permissions import may_manage_connection
from bot.services import Services


async def publish(services: Services, client: AsyncWebClient, team_id: str, user_id: str) -> None:
    connection = await services.vault.connection(team_id)
    catalog = None
    if connection is not None and not connection.needs_reconnect_reason:
        try:
            catalog = await services.pool.catalog(team_id)
        except LogfireBotError:
            catalog = None
    view = blocks.home_view(
        connection,
        catalog=catalog,
        last_question=await services.analyst.last_question(team_id),
        can_manage=await may_manage_connection(client, services.settings, user_id),
    )
    await client.views_publish(user_id=user_id, view=view)
