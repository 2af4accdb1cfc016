"""The async engine and session factory for DATABASE_URL (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

CONNECT_TIMEOUT_SECONDS = 10.0


class DatabaseError(Exception):
    """The database cannot be used as configured; the message says what to do."""


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def display_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    async def check_connection(self) -> None:
        """Raise DatabaseError with a one-line reason when the database cannot be reached."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                async with self.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError, TimeoutError) as error:
            reason = _first_line(getattr(error, "orig", None) or error) or type(error).__name__
            raise DatabaseError(
                f"cannot reach the database at {self.display_url} ({reason}); "
                "check DATABASE_URL and that the server is running"
            ) from None

    async def dispose(self) -> None:
        await self.engine.dispose()


def open_database(url: str | URL, *, echo: bool = False, connect_args: dict | None = None) -> Database:
    """Create the engine (and, for SQLite, the database's folder) without connecting yet."""
    url = make_url(url)
    options: dict = {"echo": echo, "connect_args": connect_args or {}}
    if url.drivername.startswith("sqlite"):
        _create_sqlite_folder(url)
        options["connect_args"].setdefault("timeout", 30)
    else:
        options |= {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}
    engine = create_async_engine(url, **options)
    if url.drivername.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False))


def _create_sqlite_folder(url: URL) -> None:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else ""
