"""chat.postMessage/postEphemeral/update/delete, chat.*Stream and assistant.threads.setStatus."""

from __future__ import annotations

import time
from typing import Any

from sandbox.slack.api import Call, Method
from sandbox.slack.model import Message, StatusUpdate
from sandbox.slack.posting import bot_message, check_content, thread_root, with_ids, writable
from sandbox.slack.shapes import message_json
from sandbox.slack.wire import ApiError, flag, invalid_arguments, json_arg, required

MAX_STREAM_TEXT = 12000
MAX_LOADING_MESSAGES = 10


def post_message(call: Call) -> dict[str, Any]:
    state, ws = call.state, call.ws
    channel = writable(ws, state.conversation(ws, call.arg("channel")))
    text, blocks = call.arg("text", ""), json_arg(call.params, "blocks")
    check_content(state, channel, text, blocks)
    message = bot_message(
        state,
        ws,
        channel,
        text=text,
        blocks=blocks,
        thread_ts=thread_root(state, channel, call.arg("thread_ts")),
    )
    message.unfurl_links = flag(call.params.get("unfurl_links"))
    message.unfurl_media = flag(call.params.get("unfurl_media"))
    message.metadata = json_arg(call.params, "metadata")
    state.post(message)
    return {"channel": channel.id, "ts": message.ts, "message": message_json(state, message, call.base_url)}


def post_ephemeral(call: Call) -> dict[str, Any]:
    state, ws = call.state, call.ws
    channel = writable(ws, state.conversation(ws, call.arg("channel")))
    required(call.params, "user")
    user = str(call.arg("user"))
    if user not in ws.users:
        raise ApiError("user_not_found")
    if user not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks = call.arg("text", ""), json_arg(call.params, "blocks")
    check_content(state, channel, text, blocks)
    message = bot_message(
        state,
        ws,
        channel,
        text=text,
        blocks=blocks,
        ephemeral_to=user,
        thread_ts=thread_root(state, channel, call.arg("thread_ts")),
    )
    state.post(message)
    return {"message_ts": message.ts}


def _own_message(call: Call, *, denied: str) -> Message:
    channel = call.state.conversation(call.ws, call.arg("channel"))
    required(call.params, "ts")
    message = call.state.message(channel.id, str(call.arg("ts")))
    if message is None:
        raise ApiError("message_not_found")
    if message.user != call.bot.id:
        raise ApiError(denied)
    return message


def update(call: Call) -> dict[str, Any]:
    message = _own_message(call, denied="cant_update_message")
    channel = call.state.conversation(call.ws, message.channel)
    text, blocks = call.arg("text"), json_arg(call.params, "blocks")
    check_content(call.state, channel, text, blocks)
    if text is not None:
        message.text = text
    if blocks is not None:
        message.blocks = with_ids(blocks)
    message.edited_ts = call.state.clock.next()
    call.state.touch()
    return {
        "channel": message.channel,
        "ts": message.ts,
        "text": message.text,
        "message": message_json(call.state, message, call.base_url),
    }


def delete(call: Call) -> dict[str, Any]:
    message = _own_message(call, denied="cant_delete_message")
    call.state.delete(message)
    return {"channel": message.channel, "ts": message.ts}


def _stream_text(call: Call) -> str:
    parts = [call.arg("markdown_text") or ""]
    chunks = json_arg(call.params, "chunks") or []
    parts += [c.get("text", "") for c in chunks if isinstance(c, dict) and c.get("type") == "markdown_text"]
    if any(len(part) > MAX_STREAM_TEXT for part in parts):
        raise ApiError("msg_too_long")
    return "".join(parts)


def start_stream(call: Call) -> dict[str, Any]:
    state, ws = call.state, call.ws
    channel = writable(ws, state.conversation(ws, call.arg("channel")))
    required(call.params, "thread_ts")
    if not channel.is_im:
        required(call.params, "recipient_user_id", "recipient_team_id")
    message = bot_message(
        state,
        ws,
        channel,
        text=_stream_text(call),
        source="stream",
        thread_ts=thread_root(state, channel, call.arg("thread_ts")),
    )
    message.streaming = True
    state.post(message)
    return {"channel": channel.id, "ts": message.ts}


def _streaming_message(call: Call) -> Message:
    message = _own_message(call, denied="message_not_owned_by_app")
    if not message.streaming:
        raise ApiError("message_not_in_streaming_state")
    return message


def append_stream(call: Call) -> dict[str, Any]:
    message = _streaming_message(call)
    message.text += _stream_text(call)
    call.state.touch()
    return {"channel": message.channel, "ts": message.ts}


def stop_stream(call: Call) -> dict[str, Any]:
    message = _streaming_message(call)
    message.text += _stream_text(call)
    blocks = json_arg(call.params, "blocks")
    if blocks is not None:
        check_content(
            call.state, call.state.conversation(call.ws, message.channel), None, blocks, required=False
        )
        message.blocks = with_ids(blocks)
    message.metadata = json_arg(call.params, "metadata") or message.metadata
    message.streaming = False
    call.state.touch()
    return {
        "channel": message.channel,
        "ts": message.ts,
        "message": message_json(call.state, message, call.base_url),
    }


def set_status(call: Call) -> dict[str, Any]:
    state, ws = call.state, call.ws
    required(call.params, "channel_id", "thread_ts")
    channel = writable(ws, state.conversation(ws, call.arg("channel_id")))
    root = thread_root(state, channel, call.arg("thread_ts")) or ""
    loading = json_arg(call.params, "loading_messages") or []
    if not isinstance(loading, list) or len(loading) > MAX_LOADING_MESSAGES:
        raise invalid_arguments(
            f"no more than {MAX_LOADING_MESSAGES} items allowed [json-pointer:/loading_messages]"
        )
    state.statuses.append(
        StatusUpdate(channel.id, root, str(call.params.get("status") or ""), loading, time.time())
    )
    state.touch()
    return {}


METHODS = {
    "chat.postMessage": Method(post_message, ("chat:write",)),
    "chat.postEphemeral": Method(post_ephemeral, ("chat:write",)),
    "chat.update": Method(update, ("chat:write",)),
    "chat.delete": Method(delete, ("chat:write",)),
    "chat.startStream": Method(start_stream, ("chat:write",)),
    "chat.appendStream": Method(append_stream, ("chat:write",)),
    "chat.stopStream": Method(stop_stream, ("chat:write",)),
    "assistant.threads.setStatus": Method(set_status, ("chat:write", "assistant:write")),
}
