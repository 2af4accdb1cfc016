"""Running the planner's SQL through Logfire's query tool, with the window always given explicitly.

The tool and its argument names come from the tool's input schema in the workspace's catalog: hosted
Logfire's `query_run` takes `start_timestamp`/`end_timestamp` in some versions and `min_timestamp`/
`max_timestamp` in others; the open-source server's `arbitrary_query` takes `age` in minutes. When the tool
cannot take the end (or any bound) of the window, the SQL carries it as a `start_timestamp` predicate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.analysis.offline.windows import TimeWindow
from bot.analysis.toolbox import Toolbox
from bot.errors import ToolFailed, ToolRefused
from bot.mcp_client.catalog import ToolCatalog
from bot.tables import ResultTable

QUERY_TOOLS = ("query_run", "arbitrary_query")
_QUERY_ARGS = ("query", "sql")
_START_ARGS = ("start_timestamp", "min_timestamp", "start_time", "start", "since", "from_timestamp")
_END_ARGS = ("end_timestamp", "max_timestamp", "end_time", "end", "until", "to_timestamp")
_AGE_ARGS = ("age", "age_minutes")
_PROJECT_ARGS = ("project",)


@dataclass(frozen=True)
class QueryTool:
    """The query tool of a catalog and the names of its arguments."""

    name: str
    query_arg: str
    start_arg: str | None = None
    end_arg: str | None = None
    age_arg: str | None = None
    project_arg: str | None = None

    @classmethod
    def from_catalog(cls, catalog: ToolCatalog) -> QueryTool:
        """The first allowed query tool; ToolRefused when the workspace has none."""
        for name in QUERY_TOOLS:
            gated = catalog.get(name)
            if gated is None or not gated.verdict.allowed:
                continue
            properties = (gated.tool.input_schema or {}).get("properties", {})
            query_arg = _first(properties, _QUERY_ARGS)
            if query_arg is None:
                continue
            return cls(
                name=name,
                query_arg=query_arg,
                start_arg=_first(properties, _START_ARGS),
                end_arg=_first(properties, _END_ARGS),
                age_arg=_first(properties, _AGE_ARGS),
                project_arg=_first(properties, _PROJECT_ARGS),
            )
        raise ToolRefused(QUERY_TOOLS[0], "this Logfire connection offers no SQL query tool")

    @property
    def bounds_in_sql(self) -> bool:
        """Whether the SQL must restrict start_timestamp itself (the tool cannot take the whole window)."""
        return self.start_arg is None or self.end_arg is None

    def arguments(self, sql: str, window: TimeWindow, project: str | None, now: datetime) -> dict[str, Any]:
        arguments: dict[str, Any] = {self.query_arg: sql}
        if self.start_arg:
            arguments[self.start_arg] = iso(window.start)
        elif self.age_arg:
            arguments[self.age_arg] = max(1, math.ceil((now - window.start).total_seconds() / 60))
        if self.end_arg:
            arguments[self.end_arg] = iso(window.end)
        if self.project_arg and project:
            arguments[self.project_arg] = project
        return arguments


class Logfire:
    """The planner's view of Logfire for one analysis: SQL in, a result table (kept by the toolbox) out."""

    def __init__(self, tools: Toolbox, tool: QueryTool, project: str | None, now: datetime) -> None:
        self.tools = tools
        self.tool = tool
        self.project = project
        self.now = now

    def window_filters(self, window: TimeWindow) -> tuple[str, ...]:
        """The SQL conditions a query needs for its window on top of the tool's arguments (often none)."""
        if not self.tool.bounds_in_sql:
            return ()
        return f"start_timestamp >= '{iso(window.start)}'", f"start_timestamp < '{iso(window.end)}'"

    async def rows(self, sql: str, window: TimeWindow) -> ResultTable:
        """Run one query over `window`; ToolFailed with Logfire's message when the query fails."""
        arguments = self.tool.arguments(sql, window, self.project, self.now)
        outcome = await self.tools.call(self.tool.name, arguments)
        if outcome.is_error:
            raise ToolFailed(self.tool.name, outcome.text)
        if outcome.table is None:
            raise ToolFailed(self.tool.name, f"the answer was not a table of rows: {outcome.text[:200]}")
        return outcome.table


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z: 2025-03-01T09:00:00.123456Z (microseconds only when there are some)."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _first(properties: dict[str, Any], names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in properties), None)
