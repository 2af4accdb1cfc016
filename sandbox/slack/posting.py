"""What every way of posting shares: content checks, channel access, thread resolution, block ids."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.slack.blocks import MAX_BLOCKS_TEXT, blocks_text_length, validate_blocks
from sandbox.slack.model import Channel, Message, Workspace
from sandbox.slack.state import SlackState
from sandbox.slack.wire import ApiError

# Slack staff (seratch/ChatGPT-in-Slack#102): `text` over about 4,000 characters now gives msg_too_long;
# the documented 40,000-character truncation is obsolete.
MAX_TEXT_LENGTH = 4000


def check_content(
    state: SlackState, channel: Channel, text: Any, blocks: Any, *, required: bool = True
) -> None:
    """Raise the error Slack gives for this text and blocks: no_text, msg_too_long, invalid_blocks, ..."""
    if required and not text and not blocks:
        raise ApiError("no_text")
    if isinstance(text, str) and len(text) > MAX_TEXT_LENGTH:
        raise ApiError("msg_too_long")
    if blocks is None:
        return
    errors = validate_blocks(blocks, file_ok=lambda file_id: state.file_shared_in(file_id, channel.id))
    if errors:
        raise ApiError(
            "invalid_blocks", errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
        )
    if blocks_text_length(blocks) > MAX_BLOCKS_TEXT:
        raise ApiError("msg_blocks_too_long")


def writable(workspace: Workspace, channel: Channel) -> Channel:
    """The channel, if the bot may post there: a member, or chat:write.public for public channels."""
    bot = workspace.bot_user.id
    if bot in channel.members or channel.is_im:
        return channel
    if channel.is_private:
        raise ApiError("channel_not_found")
    if "chat:write.public" in workspace.scopes:
        return channel
    raise ApiError("not_in_channel")


def thread_root(state: SlackState, channel: Channel, thread_ts: Any) -> str | None:
    """The root ts to reply under: a reply's ts resolves to its parent, as on Slack."""
    if thread_ts in (None, ""):
        return None
    message = state.message(channel.id, str(thread_ts))
    if message is None:
        raise ApiError("thread_not_found")
    return message.thread_ts if message.is_reply else message.ts


def with_ids(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Slack fills in a `block_id` for every block and an `action_id` for every interactive element."""
    filled = []
    for block in blocks or []:
        block = {**block, "block_id": block.get("block_id") or secrets.token_urlsafe(4)}
        for key in ("elements", "accessory"):
            if key in block and block["type"] in ("actions", "section"):
                block[key] = _element_ids(block[key])
        filled.append(block)
    return filled


def _element_ids(node: Any) -> Any:
    if isinstance(node, list):
        return [_element_ids(item) for item in node]
    if isinstance(node, dict) and node.get("type") not in (None, "plain_text", "mrkdwn", "image"):
        return {**node, "action_id": node.get("action_id") or secrets.token_urlsafe(4)}
    return node


def bot_message(
    state: SlackState,
    workspace: Workspace,
    channel: Channel,
    *,
    text: str = "",
    blocks: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    source: str = "api",
    ephemeral_to: str | None = None,
) -> Message:
    """A message from the bot (not stored yet: the caller posts it)."""
    return Message(
        channel=channel.id,
        ts=state.clock.next(),
        user=workspace.bot_user.id,
        team=workspace.id,
        text=text or "",
        blocks=with_ids(blocks),
        thread_ts=thread_ts,
        bot_id=workspace.bot_id,
        app_id=state.app.app_id,
        source=source,
        ephemeral_to=ephemeral_to,
    )
