"""An answer before it is written out: the answer line, details, key numbers, a chart to draw, notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.analysis.types import KeyNumber
from bot.charts import ChartSpec


@dataclass(frozen=True)
class Draft:
    answer: str  # mrkdwn, the answer itself in a sentence or two
    details: list[str] = field(default_factory=list)  # one bullet each
    key_numbers: list[KeyNumber] = field(default_factory=list)
    chart: ChartSpec | None = None
    notes: list[str] = field(default_factory=list)  # how it was counted, what was left out
