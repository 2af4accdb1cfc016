"""The final answer: from the `answer` tool's input (structured key numbers) or, failing that, from the
model's text; tidied as Slack mrkdwn within Slack's limits (the Slack layer escapes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.analysis.claude.mrkdwn import SECTION_MAX, plain, slack_mrkdwn
from bot.analysis.claude.tools import KEY_NUMBERS_MAX
from bot.analysis.engine import EngineAnswer
from bot.analysis.types import KeyNumber, Usage

LABEL_MAX = 80
VALUE_MAX = 40
WINDOW_MAX = 80


@dataclass(frozen=True)
class Answer:
    summary: str
    key_numbers: list[KeyNumber] = field(default_factory=list)
    window_label: str | None = None

    @classmethod
    def from_tool(cls, arguments: dict[str, Any]) -> Answer:
        """From an `answer` input already checked against its schema."""
        numbers = [
            KeyNumber(plain(item["label"], LABEL_MAX), plain(item["value"], VALUE_MAX))
            for item in arguments["key_numbers"][:KEY_NUMBERS_MAX]
        ]
        window = plain(arguments.get("time_window") or "", WINDOW_MAX) or None
        return cls(arguments["summary"], numbers, window)

    def engine_answer(
        self, usage: Usage, link_host: str | None, *, partial: bool = False, notes: list[str] | None = None
    ) -> EngineAnswer:
        return EngineAnswer(
            summary=slack_mrkdwn(self.summary, link_host, SECTION_MAX),
            key_numbers=self.key_numbers,
            window_label=self.window_label,
            usage=usage,
            partial=partial,
            notes=list(notes or []),
        )
