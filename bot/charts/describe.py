"""Alt text for a chart: what it shows and its key numbers, in plain words (at most 1000 characters)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.charts.data import ChartData, Series
from bot.charts.units import format_value

MAX_ALT = 1000
LISTED = 5

_KIND_NAMES = {
    "bar": "Bar chart",
    "hbar": "Horizontal bar chart",
    "line": "Line chart",
    "area": "Area chart",
    "pie": "Pie chart",
    "table": "Table",
    "big_number": "Number",
}


def alt_text(data: ChartData) -> str:
    """One paragraph: kind, title and window, then the numbers a reader would look for."""
    head = f"{_KIND_NAMES[data.kind]}: {data.full_title}."
    if data.kind == "big_number":
        body = _big_number(data)
    elif data.kind == "table":
        body = _table(data)
    elif data.x_kind in ("time", "number"):
        body = _over_x(data)
    else:
        body = _categories(data)
    notes = f" ({'; '.join(data.notes)})" if data.notes else ""
    text = f"{head} {body}{notes}"
    return text if len(text) <= MAX_ALT else text[: MAX_ALT - 1] + "…"


def _value(value: float | None, data: ChartData) -> str:
    return "no value" if value is None else format_value(value, data.unit, digits=4)


def _big_number(data: ChartData) -> str:
    return f"{data.y_label} = {_value(data.series[0].values[0], data)}."


def _table(data: ChartData) -> str:
    assert data.table is not None
    rows = data.table.rows[:3]
    listed = "; ".join(
        ", ".join(f"{h} {c}" for h, c in zip(data.table.header, row, strict=True)) for row in rows
    )
    return f"Columns {', '.join(data.table.header)}; {len(data.table.rows)} rows, first: {listed}."


def _categories(data: ChartData) -> str:
    shown = list(zip(data.x, range(len(data.x)), strict=True))[:LISTED]
    if len(data.series) == 1:
        values = data.series[0].values
        listed = ", ".join(f"{name} {_value(values[i], data)}" for name, i in shown)
        more = f", and {len(data.x) - LISTED} more" if len(data.x) > LISTED else ""
        return f"{data.y_label} by {data.x_label}, largest first: {listed}{more}."
    parts = [
        f"{name}: " + ", ".join(f"{s.name} {_value(s.values[i], data)}" for s in data.series)
        for name, i in shown
    ]
    return f"{data.y_label} by {data.x_label}, largest first: {'; '.join(parts)}."


def _over_x(data: ChartData) -> str:
    first, last = _x(data, data.x[0]), _x(data, data.x[-1])
    span = f"from {first} to {last}, {len(data.x)} points"
    parts = [_series_summary(data, series) for series in data.series[:LISTED]]
    more = f"; and {len(data.series) - LISTED} more series" if len(data.series) > LISTED else ""
    return f"{data.y_label} {span}. {'; '.join(parts)}{more}."


def _series_summary(data: ChartData, series: Series) -> str:
    points = [(x, v) for x, v in zip(data.x, series.values, strict=True) if v is not None]
    if not points:
        return f"{series.name}: no values"
    low = min(points, key=lambda p: p[1])
    high = max(points, key=lambda p: p[1])
    name = f"{series.name}: " if len(data.series) > 1 else ""
    return (
        f"{name}min {_value(low[1], data)} at {_x(data, low[0])}, max {_value(high[1], data)} at "
        f"{_x(data, high[0])}, last {_value(points[-1][1], data)}"
    )


def _x(data: ChartData, x: str | float) -> str:
    if data.x_kind == "time":
        return datetime.fromtimestamp(float(x), UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(x)
