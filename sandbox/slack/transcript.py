"""A thread as readable text: who posted what, with files and buttons (for test output and the demo)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sandbox.slack.model import Message
from sandbox.slack.state import SlackState


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """The visible text of section, markdown, header and context blocks, one line each."""
    lines = []
    for block in blocks:
        kind = block.get("type")
        if kind == "markdown":
            lines.append(block.get("text", ""))
        elif kind in ("section", "header") and isinstance(block.get("text"), dict):
            lines.append(block["text"].get("text", ""))
        elif kind == "context":
            lines.append(" · ".join(e.get("text", "") for e in block.get("elements", []) if "text" in e))
        if kind == "section":
            lines += [f.get("text", "") for f in block.get("fields", [])]
    return "\n".join(line for line in lines if line)


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    elements = [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]
    elements += [b["accessory"] for b in blocks if isinstance(b.get("accessory"), dict)]
    return [
        e["text"]["text"] for e in elements if e.get("type") == "button" and isinstance(e.get("text"), dict)
    ]


def render(state: SlackState, messages: list[Message]) -> str:
    """What people see: names for user ids, the blocks of app messages (their `text` is only the fallback)."""
    lines = []
    for message in messages:
        indent = "    " if message.is_reply else ""
        name = _name(state, message.user) + (" (app)" if _is_bot(state, message) else "")
        visibility = ""
        if message.ephemeral_to:
            visibility = f" (only visible to {_name(state, message.ephemeral_to)})"
        shown = blocks_text(message.blocks) if message.blocks and message.source != "user" else ""
        body = _readable(state, shown or message.text).replace("\n", f"\n{indent}  ")
        lines.append(f"{indent}[{_clock(message.ts)}] {name}{visibility}: {body}")
        lines += [f"{indent}  [file {f.name} {f.title!r}, {len(f.data or b'')} bytes]" for f in message.files]
        if labels := buttons(message.blocks):
            lines.append(f"{indent}  [buttons: {' | '.join(labels)}]")
    return "\n".join(lines)


ANGLE = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def _readable(state: SlackState, text: str) -> str:
    """Mentions as @Real Name, dates and channels by their label, links as "label (url)"; escapes undone."""

    def shown(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + _name(state, target[1:])
        if target.startswith(("#", "!")):
            return label or target
        return f"{label} ({target})" if label else target

    return ANGLE.sub(shown, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _clock(ts: str) -> str:
    return datetime.fromtimestamp(float(ts), UTC).strftime("%H:%M:%S")


def _name(state: SlackState, user_id: str) -> str:
    user = state.find_user(user_id)
    return user.real_name if user else user_id


def _is_bot(state: SlackState, message: Message) -> bool:
    user = state.find_user(message.user)
    return bool(message.bot_id) or bool(user and user.is_bot)
