import json

import jsonschema
import pytest

from bot.charts import ChartSpec, ChartSpecError, chart_input_schema, chart_tool, parse_spec

VALID = {
    "kind": "hbar",
    "title": "p95 latency by route, service api",
    "time_range": "last 1h",
    "result_id": "r1",
    "x": "http_route",
    "y": ["p95"],
    "unit": "s",
}


def test_schema_is_small_and_has_no_pydantic_noise() -> None:
    schema = chart_input_schema()
    text = json.dumps(schema)
    assert len(text) < 2500
    assert "anyOf" not in text and '"default": null' not in text and "$defs" not in text
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"kind", "title", "time_range", "result_id", "y"}
    assert set(schema["properties"]) == set(ChartSpec.model_fields)
    assert schema["properties"]["kind"]["enum"] == [
        "bar",
        "hbar",
        "line",
        "area",
        "pie",
        "table",
        "big_number",
    ]
    assert schema["properties"]["x"]["type"] == "string"
    assert all(prop.get("description") for prop in schema["properties"].values())
    assert all("title" not in prop for prop in schema["properties"].values())


def test_schema_accepts_what_the_model_accepts() -> None:
    schema = chart_input_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(VALID, schema)
    assert parse_spec(VALID).y == ["p95"]
    for bad in (
        {**VALID, "kind": "donut"},
        {**VALID, "colour": "red"},
        {k: v for k, v in VALID.items() if k != "y"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
        with pytest.raises(ChartSpecError):
            parse_spec(bad)


def test_tool_definition() -> None:
    tool = chart_tool()
    assert tool["name"] == "render_chart"
    assert "never type data values" in tool["description"]
    assert tool["input_schema"] == chart_input_schema()


def test_a_single_y_string_is_accepted_as_a_list() -> None:
    assert parse_spec({**VALID, "y": "n"}).y == ["n"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"kind": "scatter"}, "kind: input should be 'bar', 'hbar'"),
        ({"colour": "red"}, "unknown field 'colour' (allowed: kind, title, time_range"),
        ({"y": []}, "y: List should have at least 1 item"),
        ({"y": ["n", "n"]}, "y lists the same column twice"),
        ({"unit": "seconds"}, "unit: input should be 's', 'ms'"),
        ({"title": ""}, "title: String should have at least 1 character"),
    ],
)
def test_invalid_input_names_the_field_and_the_fix(change: dict, expected: str) -> None:
    with pytest.raises(ChartSpecError) as caught:
        parse_spec({**VALID, **change})
    assert expected in str(caught.value)


def test_missing_fields_are_all_listed() -> None:
    with pytest.raises(ChartSpecError) as caught:
        parse_spec({"kind": "bar"})
    for name in ("title", "time_range", "result_id", "y"):
        assert f"{name}: Field required" in str(caught.value)
