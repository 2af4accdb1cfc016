"""Logfire's HTTP query API: GET /v1/schemas, GET /v1/read-token-info, POST /v2/query, GET /v1/query.

Shapes follow the vendor's query client (`logfire.query_client`) and Logfire's docs: read tokens raw or as
`Bearer`, 401 `{"detail": "Invalid token"}`, 400 for SQL the engine refuses, 422 shaped like FastAPI's
validation errors, 429 with `Retry-After`; JSON, CSV, NDJSON and Arrow IPC answers; RFC 9457 problem details
when the client prefers `application/problem+json`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo

import pyarrow as pa
from pydantic import AwareDatetime, BaseModel, Field, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.logfire.sql_engine import QueryError, QueryResult, SqlEngine

MAX_LIMIT = 10_000
V2_DEFAULT_LIMIT = 100
V1_DEFAULT_LIMIT = 500
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv"
NDJSON = "application/x-ndjson"
_ANSWER_TYPES = (JSON, ARROW, CSV, NDJSON)


class ProjectLike(Protocol):
    id: str


class ReadTokenLike(Protocol):
    @property
    def project(self) -> ProjectLike: ...

    def info(self) -> Mapping[str, Any]: ...


ReadTokenLookup = Callable[[str], ReadTokenLike | None]


def _valid_timezone(value: str | None) -> str | None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError, OSError):
            raise ValueError(f"unknown timezone {value!r}") from None
    return value


class QueryBody(BaseModel):
    """The body of POST /v2/query."""

    sql: str
    min_timestamp: AwareDatetime
    max_timestamp: AwareDatetime | None = None
    limit: Annotated[int, Field(ge=0, le=MAX_LIMIT)] = V2_DEFAULT_LIMIT
    timezone: str | None = None
    deployment_environment: list[str] | None = None
    explain: bool = False
    include_schema: bool = True

    _check_timezone = field_validator("timezone")(_valid_timezone)


class QueryParams(BaseModel):
    """The query string of GET /v1/query."""

    sql: str
    min_timestamp: AwareDatetime | None = None
    max_timestamp: AwareDatetime | None = None
    limit: Annotated[int, Field(ge=0, le=MAX_LIMIT)] = V1_DEFAULT_LIMIT
    json_rows: bool = False
    row_oriented: bool = False
    timezone: str | None = None

    _check_timezone = field_validator("timezone")(_valid_timezone)


def routes(
    engine: SqlEngine,
    read_token: ReadTokenLookup,
    *,
    throttle: Callable[[], float | None] = lambda: None,
) -> list[Route]:
    """The query API's routes; when `throttle()` returns seconds, the request gets a 429 (test control)."""
    api = _QueryApi(engine, read_token, throttle)
    return [
        Route("/v1/schemas", api.schemas, methods=["GET"]),
        Route("/v1/read-token-info", api.read_token_info, methods=["GET"]),
        Route("/v2/query", api.query_v2, methods=["POST"]),
        Route("/v1/query", api.query_v1, methods=["GET"]),
    ]


class _QueryApi:
    def __init__(self, engine: SqlEngine, read_token: ReadTokenLookup, throttle: Callable[[], float | None]):
        self._engine = engine
        self._read_token = read_token
        self._throttle = throttle

    def _authenticate(self, request: Request) -> ReadTokenLike | None:
        header = request.headers.get("authorization", "").strip()
        scheme, _, rest = header.partition(" ")
        token = rest.strip() if scheme.lower() == "bearer" else header
        return self._read_token(token) if token else None

    async def schemas(self, request: Request) -> Response:
        if self._authenticate(request) is None:
            return _invalid_token()
        return JSONResponse(self._engine.schemas())

    async def read_token_info(self, request: Request) -> Response:
        token = self._authenticate(request)
        if token is None:
            return _invalid_token()
        return JSONResponse(dict(token.info()))

    async def query_v2(self, request: Request) -> Response:
        token = self._authenticate(request)
        if token is None:
            return _invalid_token()
        try:
            raw = await request.json()
        except ValueError as error:
            return _json_invalid(error)
        try:
            body = QueryBody.model_validate(raw)
        except ValidationError as error:
            return _unprocessable(error, "body")
        refused = self._throttled(request)
        if refused is not None:
            return refused
        try:
            result = await asyncio.to_thread(
                self._engine.run,
                body.sql,
                project_id=token.project.id,
                min_timestamp=body.min_timestamp,
                max_timestamp=body.max_timestamp,
                limit=body.limit,
                timezone=body.timezone,
                environments=body.deployment_environment,
            )
        except QueryError as error:
            return _bad_query(request, str(error))
        return _answer(request, result, lambda r: _v2_json(r, body.include_schema))

    async def query_v1(self, request: Request) -> Response:
        token = self._authenticate(request)
        if token is None:
            return _invalid_token()
        try:
            params = QueryParams.model_validate(dict(request.query_params))
        except ValidationError as error:
            return _unprocessable(error, "query")
        refused = self._throttled(request)
        if refused is not None:
            return refused
        try:
            result = await asyncio.to_thread(
                self._engine.run,
                params.sql,
                project_id=token.project.id,
                min_timestamp=params.min_timestamp,
                max_timestamp=params.max_timestamp,
                limit=params.limit,
                timezone=params.timezone,
            )
        except QueryError as error:
            return _bad_query(request, str(error))
        rows_form = params.json_rows or params.row_oriented
        return _answer(request, result, lambda r: _v1_rows(r) if rows_form else _v1_columns(r))

    def _throttled(self, request: Request) -> Response | None:
        retry_after = self._throttle()
        if retry_after is None:
            return None
        seconds = max(0, round(retry_after))
        detail = f"Too many queries from read tokens: try again in {seconds} seconds."
        headers = {"retry-after": str(seconds)}
        if _prefers_problem(request):
            problem = _problem(429, "Too Many Requests", detail, retryable=True)
            problem["retry_after"] = seconds
            return JSONResponse(problem, status_code=429, headers=headers, media_type=PROBLEM_JSON)
        return JSONResponse({"detail": detail}, status_code=429, headers=headers)


# --- answers


def _field(column: Any) -> dict[str, Any]:
    return {
        "name": column.name,
        "data_type": column.datatype,
        "nullable": column.nullable,
        "dict_id": 0,
        "dict_is_ordered": False,
        "metadata": {},
    }


def _v2_json(result: QueryResult, include_schema: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if include_schema:
        body["schema"] = {"fields": [_field(c) for c in result.columns], "metadata": {}}
    body["data"] = result.rows
    return body


def _v1_rows(result: QueryResult) -> dict[str, Any]:
    columns = [{"name": c.name, "datatype": c.datatype, "nullable": c.nullable} for c in result.columns]
    return {"columns": columns, "rows": result.rows}


def _v1_columns(result: QueryResult) -> dict[str, Any]:
    return {
        "columns": [
            {
                "name": c.name,
                "datatype": c.datatype,
                "nullable": c.nullable,
                "values": [row[c.name] for row in result.rows],
            }
            for c in result.columns
        ]
    }


def _answer(request: Request, result: QueryResult, as_json: Callable[[QueryResult], Any]) -> Response:
    media_type = _negotiate(request.headers.get("accept", ""), _ANSWER_TYPES) or JSON
    if media_type == ARROW:
        return Response(_arrow_stream(result), media_type=ARROW)
    if media_type == CSV:
        return Response(_csv(result), media_type="text/csv; charset=utf-8")
    if media_type == NDJSON:
        lines = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in result.rows)
        return Response(lines, media_type=NDJSON)
    return JSONResponse(as_json(result))


def _arrow_stream(result: QueryResult) -> bytes:
    table = result.arrow if result.arrow is not None else pa.Table.from_pylist(result.rows)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _csv(result: QueryResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in result.columns])
    for row in result.rows:
        writer.writerow([_csv_value(row[c.name]) for c in result.columns])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return value


def _negotiate(accept: str, offered: tuple[str, ...]) -> str | None:
    """The offered media type the Accept header ranks highest (ties: first listed); None if none fits."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        matches = [
            o for o in offered if media in (o, "*/*") or (media.endswith("/*") and o.startswith(media[:-1]))
        ]
        for match in matches[:1]:
            if quality > 0 and (best is None or quality > best[0]):
                best = (quality, position, match)
    return best[2] if best else None


# --- errors


def _invalid_token() -> Response:
    return JSONResponse({"detail": "Invalid token"}, status_code=401)


def _prefers_problem(request: Request) -> bool:
    return _negotiate(request.headers.get("accept", ""), (JSON, PROBLEM_JSON)) == PROBLEM_JSON


def _problem(status: int, title: str, detail: str, *, retryable: bool) -> dict[str, Any]:
    return {
        "type": f"https://logfire.pydantic.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "retryable": retryable,
        "error_details": {"detail": detail},
    }


def _bad_query(request: Request, message: str) -> Response:
    if _prefers_problem(request):
        problem = _problem(400, "Query Error", message, retryable=False)
        return JSONResponse(problem, status_code=400, media_type=PROBLEM_JSON)
    return JSONResponse({"detail": message}, status_code=400)


def _unprocessable(error: ValidationError, location: str) -> Response:
    """422 shaped like FastAPI's RequestValidationError answer."""
    detail = []
    for item in error.errors(include_url=False):
        entry = {
            "type": item["type"],
            "loc": [location, *item["loc"]],
            "msg": item["msg"],
            "input": item["input"],
        }
        if "ctx" in item:
            entry["ctx"] = {
                k: v if isinstance(v, int | float | str) else str(v) for k, v in item["ctx"].items()
            }
        detail.append(entry)
    return JSONResponse({"detail": _jsonable(detail)}, status_code=422)


def _json_invalid(error: ValueError) -> Response:
    detail = [
        {
            "type": "json_invalid",
            "loc": ["body", getattr(error, "pos", 0)],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": getattr(error, "msg", str(error))},
        }
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
