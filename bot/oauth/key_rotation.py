"""`logfire-bot keys rotate`: re-encrypt every stored secret with the first key, in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.oauth.crypto import SecretBox
from db.engine import Database
from db.models import secret_columns


@dataclass
class RotationReport:
    rewritten: int = 0
    already_current: int = 0
    by_column: dict[str, int] = field(default_factory=dict)


# Rotates secrets kept outside our models (Slack's installation tables) on the same connection; the count.
ExtraRotation = Callable[[AsyncConnection, SecretBox], Awaitable[int]]


async def rotate_keys(
    database: Database, box: SecretBox, also: ExtraRotation | None = None
) -> RotationReport:
    """Rewrite each secret not sealed with the box's first key. Any failure rolls everything back."""
    report = RotationReport()
    async with database.sessions() as session, session.begin():
        if also is not None and (rewritten := await also(await session.connection(), box)):
            report.rewritten += rewritten
            report.by_column["slack installations"] = rewritten
        for model, column in secret_columns():
            rows = (await session.scalars(select(model).where(getattr(model, column).is_not(None)))).all()
            for row in rows:
                if not box.needs_rotation(getattr(row, column)):
                    report.already_current += 1
                    continue
                box.seal(row, column, box.unseal(row, column))
                report.rewritten += 1
                name = f"{model.__tablename__}.{column}"
                report.by_column[name] = report.by_column.get(name, 0) + 1
    return report
