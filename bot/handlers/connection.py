"""Connecting the workspace to Logfire and looking after the connection: `/logfire connect`, `disconnect`,
`status`, `tools`, and telling the user in Slack how the browser step ended."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import LogfireBotError, NotConnected
from bot.handlers import blocks, slack_io
from bot.handlers.permissions import may_manage_connection
from bot.mcp_client.project import identify_project
from bot.oauth.authorization import Connected, Requester
from bot.oauth.endpoints import resolve_endpoint
from bot.services import Services

log = logging.getLogger(__name__)

Reply = tuple[str, list]


async def connect(services: Services, client: AsyncWebClient, requester: Requester, choice: str) -> Reply:
    """The Authorize button for this user, or a message saying why not."""
    settings = services.settings
    if not await may_manage_connection(client, settings, requester.user_id):
        return blocks.admins_only("connect")
    try:
        endpoint = resolve_endpoint(choice, settings.logfire_mcp_url, settings.logfire_region_urls)
        url = await services.flow.start_authorization(requester, endpoint.mcp_url)
    except LogfireBotError as error:
        log.info("connect for team %s refused: %s", requester.team_id, error)
        return blocks.error(error)
    return blocks.connect_prompt(url, endpoint.region, endpoint.mcp_url)


async def disconnect(services: Services, client: AsyncWebClient, team_id: str, user_id: str) -> Reply:
    if not await may_manage_connection(client, services.settings, user_id):
        return blocks.admins_only("disconnect")
    try:
        result = await services.vault.disconnect(team_id)
    except LogfireBotError as error:
        return blocks.error(error)
    await services.pool.close(team_id)
    return blocks.disconnected(result.revoked, result.detail)


async def status(services: Services, team_id: str) -> Reply:
    connection = await services.vault.connection(team_id)
    catalog = None
    if connection is not None and not connection.needs_reconnect_reason:
        try:
            catalog = await services.pool.catalog(team_id)
        except LogfireBotError as error:
            log.info("status of team %s without tools: %s", team_id, error)
    last = await services.analyst.last_question(team_id)
    return blocks.status(connection, catalog, last, services.analyst.mode)


async def tools(services: Services, team_id: str) -> Reply:
    connection = await services.vault.connection(team_id)
    if connection is None:
        return blocks.error(NotConnected())
    try:
        catalog = await services.pool.catalog(team_id, refresh=True)
    except LogfireBotError as error:
        return blocks.error(error)
    connection = await services.vault.connection(team_id)  # the listing may have recorded a change
    return blocks.tools(catalog, (connection.tools_summary or {}).get("last_change") if connection else None)


ClientFor = Callable[[Requester], Awaitable[AsyncWebClient]]


def connection_callbacks(app: AsyncApp, services: Services):  # type: ignore[no-untyped-def]
    """What the OAuth callback route calls when the browser step ends, to say it in Slack too."""

    async def client_for(requester: Requester) -> AsyncWebClient:
        if app.installation_store is None:
            return app.client
        bot = await app.installation_store.async_find_bot(
            enterprise_id=requester.enterprise_id, team_id=requester.team_id
        )
        return AsyncWebClient(token=bot.bot_token if bot else None, base_url=app.client.base_url)

    async def on_connected(connected: Connected) -> str | None:
        requester = connected.requester
        await services.pool.close(requester.team_id)  # a reconnect may have changed the server or project
        project, catalog = None, None
        try:
            project = await identify_project(services.pool, requester.team_id)
            catalog = await services.pool.catalog(requester.team_id)
        except LogfireBotError as error:
            log.warning("connected team %s, but listing its tools failed: %s", requester.team_id, error)
        text, body = blocks.connected(connected.region, project, catalog)
        try:
            await slack_io.tell(
                await client_for(requester), requester.user_id, requester.channel_id, text, body
            )
        except Exception:  # the browser page still says it worked
            log.exception("could not tell team %s that it is connected", requester.team_id)
        return blocks.connected_page_line(project, catalog)

    async def on_failed(requester: Requester, error: LogfireBotError) -> None:
        text, body = blocks.error(error)
        await slack_io.tell(await client_for(requester), requester.user_id, requester.channel_id, text, body)

    return on_connected, on_failed
