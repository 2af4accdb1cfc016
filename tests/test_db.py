"""Migrations on SQLite and PostgreSQL, and what ends up on disk."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.oauth.crypto import SecretBox
from db.engine import DatabaseError, open_database
from db.migrate import current_revision, head_revision, upgrade
from db.models import Base
from tests.conftest import open_in_schema, postgres_schema
from tests.test_crypto import store_one_of_each


async def table_names(database) -> set[str]:
    async with database.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_migrations_apply_from_empty(empty_database) -> None:
    assert await current_revision(empty_database) is None
    before, after = await upgrade(empty_database)
    assert (before, after) == (None, head_revision())
    assert set(Base.metadata.tables) | {"alembic_version"} <= await table_names(empty_database)
    assert await upgrade(empty_database) == (head_revision(), head_revision())  # idempotent


async def test_database_at_a_newer_migration_is_refused_without_writing(database) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    tables_before = await table_names(database)
    with pytest.raises(DatabaseError, match="migration f00dcafe, newer than this version"):
        await upgrade(database)
    assert await current_revision(database) == "f00dcafe"
    assert await table_names(database) == tables_before


async def test_unreachable_database_is_one_clear_line() -> None:
    database = open_database("postgresql+asyncpg://postgres:hunter2secret@127.0.0.1:1/test")
    with pytest.raises(DatabaseError) as caught:
        await database.check_connection()
    message = str(caught.value)
    assert "cannot reach the database at postgresql+asyncpg://postgres:***@127.0.0.1:1/test" in message
    assert "hunter2secret" not in message
    assert "\n" not in message
    await database.dispose()


def test_sqlite_folder_is_created_on_first_use(tmp_path: Path) -> None:
    open_database(f"sqlite+aiosqlite:///{tmp_path}/nested/folder/bot.db")
    assert (tmp_path / "nested" / "folder").is_dir()


async def test_no_plaintext_secret_in_the_sqlite_file(tmp_path: Path, secret_box: SecretBox) -> None:
    database = open_database(f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    await upgrade(database)
    plaintexts = await store_one_of_each(database, secret_box, "disk")
    await database.dispose()
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("bot.db*"))
    assert b"client-1" in raw  # the non-secret columns are there in clear, so the check can see text
    for value in plaintexts.values():
        assert value.encode() not in raw


@pytest.mark.postgres
async def test_no_plaintext_secret_in_a_postgres_dump(secret_box: SecretBox) -> None:
    async with postgres_schema() as (url, schema):
        database = open_in_schema(url, schema)
        await upgrade(database)
        plaintexts = await store_one_of_each(database, secret_box, "dump")
        await database.dispose()
        dump = subprocess.run(
            ["pg_dump", "--no-owner", "--schema", schema, _libpq_url(url)],
            capture_output=True,
            check=True,
            env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
        ).stdout
    assert b"client-1" in dump
    for value in plaintexts.values():
        assert value.encode() not in dump


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
