"""The generated dataset: Logfire's `records` shape, realistic content, determinism, and the on-disk cache."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sandbox.logfire.dataset import Dataset, generate
from sandbox.logfire.exporter import RECORDS_SCHEMA

SCHEMAS = json.loads((Path(__file__).parent / "data" / "logfire-v1-schemas.json").read_text())
ARROW_TO_SQL = {
    pa.string(): "TEXT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE PRECISION",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.timestamp("us", tz="UTC"): "TIMESTAMP WITH TIME ZONE",
    pa.list_(pa.string()): "TEXT[]",
    pa.list_(pa.int32()): "INTEGER[]",
    pa.list_(pa.float64()): "DOUBLE PRECISION[]",
}
JUST_AFTER_MIDNIGHT = datetime(2026, 12, 3, 0, 5, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(seed=7, records=20_000, now=JUST_AFTER_MIDNIGHT)


def _rows(table: pa.Table, **equals: object) -> pa.Table:
    for column, value in equals.items():
        table = table.filter(pc.equal(table[column], value))
    return table


def _attributes(table: pa.Table) -> list[dict[str, object]]:
    return [json.loads(text) for text in table["attributes"].to_pylist()]


@pytest.mark.parametrize("table_name", ["records", "metrics"])
def test_tables_have_exactly_logfires_columns_and_types(dataset: Dataset, table_name: str) -> None:
    expected = next(t["schema"] for t in SCHEMAS["tables"] if t["name"] == table_name)
    schema = getattr(dataset, table_name).schema
    assert {f.name: (ARROW_TO_SQL[f.type], f.nullable) for f in schema} == {
        name: (column["data_type"], column["nullable"]) for name, column in expected.items()
    }
    assert getattr(dataset, table_name).num_rows > 0
    assert pc.all(pc.is_valid(getattr(dataset, table_name)["project_id"])).as_py()


def test_not_null_columns_hold_no_nulls(dataset: Dataset) -> None:
    for field in RECORDS_SCHEMA:
        if not field.nullable:
            assert dataset.records[field.name].null_count == 0, field.name


def test_size_ids_and_span_tree(dataset: Dataset) -> None:
    records = dataset.records
    assert 18_000 <= records.num_rows <= 22_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in records["trace_id"].to_pylist())
    assert all(re.fullmatch(r"[0-9a-f]{16}", s) for s in records["span_id"].to_pylist())
    spans = {
        (t, s) for t, s in zip(records["trace_id"].to_pylist(), records["span_id"].to_pylist(), strict=True)
    }
    assert len(spans) == records.num_rows
    children = records.filter(pc.is_valid(records["parent_span_id"]))
    pairs = zip(children["trace_id"].to_pylist(), children["parent_span_id"].to_pylist(), strict=True)
    assert all(pair in spans for pair in pairs), "every parent_span_id names a row of the same trace"


def test_timestamps_cover_72_hours_before_now(dataset: Dataset) -> None:
    records = dataset.records
    now = dataset.generated_at
    assert pc.min(records["start_timestamp"]).as_py() >= now - timedelta(hours=72)
    assert pc.max(records["end_timestamp"]).as_py() <= now
    assert pc.min(records["start_timestamp"]).as_py() < now - timedelta(hours=71)
    days = pc.cast(records["start_timestamp"], pa.date32())
    assert pc.all(pc.equal(days, records["day"])).as_py()
    spans = _rows(records, kind="span")
    durations = pc.subtract(spans["end_timestamp"], spans["start_timestamp"])
    expected = pc.divide(pc.cast(pc.cast(durations, pa.int64()), pa.float64()), 1e6).to_numpy()
    assert np.allclose(spans["duration"].to_numpy(), expected, atol=1e-6)
    assert _rows(records, kind="log")["duration"].null_count == _rows(records, kind="log").num_rows


def test_just_after_midnight_the_last_hour_is_still_busy(dataset: Dataset) -> None:
    truth = dataset.ground_truth
    today = truth.record_count(*truth.window("today"))
    assert 0 < today < 1_000, "today (UTC) has only five minutes of data"
    assert truth.record_count(*truth.window("yesterday")) > 5_000
    start, end = truth.window("last_hour")
    assert sum(truth.status_code_counts(start, end, "api-gateway").values()) >= 60
    assert truth.llm_usage(start, end).total.requests >= 5
    assert sum(c.count for c in truth.exception_counts(start, end, "agent")) >= 2


def test_resource_attributes_fill_the_service_columns(dataset: Dataset) -> None:
    records = dataset.records
    assert set(pc.unique(records["service_name"]).to_pylist()) == {"api-gateway", "agent", "billing-worker"}
    row = records.slice(0, 1).to_pylist()[0]
    resource = json.loads(row["otel_resource_attributes"])
    assert row["service_name"] == resource["service.name"]
    assert row["service_version"] == resource["service.version"]
    assert row["service_instance_id"] == resource["service.instance.id"]
    assert row["deployment_environment"] == resource["deployment.environment.name"]
    assert row["process_pid"] == resource["process.pid"]
    assert row["telemetry_sdk_name"] == "opentelemetry"


def test_http_server_spans(dataset: Dataset) -> None:
    server = _rows(dataset.records, kind="span", service_name="api-gateway")
    server = server.filter(pc.is_null(server["parent_span_id"]))
    codes = Counter(server["http_response_status_code"].to_pylist())
    total = sum(codes.values())
    share = {klass: sum(n for c, n in codes.items() if c // 100 == klass) / total for klass in (2, 4, 5)}
    assert share[2] > 0.85 and 0.02 < share[4] < 0.12 and 0.005 < share[5] < 0.05
    first = server.slice(0, 1).to_pylist()[0]
    attributes = json.loads(first["attributes"])
    assert (
        first["http_route"] == attributes["http.route"] and first["http_method"] == attributes["http.method"]
    )
    assert first["span_name"] == f"{first['http_method']} {first['http_route']}"
    assert first["message"] == f"{first['http_method']} {first['url_path']}"
    assert "logfire.msg" not in attributes
    p95 = dataset.ground_truth.route_percentiles(*dataset.ground_truth.window("all"))
    slowest = sorted(p95, key=p95.__getitem__, reverse=True)
    assert slowest[:2] == ["/reports/export", "/checkout"]
    assert p95["/reports/export"] > 10 * p95["/users/{id}"]


def test_server_errors_are_error_level_with_exceptions_and_4xx_are_warnings(dataset: Dataset) -> None:
    server = _rows(dataset.records, kind="span", service_name="api-gateway")
    server = server.filter(pc.is_null(server["parent_span_id"]))
    for row in server.to_pylist():
        if row["http_response_status_code"] >= 500:
            assert row["level"] == 17 and row["otel_status_code"] == "ERROR" and row["is_exception"]
        elif row["is_exception"]:
            assert row["level"] == 13 and row["exception_type"] == "fastapi.exceptions.HTTPException"


def test_llm_spans_carry_gen_ai_attributes_and_small_costs(dataset: Dataset) -> None:
    llm = [
        a for a in _attributes(_rows(dataset.records, service_name="agent")) if "gen_ai.request.model" in a
    ]
    priced = [a for a in llm if "operation.cost" in a]
    assert len(priced) > 500
    assert {a["gen_ai.system"] for a in llm} == {"openai", "anthropic"}
    assert len({a["gen_ai.request.model"] for a in llm}) == 4
    assert all(isinstance(a["gen_ai.usage.input_tokens"], int) for a in priced)
    costs = [a["operation.cost"] for a in priced]
    assert min(costs) < 0.001 and all(isinstance(c, float) and c > 0 for c in costs)
    assert any(0 < c < 0.0005 for c in costs), "costs as small as an LLM call's, e.g. 0.0004"
    assert {"running tool"} <= set(_rows(dataset.records, service_name="agent")["span_name"].to_pylist())


def test_agent_exceptions_have_six_types_with_clearly_different_frequencies(dataset: Dataset) -> None:
    events = _rows(dataset.records, kind="span_event", service_name="agent")
    events = events.filter(events["is_exception"])
    counts = Counter(events["exception_type"].to_pylist())
    assert len(counts) >= 6
    ranked = counts.most_common()
    assert [name for name, _ in ranked[:3]] == [
        "openai.RateLimitError",
        "httpx.ReadTimeout",
        "pydantic_core._pydantic_core.ValidationError",
    ]
    assert ranked[0][1] > 1.3 * ranked[1][1] > 1.3**2 * ranked[2][1]
    for row in events.to_pylist():
        assert row["span_name"] == "exception" and row["level"] == 17
        assert re.search(r'File "/app/[\w/]+\.py", line \d+', row["exception_stacktrace"])
        assert json.loads(row["attributes"])["exception.type"] == row["exception_type"]


def test_a_span_with_an_exception_event_carries_its_first_exception(dataset: Dataset) -> None:
    records = dataset.records
    events = records.filter(pc.and_(pc.equal(records["kind"], "span_event"), records["is_exception"]))
    by_span = {(r["trace_id"], r["span_id"]): r for r in _rows(records, kind="span").to_pylist()}
    for event in events.slice(0, 50).to_pylist():
        span = by_span[(event["trace_id"], event["parent_span_id"])]
        assert span["is_exception"] and span["exception_type"] == event["exception_type"]
        assert json.loads(span["otel_events"])[0]["name"] == "exception"


def test_billing_jobs_fail_and_retry(dataset: Dataset) -> None:
    jobs = _rows(dataset.records, kind="span", service_name="billing-worker", span_name="job {job_name}")
    attempts = Counter(a["job.attempt"] for a in _attributes(jobs))
    assert attempts[1] > attempts[2] > 0
    assert pc.sum(pc.equal(jobs["otel_status_code"], "ERROR")).as_py() > 10
    assert jobs["tags"].to_pylist()[0] == ["billing", "job"]


def test_logs_at_several_levels(dataset: Dataset) -> None:
    logs = _rows(dataset.records, kind="log")
    assert {5, 9, 10, 13, 17} <= set(logs["level"].to_pylist())
    row = logs.filter(pc.equal(logs["level"], 13)).slice(0, 1).to_pylist()[0]
    assert "{" in row["span_name"] and "{" not in row["message"], (
        "span_name is the template, message rendered"
    )
    failed = logs.filter(pc.fill_null(logs["is_exception"], False))
    assert failed.num_rows > 0 and pc.all(pc.equal(failed["level"], 17)).as_py()


def test_pending_spans_exist_in_the_full_table(dataset: Dataset) -> None:
    pending = _rows(dataset.records, kind="pending_span")
    assert pending.num_rows > 0
    assert pc.all(pc.equal(pending["start_timestamp"], pending["end_timestamp"])).as_py()


def test_metrics_table_is_small_and_consistent(dataset: Dataset) -> None:
    metrics = dataset.metrics
    assert 0 < metrics.num_rows < dataset.records.num_rows / 5
    histograms = _rows(metrics, metric_name="http.server.request.duration")
    counts = pc.sum(histograms["histogram_count"]).as_py()
    server = _rows(dataset.records, kind="span", service_name="api-gateway")
    assert counts == server.filter(pc.is_null(server["parent_span_id"])).num_rows


def test_same_seed_same_rows_relative_to_now() -> None:
    first = generate(seed=3, records=2_000, now=datetime(2026, 1, 1, 12, tzinfo=UTC), use_cache=False)
    later = generate(seed=3, records=2_000, now=datetime(2026, 3, 9, 0, 1, tzinfo=UTC), use_cache=False)
    other = generate(seed=4, records=2_000, now=datetime(2026, 1, 1, 12, tzinfo=UTC), use_cache=False)
    assert _relative(first) == _relative(later)
    assert _relative(first) != _relative(other)


def test_the_cache_gives_the_rows_a_cold_start_gives(tmp_path: Path) -> None:
    now = datetime(2026, 5, 1, 8, tzinfo=UTC)
    generate(seed=5, records=2_000, now=now - timedelta(days=3, minutes=7), cache_dir=tmp_path)
    assert list(tmp_path.glob("*/records.parquet"))
    warm = generate(seed=5, records=2_000, now=now, cache_dir=tmp_path, project_id="p-1")
    cold = generate(seed=5, records=2_000, now=now, use_cache=False, project_id="p-1")
    assert warm.records.equals(cold.records)
    assert warm.metrics.equals(cold.metrics)


def _relative(dataset: Dataset) -> list[tuple[object, ...]]:
    now = dataset.generated_at
    rows = []
    for row in dataset.records.to_pylist():
        events = json.loads(row["otel_events"]) if row["otel_events"] else []
        rows.append(
            (
                row["start_timestamp"] - now,
                row["end_timestamp"] - now,
                row["trace_id"],
                row["span_id"],
                row["message"],
                row["attributes"],
                tuple(e["timestamp"] - int(now.timestamp() * 1e6) for e in events),
            )
        )
    return rows


def test_ground_truth_summary_is_json(dataset: Dataset) -> None:
    summary = dataset.ground_truth.summary()
    assert json.loads(json.dumps(summary)) == summary
    assert set(summary["windows"]) == {"last_hour", "today", "yesterday", "all"}
    everything = summary["windows"]["all"]
    assert everything["records"] == pc.sum(pc.not_equal(dataset.records["kind"], "pending_span")).as_py()
    assert everything["top_exceptions"]["agent"][0]["count"] > 0
