"""The four example questions of the product brief, as SQL for `query_run` and the window each one covers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

WindowName = Literal["last_hour", "today", "yesterday", "all"]


@dataclass(frozen=True)
class Example:
    question: str
    window: WindowName  # a `GroundTruth.window` name
    sql: str


SLOWEST_ENDPOINTS = Example(
    "Show me the slowest API endpoints in the last hour",
    "last_hour",
    "SELECT http_route, approx_percentile_cont(duration, 0.95) AS p95, count(*) AS n FROM records "
    "WHERE kind = 'span' AND http_route IS NOT NULL GROUP BY http_route ORDER BY p95 DESC LIMIT 20",
)
STATUS_CODES = Example(
    "Trace count by status code today",
    "today",
    "SELECT http_response_status_code, count(*) AS n FROM records "
    "WHERE parent_span_id IS NULL AND http_response_status_code IS NOT NULL "
    "GROUP BY http_response_status_code ORDER BY n DESC LIMIT 20",
)
AGENT_ERRORS = Example(
    "Top 10 errors in the agent service",
    "all",
    "SELECT exception_type, exception_message, count(*) AS n, max(start_timestamp) AS last_seen FROM records "
    "WHERE service_name = 'agent' AND (is_exception OR level >= 'error') "
    "GROUP BY exception_type, exception_message ORDER BY n DESC LIMIT 10",
)
LLM_COST = Example(
    "What was the average token cost per request yesterday?",
    "yesterday",
    "SELECT SUM((attributes->'operation.cost')::numeric) AS cost_usd, count(DISTINCT trace_id) AS requests, "
    "SUM((attributes->'operation.cost')::numeric) / count(DISTINCT trace_id) AS avg_cost_per_request "
    "FROM records WHERE attributes ? 'gen_ai.request.model'",
)
EXAMPLES = (SLOWEST_ENDPOINTS, STATUS_CODES, AGENT_ERRORS, LLM_COST)
