"""Slack listeners (one module per kind of input) and the Block Kit builders they answer with."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.handlers import actions, commands, events
from bot.handlers.dedupe import dedupe_middleware
from bot.handlers.jobs import Jobs
from bot.services import Services


def register_listeners(app: AsyncApp, services: Services, jobs: Jobs) -> None:
    app.middleware(dedupe_middleware(services.database))
    commands.register(app, services, jobs)
    events.register(app, services, jobs)
    actions.register(app, services, jobs)
