"""The external upload flow (files.getUploadURLExternal → upload POST → files.completeUploadExternal),
files.info with its delayed `shares`, and pins.add/remove/list."""

from __future__ import annotations

import time
from typing import Any

from sandbox.slack import ids
from sandbox.slack.api import Call, Method
from sandbox.slack.model import Channel, Message, Share, SlackFile
from sandbox.slack.posting import bot_message, check_content, thread_root, writable
from sandbox.slack.shapes import file_json, message_json
from sandbox.slack.state import Pin, SlackState
from sandbox.slack.wire import ApiError, invalid_arguments, json_arg, required


def get_upload_url(call: Call) -> dict[str, Any]:
    required(call.params, "filename", "length")
    try:
        length = int(call.params["length"])
    except (TypeError, ValueError) as e:
        raise invalid_arguments("length must be an integer [json-pointer:/length]") from e
    file = SlackFile(
        ids.new_id("F"),
        call.ws.id,
        call.bot.id,
        str(call.params["filename"]),
        length,
        alt_txt=call.arg("alt_txt"),
    )
    call.state.files[file.id] = file
    key = ids.new_secret()
    call.state.uploads[key] = file.id
    return {"upload_url": f"{call.base_url}upload/v1/{key}", "file_id": file.id}


def receive_upload(state: SlackState, key: str, data: bytes) -> bool:
    """The bytes POSTed to an upload URL; False for an unknown or already used URL."""
    file_id = state.uploads.pop(key, None)
    if file_id is None:
        return False
    file = state.files[file_id]
    file.data, file.length = data, len(data)
    return True


def _pending_files(call: Call) -> list[tuple[SlackFile, dict[str, Any]]]:
    entries = json_arg(call.params, "files")
    if not isinstance(entries, list) or not entries:
        raise invalid_arguments("missing required field: files")
    pending = []
    for entry in entries:
        file = call.state.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
        if file is None or file.team_id != call.ws.id or file.data is None:
            raise ApiError("file_not_found")
        if file.completed:
            raise ApiError("file_already_completed")
        pending.append((file, entry))
    return pending


def _target_channel(call: Call) -> Channel | None:
    ref = call.arg("channel_id") or call.arg("channels")
    if isinstance(ref, list):
        ref = ref[0] if ref else None
    if isinstance(ref, str) and "," in ref:
        ref = ref.split(",")[0]
    return writable(call.ws, call.state.conversation(call.ws, ref)) if ref else None


def complete_upload(call: Call) -> dict[str, Any]:
    state = call.state
    pending = _pending_files(call)
    channel = _target_channel(call)
    root = thread_root(state, channel, call.arg("thread_ts")) if channel else None
    comment = call.arg("initial_comment") or ""
    blocks = None if comment else json_arg(call.params, "blocks")
    if channel is not None:
        check_content(state, channel, comment, blocks, required=False)
    files = []
    for file, entry in pending:
        file.title = entry.get("title") or file.name
        file.completed = True
        files.append(file)
    if channel is not None:
        message = bot_message(
            state, call.ws, channel, text=comment, blocks=blocks, thread_ts=root, source="upload"
        )
        message.files = files
        state.post(message)
        for file in files:
            file.shares.append(Share(channel.id, message.ts, root, ready_at=time.time() + state.share_delay))
    state.touch()
    return {"files": [file_json(state, f, call.base_url) for f in files]}


def info(call: Call) -> dict[str, Any]:
    file = call.state.files.get(str(call.arg("file") or ""))
    if file is None or file.team_id != call.ws.id or not file.completed:
        raise ApiError("file_not_found")
    return {
        "file": file_json(call.state, file, call.base_url),
        "comments": [],
        "response_metadata": {"next_cursor": ""},
    }


def _pinnable(call: Call) -> tuple[Channel, Message]:
    channel = call.state.conversation(call.ws, call.arg("channel"))
    if call.bot.id not in channel.members:
        raise ApiError("not_in_channel")
    if not call.arg("timestamp"):
        raise ApiError("no_item_specified")
    message = call.state.message(channel.id, str(call.arg("timestamp")))
    if message is None:
        raise ApiError("message_not_found")
    return channel, message


def pins_add(call: Call) -> dict[str, Any]:
    channel, message = _pinnable(call)
    pins = call.state.pins[channel.id]
    if message.ts in pins:
        raise ApiError("already_pinned")
    pins[message.ts] = Pin(channel.id, message.ts, int(time.time()), call.bot.id)
    call.state.touch()
    return {}


def pins_remove(call: Call) -> dict[str, Any]:
    channel, message = _pinnable(call)
    if call.state.pins[channel.id].pop(message.ts, None) is None:
        raise ApiError("no_pin")
    call.state.touch()
    return {}


def pins_list(call: Call) -> dict[str, Any]:
    channel = call.state.conversation(call.ws, call.arg("channel"))
    pins = sorted(call.state.pins[channel.id].values(), key=lambda p: (p.created, p.ts), reverse=True)
    items = []
    for pin in pins:
        message = call.state.message(channel.id, pin.ts)
        if message is not None:
            items.append(
                {
                    "type": "message",
                    "created": pin.created,
                    "created_by": pin.created_by,
                    "channel": channel.id,
                    "message": message_json(call.state, message, call.base_url),
                }
            )
    return {"items": items}


METHODS = {
    "files.getUploadURLExternal": Method(get_upload_url, ("files:write",)),
    "files.completeUploadExternal": Method(complete_upload, ("files:write",)),
    "files.info": Method(info, ("files:read",)),
    "pins.add": Method(pins_add, ("pins:write",)),
    "pins.remove": Method(pins_remove, ("pins:write",)),
    "pins.list": Method(pins_list, ("pins:read",)),
}
