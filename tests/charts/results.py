"""Result tables shaped like Logfire `query_run` results (columns of logfire.md §4's example queries).

Values are generated from a fixed seed; tests compute what they expect from these rows, never from a run.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.tables import ResultTable

ROUTES = [
    "GET /api/users/{user_id}",
    "POST /api/orders",
    "GET /api/orders/{order_id}/items",
    "GET /health",
    "PUT /api/users/{user_id}/settings",
    "GET /api/search",
    "POST /api/auth/login",
    "GET /api/products",
    "DELETE /api/sessions/{session_id}",
    "GET /api/reports/daily",
    "POST /api/webhooks/stripe",
    "GET /metrics",
    "GET /api/teams/{team_id}/members",
    "PATCH /api/items/{item_id}",
    "GET /api/invoices",
    "POST /api/upload",
    "GET /api/notifications",
    "POST /api/agent/run",
]
EXCEPTIONS = [
    ("httpx.ReadTimeout", "timed out"),
    ("ValueError", "invalid literal for int() with base 10: 'abc'"),
    ("KeyError", "'user_id'"),
    ("asyncpg.exceptions.UniqueViolationError", "duplicate key value"),
    ("openai.RateLimitError", "Rate limit reached"),
    ("ZeroDivisionError", "division by zero"),
]
MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4o-mini", "gpt-4.1"]
SERVICES = ["api", "worker", "frontend", "agent"]
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def slowest_routes(count: int = len(ROUTES), seed: int = 1) -> ResultTable:
    """`SELECT http_route, approx_percentile_cont(duration, 0.95) AS p95, count(*) AS n … ORDER BY p95`."""
    rng = random.Random(seed)
    rows = [[route, rng.uniform(0.004, 1.8), rng.randint(3, 40_000)] for route in ROUTES[:count]]
    rows.sort(key=lambda row: row[1], reverse=True)
    return ResultTable(["http_route", "p95", "n"], rows, result_id="routes", source_tool="query_run")


def status_codes() -> ResultTable:
    """Requests by status code (root spans), `ORDER BY n DESC`."""
    rows = [[200, 48_213], [201, 5_120], [404, 1_377], [302, 402], [500, 96], [401, 64], [503, 7]]
    return ResultTable(["http_response_status_code", "n"], rows, result_id="status", source_tool="query_run")


def top_exceptions() -> ResultTable:
    """Top errors in a service: type, message, count, last seen."""
    rng = random.Random(2)
    rows = [
        [kind, message, rng.randint(1, 900), _iso(START + timedelta(minutes=rng.randint(0, 59)))]
        for kind, message in EXCEPTIONS
    ]
    rows.sort(key=lambda row: row[2], reverse=True)
    return ResultTable(["exception_type", "exception_message", "n", "last_seen"], rows, result_id="errors")


def requests_over_time(buckets: int = 24, shuffled: bool = True) -> ResultTable:
    """`SELECT time_bucket('5 minutes', start_timestamp) AS bucket, count(*) AS n`, rows in any order."""
    rng = random.Random(3)
    rows = [[_iso(START + timedelta(minutes=5 * i)), rng.randint(800, 1600)] for i in range(buckets)]
    if shuffled:
        rng.shuffle(rows)
    return ResultTable(["bucket", "n"], rows, result_id="volume", source_tool="query_run")


def spans_per_service(hours: int = 12) -> ResultTable:
    """Long format: one row per (hour, service_name), as `GROUP BY bucket, service_name` returns."""
    rng = random.Random(4)
    rows = [
        [_iso(START + timedelta(hours=h)), service, rng.randint(0, 5_000)]
        for h in range(hours)
        for service in SERVICES
    ]
    return ResultTable(["bucket", "service_name", "n"], rows, result_id="services", source_tool="query_run")


def llm_cost_by_model() -> ResultTable:
    """Tokens and cost per model, with the tiny costs `::numeric` keeps (an LLM call can cost $0.0004)."""
    rows = [
        ["claude-sonnet-4-5", 1_234_567, 98_765, 5.184_201],
        ["gpt-4.1", 402_113, 51_002, 1.212_404],
        ["claude-haiku-4-5", 250_000, 12_000, 0.310_000],
        ["gpt-4o-mini", 2_600, 410, 0.000_636],
    ]
    columns = ["model", "input_tokens", "output_tokens", "cost_usd"]
    return ResultTable(columns, rows, result_id="llm", source_tool="query_run")


def total_cost() -> ResultTable:
    """One row, one number: `SELECT SUM((attributes->'operation.cost')::numeric) AS total_cost_usd`."""
    return ResultTable(["total_cost_usd"], [[6.706_641]], result_id="total", source_tool="query_run")


def error_rate_over_time() -> ResultTable:
    """Error ratio (0–1) per 10 minutes."""
    rng = random.Random(5)
    rows = [[_iso(START + timedelta(minutes=10 * i)), rng.uniform(0, 0.08)] for i in range(18)]
    return ResultTable(["bucket", "error_rate"], rows, result_id="error_rate", source_tool="query_run")
