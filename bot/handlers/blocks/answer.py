"""A question and its answer: the root message, the progress message, the answer, and "Show query"."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.analysis.types import AnalysisResult, QueryRun, Usage
from bot.handlers.blocks.connection import region_label
from bot.handlers.blocks.kit import (
    FALLBACK_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    Block,
    Message,
    actions,
    button,
    clip_escaped,
    code,
    code_block,
    context,
    divider,
    escape,
    field_sections,
    is_button_url,
    is_file_id,
    mention,
    one_line,
    pack,
    plural,
    safe,
    section,
    split_mrkdwn,
)

SHOW_QUERY_ACTION = "show_query"  # value: the analysis id
OPEN_IN_LOGFIRE_ACTION = "open_in_logfire"  # a URL button: Slack still sends block_actions, ack it
PIN_CHART_ACTION = (
    "pin_chart"  # value: the chart's Slack file id; further charts use pin_chart_2, pin_chart_3…
)
PIN_CHART_ACTION_PATTERN = r"^pin_chart(_\d+)?$"

QUESTION_LIMIT = 2500
MAX_ANSWER_MESSAGES = 4  # beyond this an answer is cut, saying so
MAX_KEY_NUMBERS = 20
SQL_LIMIT = 2800


def question_message(user_id: str, question: str) -> Message:
    """The public root of a `/logfire <question>` thread: "<@user> asked: …"."""
    asked = safe(question.strip(), QUESTION_LIMIT)
    quoted = "\n".join(f"> {line}" if line else ">" for line in asked.splitlines())
    return Message(
        text=clip_fallback(f"{mention(user_id)} asked: {escape(one_line(question))}"),
        blocks=[section(f"{mention(user_id)} asked:\n{quoted}")],
    )


def working_message(step: str | None = None) -> Message:
    """The status message shown while the answer is being worked out (updated in place, then removed)."""
    doing = f" {safe(one_line(step), 300)}" if step else ""
    return Message(
        text="Working on it…", blocks=[context(f":hourglass_flowing_sand: *Working on it…*{doing}")]
    )


def answer_messages(
    result: AnalysisResult,
    *,
    region: str,
    project: str | None,
    chart_file_ids: Sequence[str] = (),
) -> list[Message]:
    """The answer in as many messages as Slack's limits need (usually one).

    Summary first, key numbers, the context line, then the buttons on the last message. `chart_file_ids`
    are the Slack file ids of `result.charts` after upload, in the same order (one **Pin chart** each).
    The summary is treated as untrusted (it may quote telemetry): escaped, mrkdwn emphasis kept.
    """
    groups: list[list[Block]] = []
    if result.partial:
        groups.append([partial_notice(result.notes)])
    pieces = split_mrkdwn(escape(result.summary or "No answer text."), SECTION_TEXT_LIMIT)
    groups += [[section(piece)] for piece in pieces]
    if result.key_numbers:
        numbers = result.key_numbers[:MAX_KEY_NUMBERS]
        groups.append(
            field_sections([f"*{safe(number.label, 100)}*\n{safe(number.value, 200)}" for number in numbers])
        )
    tail = [context(context_line(result, region=region, project=project))]
    if buttons := answer_buttons(result, chart_file_ids):
        tail.append(actions(*buttons))
    messages = pack([*groups, tail])
    if len(messages) > MAX_ANSWER_MESSAGES:
        cut = section(
            f"_The answer is too long for Slack: {len(messages) - MAX_ANSWER_MESSAGES + 1} parts cut._"
        )
        messages = [*messages[: MAX_ANSWER_MESSAGES - 1], [cut, *tail]]
    first = "Partial answer: " if result.partial else ""
    summary = escape(one_line(result.summary or "Answer"))
    return [
        Message(
            text=clip_fallback(
                f"{first}{summary}" if index == 0 else f"Answer, part {index + 1} of {len(messages)}"
            ),
            blocks=blocks,
        )
        for index, blocks in enumerate(messages)
    ]


def partial_notice(notes: Sequence[str]) -> Block:
    why = "; ".join(safe(one_line(note), 300) for note in notes[:5]) or "a limit was reached before the end"
    return section(f":warning: *Partial answer*: {why}.")


def context_line(result: AnalysisResult, *, region: str, project: str | None) -> str:
    """region · project · time window · tool calls · tokens and cost · seconds."""
    parts = [f"Logfire {region_label(region)}"]
    if project:
        parts.append(safe(project, 100))
    if result.window_label:
        parts.append(safe(result.window_label, 100))
    parts.append(plural(len(result.queries), "tool call"))
    if result.mode == "offline":
        parts.append("offline mode: no AI model, answered by the built-in planner")
    else:
        parts.append(usage_text(result.usage))
    parts.append(f"{result.seconds:.1f} s")
    return " · ".join(parts)


def usage_text(usage: Usage) -> str:
    tokens = usage.input_tokens + usage.output_tokens
    cost = f"${usage.cost_usd:.4f}" if usage.cost_usd < 1 else f"${usage.cost_usd:,.2f}"
    model = f" ({safe(usage.model, 60)})" if usage.model else ""
    return f"{plural(tokens, 'token')}, {cost}{model}"


def answer_buttons(result: AnalysisResult, chart_file_ids: Sequence[str]) -> list[Block]:
    buttons = []
    if result.queries:
        buttons.append(button("Show query", SHOW_QUERY_ACTION, value=result.analysis_id))
    link = next((link for link in result.links if is_button_url(link)), None)
    if link:
        buttons.append(button("Open in Logfire", OPEN_IN_LOGFIRE_ACTION, url=link))
    file_ids = [file_id for file_id in chart_file_ids if is_file_id(file_id)]
    for number, file_id in enumerate(file_ids[:5], start=1):
        label = "Pin chart" if len(file_ids) == 1 else f"Pin chart {number}"
        action_id = PIN_CHART_ACTION if number == 1 else f"{PIN_CHART_ACTION}_{number}"
        buttons.append(button(label, action_id, value=file_id))
    return buttons


def query_messages(queries: Sequence[QueryRun], question: str | None = None) -> list[Message]:
    """ "Show query" (ephemeral): each tool call's SQL or arguments, window, rows, duration and error."""
    title = f"*Queries for* “{safe(one_line(question), 300)}”" if question else "*Queries behind this answer*"
    if not queries:
        return [
            Message(
                text="No Logfire queries were made.",
                blocks=[section(f"{title}\nNo Logfire queries were made.")],
            )
        ]
    groups: list[list[Block]] = [[section(title)]]
    for number, query in enumerate(queries, start=1):
        groups.append([*([divider()] if number > 1 else []), *query_blocks(query, number, len(queries))])
    messages = pack(groups)
    return [
        Message(
            text=f"Queries behind this answer ({len(queries)})" + (f", part {i + 1}" if i else ""), blocks=b
        )
        for i, b in enumerate(messages)
    ]


def query_blocks(query: QueryRun, number: int, total: int) -> list[Block]:
    facts = [f"*{number} of {total}* · {code(query.tool, 80)}", window_text(query.window)]
    if query.rows is not None:
        facts.append(plural(query.rows, "row"))
    facts.append(f"{query.seconds:.2f} s")
    blocks = [section(" · ".join(facts))]
    if query.sql is not None:
        blocks.append(section(code_block(query.sql, SQL_LIMIT)))
    elif query.arguments:
        blocks.append(section(code_block(json.dumps(query.arguments, indent=1, default=str), SQL_LIMIT)))
    if query.error:
        blocks.append(section(f":x: *Failed:* {safe(one_line(query.error), 1500)}"))
    return blocks


def window_text(window: tuple[str | None, str | None]) -> str:
    start, end = window
    if start is None and end is None:
        return "no time window given"
    return f"{safe(str(start or '…'), 40)} → {safe(str(end or 'now'), 40)}"


def clip_fallback(text: str) -> str:
    """A fallback `text` (already escaped) short enough for notifications."""
    return clip_escaped(text, FALLBACK_TEXT_LIMIT)
