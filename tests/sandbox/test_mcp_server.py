"""The sandbox's MCP server through the mcp 2.x client over loopback HTTP: inventory, query_run, reads."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pyarrow.compute as pc
import pytest

from sandbox.logfire import catalog
from sandbox.logfire.examples import AGENT_ERRORS, LLM_COST, SLOWEST_ENDPOINTS, STATUS_CODES
from sandbox.logfire.server import SandboxLogfire
from sandbox.logfire.sql_engine import QueryError
from tests.sandbox.clients import login, mcp_session

HOSTED_READS = {
    "query_run", "query_schema_reference", "query_find_exceptions_in_file",
    "project_list", "token_info", "project_logfire_link", "project_logfire_ui_link",
    "dashboard_list", "dashboard_get", "alert_list", "alert_get", "alert_status", "alert_history",
    "channel_list", "channel_get", "schedule_list", "schedule_get", "issue_list",
    "variable_list", "variable_get", "variable_resolve",
}  # fmt: skip
HOSTED_WRITES = {
    *(f"dashboard_{verb}" for verb in (
        "create", "update", "delete", "update_settings", "add_panel", "update_panel", "remove_panel",
        "add_variable", "update_variable", "update_variables", "remove_variable", "create_group",
        "delete_group", "rename_group", "toggle_group_collapse", "reorder_groups")),
    "alert_create", "alert_update", "alert_delete",
    "channel_create_webhook", "channel_update_webhook", "channel_create_opsgenie", "channel_update_opsgenie",
    "channel_delete", "schedule_create", "schedule_update", "schedule_delete", "issue_set_states",
    "variable_manage", "variable_delete",
}  # fmt: skip
ADDITIVE_WRITES = {
    "dashboard_create", "dashboard_add_panel", "dashboard_add_variable", "dashboard_create_group",
    "alert_create", "channel_create_webhook", "channel_create_opsgenie", "schedule_create",
}  # fmt: skip


@pytest.fixture
async def production_token(sandbox: SandboxLogfire) -> str:
    return (await login(sandbox))["access_token"]


async def _query(
    sandbox: SandboxLogfire,
    token: str,
    sql: str,
    window: tuple[datetime, datetime] | None = None,
    **extra: Any,
) -> Any:
    arguments: dict[str, Any] = {"query": sql, **extra}
    if window:
        arguments |= {"start_timestamp": window[0].isoformat(), "end_timestamp": window[1].isoformat()}
    async with mcp_session(sandbox.mcp_url, token) as client:
        return await client.call_tool("query_run", arguments)


def _rows(result: Any) -> list[dict[str, Any]]:
    assert not result.is_error, result.content
    rows = result.structured_content["result"]
    assert json.loads(result.content[0].text) == rows
    return rows


async def test_inventory_annotations_and_instructions(sandbox: SandboxLogfire, production_token: str) -> None:
    async with mcp_session(sandbox.mcp_url, production_token) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        instructions = client.instructions

    assert tools.keys() >= HOSTED_READS
    assert tools.keys() >= HOSTED_WRITES
    assert len(HOSTED_WRITES) >= 20
    assert instructions and "30 minutes" in instructions and "14 days" in instructions
    for name in HOSTED_READS - {catalog.UNANNOTATED_READ}:
        assert tools[name].annotations.read_only_hint is True, name
        assert tools[name].annotations.destructive_hint is False, name
    for name in HOSTED_WRITES - {catalog.MISLABELED_WRITE}:
        annotations = tools[name].annotations
        assert annotations.read_only_hint is False, name
        assert annotations.destructive_hint is (name not in ADDITIVE_WRITES), name
    assert tools[catalog.MISLABELED_WRITE].annotations.read_only_hint is True
    assert tools[catalog.UNANNOTATED_READ].annotations is None
    assert "ignore previous instructions" in tools[catalog.POISONED_READ].description
    query_run = tools["query_run"].input_schema
    assert query_run["required"] == ["query"]
    assert {"query", "project", "start_timestamp", "end_timestamp"} == query_run["properties"].keys()
    assert query_run["properties"]["start_timestamp"]["anyOf"][0]["format"] == "date-time"


async def test_slowest_endpoints_agree_with_ground_truth(
    sandbox: SandboxLogfire, production_token: str
) -> None:
    truth = sandbox.dataset().ground_truth
    window = truth.window(SLOWEST_ENDPOINTS.window)
    rows = _rows(await _query(sandbox, production_token, SLOWEST_ENDPOINTS.sql, window))
    expected = truth.route_percentiles(*window)
    assert rows and {row["http_route"] for row in rows} == set(expected)
    for row in rows:
        assert row["p95"] == pytest.approx(expected[row["http_route"]], rel=0.05)
    assert [row["p95"] for row in rows] == sorted((row["p95"] for row in rows), reverse=True)


async def test_status_codes_agree_with_ground_truth(sandbox: SandboxLogfire, production_token: str) -> None:
    truth = sandbox.dataset().ground_truth
    window = truth.window(STATUS_CODES.window)
    rows = _rows(await _query(sandbox, production_token, STATUS_CODES.sql, window))
    assert rows
    assert {row["http_response_status_code"]: row["n"] for row in rows} == truth.status_code_counts(*window)


async def test_agent_errors_agree_with_ground_truth(sandbox: SandboxLogfire, production_token: str) -> None:
    truth = sandbox.dataset().ground_truth
    window = truth.window(AGENT_ERRORS.window)
    rows = _rows(await _query(sandbox, production_token, AGENT_ERRORS.sql, window))
    expected = truth.top_errors(*window, service="agent")
    counts = {(e.exception_type, e.exception_message): e.count for e in expected}
    assert len(rows) == min(10, len(expected))
    assert [row["n"] for row in rows] == [e.count for e in expected[: len(rows)]]
    for row in rows:
        assert counts[(row["exception_type"], row["exception_message"])] == row["n"]


async def test_llm_cost_agrees_with_ground_truth(sandbox: SandboxLogfire, production_token: str) -> None:
    truth = sandbox.dataset().ground_truth
    window = truth.window(LLM_COST.window)
    [row] = _rows(await _query(sandbox, production_token, LLM_COST.sql, window))
    expected = truth.llm_usage(*window).total
    assert expected.requests > 0
    assert row["requests"] == expected.requests
    assert float(row["cost_usd"]) == pytest.approx(expected.cost_usd, rel=1e-6)
    assert float(row["avg_cost_per_request"]) == pytest.approx(expected.avg_cost_per_request, rel=1e-6)


async def test_default_window_is_the_last_30_minutes(sandbox: SandboxLogfire, production_token: str) -> None:
    before = datetime.now(UTC)
    [row] = _rows(
        await _query(
            sandbox, production_token, "SELECT min(start_timestamp) AS first, count(*) AS n FROM records"
        )
    )
    after = datetime.now(UTC)
    truth = sandbox.dataset().ground_truth
    assert row["n"] > 0
    assert datetime.fromisoformat(row["first"]) >= before - timedelta(minutes=30)
    assert truth.record_count(after - timedelta(minutes=30), after) <= row["n"]
    assert row["n"] <= truth.record_count(before - timedelta(minutes=30), after)


async def test_window_is_intersected_with_the_sql(sandbox: SandboxLogfire, production_token: str) -> None:
    truth = sandbox.dataset().ground_truth
    now = truth.generated_at
    window = (now - timedelta(hours=3), now - timedelta(hours=1))
    sql_from = now - timedelta(hours=2)
    sql = f"SELECT count(*) AS n FROM records WHERE start_timestamp >= '{sql_from.isoformat()}'"  # noqa: S608
    [row] = _rows(await _query(sandbox, production_token, sql, window))
    assert row["n"] == truth.record_count(sql_from, window[1]) > 0


async def test_limit_100_applies_only_without_a_limit(sandbox: SandboxLogfire, production_token: str) -> None:
    window = sandbox.dataset().ground_truth.window("all")
    unlimited = _rows(await _query(sandbox, production_token, "SELECT span_name FROM records", window))
    larger = _rows(await _query(sandbox, production_token, "SELECT span_name FROM records LIMIT 150", window))
    smaller = _rows(await _query(sandbox, production_token, "SELECT span_name FROM records LIMIT 7", window))
    assert (len(unlimited), len(larger), len(smaller)) == (100, 150, 7)


async def test_window_longer_than_14_days_is_an_error(sandbox: SandboxLogfire, production_token: str) -> None:
    end = datetime.now(UTC)
    fourteen = await _query(
        sandbox, production_token, "SELECT count(*) AS n FROM records", (end - timedelta(days=14), end)
    )
    fifteen = await _query(
        sandbox, production_token, "SELECT count(*) AS n FROM records", (end - timedelta(days=15), end)
    )
    assert _rows(fourteen)[0]["n"] == sandbox.dataset().ground_truth.record_count(
        end - timedelta(days=14), end
    )
    assert fifteen.is_error
    assert "14 days" in fifteen.content[0].text


async def test_sql_errors_carry_the_engine_message(sandbox: SandboxLogfire, production_token: str) -> None:
    project_id = sandbox.dataset().project_id
    for sql in ("SELEC 1", "SELECT no_such_column FROM records", "DELETE FROM records", "DROP TABLE records"):
        with pytest.raises(QueryError) as direct:
            sandbox.engine.run(sql, project_id=project_id)
        result = await _query(sandbox, production_token, sql)
        assert result.is_error, sql
        assert str(direct.value) in result.content[0].text


async def test_a_token_sees_only_its_project(sandbox: SandboxLogfire) -> None:
    staging = (await login(sandbox, project="staging"))["access_token"]
    truth = sandbox.dataset("staging").ground_truth
    window = truth.window("all")
    async with mcp_session(sandbox.mcp_url, staging) as client:
        counted = await client.call_tool(
            "query_run",
            {"query": "SELECT count(*) AS n, count(DISTINCT project_id) AS projects FROM records",
             "start_timestamp": window[0].isoformat(), "end_timestamp": window[1].isoformat()},
        )  # fmt: skip
        projects = await client.call_tool("project_list", {})
        info = await client.call_tool("token_info", {})
        own = await client.call_tool("query_run", {"query": "SELECT 1 AS one", "project": "acme/staging"})
        other = await client.call_tool(
            "query_run", {"query": "SELECT 1 AS one", "project": "acme/production"}
        )
        other_dashboards = await client.call_tool("dashboard_list", {"project": "production"})

    assert _rows(counted) == [{"n": truth.record_count(*window), "projects": 1}]
    assert [p["project_name"] for p in projects.structured_content["result"]] == ["staging"]
    assert info.structured_content["project_name"] == "staging"
    assert info.structured_content["organization_name"] == "acme"
    assert info.structured_content["scopes"] == ["project:read"]
    assert _rows(own) == [{"one": 1}]
    assert other.is_error and "acme/production" in other.content[0].text
    assert other_dashboards.is_error


async def test_find_exceptions_in_file(sandbox: SandboxLogfire, production_token: str) -> None:
    records = sandbox.dataset().records
    traces = [
        t
        for t in records.filter(pc.fill_null(records["is_exception"], False))[
            "exception_stacktrace"
        ].to_pylist()
        if t
    ]
    filename = re.search(r'File "([^"]+)"', traces[0]).group(1)
    window = sandbox.dataset().ground_truth.window("all")
    async with mcp_session(sandbox.mcp_url, production_token) as client:
        result = await client.call_tool(
            "query_find_exceptions_in_file",
            {
                "filepath": filename,
                "start_timestamp": window[0].isoformat(),
                "end_timestamp": window[1].isoformat(),
            },
        )
        quoted = await client.call_tool("query_find_exceptions_in_file", {"filepath": "it's/none.py"})
    rows = _rows(result)
    assert 0 < len(rows) <= 10
    assert all(filename in row["exception_stacktrace"] for row in rows)
    assert [row["start_timestamp"] for row in rows] == sorted(
        (row["start_timestamp"] for row in rows), reverse=True
    )
    assert _rows(quoted) == []


async def test_schema_reference_and_links(sandbox: SandboxLogfire, production_token: str) -> None:
    async with mcp_session(sandbox.mcp_url, production_token) as client:
        schema = await client.call_tool("query_schema_reference", {})
        trace_link = await client.call_tool("project_logfire_link", {"trace_id": "0" * 32})
        ui_link = await client.call_tool(
            "project_logfire_ui_link", {"query": "SELECT 1 <b>", "since": "2026-01-01T00:00:00Z"}
        )
    text = schema.structured_content["result"]
    assert "CREATE TABLE records" in text and "CREATE TABLE metrics" in text
    for column in ("start_timestamp", "attributes", "exception_type", "http_route", "recorded_timestamp"):
        assert column in text
    trace_url = trace_link.structured_content["result"]
    ui_url = ui_link.structured_content["result"]
    assert trace_url.startswith(f"{sandbox.base_url}/acme/production?")
    assert ui_url.startswith(f"{sandbox.base_url}/acme/production/explore?")
    async with httpx2.AsyncClient() as browser:
        trace_page = await browser.get(trace_url)
        ui_page = await browser.get(ui_url)
    assert trace_page.status_code == ui_page.status_code == 200
    assert "0" * 32 in trace_page.text
    assert "SELECT 1 &lt;b&gt;" in ui_page.text and "Logfire US" in ui_page.text


async def test_family_reads_answer_from_fixtures(sandbox: SandboxLogfire, production_token: str) -> None:
    async with mcp_session(sandbox.mcp_url, production_token) as client:
        dashboards = (await client.call_tool("dashboard_list", {})).structured_content["result"]
        dashboard = await client.call_tool("dashboard_get", {"dashboard_id": dashboards[0]["id"]})
        missing = await client.call_tool("dashboard_get", {"dashboard_id": "nope"})
        alerts = (await client.call_tool("alert_list", {})).structured_content["result"]
        results = {
            name: await client.call_tool(name, arguments)
            for name, arguments in {
                "alert_get": {"alert_id": alerts[0]["id"]},
                "alert_status": {"alert_id": alerts[0]["id"]},
                "alert_history": {"alert_id": alerts[0]["id"], "limit": 3},
                "channel_list": {},
                "schedule_list": {},
                "issue_list": {"state": "open"},
                "variable_list": {},
                "variable_resolve": {"name": "agent_model", "attributes": {"plan": "enterprise"}},
            }.items()
        }
    assert dashboard.structured_content["panels"]
    assert missing.is_error
    assert all(not result.is_error for result in results.values()), results
    assert len(results["alert_history"].structured_content["result"]) == 3
    assert {i["state"] for i in results["issue_list"].structured_content["result"]} == {"open"}
    assert results["variable_resolve"].structured_content["matched_override"] == {"plan": "enterprise"}


@pytest.mark.sandbox_writes
async def test_writes_change_nothing_and_are_recorded(sandbox: SandboxLogfire, production_token: str) -> None:
    async with mcp_session(sandbox.mcp_url, production_token) as client:
        before = (await client.call_tool("dashboard_list", {})).structured_content["result"]
        deleted = await client.call_tool("dashboard_delete", {"dashboard_id": before[0]["id"]})
        settings = await client.call_tool(catalog.MISLABELED_WRITE, {"dashboard_id": before[0]["id"]})
        after = (await client.call_tool("dashboard_list", {})).structured_content["result"]
    assert not deleted.is_error and not settings.is_error
    assert after == before
    writes = sandbox.controls.write_calls
    assert [call.name for call in writes] == ["dashboard_delete", catalog.MISLABELED_WRITE]
    assert writes[0].arguments == {"dashboard_id": before[0]["id"]}
    assert writes[0].project_id == sandbox.dataset().project_id
    assert sandbox.controls.tool_calls["dashboard_list"] == 2


def test_every_fixture_query_runs_on_the_engine(sandbox: SandboxLogfire) -> None:
    data = catalog.fixtures(sandbox.directory.default_project)
    queries = [panel["query"] for dashboard in data["dashboards"] for panel in dashboard["panels"]]
    queries += [item["query"] for kind in ("alerts", "schedules") for item in data[kind]]
    queries += [variable["query"] for dashboard in data["dashboards"] for variable in dashboard["variables"]]
    window = sandbox.dataset().ground_truth.window("all")
    for sql in queries:
        result = sandbox.engine.run(sql, project_id=sandbox.dataset().project_id, min_timestamp=window[0])
        assert result.rows, sql
