"""Responses to commands and interactions: response_url posts and slash-command ack bodies.

Both carry `text`/`blocks` with `response_type` (ephemeral by default, or in_channel), and for interactions
`replace_original`/`delete_original` acting on the message the user clicked.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.slack import ids
from sandbox.slack.posting import bot_message, check_content, thread_root, with_ids
from sandbox.slack.state import ResponseTarget, SlackState
from sandbox.slack.wire import ApiError, flag

MAX_USES = 5


def new_response_url(state: SlackState, base_url: str, kind: str, target: ResponseTarget) -> str:
    """A response_url like Slack's hooks.slack.com/{commands|actions}/T…/…/… served by the emulator."""
    path = f"{kind}/{target.team_id}/{ids.new_digits(13)}/{ids.new_secret(12)}"
    state.response_urls[path] = target
    return f"{base_url}{path}"


def post_to_response_url(state: SlackState, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    target = state.response_urls.get(path)
    if target is None:
        return 404, {"ok": False, "error": "invalid_url"}
    if target.expires_at < time.time():
        return 404, {"ok": False, "error": "expired_url"}
    if target.uses >= MAX_USES:
        return 404, {"ok": False, "error": "used_url"}
    target.uses += 1
    try:
        apply_response(state, target, payload, source="response_url")
    except ApiError as e:
        return 400, e.body()
    return 200, {"ok": True}


def apply_response(
    state: SlackState, target: ResponseTarget, payload: dict[str, Any], *, source: str
) -> None:
    """Show a response the way Slack does: replace or delete the original, or post a new message."""
    workspace = state.workspaces[target.team_id]
    channel = state.find_channel(target.channel)
    if channel is None:
        raise ApiError("channel_not_found")
    original = target.message
    if flag(payload.get("delete_original")):
        if original is not None:
            state.delete(original)
        return
    text, blocks = payload.get("text") or "", payload.get("blocks")
    check_content(state, channel, text, blocks)
    if flag(payload.get("replace_original")) and original is not None:
        original.text, original.blocks = text, with_ids(blocks)
        original.edited_ts = state.clock.next()
        state.touch()
        return
    in_channel = payload.get("response_type") == "in_channel"
    message = bot_message(
        state,
        workspace,
        channel,
        text=text,
        blocks=blocks,
        source=source,
        thread_ts=thread_root(state, channel, payload.get("thread_ts")),
        ephemeral_to=None if in_channel else target.user,
    )
    state.post(message)
