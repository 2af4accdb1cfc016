"""Event ids: the first delivery wins (across processes sharing the database), old ids are swept away."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from bot.handlers.dedupe import KEEP_FOR, first_delivery, sweep_old_events
from db.engine import Database
from db.models import SlackEvent, utcnow


async def test_an_event_id_is_answered_once(database: Database) -> None:
    assert await first_delivery(database, "Ev1", "T1")
    assert not await first_delivery(database, "Ev1", "T1")  # Slack's retry, maybe to another replica
    assert await first_delivery(database, "Ev2", "T1")


async def test_the_sweeper_forgets_ids_older_than_a_day_while_running(database: Database) -> None:
    for event_id in ("old", "recent"):
        assert await first_delivery(database, event_id, "T1")
    async with database.sessions() as session, session.begin():
        await session.execute(
            update(SlackEvent)
            .where(SlackEvent.event_id == "old")
            .values(received_at=utcnow() - KEEP_FOR - timedelta(minutes=1))
        )

    sweeper = asyncio.create_task(sweep_old_events(database, every=timedelta(milliseconds=20)))
    try:
        for _ in range(250):  # up to 5 s
            if "old" not in await _event_ids(database):
                break
            await asyncio.sleep(0.02)
    finally:
        sweeper.cancel()
    assert await _event_ids(database) == {"recent"}


async def _event_ids(database: Database) -> set[str]:
    async with database.sessions() as session:
        return set(await session.scalars(select(SlackEvent.event_id)))
