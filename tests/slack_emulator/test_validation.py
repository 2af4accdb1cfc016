"""Argument and Block Kit validation as Slack answers it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator
from sandbox.slack.blocks import validate_blocks


def text(kind: str, value: str) -> dict[str, str]:
    return {"type": kind, "text": value}


def button(action_id: str, value: str = "v", label: str = "Go") -> dict[str, Any]:
    return {"type": "button", "text": text("plain_text", label), "action_id": action_id, "value": value}


INVALID = [
    (
        [{"type": "section", "text": text("mrkdwn", "x" * 3001)}],
        "must be less than 3001 characters",
        "/blocks/0/text/text",
    ),
    ([{"type": "markdown", "text": "x" * 12001}], "must be less than 12001 characters", "/blocks/0/text"),
    (
        [{"type": "header", "text": text("plain_text", "h" * 151)}],
        "must be less than 151",
        "/blocks/0/text/text",
    ),
    ([{"type": "header", "text": text("mrkdwn", "*h*")}], "must be one of plain_text", "/blocks/0/text/type"),
    (
        [{"type": "section", "text": text("mrkdwn", "")}],
        "must be more than 0 characters",
        "/blocks/0/text/text",
    ),
    (
        [{"type": "actions", "elements": [button("a", value="v" * 2001)]}],
        "must be less than 2001",
        "/blocks/0/elements/0/value",
    ),
    (
        [{"type": "actions", "elements": [button("a"), button("a")]}],
        "duplicate action_id",
        "/blocks/0/elements/1/action_id",
    ),
    (
        [{"type": "context", "elements": [text("mrkdwn", "c")] * 11}],
        "no more than 10 items",
        "/blocks/0/elements",
    ),
    ([{"type": "section", "text": text("mrkdwn", "s")}] * 51, "no more than 50 items", "/blocks"),
    ([{"type": "carousel_of_doom"}], "unsupported type", "/blocks/0/type"),
    (
        [{"type": "actions", "elements": [{"type": "teleporter", "action_id": "t"}]}],
        "unsupported type",
        "/blocks/0/elements/0/type",
    ),
    ([{"type": "image", "image_url": "https://example.com/a.png"}], "alt_text", "/blocks/0"),
    (
        [{"type": "section", "text": text("mrkdwn", "s"), "fields": [text("mrkdwn", "f")] * 11}],
        "no more than 10 items",
        "/blocks/0/fields",
    ),
    (
        [
            {
                "type": "data_visualization",
                "title": "t",
                "chart": {
                    "type": "bar",
                    "axis_config": {"categories": ["a", "b"]},
                    "series": [{"name": "s", "data": [{"label": "a", "value": 1}]}],
                },
            }
        ],
        "series must cover every category",
        "/blocks/0/chart/series/0/data",
    ),
    (
        [{"type": "actions", "elements": [{**button("a"), "disabled": True}]}],
        "invalid additional property: disabled",
        "/blocks/0/elements/0",
    ),
    (
        [{"type": "section", "text": text("mrkdwn", "s"), "colour": "red"}],
        "invalid additional property",
        "/blocks/0",
    ),
]


@pytest.mark.parametrize(("blocks", "message", "pointer"), INVALID)
async def test_invalid_blocks(
    emu: SlackEmulator, client: AsyncWebClient, blocks: list[Any], message: str, pointer: str
) -> None:
    with pytest.raises(SlackApiError) as rejected:
        await client.chat_postMessage(channel=emu.channel("general").id, text="fallback", blocks=blocks)
    response = rejected.value.response
    assert response["error"] == "invalid_blocks"
    assert any(message in e and f"[json-pointer:{pointer}]" in e for e in response["errors"]), response[
        "errors"
    ]
    assert response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert emu.messages("general") == []


def test_what_slack_sdk_models_build_is_valid() -> None:
    blocks = [
        HeaderBlock(text="p95 latency — api — last 1h (UTC)"),
        SectionBlock(text=MarkdownTextObject(text="*Summary* " + "x" * 2900)),
        MarkdownBlock(text="| a | b |\n|---|---|\n| 1 | 2 |"),
        ContextBlock(elements=[MarkdownTextObject(text="us · project · 1h")]),
        DividerBlock(),
        ActionsBlock(
            elements=[
                ButtonElement(text="Show query", action_id="show_query", value="k" * 2000),
                ButtonElement(text="Open in Logfire", action_id="open", url="https://logfire.example"),
            ]
        ),
    ]
    assert validate_blocks([b.to_dict() for b in blocks]) == []
    chart = {
        "type": "data_visualization",
        "title": "Errors by service",
        "chart": {
            "type": "bar",
            "axis_config": {"categories": ["api", "db"]},
            "series": [
                {"name": "errors", "data": [{"label": "api", "value": 3}, {"label": "db", "value": 1}]}
            ],
        },
    }
    assert validate_blocks([chart]) == []
    two_answers = [{"type": "actions", "elements": [button("show_query")]}] * 2
    assert validate_blocks(two_answers) == [], "action_ids need only be unique within their block"


async def test_text_limits(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general = emu.channel("general").id
    with pytest.raises(SlackApiError) as too_long:
        await client.chat_postMessage(channel=general, text="x" * 4001)
    assert too_long.value.response["error"] == "msg_too_long"
    many = [{"type": "markdown", "text": "m" * 11000}, {"type": "markdown", "text": "m" * 3000}]
    with pytest.raises(SlackApiError) as blocks_too_long:
        await client.chat_postMessage(channel=general, text="fallback", blocks=many)
    assert blocks_too_long.value.response["error"] == "msg_blocks_too_long"
    with pytest.raises(SlackApiError) as empty:
        await client.api_call("chat.postMessage", json={"channel": general})
    assert empty.value.response["error"] == "no_text"


async def test_channel_access(emu: SlackEmulator, client: AsyncWebClient) -> None:
    cases = [
        ({"channel": emu.channel("random").id}, "not_in_channel"),
        ({"channel": "C0NOSUCH"}, "channel_not_found"),
        ({"channel": ""}, "channel_not_found"),
        ({"channel": emu.channel("general").id, "thread_ts": "1.000001"}, "thread_not_found"),
    ]
    private = emu.workspace.add_channel("hr", private=True, members=("alice",), bot_member=False)
    cases.append(({"channel": private.id}, "channel_not_found"))
    for args, error in cases:
        with pytest.raises(SlackApiError) as failed:
            await client.chat_postMessage(text="hi", **args)
        assert failed.value.response["error"] == error, args
    emu.workspace.scopes.append("chat:write.public")
    assert (await client.chat_postMessage(channel=emu.channel("random").id, text="hi"))["ok"]


async def test_missing_arguments(emu: SlackEmulator, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as missing:
        await client.api_call("chat.postEphemeral", json={"channel": emu.channel("general").id, "text": "x"})
    assert missing.value.response["error"] == "invalid_arguments"
    assert missing.value.response["response_metadata"]["messages"] == ["[ERROR] missing required field: user"]


async def test_form_and_query_arguments(emu: SlackEmulator, client: AsyncWebClient) -> None:
    """Blocks as a JSON string in a form body and in the query string, as other clients send them."""
    general = emu.channel("general").id
    blocks = json.dumps([{"type": "section", "text": text("mrkdwn", "*form*")}])
    form = await client.api_call("chat.postMessage", data={"channel": general, "text": "f", "blocks": blocks})
    query = await client.api_call(
        "chat.postMessage", params={"channel": general, "text": "q", "blocks": blocks}
    )
    assert [m.blocks[0]["text"]["text"] for m in emu.messages(general)] == ["*form*", "*form*"]
    assert form["ts"] != query["ts"]
    with pytest.raises(SlackApiError) as malformed:
        await client.api_call("chat.postMessage", data={"channel": general, "text": "f", "blocks": "[{"})
    assert malformed.value.response["error"] == "invalid_blocks_format"
