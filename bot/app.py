"""The Slack app: a Bolt `AsyncApp` served by aiohttp (or Socket Mode), with the Logfire OAuth callback and
health routes beside it. `logfire-bot run` serves it; the demo and the tests start it on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.charts import default_renderer
from bot.config import ConfigError, Settings
from bot.handlers import register_listeners
from bot.handlers.connection import connection_callbacks
from bot.handlers.dedupe import forget_old_events, sweep_old_events
from bot.handlers.jobs import Jobs
from bot.manifest import bot_scopes
from bot.oauth.callback_page import CALLBACK_PATH, callback_handler
from bot.services import Services
from bot.slack_installations import EncryptedInstallationStore

log = logging.getLogger(__name__)

DRAIN_SECONDS = 30.0
SLACK_TIMEOUT_SECONDS = 30  # slack_sdk's default, per Web API call


@dataclass
class SlackBot:
    services: Services
    app: AsyncApp
    web: web.Application
    jobs: Jobs


def build(services: Services) -> SlackBot:
    """The Bolt app with every listener, and the aiohttp app serving it plus our own routes."""
    settings = services.settings
    jobs = Jobs()
    app = _bolt_app(services)
    register_listeners(app, services, jobs)
    web_app = app.web_app(path="/slack/events", port=settings.port)
    web_app.middlewares.append(jobs.count_requests)
    on_connected, on_failed = connection_callbacks(app, services)
    web_app.router.add_get(CALLBACK_PATH, callback_handler(services.flow, on_connected, on_failed))
    web_app.router.add_get("/healthz", _health(services, jobs))
    web_app.on_shutdown.append(lambda _: jobs.drain(DRAIN_SECONDS))
    web_app.on_cleanup.append(lambda _: _close_session(app.client))
    return SlackBot(services, app, web_app, jobs)


def _slack_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """The Web API client: one HTTP session whose connections are kept alive (without it every call would
    open a session and a connection), rate limits retried."""
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS))
    client = AsyncWebClient(
        token=token, base_url=settings.slack_api_url, session=session, timeout=SLACK_TIMEOUT_SECONDS
    )
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client


async def _close_session(client: AsyncWebClient) -> None:
    if client.session is not None:
        await client.session.close()


def require_slack(settings: Settings) -> None:
    """The Slack settings `run` needs, checked before anything is written (ConfigError otherwise)."""
    if settings.slack_signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: copy it from your Slack app's Basic Information page"
        )
    if settings.slack_bot_token is None and not (settings.slack_client_id and settings.slack_client_secret):
        raise ConfigError(
            "Slack is not configured: set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (installable in many workspaces)"
        )


def _bolt_app(services: Services) -> AsyncApp:
    settings = services.settings
    require_slack(settings)
    assert settings.slack_signing_secret is not None
    signing_secret = settings.slack_signing_secret.get_secret_value()
    if settings.slack_client_id and settings.slack_client_secret:
        store = EncryptedInstallationStore(settings.slack_client_id, services.database.engine, services.box)
        oauth = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=bot_scopes(),
            installation_store=store,
            state_store=AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=600, engine=services.database.engine
            ),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
            authorization_url=urljoin(settings.slack_api_url, "/oauth/v2/authorize"),
            install_page_rendering_enabled=False,  # /slack/install goes straight to Slack's consent page
        )
        # Uninstalls and revoked tokens: bot.handlers.events removes the installation and Logfire both.
        client = _slack_client(settings)
        return AsyncApp(
            client=client, signing_secret=signing_secret, installation_store=store, oauth_settings=oauth
        )
    assert settings.slack_bot_token is not None
    client = _slack_client(settings, settings.slack_bot_token.get_secret_value())
    return AsyncApp(client=client, signing_secret=signing_secret)  # Bolt takes the token from the client


def _health(services: Services, jobs: Jobs):  # type: ignore[no-untyped-def]
    async def health(_: web.Request) -> web.Response:
        try:
            await services.database.check_connection()
        except Exception as error:  # the probe reports; it never raises
            return web.json_response({"ok": False, "database": str(error)}, status=503)
        return web.json_response({"ok": True, "running_analyses": len(jobs), "mode": services.analyst.mode})

    return health


@dataclass
class RunningBot:
    bot: SlackBot
    runner: web.AppRunner
    url: str


@asynccontextmanager
async def running(services: Services, sock: socket.socket | None = None) -> AsyncIterator[RunningBot]:
    """Serve the bot over HTTP (on `sock`, else on PORT) until the block exits; then drain and clean up."""
    bot = build(services)
    await _prepare_storage(bot)
    runner = web.AppRunner(bot.web, access_log=None)
    await runner.setup()
    if sock is not None:
        site: web.BaseSite = web.SockSite(runner, sock)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    else:
        site = web.TCPSite(runner, port=services.settings.port)
        url = f"http://0.0.0.0:{services.settings.port}"
    await site.start()
    sweeper = asyncio.create_task(sweep_old_events(services.database), name="forget old Slack event ids")
    try:
        yield RunningBot(bot, runner, url)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper  # before the database goes: a query cut mid-way must finish closing first
        await runner.cleanup()


async def _prepare_storage(bot: SlackBot) -> None:
    await forget_old_events(bot.services.database)
    store = bot.app.installation_store
    if isinstance(store, EncryptedInstallationStore):
        await store.create_tables()
    oauth_flow = bot.app.oauth_flow
    if oauth_flow is not None and isinstance(oauth_flow.settings.state_store, AsyncSQLAlchemyOAuthStateStore):
        await oauth_flow.settings.state_store.create_tables()


async def serve(settings: Settings) -> None:
    """`logfire-bot run`: HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set; stops on SIGINT/SIGTERM."""
    require_slack(settings)
    services = await Services.start(settings)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        await default_renderer().start()  # chart workers' imports now, not when the first questions arrive
        async with running(services) as bot:
            log.info("serving on port %s (%s mode)", settings.port, services.analyst.mode)
            socket_mode = await _start_socket_mode(bot.bot, settings)
            _freeze_startup_objects()
            await stop.wait()
            log.info("shutting down")
            if socket_mode is not None:
                await socket_mode.close_async()
    finally:
        await services.close()


def _freeze_startup_objects() -> None:
    """Keep what start-up built (modules, clients, the app: some 270k objects) out of the garbage collector's
    full passes, which otherwise stall the event loop, acknowledgements included, for 100 ms and more."""
    gc.collect()
    gc.freeze()


async def _start_socket_mode(bot: SlackBot, settings: Settings):  # type: ignore[no-untyped-def]
    if settings.slack_app_token is None:
        return None
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(bot.app, settings.slack_app_token.get_secret_value())
    await handler.connect_async()
    log.info(
        "connected to Slack in Socket Mode (the HTTP server still serves the OAuth callback and /healthz)"
    )
    return handler
