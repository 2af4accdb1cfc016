"""`SandboxLogfire`: the local Logfire of one region on one port (OAuth AS, MCP server, query API, controls).

Like logfire-us.pydantic.dev, one origin serves everything: the issuer is the base URL, the MCP server is at
`{base}/mcp`, its protected-resource metadata at `{base}/.well-known/oauth-protected-resource/mcp`. The server
runs uvicorn in a background thread with its own event loop, so DuckDB work never blocks a test's loop.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Self

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.logfire import catalog, query_api
from sandbox.logfire.controls import Controls
from sandbox.logfire.dataset import Dataset, generate
from sandbox.logfire.mcp_server import build_mcp_server
from sandbox.logfire.oauth_server import SandboxOAuthProvider, auth_routes
from sandbox.logfire.projects import Directory
from sandbox.logfire.sql_engine import SqlEngine
from sandbox.logfire.ui import ui_routes

Region = Literal["us", "eu"]
REGION_LABELS: dict[str, str] = {"us": "Logfire US", "eu": "Logfire EU"}
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}  # noqa: S104 (a host the user may ask to bind)


class SandboxLogfire:
    """One region of the local Logfire. Construct (binds the port), `start()`, use, `stop()`; runs once."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: Region = "us",
        auto_approve: bool = False,
        seed: int = 7,
        records: int = 100_000,
        access_token_ttl: int = 3600,
        authorization_server_url: str | None = None,
    ) -> None:
        if region not in REGION_LABELS:
            raise ValueError(f"Unknown region {region!r}: use 'us' or 'eu'")
        self.region = region
        self.region_label = REGION_LABELS[region]
        self._socket = _bind(host, port)
        self._url_host = _url_host(host)
        self.port: int = self._socket.getsockname()[1]
        self.base_url = f"http://{self._url_host}:{self.port}"
        self.authorization_server_url = authorization_server_url or self.issuer
        self.directory = Directory(region=region, seed=seed, records=records)
        self.provider = SandboxOAuthProvider(
            issuer=self.issuer,
            resource=self.mcp_url,
            directory=self.directory,
            region_label=self.region_label,
            auto_approve=auto_approve,
            access_token_ttl=access_token_ttl,
        )
        self.controls = Controls(self.provider, self.directory, catalog.WRITE_TOOL_NAMES)
        self.datasets: dict[str, Dataset] = {}
        self.engine: SqlEngine | None = None
        self.startup_seconds: float | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    @property
    def query_api_base(self) -> str:
        return self.base_url

    def dataset(self, project: str = "production") -> Dataset:
        """The generated data of a project (by name), e.g. for its ground truth."""
        return self.datasets[project]

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        if self._thread is not None:
            raise RuntimeError("A SandboxLogfire starts once")
        started = time.perf_counter()
        now = datetime.now(UTC)
        for project in self.directory.projects:
            self.datasets[project.name] = generate(
                seed=project.seed, records=project.records, now=now, project_id=project.id
            )
        self.engine = SqlEngine(list(self.datasets.values()))
        config = uvicorn.Config(
            self._app(self.engine), log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"sandbox-logfire-{self.region}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The sandbox Logfire server did not start")
            time.sleep(0.01)
        self.startup_seconds = time.perf_counter() - started

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    # --- composition ---------------------------------------------------------------------------------------

    def _app(self, engine: SqlEngine) -> Starlette:
        mcp = build_mcp_server(
            engine=engine,
            provider=self.provider,
            directory=self.directory,
            base_url=self.base_url,
            mcp_url=self.mcp_url,
            authorization_server_url=self.authorization_server_url,
            region_label=self.region_label,
            middleware=[self.controls.mcp_middleware],
        )
        mcp_app = mcp.streamable_http_app(host=self._url_host)
        routes = [
            *auth_routes(self.provider),
            *query_api.routes(engine, self.directory.read_token, throttle=self.controls.query_api_throttle),
            *self.controls.routes(),
            *ui_routes(self.directory, self.region_label),
            Mount("", app=self.controls.mcp_transport_faults(mcp_app)),
        ]
        return Starlette(routes=routes, lifespan=lambda _: mcp.session_manager.run())


def _bind(host: str, port: int) -> socket.socket:
    """Bind before building the app, so every URL carries the real port (port 0 = ephemeral)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=128)


def _url_host(host: str) -> str:
    if host in _WILDCARD_HOSTS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def serve(*, host: str, port: int, region: Region, auto_approve: bool, seed: int, records: int) -> int:
    """`logfire-bot sandbox`: serve until Ctrl-C (or SIGTERM)."""
    sandbox = SandboxLogfire(
        host=host, port=port, region=region, auto_approve=auto_approve, seed=seed, records=records
    )
    print(f"Generating {records} records and starting the {sandbox.region_label} sandbox…", flush=True)
    sandbox.start()
    print(f"MCP URL:        {sandbox.mcp_url}")
    print(f"Issuer:         {sandbox.issuer}")
    print(f"Query API base: {sandbox.query_api_base}")
    print(f"Controls:       {sandbox.base_url}/_sandbox/state (loopback only; read tokens for the query API:")
    print(f'                POST {sandbox.base_url}/_sandbox/read-tokens with {{"project": "production"}})')
    print(f"Started in {sandbox.startup_seconds:.1f} s. Ctrl-C to stop.", flush=True)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stopping.wait()
    print("Stopping.")
    sandbox.stop()
    return 0
