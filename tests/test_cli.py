"""The command line as an operator runs it: real subprocesses, one-line errors, nothing written on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.oauth.crypto import generate_key, parse_keys


def logfire_bot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "TOKEN_ENCRYPTION_KEYS")
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment | (env or {}),
        timeout=60,
    )


def test_keys_generate_prints_a_usable_key() -> None:
    result = logfire_bot("keys", "generate")
    assert result.returncode == 0
    assert len(parse_keys(result.stdout.strip())) == 1


def test_db_upgrade_then_rotate(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db"}
    first = logfire_bot("db", "upgrade", env=env)
    assert first.returncode == 0, first.stderr
    assert "migrated from empty" in first.stdout
    assert "already at migration" in logfire_bot("db", "upgrade", env=env).stdout

    key = logfire_bot("keys", "generate").stdout.strip()
    rotated = logfire_bot("keys", "rotate", env=env | {"TOKEN_ENCRYPTION_KEYS": key})
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 0 secret(s)" in rotated.stdout


def test_bad_configuration_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    database = tmp_path / "never.db"
    result = logfire_bot(
        "keys",
        "rotate",
        env={"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "TOKEN_ENCRYPTION_KEYS": "oops"},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "logfire-bot: error: TOKEN_ENCRYPTION_KEYS: key 1 of 1 is not 32 bytes of url-safe base64; "
        "generate one with `logfire-bot keys generate`"
    ]
    assert not database.exists()


def test_unreachable_database_is_one_line() -> None:
    result = logfire_bot("db", "upgrade", env={"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("logfire-bot: error: cannot reach the database")


def test_run_without_slack_settings_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    database = tmp_path / "never.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "TOKEN_ENCRYPTION_KEYS": generate_key()}
    no_secret = logfire_bot("run", env=env)
    no_token = logfire_bot("run", env={**env, "SLACK_SIGNING_SECRET": "s" * 32})
    assert no_secret.returncode == no_token.returncode == 1
    assert no_secret.stderr.strip().splitlines() == [
        "logfire-bot: error: SLACK_SIGNING_SECRET is not set: "
        "copy it from your Slack app's Basic Information page"
    ]
    assert no_token.stderr.strip().startswith(
        "logfire-bot: error: Slack is not configured: set SLACK_BOT_TOKEN"
    )
    assert len(no_token.stderr.strip().splitlines()) == 1
    assert not database.exists()
