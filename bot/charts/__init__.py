"""Charts: the `render_chart` spec, its validation against a result table, and PNG rendering off the loop."""

from bot.charts.fallback import fallback_spec
from bot.charts.render import (
    ChartRenderer,
    ChartRenderError,
    RenderedChart,
    close_renderer,
    default_renderer,
    render_chart,
)
from bot.charts.spec import TOOL_NAME, ChartSpec, ChartSpecError, chart_input_schema, chart_tool, parse_spec
from bot.charts.validate import prepare_chart

__all__ = [
    "TOOL_NAME",
    "ChartRenderError",
    "ChartRenderer",
    "ChartSpec",
    "ChartSpecError",
    "RenderedChart",
    "chart_input_schema",
    "chart_tool",
    "close_renderer",
    "default_renderer",
    "fallback_spec",
    "parse_spec",
    "prepare_chart",
    "render_chart",
]
