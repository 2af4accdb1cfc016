"""Synthetic services instrumented with the real opentelemetry-sdk, run on a simulated clock.

Three services emit traces and logs over the 72 hours before `now`: `api-gateway` (HTTP server spans with
database and upstream client spans), `agent` (pydantic-ai style agent runs with LLM and tool-call spans) and
`billing-worker` (background jobs with failures and retries), plus standalone logs. Every duration, status
and exception comes from a seeded `random.Random`; span and trace ids from a seeded IdGenerator. Times are
offsets before `now`, so the same seed gives the same rows relative to `now`.

The work can be split into shards (so that several processes can generate it): every shard has the same
service instances, its own random streams, and its share of each workload's traces.
"""

from __future__ import annotations

import bisect
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import (
    Logger,
    LoggerProvider,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, Tracer, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.version import __version__ as OTEL_SDK_VERSION
from opentelemetry.trace import SpanKind, Status, StatusCode

from sandbox.logfire.exporter import BufferedSpanProcessor, RecordsLogExporter, RecordsSpanExporter, RowSink

WINDOW_S = 72 * 3600
NS = 1_000_000_000

SEVERITY = {"debug": 5, "info": 9, "notice": 10, "warn": 13, "error": 17, "fatal": 21}


class SeededIdGenerator(IdGenerator):
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1


class BufferedLogProcessor(LogRecordProcessor):
    """Hands log records to the exporter on force_flush(), in emission order."""

    def __init__(self, exporter: RecordsLogExporter) -> None:
        self._exporter = exporter
        self._pending: list[ReadWriteLogRecord] = []

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self._pending.append(log_record)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        pending, self._pending = self._pending, []
        self._exporter.export(
            [ReadableLogRecord(r.log_record, r.resource, r.instrumentation_scope) for r in pending]
        )
        return True

    def shutdown(self) -> None:
        self.force_flush()


# --- exceptions


def _exception_class(qualified: str, base: type[BaseException] = Exception) -> type[BaseException]:
    module, _, name = qualified.rpartition(".")
    return type(name, (base,), {"__module__": module or "builtins"})


@dataclass(frozen=True)
class Failure:
    """An exception type the workloads raise, with its messages and the frames of its traceback."""

    cls: type[BaseException]
    messages: tuple[str, ...]
    frames: tuple[tuple[str, int, str, str], ...]

    def make(self, rng: random.Random) -> tuple[BaseException, str]:
        message = rng.choice(self.messages)
        exception = self.cls(message)
        lines = ["Traceback (most recent call last):"]
        for filename, lineno, function, source in self.frames:
            lines.append(f'  File "{filename}", line {lineno}, in {function}')
            lines.append(f"    {source}")
        module = type(exception).__module__
        name = type(exception).__qualname__
        qualified = name if module == "builtins" else f"{module}.{name}"
        lines.append(f"{qualified}: {message}" if message else qualified)
        return exception, "\n".join(lines) + "\n"


_SITE = "/usr/local/lib/python3.12/site-packages"
_LLM_FRAMES = (
    ("/app/agent/runner.py", 88, "run", "result = await self.agent.run(prompt, deps=deps)"),
    (f"{_SITE}/pydantic_ai/agent/__init__.py", 512, "run", "async for _ in agent_run:"),
    (
        "/app/agent/llm_client.py",
        142,
        "request",
        "response = await self._client.chat.completions.create(**params)",
    ),
)
_TOOL_FRAMES = (
    ("/app/agent/runner.py", 88, "run", "result = await self.agent.run(prompt, deps=deps)"),
    (f"{_SITE}/pydantic_ai/_tool_manager.py", 201, "handle_call", "return await self._call_tool(call)"),
)

AGENT_FAILURES: dict[str, Failure] = {
    "rate_limit": Failure(
        _exception_class("openai.RateLimitError"),
        (
            "Error code: 429 - Rate limit reached for gpt-4o in organization org-sandbox on tokens per min",
            "Error code: 429 - You exceeded your current quota, please check your plan and billing details",
        ),
        (
            *_LLM_FRAMES,
            (f"{_SITE}/openai/_base_client.py", 1594, "request", "raise self._make_status_error(err)"),
        ),
    ),
    "read_timeout": Failure(
        _exception_class("httpx.ReadTimeout"),
        ("The read operation timed out",),
        (
            *_LLM_FRAMES,
            (f"{_SITE}/httpx/_transports/default.py", 118, "map_httpcore_exceptions", "raise mapped"),
        ),
    ),
    "unexpected_model_behavior": Failure(
        _exception_class("pydantic_ai.exceptions.UnexpectedModelBehavior"),
        ("Exceeded maximum retries (1) for output validation", "Received empty model response"),
        (*_LLM_FRAMES[:2], (f"{_SITE}/pydantic_ai/_agent_graph.py", 640, "_handle_text_response", "raise")),
    ),
    "validation_error": Failure(
        _exception_class("pydantic_core._pydantic_core.ValidationError", ValueError),
        (
            "1 validation error for SearchDocsArgs\nquery\n  Field required [type=missing]",
            "1 validation error for LookupOrderArgs\norder_id\n  Input should be a valid integer",
        ),
        (
            *_TOOL_FRAMES,
            ("/app/agent/tools/search_docs.py", 37, "search_docs", "args = SearchDocsArgs(**raw)"),
        ),
    ),
    "key_error": Failure(
        KeyError,
        ("'customer_id'", "'plan'"),
        (
            *_TOOL_FRAMES,
            ("/app/agent/tools/lookup_customer.py", 54, "lookup_customer", "return row['customer_id']"),
        ),
    ),
    "overloaded": Failure(
        _exception_class("anthropic.InternalServerError"),
        ("Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error'}}",),
        (
            *_LLM_FRAMES,
            (f"{_SITE}/anthropic/_base_client.py", 1068, "request", "raise self._make_status_error(err)"),
        ),
    ),
    "json_decode": Failure(
        _exception_class("json.decoder.JSONDecodeError", ValueError),
        ("Expecting value: line 1 column 1 (char 0)",),
        (
            *_TOOL_FRAMES,
            ("/app/agent/tools/fetch_invoice.py", 61, "fetch_invoice", "return json.loads(body)"),
        ),
    ),
}
# Relative frequency of each agent failure: clearly different so that "top exceptions" has a stable order.
AGENT_FAILURE_WEIGHTS = {
    "rate_limit": 40,
    "read_timeout": 22,
    "validation_error": 12,
    "unexpected_model_behavior": 6,
    "key_error": 3.5,
    "overloaded": 2,
    "json_decode": 1,
}
_FAILURE_PROVIDER = {"rate_limit": "openai", "overloaded": "anthropic"}
_TOOL_FAILURES = {"validation_error", "key_error", "json_decode"}
_RETRIED_FAILURES = {"rate_limit", "read_timeout", "overloaded", "validation_error"}

_GATEWAY_FRAMES = (
    (f"{_SITE}/starlette/middleware/errors.py", 165, "__call__", "await self.app(scope, receive, _send)"),
    ("/app/gateway/routes.py", 120, "handle", "return await endpoint(request)"),
)
GATEWAY_FAILURES: dict[int, Failure] = {
    500: Failure(
        _exception_class("sqlalchemy.exc.OperationalError"),
        ("(psycopg.OperationalError) server closed the connection unexpectedly",),
        (*_GATEWAY_FRAMES, ("/app/gateway/db.py", 77, "fetch", "rows = await session.execute(stmt)")),
    ),
    502: Failure(
        _exception_class("httpx.RemoteProtocolError"),
        ("Server disconnected without sending a response.",),
        (*_GATEWAY_FRAMES, ("/app/gateway/upstream.py", 49, "forward", "resp = await client.send(req)")),
    ),
    503: Failure(
        _exception_class("gateway.errors.ServiceUnavailable"),
        ("circuit breaker open for payments",),
        (*_GATEWAY_FRAMES, ("/app/gateway/breaker.py", 31, "guard", "raise ServiceUnavailable(name)")),
    ),
    504: Failure(
        _exception_class("httpx.ReadTimeout"),
        ("The read operation timed out",),
        (*_GATEWAY_FRAMES, ("/app/gateway/upstream.py", 52, "forward", "resp = await client.send(req)")),
    ),
}
HTTP_EXCEPTION = Failure(
    _exception_class("fastapi.exceptions.HTTPException"),
    ("",),
    (*_GATEWAY_FRAMES, ("/app/gateway/auth.py", 22, "require_user", "raise HTTPException(status_code=401)")),
)
BILLING_FAILURES: dict[str, Failure] = {
    "card_declined": Failure(
        _exception_class("stripe.error.CardError"),
        ("Your card was declined.", "Your card has insufficient funds."),
        (("/app/billing/jobs/charge_card.py", 44, "charge_card", "charge = stripe.Charge.create(**params)"),),
    ),
    "stripe_connection": Failure(
        _exception_class("stripe.error.APIConnectionError"),
        ("Unexpected error communicating with Stripe.",),
        (("/app/billing/jobs/charge_card.py", 44, "charge_card", "charge = stripe.Charge.create(**params)"),),
    ),
    "ledger_timeout": Failure(
        TimeoutError,
        ("ledger sync timed out after 30s",),
        (("/app/billing/jobs/sync_ledger.py", 71, "sync_ledger", "await asyncio.wait_for(push(batch), 30)"),),
    ),
    "smtp": Failure(
        _exception_class("smtplib.SMTPServerDisconnected"),
        ("Connection unexpectedly closed",),
        (("/app/billing/jobs/send_receipt.py", 28, "send_receipt", "smtp.send_message(msg)"),),
    ),
}


# --- the simulated world


@dataclass
class Instance:
    tracers: dict[str, Tracer]
    loggers: dict[str, Logger]


@dataclass
class World:
    rng: random.Random
    now_ns: int
    sink: RowSink
    instances: dict[str, list[Instance]] = field(default_factory=dict)
    flushers: list[Callable[[], Any]] = field(default_factory=list)

    def pick(self, service: str) -> Instance:
        return self.rng.choice(self.instances[service])

    def flush(self) -> None:
        for flush in self.flushers:
            flush()


SERVICES: dict[str, dict[str, Any]] = {
    "api-gateway": {
        "version": "2.14.1",
        "instances": 3,
        "scopes": {
            "http": ("opentelemetry.instrumentation.fastapi", "0.52b0"),
            "db": ("opentelemetry.instrumentation.asyncpg", "0.52b0"),
            "client": ("opentelemetry.instrumentation.httpx", "0.52b0"),
            "log": ("gateway", None),
        },
    },
    "agent": {
        "version": "0.9.3",
        "instances": 2,
        "scopes": {"agent": ("pydantic-ai", "1.0.10"), "log": ("agent", None)},
    },
    "billing-worker": {
        "version": "1.7.0",
        "instances": 2,
        "scopes": {
            "job": ("logfire", "4.10.0"),
            "db": ("opentelemetry.instrumentation.asyncpg", "0.52b0"),
            "client": ("opentelemetry.instrumentation.requests", "0.52b0"),
            "log": ("billing", None),
        },
    },
}


def build_world(seed: int, now_ns: int, sink: RowSink, shard: int) -> World:
    """The services' instances (the same for every shard of `seed`), exporting into `sink`."""
    instance_rng = random.Random(seed)
    ids = SeededIdGenerator(random.Random(f"{seed}/{shard}/spans"))
    span_processor = BufferedSpanProcessor(RecordsSpanExporter(sink))
    log_processor = BufferedLogProcessor(
        RecordsLogExporter(sink, SeededIdGenerator(random.Random(f"{seed}/{shard}/logs")))
    )
    world = World(rng=random.Random(f"{seed}/{shard}"), now_ns=now_ns, sink=sink)
    world.flushers += [span_processor.force_flush, log_processor.force_flush]
    for service, spec in SERVICES.items():
        world.instances[service] = []
        for index in range(spec["instances"]):
            resource = Resource(
                {
                    "service.name": service,
                    "service.version": spec["version"],
                    "service.namespace": "shop",
                    "service.instance.id": str(uuid.UUID(int=instance_rng.getrandbits(128), version=4)),
                    "deployment.environment.name": "production",
                    "process.pid": 1000 + 97 * index + len(service),
                    "telemetry.sdk.language": "python",
                    "telemetry.sdk.name": "opentelemetry",
                    "telemetry.sdk.version": OTEL_SDK_VERSION,
                }
            )
            tracer_provider = TracerProvider(resource=resource, id_generator=ids, shutdown_on_exit=False)
            tracer_provider.add_span_processor(span_processor)
            logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
            logger_provider.add_log_record_processor(log_processor)
            scopes = spec["scopes"]
            world.instances[service].append(
                Instance(
                    tracers={
                        k: tracer_provider.get_tracer(n, v) for k, (n, v) in scopes.items() if k != "log"
                    },
                    loggers={"log": logger_provider.get_logger(*scopes["log"])},
                )
            )
    return world


# --- helpers


def _lognormal_s(rng: random.Random, median_s: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median_s), sigma)


def _ns(seconds: float) -> int:
    return int(seconds * NS)


def start_span(
    tracer: Tracer,
    name: str,
    start_ns: int,
    parent: Span | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: dict[str, Any] | None = None,
) -> Span:
    context = trace.set_span_in_context(parent) if parent is not None else Context()
    return tracer.start_span(name, context=context, kind=kind, attributes=attributes, start_time=start_ns)


def fail(
    span: Span, failure: Failure, rng: random.Random, at_ns: int, *, escaped: bool = True
) -> BaseException:
    exception, stacktrace = failure.make(rng)
    span.record_exception(
        exception, attributes={"exception.stacktrace": stacktrace}, timestamp=at_ns, escaped=escaped
    )
    span.set_status(Status(StatusCode.ERROR, f"{type(exception).__name__}: {exception}"))
    return exception


def log(
    instance: Instance,
    level: str,
    template: str,
    at_ns: int,
    parent: Span | None = None,
    **arguments: Any,
) -> None:
    context = trace.set_span_in_context(parent) if parent is not None else Context()
    instance.loggers["log"].emit(
        timestamp=at_ns,
        observed_timestamp=at_ns,
        context=context,
        severity_number=_severity(level),
        severity_text=level.upper(),
        body=template.format(**arguments),
        attributes={"logfire.msg_template": template, **arguments},
    )


def _severity(level: str) -> SeverityNumber:
    return SeverityNumber(SEVERITY[level])


def start_offsets_s(rng: random.Random, count: int, margin_s: float) -> list[float]:
    """Seconds before `now` of `count` trace starts (a daily cycle, a busier last hour), oldest first."""
    minutes = WINDOW_S // 60
    cumulative: list[float] = []
    total = 0.0
    for minute in range(minutes):
        hours_ago = minute / 60
        weight = 1 + 0.45 * math.cos(2 * math.pi * (hours_ago - 9) / 24)
        total += weight * (1.8 if minute < 60 else 1.0)
        cumulative.append(total)
    scale = (WINDOW_S - margin_s) / WINDOW_S
    # Stratified: the i-th start falls in the i-th of `count` equal slices of the weight, so every hour gets
    # its expected share of traces (random within it) even in small datasets.
    picks = [bisect.bisect_right(cumulative, (i + rng.random()) / count * total) for i in range(count)]
    return sorted(((min(m, minutes - 1) + rng.random()) * 60 * scale + margin_s for m in picks), reverse=True)


# --- api-gateway


@dataclass(frozen=True)
class Route:
    method: str
    route: str
    weight: float
    median_s: float
    sigma: float
    table: str | None
    p4xx: float
    p5xx: float

    def path(self, rng: random.Random) -> tuple[str, str | None]:
        path = self.route
        if "{id}" in path:
            path = path.replace("{id}", str(rng.randint(1, 50_000)))
        query = (
            f"q={rng.choice(['shoes', 'red+dress', 'laptop', 'gift', 'usb-c'])}"
            if path == "/search"
            else None
        )
        return path, query


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", 10, 0.002, 0.3, None, 0.0, 0.002),
    Route("GET", "/users/{id}", 18, 0.025, 0.45, "users", 0.06, 0.008),
    Route("GET", "/products", 16, 0.040, 0.4, "products", 0.01, 0.008),
    Route("GET", "/products/{id}", 14, 0.030, 0.4, "products", 0.04, 0.008),
    Route("GET", "/orders/{id}", 9.5, 0.045, 0.45, "orders", 0.05, 0.01),
    Route("GET", "/search", 12, 0.35, 0.6, "products", 0.02, 0.02),
    Route("POST", "/cart/items", 8, 0.060, 0.4, "carts", 0.05, 0.01),
    Route("POST", "/login", 6, 0.12, 0.35, "users", 0.12, 0.008),
    Route("POST", "/checkout", 5, 0.9, 0.5, "orders", 0.04, 0.05),
    Route("GET", "/reports/export", 1.5, 2.2, 0.4, "orders", 0.02, 0.04),
)
_4XX = {"/login": (401, 401, 429), "/cart/items": (422, 400, 429), "/users/{id}": (404, 404, 401)}
_USER_AGENTS = (
    "Mozilla/5.0 (Macintosh)",
    "Mozilla/5.0 (Windows NT 10.0)",
    "okhttp/4.12.0",
    "python-httpx/0.27",
)


def _status(rng: random.Random, route: Route, incident: bool) -> int:
    p5xx = route.p5xx * (4 if incident and route.route == "/checkout" else 1)
    draw = rng.random()
    if draw < p5xx:
        return rng.choices((500, 502, 503, 504), weights=(5, 2, 1, 3))[0]
    if draw < p5xx + route.p4xx:
        return rng.choice(_4XX.get(route.route, (404, 400, 401, 429)))
    return 201 if route.method == "POST" and route.route != "/login" else 200


def gateway_request(world: World, start_offset_s: float) -> None:
    rng = world.rng
    instance = world.pick("api-gateway")
    route = rng.choices(ROUTES, weights=[r.weight for r in ROUTES])[0]
    status = _status(rng, route, incident=start_offset_s < 2700)
    duration = min(_lognormal_s(rng, route.median_s, route.sigma) * (1.6 if status >= 500 else 1.0), 25.0)
    start = world.now_ns - _ns(start_offset_s)
    end = start + _ns(duration)
    path, query = route.path(rng)
    attributes: dict[str, Any] = {
        "http.method": route.method,
        "http.request.method": route.method,
        "http.route": route.route,
        "http.scheme": "https",
        "url.scheme": "https",
        "url.path": path,
        "http.url": f"https://api.shop.example{path}" + (f"?{query}" if query else ""),
        "server.address": "api.shop.example",
        "client.address": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "user_agent.original": rng.choice(_USER_AGENTS),
        "logfire.msg": f"{route.method} {path}",
    }
    if query:
        attributes["url.query"] = query
    server = start_span(
        instance.tracers["http"], f"{route.method} {route.route}", start, None, SpanKind.SERVER, attributes
    )
    if route.table:
        _db_span(instance, server, rng, route, start, duration)
    if route.route == "/checkout":
        _payments_call(instance, server, rng, start, duration, status)
    server.set_attribute("http.status_code", status)
    server.set_attribute("http.response.status_code", status)
    if status >= 500:
        fail(server, GATEWAY_FAILURES[status], rng, end - _ns(0.0005))
    elif status in (401, 404) and rng.random() < 0.8:
        exception, stacktrace = HTTP_EXCEPTION.make(rng)
        server.record_exception(exception, {"exception.stacktrace": stacktrace}, end - _ns(0.0005), True)
        server.set_attribute("logfire.level_num", 13)
    if duration > 3.0:
        log(
            instance,
            "warn",
            "slow request {method} {route} took {duration_ms}ms",
            end,
            server,
            method=route.method,
            route=route.route,
            duration_ms=int(duration * 1000),
        )
    if route.route == "/login" and status == 200 and rng.random() < 0.5:
        log(instance, "info", "user {user_id} logged in", end, server, user_id=rng.randint(1, 50_000))
    server.end(end_time=end)


def _db_span(
    instance: Instance, parent: Span, rng: random.Random, route: Route, start: int, duration: float
) -> None:
    operation = "SELECT" if route.method == "GET" or route.route == "/login" else "INSERT"
    statement = (
        f"SELECT * FROM {route.table} WHERE id = $1"  # noqa: S608 (a span attribute, never run)
        if operation == "SELECT"
        else f"INSERT INTO {route.table} (payload) VALUES ($1)"  # noqa: S608
    )
    db_start = start + _ns(duration * rng.uniform(0.05, 0.2))
    db_duration = duration * rng.uniform(0.2, 0.6)
    span = start_span(
        instance.tracers["db"],
        f"{operation} shop",
        db_start,
        parent,
        SpanKind.CLIENT,
        {
            "db.system": "postgresql",
            "db.name": "shop",
            "db.operation": operation,
            "db.statement": statement,
            "logfire.msg": statement,
            "server.address": "db.internal",
            "server.port": 5432,
        },
    )
    span.end(end_time=db_start + _ns(db_duration))


def _payments_call(
    instance: Instance, parent: Span, rng: random.Random, start: int, duration: float, status: int
) -> None:
    call_start = start + _ns(duration * 0.3)
    upstream_status = 504 if status == 504 else (502 if status in (500, 502) else 200)
    span = start_span(
        instance.tracers["client"],
        "POST",
        call_start,
        parent,
        SpanKind.CLIENT,
        {
            "http.method": "POST",
            "http.request.method": "POST",
            "url.full": "https://api.payments.example/v1/charges",
            "http.url": "https://api.payments.example/v1/charges",
            "server.address": "api.payments.example",
            "http.status_code": upstream_status,
            "http.response.status_code": upstream_status,
            "logfire.msg": "POST api.payments.example/v1/charges",
        },
    )
    if upstream_status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    span.end(end_time=call_start + _ns(duration * 0.6))


# --- agent


@dataclass(frozen=True)
class Model:
    name: str
    system: str
    input_per_mtok: float
    output_per_mtok: float
    median_latency_s: float


MODELS: tuple[tuple[Model, float], ...] = (
    (Model("gpt-4o", "openai", 2.5, 10.0, 2.4), 35),
    (Model("gpt-4o-mini", "openai", 0.15, 0.6, 1.1), 30),
    (Model("claude-sonnet-4-5", "anthropic", 3.0, 15.0, 3.2), 20),
    (Model("claude-haiku-4-5", "anthropic", 1.0, 5.0, 1.4), 15),
)
TOOLS = ("search_docs", "lookup_customer", "lookup_order", "fetch_invoice", "create_ticket")
AGENTS = ("support-agent", "sql-agent", "triage-agent")


def agent_run(world: World, start_offset_s: float) -> None:
    rng = world.rng
    instance = world.pick("agent")
    tracer = instance.tracers["agent"]
    agent_name = rng.choice(AGENTS)
    recent = start_offset_s < 3600
    failure_key = _agent_failure(rng, recent)
    model = _pick_model(rng, _FAILURE_PROVIDER.get(failure_key or ""))
    start = world.now_ns - _ns(start_offset_s)
    root = start_span(
        tracer,
        "agent run",
        start,
        None,
        SpanKind.INTERNAL,
        {
            "gen_ai.agent.name": agent_name,
            "model_name": model.name,
            "agent_name": agent_name,
            "logfire.msg": f"{agent_name} run",
            "logfire.tags": ("llm",),
        },
    )
    t, failed = _agent_steps(world, instance, root, model, start + _ns(rng.uniform(0.001, 0.01)), failure_key)
    if failed is None:
        if rng.random() < 0.6:
            seconds = round((t - start) / NS, 2)
            log(
                instance,
                "info",
                "{agent_name} answered in {seconds}s",
                t,
                root,
                agent_name=agent_name,
                seconds=seconds,
            )
    else:
        root.set_status(Status(StatusCode.ERROR, f"{type(failed).__name__}: {failed}"))
        error = type(failed).__name__
        log(
            instance, "error", "{agent_name} run failed: {error}", t, root, agent_name=agent_name, error=error
        )
    root.end(end_time=t + _ns(0.002))


def _agent_steps(
    world: World, instance: Instance, root: Span, model: Model, t: int, failure: str | None
) -> tuple[int, BaseException | None]:
    """One to three steps (a model call, or a model call and a tool call); `failure` strikes one of them.
    Returns the end time and the exception that ended the run, if one did."""
    rng = world.rng
    steps = rng.choices((1, 2, 3), weights=(30, 50, 20))[0]
    failure_step = rng.randrange(steps) if failure else -1
    for step in range(steps):
        step_failure = failure if step == failure_step else None
        if step_failure in _TOOL_FAILURES or (step > 0 and step_failure is None and rng.random() < 0.5):
            t, _ = _llm_call(world, instance, root, model, t, None)
            t, failed = _tool_call(world, instance, root, t, step_failure)
        else:
            t, failed = _model_step(world, instance, root, model, t, step_failure)
        if failed is not None:
            return t, failed
    t, _ = _llm_call(world, instance, root, model, t, None)
    return t, None


def _model_step(
    world: World, instance: Instance, root: Span, model: Model, t: int, failure: str | None
) -> tuple[int, BaseException | None]:
    """A model call; a transient failure is retried once (a read timeout gives up 30% of the time)."""
    t, exception = _llm_call(world, instance, root, model, t, failure)
    if failure is None or exception is None:
        return t, None
    if failure not in _RETRIED_FAILURES or (failure == "read_timeout" and world.rng.random() < 0.3):
        return t, exception
    error = type(exception).__name__
    log(instance, "warn", "retrying {model} after {error}", t, root, model=model.name, error=error)
    t, _ = _llm_call(world, instance, root, model, t + _ns(world.rng.uniform(0.5, 4)), None)
    return t, None


def _pick_model(rng: random.Random, system: str | None) -> Model:
    """A model by popularity; a provider-specific failure (a 429 from OpenAI, a 529 from Anthropic) picks
    among that provider's models."""
    candidates = [(m, w) for m, w in MODELS if system is None or m.system == system]
    return rng.choices([m for m, _ in candidates], weights=[w for _, w in candidates])[0]


def _agent_failure(rng: random.Random, recent: bool) -> str | None:
    if rng.random() >= (0.22 if recent else 0.11):
        return None
    weights = dict(AGENT_FAILURE_WEIGHTS)
    if recent:
        weights["rate_limit"] *= 2
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _llm_call(
    world: World, instance: Instance, parent: Span, model: Model, start: int, failure: str | None
) -> tuple[int, BaseException | None]:
    rng = world.rng
    input_tokens = int(_lognormal_s(rng, 1800, 0.6))
    output_tokens = int(_lognormal_s(rng, 260, 0.7))
    duration = _lognormal_s(rng, model.median_latency_s, 0.45) * (0.15 if failure else 1)
    if failure == "read_timeout":
        duration = 30.0
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": model.system,
        "gen_ai.provider.name": model.system,
        "gen_ai.request.model": model.name,
        "logfire.msg": f"chat {model.name}",
    }
    span = start_span(
        instance.tracers["agent"], f"chat {model.name}", start, parent, SpanKind.CLIENT, attributes
    )
    end = start + _ns(duration)
    exception = None
    if failure:
        exception = fail(span, AGENT_FAILURES[failure], rng, end)
    else:
        cost = (input_tokens * model.input_per_mtok + output_tokens * model.output_per_mtok) / 1_000_000
        span.set_attributes(
            {
                "gen_ai.response.model": model.name,
                "gen_ai.usage.input_tokens": input_tokens,
                "gen_ai.usage.output_tokens": output_tokens,
                "operation.cost": round(cost, 8),
            }
        )
    span.end(end_time=end)
    return end, exception


def _tool_call(
    world: World, instance: Instance, parent: Span, start: int, failure: str | None
) -> tuple[int, BaseException | None]:
    rng = world.rng
    tool = {
        "validation_error": "search_docs",
        "key_error": "lookup_customer",
        "json_decode": "fetch_invoice",
    }.get(failure or "", rng.choice(TOOLS))
    duration = _lognormal_s(rng, 0.18 if tool != "search_docs" else 0.6, 0.5)
    span = start_span(
        instance.tracers["agent"],
        "running tool",
        start,
        parent,
        SpanKind.INTERNAL,
        {
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": f"call_{rng.getrandbits(48):012x}",
            "logfire.msg": f"running tool: {tool}",
        },
    )
    end = start + _ns(duration)
    raised = None
    if failure:
        exception = fail(span, AGENT_FAILURES[failure], rng, end)
        raised = None if failure in _RETRIED_FAILURES else exception
    span.end(end_time=end)
    return end, raised


# --- billing-worker

JOBS: tuple[tuple[str, float], ...] = (
    ("process_invoice", 50),
    ("charge_card", 25),
    ("send_receipt", 15),
    ("sync_ledger", 10),
)
_JOB_FAILURES: dict[str, tuple[tuple[str, float, bool], ...]] = {
    "charge_card": (("card_declined", 0.06, False), ("stripe_connection", 0.03, True)),
    "sync_ledger": (("ledger_timeout", 0.10, True),),
    "send_receipt": (("smtp", 0.03, True),),
    "process_invoice": (),
}
MAX_ATTEMPTS = 3


def billing_job(world: World, start_offset_s: float) -> None:
    rng = world.rng
    job = rng.choices([j for j, _ in JOBS], weights=[w for _, w in JOBS])[0]
    job_id = f"job_{rng.getrandbits(40):010x}"
    invoice_id = f"in_{rng.getrandbits(32):08x}"
    offset = start_offset_s
    for attempt in range(1, MAX_ATTEMPTS + 1):
        retry_in_s = _billing_attempt(world, job, job_id, invoice_id, attempt, offset)
        if retry_in_s is None or offset - retry_in_s < 60:
            return
        offset -= retry_in_s


def _billing_attempt(
    world: World, job: str, job_id: str, invoice_id: str, attempt: int, start_offset_s: float
) -> float | None:
    """Runs one attempt; returns the delay before the next attempt, or None when the job is finished."""
    rng = world.rng
    instance = world.pick("billing-worker")
    start = world.now_ns - _ns(start_offset_s)
    root = start_span(
        instance.tracers["job"],
        "job {job_name}",
        start,
        None,
        SpanKind.CONSUMER,
        {
            "job.name": job,
            "job_name": job,
            "job.id": job_id,
            "job.attempt": attempt,
            "invoice.id": invoice_id,
            "amount_cents": rng.randint(500, 250_000),
            "logfire.msg_template": "job {job_name}",
            "logfire.msg": f"job {job} #{invoice_id}",
            "logfire.tags": ("billing", "job"),
        },
    )
    t = start + _ns(rng.uniform(0.001, 0.005))
    db = start_span(
        instance.tracers["db"],
        "SELECT billing",
        t,
        root,
        SpanKind.CLIENT,
        {
            "db.system": "postgresql",
            "db.name": "billing",
            "db.operation": "SELECT",
            "db.statement": "SELECT * FROM invoices WHERE id = $1",
            "logfire.msg": "SELECT * FROM invoices WHERE id = $1",
        },
    )
    t += _ns(_lognormal_s(rng, 0.012, 0.4))
    db.end(end_time=t)
    failure = next((f for f, p, _ in _JOB_FAILURES[job] if rng.random() < p), None)
    retryable = any(f == failure and r for f, _, r in _JOB_FAILURES[job])
    if job == "charge_card":
        call = start_span(
            instance.tracers["client"],
            "POST",
            t,
            root,
            SpanKind.CLIENT,
            {
                "http.method": "POST",
                "url.full": "https://api.stripe.com/v1/charges",
                "server.address": "api.stripe.com",
                "logfire.msg": "POST api.stripe.com/v1/charges",
            },
        )
        t += _ns(_lognormal_s(rng, 0.45, 0.4))
        call.set_attribute("http.status_code", 402 if failure == "card_declined" else 200)
        call.end(end_time=t)
    t += _ns(_lognormal_s(rng, {"sync_ledger": 4.0, "send_receipt": 0.3}.get(job, 0.08), 0.5))
    if failure:
        fail(root, BILLING_FAILURES[failure], rng, t)
    root.end(end_time=t)
    if failure is None:
        return None
    if retryable and attempt < MAX_ATTEMPTS:
        delay = 30.0 * 2 ** (attempt - 1) + rng.uniform(0, 5)
        log(
            instance,
            "warn",
            "retrying job {job_name} (attempt {attempt}) in {delay}s",
            t,
            None,
            job_name=job,
            attempt=attempt + 1,
            delay=round(delay),
        )
        return delay
    _permanent_failure_log(instance, rng, job, job_id, failure, t)
    return None


def _permanent_failure_log(
    instance: Instance, rng: random.Random, job: str, job_id: str, failure: str, at_ns: int
) -> None:
    exception, stacktrace = BILLING_FAILURES[failure].make(rng)
    module, name = type(exception).__module__, type(exception).__qualname__
    instance.loggers["log"].emit(
        timestamp=at_ns,
        observed_timestamp=at_ns,
        context=Context(),
        severity_number=_severity("error"),
        severity_text="ERROR",
        body=f"job {job} {job_id} failed permanently",
        attributes={
            "logfire.msg_template": "job {job_name} {job_id} failed permanently",
            "job_name": job,
            "job_id": job_id,
            "exception.type": name if module == "builtins" else f"{module}.{name}",
            "exception.message": str(exception),
            "exception.stacktrace": stacktrace,
        },
    )


# --- standalone logs

STANDALONE_LOGS: tuple[tuple[str, str, str, float], ...] = (
    ("billing-worker", "debug", "scheduler heartbeat: {queued} jobs queued", 40),
    ("api-gateway", "info", "cache stats: hit ratio {ratio}", 25),
    ("agent", "info", "prompt cache refreshed ({entries} entries)", 12),
    ("api-gateway", "warn", "connection pool {pool} at {percent}% capacity", 10),
    ("billing-worker", "notice", "ledger checkpoint written", 6),
    ("agent", "warn", "tool {tool} is slow: p95 {ms}ms", 5),
    ("api-gateway", "error", "health check of {upstream} failed", 2),
    ("billing-worker", "fatal", "worker out of memory, restarting", 0.05),
)


def standalone_log(world: World, start_offset_s: float) -> None:
    rng = world.rng
    service, level, template, _ = rng.choices(STANDALONE_LOGS, weights=[w for *_, w in STANDALONE_LOGS])[0]
    arguments = {
        "queued": rng.randint(0, 40),
        "ratio": round(rng.uniform(0.7, 0.99), 2),
        "entries": rng.randint(50, 400),
        "pool": rng.choice(("primary", "replica")),
        "percent": rng.randint(80, 100),
        "tool": rng.choice(TOOLS),
        "ms": rng.randint(900, 4000),
        "upstream": rng.choice(("payments", "search-index")),
    }
    used = {k: v for k, v in arguments.items() if "{" + k + "}" in template}
    log(world.pick(service), level, template, world.now_ns - _ns(start_offset_s), None, **used)


# --- the whole run

# Traces per record, measured: each workload's share of the records and the rows one unit of it makes.
WORKLOAD_SHARES: tuple[tuple[Callable[[World, float], None], float, float, float], ...] = (
    # (workload, share of records, rows per unit, latest start in seconds before now)
    (gateway_request, 0.50, 1.95, 30),
    (agent_run, 0.30, 7.0, 120),
    (billing_job, 0.12, 3.3, 60),
    (standalone_log, 0.08, 1.0, 1),
)


def run_workloads(world: World, records: int, shard: int, shards: int) -> None:
    """Runs shard `shard` of `shards` of every workload over the 72-hour window in start order, then flushes
    the exporters. The shards of a dataset of about `records` rows together hold all of its traces."""
    schedule: list[tuple[float, int, Callable[[World, float], None]]] = []
    for index, (workload, share, rows_per_unit, margin_s) in enumerate(WORKLOAD_SHARES):
        count = max(1, round(records * share / rows_per_unit))
        count = count // shards + (1 if shard < count % shards else 0)
        schedule += [(offset, index, workload) for offset in start_offsets_s(world.rng, count, margin_s)]
    schedule.sort(key=lambda item: (-item[0], item[1]))
    for offset, _, workload in schedule:
        workload(world, offset)
    world.flush()


def service_names() -> Sequence[str]:
    return tuple(SERVICES)
