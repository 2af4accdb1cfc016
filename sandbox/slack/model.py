"""The objects of the emulated Slack world: app, workspaces, users, conversations, messages, files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.slack import ids

# The bot scopes of the reference manifest (reference/slack.md §8).
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "app_mentions:read",
    "im:history",
    "files:write",
    "files:read",
    "pins:write",
    "pins:read",
    "users:read",
)
# The bot events of the reference manifest; add "message.channels"/"message.groups" for thread follow-ups
# without a mention.
DEFAULT_BOT_EVENTS = ("app_mention", "message.im", "app_home_opened", "app_uninstalled", "tokens_revoked")


@dataclass
class SlackApp:
    """The Slack app the bot is: one signing secret and one set of OAuth credentials for every workspace."""

    name: str = "Logfire"
    app_id: str = field(default_factory=lambda: ids.new_id("A"))
    client_id: str = field(default_factory=lambda: f"{ids.new_digits(12)}.{ids.new_digits(13)}")
    client_secret: str = field(default_factory=ids.new_secret)
    signing_secret: str = field(default_factory=ids.new_secret)
    verification_token: str = field(default_factory=lambda: ids.new_secret(12))
    redirect_urls: list[str] = field(default_factory=list)
    token_rotation: bool = False
    token_ttl: int = 43200
    # Non-Marketplace apps: conversations.history/replies at 1 request a minute, limit ≤ 15 (2025-05-29).
    marketplace: bool = False
    bot_events: set[str] = field(default_factory=lambda: set(DEFAULT_BOT_EVENTS))
    request_url: str | None = None


@dataclass
class User:
    id: str
    team_id: str
    name: str
    real_name: str
    tz: str = "UTC"
    tz_offset: int = 0
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    bot_id: str | None = None
    email: str | None = None


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None
    members: set[str] = field(default_factory=set)
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def channel_type(self) -> str:
        """The `channel_type` of message events: channel, group or im."""
        if self.is_im:
            return "im"
        return "group" if self.is_private else "channel"


@dataclass
class Share:
    channel: str
    ts: str
    thread_ts: str | None
    ready_at: float


@dataclass
class SlackFile:
    id: str
    team_id: str
    user: str
    name: str
    length: int
    created: int = field(default_factory=lambda: int(time.time()))
    title: str | None = None
    alt_txt: str | None = None
    data: bytes | None = None
    completed: bool = False
    shares: list[Share] = field(default_factory=list)

    @property
    def filetype(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary"

    def shares_ready(self, now: float) -> list[Share]:
        return [share for share in self.shares if share.ready_at <= now]


@dataclass
class Message:
    """A message in a conversation; `ephemeral_to` is set for ephemeral messages (seen by one user only)."""

    channel: str
    ts: str
    user: str
    team: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    files: list[SlackFile] = field(default_factory=list)
    ephemeral_to: str | None = None
    source: str = "api"
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    metadata: dict[str, Any] | None = None
    edited_ts: str | None = None
    deleted: bool = False
    streaming: bool = False

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def unfurls_off(self) -> bool:
        """True when the poster turned both link and media unfurling off explicitly."""
        return self.unfurl_links is False and self.unfurl_media is False


@dataclass
class StatusUpdate:
    """One `assistant.threads.setStatus` call (an empty status clears it)."""

    channel: str
    thread_ts: str
    status: str
    loading_messages: list[str]
    at: float


@dataclass
class UserGroup:
    id: str
    team_id: str
    handle: str
    name: str
    users: set[str] = field(default_factory=set)


@dataclass
class Token:
    value: str
    team_id: str
    expires_at: float | None = None
    revoked: bool = False


@dataclass
class Workspace:
    id: str
    name: str
    domain: str
    bot_user: User
    bot_id: str
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    installed: bool = False
    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES))
    installer: str | None = None
    bot_token: str | None = None
    refresh_token: str | None = None
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    usergroups: dict[str, UserGroup] = field(default_factory=dict)

    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "UTC",
        is_admin: bool = False,
        is_owner: bool = False,
        channels: tuple[str, ...] = (),
    ) -> User:
        """A person in this workspace, optionally joining existing channels by name."""
        user = User(
            ids.new_id("U"),
            self.id,
            name,
            real_name or name.title(),
            tz=tz,
            tz_offset=_tz_offset(tz),
            is_admin=is_admin or is_owner,
            is_owner=is_owner,
            email=f"{name}@{self.domain}.example",
        )
        self.users[user.id] = user
        for channel in channels:
            self.channel(channel).members.add(user.id)
        return user

    def add_channel(
        self, name: str, *, private: bool = False, members: tuple[str, ...] = (), bot_member: bool = True
    ) -> Channel:
        """A channel with the named members (and the bot unless `bot_member=False`)."""
        channel = Channel(
            ids.new_id("G" if private else "C"),
            self.id,
            name,
            is_private=private,
            members={self.user(m).id for m in members},
        )
        if bot_member:
            channel.members.add(self.bot_user.id)
        self.channels[channel.id] = channel
        return channel

    def add_usergroup(self, handle: str, *, members: tuple[str, ...] = ()) -> UserGroup:
        """A user group (`@handle`) with the named members."""
        group = UserGroup(
            ids.new_id("S"),
            self.id,
            handle,
            handle.replace("-", " ").title(),
            {self.user(m).id for m in members},
        )
        self.usergroups[group.id] = group
        return group

    def user(self, name_or_id: str) -> User:
        for user in self.users.values():
            if name_or_id in (user.id, user.name):
                return user
        raise KeyError(f"no user {name_or_id!r} in {self.name}")

    def channel(self, name_or_id: str) -> Channel:
        key = name_or_id.lstrip("#")
        for channel in self.channels.values():
            if key in (channel.id, channel.name):
                return channel
        raise KeyError(f"no channel {name_or_id!r} in {self.name}")

    def im(self, user: str) -> Channel:
        """The direct-message conversation between `user` and the bot."""
        user_id = self.user(user).id
        for channel in self.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel
        channel = Channel(
            ids.new_id("D"), self.id, "", is_im=True, im_user=user_id, members={user_id, self.bot_user.id}
        )
        self.channels[channel.id] = channel
        return channel


def _tz_offset(tz: str) -> int:
    offset = datetime.now(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset else 0
