"""Reading Web API arguments the way Slack does (query string, form or JSON body) and Slack's error shape."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


class ApiError(Exception):
    """A Web API error: `{"ok": false, "error": ...}` plus extra fields, with HTTP 200 unless `status`."""

    def __init__(
        self, error: str, *, status: int = 200, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(*messages: str) -> ApiError:
    return ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})


async def read_params(request: web.Request) -> dict[str, Any]:
    """Merge the query string with a form or JSON body (JSON values keep their types)."""
    params: dict[str, Any] = dict(request.query)
    raw = await request.read()
    if not raw:
        return params
    if request.content_type == "application/json":
        try:
            body = json.loads(raw)
        except ValueError as e:
            raise ApiError("invalid_json") from e
        if not isinstance(body, dict):
            raise ApiError("invalid_json")
        return params | body
    if request.content_type.startswith("multipart/"):
        raise ApiError("invalid_form_data")
    return params | dict(parse_qsl(raw.decode(), keep_blank_values=True))


def bearer_token(request: web.Request, params: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    token = params.pop("token", None)
    return str(token) if token else None


def flag(value: Any) -> bool | None:
    """A boolean argument as the SDKs send it: JSON bool, "true"/"false", "1"/"0"; None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true")


def json_arg(params: dict[str, Any], name: str) -> Any:
    """An argument that may arrive as a JSON string (query/form) or as a JSON value (JSON body)."""
    value = params.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError as e:
            raise ApiError(f"invalid_{name}_format" if name == "blocks" else "invalid_arguments") from e
    return value


def required(params: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if params.get(name) in (None, "")]
    if missing:
        raise invalid_arguments(*(f"missing required field: {name}" for name in missing))
