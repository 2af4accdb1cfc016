"""The Slack emulator: a stateful Web API on loopback that slack_sdk and Bolt use as Slack, with error
injection, a record of every call, reading back what the bot posted, and (from `BotDriver`) requests
to the bot signed as Slack signs them."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from sandbox.slack import methods_chat, methods_files, methods_history, methods_info, oauth
from sandbox.slack.api import Call, Method
from sandbox.slack.courier import Courier
from sandbox.slack.driver import BotDriver
from sandbox.slack.methods_files import receive_upload
from sandbox.slack.model import Channel, Message, SlackApp, SlackFile, StatusUpdate, User, Workspace
from sandbox.slack.responses import post_to_response_url
from sandbox.slack.state import SlackState
from sandbox.slack.transcript import render
from sandbox.slack.wire import ApiError, bearer_token, read_params

T = TypeVar("T")

METHODS: dict[str, Method] = {
    **methods_chat.METHODS,
    **methods_files.METHODS,
    **methods_info.METHODS,
    **methods_history.METHODS,
    **oauth.METHODS,
}


@dataclass
class ApiCall:
    """One Web API request as the emulator saw it (also the upload POST, as method "upload")."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        return self.response.get("error")


@dataclass
class Failure:
    status: int
    error: str
    retry_after: int | None
    times: int

    @property
    def headers(self) -> dict[str, str]:
        if self.status == 429 and self.retry_after is not None:
            return {"Retry-After": str(self.retry_after)}
        return {}


class SlackEmulator(BotDriver):
    """Slack on 127.0.0.1: `async with SlackEmulator() as emu:` then point clients at `emu.api_url`.

    It starts with one installed workspace (`emu.workspace`, users alice (owner, admin) and bob, channels
    #general (with the bot), #random (without it) and private #ops (alice and the bot)).
    """

    def __init__(
        self,
        *,
        app: SlackApp | None = None,
        share_delay: float = 0.3,
        ack_timeout: float = 3.0,
        workspace_name: str = "Acme",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app = app or SlackApp()
        self.state = SlackState(self.app, share_delay=share_delay)
        self.courier = Courier(self.app, ack_timeout=ack_timeout)
        self.calls: list[ApiCall] = []
        self.connections: set[tuple[str, int] | None] = set()  # the clients' (host, port): one per connection
        self._failures: dict[str, list[Failure]] = {}
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.workspace = self.add_workspace(workspace_name, installed=True)

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> SlackEmulator:
        app = web.Application(client_max_size=1024**3, middlewares=[self._note_connection])
        app.add_routes(
            [
                web.route("*", "/api/{method}", self._api),
                web.post("/upload/v1/{key}", self._upload),
                web.get("/files-pri/{team_file}/{name}", self._download),
                web.get("/oauth/v2/authorize", self._authorize),
                web.post("/{kind:commands|actions}/{rest:.+}", self._response_url),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        await self.courier.open()
        return self

    async def stop(self) -> None:
        await self.courier.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackEmulator:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}/"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}api/"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}oauth/v2/authorize"

    # -- the default workspace --------------------------------------------------------------------

    @property
    def bot_token(self) -> str:
        return self.workspace.bot_token or ""

    @property
    def signing_secret(self) -> str:
        return self.app.signing_secret

    def user(self, name_or_id: str) -> User:
        return self.workspace.user(name_or_id)

    def channel(self, name_or_id: str) -> Channel:
        return self.workspace.channel(name_or_id)

    def add_workspace(
        self,
        name: str,
        *,
        installed: bool = False,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
        scopes: list[str] | None = None,
    ) -> Workspace:
        """A workspace with alice, bob, #general, #random and #ops; installed ones get a bot token at once."""
        ws = self.state.add_workspace(name, enterprise_id=enterprise_id, enterprise_name=enterprise_name)
        ws.add_user("alice", real_name="Alice Admin", tz="Europe/Paris", is_owner=True)
        ws.add_user("bob", real_name="Bob Builder", tz="America/New_York")
        ws.add_channel("general", members=("alice", "bob"))
        ws.add_channel("random", members=("alice", "bob"), bot_member=False)
        ws.add_channel("ops", private=True, members=("alice",))
        if installed:
            self.state.install(ws, installer=ws.user("alice").id, scopes=scopes)
        return ws

    # -- error injection and the call record ------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` ("upload" for the upload POST, "response_url" for
        response_url posts) with `error`; HTTP `status` (429 adds a Retry-After header)."""
        self._failures.setdefault(method, []).append(Failure(status, error, retry_after, times))

    def _take_failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method) or []
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _failure_response(
        self, method: str, params: dict[str, Any], token: str | None, failure: Failure
    ) -> web.Response:
        body = {"ok": False, "error": failure.error}
        self._record(method, params, token, failure.status, body)
        return web.json_response(body, status=failure.status, headers=failure.headers)

    def _record(
        self, method: str, params: dict[str, Any], token: str | None, status: int, body: dict[str, Any]
    ) -> None:
        self.calls.append(ApiCall(method, params, token, time.time(), status, body))

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    # -- HTTP handlers ----------------------------------------------------------------------------

    @web.middleware
    async def _note_connection(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.connections.add(request.transport.get_extra_info("peername") if request.transport else None)
        return await handler(request)

    async def _api(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        try:
            params = await read_params(request)
        except ApiError as e:
            self._record(name, {}, None, 200, e.body())
            return web.json_response(e.body())
        token = bearer_token(request, params)
        if failure := self._take_failure(name):
            return self._failure_response(name, params, token, failure)
        method = METHODS.get(name)
        call = Call(self.state, params, token, request.headers, self.base_url)
        status, headers = 200, {}
        try:
            if method is None:
                raise ApiError("unknown_method", req_method=name)
            body = method.run(call)
        except ApiError as e:
            body, status, headers = e.body(), e.status, e.headers
        self._record(name, params, token, status, body)
        return web.json_response(body, status=status, headers=headers)

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        if failure := self._take_failure("upload"):
            self._record(
                "upload", {"length": len(data)}, None, failure.status, {"ok": False, "error": failure.error}
            )
            return web.Response(
                status=failure.status, text=failure.error, content_type="text/plain", headers=failure.headers
            )
        if not receive_upload(self.state, request.match_info["key"], data):
            self._record("upload", {"length": len(data)}, None, 404, {"ok": False, "error": "not_found"})
            return web.Response(status=404, text="not_found", content_type="text/plain")
        self._record("upload", {"length": len(data)}, None, 200, {"ok": True})
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _download(self, request: web.Request) -> web.Response:
        team_id, _, file_id = request.match_info["team_file"].partition("-")
        try:
            workspace = self.state.authenticate(bearer_token(request, {}))
        except ApiError:
            return web.Response(status=403, text="forbidden")
        file = self.state.files.get(file_id)
        if file is None or file.team_id != team_id or workspace.id != team_id or file.data is None:
            return web.Response(status=404, text="not_found")
        return web.Response(body=file.data, content_type="application/octet-stream")

    async def _authorize(self, request: web.Request) -> web.Response:
        return oauth.authorize(self.state, request.query)

    async def _response_url(self, request: web.Request) -> web.Response:
        path = f"{request.match_info['kind']}/{request.match_info['rest']}"
        try:
            payload = json.loads(await request.read() or b"{}")
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        if failure := self._take_failure("response_url"):
            return self._failure_response("response_url", payload, None, failure)
        status, body = post_to_response_url(self.state, path, payload if isinstance(payload, dict) else {})
        self._record("response_url", payload, None, status, body)
        return web.json_response(body, status=status)

    # -- reading back -----------------------------------------------------------------------------

    def _channel_id(self, channel: Channel | str) -> str:
        if isinstance(channel, Channel):
            return channel.id
        return channel if self.state.find_channel(channel) else self.workspace.channel(channel).id

    def messages(self, channel: Channel | str) -> list[Message]:
        """The channel's top-level messages, oldest first (thread replies are in `thread`)."""
        channel_id = self._channel_id(channel)
        return [
            m for m in self.state.messages.get(channel_id, {}).values() if not m.deleted and not m.is_reply
        ]

    def thread(self, channel: Channel | str, ts: str) -> list[Message]:
        """The root message and its replies, in order (a deleted root with replies stays as a tombstone)."""
        return self.state.thread(self._channel_id(channel), ts)

    def transcript(self, channel: Channel | str, thread_ts: str) -> str:
        return render(self.state, self.thread(channel, thread_ts))

    def ephemerals(self, user: str | None = None, channel: Channel | str | None = None) -> list[Message]:
        """Ephemeral messages still visible, optionally only those for one user and/or channel."""
        user_id = self._user_id(user) if user else None
        channel_id = self._channel_id(channel) if channel else None
        return [
            m
            for m in self.state.ephemerals
            if not m.deleted and user_id in (None, m.ephemeral_to) and channel_id in (None, m.channel)
        ]

    def _user_id(self, user: str) -> str:
        return user if self.state.find_user(user) else self.workspace.user(user).id

    def pins(self, channel: Channel | str) -> list[Message]:
        """Pinned messages, newest pin first (as pins.list orders them)."""
        channel_id = self._channel_id(channel)
        pins = sorted(self.state.pins[channel_id].values(), key=lambda p: (p.created, p.ts), reverse=True)
        return [m for p in pins if (m := self.state.message(channel_id, p.ts)) is not None]

    def home_view(self, user: str, workspace: Workspace | None = None) -> dict[str, Any] | None:
        ws = workspace or self.workspace
        return self.state.home_views.get((ws.id, ws.user(user).id))

    def file(self, file_id: str) -> SlackFile:
        return self.state.files[file_id]

    def status(self, channel: Channel | str, thread_ts: str) -> str:
        """The thread's assistant status as users see it now (cleared by the app's reply or after 2 min)."""
        return self.state.current_status(self._channel_id(channel), thread_ts)

    def status_history(self, channel: Channel | str, thread_ts: str) -> list[StatusUpdate]:
        channel_id = self._channel_id(channel)
        return [s for s in self.state.statuses if s.channel == channel_id and s.thread_ts == thread_ts]

    async def wait_for(self, predicate: Callable[[], T | Awaitable[T]], within: float = 5.0) -> T:
        """Wait until `predicate()` (sync or async) returns something truthy and return it; TimeoutError
        after `within` seconds. The state is checked on every change and every 50 ms."""
        return await self.state.wait_for(predicate, within)

    async def wait_for_thread(
        self, channel: Channel | str, ts: str, *, replies: int = 1, within: float = 5.0
    ) -> list[Message]:
        """Wait until the thread has at least `replies` replies; returns root and replies."""

        def complete() -> list[Message]:
            messages = self.thread(channel, ts)
            return messages if len(messages) > replies else []

        return await self.wait_for(complete, within)
