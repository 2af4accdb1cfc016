"""Tool results as tables: normalized from whatever shape the server sent, and a compact text for the model.

Logfire's `query_run` answers JSON rows; the shapes seen in the wild are `structured_content`
`{"result": [...]}`, one JSON text block holding the list, or one text block per row (the open-source
server). All become a `ResultTable`; anything else stays text.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import mcp_types as types

from bot.tables import ResultTable

MODEL_MAX_ROWS = 40
MODEL_MAX_BYTES = 6_000


@dataclass(frozen=True)
class ToolOutcome:
    tool: str
    arguments: dict[str, Any]
    is_error: bool
    text: str  # the result as text; Logfire's message when is_error
    table: ResultTable | None
    seconds: float

    @property
    def row_count(self) -> int | None:
        return len(self.table.rows) if self.table else None


def outcome_of(
    result: types.CallToolResult, tool: str, arguments: dict[str, Any], seconds: float
) -> ToolOutcome:
    text = "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))
    if result.is_error:
        return ToolOutcome(tool, arguments, True, _error_message(text, tool), None, seconds)
    rows = _rows(result.structured_content, result.content)
    table = _table(rows, tool, arguments) if rows is not None else None
    return ToolOutcome(tool, arguments, False, text, table, seconds)


def _error_message(text: str, tool: str) -> str:
    return text.removeprefix(f"Error executing tool {tool}: ").strip() or "the tool reported an error"


def _rows(structured: dict[str, Any] | None, content: list[Any]) -> list[dict[str, Any]] | None:
    if structured is not None:
        candidate = structured.get("result", structured) if isinstance(structured, dict) else structured
        if _is_rows(candidate):
            return candidate
    texts = [block.text for block in content if isinstance(block, types.TextContent)]
    parsed = [_json(text) for text in texts]
    if len(parsed) == 1 and _is_rows(parsed[0]):
        return parsed[0]
    if len(parsed) == 1 and isinstance(parsed[0], dict) and _is_rows(parsed[0].get("result")):
        return parsed[0]["result"]
    if parsed and all(isinstance(item, dict) for item in parsed):  # one block per row
        return parsed
    return None


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(row, dict) for row in value)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _table(rows: list[dict[str, Any]], tool: str, arguments: dict[str, Any]) -> ResultTable:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    return ResultTable(
        columns=columns,
        rows=[[row.get(column) for column in columns] for row in rows],
        source_tool=tool,
        arguments=dict(arguments),
        sql=arguments.get("query") if isinstance(arguments.get("query"), str) else None,
    )


def compact_text(table: ResultTable, max_rows: int = MODEL_MAX_ROWS, max_bytes: int = MODEL_MAX_BYTES) -> str:
    """CSV with a header, numbers written exactly, cut to the caps with a note saying so."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    shown = 0
    for row in table.rows[:max_rows]:
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow([_cell(value) for value in row])
        if buffer.tell() + len(line.getvalue()) > max_bytes and shown:
            break
        buffer.write(line.getvalue())
        shown += 1
    total = len(table.rows)
    summary = f"{total} row{'s' if total != 1 else ''}"
    if shown < total:
        summary += f"; showing the first {shown} (all rows are kept for charts as result {table.result_id})"
    if total == 0:
        return f"result {table.result_id}: 0 rows (columns: {', '.join(table.columns) or 'none'})"
    return f"result {table.result_id}: {summary}\n{buffer.getvalue().rstrip()}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)
