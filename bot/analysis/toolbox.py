"""The tools one analysis may use: Logfire's allowed MCP tools (through the pool, gate re-checked on every
call) and our chart renderer. Every result table is kept by its id; the model only ever sees compact text.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from urllib.parse import urlsplit

from bot.analysis.types import Progress, QueryRun, no_progress
from bot.charts import ChartSpec, ChartSpecError, RenderedChart, render_chart
from bot.errors import LogfireBotError
from bot.mcp_client.catalog import ToolCatalog
from bot.mcp_client.pool import McpPool
from bot.mcp_client.results import ToolOutcome
from bot.tables import ResultTable

log = logging.getLogger(__name__)

LINK_TOOLS = frozenset({"project_logfire_link", "project_logfire_ui_link"})


class Toolbox:
    def __init__(self, pool: McpPool, team_id: str, mcp_url: str, progress: Progress = no_progress) -> None:
        self.pool = pool
        self.team_id = team_id
        self.mcp_url = mcp_url
        self.progress = progress
        self.tables: dict[str, ResultTable] = {}
        self.queries: list[QueryRun] = []
        self.charts: list[RenderedChart] = []
        self.links: list[str] = []

    async def catalog(self) -> ToolCatalog:
        return await self.pool.catalog(self.team_id)

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Run one Logfire tool; the outcome's table (if any) gets a result id such as "r1".

        Raises ToolRefused for tools the gate blocks and the other `LogfireBotError`s when Logfire fails.
        """
        await self.progress(_describe_call(name, arguments))
        try:
            outcome = await self.pool.call(self.team_id, name, arguments)
        except LogfireBotError as error:
            self.queries.append(QueryRun(name, arguments, 0.0, error=str(error)))
            raise
        if outcome.table is not None:
            table = dataclasses.replace(outcome.table, result_id=f"r{len(self.tables) + 1}")
            outcome = dataclasses.replace(outcome, table=table)
            self.tables[table.result_id] = table
        error = outcome.text if outcome.is_error else None
        table_id = outcome.table.result_id if outcome.table else None
        self.queries.append(QueryRun(name, arguments, outcome.seconds, table_id, outcome.row_count, error))
        if name in LINK_TOOLS and not outcome.is_error:
            self._keep_link(outcome.text)
        return outcome

    async def chart(self, spec: ChartSpec) -> RenderedChart:
        """Render a chart from a kept result; ChartSpecError (for the model to fix) when the spec is wrong."""
        table = self.tables.get(spec.result_id)
        if table is None:
            known = ", ".join(self.tables) or "none yet"
            raise ChartSpecError(f"There is no result {spec.result_id!r}; results so far: {known}.")
        await self.progress("Drawing the chart")
        chart = await render_chart(spec, table)
        self.charts.append(chart)
        return chart

    def last_table(self) -> ResultTable | None:
        return next(reversed(self.tables.values()), None)

    def _keep_link(self, text: str) -> None:
        """Keep links that point at Logfire itself (the MCP server's host), never elsewhere."""
        url = text.strip().strip('"')
        parts, logfire = urlsplit(url), urlsplit(self.mcp_url)
        if (parts.scheme, parts.hostname) != (logfire.scheme, logfire.hostname):
            log.info("ignored a link outside Logfire from a link tool")
        elif url not in self.links:
            self.links.append(url)


def _describe_call(name: str, arguments: dict[str, Any]) -> str:
    if name == "query_run":
        return "Querying Logfire"
    return f"Calling `{name}`"
