"""Every Block Kit builder against Slack's rules: the emulator's validator, slack_sdk's models, the limits,
and hostile text (mentions, links) that must reach Slack escaped. The last test posts them all to the
emulator over HTTP, the way the bot will."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import mcp_types as types
import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot import errors
from bot.analysis.types import AnalysisResult, KeyNumber, QueryRun, Usage
from bot.handlers import blocks
from bot.handlers.blocks.kit import Message, split_mrkdwn
from bot.mcp_client.catalog import ToolCatalog
from bot.mcp_client.gate import ToolGate
from bot.oauth.authorization import CallbackFailed, CallbackRefused, Requester
from bot.oauth.vault import DisconnectResult
from db.models import Analysis, LogfireConnection
from sandbox.logfire.catalog import WRITE_TOOLS
from sandbox.slack import SlackEmulator
from sandbox.slack.blocks import (
    MAX_BLOCKS_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    blocks_text_length,
    validate_blocks,
)
from sandbox.slack.posting import MAX_TEXT_LENGTH

HOSTILE = "<!channel> look <@U0EVIL> at <https://evil.example/x|this> & <!here> <#C0EVIL> <!subteam^S1>"
ASKER = "U0ASKER"
BOT = "U0BOT"
NOW = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
FILE_ID = "F0CHART123"
LINK = "https://logfire-us.pydantic.dev/acme/prod?q=abc&since=1h"

_DATE = r"<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>|]+>"


# -- what every message must satisfy ---------------------------------------------------------------


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def check_mrkdwn(text: str, mentions: Sequence[str] = ()) -> None:
    """Only our own mentions and dates are Slack markup; every other <, > and & is escaped."""
    allowed = "|".join([_DATE, *(re.escape(f"<@{user}>") for user in mentions)])
    rest = re.sub(allowed, "", text)
    assert "<" not in rest, f"unescaped < in {text!r}"
    assert re.fullmatch(r"(?s)(?:[^&]|&(?:amp|lt|gt);)*", rest), f"unescaped & in {text!r}"
    for line in rest.splitlines():
        body = line.removeprefix("> ") if line != ">" else ""
        assert ">" not in body, f"unescaped > (other than a quote) in {text!r}"


def check_blocks(
    payload: list[dict[str, Any]], *, mentions: Sequence[str] = (), max_blocks: int = MAX_MESSAGE_BLOCKS
) -> None:
    assert payload, "no blocks"
    assert validate_blocks(payload, max_blocks=max_blocks) == []
    assert blocks_text_length(payload) <= MAX_BLOCKS_TEXT
    for block in payload:
        Block.parse(copy.deepcopy(block)).validate_json()
    for node in walk(payload):
        if node.get("type") == "mrkdwn":
            assert node.get("verbatim") is True
            check_mrkdwn(node["text"], mentions)
        if node.get("type") == "button":
            assert len(node.get("value", "")) <= 2000 and len(node.get("url", "")) <= 3000
            assert "value" in node or "url" in node
        assert "image_url" not in node


def check(message: Message, *, mentions: Sequence[str] = ()) -> Message:
    assert isinstance(message, Message)
    assert message.text.strip() and len(message.text) <= MAX_TEXT_LENGTH
    check_mrkdwn(message.text, mentions)
    check_blocks(message.blocks, mentions=mentions)
    return message


def texts(message: Message | dict[str, Any]) -> str:
    payload = message.blocks if isinstance(message, Message) else message["blocks"]
    return "\n".join(node["text"] for node in walk(payload) if isinstance(node.get("text"), str))


def buttons(message: Message) -> dict[str, dict[str, Any]]:
    return {node["action_id"]: node for node in walk(message.blocks) if node.get("type") == "button"}


# -- data ------------------------------------------------------------------------------------------


def connection(**changes: Any) -> LogfireConnection:
    values = dict(
        team_id="T1",
        mcp_url="https://logfire-us.pydantic.dev/mcp",
        region="us",
        resource="https://logfire-us.pydantic.dev/mcp",
        issuer="https://logfire-us.pydantic.dev",
        client_id="client",
        project="acme/prod",
        connected_by=ASKER,
        connected_at=NOW - timedelta(days=3),
        tools_summary={"tools": {"query_run": "x", "schema_reference": "y"}, "last_change": None},
        needs_reconnect_reason=None,
    )
    return LogfireConnection(**(values | changes))


def asked(question: str = "top 10 errors in agent service") -> Analysis:
    return Analysis(id="a1", question=question, user_id=ASKER, created_at=NOW, status="answered")


def tool(name: str, description: str = "", **annotations: bool) -> types.Tool:
    hints = types.ToolAnnotations(**annotations) if annotations else None
    return types.Tool(name=name, description=description, input_schema={"type": "object"}, annotations=hints)


def catalog(tools: list[types.Tool]) -> ToolCatalog:
    return ToolCatalog.judged(tools, None, ToolGate(), NOW)


def small_catalog() -> ToolCatalog:
    reads = [
        tool("query_run", "Run a read-only SQL query. Returns rows.", read_only_hint=True),
        tool("schema_reference", "The columns of the records table.", read_only_hint=True),
        tool("find_exceptions_in_file", f"Exceptions in a file. {HOSTILE}"),
    ]
    writes = [tool(w.name, w.description) for w in WRITE_TOOLS[:6]]
    return catalog(reads + writes)


def huge_catalog() -> ToolCatalog:
    reads = [tool(f"read_tool_{i:03d}_{'x' * 40}", f"{HOSTILE} " + "d" * 400) for i in range(300)]
    writes = [tool(w.name, w.description) for w in WRITE_TOOLS]
    writes += [tool(f"{verb}_thing_{i}", HOSTILE) for i in range(40) for verb in ("delete", "send", "mute")]
    return catalog(reads + writes)


def query(number: int = 1, sql: str = "SELECT count(*) FROM records", **changes: Any) -> QueryRun:
    values = dict(
        tool="query_run",
        arguments={"query": sql, "start_timestamp": "2025-06-01T11:30:00Z", "end_timestamp": None},
        seconds=0.42 * number,
        rows=10 * number,
    )
    return QueryRun(**(values | changes))


def result(**changes: Any) -> AnalysisResult:
    values = dict(
        analysis_id="9f1c2d3e-0000-4000-8000-000000000001",
        mode="claude",
        summary="*Top error*: `TimeoutError` in agent service, 1,204 times.",
        key_numbers=[KeyNumber("Errors", "1,204"), KeyNumber("Services", "3")],
        queries=[query(1), query(2)],
        links=[LINK],
        window_label="last 1 hour (UTC)",
        usage=Usage(model="claude-sonnet-4-5", input_tokens=12000, output_tokens=345, cost_usd=0.0412),
        seconds=8.23,
    )
    return AnalysisResult(**(values | changes))


def answer(res: AnalysisResult, file_ids: Sequence[str] = (FILE_ID,)) -> list[Message]:
    messages = blocks.answer_messages(res, region="us", project="acme/prod", chart_file_ids=file_ids)
    for message in messages:
        check(message)
    return messages


# -- help, connection screens ----------------------------------------------------------------------


def test_help_lists_the_subcommands_and_the_seed_examples() -> None:
    message = check(blocks.help_message(BOT), mentions=[BOT])
    shown = texts(message)
    for subcommand in ("connect", "status", "tools", "disconnect", "help", "&lt;question&gt;"):
        assert f"/logfire {subcommand}" in shown
    for question in blocks.EXAMPLE_QUESTIONS:
        assert question in shown
    assert {"errors in the agent service", "slowest API endpoints", "status code", "token cost"} <= {
        part
        for part in ("errors in the agent service", "slowest API endpoints", "status code", "token cost")
        if part in shown
    }


def test_connect_prompt_has_the_authorize_button_and_says_what_it_grants() -> None:
    url = (
        "https://logfire-eu.pydantic.dev/oauth/authorize?client_id=c&state="
        + "s" * 43
        + "&scope=project%3Aread"
    )
    message = check(
        blocks.connect_prompt(
            url, mcp_url="https://logfire-eu.pydantic.dev/mcp", region="eu", current=connection()
        )
    )
    button = buttons(message)[blocks.AUTHORIZE_ACTION]
    assert button["url"] == url and button["text"]["text"] == "Authorize with Logfire"
    shown = texts(message)
    assert "10 minutes" in shown and "`project:read`" in shown and "read-only" in shown
    assert "EU" in shown and "https://logfire-eu.pydantic.dev/mcp" in shown
    assert "/logfire connect us" in shown, "the other region is offered"
    assert "replaces the current connection" in shown
    with pytest.raises(ValueError):
        blocks.connect_prompt(
            "https://x.example/" + "a" * 3000, mcp_url="https://x.example/mcp", region="custom"
        )


def test_connected_notice_counts_the_read_only_and_blocked_tools() -> None:
    tools = small_catalog()
    message = check(blocks.connected_message(connection(), tools))
    shown = texts(message)
    assert f"{len(tools.allowed)} read-only tools, {len(tools.blocked)} blocked" in shown
    assert "`acme/prod`" in shown and "US" in shown


def test_status_connected_not_connected_and_needing_reconnect() -> None:
    tools = small_catalog()
    hostile_question = asked(HOSTILE)
    message = check(blocks.status_message(connection(), tools, hostile_question), mentions=[ASKER])
    shown = texts(message)
    assert f"<@{ASKER}>" in shown and "`acme/prod`" in shown and "&lt;!channel&gt;" in shown
    assert f"{len(tools.allowed)} read-only tools" in shown

    without_catalog = check(blocks.status_message(connection(), None, None), mentions=[ASKER])
    assert "2 tools at the last listing" in texts(without_catalog) and "none yet" in texts(without_catalog)

    renew = connection(
        needs_reconnect_reason=f"the refresh token was revoked {HOSTILE}", connected_by="bad<id>"
    )
    shown = texts(check(blocks.status_message(renew, None, None)))
    assert "needs to be renewed" in shown and "/logfire connect" in shown and "bad&lt;id&gt;" in shown

    assert "not connected" in texts(check(blocks.status_message(None)))


def test_tools_lists_every_tool_and_each_blocked_reason() -> None:
    tools = small_catalog()
    note = {"at": NOW.isoformat(), "what": f"added: find_exceptions_in_file {HOSTILE}"}
    message = check(blocks.tools_message(tools, note))
    shown = texts(message)
    for gated in tools.tools:
        assert f"`{gated.name}`" in shown
    for gated in tools.blocked:
        assert gated.verdict.reason.removeprefix("blocked: ").replace("'", "'") in shown
    assert "Last change" in shown and "added: find_exceptions_in_file" in shown


def test_tools_with_hundreds_of_tools_stays_within_one_message() -> None:
    tools = huge_catalog()
    message = check(blocks.tools_message(tools, None))
    shown = texts(message)
    assert f"{len(tools.allowed)} read-only tools" in shown and f"{len(tools.blocked)} tools blocked" in shown
    assert re.search(r"…and \d+ more", shown)
    shown_names = set(re.findall(r"`([a-z_0-9x]+)`", shown))
    hidden = int(re.search(r"…and (\d+) more", shown).group(1))
    allowed_shown = {gated.name for gated in tools.allowed} & shown_names
    assert len(allowed_shown) + hidden == len(tools.allowed)


def test_disconnect_says_whether_the_tokens_were_revoked() -> None:
    revoked = texts(check(blocks.disconnect_message(DisconnectResult(revoked=True))))
    assert "revoked at Logfire" in revoked
    kept = texts(
        check(blocks.disconnect_message(DisconnectResult(revoked=False, detail=f"HTTP 503 {HOSTILE}")))
    )
    assert "did not confirm" in kept and "HTTP 503" in kept


# -- questions and answers -------------------------------------------------------------------------


def test_question_root_quotes_the_question_escaped() -> None:
    message = check(blocks.question_message(ASKER, f"why?\n{HOSTILE}"), mentions=[ASKER])
    assert message.text.startswith(f"<@{ASKER}> asked: why?")
    assert "&lt;!channel&gt;" in texts(message)
    long = check(blocks.question_message(ASKER, "slow " * 2000), mentions=[ASKER])
    assert texts(long).endswith("…")
    check(blocks.question_message("not-an-id", "hi"))
    check(blocks.working_message(f"querying Logfire: {HOSTILE}"))
    check(blocks.working_message())


def test_answer_summary_first_then_numbers_context_line_and_buttons() -> None:
    res = result()
    [message] = answer(res)
    first = message.blocks[0]
    assert first["type"] == "section" and "TimeoutError" in first["text"]["text"]
    numbers = next(block for block in message.blocks if "fields" in block)
    assert [field["text"] for field in numbers["fields"]] == ["*Errors*\n1,204", "*Services*\n3"]
    line = next(block for block in message.blocks if block["type"] == "context")["elements"][0]["text"]
    for part in (
        "Logfire US",
        "acme/prod",
        "last 1 hour (UTC)",
        "2 tool calls",
        "12,345 tokens",
        "$0.0412",
        "8.2 s",
    ):
        assert part in line
    found = buttons(message)
    assert found[blocks.SHOW_QUERY_ACTION]["value"] == res.analysis_id
    assert found[blocks.OPEN_IN_LOGFIRE_ACTION]["url"] == LINK
    assert found[blocks.PIN_CHART_ACTION]["value"] == FILE_ID
    assert message.blocks[-1]["type"] == "actions"
    assert "TimeoutError" in message.text


def test_answer_offline_partial_and_without_link_or_chart() -> None:
    res = result(
        mode="offline",
        usage=Usage(),
        links=["javascript:alert(1)"],
        partial=True,
        notes=[f"the tool-call cap was reached {HOSTILE}"],
        summary=HOSTILE,
    )
    [message] = answer(res, file_ids=())
    shown = texts(message)
    assert "offline mode: no AI model" in shown and "tokens" not in shown
    assert message.blocks[0]["text"]["text"].startswith(":warning: *Partial answer*")
    assert message.text.startswith("Partial answer")
    assert set(buttons(message)) == {blocks.SHOW_QUERY_ACTION}
    assert "&lt;!channel&gt;" in shown and "&lt;@U0EVIL&gt;" in shown

    [bare] = answer(result(queries=[], links=[]), file_ids=("not a file id",))
    assert bare.blocks[-1]["type"] == "context", "no buttons at all"


def test_several_charts_get_one_pin_button_each() -> None:
    [message] = answer(result(), file_ids=("F01", "F02", "F03"))
    pins = [b for a, b in buttons(message).items() if re.match(blocks.PIN_CHART_ACTION_PATTERN, a)]
    assert [pin["value"] for pin in pins] == ["F01", "F02", "F03"]


WORDS = ["errors", "*p95*", "`span`", "<!here>", "a&b", "latency"]


def long_summary(rng: random.Random, paragraphs: int) -> str:
    """Model-like mrkdwn: paragraphs with emphasis and hostile bits, and some ``` blocks of SQL."""
    parts = []
    for i in range(paragraphs):
        if i % 7 == 3:
            lines = [f"SELECT {j} FROM records -- & <x>" for j in range(rng.randint(5, 200))]  # noqa: S608
            parts.append("```\n" + "\n".join(lines) + "\n```")
        else:
            parts.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 400))))
    return "\n\n".join(parts)


def test_long_answers_split_within_the_limits_and_keep_all_text() -> None:
    rng = random.Random(5)
    summary = long_summary(rng, 60)
    numbers = [KeyNumber(f"number {i} {HOSTILE}", "9" * 300) for i in range(25)]
    messages = answer(result(summary=summary, key_numbers=numbers))
    assert 2 <= len(messages) <= 4
    for message in messages[:-1]:
        assert not buttons(message)
    assert set(buttons(messages[-1])) >= {blocks.SHOW_QUERY_ACTION, blocks.PIN_CHART_ACTION}
    pieces = [
        block["text"]["text"]
        for m in messages
        for block in m.blocks
        if block.get("text") and "fields" not in block
    ]
    joined = "\n".join(pieces)
    if "parts cut" not in joined:
        expected = blocks.escape(summary)
        assert _words(joined) >= _words(expected) - {"```"}


def _words(text: str) -> set[str]:
    return set(text.replace("```", " ").split())


def test_a_runaway_answer_is_cut_to_four_messages_saying_so() -> None:
    messages = answer(result(summary="word " * 200_000))
    assert len(messages) == 4
    assert "parts cut" in texts(messages[-1]) and buttons(messages[-1])


@pytest.mark.parametrize("seed", range(40))
def test_split_mrkdwn_keeps_pieces_within_the_limit_and_fences_closed(seed: int) -> None:
    rng = random.Random(seed)
    text = blocks.escape(long_summary(rng, rng.randint(1, 30)))
    limit = rng.choice([200, 1000, 3000])
    pieces = split_mrkdwn(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert all(piece.count("```") % 2 == 0 for piece in pieces[:-1])
    assert all(not re.search(r"&[a-z]{0,3}$", piece) for piece in pieces)
    assert _words("\n".join(pieces)) == _words(text)


# -- show query ------------------------------------------------------------------------------------


def test_show_query_shows_sql_window_rows_duration_and_errors() -> None:
    runs = [
        query(1, f"SELECT message FROM records WHERE message = '{HOSTILE}' ```"),  # noqa: S608
        query(2, tool="find_exceptions_in_file", arguments={"filepath": "app/agent.py", "limit": 10}),
        query(3, error=f"syntax error near {HOSTILE}", rows=None),
    ]
    [message] = blocks.query_messages(runs, question=HOSTILE)
    check(message)
    shown = texts(message)
    assert "```\nSELECT message FROM records WHERE message = '&lt;!channel&gt;" in shown
    assert "2025-06-01T11:30:00Z → now" in shown and "10 rows" in shown and "0.42 s" in shown
    assert "`find_exceptions_in_file`" in shown and '"filepath": "app/agent.py"' in shown
    assert ":x: *Failed:* syntax error near &lt;!channel&gt;" in shown

    [empty] = blocks.query_messages([])
    assert "No Logfire queries" in check(empty).text


def test_many_long_queries_split_into_several_ephemerals_with_sql_cut_safely() -> None:
    sql = "SELECT a & b, '<x>' FROM records WHERE " + " OR ".join(f"x = {i}" for i in range(2000))  # noqa: S608
    runs = [query(i, sql) for i in range(1, 41)]
    messages = blocks.query_messages(runs)
    assert len(messages) > 1
    for message in messages:
        check(message)
    shown = "\n".join(texts(message) for message in messages)
    assert shown.count("… cut here:") == 40 and shown.count(" of 40* ·") == 40


# -- errors ----------------------------------------------------------------------------------------

REQUESTER = Requester("T1", ASKER, "C1")
ERRORS: list[tuple[Exception, bool]] = [  # (error, a retry makes sense)
    (errors.NotConnected(), False),
    (errors.NotConnected(f"the refresh token was revoked {HOSTILE}"), False),
    (errors.RegionMismatch("eu"), False),
    (errors.RegionMismatch(None), False),
    (errors.ConnectFailed(f"`{HOSTILE}` is not a URL"), False),
    (errors.InsufficientScope("project:read"), False),
    (errors.LogfireUnavailable(f"HTTP 503 {HOSTILE}", 10.0), True),
    (errors.ToolRefused("dashboard_create", "blocked: its name contains the write verb 'create'"), False),
    (errors.ToolFailed("query_run", f"syntax error {HOSTILE}"), True),
    (CallbackRefused(f"This authorization link expired {HOSTILE}", REQUESTER), False),
    (CallbackFailed(errors.RegionMismatch("us"), REQUESTER), False),
    (errors.LogfireBotError(HOSTILE), True),
    (RuntimeError(f"secret-ish internals {HOSTILE}"), True),
]


@pytest.mark.parametrize(("error", "retryable"), ERRORS, ids=lambda value: getattr(value, "kind", str(value)))
def test_every_error_kind_says_what_failed_and_what_to_do(error: Exception, retryable: bool) -> None:
    message = check(blocks.error_message(error, retry_key="9f1c2d3e", reference="9f1c2d3e"))
    shown = texts(message)
    assert shown.startswith(":warning: *")
    assert (
        "Retry" in buttons(message).get(blocks.RETRY_ACTION, {}).get("text", {}).get("text", "")
    ) is retryable
    if retryable:
        assert buttons(message)[blocks.RETRY_ACTION]["value"] == "9f1c2d3e"
    assert "secret-ish" not in shown, "unexpected exceptions are not shown to users"
    assert not buttons(check(blocks.error_message(error))), "no retry without a key"


def test_region_mismatch_says_what_the_seed_troubleshooting_says() -> None:
    shown = texts(check(blocks.error_message(errors.RegionMismatch("eu"))))
    assert "*Region mismatch*" in shown
    assert (
        "Your Logfire project lives in the EU region but this connection points at the US endpoint" in shown
    )
    assert (
        "Run `/logfire connect eu` to use `https://logfire-eu.pydantic.dev/mcp` as the endpoint URL" in shown
    )
    unknown = texts(check(blocks.region_mismatch_message(None)))
    assert "`/logfire connect us` or `/logfire connect eu`" in unknown


def test_model_and_slack_side_failures() -> None:
    overloaded = check(blocks.model_overloaded_message(retry_key="k"))
    assert "overloaded" in overloaded.text and blocks.RETRY_ACTION in buttons(overloaded)
    limited = check(blocks.model_rate_limited_message(20, retry_key="k"))
    assert "in 20 s" in limited.text
    refused = check(
        blocks.error_message(errors.ModelRejected("HTTP 401: the API key was refused"), retry_key="k")
    )
    assert "ANTHROPIC_API_KEY" in texts(refused)
    assert blocks.RETRY_ACTION not in buttons(refused)  # retrying cannot help
    down = check(blocks.error_message(errors.ModelUnavailable(HOSTILE), retry_key="k"))
    assert "Claude is not available" in down.text and blocks.RETRY_ACTION in buttons(down)
    pins = check(blocks.slack_error_message("missing_scope", "pin the chart", needed="pins:write"))
    assert "`pins:write`" in texts(pins) and "logfire-bot manifest" in texts(pins)
    member = check(blocks.slack_error_message("not_in_channel", "post the answer", retry_key="k"))
    assert "/invite" in texts(member) and blocks.RETRY_ACTION in buttons(member)
    check(blocks.slack_error_message(HOSTILE, HOSTILE))
    for message in (
        blocks.admin_only_message("connect Logfire"),
        blocks.query_not_found_message(),
        blocks.chart_pinned_message(),
        blocks.chart_pinned_message(already=True),
        blocks.chart_not_ready_message(),
        blocks.internal_error_message(HOSTILE),
        blocks.tool_refused_message(HOSTILE, HOSTILE),
        blocks.connect_failed_message("x" * 10_000),
    ):
        check(message)


# -- App Home --------------------------------------------------------------------------------------


def check_view(view: dict[str, Any], mentions: Sequence[str] = ()) -> str:
    assert view["type"] == "home"
    check_blocks(view["blocks"], mentions=mentions, max_blocks=MAX_VIEW_BLOCKS)
    return texts(view)


def test_home_shows_the_connection_a_connect_button_and_help() -> None:
    shown = check_view(blocks.home_view(None, bot_user_id=BOT), [BOT])
    assert "not connected" in shown and "Try asking" in shown
    connect = [node for node in walk(blocks.home_view(None)["blocks"]) if node.get("type") == "button"]
    assert sorted(button["value"] for button in connect) == ["eu", "us"]
    assert all(re.match(blocks.CONNECT_ACTION_PATTERN, button["action_id"]) for button in connect)

    view = blocks.home_view(connection(), catalog=small_catalog(), last_question=asked(HOSTILE))
    shown = check_view(view, [ASKER])
    assert "`acme/prod`" in shown and f"<@{ASKER}>" in shown and "read-only tools" in shown
    assert [n["value"] for n in walk(view["blocks"]) if n.get("type") == "button"] == ["reconnect"]

    with_link = blocks.home_view(connection(), authorize_url="https://logfire-us.pydantic.dev/authorize?x=1")
    assert buttons(Message("", with_link["blocks"]))[blocks.AUTHORIZE_ACTION]["url"].endswith("x=1")
    check_view(with_link, [ASKER])
    viewer = blocks.home_view(connection(needs_reconnect_reason="revoked"), can_manage=False)
    shown = check_view(viewer, [ASKER])
    assert "Only workspace admins" in shown and "needs to be renewed" in shown
    assert not [n for n in walk(viewer["blocks"]) if n.get("type") == "button"]


# -- through the emulator --------------------------------------------------------------------------


async def test_everything_posts_to_the_slack_emulator() -> None:
    rng = random.Random(11)
    async with SlackEmulator(share_delay=0) as emu:
        client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
        general, alice = emu.channel("general"), emu.user("alice")
        root = check(blocks.question_message(alice.id, HOSTILE), mentions=[alice.id])
        posted = await client.chat_postMessage(channel=general.id, text=root.text, blocks=root.blocks)
        thread = posted["ts"]
        upload = await client.files_upload_v2(
            channel=general.id, thread_ts=thread, content=b"\x89PNG\r\n\x1a\n", filename="chart.png"
        )
        res = result(summary=long_summary(rng, 40) + "\n" + HOSTILE)
        for message in blocks.answer_messages(
            res, region="eu", project=HOSTILE, chart_file_ids=[upload["file"]["id"]]
        ):
            await client.chat_postMessage(
                channel=general.id, thread_ts=thread, text=message.text, blocks=message.blocks
            )
        ephemerals = [
            blocks.help_message(emu.workspace.bot_user.id),
            blocks.tools_message(huge_catalog(), {"at": "not a date", "what": HOSTILE}),
            blocks.status_message(connection(), small_catalog(), asked(HOSTILE)),
            *blocks.query_messages([query(i, "SELECT 1 " * 900) for i in range(1, 30)], question=HOSTILE),
            *(blocks.error_message(error, retry_key="k") for error, _ in ERRORS),
        ]
        for message in ephemerals:
            await client.chat_postEphemeral(
                channel=general.id, user=alice.id, text=message.text, blocks=message.blocks
            )
        await client.views_publish(
            user_id=alice.id, view=blocks.home_view(connection(), catalog=huge_catalog())
        )

        stored = emu.thread(general, thread)
        assert len(stored) >= 3 and "Pin chart" in emu.transcript(general, thread)
        for message in stored + emu.ephemerals(alice.id):
            assert "<!channel>" not in f"{message.text} {message.blocks}"
        assert len(emu.ephemerals(alice.id)) == len(ephemerals)
        assert emu.home_view(alice.id) is not None
