import io
from dataclasses import replace

import pytest
from PIL import Image

from bot.charts import ChartRenderer, ChartSpec, ChartSpecError, prepare_chart, render_chart
from bot.charts.draw import build_figure, draw_png
from bot.tables import ResultTable
from tests.charts import results

WIDTH, HEIGHT = 1600, 900
WHITE = (255, 255, 255)

CASES: dict[str, tuple[ChartSpec, ResultTable]] = {
    "hbar": (
        ChartSpec(
            kind="hbar",
            title="p95 latency by route, service api",
            time_range="last 1h",
            result_id="routes",
            x="http_route",
            y=["p95"],
            unit="s",
        ),
        results.slowest_routes(),
    ),
    "bar": (
        ChartSpec(
            kind="bar",
            title="Requests by status code",
            time_range="today",
            result_id="status",
            x="http_response_status_code",
            y=["n"],
        ),
        results.status_codes(),
    ),
    "line": (
        ChartSpec(
            kind="line",
            title="Requests per 5 minutes, service api",
            time_range="2025-03-01 09:00–11:00",
            result_id="volume",
            x="bucket",
            y=["n"],
            unit="count",
        ),
        results.requests_over_time(),
    ),
    "area": (
        ChartSpec(
            kind="area",
            title="Spans per hour by service",
            time_range="2025-03-01 09:00–21:00",
            result_id="services",
            x="bucket",
            y=["n"],
            series="service_name",
        ),
        results.spans_per_service(),
    ),
    "pie": (
        ChartSpec(
            kind="pie",
            title="LLM cost by model",
            time_range="yesterday",
            result_id="llm",
            x="model",
            y=["cost_usd"],
            unit="usd",
        ),
        results.llm_cost_by_model(),
    ),
    "table": (
        ChartSpec(
            kind="table",
            title="Slowest routes",
            time_range="last 1h",
            result_id="routes",
            x="http_route",
            y=["p95", "n"],
        ),
        results.slowest_routes(),
    ),
    "big_number": (
        ChartSpec(
            kind="big_number",
            title="LLM cost",
            time_range="last 7 days",
            result_id="total",
            y=["total_cost_usd"],
            unit="usd",
        ),
        results.total_cost(),
    ),
    "error_rate": (
        ChartSpec(
            kind="line",
            title="Error rate, service api",
            time_range="last 3h",
            result_id="error_rate",
            x="bucket",
            y=["error_rate"],
            unit="ratio",
        ),
        results.error_rate_over_time(),
    ),
}


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


@pytest.mark.parametrize("name", CASES)
async def test_each_kind_renders_an_opaque_png_of_the_expected_size(
    renderer: ChartRenderer, name: str
) -> None:
    chart_spec, table = CASES[name]
    chart = await render_chart(chart_spec, table)
    image = decode(chart.png)
    assert image.size == (chart.width, chart.height) == (WIDTH, HEIGHT)
    assert image.mode == "RGB"  # no alpha channel at all: nothing can turn transparent in Slack's dark theme
    assert {
        image.getpixel(corner)
        for corner in [(0, 0), (WIDTH - 1, 0), (0, HEIGHT - 1), (WIDTH - 1, HEIGHT - 1)]
    } == {WHITE}
    assert len(image.getcolors(maxcolors=WIDTH * HEIGHT)) > 50  # something was drawn, antialiased
    assert chart.title == f"{chart_spec.title} — {chart_spec.time_range} (UTC)"
    assert chart.filename.endswith("-utc.png") and "/" not in chart.filename
    assert chart_spec.title in chart.alt_text and "(UTC)" in chart.alt_text
    assert len(chart.alt_text) <= 1000


def test_title_is_drawn_in_the_header() -> None:
    """Locate the title by its text extent, then check those pixels: dark with the title, white without."""
    chart_spec, table = CASES["hbar"]
    data = prepare_chart(chart_spec, table)
    figure = build_figure(data)
    figure.canvas.draw()
    title = next(text for text in figure.texts if text.get_gid() == "title")
    subtitle = next(text for text in figure.texts if text.get_gid() == "subtitle")
    assert title.get_text() == chart_spec.title
    assert subtitle.get_text().startswith("last 1h (UTC)")
    box = title.get_window_extent()
    area = (int(box.x0), int(HEIGHT - box.y1), int(box.x1) + 1, int(HEIGHT - box.y0) + 1)
    assert area[3] < 0.2 * HEIGHT

    def dark_pixels(png: bytes) -> int:
        return sum(decode(png).crop(area).convert("L").histogram()[:100])

    with_title = dark_pixels(draw_png(data)[0])
    without_title = dark_pixels(draw_png(replace(data, title=" "))[0])
    assert with_title > 0.08 * (area[2] - area[0]) * (area[3] - area[1])
    assert without_title == 0


def test_axis_labels_carry_units() -> None:
    chart_spec, table = CASES["hbar"]
    fast = ResultTable(table.columns, [row for row in table.rows if row[1] < 1], result_id="routes")
    figure = build_figure(prepare_chart(chart_spec, fast))
    figure.canvas.draw()
    axes = figure.axes[0]
    assert axes.get_xlabel() == "p95 (ms)"  # seconds below 1 are shown as ms
    slowest = max(row[1] for row in fast.rows)
    assert f"{slowest * 1000:,.0f} ms" in [t.get_text() for t in axes.texts]
    figure = build_figure(prepare_chart(chart_spec, table))
    assert figure.axes[0].get_xlabel() == "p95 (s)"  # with a slowest route above 1 s

    chart_spec, table = CASES["bar"]
    figure = build_figure(prepare_chart(chart_spec, table))
    figure.canvas.draw()
    bar_labels = [t.get_text() for t in figure.axes[0].texts]
    assert f"{max(row[1] for row in table.rows):,}" in bar_labels  # thousands separators

    chart_spec, table = CASES["pie"]
    figure = build_figure(prepare_chart(chart_spec, table))
    figure.canvas.draw()
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert all("$" in text for text in legend)
    assert any("$0.000636" in text.replace("\\$", "$") for text in legend)  # tiny costs keep their digits


async def test_output_is_deterministic(renderer: ChartRenderer) -> None:
    chart_spec, table = CASES["area"]
    first, second = await render_chart(chart_spec, table), await render_chart(chart_spec, table)
    assert first.png == second.png
    assert draw_png(prepare_chart(chart_spec, table))[0] == first.png


async def test_alt_text_states_the_key_numbers(renderer: ChartRenderer) -> None:
    chart_spec, table = CASES["bar"]
    chart = await render_chart(chart_spec, table)
    top = max(table.rows, key=lambda row: row[1])
    assert f"{top[0]} {top[1]:,}" in chart.alt_text

    chart_spec, table = CASES["big_number"]
    chart = await render_chart(chart_spec, table)
    assert f"${table.rows[0][0]:,.2f}" in chart.alt_text

    chart_spec, table = CASES["line"]
    chart = await render_chart(chart_spec, table)
    peak = max(table.rows, key=lambda row: row[1])
    assert f"max {peak[1]:,} at {peak[0][:10]} {peak[0][11:16]} UTC" in chart.alt_text


async def test_invalid_spec_comes_back_as_chart_spec_error(renderer: ChartRenderer) -> None:
    chart_spec, table = CASES["hbar"]
    with pytest.raises(ChartSpecError, match="Its columns: http_route, p95, n"):
        await render_chart(chart_spec.model_copy(update={"x": "route"}), table)


def test_dollar_signs_in_data_do_not_start_mathtext() -> None:
    table = ResultTable(["http_route", "n"], [["GET /price/$id/$currency", 3], ["GET /$$", 1]])
    chart_spec = ChartSpec(
        kind="bar", title="Costs in $ and $", time_range="last 1h", result_id="r", x="http_route", y=["n"]
    )
    png, width, height = draw_png(prepare_chart(chart_spec, table))
    assert decode(png).size == (width, height)
