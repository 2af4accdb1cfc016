"""Drawing ChartData into a PNG with matplotlib's object-oriented API (Figure + FigureCanvasAgg).

This runs in the render worker process; it touches no pyplot or rcParams state. The look is made for
Slack: 1600×900 px (2× a preview) at 200 dpi, an opaque white card with dark text that reads in the light
and dark themes, large fonts, the Okabe–Ito colour-blind-safe palette, "Other" in grey.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import pairwise

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.table import Table
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from bot.charts.data import ChartData, Series
from bot.charts.units import display_scale, format_value, tick_text, with_unit

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 200

BACKGROUND = "#FFFFFF"
TEXT = "#1D1C1D"
MUTED = "#5E5D60"
GRID = "#E3E3E3"
OTHER = "#9E9E9E"
HEADER = "#F2F2F2"
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#3B3B3B"]

TITLE_PT, SUBTITLE_PT, LABEL_PT, TICK_PT, VALUE_PT = 16, 12, 12, 11, 10.5
TITLE_CHARS, SUBTITLE_CHARS = 64, 90
TICK_LABEL_CHARS, LEGEND_CHARS = 40, 24
MAX_VALUE_LABELS = 24
TABLE_LINES = 16
CHAR_EM = 0.62  # average glyph width of DejaVu Sans, in ems (bold headers included)


def draw_png(data: ChartData) -> tuple[bytes, int, int]:
    """The PNG (RGB, no alpha channel) and its pixel size."""
    figure = build_figure(data)
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return out.getvalue(), width, height


def build_figure(data: ChartData) -> Figure:
    """The figure for `data`, attached to an Agg canvas; its header texts have the gid `title`/`subtitle`."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor=BACKGROUND, layout="constrained")
    FigureCanvasAgg(figure)
    header = _header(figure, data)
    figure.get_layout_engine().set(rect=(0.0, 0.0, 1.0, 1.0 - header), w_pad=0.12, h_pad=0.1)
    axes = figure.add_subplot()
    axes.set_facecolor(BACKGROUND)
    _DRAWERS[data.kind](axes, data)
    return figure


def _header(figure: Figure, data: ChartData) -> float:
    """Draw the title and the subtitle (time window, notes) at the top left; return their height (0–1)."""
    title = textwrap.wrap(data.title, TITLE_CHARS, max_lines=2, placeholder=" …") or [""]
    subtitle = textwrap.wrap(" · ".join([data.time_label, *data.notes]), SUBTITLE_CHARS, max_lines=2)
    line = 1.0 / (HEIGHT_IN * 72)  # one point, in figure height
    top = 1.0 - 14 * line
    left = {"x": 0.025, "ha": "left", "va": "top", "linespacing": 1.15}
    title_text = _plain("\n".join(title))
    figure.text(y=top, s=title_text, fontsize=TITLE_PT, fontweight="bold", color=TEXT, gid="title", **left)
    below = top - len(title) * TITLE_PT * 1.3 * line - 4 * line
    subtitle_text = _plain("\n".join(subtitle))
    figure.text(y=below, s=subtitle_text, fontsize=SUBTITLE_PT, color=MUTED, gid="subtitle", **left)
    return 1.0 - (below - len(subtitle) * SUBTITLE_PT * 1.3 * line - 6 * line)


def _plain(text: str) -> str:
    """Text shown as is: a `$` in data or in a USD amount must not start mathtext."""
    return text.replace("$", r"\$")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _magnitude(series: list[Series], stacked: bool = False) -> float:
    if stacked:
        totals = [
            sum(abs(v) for v in column if v is not None)
            for column in zip(*(s.values for s in series), strict=True)
        ]
        return max(totals, default=0.0)
    return max((abs(v) for s in series for v in s.values if v is not None), default=0.0)


def _style(axes: Axes, value_axis: str) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(MUTED)
    axes.tick_params(colors=TEXT, labelsize=TICK_PT, length=4)
    axes.grid(axis=value_axis, color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)


def _value_axis_label(data: ChartData, label: str) -> str:
    return _plain(f"{data.y_label} ({label})" if label else data.y_label)


def _scaled(values: list[int | float | None], factor: float) -> list[float]:
    return [math.nan if v is None else v * factor for v in values]


def _colour(index: int, is_other: bool) -> str:
    return OTHER if is_other else PALETTE[index % len(PALETTE)]


def _legend(axes: Axes, data: ChartData) -> None:
    if len(data.series) > 1:
        legend = axes.legend(
            loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=TICK_PT, labelcolor=TEXT
        )
        for text in legend.get_texts():
            text.set_text(_plain(_short(text.get_text(), LEGEND_CHARS)))


def _bars(axes: Axes, data: ChartData) -> None:
    if data.x_kind == "time":
        _time_bars(axes, data)
        return
    horizontal = data.kind == "hbar"
    _style(axes, "x" if horizontal else "y")
    factor, label = display_scale(data.unit, _magnitude(data.series))
    count, groups = len(data.x), len(data.series)
    width = 0.8 / groups
    show_values = count * groups <= MAX_VALUE_LABELS
    for index, series in enumerate(data.series):
        offsets = [i + (index - (groups - 1) / 2) * width for i in range(count)]
        other_series = data.other_series and index == groups - 1
        colours = [
            _colour(index, other_series or (groups == 1 and data.other_category and i == count - 1))
            for i in range(count)
        ]
        heights = _scaled(series.values, factor)
        draw = axes.barh if horizontal else axes.bar
        bars = draw(offsets, heights, width * 0.9, color=colours, label=series.name)
        if show_values:
            texts = [
                "" if v is None else _plain(with_unit(v * factor, label, data.unit)) for v in series.values
            ]
            axes.bar_label(bars, labels=texts, padding=3, fontsize=VALUE_PT, color=TEXT)
    names = [_plain(_short(str(c), TICK_LABEL_CHARS)) for c in data.x]
    value_axis = axes.xaxis if horizontal else axes.yaxis
    value_axis.set_major_formatter(FuncFormatter(lambda v, _: _plain(tick_text(v, data.unit))))
    value_axis.set_major_locator(MaxNLocator(nbins=6))
    if horizontal:
        axes.set_yticks(range(count), labels=names)
        axes.invert_yaxis()
        axes.set_xlabel(_value_axis_label(data, label), fontsize=LABEL_PT, color=TEXT)
        axes.margins(x=0.16 if show_values else 0.05)
        axes.tick_params(axis="y", length=0)
    else:
        axes.set_xticks(range(count), labels=names)
        axes.set_ylabel(_value_axis_label(data, label), fontsize=LABEL_PT, color=TEXT)
        axes.set_xlabel(_plain(data.x_label), fontsize=LABEL_PT, color=TEXT)
        axes.margins(y=0.12 if show_values else 0.05)
        axes.tick_params(axis="x", length=0)
    _legend(axes, data)


def _time_axis(axes: Axes, data: ChartData) -> list[float]:
    if data.x_kind != "time":
        axes.set_xlabel(_plain(data.x_label), fontsize=LABEL_PT, color=TEXT)
        return [float(x) for x in data.x]
    locator = mdates.AutoDateLocator(tz=UTC, minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    axes.set_xlabel(data.x_label, fontsize=LABEL_PT, color=TEXT)
    return [mdates.date2num(datetime.fromtimestamp(float(x), UTC)) for x in data.x]


def _y_axis(axes: Axes, data: ChartData, label: str) -> None:
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _plain(tick_text(v, data.unit))))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6))
    axes.set_ylabel(_value_axis_label(data, label), fontsize=LABEL_PT, color=TEXT)
    if all(v >= 0 for s in data.series for v in s.values if v is not None):
        axes.set_ylim(bottom=0)
    axes.margins(x=0.02)


def _time_bars(axes: Axes, data: ChartData) -> None:
    _style(axes, "y")
    xs = _time_axis(axes, data)
    factor, label = display_scale(data.unit, _magnitude(data.series, data.stacked))
    step = min((b - a for a, b in pairwise(xs)), default=1.0 / 24)
    groups = 1 if data.stacked else len(data.series)
    width = step * 0.8 / groups
    bottoms = [0.0] * len(xs)
    for index, series in enumerate(data.series):
        heights = [0.0 if math.isnan(h) else h for h in _scaled(series.values, factor)]
        offsets = xs if data.stacked else [x + (index - (groups - 1) / 2) * width for x in xs]
        colour = _colour(index, data.other_series and index == len(data.series) - 1)
        bars = axes.bar(offsets, heights, width * 0.92, bottom=bottoms, color=colour, label=series.name)
        if len(data.series) == 1 and len(xs) <= MAX_VALUE_LABELS:
            texts = [
                "" if v is None else _plain(with_unit(v * factor, label, data.unit)) for v in series.values
            ]
            axes.bar_label(bars, labels=texts, padding=3, fontsize=VALUE_PT, color=TEXT)
        if data.stacked:
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    _y_axis(axes, data, label)
    axes.margins(y=0.12)
    _legend(axes, data)


def _line(axes: Axes, data: ChartData) -> None:
    _style(axes, "y")
    xs = _time_axis(axes, data)
    stacked = data.kind == "area" and data.stacked
    factor, label = display_scale(data.unit, _magnitude(data.series, stacked))
    colours = [_colour(i, data.other_series and i == len(data.series) - 1) for i in range(len(data.series))]
    if stacked:
        layers = [[0.0 if math.isnan(v) else v for v in _scaled(s.values, factor)] for s in data.series]
        axes.stackplot(xs, *layers, colors=colours, labels=[s.name for s in data.series], alpha=0.9)
    else:
        markers = "o" if len(xs) <= 40 else None
        for series, colour in zip(data.series, colours, strict=True):
            ys = _scaled(series.values, factor)
            axes.plot(xs, ys, color=colour, linewidth=2.2, marker=markers, markersize=4, label=series.name)
            if data.kind == "area":
                axes.fill_between(xs, ys, color=colour, alpha=0.25, linewidth=0)
    _y_axis(axes, data, label)
    _legend(axes, data)


def _pie(axes: Axes, data: ChartData) -> None:
    values = [v for v in data.series[0].values if v is not None]
    total = sum(values)
    colours = [_colour(i, data.other_category and i == len(values) - 1) for i in range(len(values))]
    wedges, _ = axes.pie(
        values,
        colors=colours,
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.42, "edgecolor": BACKGROUND, "linewidth": 2},
    )
    labels = [
        _plain(f"{_short(str(name), LEGEND_CHARS)}  {_share(v, total)} · {format_value(v, data.unit)}")
        for name, v in zip(data.x, values, strict=True)
    ]
    axes.legend(
        wedges,
        labels,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        frameon=False,
        fontsize=TICK_PT,
        labelcolor=TEXT,
    )
    axes.text(
        0,
        0,
        _plain(f"total\n{format_value(total, data.unit)}"),
        ha="center",
        va="center",
        fontsize=LABEL_PT,
        color=TEXT,
        fontweight="bold",
    )
    axes.set_aspect("equal")


def _share(value: float, total: float) -> str:
    share = 100 * value / total
    return "<0.1%" if 0 < share < 0.1 else f"{share:.1f}%"


def _table(axes: Axes, data: ChartData) -> None:
    assert data.table is not None
    axes.axis("off")
    table = data.table
    size = LABEL_PT if len(table.rows) <= 10 else TICK_PT
    fit = int(WIDTH_IN * DPI * 0.92 / (CHAR_EM * size * DPI / 72)) - 2 * len(table.header)
    caps = _column_caps([[name, *(row[i] for row in table.rows)] for i, name in enumerate(table.header)], fit)
    widths = [cap / sum(caps) for cap in caps]
    lines = len(table.rows) + 1
    filled = min(1.0, lines / TABLE_LINES)
    height = filled / lines
    drawn = Table(axes, bbox=(0.0, 1.0 - filled, 1.0, filled))
    drawn.edges = "horizontal"
    for col, name in enumerate(table.header):
        loc = "right" if table.numeric[col] else "left"
        texts = [name, *(row[col] for row in table.rows)]
        for row, text in enumerate(texts):
            cell = drawn.add_cell(
                row,
                col,
                widths[col],
                height,
                text=_plain(_short(text, caps[col])),
                loc=loc,
                facecolor=HEADER if row == 0 else BACKGROUND,
                edgecolor=GRID,
            )
            cell.PAD = min(0.1, 0.012 / widths[col])
            cell.get_text().set_color(TEXT)
            cell.get_text().set_fontweight("bold" if row == 0 else "normal")
    axes.add_table(drawn)
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(size)


def _column_caps(columns: list[list[str]], fit: int) -> list[int]:
    """Characters per column so that they add up to at most `fit`: the widest columns give way first."""
    lengths = [max(6, *(len(text) for text in column)) for column in columns]
    if sum(lengths) <= fit:
        return lengths
    cap = max(lengths)
    while cap > 6 and sum(min(length, cap) for length in lengths) > fit:
        cap -= 1
    return [min(length, cap) for length in lengths]


def _big_number(axes: Axes, data: ChartData) -> None:
    axes.axis("off")
    value = data.series[0].values[0]
    assert value is not None
    text = format_value(value, data.unit, digits=4)
    size = min(72.0, 780.0 / max(len(text), 1))
    axes.text(
        0.5,
        0.56,
        _plain(text),
        ha="center",
        va="center",
        fontsize=size,
        fontweight="bold",
        color=PALETTE[0],
        transform=axes.transAxes,
        gid="value",
    )
    axes.text(
        0.5,
        0.16,
        _plain(data.y_label),
        ha="center",
        va="center",
        fontsize=SUBTITLE_PT + 2,
        color=MUTED,
        transform=axes.transAxes,
    )


_DRAWERS: dict[str, Callable[[Axes, ChartData], None]] = {
    "bar": _bars,
    "hbar": _bars,
    "line": _line,
    "area": _line,
    "pie": _pie,
    "table": _table,
    "big_number": _big_number,
}
