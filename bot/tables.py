"""The table type that tool results become: shared by the MCP client, the charts and the analysis engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResultTable:
    """Rows returned by one tool call, with where they came from.

    `rows` hold JSON values (str, int, float, bool, None, lists, dicts) in the order of `columns`;
    timestamps stay ISO 8601 strings as the tool sent them.
    """

    columns: list[str]
    rows: list[list[Any]]
    result_id: str = ""
    source_tool: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    sql: str | None = None
    truncated: bool = False

    def column(self, name: str) -> list[Any]:
        """All values of one column, in row order."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]
