"""The connection screens: connect prompt, connected notice, status, tools list, disconnect result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.handlers.blocks.help import COMMAND, QUESTION
from bot.handlers.blocks.kit import (
    Block,
    Message,
    actions,
    button,
    code,
    context,
    field_sections,
    header,
    join_lines,
    mention,
    one_line,
    plural,
    safe,
    section,
    slack_date,
    split_mrkdwn,
)
from bot.mcp_client.catalog import GatedTool, ToolCatalog
from bot.oauth.vault import DisconnectResult
from db.models import Analysis, LogfireConnection

AUTHORIZE_ACTION = "authorize_logfire"  # a URL button: Slack still sends block_actions, ack it
REGION_NAMES = {"us": "US", "eu": "EU"}
TOOL_LIST_BUDGET = 4500  # characters per list in `/logfire tools`, within one message's ~12k
DESCRIPTION_LIMIT = 110


def region_label(region: str) -> str:
    if region.lower() in REGION_NAMES:
        return REGION_NAMES[region.lower()]
    return "custom endpoint" if region == "custom" else safe(region, 20)


def where(region: str, mcp_url: str) -> str:
    """ "US · `https://logfire-us.pydantic.dev/mcp`"."""
    return f"{region_label(region)} · {code(mcp_url, 300)}"


def connect_prompt(
    authorize_url: str,
    *,
    mcp_url: str,
    region: str,
    scope: str | None = "project:read",
    expires_minutes: int = 10,
    current: LogfireConnection | None = None,
) -> Message:
    """The ephemeral **Authorize with Logfire** button; `authorize_url` must be ≤ 3000 characters."""
    grant = f"read-only access ({code(scope, 100)})" if scope else "read-only access"
    notes = [
        f"The link works once and expires in {plural(expires_minutes, 'minute')}. "
        f"It grants {grant}; the bot only ever calls Logfire's read-only tools."
    ]
    if other := {"us": "eu", "eu": "us"}.get(region.lower()):
        notes.append(f"Project in the {REGION_NAMES[other]} region? Use `{COMMAND} connect {other}`.")
    if current is not None:
        notes.append(f"Connecting again replaces the current connection ({_current(current)}).")
    return Message(
        text=f"Connect Logfire ({region_label(region)}): open the Authorize with Logfire link.",
        blocks=[
            section(f"*Connect this workspace to Pydantic Logfire*\n{where(region, mcp_url)}"),
            actions(button("Authorize with Logfire", AUTHORIZE_ACTION, url=authorize_url, style="primary")),
            context(*notes),
        ],
    )


def connected_message(connection: LogfireConnection, catalog: ToolCatalog | None = None) -> Message:
    """After the callback: where, which project, how many read-only tools."""
    project = f"project {code(connection.project, 200)}" if connection.project else "its project"
    tools = tool_counts(connection, catalog)
    return Message(
        text=f"Logfire is connected ({region_label(connection.region)}): {tools}.",
        blocks=[
            section(
                f":white_check_mark: *Logfire is connected.* This workspace reads {project} in "
                f"Logfire {where(connection.region, connection.mcp_url)}, with {tools}."
            ),
            context(
                f"Ask with `{COMMAND} {QUESTION}` or mention the bot. `{COMMAND} tools` lists the tools."
            ),
        ],
    )


def status_message(
    connection: LogfireConnection | None,
    catalog: ToolCatalog | None = None,
    last_question: Analysis | None = None,
) -> Message:
    """`/logfire status`: connected or not, where, who connected when, tools, last question."""
    if connection is None:
        return Message(
            text="This workspace is not connected to Logfire.",
            blocks=[
                section(
                    f"*This workspace is not connected to Logfire.*\nRun `{COMMAND} connect` "
                    f"(or `{COMMAND} connect eu` for the EU region) to authorize read-only access."
                )
            ],
        )
    blocks: list[Block] = [
        header("Logfire connection"),
        *connection_fields(connection, catalog, last_question),
    ]
    if connection.needs_reconnect_reason:
        blocks.append(reconnect_warning(connection.needs_reconnect_reason))
    return Message(
        text=f"Logfire: connected ({region_label(connection.region)}), {tool_counts(connection, catalog)}.",
        blocks=blocks,
    )


def connection_fields(
    connection: LogfireConnection, catalog: ToolCatalog | None, last_question: Analysis | None
) -> list[Block]:
    """The connection as section fields (status and App Home)."""
    fields = [
        f"*Region*\n{where(connection.region, connection.mcp_url)}",
        f"*Project*\n{code(connection.project, 200) if connection.project else 'not identified yet'}",
        f"*Connected by*\n{mention(connection.connected_by)}, {slack_date(connection.connected_at)}",
        f"*Tools*\n{tool_counts(connection, catalog)}",
        f"*Last question*\n{describe_question(last_question)}",
    ]
    return field_sections(fields)


def reconnect_warning(reason: str) -> Block:
    return section(
        f":warning: *The connection needs to be renewed:* {safe(reason, 1000)}\n"
        f"Run `{COMMAND} connect` to authorize again."
    )


def describe_question(analysis: Analysis | None) -> str:
    if analysis is None:
        return "none yet"
    asked = f"“{safe(one_line(analysis.question), 300)}”"
    when = f", {slack_date(analysis.created_at)}" if isinstance(analysis.created_at, datetime) else ""
    return f"{asked} by {mention(analysis.user_id)}{when} ({safe(analysis.status or 'running', 20)})"


def tool_counts(connection: LogfireConnection, catalog: ToolCatalog | None) -> str:
    if catalog is not None:
        return f"{plural(len(catalog.allowed), 'read-only tool')}, {len(catalog.blocked):,} blocked"
    listed = len((connection.tools_summary or {}).get("tools") or {})
    if listed:
        return f"{plural(listed, 'tool')} at the last listing (Logfire not asked just now)"
    return "not listed yet"


def tools_message(catalog: ToolCatalog, last_change: Mapping[str, Any] | None = None) -> Message:
    """`/logfire tools`: allowed tools, blocked tools with the reason, the last change to the list.

    `last_change` is `LogfireConnection.tools_summary["last_change"]` ({"at": ISO time, "what": …}).
    """
    allowed, blocked = catalog.allowed, catalog.blocked
    blocks: list[Block] = [
        header("Logfire tools"),
        section(
            f"*{plural(len(allowed), 'read-only tool')} the bot may use*"
            if allowed
            else "*No tool passed the read-only check*: the bot cannot answer questions with this server."
        ),
        *_allowed_list(allowed),
    ]
    if blocked:
        blocks += [
            section(f"*{plural(len(blocked), 'tool')} blocked*, because they could change data in Logfire"),
            *_blocked_list(blocked),
        ]
    notes = ["Tools pass only when their name has no write verb and their annotations do not say they write."]
    if change := _describe_change(last_change):
        notes.insert(0, change)
    blocks.append(context(*notes))
    return Message(
        text=f"Logfire tools: {len(allowed)} read-only tools allowed, {len(blocked)} blocked.", blocks=blocks
    )


def _allowed_list(tools: Sequence[GatedTool]) -> list[Block]:
    """One line per tool with its description; names only when that is too long; then "and N more"."""
    lines = [_allowed_line(tool) for tool in tools]
    if sum(len(line) + 1 for line in lines) <= TOOL_LIST_BUDGET:
        return [section(chunk) for chunk in join_lines(lines, 2900)]
    names = " · ".join(_fit([code(tool.name, 80) for tool in tools], TOOL_LIST_BUDGET, " · "))
    return [section(piece) for piece in split_mrkdwn(names, 2900)]


def _blocked_list(tools: Sequence[GatedTool]) -> list[Block]:
    """Blocked tools grouped by the gate's reason."""
    by_reason: dict[str, list[str]] = {}
    for tool in tools:
        by_reason.setdefault(tool.verdict.reason.removeprefix("blocked: "), []).append(tool.name)
    lines = [
        f"• {safe(reason, 200)}: {', '.join(_fit([code(name, 80) for name in names], 1500, ', '))}"
        for reason, names in by_reason.items()
    ]
    return [section(chunk) for chunk in join_lines(_fit(lines, TOOL_LIST_BUDGET, "\n"), 2900)]


def _fit(items: Sequence[str], budget: int, separator: str) -> list[str]:
    """The first `items` that fit in `budget` characters when joined, then "…and N more"."""
    kept: list[str] = []
    used = 0
    for item in items:
        if used + len(item) + len(separator) > budget:
            return [*kept, f"…and {len(items) - len(kept):,} more"]
        kept.append(item)
        used += len(item) + len(separator)
    return kept


def _allowed_line(tool: GatedTool) -> str:
    description = _first_sentence(tool.tool.description or tool.tool.title or "")
    return f"• {code(tool.name, 80)}" + (f": {safe(description, DESCRIPTION_LIMIT)}" if description else "")


def _first_sentence(text: str) -> str:
    text = one_line(text)
    end = text.find(". ")
    return text[: end + 1] if 0 < end < DESCRIPTION_LIMIT else text


def _describe_change(note: Mapping[str, Any] | None) -> str | None:
    if not note or not note.get("what"):
        return None
    try:
        when = slack_date(datetime.fromisoformat(str(note.get("at"))))
    except ValueError:
        when = "recently"
    return f"*Last change* ({when}): {safe(str(note['what']), 600)}"


def disconnect_message(result: DisconnectResult) -> Message:
    if result.revoked:
        text = "Disconnected from Logfire: the tokens were revoked at Logfire and deleted here."
        detail = "*Disconnected from Logfire.* The tokens were revoked at Logfire and deleted here."
    else:
        why = f" ({safe(result.detail, 500)})" if result.detail else ""
        text = "Disconnected from Logfire: tokens deleted here; Logfire did not confirm revoking them."
        detail = (
            f"*Disconnected from Logfire.* The tokens are deleted here, but Logfire did not confirm "
            f"revoking them{why}. To be sure, remove the bot's authorization in your Logfire settings."
        )
    return Message(text=text, blocks=[section(detail), context(f"Run `{COMMAND} connect` to connect again.")])


def _current(connection: LogfireConnection) -> str:
    project = f" · {code(connection.project, 200)}" if connection.project else ""
    return f"{region_label(connection.region)}{project}"
