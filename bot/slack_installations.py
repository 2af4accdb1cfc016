"""Slack's own SQLAlchemy installation store (multi-workspace installs), with every token sealed by the
secret box before it reaches the database and unsealed when Bolt reads it back."""

from __future__ import annotations

import copy

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy import inspect, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.oauth.crypto import SecretBox, is_sealed, place

TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def _where(field: str, enterprise_id: str | None, team_id: str | None) -> bytes:
    """Associated data binding a Slack token to its workspace and field. One label for both tables on
    purpose: the SDK copies the installation's (already sealed) bot token into the bots table, and rows are
    sealed before the database gives them an id. A token moved to another workspace does not decrypt."""
    return place("slack_installations", field, f"{enterprise_id or '-'}:{team_id or '-'}")


class EncryptedInstallationStore(AsyncSQLAlchemyInstallationStore):
    def __init__(self, client_id: str, engine: AsyncEngine, box: SecretBox) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.box = box

    async def async_save(self, installation: Installation) -> None:
        await super().async_save(self._sealed(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        await super().async_save_bot(self._sealed(bot))

    async def async_find_bot(self, **query) -> Bot | None:  # type: ignore[no-untyped-def,override]
        found = await super().async_find_bot(**query)
        return self._unsealed(found) if found else None

    async def async_find_installation(self, **query) -> Installation | None:  # type: ignore[no-untyped-def,override]
        found = await super().async_find_installation(**query)
        return self._unsealed(found) if found else None

    def _sealed(self, record: Installation | Bot) -> Installation | Bot:
        # The parent's async_save calls our async_save_bot with the already-sealed bot: seal only once.
        return self._transformed(
            record, lambda value, where: value if is_sealed(value) else self.box.encrypt(value, where)
        )

    def _unsealed(self, record: Installation | Bot) -> Installation | Bot:
        return self._transformed(record, lambda value, where: self.box.decrypt(value, where))

    @staticmethod
    def _transformed(record, change):  # type: ignore[no-untyped-def]
        changed = copy.copy(record)
        for field in TOKEN_FIELDS:
            value = getattr(record, field, None)
            if value:
                setattr(changed, field, change(value, _where(field, record.enterprise_id, record.team_id)))
        return changed


async def rotate_slack_tokens(connection: AsyncConnection, box: SecretBox) -> int:
    """Re-seal every Slack installation and bot token with the box's first key; how many were rewritten."""
    store = AsyncSQLAlchemyInstallationStore(client_id="-", engine=connection.engine)
    existing = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    rewritten = 0
    for table in (store.installations, store.bots):
        if table.name not in existing:
            continue
        fields = [field for field in TOKEN_FIELDS if field in table.c]
        for row in (await connection.execute(select(table))).mappings().all():
            values = {}
            for field in fields:
                stored = row[field]
                if stored and box.needs_rotation(stored):
                    where = _where(field, row["enterprise_id"], row["team_id"])
                    values[field] = box.encrypt(box.decrypt(stored, where), where)
            if values:
                await connection.execute(update(table).where(table.c.id == row["id"]).values(**values))
                rewritten += len(values)
    return rewritten
