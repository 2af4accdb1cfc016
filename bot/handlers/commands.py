"""`/logfire`: help, connect, status, tools, disconnect, or a question answered in a thread."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers import blocks, connection, slack_io
from bot.handlers.jobs import Jobs
from bot.handlers.questions import Ask, answer_in_thread
from bot.oauth.authorization import Requester
from bot.services import Services

log = logging.getLogger(__name__)

SUBCOMMANDS = {"connect", "disconnect", "status", "tools"}


def register(app: AsyncApp, services: Services, jobs: Jobs) -> None:
    @app.command("/logfire")
    async def logfire_command(ack, command: dict[str, Any], client: AsyncWebClient, respond) -> None:  # type: ignore[no-untyped-def]
        text = (command.get("text") or "").strip()
        word, _, rest = text.partition(" ")
        if word.lower() in ("", "help"):
            help_text, help_blocks = blocks.help_message()
            await ack(text=help_text, blocks=help_blocks, response_type="ephemeral")
            return
        await ack()
        if word.lower() in SUBCOMMANDS:
            work = _subcommand(services, client, respond, command, word.lower(), rest.strip())
            jobs.start(work, name=f"/logfire {word.lower()}")
        else:
            jobs.start(_question(services, client, respond, command, text), name="/logfire question")


async def _subcommand(services, client, respond, command, name: str, argument: str) -> None:  # type: ignore[no-untyped-def]
    team, user = command["team_id"], command["user_id"]
    if name == "connect":
        requester = Requester(team, user, command.get("channel_id"), command.get("enterprise_id"))
        text, body = await connection.connect(services, client, requester, argument)
    elif name == "disconnect":
        text, body = await connection.disconnect(services, client, team, user)
    elif name == "status":
        text, body = await connection.status(services, team)
    else:
        text, body = await connection.tools(services, team)
    await respond(text=text, blocks=body, response_type="ephemeral", replace_original=False)


async def _question(services, client, respond, command, text: str) -> None:  # type: ignore[no-untyped-def]
    """A public root message naming who asked, then the answer in its thread."""
    channel, user = command["channel_id"], command["user_id"]
    root_text, root_blocks = blocks.question_message(user, text)
    try:
        root_ts = await slack_io.post(client, channel, root_text, root_blocks)
    except SlackApiError as error:
        log.info("cannot post the question in %s: %s", channel, slack_io.error_code(error))
        notice, notice_blocks = blocks.slack_error_message(
            slack_io.error_code(error), "post your question here"
        )
        await respond(text=notice, blocks=notice_blocks, response_type="ephemeral", replace_original=False)
        return
    await answer_in_thread(services, client, Ask(command["team_id"], channel, user, text, root_ts))
