"""Which Logfire project a workspace's token reads, asked of the read-only tools that know it."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import update

from bot.errors import LogfireBotError
from bot.mcp_client.pool import McpPool
from db.models import LogfireConnection

log = logging.getLogger(__name__)

PROJECT_TOOLS = ("token_info", "project_list")


async def identify_project(pool: McpPool, team_id: str) -> str | None:
    """The project as "organization/project", from `token_info` or `project_list` when the gate allows them.

    Stored on the connection. None when no allowed tool says (the connection still works without it).
    """
    catalog = await pool.catalog(team_id)
    for name in PROJECT_TOOLS:
        listed = catalog.get(name)
        if listed is None or not listed.verdict.allowed:
            continue
        try:
            outcome = await pool.call(team_id, name, {})
        except LogfireBotError as error:
            log.info("could not ask %s for the project of team %s: %s", name, team_id, error)
            continue
        if not outcome.is_error and (project := _project_of(_first_record(outcome.text))):
            await _store(pool, team_id, project)
            return project
    return None


def _first_record(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if isinstance(value, dict) and isinstance(value.get("result"), list | dict):
        value = value["result"]
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _project_of(record: dict[str, Any]) -> str | None:
    organization = record.get("organization_name") or record.get("organization")
    project = record.get("project_name") or record.get("project")
    if isinstance(project, str) and "/" in project:
        return project
    if organization and project:
        return f"{organization}/{project}"
    return None


async def _store(pool: McpPool, team_id: str, project: str) -> None:
    async with pool.database.sessions() as session, session.begin():
        await session.execute(
            update(LogfireConnection).where(LogfireConnection.team_id == team_id).values(project=project)
        )
