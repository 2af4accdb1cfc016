"""What the offline planner can answer, for questions outside its families (no tool is called for them)."""

from __future__ import annotations

from bot.analysis.engine import EngineAnswer
from bot.analysis.offline.draft import Draft
from bot.analysis.offline.writing import write_answer

EXAMPLES = (
    "Top 10 errors in the agent service",
    "Slowest endpoints in the last hour (p95; or p99, average, max)",
    "Trace count by status code today",
    "Error rate over the last 24 hours",
    "Average LLM cost per request yesterday (or total cost, tokens per model)",
    "Record volume per service over the last 6 hours",
)
WINDOWS = "last 15 minutes, last hour, past 6 hours, last 24 hours, today, yesterday, last 7 days, this week"
FOLLOW_UPS = "“and yesterday?”, “what about billing-worker?”, “show p99 instead”"


def capabilities_answer() -> EngineAnswer:
    """The answer for a question outside the planner's families: what it can answer instead."""
    draft = Draft(
        "I can't answer that one in offline mode: without an AI model I understand a fixed set of questions "
        "about your Logfire data. For example:",
        details=[f"`{example}`" for example in EXAMPLES],
        notes=[f"Time windows: {WINDOWS} (UTC). In a thread, follow up with {FOLLOW_UPS}."],
    )
    return write_answer(draft, None)
