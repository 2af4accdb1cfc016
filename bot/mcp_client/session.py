"""One MCP session to one workspace's Logfire, held open by an owner task.

The SDK requires a `Client` to be entered and exited in the same task, and a transport failure cancels the
task that entered it; so a dedicated owner task enters it, keeps it open until it is closed or idle, and
callers in other tasks use it concurrently. Failures become the typed errors of `bot.errors`; a lost session
raises `SessionLost` so the pool can open a new one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.auth.utils import extract_field_from_www_auth, extract_scope_from_www_auth
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from bot import __version__
from bot.errors import InsufficientScope, LogfireBotError, LogfireUnavailable, NotConnected, ToolFailed
from bot.http import new_http_client

log = logging.getLogger(__name__)

SESSION_NOT_FOUND = -32600
REQUEST_TIMEOUT = -32001
CONNECTION_CLOSED = -32000
LIST_PAGE_CAP = 20
CLIENT_INFO = types.Implementation(name="logfire-for-slack", version=__version__)


class SessionLost(Exception):
    """The server forgot the session or the connection broke; a new session may succeed."""


@dataclass(frozen=True)
class SessionSettings:
    handshake: str = "legacy"  # "legacy" (initialize) or "auto" (discover, falling back to initialize)
    call_timeout: float = 60.0
    connect_timeout: float = 30.0
    idle_seconds: float = 300.0


@dataclass
class _HttpFailure:
    status: int
    response: httpx2.Response
    at: float


class McpSession:
    def __init__(self, mcp_url: str, auth: httpx2.Auth, settings: SessionSettings) -> None:
        self.mcp_url = mcp_url
        self.auth = auth
        self.settings = settings
        self.in_flight = 0
        self.last_used = time.monotonic()
        self._client: Client | None = None
        self._ready: asyncio.Future[None] | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_failure: _HttpFailure | None = None

    @property
    def alive(self) -> bool:
        return self._client is not None and self._task is not None and not self._task.done()

    async def open(self) -> None:
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._own(), name=f"mcp-session {self.mcp_url}")
        try:
            async with asyncio.timeout(self.settings.connect_timeout):
                await asyncio.shield(self._ready)
        except TimeoutError:
            await self.close()
            raise LogfireUnavailable("the MCP session did not open", self.settings.connect_timeout) from None
        except Exception as error:
            raise self._typed(error, "initialize") from None

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=5)
            except (TimeoutError, Exception):  # the session is going away either way
                self._task.cancel()

    async def list_tools(self) -> tuple[list[types.Tool], str | None]:
        """Every page of `tools/list`, and the server's instructions."""
        client = self._connected()
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(LIST_PAGE_CAP):
            page = await self._request("tools/list", client.list_tools(cursor=cursor))
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        return tools, client.instructions

    async def call_tool(
        self, name: str, arguments: dict[str, Any], read_timeout_seconds: float | None = None
    ) -> types.CallToolResult:
        client = self._connected()
        seconds = read_timeout_seconds or self.settings.call_timeout
        return await self._request(
            name, client.call_tool(name, arguments, read_timeout_seconds=seconds), seconds
        )

    def _connected(self) -> Client:
        if not self.alive:
            raise SessionLost("the session is closed")
        assert self._client is not None
        return self._client

    async def _request(self, what: str, call: Any, patience: float | None = None) -> Any:
        self.in_flight += 1
        self.last_used = time.monotonic()
        try:
            return await call
        except MCPError as error:
            raise self._typed(error, what, patience) from None
        except (httpx2.HTTPError, OSError) as error:
            raise SessionLost(f"transport error: {type(error).__name__}") from None
        finally:
            self.in_flight -= 1
            self.last_used = time.monotonic()

    def _typed(self, error: Exception, what: str, patience: float | None = None) -> Exception:
        """The error a user (or the pool) can act on, from whatever the SDK raised."""
        if isinstance(error, LogfireBotError | SessionLost):
            return error
        code = getattr(error, "code", None)
        if code == SESSION_NOT_FOUND:
            return SessionLost("the server no longer knows this session")
        if code == CONNECTION_CLOSED:
            return SessionLost("the connection closed")
        if code == REQUEST_TIMEOUT:
            return LogfireUnavailable(
                f"`{what}` did not answer in time", patience or self.settings.call_timeout
            )
        if failure := self._recent_failure():
            return self._http_error(failure)
        if isinstance(error, MCPError):
            return ToolFailed(what, error.message)
        return LogfireUnavailable(f"cannot open an MCP session: {type(error).__name__}")

    def _recent_failure(self) -> _HttpFailure | None:
        failure = self._last_failure
        return failure if failure is not None and time.monotonic() - failure.at < 30 else None

    def _http_error(self, failure: _HttpFailure) -> LogfireBotError:
        if failure.status == 401:
            return getattr(self.auth, "last_error", None) or NotConnected(
                "Logfire no longer accepts this token"
            )
        if failure.status == 403:
            return InsufficientScope(_required_scope(failure.response))
        return LogfireUnavailable(f"Logfire answered HTTP {failure.status}")

    async def _remember_failure(self, response: httpx2.Response) -> None:
        if response.status_code >= 400 and response.status_code != 404:
            self._last_failure = _HttpFailure(response.status_code, response, time.monotonic())

    async def _own(self) -> None:
        assert self._ready is not None
        try:
            async with (
                new_http_client(auth=self.auth, event_hooks={"response": [self._remember_failure]}) as http,
                Client(
                    streamable_http_client(self.mcp_url, http_client=http),
                    mode=self.settings.handshake,
                    read_timeout_seconds=self.settings.call_timeout,
                    client_info=CLIENT_INFO,
                    cache=None,
                ) as client,
            ):
                self._client = client
                self._ready.set_result(None)
                await self._hold_until_idle_or_closed()
        except asyncio.CancelledError:
            if not self._ready.done():
                self._ready.set_exception(SessionLost("cancelled"))
            raise
        except Exception as error:  # the SDK ends a broken session with an ExceptionGroup
            if not self._ready.done():
                self._ready.set_exception(error)
            else:
                log.info("MCP session to %s ended: %s", self.mcp_url, _summary(error))
        finally:
            self._client = None

    async def _hold_until_idle_or_closed(self) -> None:
        while not self._stop.is_set():
            idle_for = time.monotonic() - self.last_used
            if self.in_flight == 0 and idle_for >= self.settings.idle_seconds:
                log.info("closing the idle MCP session to %s", self.mcp_url)
                return
            remaining = max(0.05, self.settings.idle_seconds - idle_for)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=remaining)
            except TimeoutError:
                continue


def _required_scope(response: httpx2.Response) -> str | None:
    """RFC 6750's `scope` attribute, else a scope named in the error description ("Required scope: x")."""
    if scope := extract_scope_from_www_auth(response):
        return scope
    description = extract_field_from_www_auth(response, "error_description") or ""
    match = re.search(r"scopes?:?\s+([\w:.\- ]+)", description, re.IGNORECASE)
    return match.group(1).strip() if match else None


def _summary(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(_summary(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"
