"""Answering a question in a thread, whichever way it was asked (slash command, mention, DM, follow-up,
Retry): progress while it runs, the answer, the chart uploaded into the thread, and a plain message for every
failure."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.analysis.types import AnalysisResult, Question
from bot.errors import LogfireBotError
from bot.handlers import blocks, slack_io
from bot.handlers.blocks.kit import plural
from bot.handlers.status import ThreadStatus
from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ask:
    team_id: str
    channel_id: str
    user_id: str
    text: str
    thread_ts: str  # the thread the answer goes to


async def answer_in_thread(services: Services, client: AsyncWebClient, ask: Ask) -> None:
    """Wait for a free analysis slot (saying so in the thread), then answer."""
    status = ThreadStatus(client, ask.channel_id, ask.thread_ts)

    async def queued(ahead: int) -> None:
        await status.show(f"Queued behind {plural(ahead, 'question')}")

    async with services.queue.turn(queued):
        await status.show("Planning the analysis", force=True)
        await _answer(services, client, ask, status)


async def _answer(services: Services, client: AsyncWebClient, ask: Ask, status: ThreadStatus) -> None:
    question = Question(ask.team_id, ask.channel_id, ask.user_id, ask.text, ask.thread_ts)
    try:
        result = await services.analyst.answer(question, progress=status.show)
    except Exception as error:
        if not isinstance(error, LogfireBotError):
            log.exception("answering in %s failed", ask.channel_id)
        await status.clear()
        analysis_id = getattr(error, "analysis_id", None)
        text, error_blocks = blocks.error_message(
            error,
            retry_key=analysis_id,
            reference=analysis_id,
            region_urls=services.settings.logfire_region_urls,
        )
        await slack_io.post(client, ask.channel_id, text, error_blocks, thread_ts=ask.thread_ts)
        return
    await status.clear()
    await _post_answer(services, client, ask, result)


async def _post_answer(services: Services, client: AsyncWebClient, ask: Ask, result: AnalysisResult) -> None:
    connection = await services.vault.connection(ask.team_id)
    region = connection.region if connection else "custom"
    project = connection.project if connection else None
    messages = blocks.answer_messages(result, region=region, project=project)
    posted = [await slack_io.post(client, ask.channel_id, *message, ask.thread_ts) for message in messages]
    file_ids = await _upload_charts(client, ask, result)
    if not file_ids:
        return
    await services.analyst.record_uploads(result.analysis_id, [{"file_id": file_id} for file_id in file_ids])
    text, body = blocks.answer_messages(result, region=region, project=project, chart_file_ids=file_ids)[-1]
    try:
        await slack_io.update(client, ask.channel_id, posted[-1], text, body)
    except SlackApiError as error:
        log.info("could not add the Pin chart button: %s", slack_io.error_code(error))


async def _upload_charts(client: AsyncWebClient, ask: Ask, result: AnalysisResult) -> list[str]:
    file_ids = []
    for chart in result.charts:
        try:
            file_ids.append(await slack_io.upload_chart(client, ask.channel_id, ask.thread_ts, chart))
        except SlackApiError as error:
            code = slack_io.error_code(error)
            log.warning("chart upload failed in %s: %s", ask.channel_id, code)
            text, body = blocks.slack_error_message(code, "upload the chart", needed="files:write")
            await slack_io.post(client, ask.channel_id, text, body, ask.thread_ts)
            break
    return file_ids
