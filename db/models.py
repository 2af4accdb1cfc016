"""SQLAlchemy 2 models of everything the bot stores.

Columns marked ``secret=True`` hold secret-box ciphertexts only (see ``bot.oauth.crypto``); each model's
``secret_row_key`` names the row in the associated data, so a ciphertext moved to another row or column does
not decrypt. ``secret_columns()`` lists them for key rotation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Index, Integer, Numeric, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def secret_column(**kwargs: Any) -> Any:
    """A text column that only ever holds secret-box ciphertext."""
    return mapped_column(Text, info={"secret": True}, **kwargs)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}

    def secret_row_key(self) -> str:
        raise NotImplementedError


class LogfireConnection(Base):
    """One Slack workspace's connection to Logfire."""

    __tablename__ = "logfire_connections"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    mcp_url: Mapped[str] = mapped_column(Text)
    region: Mapped[str] = mapped_column(String(16))  # "us", "eu" or "custom"
    resource: Mapped[str] = mapped_column(Text)  # RFC 8707 resource the tokens are bound to
    issuer: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(Text)
    access_token: Mapped[str | None] = secret_column()
    refresh_token: Mapped[str | None] = secret_column()
    expires_at: Mapped[datetime | None]
    scope: Mapped[str | None] = mapped_column(Text)
    project: Mapped[str | None] = mapped_column(Text)  # "organization/project" as Logfire names it
    connected_by: Mapped[str] = mapped_column(String(32))
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)  # compare-and-swap on refresh
    refresh_claimed_until: Mapped[datetime | None]  # one process refreshes at a time, across replicas
    needs_reconnect_reason: Mapped[str | None] = mapped_column(Text)
    tools_fingerprint: Mapped[str | None] = mapped_column(String(64))
    tools_summary: Mapped[dict[str, Any] | None]  # names, verdicts and change notes of the last listing

    def secret_row_key(self) -> str:
        return self.team_id


class OAuthClient(Base):
    """Our registration at one authorization server, shared by every workspace."""

    __tablename__ = "oauth_clients"
    __table_args__ = (UniqueConstraint("issuer", "redirect_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(Text)
    client_secret: Mapped[str | None] = secret_column()
    client_secret_expires_at: Mapped[datetime | None]
    registration: Mapped[dict[str, Any]]  # the RFC 7591 response without the secret
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def secret_row_key(self) -> str:
        return f"{self.issuer} {self.redirect_uri}"


class OAuthState(Base):
    """A pending authorization: only a hash of the state is kept; consumed once, expires after 10 minutes."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    mcp_url: Mapped[str] = mapped_column(Text)
    code_verifier: Mapped[str] = secret_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]

    def secret_row_key(self) -> str:
        return self.state_hash


class DiscoveredServer(Base):
    """Cached OAuth discovery of one MCP URL (RFC 9728 + RFC 8414 documents)."""

    __tablename__ = "oauth_discovery"

    mcp_url: Mapped[str] = mapped_column(Text, primary_key=True)
    resource: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(Text)
    protected_resource_metadata: Mapped[dict[str, Any]]
    authorization_server_metadata: Mapped[dict[str, Any]]
    scope: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class SlackEvent(Base):
    """Event ids already handled: a retried delivery (X-Slack-Retry-Num) is answered once, on any replica."""

    __tablename__ = "slack_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Analysis(Base):
    """One question asked in Slack and what answering it took."""

    __tablename__ = "analyses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, answered, partial, failed
    mode: Mapped[str | None] = mapped_column(String(16))  # "claude" or "offline"
    model: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)
    tool_calls: Mapped[list[Any]] = mapped_column(default=list)  # name, arguments, duration, rows, error
    charts: Mapped[list[Any]] = mapped_column(default=list)  # file ids, titles, result ids
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Numeric(12, 6, asdecimal=False), default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    # follow-ups read the earlier turns of their thread
    __table_args__ = (Index("ix_analyses_thread", "team_id", "channel_id", "thread_ts"),)


def secret_columns() -> list[tuple[type[Base], str]]:
    """Every (model, attribute) that holds secret-box ciphertext."""
    found = []
    for mapper in Base.registry.mappers:
        for column in mapper.columns:
            if column.info.get("secret"):
                found.append((mapper.class_, column.key))
    return sorted(found, key=lambda pair: (pair[0].__tablename__, pair[1]))
