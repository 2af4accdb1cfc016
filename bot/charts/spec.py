"""The chart spec the model fills in through the `render_chart` tool, and the tool's input schema.

The spec names columns of an earlier tool result (`result_id`); it never carries data values.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.charts.units import Unit

TITLE_MAX = 100
TIME_RANGE_MAX = 60

ChartKind = Literal["bar", "hbar", "line", "area", "pie", "table", "big_number"]

TOOL_NAME = "render_chart"
TOOL_DESCRIPTION = (
    "Draw a chart from the rows of an earlier tool result and attach it to the answer as a PNG. "
    "Name columns of that result; never type data values. "
    "bar/hbar: one category column x and numeric y (sorted, at most 12 bars, the rest summed as 'Other'); "
    "line/area: x a time or numeric column; pie: parts of a whole, one additive y; "
    "table: x and y columns as a table image; big_number: a result with exactly one row and one y. "
    "If the spec does not fit the data, the error says what to change."
)


class ChartSpecError(ValueError):
    """The spec does not fit the data; the message tells the model what to change."""


class ChartSpec(BaseModel):
    """One chart to draw from one tool result."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ChartKind = Field(
        description="bar (vertical), hbar (horizontal, for long labels), line or area (over time or an "
        "ordered numeric x), pie (parts of a whole), table, big_number (one value)."
    )
    title: str = Field(
        min_length=1,
        max_length=TITLE_MAX,
        description="Metric and scope, e.g. 'p95 latency by route, service api'. Leave the time range "
        "out: it goes in time_range.",
    )
    time_range: str = Field(
        min_length=1,
        max_length=TIME_RANGE_MAX,
        description="The query's time window in words, e.g. 'last 1h', 'yesterday', "
        "'2025-03-01 09:00–10:00'. Shown after the title with '(UTC)'.",
    )
    result_id: str = Field(min_length=1, description="result_id of the earlier tool result to chart.")
    x: str | None = Field(
        default=None,
        description="Column for the categories or the time axis. Required except for big_number.",
    )
    y: list[str] = Field(
        min_length=1,
        max_length=6,
        description="Numeric column(s) to plot, sharing one unit. For table: the columns shown after x.",
    )
    series: str | None = Field(
        default=None,
        description="Column whose values split a single y into one line or bar group each "
        "(rows in long format, e.g. time, service_name, n).",
    )
    unit: Unit | None = Field(
        default=None,
        description="Unit of the y values as stored: s (Logfire durations are seconds), ms, count, tokens, "
        "usd, percent (0–100), ratio (0–1), bytes. Omit to infer from the column name.",
    )
    additive: bool | None = Field(
        default=None,
        description="Whether y values add up across categories (counts, sums, costs: true; averages, "
        "percentiles, rates, maxima: false). Decides between summing extra categories into 'Other' and "
        "showing the top 12. Omit to infer from the column name.",
    )

    @field_validator("y", mode="before")
    @classmethod
    def _one_field_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("y")
    @classmethod
    def _distinct_fields(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("y lists the same column twice")
        return value


def parse_spec(arguments: dict[str, Any]) -> ChartSpec:
    """The spec from the model's tool input, or a ChartSpecError naming each wrong field."""
    try:
        return ChartSpec.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors(include_url=False))
        raise ChartSpecError(f"Invalid render_chart input: {problems}.") from None


def chart_input_schema() -> dict[str, Any]:
    """The JSON schema of ChartSpec without pydantic's noise (titles, null unions, null defaults)."""
    schema = _clean(ChartSpec.model_json_schema())
    schema.pop("description", None)
    return schema


def chart_tool() -> dict[str, Any]:
    """The tool definition (name, description, input_schema) for the analysis engine."""
    return {"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": chart_input_schema()}


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "input"
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(ChartSpec.model_fields)
        return f"unknown field '{where}' (allowed: {allowed})"
    if error["type"] == "literal_error":
        return f"{where}: {error['msg'].lower()}"
    return f"{where}: {error['msg']}"


def _clean(node: Any) -> Any:
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    variants = node.get("anyOf")
    if variants and {"type": "null"} in variants and len(variants) == 2:
        merged = {**next(v for v in variants if v != {"type": "null"}), **node}
        del merged["anyOf"]
        node = merged
    return {
        key: _clean(value)
        for key, value in node.items()
        if not (key == "title" and isinstance(value, str)) and not (key == "default" and value is None)
    }
