"""Settings from the environment (see the configuration table in README.md).

`load_settings()` validates everything at start and raises `ConfigError` with one line per problem, each
naming the variable and saying what to do.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.oauth.crypto import KeyFormatError, SecretBox, parse_keys
from bot.oauth.endpoints import DEFAULT_REGION_URLS

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/logfire-bot.db"
DEFAULT_MCP_URL = "https://logfire-us.pydantic.dev/mcp"
DEFAULT_MODEL = "claude-sonnet-5-5"

CommaList = Annotated[list[str], NoDecode]
CommaMap = Annotated[dict[str, str], NoDecode]


class ConfigError(Exception):
    """The environment does not describe a usable configuration."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    # LLM
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    logfire_bot_model: str = DEFAULT_MODEL
    # Caps of Claude's tool loop, per question; when one is hit the answer says so (partial).
    logfire_bot_max_steps: int = Field(default=6, ge=1, le=20)  # model calls
    logfire_bot_max_output_tokens: int = Field(default=8192, ge=256, le=64_000)  # per call, thinking included
    logfire_bot_max_input_tokens: int = Field(default=100_000, ge=2_000)  # summed over the calls
    logfire_bot_max_seconds: float = Field(default=120.0, gt=0, le=900)  # wall time
    logfire_bot_model_retries: int = Field(default=3, ge=0, le=10)  # 429/529/5xx, with backoff
    # Questions answered at once by this process; later ones wait, saying so in their thread.
    logfire_bot_max_concurrent_analyses: int = Field(default=4, ge=1, le=64)

    # Storage
    database_url: str = DEFAULT_DATABASE_URL
    token_encryption_keys: SecretStr | None = None

    # Web
    public_url: str = "http://localhost:3000"
    port: int = Field(default=3000, ge=1, le=65535)

    # Logfire
    logfire_mcp_url: str = DEFAULT_MCP_URL
    # Where `/logfire connect us|eu` go: "us=https://…/mcp,eu=https://…/mcp" (self-hosted or test setups).
    logfire_region_urls: CommaMap = Field(default_factory=lambda: dict(DEFAULT_REGION_URLS))

    # Logging
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Read-only tool gate: extra names by exact match (comma-separated).
    logfire_tools_allow: CommaList = Field(default_factory=list)
    logfire_tools_deny: CommaList = Field(default_factory=list)
    logfire_tools_strict: bool = False
    logfire_tools_extra_write_verbs: CommaList = Field(default_factory=list)
    # MCP handshake: "legacy" (initialize) or "auto" (2026 discover, falling back to initialize)
    logfire_mcp_handshake: Literal["legacy", "auto"] = "legacy"

    # Slack: only workspace admins (or members of this user group) may connect or disconnect
    logfire_admin_only: bool = False
    logfire_admin_usergroup: str | None = None

    # A client pre-registered with Logfire, for servers without dynamic client registration.
    logfire_oauth_client_id: str | None = None
    logfire_oauth_client_secret: SecretStr | None = None

    @field_validator(
        "logfire_tools_allow", "logfire_tools_deny", "logfire_tools_extra_write_verbs", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("logfire_region_urls", mode="before")
    @classmethod
    def _split_pairs(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs = {}
        for part in filter(None, (part.strip() for part in value.split(","))):
            name, equals, url = part.partition("=")
            if not equals or not name.strip() or not url.strip():
                raise ValueError(f"{part!r} is not region=https://…/mcp")
            pairs[name.strip().lower()] = url.strip()
        return pairs

    @field_validator("token_encryption_keys")
    @classmethod
    def _check_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_keys(value.get_secret_value())  # KeyFormatError names the bad position
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalize_database_url(value).render_as_string(hide_password=False)

    @field_validator("public_url", "slack_api_url", "logfire_mcp_url")
    @classmethod
    def _check_http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("not an http(s) URL")
        return value

    @cached_property
    def secret_box(self) -> SecretBox:
        if self.token_encryption_keys is None:
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEYS is not set: generate a key with `logfire-bot keys generate` "
                "and export it"
            )
        return SecretBox.from_text(self.token_encryption_keys.get_secret_value())

    @property
    def logfire_redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/oauth/logfire/callback"


_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def normalize_database_url(text: str) -> URL:
    """Parse DATABASE_URL, choosing the async driver for the usual spellings (postgres://, sqlite://)."""
    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError(
            "not a database URL; use sqlite+aiosqlite:///path/to/file.db or "
            "postgresql+asyncpg://user@host:5432/dbname"
        ) from None
    url = url.set(drivername=_ASYNC_DRIVERS.get(url.drivername, url.drivername))
    if url.drivername not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        raise ValueError(
            f"the driver {url.drivername!r} is not supported; use sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    return url


def load_settings(**overrides: object) -> Settings:
    """Read and validate the environment; raise ConfigError with one line per problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError("\n".join(_describe(problem) for problem in error.errors())) from None


def _describe(problem: dict) -> str:
    variable = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
    cause = problem.get("ctx", {}).get("error")
    message = str(cause) if isinstance(cause, KeyFormatError | ValueError) else problem["msg"]
    return f"{variable}: {message.removeprefix('Value error, ')}"
