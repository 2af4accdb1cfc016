"""Alembic environment: runs on the connection `db.migrate` hands over, or on DATABASE_URL for the CLI."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from db.models import Base

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    from bot.config import load_settings
    from db.engine import open_database

    database = open_database(load_settings().database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(run_on)
    await database.dispose()


if config.attributes.get("connection") is not None:
    run_on(config.attributes["connection"])
else:
    asyncio.run(run_from_settings())
