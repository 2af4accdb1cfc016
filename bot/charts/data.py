"""What the renderer draws: plain, picklable data that crosses to the render worker process.

Values are the numbers of the result table unchanged (ints stay ints; an "Other" sum is exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.charts.units import Unit

DrawKind = Literal["bar", "hbar", "line", "area", "pie", "table", "big_number"]
XKind = Literal["time", "number", "category", "none"]


@dataclass(frozen=True)
class Series:
    """One named sequence of values, aligned with `ChartData.x`; None is a missing value."""

    name: str
    values: list[int | float | None]


@dataclass(frozen=True)
class TableData:
    """The cells of a `table` chart, already formatted; numeric columns are right-aligned."""

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]


@dataclass(frozen=True)
class ChartData:
    """A validated chart: everything `draw.draw_png` needs and nothing else.

    `x` holds category labels (`category`), POSIX seconds in UTC (`time`) or numbers (`number`).
    `title` is the metric and scope, `time_label` the window ("last 1h (UTC)"), `notes` what was left
    out or summed. `other_category` / `other_series`: the last category / series is the sum of the rest.
    """

    kind: DrawKind
    title: str
    time_label: str
    x_kind: XKind
    x_label: str
    y_label: str
    unit: Unit | None
    x: list[str | float] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    other_category: bool = False
    other_series: bool = False
    stacked: bool = False
    table: TableData | None = None

    @property
    def full_title(self) -> str:
        return f"{self.title} — {self.time_label}"
