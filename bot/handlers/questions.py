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
    status = ThreadStatus(client, ask.channel_id, ask.thread_ts)
    await status.show("Planning the analysis")
    question = Question(ask.team_id, ask.channel_id, ask.user_id, ask.text, ask.thread_ts)
    try:
        result = await services.analyst.answer(question, progress=status.show)
    except LogfireBotError as error:
        await status.clear()
        text, error_blocks = blocks.error(error, retry_key=getattr(error, "analysis_id", None))
        await slack_io.post(client, ask.channel_id, text, error_blocks, thread_ts=ask.thread_ts)
        return
    except Exception as error:
        log.exception("answering in %s failed", ask.channel_id)
        await status.clear()
        text, error_blocks = blocks.internal_error(getattr(error, "analysis_id", None))
        await slack_io.post(client, ask.channel_id, text, error_blocks, thread_ts=ask.thread_ts)
        return
    await status.clear()
    await _post_answer(services, client, ask, result)


async def _post_answer(services: Services, client: AsyncWebClient, ask: Ask, result: AnalysisResult) -> None:
    connection = await services.vault.connection(ask.team_id)
    region = connection.region if connection else None
    project = connection.project if connection else None
    messages = blocks.answer(result, region=region, project=project)
    posted = [
        await slack_io.post(client, ask.channel_id, text, body, ask.thread_ts) for text, body in messages
    ]
    file_ids = await _upload_charts(client, ask, result)
    if not file_ids:
        return
    await services.analyst.record_uploads(result.analysis_id, [{"file_id": file_id} for file_id in file_ids])
    text, body = blocks.answer(result, region=region, project=project, chart_file_id=file_ids[0])[-1]
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
            text, body = blocks.chart_upload_failed(code)
            await slack_io.post(client, ask.channel_id, text, body, ask.thread_ts)
            break
    return file_ids
