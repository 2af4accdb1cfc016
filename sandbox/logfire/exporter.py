"""OpenTelemetry exporters that turn spans, span events and logs into rows of Logfire's `records` table.

The mapping follows Logfire's documented ingest rules (docs/reference/sql.md): `logfire.msg`, `logfire.tags`
and `logfire.level_num` become the `message`, `tags` and `level` columns and leave `attributes`; spans with
status ERROR get level `error`; the exception columns of a span come from its first `exception` event; every
span event is also a row of kind `span_event`; resource attributes fill `service_name` and its siblings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from opentelemetry.context import Context
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode

TSTZ = pa.timestamp("us", tz="UTC")

# The `records` table, in the column order of GET /v1/schemas (data/logfire-v1-schemas.json).
RECORDS_SCHEMA = pa.schema(
    [
        pa.field("attributes", pa.string()),
        pa.field("attributes_json_schema", pa.string()),
        pa.field("created_at", TSTZ, nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("deployment_environment", pa.string()),
        pa.field("duration", pa.float64()),
        pa.field("end_timestamp", TSTZ, nullable=False),
        pa.field("exception_message", pa.string()),
        pa.field("exception_stacktrace", pa.string()),
        pa.field("exception_type", pa.string()),
        pa.field("http_method", pa.string()),
        pa.field("http_response_status_code", pa.int32()),
        pa.field("http_route", pa.string()),
        pa.field("is_exception", pa.bool_()),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("level", pa.int32(), nullable=False),
        pa.field("log_body", pa.string()),
        pa.field("message", pa.string(), nullable=False),
        pa.field("otel_events", pa.string()),
        pa.field("otel_links", pa.string()),
        pa.field("otel_resource_attributes", pa.string()),
        pa.field("otel_scope_attributes", pa.string()),
        pa.field("otel_scope_name", pa.string()),
        pa.field("otel_scope_version", pa.string()),
        pa.field("otel_status_code", pa.string()),
        pa.field("otel_status_message", pa.string()),
        pa.field("parent_span_id", pa.string()),
        pa.field("process_pid", pa.int32()),
        pa.field("project_id", pa.string(), nullable=False),
        pa.field("service_instance_id", pa.string()),
        pa.field("service_name", pa.string(), nullable=False),
        pa.field("service_namespace", pa.string()),
        pa.field("service_version", pa.string()),
        pa.field("span_id", pa.string(), nullable=False),
        pa.field("span_name", pa.string(), nullable=False),
        pa.field("start_timestamp", TSTZ, nullable=False),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("telemetry_sdk_language", pa.string()),
        pa.field("telemetry_sdk_name", pa.string()),
        pa.field("telemetry_sdk_version", pa.string()),
        pa.field("trace_id", pa.string(), nullable=False),
        pa.field("url_full", pa.string()),
        pa.field("url_path", pa.string()),
        pa.field("url_query", pa.string()),
    ]
)

LEVEL_INFO, LEVEL_WARN, LEVEL_ERROR = 9, 13, 17
_LOGFIRE_COLUMN_ATTRIBUTES = ("logfire.msg", "logfire.tags", "logfire.level_num")
_RESOURCE_COLUMNS = (
    ("service_name", "service.name"),
    ("service_namespace", "service.namespace"),
    ("service_version", "service.version"),
    ("service_instance_id", "service.instance.id"),
    ("telemetry_sdk_language", "telemetry.sdk.language"),
    ("telemetry_sdk_name", "telemetry.sdk.name"),
    ("telemetry_sdk_version", "telemetry.sdk.version"),
)
_MASK64 = (1 << 64) - 1
PENDING_SPAN_SCOPES = frozenset({"logfire", "pydantic-ai"})
EMPTY_LINKS = "[]"
_INHERITED_BY_EVENTS = (
    *(column for column, _ in _RESOURCE_COLUMNS),
    "deployment_environment",
    "process_pid",
    "otel_resource_attributes",
    "otel_scope_name",
    "otel_scope_version",
    "otel_scope_attributes",
    "trace_id",
    "tags",
)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _jsonable(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    if not attributes:
        return {}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attributes.items()}


def derived_span_id(span_id: int, index: int) -> str:
    """A stable 16-hex id for a row that OpenTelemetry gives no id of its own (span events, pending spans)."""
    mixed = (span_id ^ ((index + 1) * 0x9E3779B97F4A7C15)) * 0xBF58476D1CE4E5B9 & _MASK64
    return f"{mixed or 1:016x}"


class RowSink:
    """Collects `records` rows as dicts (missing keys are NULL) and builds the Arrow table at the end."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._resources: dict[int, dict[str, Any]] = {}
        self._json_schemas: dict[tuple[str, ...], str] = {}
        self._scopes: dict[int, dict[str, Any]] = {}
        self._anonymous_traces = 0

    def resource_columns(self, resource: Resource) -> dict[str, Any]:
        cached = self._resources.get(id(resource))
        if cached is None:
            attributes = _jsonable(resource.attributes)
            env = attributes.get("deployment.environment.name", attributes.get("deployment.environment"))
            cached = {column: attributes.get(key) for column, key in _RESOURCE_COLUMNS}
            cached["service_name"] = cached["service_name"] or "unknown_service"
            cached["deployment_environment"] = env
            cached["process_pid"] = attributes.get("process.pid")
            cached["otel_resource_attributes"] = dumps(attributes)
            self._resources[id(resource)] = cached
        return cached

    def scope_columns(self, scope: Any) -> dict[str, Any]:
        cached = self._scopes.get(id(scope))
        if cached is None:
            cached = {
                "otel_scope_name": scope.name if scope else None,
                "otel_scope_version": scope.version if scope else None,
                "otel_scope_attributes": dumps(_jsonable(getattr(scope, "attributes", None))),
            }
            self._scopes[id(scope)] = cached
        return cached

    def json_schema(self, attributes: Mapping[str, Any]) -> str:
        keys = tuple(attributes)
        cached = self._json_schemas.get(keys)
        if cached is None:
            cached = dumps({"type": "object", "properties": {k: {} for k in keys}})
            self._json_schemas[keys] = cached
        return cached

    def anonymous_trace_id(self, span_id: int) -> str:
        """Logs outside any span still need a trace id (`trace_id` is NOT NULL in Logfire)."""
        self._anonymous_traces += 1
        return derived_span_id(span_id, self._anonymous_traces) + derived_span_id(~span_id & _MASK64, 1)

    def to_table(self) -> pa.Table:
        return rows_to_table(self.rows, RECORDS_SCHEMA, day_from="start_timestamp")


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema, *, day_from: str) -> pa.Table:
    """Row dicts (missing keys are NULL; timestamps as epoch microseconds) → a table of `schema`."""
    loose = [field.with_nullable(True) for field in schema if field.name != "day"]
    struct = pa.array(rows, pa.struct([f.with_type(pa.int64()) if f.type == TSTZ else f for f in loose]))
    table = pa.Table.from_struct_array(struct)
    columns = {
        name: table[name].cast(TSTZ) if schema.field(name).type == TSTZ else table[name]
        for name in table.column_names
    }
    columns["day"] = pc.cast(columns[day_from], pa.date32())
    return pa.table([columns[name] for name in schema.names], schema=schema)


def _common_columns(sink: RowSink, resource: Resource, scope: Any) -> dict[str, Any]:
    row = dict(sink.resource_columns(resource))
    row.update(sink.scope_columns(scope))
    return row


def _attribute_columns(sink: RowSink, raw: Mapping[str, Any]) -> dict[str, Any]:
    attributes = {k: v for k, v in _jsonable(raw).items() if k not in _LOGFIRE_COLUMN_ATTRIBUTES}
    status_code = attributes.get("http.response.status_code", attributes.get("http.status_code"))
    tags = raw.get("logfire.tags")
    return {
        "attributes": dumps(attributes),
        "attributes_json_schema": sink.json_schema(attributes),
        "http_method": attributes.get("http.method", attributes.get("http.request.method")),
        "http_route": attributes.get("http.route"),
        "http_response_status_code": status_code,
        "url_full": attributes.get("url.full", attributes.get("http.url")),
        "url_path": attributes.get("url.path"),
        "url_query": attributes.get("url.query"),
        "tags": list(tags) if tags else None,
    }


def _exception_columns(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "is_exception": True,
        "exception_type": attributes.get("exception.type"),
        "exception_message": attributes.get("exception.message", ""),
        "exception_stacktrace": attributes.get("exception.stacktrace"),
    }


def _ingest_delay_us(span_id: int) -> int:
    return 800_000 + (span_id % 2_400) * 1_000


def _us(ns: int) -> int:
    return ns // 1_000


def span_rows(sink: RowSink, span: ReadableSpan) -> list[dict[str, Any]]:
    """One `span` row plus one `span_event` row per event."""
    context = span.get_span_context()
    attributes = span.attributes or {}
    status = span.status.status_code
    level = attributes.get("logfire.level_num", LEVEL_ERROR if status is StatusCode.ERROR else LEVEL_INFO)
    row = _common_columns(sink, span.resource, span.instrumentation_scope)
    row.update(_attribute_columns(sink, attributes))
    row.update(
        kind="span",
        trace_id=f"{context.trace_id:032x}",
        span_id=f"{context.span_id:016x}",
        parent_span_id=f"{span.parent.span_id:016x}" if span.parent else None,
        start_timestamp=_us(span.start_time),
        end_timestamp=_us(span.end_time),
        created_at=_us(span.end_time) + _ingest_delay_us(context.span_id),
        duration=(span.end_time - span.start_time) / 1e9,
        level=level,
        span_name=span.name,
        message=attributes.get("logfire.msg", span.name),
        otel_status_code=status.name,
        otel_status_message=span.status.description,
        otel_links=EMPTY_LINKS,
        is_exception=False,
    )
    events = [(event.name, event.timestamp, _jsonable(event.attributes)) for event in span.events]
    if events:
        row["otel_events"] = dumps(
            [{"name": name, "timestamp": _us(ts), "attributes": attrs} for name, ts, attrs in events]
        )
        first_exception = next((attrs for name, _, attrs in events if name == "exception"), None)
        if first_exception is not None:
            row.update(_exception_columns(first_exception))
    rows = [row]
    for index, (name, timestamp, event_attributes) in enumerate(events):
        rows.append(_event_row(sink, row, context.span_id, index, name, timestamp, event_attributes))
    return rows


def _event_row(
    sink: RowSink,
    span_row: dict[str, Any],
    span_id: int,
    index: int,
    name: str,
    timestamp: int,
    attributes: dict[str, Any],
) -> dict[str, Any]:
    row = {key: span_row[key] for key in _INHERITED_BY_EVENTS}
    is_exception = name == "exception"
    message = (
        f"{attributes.get('exception.type')}: {attributes.get('exception.message', '')}"
        if is_exception
        else name
    )
    row.update(
        kind="span_event",
        span_id=derived_span_id(span_id, index),
        parent_span_id=span_row["span_id"],
        start_timestamp=_us(timestamp),
        end_timestamp=_us(timestamp),
        created_at=span_row["created_at"],
        level=LEVEL_ERROR if is_exception else span_row["level"],
        span_name=name,
        message=message,
        attributes=dumps(attributes),
        attributes_json_schema=sink.json_schema(attributes),
        is_exception=is_exception,
    )
    if is_exception:
        row.update(_exception_columns(attributes))
    return row


def log_row(sink: RowSink, record: ReadableLogRecord, log_span_id: int) -> dict[str, Any]:
    log = record.log_record
    attributes = log.attributes or {}
    body = log.body
    row = _common_columns(sink, record.resource, record.instrumentation_scope)
    row.update(_attribute_columns(sink, attributes))
    template = attributes.get("logfire.msg_template")
    message = attributes.get("logfire.msg", body if isinstance(body, str) else dumps(body))
    timestamp = _us(log.timestamp)
    row.update(
        kind="log",
        trace_id=f"{log.trace_id:032x}" if log.trace_id else sink.anonymous_trace_id(log_span_id),
        span_id=f"{log_span_id:016x}",
        parent_span_id=f"{log.span_id:016x}" if log.span_id else None,
        start_timestamp=timestamp,
        end_timestamp=timestamp,
        created_at=timestamp + _ingest_delay_us(log_span_id),
        level=attributes.get("logfire.level_num", log.severity_number.value if log.severity_number else 9),
        span_name=template or message,
        message=message,
        log_body=None if isinstance(body, str) else dumps(body),
        otel_status_code="UNSET",
        is_exception=False,
    )
    if "exception.type" in attributes:
        row.update(_exception_columns(attributes))
    return row


class RecordsSpanExporter(SpanExporter):
    """Exports finished spans (and their events) into a RowSink."""

    def __init__(self, sink: RowSink) -> None:
        self.sink = sink

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            self.sink.rows.extend(span_rows(self.sink, span))
        return SpanExportResult.SUCCESS


class RecordsLogExporter(LogRecordExporter):
    """Exports log records into a RowSink; each log gets its own span id, as Logfire gives every row one."""

    def __init__(self, sink: RowSink, span_ids: Any) -> None:
        self.sink = sink
        self._span_ids = span_ids

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        for record in batch:
            self.sink.rows.append(log_row(self.sink, record, self._span_ids.generate_span_id()))
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class BufferedSpanProcessor(SpanProcessor):
    """Like BatchSpanProcessor but synchronous and deterministic: exports everything on force_flush().

    It also writes a `pending_span` row when a root span of a Logfire-instrumented scope starts, the way the
    Logfire SDK announces spans before they end.
    """

    def __init__(self, exporter: RecordsSpanExporter) -> None:
        self._exporter = exporter
        self._finished: list[ReadableSpan] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.parent is None and span.instrumentation_scope.name in PENDING_SPAN_SCOPES:
            self._exporter.sink.rows.append(pending_span_row(self._exporter.sink, span))

    def on_end(self, span: ReadableSpan) -> None:
        self._finished.append(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        finished, self._finished = self._finished, []
        self._exporter.export(finished)
        return True

    def shutdown(self) -> None:
        self.force_flush()


def pending_span_row(sink: RowSink, span: Span) -> dict[str, Any]:
    context = span.get_span_context()
    attributes = dict(span.attributes or {})
    row = _common_columns(sink, span.resource, span.instrumentation_scope)
    row.update(_attribute_columns(sink, {**attributes, "logfire.span_type": "pending_span"}))
    start = _us(span.start_time)
    row.update(
        kind="pending_span",
        trace_id=f"{context.trace_id:032x}",
        span_id=derived_span_id(context.span_id, 1_000),
        parent_span_id=f"{context.span_id:016x}",
        start_timestamp=start,
        end_timestamp=start,
        created_at=start + _ingest_delay_us(context.span_id),
        level=LEVEL_INFO,
        span_name=span.name,
        message=attributes.get("logfire.msg", span.name),
        otel_status_code="UNSET",
        is_exception=False,
    )
    return row
