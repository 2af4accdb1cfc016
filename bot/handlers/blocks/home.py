"""The App Home tab: the workspace's connection, a connect (or reconnect) button, and the help."""

from __future__ import annotations

from typing import Any

from bot.handlers.blocks.connection import (
    AUTHORIZE_ACTION,
    connection_fields,
    reconnect_warning,
    region_label,
)
from bot.handlers.blocks.help import help_blocks
from bot.handlers.blocks.kit import (
    VIEW_BLOCKS_LIMIT,
    Block,
    actions,
    button,
    context,
    divider,
    header,
    section,
)
from bot.mcp_client.catalog import ToolCatalog
from db.models import Analysis, LogfireConnection

# Values: "us" or "eu" to connect there, "reconnect" to connect again to the current endpoint.
CONNECT_ACTION = "home_connect"
CONNECT_ACTION_PATTERN = r"^home_connect(_[a-z]+)?$"


def home_view(
    connection: LogfireConnection | None,
    *,
    catalog: ToolCatalog | None = None,
    last_question: Analysis | None = None,
    can_manage: bool = True,
    authorize_url: str | None = None,
    bot_user_id: str | None = None,
) -> dict[str, Any]:
    """The `views.publish` view. `authorize_url` (after a connect click) shows the Authorize button itself;
    `can_manage` False (LOGFIRE_ADMIN_ONLY and not an admin) hides the connect buttons."""
    blocks: list[Block] = [header("Logfire for Slack"), section("*Connection*")]
    if connection is None:
        blocks.append(section("This workspace is not connected to Logfire yet."))
    else:
        blocks += connection_fields(connection, catalog, last_question)
        if connection.needs_reconnect_reason:
            blocks.append(reconnect_warning(connection.needs_reconnect_reason))
    if authorize_url:
        blocks += [
            actions(button("Authorize with Logfire", AUTHORIZE_ACTION, url=authorize_url, style="primary")),
            context("The link works once and expires in 10 minutes. It grants read-only access."),
        ]
    elif can_manage:
        blocks.append(actions(*_connect_buttons(connection)))
    else:
        blocks.append(context("Only workspace admins can connect or disconnect Logfire here."))
    blocks += [divider(), *help_blocks(bot_user_id)]
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS_LIMIT]}


def _connect_buttons(connection: LogfireConnection | None) -> list[Block]:
    if connection is None:
        return [
            button("Connect Logfire (US)", CONNECT_ACTION, value="us", style="primary"),
            button("Connect Logfire (EU)", f"{CONNECT_ACTION}_eu", value="eu"),
        ]
    return [button(f"Reconnect ({region_label(connection.region)})", CONNECT_ACTION, value="reconnect")]
