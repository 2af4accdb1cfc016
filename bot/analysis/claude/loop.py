"""Claude's tool loop: the model plans, calls Logfire's allowed tools through the toolbox, charts, and ends
with the `answer` tool; caps on model calls, input tokens and wall time turn into an honest partial answer.

A one-query question takes two model calls: the query, then `render_chart` and `answer` in one turn. The
answer is a tool rather than text because its key numbers come back structured, and because newer models
(Sonnet 5.5) return text written before a tool call as a thinking block: an answer in a tool input cannot
be lost that way. A third call is made only when something must be fixed (a chart spec that does not fit).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anthropic
from anthropic.types import Message, ToolUseBlock

from bot.analysis.claude.answer import Answer
from bot.analysis.claude.client import model_error, new_client
from bot.analysis.claude.conversation import add_user_text, characters, opening, with_cache_breakpoint
from bot.analysis.claude.pricing import UsageMeter
from bot.analysis.claude.prompts import system_blocks, workspace_reference
from bot.analysis.claude.reference import SchemaReferences
from bot.analysis.claude.results import ResultFormat, capped, compact_result, tool_result
from bot.analysis.claude.tools import ANSWER_TOOL, LOCAL_TOOLS, ToolSet, input_problem, tool_set
from bot.analysis.engine import EngineAnswer
from bot.analysis.toolbox import Toolbox
from bot.analysis.types import Mode, Question, Turn, Workspace
from bot.charts import TOOL_NAME as CHART_TOOL
from bot.charts import ChartRenderError, ChartSpecError, parse_spec
from bot.config import Settings
from bot.errors import ModelUnavailable, ToolFailed, ToolRefused

log = logging.getLogger(__name__)

MAX_CHARTS = 3
FIRST_TOKENS_PER_CHAR = 0.3  # before the first answer tells the real ratio (Claude: about 0.25-0.3)


@dataclass(frozen=True)
class Caps:
    max_steps: int = 6  # model calls per question, the final answer included
    max_output_tokens: int = 8192  # per call, thinking included (adaptive by default on Sonnet 5.x)
    max_input_tokens: int = 100_000  # summed over the calls, cached or not
    max_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Caps:
        return cls(
            settings.logfire_bot_max_steps,
            settings.logfire_bot_max_output_tokens,
            settings.logfire_bot_max_input_tokens,
            settings.logfire_bot_max_seconds,
        )

    @property
    def final_call_seconds(self) -> float:
        """Time kept back for the last call, which answers without tools."""
        return min(30.0, self.max_seconds / 4)


class ClaudeEngine:
    mode: Mode = "claude"

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        model: str,
        caps: Caps | None = None,
        references: SchemaReferences | None = None,
        result_format: ResultFormat = compact_result,
    ) -> None:
        self.client = client
        self.model = model
        self.caps = caps or Caps()
        self.references = references or SchemaReferences()
        self.result_format = result_format  # bench/analysis.py compares with raw_result

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaudeEngine:
        return cls(new_client(settings), settings.logfire_bot_model, Caps.from_settings(settings))

    async def aclose(self) -> None:
        await self.client.close()

    async def answer(
        self, question: Question, history: list[Turn], workspace: Workspace, tools: Toolbox
    ) -> EngineAnswer:
        deadline = asyncio.get_running_loop().time() + self.caps.max_seconds
        catalog = await tools.catalog()
        schema = await self.references.get(tools, catalog)
        system = system_blocks(workspace_reference(schema, catalog.instructions), workspace)
        run = _Run(self, tools, tool_set(catalog.allowed), system, opening(history, question.text), deadline)
        return await run.answer()


class _Run:
    """One question's loop: its messages, usage, deadline and the answer once given."""

    def __init__(
        self,
        engine: ClaudeEngine,
        tools: Toolbox,
        toolset: ToolSet,
        system: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        deadline: float,
    ) -> None:
        self.engine = engine
        self.caps = engine.caps
        self.tools = tools
        self.toolset = toolset
        self.system = system
        self.messages = messages
        self.meter = UsageMeter(engine.model)
        self.link_host = urlsplit(tools.mcp_url).hostname
        self.deadline = deadline
        self.given: Answer | None = None
        self.tokens_per_char = FIRST_TOKENS_PER_CHAR

    async def answer(self) -> EngineAnswer:
        await self.tools.progress("Planning the analysis")
        for step in range(1, self.caps.max_steps + 1):
            if (stop := self._no_call_reason()) is not None:
                return self._composed_here(stop)
            final = self._final_call_reason(step)
            if final is not None and self.given is not None:
                return self.given.engine_answer(self.meter.usage(), self.link_host)
            if final is not None:
                add_user_text(self.messages, _finish_now(final))
            reply = await self._create(final is not None)
            if reply is None:
                return self._composed_here(self._time_cap())
            calls = [block for block in reply.content if isinstance(block, ToolUseBlock)]
            if final is not None or not calls:
                return self._from_text(reply, final)
            self.messages.append(reply.to_param())
            try:
                async with asyncio.timeout_at(self.deadline):
                    results, settled = await self._run(calls)
            except TimeoutError:
                return self._composed_here(self._time_cap())
            if settled and self.given is not None:
                return self.given.engine_answer(self.meter.usage(), self.link_host)
            self.messages.append({"role": "user", "content": results})
        raise AssertionError("unreachable: the last step always returns")

    # Model calls

    async def _create(self, final: bool) -> Message | None:
        """One model call (None if the deadline passed first); raises the user-facing error on API failure."""
        request: dict[str, Any] = {
            "model": self.engine.model,
            "max_tokens": self.caps.max_output_tokens,
            "system": self.system,
            "tools": self.toolset.definitions,
            "messages": with_cache_breakpoint(self.messages),
        }
        if final:
            request["tool_choice"] = {"type": "none"}
        sent = self._characters()
        try:
            async with asyncio.timeout_at(self.deadline):
                reply = await self.engine.client.messages.create(**request)
        except TimeoutError:
            if self.meter.calls == 0:
                raise ModelUnavailable(f"no answer within {self.caps.max_seconds:g} s") from None
            return None
        except anthropic.AnthropicError as error:
            raise model_error(error) from None
        self.meter.add(reply.usage)
        usage = reply.usage
        cached = (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
        self.tokens_per_char = max((usage.input_tokens + cached) / max(sent, 1), 0.05)
        return reply

    def _characters(self) -> int:
        return characters(self.system, self.toolset.definitions, self.messages)

    def _estimate(self) -> int:
        """Input tokens the next call would send."""
        return round(self._characters() * self.tokens_per_char)

    def _no_call_reason(self) -> str | None:
        if self.meter.input_total + self._estimate() > self.caps.max_input_tokens:
            return self._token_cap()
        if self._remaining() <= 0:
            return self._time_cap()
        return None

    def _final_call_reason(self, step: int) -> str | None:
        """Why this call must be the last one (answer now, no tools), or None."""
        if step == self.caps.max_steps:
            return f"the step cap ({self.caps.max_steps} model calls)"
        if self.meter.input_total + 2 * self._estimate() > self.caps.max_input_tokens:
            return self._token_cap()
        if self._remaining() < self.caps.final_call_seconds:
            return self._time_cap()
        return None

    def _remaining(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    def _token_cap(self) -> str:
        return f"the input-token cap ({self.caps.max_input_tokens:,} tokens)"

    def _time_cap(self) -> str:
        return f"the time cap ({self.caps.max_seconds:g} s)"

    # Tool calls

    async def _run(self, calls: list[ToolUseBlock]) -> tuple[list[dict[str, Any]], bool]:
        """The tool_result of every call, in order; and whether the analysis is settled (answered, nothing
        left to fix). Logfire calls run first (concurrently), then charts, then the answer."""
        logfire = [call for call in calls if call.name not in LOCAL_TOOLS]
        answered = await asyncio.gather(*map(self._logfire, logfire))
        results = {call.id: result for call, result in zip(logfire, answered, strict=True)}
        fix_needed = bool(logfire)
        for call in (call for call in calls if call.name == CHART_TOOL):
            results[call.id], spec_error = await self._chart(call)
            fix_needed |= spec_error
        for call in (call for call in calls if call.name == ANSWER_TOOL):
            results[call.id] = self._take_answer(call, premature=bool(logfire), chart_to_fix=fix_needed)
            fix_needed |= results[call.id].get("is_error", False)
        return [results[call.id] for call in calls], not fix_needed

    async def _logfire(self, call: ToolUseBlock) -> dict[str, Any]:
        problem = input_problem(self.toolset, call.name, call.input)
        if problem is not None:
            return tool_result(call.id, problem, is_error=True)
        try:
            outcome = await self.tools.call(call.name, dict(call.input))
        except ToolRefused as refused:
            return tool_result(call.id, f"{refused} Use only the tools you were given.", is_error=True)
        except ToolFailed as failed:
            return tool_result(call.id, capped(failed.message), is_error=True)
        if outcome.is_error:
            return tool_result(call.id, capped(outcome.text), is_error=True)
        return tool_result(call.id, self.engine.result_format(outcome))

    async def _chart(self, call: ToolUseBlock) -> tuple[dict[str, Any], bool]:
        """The tool_result of a render_chart call, and whether the spec must be fixed."""
        if len(self.tools.charts) >= MAX_CHARTS:
            return tool_result(call.id, f"At most {MAX_CHARTS} charts per answer.", is_error=True), False
        try:
            chart = await self.tools.chart(parse_spec(call.input))
        except ChartSpecError as wrong:
            return tool_result(call.id, str(wrong), is_error=True), True
        except ChartRenderError as failed:
            log.warning("chart not drawn: %s", failed)
            return tool_result(call.id, f"The chart could not be drawn ({failed}).", is_error=True), False
        return tool_result(call.id, f"Chart drawn: {chart.title}. It is attached to the answer."), False

    def _take_answer(self, call: ToolUseBlock, *, premature: bool, chart_to_fix: bool) -> dict[str, Any]:
        if premature:
            return tool_result(
                call.id,
                "Not delivered: call `answer` in a later turn, after you have read the results of the "
                "Logfire tools called in this turn.",
                is_error=True,
            )
        problem = input_problem(self.toolset, ANSWER_TOOL, call.input)
        if problem is not None:
            return tool_result(call.id, problem, is_error=True)
        self.given = Answer.from_tool(dict(call.input))
        if chart_to_fix:
            return tool_result(
                call.id,
                "Answer noted. Fix the chart as the render_chart error says and call render_chart again; "
                "call answer again only if the summary must change.",
            )
        return tool_result(call.id, "Answer delivered.")

    # Endings

    def _from_text(self, reply: Message, cap: str | None) -> EngineAnswer:
        """The answer when the model ended with text (or had to, at a cap)."""
        usage = self.meter.usage()
        if self.given is not None:
            return self.given.engine_answer(usage, self.link_host)
        text = "\n\n".join(block.text for block in reply.content if block.type == "text").strip()
        notes = []
        if cap is not None:
            notes.append(_stopped(cap))
        if reply.stop_reason == "max_tokens":
            notes.append(f"the reply was cut at the output cap ({self.caps.max_output_tokens:,} tokens)")
        if reply.stop_reason == "refusal":
            notes.append("Claude declined to answer this question")
            text = text or "Claude declined to answer this question."
        partial = cap is not None or reply.stop_reason in ("max_tokens", "model_context_window_exceeded")
        summary = text or "Claude ended without writing an answer."
        return Answer(summary).engine_answer(usage, self.link_host, partial=partial or not text, notes=notes)

    def _composed_here(self, cap: str) -> EngineAnswer:
        """A partial answer written without the model (no call fits the caps any more)."""
        if self.given is not None:
            return self.given.engine_answer(self.meter.usage(), self.link_host)
        tables = list(self.tools.tables.values())
        if not tables:
            lines = [
                f"I stopped at {cap} before any result came back. Try a narrower question or a shorter "
                "time window."
            ]
        else:
            lines = [f"I stopped at {cap} before Claude could summarise the results. Gathered so far:"]
            for table in tables[-5:]:
                rows = f"{len(table.rows)} row{'s' if len(table.rows) != 1 else ''}"
                lines.append(f"• `{table.result_id}`: {rows} from `{table.source_tool}`")
        answer = Answer("\n".join(lines))
        return answer.engine_answer(self.meter.usage(), self.link_host, partial=True, notes=[_stopped(cap)])


def _finish_now(cap: str) -> str:
    return (
        f"[Logfire bot] {cap[0].upper() + cap[1:]} is reached: no more tool calls can run. Answer now, as "
        "text in Slack mrkdwn, from the results above only: first one sentence saying the analysis stopped "
        "early and what is missing, then what the results show, with their numbers and time window."
    )


def _stopped(cap: str) -> str:
    """A note for the Slack layer's "Partial answer: …" line."""
    return f"stopped at {cap}; this answer uses only the results gathered until then"
