"""What goes into an analysis and what comes out of it (shared by both engines and the Slack handlers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.charts import RenderedChart

Mode = Literal["claude", "offline"]
Progress = Callable[[str], Awaitable[None]]  # told what the analysis is doing now, in a few words


async def no_progress(_: str) -> None:
    return None


@dataclass(frozen=True)
class Question:
    team_id: str
    channel_id: str
    user_id: str
    text: str
    thread_ts: str | None = None  # the Slack thread the answer goes to (follow-ups share it)


@dataclass(frozen=True)
class Turn:
    """An earlier question and answer of the same thread, for follow-ups."""

    question: str
    answer: str


@dataclass(frozen=True)
class Workspace:
    """What the engines know about the workspace's Logfire when they start."""

    team_id: str
    region: str
    project: str | None
    now: datetime  # UTC


@dataclass(frozen=True)
class QueryRun:
    """One tool call the analysis made (what "Show query" shows)."""

    tool: str
    arguments: dict[str, Any]
    seconds: float
    result_id: str | None = None
    rows: int | None = None
    error: str | None = None

    @property
    def sql(self) -> str | None:
        query = self.arguments.get("query")
        return query if isinstance(query, str) else None

    @property
    def window(self) -> tuple[str | None, str | None]:
        return self.arguments.get("start_timestamp"), self.arguments.get("end_timestamp")


@dataclass(frozen=True)
class KeyNumber:
    label: str
    value: str  # formatted for people ("1,204", "$0.0031", "2.31 s")


@dataclass(frozen=True)
class Usage:
    model: str | None = None
    model_calls: int = 0
    input_tokens: int = 0  # everything sent, cached or not
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class AnalysisResult:
    analysis_id: str
    mode: Mode
    summary: str  # Slack mrkdwn; the answer first
    key_numbers: list[KeyNumber] = field(default_factory=list)
    charts: list[RenderedChart] = field(default_factory=list)
    queries: list[QueryRun] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # Logfire UI links a tool gave
    window_label: str | None = None  # e.g. "last 1 hour (UTC)"
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    partial: bool = False  # a cap was hit; `notes` says which
    notes: list[str] = field(default_factory=list)
