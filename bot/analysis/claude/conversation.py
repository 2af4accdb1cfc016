"""The messages of one question: the thread's earlier turns, the question, then tool turns; with a cache
breakpoint on the newest block so each call reads the conversation so far from the prompt cache.
"""

from __future__ import annotations

import json
from typing import Any

from bot.analysis.claude.prompts import CACHED
from bot.analysis.types import Turn

Message = dict[str, Any]

NO_ANSWER = "(no answer was recorded)"


def opening(history: list[Turn], question: str) -> list[Message]:
    """Earlier questions and answers of the thread as user/assistant turns, then the new question."""
    messages: list[Message] = []
    for turn in history:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": turn.answer.strip() or NO_ANSWER})
    messages.append({"role": "user", "content": question})
    return messages


def with_cache_breakpoint(messages: list[Message]) -> list[Message]:
    """A copy whose last message ends with a cache breakpoint (the caller's messages stay unmarked)."""
    *earlier, last = messages
    blocks = _blocks(last["content"])
    blocks[-1] = {**blocks[-1], "cache_control": CACHED}
    return [*earlier, {**last, "content": blocks}]


def add_user_text(messages: list[Message], text: str) -> None:
    """Append a text block to the last (user) message, after any tool results it carries."""
    last = messages[-1]
    last["content"] = [*_blocks(last["content"]), {"type": "text", "text": text}]


def characters(*parts: Any) -> int:
    """The size of request parts as compact JSON (SDK objects included): the basis of token estimates."""
    return len(json.dumps(parts, separators=(",", ":"), ensure_ascii=False, default=_plain))


def _blocks(content: str | list[Any]) -> list[Any]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json", exclude_none=True)
