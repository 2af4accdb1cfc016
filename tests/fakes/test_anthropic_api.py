"""The Anthropic stand-in, driven by the real `anthropic` SDK (AsyncAnthropic) over loopback HTTP."""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import pytest

from tests.fakes.anthropic_api import (
    AnthropicStandIn,
    ErrorReply,
    Reply,
    ToolCall,
    overloaded,
    rate_limited,
    text,
    tool_result_text,
    tool_results,
    tool_use,
    tool_uses,
)

MODEL = "claude-sonnet-4-5"

# As an MCP server built on pydantic describes a tool (titles, descriptions), passed through to Claude.
QUERY_TOOL = {
    "name": "query_run",
    "description": "Run a read-only SQL query over the project's records and metrics; returns a result id.",
    "input_schema": {
        "properties": {
            "query": {"description": "SQL, always with LIMIT.", "title": "Query", "type": "string"},
            "start_timestamp": {"format": "date-time", "title": "Start Timestamp", "type": "string"},
            "end_timestamp": {"format": "date-time", "title": "End Timestamp", "type": "string"},
        },
        "required": ["query"],
        "title": "query_runArguments",
        "type": "object",
    },
}
CHART_TOOL = {
    "name": "render_chart",
    "description": "Render a chart from an earlier result.",
    "input_schema": {
        "type": "object",
        "properties": {
            "kind": {"enum": ["bar", "hbar", "line", "area", "pie", "table", "big_number"]},
            "result_id": {"type": "string"},
            "x": {"type": "string"},
            "y": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["kind", "result_id", "x", "y"],
        "additionalProperties": False,
    },
}
TOOLS = [QUERY_TOOL, CHART_TOOL]
# About 1,600 tokens under the stand-in's approximation: above Sonnet's 1,024-token cache minimum.
LONG_SYSTEM = "\n".join(
    f"- Column {i}: records.attributes->>'field_{i}' holds a value the analyst may group or filter by."
    for i in range(70)
)
TOOL_ID = re.compile(r"^toolu_01[A-Za-z0-9]{22}$")


@pytest.fixture
async def api() -> AsyncIterator[AnthropicStandIn]:
    async with AnthropicStandIn() as stand_in:
        yield stand_in


def client_for(api: AnthropicStandIn, **options: Any) -> anthropic.AsyncAnthropic:
    options.setdefault("max_retries", 0)
    options.setdefault("api_key", "test-key")
    return anthropic.AsyncAnthropic(base_url=api.base_url, **options)


@pytest.fixture
async def client(api: AnthropicStandIn) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with client_for(api) as sdk_client:
        yield sdk_client


def approximate_tokens(body: dict[str, Any]) -> float:
    """Characters / 4 of the serialized tools, system and messages: what the stand-in documents."""
    parts = [body.get("tools", []), body.get("system", ""), body["messages"]]
    return len(json.dumps(parts, separators=(",", ":"))) / 4


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def result_block(tool_use_id: str, content: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}


# --- Tool use round trips ---------------------------------------------------------------------------------


async def test_tool_use_round_trip_answers_in_two_calls_with_usage(api, client):
    answer = "The slowest endpoint in the last hour was GET /reports (p95 2.4 s)."
    api.queue(
        tool_use("query_run", {"query": "SELECT 1 LIMIT 1"}, preamble="I'll query the endpoints."),
        text(answer),
    )
    messages = [user("Show me the slowest API endpoints in the last hour")]

    first = await client.messages.create(
        model=MODEL, max_tokens=1024, system=LONG_SYSTEM, tools=TOOLS, messages=messages
    )
    assert first.stop_reason == "tool_use"
    assert [block.type for block in first.content] == ["text", "tool_use"]
    call = first.content[1]
    assert call.name == "query_run" and call.input == {"query": "SELECT 1 LIMIT 1"}
    assert TOOL_ID.match(call.id)
    assert first.id.startswith("msg_01") and first._request_id.startswith("req_")

    messages += [first.to_param(), user([result_block(call.id, '[{"route": "GET /reports", "p95": 2.4}]')])]
    second = await client.messages.create(
        model=MODEL, max_tokens=1024, system=LONG_SYSTEM, tools=TOOLS, messages=messages
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == answer
    assert len(api.message_requests) == 2 and api.pending == 0

    sent = api.last_request.body
    assert tool_results(sent)[0]["tool_use_id"] == call.id
    counted = await client.messages.count_tokens(
        model=MODEL, system=LONG_SYSTEM, tools=TOOLS, messages=messages
    )
    assert second.usage.input_tokens == counted.input_tokens
    assert second.usage.input_tokens == pytest.approx(approximate_tokens(sent), rel=0.1)
    assert second.usage.input_tokens > first.usage.input_tokens
    assert second.usage.output_tokens == math.ceil(len(answer) / 4)
    assert second.usage.cache_read_input_tokens == 0 and second.usage.cache_creation_input_tokens == 0
    assert api.total_usage()["output_tokens"] == first.usage.output_tokens + second.usage.output_tokens


async def test_a_callable_reads_the_tool_result_and_chains_a_chart_call(api, client):
    def chart_from_result(body: dict[str, Any]) -> Reply:
        result = json.loads(tool_result_text(tool_results(body)[0]))
        spec = {"kind": "hbar", "result_id": result["result_id"], "x": "route", "y": ["p95"]}
        return tool_use("render_chart", spec)

    async def final(body: dict[str, Any]) -> Reply:
        return text(f"Charted: {tool_result_text(tool_results(body)[0])}")

    api.queue(tool_use("query_run", {"query": "SELECT 1 LIMIT 1"}), chart_from_result, final)
    messages = [user("Slowest endpoints, as a chart")]
    for tool_output in ('{"result_id": "res_42", "rows": 3}', "chart.png rendered"):
        reply = await client.messages.create(model=MODEL, max_tokens=512, tools=TOOLS, messages=messages)
        messages += [reply.to_param(), user([result_block(reply.content[0].id, tool_output)])]
        if reply.content[0].name == "render_chart":
            assert reply.content[0].input["result_id"] == "res_42"
    last = await client.messages.create(model=MODEL, max_tokens=512, tools=TOOLS, messages=messages)
    assert last.content[0].text == "Charted: chart.png rendered"


async def test_parallel_tool_calls_need_every_result_before_any_text(api, client):
    api.queue(
        tool_uses(
            ToolCall("query_run", {"query": "SELECT 1 LIMIT 1"}), ToolCall("query_run", {"query": "SELECT 2"})
        ),
        text("Both done."),
    )
    question = [user("Compare two things")]
    reply = await client.messages.create(model=MODEL, max_tokens=512, tools=TOOLS, messages=question)
    first_id, second_id = (block.id for block in reply.content)
    assert first_id != second_id

    only_one = [*question, reply.to_param(), user([result_block(first_id, "1")])]
    with pytest.raises(anthropic.BadRequestError, match=f"immediately after: {second_id}"):
        await client.messages.create(model=MODEL, max_tokens=512, tools=TOOLS, messages=only_one)
    text_first = [
        *question,
        reply.to_param(),
        user([{"type": "text", "text": "Here:"}, result_block(first_id, "1")]),
    ]
    with pytest.raises(anthropic.BadRequestError, match=f"immediately after: {first_id}, {second_id}"):
        await client.messages.create(model=MODEL, max_tokens=512, tools=TOOLS, messages=text_first)

    both = [*question, reply.to_param(), user([result_block(first_id, "1"), result_block(second_id, "2")])]
    assert (await client.messages.create(model=MODEL, max_tokens=512, tools=TOOLS, messages=both)).content
    assert [record.status for record in api.message_requests] == [200, 400, 400, 200]


async def test_consecutive_messages_of_one_role_are_one_turn(api, client):
    """As the real API documents: consecutive user (or assistant) turns are combined, not refused."""
    api.queue(tool_use("query_run", {"query": "SELECT 1"}), text("ok"))
    reply = await client.messages.create(
        model=MODEL, max_tokens=256, tools=TOOLS, messages=[user("a"), user("b")]
    )
    messages = [
        user("a"),
        user("b"),
        reply.to_param(),
        user([result_block(reply.content[0].id, "1")]),
        user("more"),
    ]
    assert (await client.messages.create(model=MODEL, max_tokens=256, tools=TOOLS, messages=messages)).content


async def test_a_reply_longer_than_max_tokens_is_cut_with_stop_reason_max_tokens(api, client):
    api.queue(text("x" * 400))
    reply = await client.messages.create(model=MODEL, max_tokens=10, messages=[user("Say a lot")])
    assert reply.stop_reason == "max_tokens"
    assert reply.usage.output_tokens == 10
    assert reply.content[0].text == "x" * 40


async def test_scripted_stop_reasons_reach_the_client(api, client):
    api.queue(
        Reply(("I can't help with that.",), stop_reason="refusal"),
        text("Partial", stop_reason="stop_sequence", stop_sequence="</answer>"),
    )
    refused = await client.messages.create(model=MODEL, max_tokens=64, messages=[user("?")])
    stopped = await client.messages.create(
        model=MODEL, max_tokens=64, stop_sequences=["</answer>"], messages=[user("?")]
    )
    assert refused.stop_reason == "refusal"
    assert (stopped.stop_reason, stopped.stop_sequence) == ("stop_sequence", "</answer>")


# --- Prompt caching ---------------------------------------------------------------------------------------


def with_breakpoints(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """Request options with breakpoints on the last tool and on the system prompt."""
    cached_tools = [*tools[:-1], {**tools[-1], "cache_control": {"type": "ephemeral"}}]
    system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}]
    return {"model": MODEL, "max_tokens": 256, "tools": cached_tools, "system": system}


async def test_a_second_call_with_the_same_prefix_reads_the_cache(api, client):
    api.queue(text("first"), text("second"))
    options = with_breakpoints(TOOLS)
    first = await client.messages.create(**options, messages=[user("Trace count by status code today")])
    second = await client.messages.create(**options, messages=[user("Top 10 errors in the agent service")])

    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation_input_tokens >= 1024
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    for reply, record in zip((first, second), api.message_requests, strict=True):
        usage = reply.usage
        total = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
        counted = await client.messages.count_tokens(
            **{k: v for k, v in record.body.items() if k != "max_tokens"}
        )
        assert total == counted.input_tokens
        assert usage.input_tokens == pytest.approx(
            approximate_tokens({"messages": record.body["messages"]}), abs=5
        )
    assert api.cache_breakpoints() == ["tools.1", "system.0"]


async def test_a_prefix_below_the_model_minimum_is_not_cached(api, client):
    api.queue(text("a"), text("b"), text("c"), text("d"))
    short = {
        **with_breakpoints(TOOLS),
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
    }
    for _ in range(2):
        usage = (await client.messages.create(**short, messages=[user("q")])).usage
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)
    # Haiku 4.5 needs 4,096 tokens: the ~1,600-token prefix Sonnet caches is not enough for it.
    haiku = {**with_breakpoints(TOOLS), "model": "claude-haiku-4-5"}
    for _ in range(2):
        usage = (await client.messages.create(**haiku, messages=[user("q")])).usage
        assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)


async def test_changing_the_tools_misses_the_cache(api, client):
    api.queue(text("a"), text("b"))
    first = await client.messages.create(**with_breakpoints(TOOLS), messages=[user("q")])
    extra_tool = {"name": "project_list", "input_schema": {"type": "object", "properties": {}}}
    second = await client.messages.create(**with_breakpoints([*TOOLS, extra_tool]), messages=[user("q")])
    assert second.usage.cache_read_input_tokens == 0
    assert second.usage.cache_creation_input_tokens > first.usage.cache_creation_input_tokens


async def test_a_breakpoint_moving_down_the_conversation_reads_the_earlier_prefix(api, client):
    """The lookback: the new breakpoint is two blocks after the one written by the first call."""
    api.queue(text("Counted."), text("Charted."))
    marked = {
        "type": "text",
        "text": "Trace count by status code today",
        "cache_control": {"type": "ephemeral"},
    }
    first = await client.messages.create(
        model=MODEL, max_tokens=256, system=LONG_SYSTEM, messages=[user([marked])]
    )
    follow_up = {"type": "text", "text": "Now as a chart", "cache_control": {"type": "ephemeral"}}
    history = [
        user([{k: v for k, v in marked.items() if k != "cache_control"}]),
        first.to_param(),
        user([follow_up]),
    ]
    second = await client.messages.create(model=MODEL, max_tokens=256, system=LONG_SYSTEM, messages=history)

    assert first.usage.cache_creation_input_tokens > 0 and first.usage.input_tokens == 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens > 0 and second.usage.input_tokens == 0


async def test_top_level_cache_control_caches_up_to_the_last_block(api, client):
    api.queue(text("a"), text("b"))
    options = {
        "model": MODEL,
        "max_tokens": 256,
        "system": LONG_SYSTEM,
        "cache_control": {"type": "ephemeral"},
    }
    first = await client.messages.create(**options, messages=[user("q")])
    second = await client.messages.create(**options, messages=[user("q"), first.to_param(), user("and?")])
    assert api.cache_breakpoints(api.message_requests[0]) == ["messages.0.content"]
    assert first.usage.input_tokens == 0 and first.usage.cache_creation_input_tokens > 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    api.clear_cache()
    api.queue(text("c"))
    third = await client.messages.create(**options, messages=[user("q")])
    assert third.usage.cache_read_input_tokens == 0


# --- Errors and retries -----------------------------------------------------------------------------------


async def test_an_overloaded_answer_is_retried_after_retry_after(api):
    # 0.6 s is above the SDK's own first backoff (at most 0.5 s), so the gap proves retry-after was honoured.
    api.queue(overloaded(retry_after="0.6"), text("Recovered."))
    async with client_for(api, max_retries=2) as sdk_client:
        reply = await sdk_client.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])
    assert reply.content[0].text == "Recovered."
    failed, retried = api.message_requests
    assert (failed.status, retried.status) == (529, 200)
    assert failed.response["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    assert (failed.headers["x-stainless-retry-count"], retried.headers["x-stainless-retry-count"]) == (
        "0",
        "1",
    )
    assert retried.received_at - failed.received_at >= 0.6


async def test_rate_limits_exhausting_the_retries_raise_rate_limit_error(api):
    api.queue(rate_limited("0.05"), rate_limited("0.05"), rate_limited("0.05"))
    async with client_for(api, max_retries=2) as sdk_client:
        with pytest.raises(anthropic.RateLimitError) as raised:
            await sdk_client.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])
    error = raised.value
    assert (error.status_code, error.type) == (429, "rate_limit_error")
    assert error.response.headers["retry-after"] == "0.05"
    assert error.request_id == error.body["request_id"]
    assert len(api.message_requests) == 3 and api.pending == 0


async def test_x_should_retry_false_and_error_details_reach_the_sdk(api):
    spend_cap = ErrorReply(
        429,
        "rate_limit_error",
        "You have reached your organization's monthly spend limit.",
        headers={"x-should-retry": "false"},
        details={"error_code": "enforced_spend_limit_reached"},
    )
    api.queue(spend_cap)
    async with client_for(api, max_retries=2) as sdk_client:
        with pytest.raises(anthropic.RateLimitError) as raised:
            await sdk_client.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])
    assert raised.value.error_code == "enforced_spend_limit_reached"
    assert len(api.message_requests) == 1


# --- Validation, as the real API answers -------------------------------------------------------------------

TOOL_ID_A = "toolu_01AAAAAAAAAAAAAAAAAAAAAA"
ASKED_TOOL = {
    "role": "assistant",
    "content": [{"type": "tool_use", "id": TOOL_ID_A, "name": "query_run", "input": {"query": "SELECT 1"}}],
}
BASE = {"model": MODEL, "max_tokens": 256, "tools": TOOLS, "messages": [user("q")]}


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in BASE.items() if k != key}


def with_tools(*tools: dict[str, Any]) -> dict[str, Any]:
    return {**BASE, "tools": list(tools)}


def tool(name: str = "query_run", schema: Any = None) -> dict[str, Any]:
    return {"name": name, "input_schema": {"type": "object"} if schema is None else schema}


def with_messages(*messages: dict[str, Any]) -> dict[str, Any]:
    return {**BASE, "messages": list(messages)}


def marked(text_value: str) -> dict[str, Any]:
    return {"type": "text", "text": text_value, "cache_control": {"type": "ephemeral"}}


INVALID_REQUESTS = {
    "model missing": (without("model"), "model: Field required"),
    "max_tokens missing": (without("max_tokens"), "max_tokens: Field required"),
    "messages missing": (without("messages"), "messages: Field required"),
    "starts with assistant": (
        with_messages({"role": "assistant", "content": "Hi"}, user("q")),
        'messages: first message must use the "user" role',
    ),
    "tool_use without result": (
        with_messages(user("q"), ASKED_TOOL, user("thanks")),
        f"messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: {TOOL_ID_A}. "
        "Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
    ),
    "tool_use as the last message": (
        with_messages(user("q"), ASKED_TOOL),
        f"messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: {TOOL_ID_A}. "
        "Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
    ),
    "tool_result for an unknown id": (
        with_messages(
            user("q"), ASKED_TOOL, user([result_block(TOOL_ID_A, "1"), result_block("toolu_01X", "2")])
        ),
        "messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01X. "
        "Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
    ),
    "tool blocks without tools": (
        {**without("tools"), "messages": [user("q"), ASKED_TOOL, user([result_block(TOOL_ID_A, "1")])]},
        "Requests which include `tool_use` or `tool_result` blocks must define tools.",
    ),
    "tool name with a dot": (
        with_tools(tool("logfire.query_run")),
        "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
    ),
    "tool name of 129 characters": (
        with_tools(tool("q" * 129)),
        "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
    ),
    "duplicate tool names": (with_tools(tool(), tool()), "tools: Tool names must be unique."),
    "input_schema not an object": (
        with_tools(tool(schema={"type": "array"})),
        "tools.0.custom.input_schema.type: Input should be 'object'",
    ),
    "input_schema without type": (
        with_tools(tool(schema={"properties": {}})),
        "tools.0.custom.input_schema.type: Field required",
    ),
    "input_schema not JSON schema": (
        with_tools(tool(schema={"type": "object", "properties": {"q": {"type": "text"}}})),
        "tools.0.custom.input_schema: JSON schema is invalid. It must match JSON Schema draft 2020-12 "
        "(https://json-schema.org/draft/2020-12). Learn more about tool use at "
        "https://platform.claude.com/docs/en/agents-and-tools/tool-use/overview.",
    ),
    "input_schema with top-level anyOf": (
        with_tools(tool(schema={"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]})),
        "tools.0.custom.input_schema: input_schema does not support oneOf, allOf, or anyOf at the top level",
    ),
    "five cache breakpoints": (
        {
            **with_tools({**tool("a"), "cache_control": {"type": "ephemeral"}}),
            "system": [marked("one"), marked("two")],
            "messages": [user([marked("three"), marked("four")])],
        },
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    ),
    "cache_control on an empty text block": (
        with_messages(user([{"type": "text", "text": "q"}, marked("")])),
        "messages.0.content.1.text: cache_control cannot be set for empty text blocks",
    ),
    "empty text block": (
        with_messages(user([{"type": "text", "text": ""}])),
        "messages: text content blocks must be non-empty",
    ),
    "empty message": (
        with_messages(user("q"), {"role": "assistant", "content": []}, user("again")),
        "messages.1: all messages must have non-empty content "
        "except for the optional final assistant message",
    ),
    "field the API does not know": (
        with_messages(user("q"), ASKED_TOOL, user([{**result_block(TOOL_ID_A, "1"), "result_id": "res_1"}])),
        "messages.2.content.0.tool_result.result_id: Extra inputs are not permitted",
    ),
    "tool_use input not an object": (
        with_messages(
            user("q"),
            {"role": "assistant", "content": [{**ASKED_TOOL["content"][0], "input": "SELECT 1"}]},
            user([result_block(TOOL_ID_A, "1")]),
        ),
        "messages.1.content.0.tool_use.input: Input should be a valid dictionary",
    ),
    "streaming": (
        {**BASE, "stream": True},
        "stream: the Anthropic stand-in answers only non-streaming requests "
        "(stream: true is not implemented)",
    ),
}


@pytest.mark.parametrize(("body", "message"), INVALID_REQUESTS.values(), ids=INVALID_REQUESTS.keys())
async def test_invalid_requests_get_the_real_api_error(api, client, body, message):
    api.queue(text("never sent"))
    with pytest.raises(anthropic.BadRequestError) as raised:
        await client.post("/v1/messages", body=body, cast_to=anthropic.types.Message)
    assert (raised.value.status_code, raised.value.type) == (400, "invalid_request_error")
    assert raised.value.api_message == message
    assert api.pending == 1 and api.rejections == api.requests


async def test_count_tokens_validates_too_but_needs_no_max_tokens(api, client):
    counted = await client.messages.count_tokens(model=MODEL, tools=TOOLS, messages=[user("q")])
    assert counted.input_tokens == pytest.approx(
        approximate_tokens({"tools": TOOLS, "messages": [user("q")]}), rel=0.1
    )
    with pytest.raises(anthropic.BadRequestError, match=r"tools: Tool names must be unique\."):
        await client.messages.count_tokens(model=MODEL, tools=[QUERY_TOOL, QUERY_TOOL], messages=[user("q")])
    assert api.pending == 0 and [record.path for record in api.requests] == ["/v1/messages/count_tokens"] * 2


# --- Authentication and version headers --------------------------------------------------------------------


async def test_the_api_key_is_checked_and_never_recorded(api):
    api.queue(text("ok"))
    async with client_for(api, api_key="wrong-key") as wrong:
        with pytest.raises(anthropic.AuthenticationError, match="invalid x-api-key"):
            await wrong.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])
    async with client_for(api, default_headers={"Authorization": anthropic.omit}) as keyless:
        with pytest.raises(anthropic.AuthenticationError, match="x-api-key header is required"):
            await keyless.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])
    headers = {"Authorization": anthropic.omit, "x-api-key": "test-key"}
    async with client_for(api, default_headers=headers) as by_header:
        assert (await by_header.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])).content
    recorded = json.dumps([record.headers for record in api.requests])
    assert "test-key" not in recorded and "wrong-key" not in recorded
    assert api.requests[-1].headers["x-api-key"] == "[redacted]"


async def test_the_anthropic_version_header_is_required(api):
    async with client_for(api, default_headers={"anthropic-version": anthropic.omit}) as unversioned:
        with pytest.raises(anthropic.BadRequestError, match="anthropic-version: header is required"):
            await unversioned.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])
    async with client_for(api, default_headers={"anthropic-version": "2024-13-01"}) as misdated:
        with pytest.raises(
            anthropic.BadRequestError, match='anthropic-version: "2024-13-01" is not a valid version'
        ):
            await misdated.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])


async def test_the_sdk_finds_the_stand_in_through_anthropic_base_url(api, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    api.queue(text("found"))
    async with anthropic.AsyncAnthropic(max_retries=0) as sdk_client:
        reply = await sdk_client.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])
    assert reply.content[0].text == "found"


# --- The script fails loudly -------------------------------------------------------------------------------


async def test_an_empty_script_fails_fast_and_at_the_end_of_the_block():
    with pytest.raises(AssertionError, match="found the script empty"):
        async with AnthropicStandIn() as stand_in, client_for(stand_in, max_retries=2) as sdk_client:
            with pytest.raises(anthropic.InternalServerError, match="script error"):
                await sdk_client.messages.create(model=MODEL, max_tokens=64, messages=[user("q")])
            assert len(stand_in.requests) == 1  # not retried: x-should-retry is false


@pytest.mark.parametrize(
    ("step", "request_options", "problem"),
    [
        (tool_use("dashboard_delete", {"id": "d1"}), {"tools": TOOLS}, "does not declare"),
        (tool_use("query_run", {"query": "x"}), {"tools": TOOLS, "tool_choice": {"type": "none"}}, "'none'"),
        (text("no tool"), {"tools": TOOLS, "tool_choice": {"type": "any"}}, "'any'"),
        (Reply(("done",), stop_reason="tool_use"), {}, "without a tool call"),
        (lambda body: 1 / 0, {}, "ZeroDivisionError"),
        (lambda body: "not a reply", {}, "not a Reply or ErrorReply"),
    ],
    ids=[
        "undeclared tool",
        "tool_choice none",
        "tool_choice any",
        "tool_use without call",
        "raises",
        "wrong type",
    ],
)
async def test_answers_the_model_could_not_give_are_script_errors(step, request_options, problem):
    with pytest.raises(AssertionError, match=re.escape(problem)):
        async with AnthropicStandIn(script=[step]) as stand_in, client_for(stand_in) as sdk_client:
            with pytest.raises(anthropic.InternalServerError):
                await sdk_client.messages.create(
                    model=MODEL, max_tokens=64, messages=[user("q")], **request_options
                )


async def test_a_hallucinated_tool_call_is_allowed_when_asked_for(api, client):
    """What a test of 'the bot refuses a tool it was not given' scripts."""
    api.queue(tool_use("dashboard_delete", {"id": "d1"}, hallucinated=True))
    reply = await client.messages.create(model=MODEL, max_tokens=64, tools=TOOLS, messages=[user("q")])
    assert reply.content[0].name == "dashboard_delete"
    assert api.tool_names_sent() == ["query_run", "render_chart"]
