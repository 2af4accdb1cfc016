import pytest

from bot.charts import ChartSpec, fallback_spec, prepare_chart
from bot.tables import ResultTable
from tests.charts import results


def chosen(table: ResultTable) -> ChartSpec:
    spec = fallback_spec(table, "What was asked", "last 1h")
    assert spec is not None
    prepare_chart(spec, table)  # what the fallback picks always validates
    return spec


def test_time_column_and_a_count_make_a_line() -> None:
    spec = chosen(results.requests_over_time())
    assert (spec.kind, spec.x, spec.y, spec.series) == ("line", "bucket", ["n"], None)


def test_long_format_time_series_is_split_by_its_text_column() -> None:
    spec = chosen(results.spans_per_service())
    assert (spec.kind, spec.x, spec.y, spec.series) == ("line", "bucket", ["n"], "service_name")


def test_category_and_measure_make_sorted_bars() -> None:
    spec = chosen(results.slowest_routes())
    assert (spec.kind, spec.x, spec.y) == ("hbar", "http_route", ["p95"])
    spec = chosen(results.status_codes())
    assert (spec.kind, spec.x, spec.y) == ("bar", "http_response_status_code", ["n"])


def test_an_exception_summary_charts_counts_per_type_not_the_last_seen_time() -> None:
    spec = chosen(results.top_exceptions())
    assert (spec.kind, spec.x, spec.y) == ("hbar", "exception_type", ["n"])


def test_a_single_number_is_a_big_number() -> None:
    spec = chosen(results.total_cost())
    assert (spec.kind, spec.y, spec.result_id) == ("big_number", ["total_cost_usd"], "total")
    assert spec.title == "What was asked" and spec.time_range == "last 1h"


@pytest.mark.parametrize(
    "table",
    [
        ResultTable(["service_name"], [["api"], ["worker"]]),
        ResultTable(["input_tokens", "output_tokens"], [[1200, 300]]),
        ResultTable(["n"], []),
        ResultTable(["service_name", "span_name", "n"], [["api", "GET /", 1], ["api", "GET /", 2]]),
    ],
    ids=["text only", "one row two numbers", "empty", "no unique category"],
)
def test_unchartable_results_give_none(table: ResultTable) -> None:
    assert fallback_spec(table, "t", "last 1h") is None


def test_long_titles_are_shortened_to_fit_the_spec() -> None:
    spec = fallback_spec(results.status_codes(), "why " * 60, "between " * 20)
    assert spec is not None
    assert spec.title.endswith("…") and spec.time_range.endswith("…")
