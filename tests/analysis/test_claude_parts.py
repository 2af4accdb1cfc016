"""The Claude engine's parts that need no server: Slack formatting, prices, the moment in the prompt, the
tool definitions and the checks of tool inputs."""

from __future__ import annotations

from datetime import UTC, datetime

import mcp_types as types
from anthropic.types import CacheCreation, Usage

from bot.analysis.claude.mrkdwn import SECTION_MAX, slack_mrkdwn
from bot.analysis.claude.pricing import PRICES, UsageMeter, price_of
from bot.analysis.claude.prompts import moment
from bot.analysis.claude.results import raw_result
from bot.analysis.claude.tools import input_problem, tool_set
from bot.analysis.types import Workspace
from bot.mcp_client.catalog import GatedTool, tool_fingerprint
from bot.mcp_client.gate import Verdict
from bot.mcp_client.results import ToolOutcome
from bot.tables import ResultTable

LOGFIRE = "logfire-us.pydantic.dev"


def test_markdown_becomes_slack_mrkdwn_and_only_logfire_urls_stay_links() -> None:
    text = (
        "## Slowest routes\n"
        "**GET /reports** is slowest.\n"
        "- [trace](https://logfire-us.pydantic.dev/acme/prod?q=a&b=c)\n"
        "- [click me](https://evil.example/x?secret=1) or https://evil.example/leak?d=2\n"
        "- `SELECT * FROM records` and `https://code.example` stay"
    )
    assert slack_mrkdwn(text, LOGFIRE).splitlines() == [
        "*Slowest routes*",
        "*GET /reports* is slowest.",
        "• trace (https://logfire-us.pydantic.dev/acme/prod?q=a&b=c)",
        "• click me (`https://evil.example/x?secret=1`) or `https://evil.example/leak?d=2`",
        "• `SELECT * FROM records` and `https://code.example` stay",
    ]
    assert (
        slack_mrkdwn("see http://logfire-us.pydantic.dev/a", LOGFIRE)
        == "see `http://logfire-us.pydantic.dev/a`"
    )


def test_a_long_summary_is_cut_at_a_line_within_slacks_section_limit() -> None:
    lines = [f"• route {i}: p95 {i / 10:.1f} s" for i in range(400)]
    summary = slack_mrkdwn("\n".join(lines), LOGFIRE)
    assert len(summary) <= SECTION_MAX and summary.endswith("…")
    assert summary.splitlines()[-2] in lines


def test_prices_by_model_id_dated_ids_included() -> None:
    assert price_of("claude-sonnet-4-5-20250929") == PRICES["claude-sonnet-4-5"]
    assert price_of("claude-sonnet-5-5") == PRICES["claude-sonnet-5-5"] != PRICES["claude-sonnet-5"]
    assert price_of("claude-sonnet-5-20260630") == PRICES["claude-sonnet-5"]
    assert price_of("gpt-4o") is None


def test_usage_is_summed_over_calls_and_priced_by_kind_of_token() -> None:
    meter = UsageMeter("claude-haiku-4-5")
    meter.add(
        Usage(
            input_tokens=1_000,
            output_tokens=200,
            cache_creation_input_tokens=3_000,
            cache_read_input_tokens=0,
            cache_creation=CacheCreation(ephemeral_5m_input_tokens=2_000, ephemeral_1h_input_tokens=1_000),
        )
    )
    meter.add(Usage(input_tokens=500, output_tokens=100, cache_read_input_tokens=3_000))
    usage = meter.usage()
    assert (usage.model_calls, usage.input_tokens, usage.output_tokens) == (2, 7_500, 300)
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (3_000, 3_000)
    # Haiku 4.5 per million tokens: input $1, output $5, cache write $1.25 (5 min) / $2 (1 h), read $0.10.
    assert usage.cost_usd == round((1_500 * 1 + 300 * 5 + 2_000 * 1.25 + 1_000 * 2 + 3_000 * 0.10) / 1e6, 6)
    assert UsageMeter("unknown-model", uncached_input=10).cost_usd() == 0.0


def test_the_moment_gives_the_window_bounds_in_utc() -> None:
    wednesday = datetime(2025, 3, 5, 14, 30, 12, 345678, tzinfo=UTC)
    text = moment(Workspace("T1", "eu", "acme/production", wednesday))
    assert "Current time: 2025-03-05T14:30:12Z (Wednesday)" in text
    assert "Today started 2025-03-05T00:00:00Z; yesterday started 2025-03-04T00:00:00Z" in text
    assert "this week started 2025-03-03T00:00:00Z" in text
    assert "Default window (no time in the question): 2025-03-04T14:30:12Z to 2025-03-05T14:30:12Z" in text
    assert "2025-02-19T14:30:12Z" in text and "Logfire region: eu; project: acme/production" in text


def gated(name: str, schema: dict, description: str | None = "A tool.") -> GatedTool:
    tool = types.Tool(name=name, description=description, input_schema=schema)
    return GatedTool(tool, Verdict(True, "allowed"), tool_fingerprint(tool))


QUERY_SCHEMA = {
    "type": "object",
    "properties": {"query": {"type": "string"}, "start_timestamp": {"type": "string", "format": "date-time"}},
    "required": ["query"],
}


def test_tools_pass_through_sorted_and_the_api_would_refuse_none_of_them() -> None:
    tools = tool_set(
        [
            gated("query_run", QUERY_SCHEMA, "Run SQL."),
            gated("logfire.query", QUERY_SCHEMA),
            gated("either", {"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]}),
            gated("broken", {"type": "object", "properties": {"q": {"type": "text"}}}),
            gated("render_chart", {"type": "object"}),
            gated("project_list", {"type": "object", "properties": {}}, None),
        ]
    )
    assert tools.names == ["project_list", "query_run", "render_chart", "answer"]
    assert tools.definitions[1] == {
        "name": "query_run",
        "input_schema": QUERY_SCHEMA,
        "description": "Run SQL.",
    }
    assert "description" not in tools.definitions[0]
    assert [index for index, item in enumerate(tools.definitions) if "cache_control" in item] == [3]


def test_inputs_are_checked_against_the_tool_schema() -> None:
    tools = tool_set([gated("query_run", QUERY_SCHEMA)])
    assert input_problem(tools, "query_run", {"query": "SELECT 1"}) is None
    assert input_problem(tools, "query_run", {}) == (
        "Invalid input for `query_run`: 'query' is a required property. Fix the arguments and call it again."
    )
    assert "start_timestamp: 5 is not of type 'string'" in input_problem(
        tools, "query_run", {"query": "x", "start_timestamp": 5}
    )
    assert input_problem(tools, "dashboard_delete", {}) is None  # undeclared: the gate refuses it
    assert input_problem(tools, "answer", {"summary": "", "key_numbers": [], "time_window": "x"}) == (
        "Invalid input for `answer`: summary: must not be empty. Fix the arguments and call it again."
    )


def test_raw_results_carry_every_row_as_json() -> None:
    table = ResultTable(["route", "p95"], [["/a", 0.25], ["/b", 1.5]], result_id="r3")
    text = raw_result(ToolOutcome("query_run", {}, False, "", table, 0.1))
    assert text == 'result r3: 2 rows\n[{"route": "/a", "p95": 0.25}, {"route": "/b", "p95": 1.5}]'
