"""Answers computed straight from the generated rows with pyarrow/numpy, never through the SQL engine.

Every function takes an explicit window [start, end) on `start_timestamp` and looks only at `records`
(pending spans excluded), the way a query through the API or `query_run` sees the data. Each one mirrors a
natural SQL query, named in its docstring, so a test can compare the two.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LEVEL_ERROR = 17
TIME_BUCKET_ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)  # DuckDB's and TimescaleDB's default origin


@dataclass(frozen=True)
class ExceptionCount:
    exception_type: str | None
    exception_message: str | None
    count: int
    last_seen: datetime


@dataclass(frozen=True)
class ModelUsage:
    input_tokens: int
    output_tokens: int
    cost_usd: float
    requests: int  # distinct trace_id among the rows that carry `gen_ai.request.model`
    avg_cost_per_request: float


@dataclass(frozen=True)
class LlmUsage:
    total: ModelUsage
    by_model: dict[str, ModelUsage] = field(default_factory=dict)


class GroundTruth:
    def __init__(self, records: pa.Table, generated_at: datetime) -> None:
        self._records = records.filter(pc.not_equal(records["kind"], "pending_span"))
        self.generated_at = generated_at
        self._starts_us = pc.cast(self._records["start_timestamp"], pa.int64()).to_numpy()

    # --- windows

    def window(self, name: str) -> tuple[datetime, datetime]:
        """'last_hour', 'today', 'yesterday' (UTC calendar days) or 'all' (the whole 72 hours and a bit)."""
        now = self.generated_at
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        end = now + timedelta(microseconds=1)
        windows = {
            "last_hour": (now - timedelta(hours=1), end),
            "today": (midnight, end),
            "yesterday": (midnight - timedelta(days=1), midnight),
            "all": (now - timedelta(days=4), end),
        }
        return windows[name]

    def rows(self, start: datetime, end: datetime) -> pa.Table:
        mask = (self._starts_us >= _us(start)) & (self._starts_us < _us(end))
        return self._records.filter(pa.array(mask))

    # --- answers

    def service_names(self, start: datetime, end: datetime) -> list[str]:
        """SELECT DISTINCT service_name FROM records ORDER BY 1"""
        return sorted(pc.unique(self.rows(start, end)["service_name"]).to_pylist())

    def record_count(self, start: datetime, end: datetime, service: str | None = None) -> int:
        return self._by_service(self.rows(start, end), service).num_rows

    def exception_counts(
        self, start: datetime, end: datetime, service: str | None = None, *, by_message: bool = False
    ) -> list[ExceptionCount]:
        """SELECT exception_type[, exception_message], count(*), max(start_timestamp) FROM records
        WHERE is_exception [AND service_name = ...] GROUP BY ... ORDER BY count DESC, exception_type

        Counts rows, as that query does: as in Logfire, an exception recorded on a span marks the span row
        (`is_exception`, from its first exception event) and its `span_event` row; logs can carry one too."""
        rows = self._by_service(self.rows(start, end), service)
        rows = rows.filter(pc.fill_null(rows["is_exception"], False))
        return _grouped_counts(rows, by_message)

    def top_errors(self, start: datetime, end: datetime, service: str) -> list[ExceptionCount]:
        """The 'top errors in a service' example of logfire.md §4: rows WHERE service_name = ... AND
        (is_exception OR level >= 'error'), grouped by exception_type and exception_message."""
        rows = self._by_service(self.rows(start, end), service)
        errors = pc.or_kleene(
            pc.fill_null(rows["is_exception"], False), pc.greater_equal(rows["level"], LEVEL_ERROR)
        )
        return _grouped_counts(rows.filter(errors), by_message=True)

    def status_code_counts(
        self, start: datetime, end: datetime, service: str | None = None
    ) -> dict[int, int]:
        """SELECT http_response_status_code, count(*) FROM records WHERE parent_span_id IS NULL
        AND http_response_status_code IS NOT NULL GROUP BY 1"""
        rows = self._by_service(self.rows(start, end), service)
        roots = rows.filter(
            pc.and_(pc.is_null(rows["parent_span_id"]), pc.is_valid(rows["http_response_status_code"]))
        )
        codes, counts = np.unique(roots["http_response_status_code"].to_numpy(), return_counts=True)
        return dict(zip(codes.tolist(), counts.tolist(), strict=True))

    def route_durations(self, start: datetime, end: datetime) -> dict[str, np.ndarray]:
        """duration of every row WHERE kind = 'span' AND http_route IS NOT NULL, per http_route."""
        rows = self.rows(start, end)
        spans = rows.filter(pc.and_(pc.equal(rows["kind"], "span"), pc.is_valid(rows["http_route"])))
        routes = np.asarray(spans["http_route"].to_pylist(), dtype=object)
        durations = spans["duration"].to_numpy()
        return {route: np.sort(durations[routes == route]) for route in sorted(set(routes.tolist()))}

    def route_percentiles(self, start: datetime, end: datetime, q: float = 0.95) -> dict[str, float]:
        """approx_percentile_cont(duration, q) per http_route (linear interpolation, as numpy's default)."""
        return {
            route: float(np.percentile(d, q * 100)) for route, d in self.route_durations(start, end).items()
        }

    def llm_usage(self, start: datetime, end: datetime) -> LlmUsage:
        """The LLM cost example of logfire.md §4: rows WHERE attributes ? 'gen_ai.request.model', tokens and
        `operation.cost` summed per model, average cost = cost / count(DISTINCT trace_id)."""
        rows = self.rows(start, end)
        rows = rows.filter(pc.match_substring(rows["attributes"], '"gen_ai.request.model"'))
        totals: dict[str, dict[str, Any]] = {}
        all_traces: set[str] = set()
        overall = {"input": 0, "output": 0, "cost": 0.0}
        for text, trace_id in zip(rows["attributes"].to_pylist(), rows["trace_id"].to_pylist(), strict=True):
            attributes = json.loads(text)
            if "gen_ai.request.model" not in attributes:
                continue
            entry = totals.setdefault(
                attributes["gen_ai.request.model"], {"input": 0, "output": 0, "cost": 0.0, "traces": set()}
            )
            for key, attribute in (
                ("input", "gen_ai.usage.input_tokens"),
                ("output", "gen_ai.usage.output_tokens"),
                ("cost", "operation.cost"),
            ):
                value = attributes.get(attribute)
                if value is not None:
                    entry[key] += value
                    overall[key] += value
            entry["traces"].add(trace_id)
            all_traces.add(trace_id)
        by_model = {
            model: _usage(e["input"], e["output"], e["cost"], len(e["traces"])) for model, e in totals.items()
        }
        total = _usage(overall["input"], overall["output"], overall["cost"], len(all_traces))
        return LlmUsage(total=total, by_model=dict(sorted(by_model.items(), key=lambda kv: -kv[1].cost_usd)))

    def volume_over_time(
        self, start: datetime, end: datetime, bucket: timedelta, service: str | None = None
    ) -> dict[str, dict[datetime, int]]:
        """SELECT service_name, time_bucket(bucket, start_timestamp), count(*) FROM records GROUP BY 1, 2"""
        rows = self._by_service(self.rows(start, end), service)
        result: dict[str, dict[datetime, int]] = {}
        for name in sorted(pc.unique(rows["service_name"]).to_pylist()):
            result[name] = _bucketed(rows.filter(pc.equal(rows["service_name"], name)), bucket)
        return result

    def errors_over_time(
        self, start: datetime, end: datetime, bucket: timedelta, service: str | None = None
    ) -> dict[datetime, int]:
        """SELECT time_bucket(bucket, start_timestamp), count(*) FROM records
        WHERE level >= 'error' GROUP BY 1"""
        rows = self._by_service(self.rows(start, end), service)
        return _bucketed(rows.filter(pc.greater_equal(rows["level"], LEVEL_ERROR)), bucket)

    # --- summary

    def summary(self) -> dict[str, Any]:
        """Fixed-window answers as JSON-ready data, for tests and humans instead of hard-coded numbers."""
        windows = {}
        for name in ("last_hour", "today", "yesterday", "all"):
            start, end = self.window(name)
            services = self.service_names(start, end)
            llm = self.llm_usage(start, end)
            windows[name] = {
                "start": _iso(start),
                "end": _iso(end),
                "records": self.record_count(start, end),
                "records_by_service": {s: self.record_count(start, end, s) for s in services},
                "top_exceptions": {
                    s: [_exception_json(e) for e in self.exception_counts(start, end, s)[:10]]
                    for s in services
                },
                "status_codes": {str(k): v for k, v in self.status_code_counts(start, end).items()},
                "route_p95_s": self.route_percentiles(start, end),
                "llm": {
                    "total": asdict(llm.total),
                    "by_model": {m: asdict(u) for m, u in llm.by_model.items()},
                },
                "errors": sum(self.errors_over_time(start, end, timedelta(days=1)).values()),
            }
        return {"generated_at": _iso(self.generated_at), "windows": windows}

    @staticmethod
    def _by_service(rows: pa.Table, service: str | None) -> pa.Table:
        return rows if service is None else rows.filter(pc.equal(rows["service_name"], service))


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _usage(input_tokens: int, output_tokens: int, cost: float, requests: int) -> ModelUsage:
    return ModelUsage(
        int(input_tokens), int(output_tokens), cost, requests, cost / requests if requests else 0.0
    )


def _grouped_counts(rows: pa.Table, by_message: bool) -> list[ExceptionCount]:
    keys = ["exception_type", "exception_message"] if by_message else ["exception_type"]
    grouped = rows.group_by(keys, use_threads=False).aggregate(
        [("start_timestamp", "count"), ("start_timestamp", "max")]
    )
    counts = [
        ExceptionCount(
            exception_type=row["exception_type"],
            exception_message=row.get("exception_message") if by_message else None,
            count=row["start_timestamp_count"],
            last_seen=row["start_timestamp_max"],
        )
        for row in grouped.to_pylist()
    ]
    return sorted(counts, key=_count_order)


def _count_order(count: ExceptionCount) -> tuple[object, ...]:
    """count DESC, then exception_type, exception_message ascending with NULLs last (as SQL orders them)."""
    kind, message = count.exception_type, count.exception_message
    return (-count.count, kind is None, kind or "", message is None, message or "")


def _bucketed(rows: pa.Table, bucket: timedelta) -> dict[datetime, int]:
    width = bucket // timedelta(microseconds=1)
    origin = _us(TIME_BUCKET_ORIGIN)
    starts = pc.cast(rows["start_timestamp"], pa.int64()).to_numpy()
    buckets, counts = np.unique((starts - origin) // width * width + origin, return_counts=True)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return {epoch + timedelta(microseconds=int(b)): int(c) for b, c in zip(buckets, counts, strict=True)}


def _exception_json(count: ExceptionCount) -> dict[str, Any]:
    return {"exception_type": count.exception_type, "count": count.count, "last_seen": _iso(count.last_seen)}
