"""A thread as readable text: who posted what, with files and buttons (for test output and the demo)."""

from __future__ import annotations

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
    lines = []
    for message in messages:
        indent = "    " if message.is_reply else ""
        author = state.find_user(message.user)
        name = (author.real_name + (" (app)" if author.is_bot else "")) if author else message.user
        visibility = f" (only visible to {message.ephemeral_to})" if message.ephemeral_to else ""
        body = (message.text or blocks_text(message.blocks)).replace("\n", f"\n{indent}  ")
        lines.append(f"{indent}[{message.ts}] {name}{visibility}: {body}")
        lines += [f"{indent}  [file {f.name} {f.title!r}, {len(f.data or b'')} bytes]" for f in message.files]
        if labels := buttons(message.blocks):
            lines.append(f"{indent}  [buttons: {' | '.join(labels)}]")
    return "\n".join(lines)
