"""The interface both analysis engines implement: Claude's tool loop and the offline planner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.analysis.toolbox import Toolbox
from bot.analysis.types import KeyNumber, Mode, Question, Turn, Usage, Workspace


@dataclass(frozen=True)
class EngineAnswer:
    summary: str  # Slack mrkdwn, the answer first
    key_numbers: list[KeyNumber] = field(default_factory=list)
    window_label: str | None = None
    usage: Usage = field(default_factory=Usage)
    partial: bool = False
    notes: list[str] = field(default_factory=list)


class Engine(Protocol):
    mode: Mode

    async def answer(
        self, question: Question, history: list[Turn], workspace: Workspace, tools: Toolbox
    ) -> EngineAnswer:
        """Answer from Logfire's tools only; charts go through `tools.chart`, queries through `tools.call`."""
        ...
