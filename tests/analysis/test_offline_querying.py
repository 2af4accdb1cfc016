"""The query tool and its argument names come from the catalog's input schemas, never from assumptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import mcp_types as types
import pytest

from bot.analysis.offline.querying import QueryTool
from bot.analysis.offline.scope import Scope
from bot.analysis.offline.windows import TimeWindow
from bot.errors import ToolRefused
from bot.mcp_client.catalog import ToolCatalog
from bot.mcp_client.gate import ToolGate

NOW = datetime(2025, 3, 5, 14, 30, tzinfo=UTC)
WINDOW = TimeWindow(NOW - timedelta(hours=1), NOW, "last 1 hour", "in the last hour (UTC)")
READ_ONLY = types.ToolAnnotations(read_only_hint=True, destructive_hint=False)


def catalog(name: str, properties: dict[str, Any], gate: ToolGate | None = None) -> ToolCatalog:
    tool = types.Tool(
        name=name,
        description="Run SQL",
        input_schema={"type": "object", "properties": properties, "required": list(properties)[:1]},
        annotations=READ_ONLY,
    )
    return ToolCatalog.judged([tool], None, gate or ToolGate(), NOW)


STRING = {"type": "string"}


def test_hosted_start_and_end_timestamps() -> None:
    tool = QueryTool.from_catalog(
        catalog(
            "query_run",
            {"query": STRING, "project": STRING, "start_timestamp": STRING, "end_timestamp": STRING},
        )
    )
    assert tool.arguments("SELECT 1", WINDOW, "acme/production", NOW) == {
        "query": "SELECT 1",
        "start_timestamp": "2025-03-05T13:30:00Z",
        "end_timestamp": "2025-03-05T14:30:00Z",
        "project": "acme/production",
    }
    assert not tool.bounds_in_sql


def test_min_and_max_timestamps_as_some_sources_name_them() -> None:
    tool = QueryTool.from_catalog(
        catalog("query_run", {"query": STRING, "min_timestamp": STRING, "max_timestamp": STRING})
    )
    assert tool.arguments("SELECT 1", WINDOW, "acme/production", NOW) == {
        "query": "SELECT 1",
        "min_timestamp": "2025-03-05T13:30:00Z",
        "max_timestamp": "2025-03-05T14:30:00Z",
    }


def test_an_age_in_minutes_puts_the_window_into_the_sql_too() -> None:
    tool = QueryTool.from_catalog(catalog("arbitrary_query", {"query": STRING, "age": {"type": "integer"}}))
    midnight = NOW.replace(hour=0, minute=0)
    yesterday = TimeWindow(midnight - timedelta(days=1), midnight, "yesterday", "yesterday")
    assert tool.arguments("SELECT 1", yesterday, None, NOW) == {"query": "SELECT 1", "age": 38 * 60 + 30}
    assert tool.bounds_in_sql
    scope = Scope(yesterday, "agent", ("start_timestamp >= 'a'", "start_timestamp < 'b'"))
    assert scope.records("is_exception") == (
        "FROM records WHERE is_exception AND service_name = 'agent' "
        "AND start_timestamp >= 'a' AND start_timestamp < 'b'"
    )


def test_service_names_are_quoted_as_sql_strings() -> None:
    assert Scope(WINDOW, "o'brien").records() == "FROM records WHERE service_name = 'o''brien'"


def test_no_usable_query_tool_is_refused() -> None:
    with pytest.raises(ToolRefused):
        denied = ToolGate(deny=frozenset({"query_run"}))
        QueryTool.from_catalog(catalog("query_run", {"query": STRING}, denied))
    with pytest.raises(ToolRefused):
        QueryTool.from_catalog(catalog("dashboard_list", {"project": STRING}))
