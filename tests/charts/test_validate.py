import math
from datetime import datetime

import pytest

from bot.charts import ChartSpec, ChartSpecError, prepare_chart
from bot.charts.validate import MAX_BARS, MAX_PIE_SLICES, MAX_SERIES
from bot.tables import ResultTable
from tests.charts import results


def spec(**fields: object) -> ChartSpec:
    return ChartSpec.model_validate({"title": "t", "time_range": "last 1h", "result_id": "r", **fields})


def refused(chart: ChartSpec, table: ResultTable) -> str:
    with pytest.raises(ChartSpecError) as caught:
        prepare_chart(chart, table)
    return str(caught.value)


# --- errors the model can act on ------------------------------------------------------------------------


def test_unknown_column_lists_the_columns() -> None:
    message = refused(spec(kind="bar", x="route", y=["p95"]), results.slowest_routes())
    assert "x='route' is not a column" in message
    assert "http_route, p95, n" in message


def test_text_y_is_not_numeric_and_numeric_columns_are_listed() -> None:
    message = refused(spec(kind="bar", x="p95", y=["http_route"]), results.slowest_routes())
    assert "y='http_route' is not numeric" in message
    assert "Numeric columns of result 'r': p95, n" in message


def test_empty_result_is_refused() -> None:
    message = refused(spec(kind="bar", x="a", y=["b"]), ResultTable(["a", "b"], []))
    assert "no rows" in message


def test_line_over_text_is_refused_with_alternatives() -> None:
    message = refused(spec(kind="line", x="exception_type", y=["n"]), results.top_exceptions())
    assert "line needs x over time or an ordered numeric column" in message
    assert "kind=bar or hbar" in message
    assert "last_seen" in message  # the time column it could use


def test_area_of_a_non_additive_measure_over_series_is_refused() -> None:
    table = results.spans_per_service()
    message = refused(spec(kind="area", x="bucket", y=["n"], series="service_name", additive=False), table)
    assert "kind=line" in message


def test_mixed_units_are_refused() -> None:
    message = refused(spec(kind="bar", x="http_route", y=["p95", "n"]), results.slowest_routes())
    assert "mix units (p95: s, n: count)" in message
    assert "kind=table" in message


def test_repeated_x_asks_for_a_series() -> None:
    message = refused(spec(kind="line", x="bucket", y=["n"]), results.spans_per_service())
    assert "in 4 rows" in message
    assert "series=<column>" in message and "service_name" in message


def test_repeated_x_and_series_pair_asks_for_aggregation() -> None:
    table = results.spans_per_service()
    doubled = ResultTable(table.columns, table.rows + table.rows[:1], result_id="services")
    message = refused(spec(kind="line", x="bucket", y=["n"], series="service_name"), doubled)
    assert "GROUP BY bucket, service_name" in message


def test_series_with_several_y_is_refused() -> None:
    message = refused(
        spec(kind="bar", x="model", y=["input_tokens", "output_tokens"], series="model"),
        results.llm_cost_by_model(),
    )
    assert "one y column with series" in message


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        (spec(kind="pie", x="http_route", y=["p95"]), "'p95' does not add up"),
        (spec(kind="pie", x="model", y=["input_tokens", "output_tokens"]), "one additive y column"),
    ],
)
def test_pie_needs_one_additive_y(chart: ChartSpec, expected: str) -> None:
    table = results.slowest_routes() if chart.x == "http_route" else results.llm_cost_by_model()
    assert expected in refused(chart, table)


def test_pie_with_negative_values_is_refused() -> None:
    table = ResultTable(["service_name", "delta"], [["api", 5], ["worker", -3]])
    message = refused(spec(kind="pie", x="service_name", y=["delta"], additive=True), table)
    assert "values >= 0" in message and "-3" in message


def test_big_number_needs_one_value() -> None:
    message = refused(spec(kind="big_number", y=["cost_usd"]), results.llm_cost_by_model())
    assert "exactly one value" in message and "4 rows" in message and "model" in message
    one_row = ResultTable(["input_tokens", "output_tokens"], [[1200, 300]])
    message = refused(spec(kind="big_number", y=["input_tokens", "output_tokens"]), one_row)
    assert "exactly one y column" in message


def test_line_needs_two_points() -> None:
    table = results.requests_over_time(buckets=1)
    assert "at least 2 points" in refused(spec(kind="line", x="bucket", y=["n"]), table)


def test_missing_x_is_refused() -> None:
    assert "needs x" in refused(spec(kind="bar", y=["n"]), results.status_codes())


def test_category_kind_over_time_is_refused() -> None:
    assert "holds timestamps" in refused(spec(kind="hbar", x="bucket", y=["n"]), results.requests_over_time())


# --- what is drawn ----------------------------------------------------------------------------------------


def test_bars_are_sorted_largest_first_and_numbers_stay_exact() -> None:
    table = results.status_codes()
    data = prepare_chart(spec(kind="bar", x="http_response_status_code", y=["n"]), table)
    expected = sorted(table.rows, key=lambda row: row[1], reverse=True)
    assert data.x == [str(row[0]) for row in expected]
    assert data.series[0].values == [row[1] for row in expected]
    assert all(isinstance(v, int) for v in data.series[0].values)
    assert data.unit == "count" and data.kind == "bar"


def test_long_labels_turn_bars_horizontal() -> None:
    data = prepare_chart(spec(kind="bar", x="exception_type", y=["n"]), results.top_exceptions())
    assert data.kind == "hbar"


def test_additive_measure_sums_the_rest_into_other() -> None:
    table = results.slowest_routes()
    assert len(table.rows) > MAX_BARS
    data = prepare_chart(spec(kind="hbar", x="http_route", y=["n"]), table)
    by_count = sorted(table.rows, key=lambda row: row[2], reverse=True)
    kept, rest = by_count[: MAX_BARS - 1], by_count[MAX_BARS - 1 :]
    assert data.x[:-1] == [row[0] for row in kept]
    assert data.x[-1] == f"Other ({len(rest)} more)"
    assert data.series[0].values[-1] == sum(row[2] for row in rest)
    assert sum(data.series[0].values) == sum(row[2] for row in table.rows)
    assert data.other_category
    assert f"Other = {len(rest)} more http_route summed" in data.notes


def test_non_additive_measure_keeps_the_top_and_says_so() -> None:
    table = results.slowest_routes()
    data = prepare_chart(spec(kind="hbar", x="http_route", y=["p95"]), table)
    top = sorted(table.rows, key=lambda row: row[1], reverse=True)[:MAX_BARS]
    assert data.x == [row[0] for row in top]
    assert data.series[0].values == [row[1] for row in top]
    assert not data.other_category
    assert f"top {MAX_BARS} of {len(table.rows)} http_route by p95" in data.notes
    assert data.unit == "s"


def test_explicit_additive_hint_wins_over_the_name() -> None:
    table = results.slowest_routes()
    data = prepare_chart(spec(kind="hbar", x="http_route", y=["p95"], additive=True), table)
    assert data.other_category
    data = prepare_chart(spec(kind="hbar", x="http_route", y=["n"], additive=False), table)
    assert not data.other_category and len(data.x) == MAX_BARS


def test_other_sum_of_floats_is_exact() -> None:
    rows = [[f"model-{i}", 0.1] for i in range(MAX_PIE_SLICES + 10)]
    table = ResultTable(["model", "cost_usd"], rows)
    data = prepare_chart(spec(kind="pie", x="model", y=["cost_usd"]), table)
    assert data.series[0].values[-1] == math.fsum([0.1] * 11)
    assert len(data.x) == MAX_PIE_SLICES


def test_time_series_is_sorted_by_time() -> None:
    table = results.requests_over_time()
    data = prepare_chart(spec(kind="line", x="bucket", y=["n"]), table)
    expected = sorted(table.rows, key=lambda row: row[0])
    assert data.x == [datetime.fromisoformat(row[0]).timestamp() for row in expected]
    assert data.series[0].values == [row[1] for row in expected]
    assert data.x_kind == "time" and data.x_label == "time (UTC)"


def test_long_format_rows_pivot_into_one_series_per_value() -> None:
    table = results.spans_per_service()
    data = prepare_chart(spec(kind="area", x="bucket", y=["n"], series="service_name"), table)
    assert [s.name for s in data.series] == results.SERVICES
    for series in data.series:
        expected = [row[2] for row in table.rows if row[1] == series.name]
        assert series.values == expected
    assert data.stacked


def test_too_many_additive_series_are_summed_into_other() -> None:
    services = [f"svc-{i:02d}" for i in range(MAX_SERIES + 3)]
    rows = [
        [f"2025-03-01T{h:02d}:00:00Z", s, (i + 1) * 10 + h] for h in range(4) for i, s in enumerate(services)
    ]
    table = ResultTable(["bucket", "service_name", "n"], rows)
    data = prepare_chart(spec(kind="line", x="bucket", y=["n"], series="service_name"), table)
    assert len(data.series) == MAX_SERIES and data.other_series
    biggest = services[::-1][: MAX_SERIES - 1]
    assert [s.name for s in data.series[:-1]] == biggest
    for hour in range(4):
        rest = [
            row[2] for row in rows if row[1] not in biggest and row[0].startswith(f"2025-03-01T{hour:02d}")
        ]
        assert data.series[-1].values[hour] == sum(rest)


def test_numeric_strings_and_naive_timestamps_are_read() -> None:
    table = ResultTable(["day", "cost"], [["2025-03-02 00:00:00", "0.0004"], ["2025-03-01", "1.25"]])
    data = prepare_chart(spec(kind="bar", x="day", y=["cost"]), table)
    assert data.x == [
        datetime.fromisoformat("2025-03-01T00:00:00+00:00").timestamp(),
        datetime.fromisoformat("2025-03-02T00:00:00+00:00").timestamp(),
    ]
    assert data.series[0].values == [1.25, 0.0004]
    assert data.unit == "usd"


def test_null_times_are_left_out_with_a_note() -> None:
    table = ResultTable(
        ["bucket", "n"], [["2025-03-01T10:00:00Z", 1], [None, 5], ["2025-03-01T11:00:00Z", 2]]
    )
    data = prepare_chart(spec(kind="line", x="bucket", y=["n"]), table)
    assert data.series[0].values == [1, 2]
    assert "1 rows without bucket left out" in data.notes


def test_table_keeps_row_order_and_formats_each_column_by_its_unit() -> None:
    table = results.llm_cost_by_model()
    data = prepare_chart(spec(kind="table", x="model", y=["cost_usd", "input_tokens"]), table)
    assert data.table is not None
    assert data.table.header == ["model", "cost_usd", "input_tokens"]
    assert [row[0] for row in data.table.rows] == table.column("model")
    assert data.table.numeric == [False, True, True]
    assert data.table.rows[0][2] == f"{table.rows[0][1]:,}"
    assert all(cell.startswith("$") for cell in (row[1] for row in data.table.rows))


def test_title_always_says_utc() -> None:
    data = prepare_chart(spec(kind="big_number", y=["total_cost_usd"]), results.total_cost())
    assert data.full_title == "t — last 1h (UTC)"
    data = prepare_chart(
        ChartSpec(
            kind="big_number", title="t", time_range="2025-03-01 UTC", result_id="r", y=["total_cost_usd"]
        ),
        results.total_cost(),
    )
    assert data.full_title == "t — 2025-03-01 UTC"


def test_explicit_unit_wins_for_a_name_that_suggests_another() -> None:
    table = ResultTable(["model", "total"], [["sonnet", 1.5], ["haiku", 0.25]])  # SUM(cost) AS total
    assert prepare_chart(spec(kind="bar", x="model", y=["total"], unit="usd"), table).unit == "usd"
    assert prepare_chart(spec(kind="bar", x="model", y=["total"]), table).unit == "count"


def test_mixed_units_are_refused_even_with_an_explicit_unit() -> None:
    message = refused(spec(kind="bar", x="http_route", y=["p95", "n"], unit="s"), results.slowest_routes())
    assert "mix units" in message


def test_a_column_without_a_unit_in_its_name_joins_the_others() -> None:
    table = ResultTable(["model", "input_tokens", "cached"], [["sonnet", 100, 40], ["haiku", 50, 0]])
    assert prepare_chart(spec(kind="bar", x="model", y=["input_tokens", "cached"]), table).unit == "tokens"
