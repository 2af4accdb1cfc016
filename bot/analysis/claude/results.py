"""What the model reads back from a tool: compact tables referenced by result id, capped text, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.mcp_client.results import MODEL_MAX_BYTES, ToolOutcome, compact_text

ResultFormat = Callable[[ToolOutcome], str]


def compact_result(outcome: ToolOutcome) -> str:
    """A table as compact CSV (row and byte caps, exact numbers, a note when cut); other output capped."""
    if outcome.table is not None:
        return compact_text(outcome.table)
    return capped(outcome.text)


def raw_result(outcome: ToolOutcome) -> str:
    """Every row as JSON objects, as Logfire sends them: the baseline `bench/analysis.py` compares with."""
    if outcome.table is not None:
        table = outcome.table
        rows = json.dumps(table.records(), default=str, ensure_ascii=False)
        return f"result {table.result_id}: {len(table.rows)} rows\n{rows}"
    return outcome.text or "(no output)"


def capped(text: str, limit: int = MODEL_MAX_BYTES) -> str:
    text = text.strip()
    if not text:
        return "(no output)"
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[output cut at {limit:,} of {len(text):,} characters]"


def tool_result(tool_use_id: str, content: str, *, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if is_error:
        block["is_error"] = True
    return block
