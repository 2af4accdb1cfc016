"""The offline planner: answers the common question families with fixed SQL, without an AI model."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.analysis.engine import EngineAnswer
from bot.analysis.offline.capabilities import capabilities_answer
from bot.analysis.offline.draft import Draft
from bot.analysis.offline.families import FAMILIES
from bot.analysis.offline.intent import Intent
from bot.analysis.offline.parse import parse_question
from bot.analysis.offline.querying import Logfire, QueryTool
from bot.analysis.offline.scope import Scope, resolve_service
from bot.analysis.offline.windows import WindowPhrase, resolve
from bot.analysis.offline.writing import write_answer
from bot.analysis.toolbox import Toolbox
from bot.analysis.types import Mode, Question, Turn, Workspace
from bot.charts import ChartRenderError, ChartSpec, ChartSpecError

log = logging.getLogger(__name__)

DEFAULT_WINDOW = timedelta(hours=24)


class OfflinePlanner:
    """An `Engine` that parses the question (and the thread's earlier questions), runs one family's SQL
    through Logfire's query tool over an explicit window, and writes the answer with a chart."""

    mode: Mode = "offline"

    def __init__(self, default_window: timedelta = DEFAULT_WINDOW) -> None:
        self.default_window = WindowPhrase(rolling=default_window)

    async def answer(
        self, question: Question, history: list[Turn], workspace: Workspace, tools: Toolbox
    ) -> EngineAnswer:
        asked = parse_question(question.text)
        intent = understand(asked, history)
        if not asked.said_anything or intent.family is None:
            return capabilities_answer()
        query_tool = QueryTool.from_catalog(await tools.catalog())
        logfire = Logfire(tools, query_tool, workspace.project, workspace.now)
        window = resolve(intent.window or self.default_window, workspace.now)
        whole = Scope(window, None, logfire.window_filters(window))
        scope = await resolve_service(intent.services, whole, logfire)
        draft = scope if isinstance(scope, Draft) else await FAMILIES[intent.family](intent, scope, logfire)
        if draft.chart is not None:
            await _draw(tools, draft.chart)
        return write_answer(draft, window, window_defaulted=intent.window is None)


def understand(asked: Intent, history: list[Turn]) -> Intent:
    """The question read in its thread: each earlier question, oldest first, then this one."""
    intent = Intent()
    for turn in history:
        intent = intent.then(parse_question(turn.question))
    return intent.then(asked)


async def _draw(tools: Toolbox, spec: ChartSpec) -> None:
    try:
        await tools.chart(spec)
    except (ChartSpecError, ChartRenderError) as error:
        log.warning("offline chart %r not drawn: %s", spec.title, error)
