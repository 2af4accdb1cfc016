"""The query API over real loopback HTTP, read with the vendor's own client (`logfire.query_client`)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pytest
from logfire.query_client import (
    AsyncLogfireQueryClient,
    LogfireQueryClient,
    QueryExecutionError,
    QueryRateLimitedError,
    QueryRequestError,
)

from sandbox.logfire.server import SandboxLogfire

SCHEMAS = json.loads((Path(__file__).parent / "data" / "logfire-v1-schemas.json").read_text())
TOKEN_INFO_KEYS = {
    "token_id",
    "organization_id",
    "organization_subscription_plan",
    "project_id",
    "organization_name",
    "project_name",
}


@pytest.fixture(scope="module")
def token(sandbox: SandboxLogfire) -> str:
    return sandbox.directory.issue_read_token().token


@pytest.fixture
def client(sandbox: SandboxLogfire, token: str) -> LogfireQueryClient:
    with LogfireQueryClient(token, base_url=sandbox.query_api_base) as client:
        yield client


def _everything(sandbox: SandboxLogfire) -> tuple[datetime, datetime]:
    now = sandbox.dataset().generated_at
    return now - timedelta(days=4), now + timedelta(seconds=1)


def test_read_token_info_and_schemas(sandbox: SandboxLogfire, token: str, client: LogfireQueryClient) -> None:
    assert client.info() == {"organization_name": "acme", "project_name": "production"}
    for authorization in (token, f"Bearer {token}", f"bearer {token}"):
        info = httpx.get(
            f"{sandbox.query_api_base}/v1/read-token-info", headers={"authorization": authorization}
        )
        assert info.status_code == 200 and set(info.json()) == TOKEN_INFO_KEYS
        assert info.json()["project_id"] == sandbox.dataset().project_id
        schemas = httpx.get(f"{sandbox.query_api_base}/v1/schemas", headers={"authorization": authorization})
        assert schemas.json() == SCHEMAS


@pytest.mark.parametrize("authorization", [None, "nope", "Bearer nope", "Basic Zm9vOmJhcg=="])
def test_bad_tokens_get_401(sandbox: SandboxLogfire, authorization: str | None) -> None:
    headers = {"authorization": authorization} if authorization else {}
    for method, path in (("GET", "/v1/schemas"), ("GET", "/v1/read-token-info"), ("POST", "/v2/query")):
        response = httpx.request(method, f"{sandbox.query_api_base}{path}", headers=headers, json={})
        assert (response.status_code, response.json()) == (401, {"detail": "Invalid token"})


def test_status_codes_and_slowest_routes_agree_with_ground_truth(
    sandbox: SandboxLogfire, client: LogfireQueryClient
) -> None:
    start, end = _everything(sandbox)
    truth = sandbox.dataset().ground_truth
    result = client.query_json_rows(
        "SELECT http_response_status_code, count(*) AS n FROM records WHERE parent_span_id IS NULL "
        "AND http_response_status_code IS NOT NULL GROUP BY http_response_status_code ORDER BY n DESC",
        min_timestamp=start,
        max_timestamp=end,
    )
    assert result["columns"] == [
        {"name": "http_response_status_code", "datatype": "Int32", "nullable": True},
        {"name": "n", "datatype": "Int64", "nullable": False},
    ]
    got = {row["http_response_status_code"]: row["n"] for row in result["rows"]}
    assert got == truth.status_code_counts(start, end)
    rows = client.query_json_rows(
        "SELECT http_route, approx_percentile_cont(duration, 0.95) AS p95 FROM records "
        "WHERE kind = 'span' AND http_route IS NOT NULL GROUP BY http_route ORDER BY p95 DESC",
        min_timestamp=start,
    )["rows"]
    expected = truth.route_percentiles(start, end)
    assert [r["http_route"] for r in rows] == sorted(expected, key=expected.__getitem__, reverse=True)
    assert np.allclose([r["p95"] for r in rows], [expected[r["http_route"]] for r in rows], rtol=1e-12)


def test_llm_cost_keeps_small_costs(sandbox: SandboxLogfire, client: LogfireQueryClient) -> None:
    start, end = _everything(sandbox)
    rows = client.query_json_rows(
        "SELECT attributes->>'gen_ai.request.model' AS model, "
        "SUM((attributes->'operation.cost')::numeric) AS cost_usd, "
        "SUM((attributes->'operation.cost')::numeric) / count(DISTINCT trace_id) AS avg_cost_per_request "
        "FROM records WHERE attributes ? 'gen_ai.request.model' GROUP BY model ORDER BY cost_usd DESC",
        min_timestamp=start,
    )["rows"]
    usage = sandbox.dataset().ground_truth.llm_usage(start, end).by_model
    assert [r["model"] for r in rows] == list(usage)
    for row in rows:
        assert row["cost_usd"] == pytest.approx(usage[row["model"]].cost_usd, rel=1e-9)
        assert row["avg_cost_per_request"] == pytest.approx(
            usage[row["model"]].avg_cost_per_request, rel=1e-9
        )
    cheapest = min(r["avg_cost_per_request"] for r in rows)
    assert 0 < cheapest < 0.01


async def test_async_client_top_errors(sandbox: SandboxLogfire, token: str) -> None:
    start, end = _everything(sandbox)
    async with AsyncLogfireQueryClient(token, base_url=sandbox.query_api_base) as client:
        assert (await client.info())["project_name"] == "production"
        result = await client.query_json_rows(
            "SELECT exception_type, exception_message, count(*) AS n, max(start_timestamp) AS last_seen "
            "FROM records WHERE service_name = 'agent' AND (is_exception OR level >= 'error') "
            "GROUP BY exception_type, exception_message ORDER BY n DESC, exception_type, exception_message",
            min_timestamp=start,
            limit=1_000,
        )
    truth = sandbox.dataset().ground_truth.top_errors(start, end, "agent")
    assert [(r["exception_type"], r["exception_message"], r["n"]) for r in result["rows"]] == [
        (e.exception_type, e.exception_message, e.count) for e in truth
    ]
    assert result["rows"][0]["last_seen"].endswith("Z")
    assert result["columns"][3]["datatype"] == 'Timestamp(Microsecond, Some("UTC"))'


def test_limits(sandbox: SandboxLogfire, token: str, client: LogfireQueryClient) -> None:
    start, _ = _everything(sandbox)
    assert len(client.query_json_rows("SELECT * FROM records", min_timestamp=start)["rows"]) == 100
    assert (
        len(
            client.query_json_rows("SELECT span_id FROM records LIMIT 50", min_timestamp=start, limit=7)[
                "rows"
            ]
        )
        == 7
    )
    assert (
        len(client.query_json_rows("SELECT span_id FROM records LIMIT 3", min_timestamp=start)["rows"]) == 3
    )
    many = client.query_json_rows("SELECT span_id FROM records", min_timestamp=start, limit=10_000)
    assert len(many["rows"]) == 10_000
    with pytest.raises(QueryRequestError) as refused:
        client.query_json_rows("SELECT 1", min_timestamp=start, limit=10_001)
    assert refused.value.args[0]["detail"][0]["loc"] == ["body", "limit"]
    v1 = httpx.get(
        f"{sandbox.query_api_base}/v1/query",
        params={"sql": "SELECT span_id FROM records", "json_rows": "true"},
        headers={"authorization": token},
    )
    assert len(v1.json()["rows"]) == 500


def test_window_is_intersected_with_the_sql(sandbox: SandboxLogfire, client: LogfireQueryClient) -> None:
    truth = sandbox.dataset().ground_truth
    now = truth.generated_at
    sql = "SELECT count(*) AS n FROM records WHERE start_timestamp >= now() - interval '2 hours'"
    window = client.query_json_rows(sql, min_timestamp=now - timedelta(hours=1))["rows"][0]["n"]
    assert window == truth.record_count(now - timedelta(hours=1), now + timedelta(seconds=1))
    bounded = client.query_json_rows(
        "SELECT count(*) AS n FROM records",
        min_timestamp=now - timedelta(hours=3),
        max_timestamp=now - timedelta(hours=2),
    )["rows"][0]["n"]
    assert bounded == truth.record_count(now - timedelta(hours=3), now - timedelta(hours=2)) > 0


def test_projects_are_isolated(sandbox: SandboxLogfire) -> None:
    staging = sandbox.directory.project("staging")
    token = sandbox.directory.issue_read_token(staging).token
    with LogfireQueryClient(token, base_url=sandbox.query_api_base) as client:
        start, end = _everything(sandbox)
        rows = client.query_json_rows(
            "SELECT project_id, count(*) AS n FROM records GROUP BY project_id", min_timestamp=start
        )["rows"]
    assert rows == [
        {"project_id": staging.id, "n": sandbox.dataset("staging").ground_truth.record_count(start, end)}
    ]


def test_csv_arrow_and_ndjson(sandbox: SandboxLogfire, token: str, client: LogfireQueryClient) -> None:
    start, _ = _everything(sandbox)
    sql = (
        "SELECT service_name, count(*) AS n, max(start_timestamp) AS last FROM records GROUP BY 1 ORDER BY 1"
    )
    expected = client.query_json_rows(sql, min_timestamp=start)["rows"]
    parsed = list(csv.DictReader(io.StringIO(client.query_csv(sql, min_timestamp=start))))
    assert [{**r, "n": int(r["n"])} for r in parsed] == expected
    table = client.query_arrow(sql, min_timestamp=start)
    assert isinstance(table, pa.Table) and table.column("n").to_pylist() == [r["n"] for r in expected]
    response = httpx.post(
        f"{sandbox.query_api_base}/v2/query",
        json={"sql": sql, "min_timestamp": start.isoformat()},
        headers={"authorization": token, "accept": "application/x-ndjson"},
    )
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in response.text.splitlines()] == expected


def test_v2_body_shape(sandbox: SandboxLogfire, token: str) -> None:
    response = httpx.post(
        f"{sandbox.query_api_base}/v2/query",
        json={
            "sql": "SELECT service_name FROM records LIMIT 1",
            "min_timestamp": "2020-01-01T00:00:00+00:00",
        },
        headers={"authorization": token},
    )
    body = response.json()
    assert response.status_code == 200 and set(body) == {"schema", "data"}
    assert body["schema"]["metadata"] == {}
    field = body["schema"]["fields"][0]
    assert {k: field[k] for k in ("name", "data_type", "nullable")} == {
        "name": "service_name",
        "data_type": "Utf8",
        "nullable": False,
    }
    assert body["data"] == [{"service_name": body["data"][0]["service_name"]}]


def test_v1_row_and_column_forms(sandbox: SandboxLogfire, token: str) -> None:
    sql = "SELECT service_name, count(*) AS n FROM records GROUP BY 1 ORDER BY 1"
    base = f"{sandbox.query_api_base}/v1/query"
    headers = {"authorization": f"Bearer {token}"}
    rows = httpx.get(base, params={"sql": sql, "json_rows": "true"}, headers=headers).json()
    old = httpx.get(base, params={"sql": sql, "row_oriented": "true"}, headers=headers).json()
    columns = httpx.get(base, params={"sql": sql}, headers=headers).json()
    assert rows == old and rows["columns"][1] == {"name": "n", "datatype": "Int64", "nullable": False}
    assert [c["name"] for c in columns["columns"]] == ["service_name", "n"]
    assert columns["columns"][1]["values"] == [r["n"] for r in rows["rows"]]


@pytest.mark.parametrize(
    "sql",
    [
        "SELEC 1",
        "DELETE FROM records",
        "DROP TABLE records",
        "SELECT 1; SELECT 2",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT no_such_column FROM records",
    ],
)
def test_bad_sql_is_a_400_with_the_engine_message(client: LogfireQueryClient, sql: str) -> None:
    with pytest.raises(QueryExecutionError) as refused:
        client.query_json_rows(sql, min_timestamp=datetime(2020, 1, 1, tzinfo=UTC))
    assert isinstance(refused.value.args[0], dict) and refused.value.args[0]["detail"]


def test_problem_details_when_preferred(sandbox: SandboxLogfire, token: str) -> None:
    response = httpx.post(
        f"{sandbox.query_api_base}/v2/query",
        json={"sql": "DELETE FROM records", "min_timestamp": "2020-01-01T00:00:00Z"},
        headers={"authorization": token, "accept": "application/problem+json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400 and problem["retryable"] is False
    assert problem["error_details"] == {"detail": problem["detail"]}


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"sql": "SELECT 1"}, ["body", "min_timestamp"], "missing"),
        ({"min_timestamp": "2026-01-01T00:00:00Z"}, ["body", "sql"], "missing"),
        (
            {"sql": "SELECT 1", "min_timestamp": "2026-01-01T00:00:00"},
            ["body", "min_timestamp"],
            "timezone_aware",
        ),
        (
            {"sql": "SELECT 1", "min_timestamp": "yesterday"},
            ["body", "min_timestamp"],
            "datetime_from_date_parsing",
        ),
        (
            {"sql": "SELECT 1", "min_timestamp": "2026-01-01T00:00:00Z", "limit": -1},
            ["body", "limit"],
            "greater_than_equal",
        ),
        (
            {"sql": "SELECT 1", "min_timestamp": "2026-01-01T00:00:00Z", "timezone": "Mars/Olympus"},
            ["body", "timezone"],
            "value_error",
        ),
    ],
)
def test_bad_requests_get_fastapi_shaped_422(
    sandbox: SandboxLogfire, token: str, body: dict, loc: list, error_type: str
) -> None:
    response = httpx.post(f"{sandbox.query_api_base}/v2/query", json=body, headers={"authorization": token})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (loc, error_type)
    assert error["msg"] and "input" in error


def test_malformed_json_body_is_a_422(sandbox: SandboxLogfire, token: str) -> None:
    response = httpx.post(
        f"{sandbox.query_api_base}/v2/query",
        content=b"{not json",
        headers={"authorization": token, "content-type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid"


def test_throttled_queries_get_429_with_retry_after(
    sandbox: SandboxLogfire, client: LogfireQueryClient
) -> None:
    sandbox.controls.throttle_query_api(retry_after=7, times=1)
    with pytest.raises(QueryRateLimitedError) as refused:
        client.query_json_rows("SELECT 1 AS one", min_timestamp=datetime(2020, 1, 1, tzinfo=UTC))
    assert refused.value.retry_after == 7
    assert client.query_json_rows("SELECT 1 AS one", min_timestamp=datetime(2020, 1, 1, tzinfo=UTC))[
        "rows"
    ] == [{"one": 1}]


def test_timezone_shapes_day_buckets(client: LogfireQueryClient, sandbox: SandboxLogfire) -> None:
    start, _ = _everything(sandbox)
    rows = client.query_json_rows(
        "SELECT date_trunc('day', start_timestamp) AS day, count(*) AS n FROM records GROUP BY 1 ORDER BY 1",
        min_timestamp=start,
        timezone="Asia/Tokyo",
    )["rows"]
    assert all(r["day"].endswith("T00:00:00.000000+09:00") for r in rows)
    assert sum(r["n"] for r in rows) == sandbox.dataset().ground_truth.record_count(*_everything(sandbox))


def test_deployment_environment_filter(sandbox: SandboxLogfire, client: LogfireQueryClient) -> None:
    start, end = _everything(sandbox)
    sql = "SELECT count(*) AS n FROM records"
    everything = sandbox.dataset().ground_truth.record_count(start, end)
    assert (
        client.query_json_rows(sql, min_timestamp=start, environment="production")["rows"][0]["n"]
        == everything
    )
    assert client.query_json_rows(sql, min_timestamp=start, environment=["staging", ""])["rows"][0]["n"] == 0
