"""Answer each Slack event once: Slack re-sends an event it thinks we missed (X-Slack-Retry-Num), possibly to
another replica, so the event ids already seen live in the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.response import BoltResponse
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from db.engine import Database
from db.models import SlackEvent, utcnow

log = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=1)  # Slack retries within minutes; a day is plenty
SWEEP_EVERY = timedelta(hours=1)


async def first_delivery(database: Database, event_id: str, team_id: str | None) -> bool:
    """True the first time this event id is seen (by any process sharing the database)."""
    try:
        async with database.sessions() as session, session.begin():
            session.add(SlackEvent(event_id=event_id, team_id=team_id))
    except IntegrityError:
        return False
    return True


async def forget_old_events(database: Database) -> None:
    async with database.sessions() as session, session.begin():
        await session.execute(delete(SlackEvent).where(SlackEvent.received_at < utcnow() - KEEP_FOR))


async def sweep_old_events(database: Database, every: timedelta = SWEEP_EVERY) -> None:
    """Every `every`, forget old event ids, for as long as the process runs (cancel to stop)."""
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            await forget_old_events(database)
        except Exception:  # a database hiccup must not end the sweeping
            log.warning("could not forget old Slack event ids", exc_info=True)


def dedupe_middleware(database: Database) -> Callable[..., Awaitable[Any]]:
    async def dedupe(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        event_id = body.get("event_id")
        if event_id and not await first_delivery(database, event_id, body.get("team_id")):
            log.info("event %s was already handled; acknowledging the retry only", event_id)
            return BoltResponse(status=200, body="")
        return await next()

    return dedupe
