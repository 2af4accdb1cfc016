"""One module per question family: its SQL and how its answer is written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.analysis.offline.draft import Draft
from bot.analysis.offline.families import error_rate, errors, latency, llm_usage, status_codes, volume
from bot.analysis.offline.intent import Family, Intent
from bot.analysis.offline.querying import Logfire
from bot.analysis.offline.scope import Scope

FamilyAnswer = Callable[[Intent, Scope, Logfire], Awaitable[Draft]]

FAMILIES: dict[Family, FamilyAnswer] = {
    "errors": errors.answer,
    "latency": latency.answer,
    "status_codes": status_codes.answer,
    "error_rate": error_rate.answer,
    "llm_usage": llm_usage.answer,
    "volume": volume.answer,
}
