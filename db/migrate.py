"""Alembic migrations, applied programmatically (`logfire-bot db upgrade`; `run` and `demo` on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from db.engine import Database, DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(database: Database) -> str | None:
    async with database.engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def upgrade(database: Database) -> tuple[str | None, str]:
    """Apply pending migrations; return (revision before, revision after).

    Refuses, writing nothing, when the database is at a revision this code does not know (a newer release ran
    against it).
    """
    await database.check_connection()
    async with database.engine.begin() as connection:
        return await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> tuple[str | None, str]:
    config = alembic_config(connection)
    scripts = ScriptDirectory.from_config(config)
    before = MigrationContext.configure(connection).get_current_revision()
    if before is not None and before not in {script.revision for script in scripts.walk_revisions()}:
        raise DatabaseError(
            f"the database is at migration {before}, newer than this version of logfire-bot "
            f"(which knows up to {scripts.get_current_head()}); "
            "upgrade logfire-bot or use another DATABASE_URL"
        )
    command.upgrade(config, "head")
    return before, scripts.get_current_head() or ""
