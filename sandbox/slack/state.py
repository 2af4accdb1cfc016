"""The emulated Slack world: workspaces, tokens, conversations, messages, files, pins, views, statuses."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sandbox.slack import ids
from sandbox.slack.model import (
    DEFAULT_SCOPES,
    Channel,
    Message,
    SlackApp,
    SlackFile,
    StatusUpdate,
    Token,
    User,
    Workspace,
)
from sandbox.slack.wire import ApiError

T = TypeVar("T")

STATUS_LIFETIME = 120.0  # Slack clears a thread status after two minutes, or at the app's next reply


async def _value(result: T | Awaitable[T]) -> T:
    return await result if inspect.isawaitable(result) else result


@dataclass
class Pin:
    channel: str
    ts: str
    created: int
    created_by: str


@dataclass
class AuthCode:
    """A code from the authorize page, exchanged once by oauth.v2.access within ten minutes."""

    team_id: str
    user: str
    scopes: list[str]
    redirect_uri: str | None
    expires_at: float = field(default_factory=lambda: time.time() + 600)


@dataclass
class ResponseTarget:
    """Where posts to one response_url land (Slack allows 5 uses within 30 minutes)."""

    team_id: str
    channel: str
    user: str
    message: Message | None = None
    uses: int = 0
    expires_at: float = field(default_factory=lambda: time.time() + 1800)


class SlackState:
    def __init__(self, app: SlackApp, *, share_delay: float) -> None:
        self.app = app
        self.share_delay = share_delay
        self.clock = ids.TsClock()
        self.workspaces: dict[str, Workspace] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.messages: dict[str, dict[str, Message]] = defaultdict(dict)
        self.ephemerals: list[Message] = []
        self.files: dict[str, SlackFile] = {}
        self.uploads: dict[str, str] = {}
        self.pins: dict[str, dict[str, Pin]] = defaultdict(dict)
        self.home_views: dict[tuple[str, str], dict[str, Any]] = {}
        self.statuses: list[StatusUpdate] = []
        self.response_urls: dict[str, ResponseTarget] = {}
        self.oauth_codes: dict[str, AuthCode] = {}
        self.history_calls: dict[tuple[str, str], float] = {}
        self._changed = asyncio.Event()

    # -- change notification ----------------------------------------------------------------------

    def touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T | Awaitable[T]], within: float) -> T:
        """Wait until `predicate()` (sync or async) is truthy, checked on every change and every 50 ms."""
        try:
            async with asyncio.timeout(within):
                while not (result := await _value(predicate())):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.05)
        except TimeoutError:
            raise TimeoutError(f"condition not met within {within}s") from None
        return result

    # -- workspaces and tokens --------------------------------------------------------------------

    def add_workspace(
        self,
        name: str,
        *,
        domain: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
    ) -> Workspace:
        team_id = ids.new_id("T")
        bot_user = User(
            ids.new_id("U"),
            team_id,
            self.app.name.lower(),
            self.app.name,
            is_bot=True,
            bot_id=ids.new_id("B"),
        )
        workspace = Workspace(
            team_id,
            name,
            domain or name.lower().replace(" ", "-"),
            bot_user,
            bot_user.bot_id or "",
            enterprise_id,
            enterprise_name,
        )
        workspace.users[bot_user.id] = bot_user
        self.workspaces[team_id] = workspace
        return workspace

    def install(self, workspace: Workspace, *, installer: str | None, scopes: list[str] | None = None) -> str:
        """Install the app (or reinstall it): returns the bot token, a fresh one when rotation is on."""
        workspace.installed = True
        workspace.installer = installer
        workspace.scopes = list(DEFAULT_SCOPES if scopes is None else scopes)
        if self.app.token_rotation or not self._valid(workspace.bot_token):
            self.issue_token(workspace)
        self.touch()
        return workspace.bot_token or ""

    def issue_token(self, workspace: Workspace) -> Token:
        if self.app.token_rotation:
            token = Token(ids.rotating_bot_token(), workspace.id, expires_at=time.time() + self.app.token_ttl)
            workspace.refresh_token = ids.refresh_token()
            self.refresh_tokens[workspace.refresh_token] = workspace.id
        else:
            token = Token(ids.bot_token(), workspace.id)
        self.tokens[token.value] = token
        workspace.bot_token = token.value
        return token

    def redeem_refresh_token(self, refresh_token: str) -> Workspace:
        team_id = self.refresh_tokens.pop(refresh_token, None)
        if team_id is None or not self.workspaces[team_id].installed:
            raise ApiError("invalid_refresh_token")
        workspace = self.workspaces[team_id]
        self.issue_token(workspace)
        return workspace

    def revoke(self, workspace: Workspace) -> None:
        for token in self.tokens.values():
            if token.team_id == workspace.id:
                token.revoked = True
        self.refresh_tokens = {k: v for k, v in self.refresh_tokens.items() if v != workspace.id}
        workspace.installed = False
        workspace.bot_token = None
        workspace.refresh_token = None
        self.touch()

    def authenticate(self, token: str | None) -> Workspace:
        if not token:
            raise ApiError("not_authed")
        record = self.tokens.get(token)
        if record is None:
            raise ApiError("invalid_auth")
        if record.revoked:
            raise ApiError("token_revoked")
        if record.expires_at is not None and record.expires_at <= time.time():
            raise ApiError("token_expired")
        return self.workspaces[record.team_id]

    def _valid(self, token: str | None) -> bool:
        record = self.tokens.get(token or "")
        return record is not None and not record.revoked and (record.expires_at or float("inf")) > time.time()

    # -- lookups ----------------------------------------------------------------------------------

    def find_channel(self, channel_id: str) -> Channel | None:
        for workspace in self.workspaces.values():
            if channel_id in workspace.channels:
                return workspace.channels[channel_id]
        return None

    def find_user(self, user_id: str) -> User | None:
        for workspace in self.workspaces.values():
            if user_id in workspace.users:
                return workspace.users[user_id]
        return None

    def conversation(self, workspace: Workspace, ref: Any) -> Channel:
        """A conversation the bot can see, from an id, a `#name`, or a user id (the DM with that user)."""
        ref = str(ref or "")
        if ref.startswith(("U", "W")) and ref in workspace.users:
            return workspace.im(ref)
        for channel in workspace.channels.values():
            if ref in (channel.id, f"#{channel.name}") and (
                not channel.is_private or workspace.bot_user.id in channel.members
            ):
                return channel
        raise ApiError("channel_not_found")

    # -- messages ---------------------------------------------------------------------------------

    def post(self, message: Message) -> Message:
        if message.ephemeral_to:
            self.ephemerals.append(message)
        else:
            self.messages[message.channel][message.ts] = message
        self.touch()
        return message

    def message(self, channel: str, ts: str) -> Message | None:
        message = self.messages.get(channel, {}).get(ts)
        return message if message is not None and not message.deleted else None

    def ephemeral(self, channel: str, ts: str) -> Message | None:
        return next(
            (m for m in self.ephemerals if m.channel == channel and m.ts == ts and not m.deleted), None
        )

    def replies(self, channel: str, root_ts: str) -> list[Message]:
        return [
            m
            for m in self.messages.get(channel, {}).values()
            if m.thread_ts == root_ts and m.ts != root_ts and not m.deleted
        ]

    def thread(self, channel: str, ts: str) -> list[Message]:
        root = self.messages.get(channel, {}).get(ts)
        if root is None:
            return []
        head = [root] if not root.deleted or self.replies(channel, ts) else []
        return head + self.replies(channel, ts)

    def delete(self, message: Message) -> None:
        message.deleted = True
        self.pins.get(message.channel, {}).pop(message.ts, None)
        self.touch()

    # -- files ------------------------------------------------------------------------------------

    def file_shared_in(self, file_id: str, channel: str) -> bool:
        """Whether a `slack_file` image can show this file in `channel` (shared there, processing done)."""
        file = self.files.get(file_id)
        return file is not None and any(s.channel == channel for s in file.shares_ready(time.time()))

    # -- assistant status -------------------------------------------------------------------------

    def current_status(self, channel: str, thread_ts: str) -> str:
        updates = [s for s in self.statuses if s.channel == channel and s.thread_ts == thread_ts]
        if not updates or not updates[-1].status or time.time() - updates[-1].at > STATUS_LIFETIME:
            return ""
        since = updates[-1].at
        bot_replied = any(m.bot_id and float(m.ts) > since for m in self.replies(channel, thread_ts))
        return "" if bot_replied else updates[-1].status
