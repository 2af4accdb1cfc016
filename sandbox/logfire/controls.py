"""Test controls of the sandbox: token expiry and revocation, fault injection, the call log and counters.

Tests in the same process use `Controls` directly; tests driving another process use the same operations
over HTTP under `/_sandbox/`, answered only to loopback clients. Faults target `tools/call` requests of one
tool (or of any tool when `tool` is None) and fire `times` times (None: until cleared). HTTP 500 and dropped
sessions answer before the MCP server sees the call, so those calls are counted in `faults_fired`, not logged.
A dropped session needs one: it fires only on requests that carry an `mcp-session-id` (stateful clients).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import INVALID_REQUEST, CallToolResult, ErrorData, JSONRPCError, TextContent
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.logfire.oauth_server import SandboxAccessToken, SandboxOAuthProvider
from sandbox.logfire.projects import Directory

FaultKind = Literal["latency", "http_500", "drop_session", "is_error"]
FAULT_KINDS: tuple[FaultKind, ...] = ("latency", "http_500", "drop_session", "is_error")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
SESSION_HEADER = b"mcp-session-id"
# How a client connects: `initialize` opens a session; 2026-07-28 clients (Client mode "auto") are stateless
# and send `server/discover` instead. Both count as an initialization.
CONNECT_METHODS = frozenset({"initialize", "server/discover"})


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]
    project_id: str | None
    client_id: str | None
    write: bool
    at: datetime


@dataclass
class Fault:
    kind: FaultKind
    tool: str | None = None  # None: any tool
    seconds: float = 0.0  # latency
    message: str = "Injected failure"  # is_error
    times: int | None = None  # None: until cleared

    def matches(self, tool: str) -> bool:
        return self.tool is None or self.tool == tool


@dataclass
class _State:
    faults: list[Fault] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    initializations: int = 0
    faults_fired: Counter[str] = field(default_factory=Counter)
    throttle: tuple[float, int | None] | None = None  # (retry_after, times)
    dropped_sessions: set[str] = field(default_factory=set)


class Controls:
    def __init__(
        self, provider: SandboxOAuthProvider, directory: Directory, write_tools: frozenset[str]
    ) -> None:
        self._provider = provider
        self._directory = directory
        self._write_tools = write_tools
        self._state = _State()
        self._lock = threading.Lock()

    # --- tokens --------------------------------------------------------------------------------------------

    def expire_access_tokens(self, token: str | None = None) -> int:
        """Expire one access token (or all) now, so the next MCP request gets 401; the number expired."""
        return self._provider.expire_access_tokens(token)

    def restrict_scopes(self, token: str, scopes: list[str]) -> bool:
        """Narrow an access token's scopes, so the MCP server answers 403 insufficient_scope."""
        return self._provider.restrict_scopes(token, scopes)

    def expire_authorization_codes(self) -> int:
        return self._provider.expire_authorization_codes()

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token together with its whole family; False if unknown."""
        return self._provider.revoke(token)

    def issue_read_token(self, project: str | None = None) -> str:
        """A query-API read token for a project of this region (default: the first project)."""
        chosen = self._directory.project(project) if project else self._directory.default_project
        if chosen is None:
            raise KeyError(f"Unknown project: {project}")
        return self._directory.issue_read_token(chosen).token

    # --- faults --------------------------------------------------------------------------------------------

    def inject(
        self,
        kind: FaultKind,
        *,
        tool: str | None = None,
        seconds: float = 0.0,
        message: str = "Injected failure",
        times: int | None = None,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind: {kind}")
        if kind == "drop_session" and times is None:
            times = 1
        fault = Fault(kind=kind, tool=tool, seconds=seconds, message=message, times=times)
        with self._lock:
            self._state.faults.append(fault)
        return fault

    def throttle_query_api(self, *, retry_after: float = 1.0, times: int | None = 1) -> None:
        """Answer the next `times` query-API requests with 429 and this Retry-After."""
        with self._lock:
            self._state.throttle = (retry_after, times)

    def clear_faults(self) -> None:
        with self._lock:
            self._state.faults.clear()
            self._state.throttle = None

    def reset(self) -> None:
        """Clear faults, the call log and the counters (tokens and sessions stay)."""
        with self._lock:
            self._state = _State(dropped_sessions=self._state.dropped_sessions)
        self._provider.refresh_count = 0

    # --- observations --------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[ToolCall]:
        with self._lock:
            return list(self._state.calls)

    @property
    def write_calls(self) -> list[ToolCall]:
        return [call for call in self.calls if call.write]

    @property
    def tool_calls(self) -> Counter[str]:
        return Counter(call.name for call in self.calls)

    @property
    def initializations(self) -> int:
        with self._lock:
            return self._state.initializations

    @property
    def token_refreshes(self) -> int:
        return self._provider.refresh_count

    @property
    def faults_fired(self) -> Counter[str]:
        with self._lock:
            return Counter(self._state.faults_fired)

    def snapshot(self) -> dict[str, Any]:
        """Counters and call log as JSON-ready data (what `GET /_sandbox/state` answers)."""
        calls = [{**asdict(call), "at": call.at.isoformat()} for call in self.calls]
        return {
            "initializations": self.initializations,
            "token_refreshes": self.token_refreshes,
            "tool_calls": dict(self.tool_calls),
            "write_calls": [call for call in calls if call["write"]],
            "calls": calls,
            "faults_fired": dict(self.faults_fired),
        }

    # --- hooks used by the servers -------------------------------------------------------------------------

    def _take(self, kinds: tuple[FaultKind, ...], tool: str) -> Fault | None:
        """The first active fault of these kinds for this tool, counting it as fired."""
        with self._lock:
            for fault in self._state.faults:
                if fault.kind in kinds and fault.matches(tool):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._state.faults.remove(fault)
                    self._state.faults_fired[fault.kind] += 1
                    return fault
        return None

    def query_api_throttle(self) -> float | None:
        """Retry-After seconds if this query-API request must get a 429, else None."""
        with self._lock:
            if self._state.throttle is None:
                return None
            retry_after, times = self._state.throttle
            if times is not None:
                self._state.throttle = (retry_after, times - 1) if times > 1 else None
            self._state.faults_fired["query_api_429"] += 1
            return retry_after

    async def mcp_middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """`MCPServer` middleware: counts connections, records tool calls, applies latency and is_error."""
        if ctx.method in CONNECT_METHODS:
            result = await call_next(ctx)
            with self._lock:
                self._state.initializations += 1
            return result
        if ctx.method != "tools/call" or not ctx.params:
            return await call_next(ctx)
        name = str(ctx.params.get("name", ""))
        arguments = ctx.params.get("arguments")
        self._record(name, arguments if isinstance(arguments, dict) else {})
        latency = self._take(("latency",), name)
        if latency is not None:
            await asyncio.sleep(latency.seconds)
        failure = self._take(("is_error",), name)
        if failure is not None:
            return CallToolResult(content=[TextContent(type="text", text=failure.message)], is_error=True)
        return await call_next(ctx)

    def _record(self, name: str, arguments: dict[str, Any]) -> None:
        token = get_access_token()
        project_id = token.project_id if isinstance(token, SandboxAccessToken) else None
        call = ToolCall(
            name=name,
            arguments=dict(arguments),
            project_id=project_id,
            client_id=token.client_id if token else None,
            write=name in self._write_tools,
            at=datetime.now(UTC),
        )
        with self._lock:
            self._state.calls.append(call)

    def mcp_transport_faults(self, app: ASGIApp) -> ASGIApp:
        """Wrap the MCP endpoint: HTTP 500 and dropped sessions, decided from the JSON-RPC body."""

        async def faulty(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            session = dict(scope["headers"]).get(SESSION_HEADER, b"").decode()
            with self._lock:
                dropped = session in self._state.dropped_sessions
            if dropped:
                await _session_not_found()(scope, receive, send)
                return
            body, replay = await _buffer(receive)
            tool = _called_tool(body)
            kinds: tuple[FaultKind, ...] = ("http_500", "drop_session") if session else ("http_500",)
            fault = self._take(kinds, tool) if tool is not None else None
            if fault is None:
                await app(scope, replay, send)
            elif fault.kind == "http_500":
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, replay, send)
            else:
                with self._lock:
                    self._state.dropped_sessions.add(session)
                await _session_not_found()(scope, replay, send)

        return faulty

    # --- HTTP endpoints ------------------------------------------------------------------------------------

    def routes(self, prefix: str = "/_sandbox") -> list[Route]:
        endpoints: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
            "/state": ("GET", lambda _: self.snapshot()),
            "/reset": ("POST", lambda _: self.reset()),
            "/tokens/expire": (
                "POST",
                lambda body: {"expired": self.expire_access_tokens(body.get("token"))},
            ),
            "/tokens/revoke": ("POST", lambda body: {"revoked": self.revoke(str(body.get("token", "")))}),
            "/codes/expire": ("POST", lambda _: {"expired": self.expire_authorization_codes()}),
            "/read-tokens": ("POST", lambda body: {"token": self.issue_read_token(body.get("project"))}),
            "/faults": ("POST", lambda body: asdict(self.inject(**body))),
            "/faults/clear": ("POST", lambda _: self.clear_faults()),
            "/query-api/throttle": ("POST", lambda body: self.throttle_query_api(**body)),
        }
        return [
            Route(prefix + path, _loopback_only(operation), methods=[method])
            for path, (method, operation) in endpoints.items()
        ]


def _loopback_only(operation: Callable[[dict[str, Any]], Any]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if request.client is None or request.client.host not in LOOPBACK:
            return JSONResponse({"detail": "Sandbox controls answer loopback clients only"}, status_code=403)
        body = await request.json() if request.method == "POST" and await request.body() else {}
        try:
            result = operation(body)
        except (TypeError, ValueError, KeyError) as error:
            return JSONResponse({"detail": str(error)}, status_code=400)
        return JSONResponse(result if result is not None else {"ok": True})

    return endpoint


def _session_not_found() -> Response:
    """What the SDK's session manager answers for an unknown session (the client raises MCPError -32600)."""
    body = JSONRPCError(
        jsonrpc="2.0", id=None, error=ErrorData(code=INVALID_REQUEST, message="Session not found")
    )
    return Response(
        body.model_dump_json(by_alias=True, exclude_unset=True), 404, media_type="application/json"
    )


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _called_tool(body: bytes) -> str | None:
    try:
        message = json.loads(body) if body else None
    except ValueError:
        return None
    if isinstance(message, dict) and message.get("method") == "tools/call":
        params = message.get("params") or {}
        return str(params.get("name", "")) if isinstance(params, dict) else None
    return None
