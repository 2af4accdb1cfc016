"""Settings: validated at start, one line per problem naming the variable."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from bot.oauth.crypto import generate_key


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TOKEN_ENCRYPTION_KEYS", "PUBLIC_URL", "PORT", "LOGFIRE_TOOLS_ALLOW"):
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./var/logfire-bot.db"
    assert settings.logfire_mcp_url == "https://logfire-us.pydantic.dev/mcp"
    assert settings.logfire_redirect_uri == "http://localhost:3000/oauth/logfire/callback"
    assert settings.logfire_bot_max_concurrent_analyses == 4


def test_lists_and_urls_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGFIRE_TOOLS_ALLOW", "query_run, project_list")
    monkeypatch.setenv("DATABASE_URL", "postgres://bot@db.internal/bot")
    settings = load_settings()
    assert settings.logfire_tools_allow == ["query_run", "project_list"]
    assert settings.database_url == "postgresql+asyncpg://bot@db.internal/bot"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TOKEN_ENCRYPTION_KEYS", "not-a-key", "TOKEN_ENCRYPTION_KEYS: key 1 of 1 is not 32 bytes"),
        ("TOKEN_ENCRYPTION_KEYS", f"{generate_key()},short", "TOKEN_ENCRYPTION_KEYS: key 2 of 2"),
        ("DATABASE_URL", "nonsense", "DATABASE_URL: not a database URL"),
        ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL: the driver 'mysql' is not supported"),
        ("PORT", "eighty", "PORT: "),
        ("PUBLIC_URL", "bot.example.com", "PUBLIC_URL: not an http(s) URL"),
        ("LOGFIRE_BOT_MAX_CONCURRENT_ANALYSES", "0", "LOGFIRE_BOT_MAX_CONCURRENT_ANALYSES: Input should be"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_missing_key_is_explained_when_needed() -> None:
    with pytest.raises(ConfigError, match=r"TOKEN_ENCRYPTION_KEYS is not set.*keys generate"):
        _ = load_settings().secret_box


def test_keys_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key()
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", key)
    settings = load_settings()
    assert key not in repr(settings)
    assert key not in repr(settings.secret_box.__dict__)
