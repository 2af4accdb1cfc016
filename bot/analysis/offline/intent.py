"""What a question asks for, as far as the planner understood it, and how a follow-up changes it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from bot.analysis.offline.services import AllServices, ServiceMention
from bot.analysis.offline.windows import WindowPhrase

Family = Literal["errors", "latency", "status_codes", "error_rate", "llm_usage", "volume"]
Statistic = Literal["p50", "p90", "p95", "p99", "avg", "max"]
# What to lead with instead of a family's default: errors → "exceptions" (default: all errors); llm_usage →
# "avg_cost" | "tokens" | "cost" (the default); volume → "traces" (default: records).
Focus = Literal["exceptions", "avg_cost", "cost", "tokens", "traces"]

DEFAULT_LIMIT = 10
MAX_LIMIT = 50


@dataclass(frozen=True)
class Intent:
    """The parts of a question; None where the question did not say (a follow-up inherits those)."""

    family: Family | None = None
    window: WindowPhrase | None = None
    services: tuple[ServiceMention, ...] | AllServices | None = None
    limit: int | None = None
    statistic: Statistic | None = None
    focus: Focus | None = None

    @property
    def said_anything(self) -> bool:
        return any(getattr(self, f.name) is not None for f in dataclasses.fields(self))

    def then(self, later: Intent) -> Intent:
        """This intent changed by a later question of the same thread: what the later one says wins; the
        window and the service carry over (the later service mentions are tried first); the options of one
        family do not carry over to another."""
        same_family = later.family is None or later.family == self.family
        return Intent(
            family=later.family or self.family,
            window=later.window or self.window,
            services=_services(self.services, later.services),
            limit=later.limit or (self.limit if same_family else None),
            statistic=later.statistic or (self.statistic if same_family else None),
            focus=later.focus or (self.focus if same_family else None),
        )


def _services(
    earlier: tuple[ServiceMention, ...] | AllServices | None,
    later: tuple[ServiceMention, ...] | AllServices | None,
) -> tuple[ServiceMention, ...] | AllServices | None:
    if later is None or isinstance(later, AllServices):
        return later or earlier
    if isinstance(earlier, tuple):
        return later + tuple(m for m in earlier if m not in later)
    return later
