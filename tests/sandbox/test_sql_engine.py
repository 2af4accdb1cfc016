"""The SQL engine: Logfire's dialect on DuckDB, answers checked against ground truth computed without SQL."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.compute as pc
import pytest

from sandbox.logfire.dataset import Dataset, generate
from sandbox.logfire.sql_engine import QueryError, SqlEngine

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "logfire.md"
SCHEMAS = json.loads((Path(__file__).parent / "data" / "logfire-v1-schemas.json").read_text())
NOW = datetime(2026, 12, 3, 14, 20, 11, tzinfo=UTC)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(seed=7, records=20_000, now=NOW)


@pytest.fixture(scope="module")
def other_project() -> Dataset:
    return generate(seed=8, records=2_000, now=NOW, project_id="other-project")


@pytest.fixture(scope="module")
def engine(dataset: Dataset, other_project: Dataset) -> SqlEngine:
    return SqlEngine([dataset, other_project])


def run(engine: SqlEngine, dataset: Dataset, sql: str, **kwargs: object) -> list[dict[str, object]]:
    return engine.run(sql, project_id=dataset.project_id, **kwargs).rows


def everything(dataset: Dataset) -> tuple[datetime, datetime]:
    return dataset.ground_truth.window("all")


def reference_examples() -> list[str]:
    """Every statement of every ```sql block of logfire.md."""
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is not on this machine")
    blocks = re.findall(r"```sql\n(.*?)```", REFERENCE.read_text(), flags=re.S)
    statements = [s.strip() for block in blocks for s in block.split(";\n")]
    return [
        s.rstrip(";") for s in statements if s and not all(line.startswith("--") for line in s.splitlines())
    ]


def test_every_sql_example_of_the_reference_runs(engine: SqlEngine, dataset: Dataset) -> None:
    examples = reference_examples()
    assert len(examples) >= 4
    for sql in examples:
        result = engine.run(sql, project_id=dataset.project_id)
        if "service_name = 'api'" not in sql:
            assert result.rows, sql
    top_errors = engine.run(
        next(s for s in examples if "service_name = 'api'" in s).replace("'api'", "'api-gateway'"),
        project_id=dataset.project_id,
    )
    assert top_errors.rows


def test_schemas_are_logfires(engine: SqlEngine) -> None:
    assert engine.schemas() == SCHEMAS


def test_status_codes_and_route_percentiles_against_numpy(engine: SqlEngine, dataset: Dataset) -> None:
    start, end = everything(dataset)
    truth = dataset.ground_truth
    rows = run(
        engine,
        dataset,
        "SELECT http_response_status_code AS code, count(*) AS n FROM records "
        "WHERE parent_span_id IS NULL AND http_response_status_code IS NOT NULL GROUP BY 1",
    )
    assert {r["code"]: r["n"] for r in rows} == truth.status_code_counts(start, end)
    durations = truth.route_durations(start, end)
    for sql in (
        "SELECT http_route, approx_percentile_cont(duration, 0.95) AS p FROM records "
        "WHERE kind = 'span' AND http_route IS NOT NULL GROUP BY http_route",
        "SELECT http_route, approx_percentile_cont(0.95) WITHIN GROUP (ORDER BY duration) AS p FROM records "
        "WHERE kind = 'span' AND http_route IS NOT NULL GROUP BY http_route",
        "SELECT http_route, approx_percentile_cont(0.05) WITHIN GROUP (ORDER BY duration DESC) AS p "
        "FROM records WHERE kind = 'span' AND http_route IS NOT NULL GROUP BY http_route",
    ):
        got = {r["http_route"]: r["p"] for r in run(engine, dataset, sql)}
        assert set(got) == set(durations)
        for route, values in durations.items():
            assert got[route] == pytest.approx(np.percentile(values, 95), rel=1e-12), (sql, route)


def test_exceptions_and_top_errors(engine: SqlEngine, dataset: Dataset) -> None:
    start, end = everything(dataset)
    truth = dataset.ground_truth
    for service in truth.service_names(start, end):
        rows = run(
            engine,
            dataset,
            "SELECT exception_type, count(*) AS n FROM records WHERE is_exception "  # noqa: S608
            f"AND service_name = '{service}' GROUP BY 1 ORDER BY n DESC, exception_type",
        )
        assert [(r["exception_type"], r["n"]) for r in rows] == [
            (c.exception_type, c.count) for c in truth.exception_counts(start, end, service)
        ]


def test_llm_tokens_and_costs(engine: SqlEngine, dataset: Dataset) -> None:
    start, end = everything(dataset)
    usage = dataset.ground_truth.llm_usage(start, end)
    rows = run(
        engine,
        dataset,
        "SELECT attributes->>'gen_ai.request.model' AS model, "
        "SUM((attributes->'gen_ai.usage.input_tokens')::int) AS input_tokens, "
        "SUM((attributes->>'gen_ai.usage.output_tokens')::numeric) AS output_tokens, "
        "SUM((attributes->'operation.cost')::float) AS cost, count(DISTINCT trace_id) AS requests "
        "FROM records WHERE attributes ? 'gen_ai.request.model' GROUP BY model",
    )
    assert {r["model"] for r in rows} == set(usage.by_model)
    for row in rows:
        model = usage.by_model[row["model"]]
        assert (row["input_tokens"], row["output_tokens"], row["requests"]) == (
            model.input_tokens,
            model.output_tokens,
            model.requests,
        )
        assert row["cost"] == pytest.approx(model.cost_usd, rel=1e-12)
    total = run(engine, dataset, "SELECT SUM((attributes->'operation.cost')::numeric) AS c FROM records")[0][
        "c"
    ]
    assert total == pytest.approx(usage.total.cost_usd, rel=1e-12)


def test_numeric_keeps_the_digits_of_small_costs(engine: SqlEngine, dataset: Dataset) -> None:
    rows = run(
        engine,
        dataset,
        "SELECT attributes, (attributes->'operation.cost')::numeric AS cost FROM records "
        "WHERE (attributes->'operation.cost')::numeric < 0.001 LIMIT 20",
    )
    assert rows
    for row in rows:
        assert row["cost"] == json.loads(row["attributes"])["operation.cost"] > 0


def test_volume_and_errors_over_time(engine: SqlEngine, dataset: Dataset) -> None:
    start, end = everything(dataset)
    truth = dataset.ground_truth
    rows = run(
        engine,
        dataset,
        "SELECT service_name, time_bucket('1 hour', start_timestamp) AS hour, count(*) AS n FROM records "
        "GROUP BY 1, 2",
    )
    got: dict[str, dict[str, int]] = {}
    for r in rows:
        got.setdefault(r["service_name"], {})[r["hour"]] = r["n"]
    expected = truth.volume_over_time(start, end, timedelta(hours=1))
    assert got == {s: {_iso(k): v for k, v in hours.items()} for s, hours in expected.items()}
    errors = run(
        engine,
        dataset,
        "SELECT time_bucket('15 minutes', start_timestamp) AS t, count(*) AS n FROM records "
        "WHERE level >= 'error' GROUP BY 1",
    )
    assert {r["t"]: r["n"] for r in errors} == {
        _iso(k): v for k, v in truth.errors_over_time(start, end, timedelta(minutes=15)).items()
    }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_service_names_and_days(engine: SqlEngine, dataset: Dataset) -> None:
    start, end = everything(dataset)
    rows = run(engine, dataset, "SELECT DISTINCT service_name FROM records ORDER BY 1")
    assert [r["service_name"] for r in rows] == dataset.ground_truth.service_names(start, end)
    days = run(
        engine,
        dataset,
        "SELECT date_trunc('day', start_timestamp) AS d, count(*) AS n FROM records GROUP BY 1",
    )
    assert sum(r["n"] for r in days) == dataset.ground_truth.record_count(start, end)
    assert all(r["d"].endswith("T00:00:00.000000Z") for r in days)


@pytest.mark.parametrize(
    ("named", "numeric"),
    [
        ("level >= 'error'", "level >= 17"),
        ("level = 'warn'", "level = 13"),
        ("'warn' = level", "level = 13"),
        ("level > 'info'", "level > 9"),
        ("level IN ('warn', 'error')", "level IN (13, 17)"),
        ("level BETWEEN 'debug' AND 'info'", "level BETWEEN 5 AND 9"),
        ("level = level_num('WARN')", "level = 13"),
        ("level_name(level) = 'notice'", "level = 10"),
    ],
)
def test_levels_compare_by_name(engine: SqlEngine, dataset: Dataset, named: str, numeric: str) -> None:
    count = "SELECT count(*) AS n FROM records WHERE "
    expected = run(engine, dataset, count + numeric)[0]["n"]
    assert expected > 0
    assert run(engine, dataset, count + named)[0]["n"] == expected


def test_json_operators(engine: SqlEngine, dataset: Dataset) -> None:
    (row,) = run(
        engine,
        dataset,
        "SELECT attributes->>'gen_ai.request.model' AS text, attributes->'gen_ai.request.model' AS value, "
        "attributes->'gen_ai.usage.input_tokens' AS tokens, attributes AS raw, "
        "otel_resource_attributes->>'service.name' AS service "
        "FROM records WHERE attributes ? 'operation.cost' LIMIT 1",
    )
    attributes = json.loads(row["raw"])
    assert row["text"] == row["value"] == attributes["gen_ai.request.model"]
    assert row["tokens"] == attributes["gen_ai.usage.input_tokens"]
    assert row["service"] == "agent"
    events = run(
        engine,
        dataset,
        "SELECT otel_events->0->>'name' AS name, json_get_str(otel_events, 0, 'name') AS same FROM records "
        "WHERE otel_events IS NOT NULL LIMIT 5",
    )
    assert events and all(r["name"] == r["same"] == "exception" for r in events)
    filtered = run(
        engine,
        dataset,
        "SELECT count(*) AS n FROM records WHERE attributes->'gen_ai.request.model' = 'gpt-4o'",
    )[0]["n"]
    assert (
        filtered
        == run(
            engine,
            dataset,
            "SELECT count(*) AS n FROM records WHERE attributes->>'gen_ai.request.model' = 'gpt-4o'",
        )[0]["n"]
        > 0
    )


def test_tags_and_tables(engine: SqlEngine, dataset: Dataset) -> None:
    llm = run(engine, dataset, "SELECT count(*) AS n FROM records WHERE array_has(tags, 'llm')")[0]["n"]
    rows = zip(dataset.records["kind"].to_pylist(), dataset.records["tags"].to_pylist(), strict=True)
    assert llm == sum(1 for kind, tags in rows if kind != "pending_span" and tags and "llm" in tags) > 0
    kinds = {r["kind"] for r in run(engine, dataset, "SELECT DISTINCT kind FROM records")}
    assert kinds == {"span", "log", "span_event"}
    full = {r["kind"] for r in run(engine, dataset, "SELECT DISTINCT kind FROM records_full")}
    assert full == kinds | {"pending_span"}
    metrics = run(engine, dataset, "SELECT metric_name, count(*) AS n FROM metrics GROUP BY 1")
    assert sum(r["n"] for r in metrics) == dataset.metrics.num_rows


def test_now_minus_interval_and_window(engine: SqlEngine, dataset: Dataset) -> None:
    truth = dataset.ground_truth
    now = truth.generated_at
    hour_ago = now - timedelta(hours=1)
    expected = truth.record_count(hour_ago, now + timedelta(seconds=1))
    sql = "SELECT count(*) AS n FROM records"
    assert run(engine, dataset, sql, min_timestamp=hour_ago)[0]["n"] == expected
    literal = f"SELECT count(*) AS n FROM records WHERE start_timestamp >= '{hour_ago.isoformat()}'"  # noqa: S608
    assert run(engine, dataset, literal)[0]["n"] == expected
    relative = "SELECT count(*) AS n FROM records WHERE start_timestamp >= now() - interval '1 hour'"
    assert run(engine, dataset, relative)[0]["n"] <= expected
    narrower = run(engine, dataset, literal, min_timestamp=now - timedelta(minutes=10))[0]["n"]
    assert narrower == truth.record_count(now - timedelta(minutes=10), now + timedelta(seconds=1)) < expected
    empty = run(engine, dataset, literal, max_timestamp=hour_ago)[0]["n"]
    assert empty == 0


def test_limits(engine: SqlEngine, dataset: Dataset) -> None:
    assert len(run(engine, dataset, "SELECT span_id FROM records LIMIT 50", limit=7)) == 7
    assert len(run(engine, dataset, "SELECT span_id FROM records LIMIT 3", limit=7)) == 3
    assert len(run(engine, dataset, "SELECT span_id FROM records", default_limit=100)) == 100
    assert len(run(engine, dataset, "SELECT span_id FROM records LIMIT 250", default_limit=100)) == 250
    union = "SELECT span_id FROM records UNION ALL SELECT span_id FROM records"
    assert len(run(engine, dataset, union, limit=11)) == 11
    ordered = run(
        engine, dataset, "SELECT start_timestamp FROM records ORDER BY start_timestamp DESC", limit=5
    )
    assert [r["start_timestamp"] for r in ordered] == sorted(
        (r["start_timestamp"] for r in ordered), reverse=True
    )


def test_projects_are_isolated(engine: SqlEngine, dataset: Dataset, other_project: Dataset) -> None:
    for data in (dataset, other_project):
        rows = run(engine, data, "SELECT project_id, count(*) AS n FROM records GROUP BY 1")
        expected = pc.sum(pc.not_equal(data.records["kind"], "pending_span")).as_py()
        assert rows == [{"project_id": data.project_id, "n": expected}]
    joined = run(
        engine,
        other_project,
        "WITH mine AS (SELECT * FROM records) SELECT count(*) AS n FROM mine m "
        "JOIN records r ON m.trace_id = r.trace_id WHERE r.project_id <> m.project_id",
    )
    assert joined == [{"n": 0}]
    assert engine.run("SELECT count(*) AS n FROM records", project_id="nobody").rows == [{"n": 0}]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM records",
        "UPDATE records SET level = 1",
        "INSERT INTO records (kind) VALUES ('x')",
        "DROP TABLE records",
        "CREATE TABLE x AS SELECT 1",
        "ALTER TABLE records ADD COLUMN x INT",
        "TRUNCATE records",
        "SELECT * INTO copy FROM records",
        "WITH gone AS (DELETE FROM records RETURNING *) SELECT * FROM gone",
        "SELECT 1; SELECT 2",
        "SELECT 1; DROP TABLE records",
        "PRAGMA database_list",
        "SET enable_external_access = true",
        "ATTACH '/tmp/x.db' AS x",
        "COPY records TO '/tmp/records.csv'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "CALL pragma_version()",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/tmp/x.parquet')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM _lf_records_full",
        "SELECT * FROM main.records",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM duckdb_settings()",
        "SELEC 1",
        "",
    ],
)
def test_refused(engine: SqlEngine, dataset: Dataset, sql: str) -> None:
    with pytest.raises(QueryError) as refused:
        engine.run(sql, project_id=dataset.project_id)
    assert str(refused.value)
    assert "\x1b" not in str(refused.value)


def test_engine_errors_name_visible_tables(engine: SqlEngine, dataset: Dataset) -> None:
    with pytest.raises(QueryError, match="not found") as refused:
        engine.run("SELECT nope FROM records", project_id=dataset.project_id)
    assert "_lf_" not in str(refused.value)


def test_duckdb_is_locked_down(engine: SqlEngine) -> None:
    # The engine's own connection, reached directly: configuration is locked and files are out of reach.
    cursor = engine._db.cursor()
    with pytest.raises(duckdb.Error):
        cursor.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error):
        cursor.execute("SELECT * FROM read_csv('/etc/passwd')")


def test_thread_safe(engine: SqlEngine, dataset: Dataset) -> None:
    queries = [
        f"SELECT service_name, count(*) AS n FROM records WHERE level >= {level} GROUP BY 1 ORDER BY 1"  # noqa: S608
        for level in (1, 9, 13, 17)
    ] * 4
    sequential = [run(engine, dataset, q) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda q: run(engine, dataset, q), queries))
    assert parallel == sequential


def test_column_types_and_values(engine: SqlEngine, dataset: Dataset) -> None:
    result = engine.run(
        "SELECT start_timestamp, day, duration, level, tags, is_exception, service_name, "
        "count(*) OVER () AS n, 1.5::numeric(10, 4) AS d FROM records WHERE tags IS NOT NULL LIMIT 1",
        project_id=dataset.project_id,
    )
    assert [(c.name, c.datatype, c.nullable) for c in result.columns] == [
        ("start_timestamp", 'Timestamp(Microsecond, Some("UTC"))', False),
        ("day", "Date32", False),
        ("duration", "Float64", True),
        ("level", "Int32", False),
        ("tags", "List(Utf8)", True),
        ("is_exception", "Boolean", True),
        ("service_name", "Utf8", False),
        ("n", "Int64", True),
        ("d", "Decimal128(10, 4)", True),
    ]
    (row,) = result.rows
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", row["start_timestamp"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", row["day"]) and isinstance(row["tags"], list)
    assert row["d"] == 1.5
    assert json.loads(json.dumps(result.rows)) == result.rows
    unnamed = engine.run("SELECT count(*), max(level) FROM records", project_id=dataset.project_id)
    assert [c.name for c in unnamed.columns] == ["count(*)", "max(level)"]


def test_timezone(engine: SqlEngine, dataset: Dataset) -> None:
    rows = run(
        engine,
        dataset,
        "SELECT date_trunc('day', start_timestamp) AS d, time_bucket('1 day', start_timestamp) AS b, "
        "count(*) AS n FROM records GROUP BY 1, 2",
        timezone="America/New_York",
    )
    assert all(r["d"] == r["b"] and r["d"].endswith("T00:00:00.000000-05:00") for r in rows)
    assert sum(r["n"] for r in rows) == dataset.ground_truth.record_count(*everything(dataset))
    with pytest.raises(QueryError, match="timezone"):
        run(engine, dataset, "SELECT 1", timezone="Nowhere/Special")


def test_integer_arithmetic_is_datafusions(engine: SqlEngine, dataset: Dataset) -> None:
    result = engine.run(
        "SELECT 7 / 2 AS a, 7.0 / 2 AS b, count(*) FILTER (WHERE level >= 'error') / count(*) AS rate, "
        "count(*) FILTER (WHERE level >= 'error') * 100.0 / count(*) AS percent, sum(level) AS s, "
        "sum(level) / count(*) AS mean FROM records",
        project_id=dataset.project_id,
    )
    (row,) = result.rows
    assert (row["a"], row["b"], row["rate"]) == (3, 3.5, 0)
    assert 0 < row["percent"] < 100
    assert row["mean"] == row["s"] // run(engine, dataset, "SELECT count(*) AS n FROM records")[0]["n"]
    types = {c.name: c.datatype for c in result.columns}
    assert (types["rate"], types["s"], types["mean"]) == ("Int64", "Int64", "Int64")


def test_runaway_queries_are_stopped(dataset: Dataset) -> None:
    engine = SqlEngine([dataset], timeout_s=0.3)
    with pytest.raises(QueryError, match="time limit"):
        engine.run(
            "SELECT count(*) FROM records a, records b, records c WHERE a.span_id < b.span_id",
            project_id=dataset.project_id,
        )
    assert engine.run("SELECT count(*) AS n FROM records", project_id=dataset.project_id).rows[0]["n"] > 0


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT to_char(TIMESTAMPTZ '2026-01-02 03:04:05+00', '%Y-%m-%d %H:%M') AS v", "2026-01-02 03:04"),
        (
            "SELECT date_bin(interval '15 minutes', TIMESTAMPTZ '2026-01-02 03:14:05+00') AS v",
            "2026-01-02T03:00:00.000000Z",
        ),
        ("SELECT json_get_int('{\"a\": {\"b\": 41}}', 'a', 'b') + 1 AS v", 42),
        ("SELECT json_get_str('{\"a.b\": \"x\"}', 'a.b') AS v", "x"),
        ("SELECT json_contains('{\"a\": null}', 'a') AS v", True),
        ("SELECT '{\"a\": [1, 2]}'->'a'->>1 AS v", "2"),
        ("SELECT extract(hour FROM TIMESTAMPTZ '2026-01-02 03:04:05+00') AS v", 3),
        ("SELECT approx_median(x) AS v FROM (VALUES (1), (2), (3)) AS t(x)", 2),
    ],
)
def test_datafusion_functions(engine: SqlEngine, dataset: Dataset, sql: str, expected: object) -> None:
    assert run(engine, dataset, sql) == [{"v": expected}]


@pytest.mark.parametrize(
    "condition",
    [
        "attributes ? 'gen_ai.request.model'",
        "attributes ? 'no.such.key'",
        "attributes->>'http.route' = '/checkout'",
        "attributes->'gen_ai.usage.input_tokens' IS NOT NULL",
        "NOT attributes->>'job.name' IS NULL",
        "(attributes->'operation.cost')::numeric < 0.001",
        "attributes->>'gen_ai.system' IN ('openai', 'anthropic')",
        "json_contains(attributes, 'exception.type')",
    ],
)
def test_attribute_key_index_never_changes_results(
    engine: SqlEngine, dataset: Dataset, condition: str
) -> None:
    """The engine narrows `records` by attribute key before parsing JSON; `OR false` defeats the narrowing."""
    count = "SELECT count(*) AS n FROM records WHERE "
    narrowed = run(engine, dataset, count + condition)
    assert narrowed == run(engine, dataset, f"{count}({condition}) OR false")
    everything = "SELECT * FROM records WHERE "
    columns = engine.run(everything + condition, project_id=dataset.project_id, limit=1).columns
    assert [c.name for c in columns] == dataset.records.schema.names


@pytest.mark.parametrize("key", ["gen_ai.request.model", "exception.type", "job.attempt", "no.such.key"])
def test_key_exists_operator_against_the_rows(engine: SqlEngine, dataset: Dataset, key: str) -> None:
    rows = zip(dataset.records["kind"].to_pylist(), dataset.records["attributes"].to_pylist(), strict=True)
    expected = sum(1 for kind, text in rows if kind != "pending_span" and key in json.loads(text))
    has_key = "SELECT count(*) AS n FROM records WHERE attributes ? "
    assert run(engine, dataset, has_key + f"'{key}'") == [{"n": expected}]
