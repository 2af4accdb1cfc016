"""Connecting the workspace to Logfire and looking after the connection: `/logfire connect`, `disconnect`,
`status`, `tools`, and telling the user in Slack how the browser step ended."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import LogfireBotError, NotConnected
from bot.handlers import blocks, slack_io
from bot.handlers.blocks import Message
from bot.handlers.permissions import may_manage_connection
from bot.mcp_client.catalog import ToolCatalog
from bot.mcp_client.project import identify_project
from bot.oauth.authorization import Connected, Requester
from bot.oauth.callback_page import OnConnected, OnFailed
from bot.oauth.endpoints import resolve_endpoint
from bot.services import Services

log = logging.getLogger(__name__)


async def connect(services: Services, client: AsyncWebClient, requester: Requester, choice: str) -> Message:
    """The Authorize button for this user, or a message saying why not."""
    settings = services.settings
    if not await may_manage_connection(client, settings, requester.user_id):
        return blocks.admin_only_message("connect Logfire")
    try:
        endpoint = resolve_endpoint(choice, settings.logfire_mcp_url, settings.logfire_region_urls)
        url = await services.flow.start_authorization(requester, endpoint.mcp_url)
    except LogfireBotError as error:
        log.info("connect for team %s refused: %s", requester.team_id, error)
        return error_reply(services, error)
    current = await services.vault.connection(requester.team_id)
    return blocks.connect_prompt(url, mcp_url=endpoint.mcp_url, region=endpoint.region, current=current)


async def disconnect(services: Services, client: AsyncWebClient, team_id: str, user_id: str) -> Message:
    if not await may_manage_connection(client, services.settings, user_id):
        return blocks.admin_only_message("disconnect Logfire")
    try:
        result = await services.vault.disconnect(team_id)
    except LogfireBotError as error:
        return error_reply(services, error)
    await services.pool.close(team_id)
    return blocks.disconnect_message(result)


async def status(services: Services, team_id: str) -> Message:
    connection = await services.vault.connection(team_id)
    catalog = await _catalog_if_usable(services, team_id) if connection else None
    return blocks.status_message(connection, catalog, await services.analyst.last_question(team_id))


async def tools(services: Services, team_id: str) -> Message:
    if await services.vault.connection(team_id) is None:
        return error_reply(services, NotConnected())
    try:
        catalog = await services.pool.catalog(team_id, refresh=True)
    except LogfireBotError as error:
        return error_reply(services, error)
    connection = await services.vault.connection(team_id)  # the listing may have recorded a change
    last_change = (connection.tools_summary or {}).get("last_change") if connection else None
    return blocks.tools_message(catalog, last_change)


def error_reply(services: Services, error: LogfireBotError) -> Message:
    return blocks.error_message(error, region_urls=services.settings.logfire_region_urls)


async def _catalog_if_usable(services: Services, team_id: str) -> ToolCatalog | None:
    try:
        return await services.pool.catalog(team_id)
    except LogfireBotError as error:
        log.info("no tool listing for team %s: %s", team_id, error)
        return None


def connection_callbacks(app: AsyncApp, services: Services) -> tuple[OnConnected, OnFailed]:
    """What the OAuth callback route calls when the browser step ends, to say it in Slack too."""

    async def client_for(requester: Requester) -> AsyncWebClient:
        if app.installation_store is None:
            return app.client
        bot = await app.installation_store.async_find_bot(
            enterprise_id=requester.enterprise_id, team_id=requester.team_id
        )
        token = bot.bot_token if bot else None
        return AsyncWebClient(token=token, base_url=app.client.base_url, session=app.client.session)

    async def on_connected(connected: Connected) -> str | None:
        requester = connected.requester
        await services.pool.close(requester.team_id)  # a reconnect may have changed the server or project
        try:
            project = await identify_project(services.pool, requester.team_id)
        except LogfireBotError as error:
            log.warning("connected team %s, but its tools are not reachable: %s", requester.team_id, error)
            project = None
        catalog = await _catalog_if_usable(services, requester.team_id)
        connection = await services.vault.connection(requester.team_id)
        text, body = blocks.connected_message(connection, catalog)
        try:
            client = await client_for(requester)
            await slack_io.tell(client, requester.user_id, requester.channel_id, text, body)
        except Exception:  # the browser page still says it worked
            log.exception("could not tell team %s that it is connected", requester.team_id)
        return _page_line(project, catalog)

    async def on_failed(requester: Requester, error: LogfireBotError) -> None:
        text, body = error_reply(services, error)
        await slack_io.tell(await client_for(requester), requester.user_id, requester.channel_id, text, body)

    return on_connected, on_failed


def _page_line(project: str | None, catalog: ToolCatalog | None) -> str | None:
    """The extra line of the browser's "connected" page."""
    parts = [f"Project: {project}."] if project else []
    if catalog is not None:
        parts.append(
            f"{len(catalog.allowed)} read-only tools available, {len(catalog.blocked)} write tools blocked."
        )
    return " ".join(parts) or None
