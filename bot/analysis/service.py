"""Answering one question: the workspace's context, the thread's earlier turns, the engine, a chart, and a
record of it all in the `analyses` table."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from bot.analysis.engine import Engine, EngineAnswer
from bot.analysis.toolbox import Toolbox
from bot.analysis.types import AnalysisResult, Progress, QueryRun, Question, Turn, Workspace, no_progress
from bot.charts import ChartRenderError, ChartSpecError, fallback_spec
from bot.errors import LogfireBotError, NotConnected
from bot.mcp_client.pool import McpPool
from db.engine import Database
from db.models import Analysis, LogfireConnection, utcnow

log = logging.getLogger(__name__)

HISTORY_TURNS = 6  # earlier turns of a thread a follow-up carries


class Analyst:
    def __init__(self, pool: McpPool, database: Database, engine: Engine) -> None:
        self.pool = pool
        self.database = database
        self.engine = engine

    @property
    def mode(self) -> str:
        return self.engine.mode

    async def aclose(self) -> None:
        """Close the engine's own connections (Claude's HTTP client); the offline planner has none."""
        close = getattr(self.engine, "aclose", None)
        if close is not None:
            await close()

    async def answer(self, question: Question, progress: Progress = no_progress) -> AnalysisResult:
        """Answer from Logfire; raises the `LogfireBotError` a user must see when it cannot."""
        started = time.perf_counter()
        connection = await self._connection(question.team_id)
        workspace = Workspace(question.team_id, connection.region, connection.project, utcnow())
        history = await self.history(question)
        analysis_id = await self._start(question)
        tools = Toolbox(self.pool, question.team_id, connection.mcp_url, progress)
        try:
            answer = await self.engine.answer(question, history, workspace, tools)
            if not tools.charts:
                await self._fallback_chart(tools, question, answer)
        except Exception as error:
            await self._finish_failed(analysis_id, tools, error, time.perf_counter() - started)
            error.analysis_id = analysis_id  # type: ignore[attr-defined] (lets the Slack layer offer a retry)
            raise
        result = AnalysisResult(
            analysis_id=analysis_id,
            mode=self.engine.mode,
            summary=answer.summary,
            key_numbers=answer.key_numbers,
            charts=list(tools.charts),
            queries=list(tools.queries),
            links=list(tools.links),
            window_label=answer.window_label,
            usage=answer.usage,
            seconds=time.perf_counter() - started,
            partial=answer.partial,
            notes=answer.notes,
        )
        await self._finish(result, tools)
        return result

    async def history(self, question: Question) -> list[Turn]:
        """The earlier answered turns of the question's thread, oldest first."""
        if question.thread_ts is None:
            return []
        async with self.database.sessions() as session:
            rows = await session.scalars(
                select(Analysis)
                .where(
                    Analysis.team_id == question.team_id,
                    Analysis.channel_id == question.channel_id,
                    Analysis.thread_ts == question.thread_ts,
                    Analysis.status.in_(("answered", "partial")),
                )
                .order_by(Analysis.created_at.desc())
                .limit(HISTORY_TURNS)
            )
            return [Turn(row.question, row.answer or "") for row in reversed(rows.all())]

    async def recorded(self, analysis_id: str) -> Analysis | None:
        """An earlier analysis as recorded (its question, where it was asked, its tool calls)."""
        async with self.database.sessions() as session:
            return await session.get(Analysis, analysis_id)

    async def queries(self, analysis_id: str) -> list[QueryRun]:
        """The tool calls an earlier analysis made (for "Show query")."""
        row = await self.recorded(analysis_id)
        return [QueryRun(**call) for call in row.tool_calls] if row else []

    async def last_question(self, team_id: str) -> Analysis | None:
        async with self.database.sessions() as session:
            return await session.scalar(
                select(Analysis)
                .where(Analysis.team_id == team_id)
                .order_by(Analysis.created_at.desc())
                .limit(1)
            )

    async def answered_in_thread(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        """Whether the bot answered in this thread before (so a reply there is a follow-up)."""
        async with self.database.sessions() as session:
            found = await session.scalar(
                select(Analysis.id)
                .where(
                    Analysis.team_id == team_id,
                    Analysis.channel_id == channel_id,
                    Analysis.thread_ts == thread_ts,
                )
                .limit(1)
            )
        return found is not None

    async def record_uploads(self, analysis_id: str, files: list[dict[str, Any]]) -> None:
        """Remember where the charts went in Slack (file ids, message ts), for pinning and App Home."""
        async with self.database.sessions() as session, session.begin():
            row = await session.get(Analysis, analysis_id)
            if row is not None:
                row.charts = [{**chart, **file} for chart, file in zip(row.charts, files, strict=False)]

    async def _connection(self, team_id: str) -> LogfireConnection:
        async with self.database.sessions() as session:
            row = await session.get(LogfireConnection, team_id)
        if row is None or row.access_token is None:
            raise NotConnected()
        if row.needs_reconnect_reason:
            raise NotConnected(row.needs_reconnect_reason)
        return row

    async def _fallback_chart(self, tools: Toolbox, question: Question, answer: EngineAnswer) -> None:
        table = tools.last_table()
        if table is None or not table.rows:
            return
        spec = fallback_spec(table, _title(question.text), answer.window_label or "the time window queried")
        if spec is None:
            return
        try:
            await tools.chart(spec)
        except (ChartSpecError, ChartRenderError) as error:
            log.info("no fallback chart for analysis: %s", error)

    async def _start(self, question: Question) -> str:
        analysis_id = str(uuid.uuid4())
        async with self.database.sessions() as session, session.begin():
            session.add(
                Analysis(
                    id=analysis_id,
                    team_id=question.team_id,
                    channel_id=question.channel_id,
                    thread_ts=question.thread_ts,
                    user_id=question.user_id,
                    question=question.text,
                    status="running",
                    mode=self.engine.mode,
                )
            )
        return analysis_id

    async def _finish(self, result: AnalysisResult, tools: Toolbox) -> None:
        async with self.database.sessions() as session, session.begin():
            row = await session.get(Analysis, result.analysis_id)
            row.status = "partial" if result.partial else "answered"
            row.model = result.usage.model
            row.answer = result.summary
            row.tool_calls = [asdict(query) for query in tools.queries]
            row.charts = [{"title": chart.title, "filename": chart.filename} for chart in result.charts]
            row.input_tokens = result.usage.input_tokens
            row.output_tokens = result.usage.output_tokens
            row.cost_usd = result.usage.cost_usd
            row.timings = {"total_s": round(result.seconds, 3), "model_calls": result.usage.model_calls}
            row.finished_at = utcnow()

    async def _finish_failed(
        self, analysis_id: str, tools: Toolbox, error: Exception, seconds: float
    ) -> None:
        kind = error.kind if isinstance(error, LogfireBotError) else "internal"
        if not isinstance(error, LogfireBotError):
            log.exception("analysis %s failed", analysis_id)
        async with self.database.sessions() as session, session.begin():
            row = await session.get(Analysis, analysis_id)
            row.status = "failed"
            row.error = f"{kind}: {error}" if isinstance(error, LogfireBotError) else kind
            row.tool_calls = [asdict(query) for query in tools.queries]
            row.timings = {"total_s": round(seconds, 3)}
            row.finished_at = utcnow()


def _title(question: str) -> str:
    text = " ".join(question.split())
    return text if len(text) <= 90 else text[:89] + "…"
