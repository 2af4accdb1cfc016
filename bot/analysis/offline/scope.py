"""What one answer covers: its time window and (optionally) one service, resolved against the services that
really sent data in that window."""

from __future__ import annotations

from dataclasses import dataclass

from bot.analysis.offline.draft import Draft
from bot.analysis.offline.formatting import code, escape
from bot.analysis.offline.querying import Logfire, sql_text
from bot.analysis.offline.services import AllServices, ServiceMention, match_service
from bot.analysis.offline.windows import TimeWindow

SERVICES_LIMIT = 500


@dataclass(frozen=True)
class Scope:
    window: TimeWindow
    service: str | None = None
    window_filters: tuple[str, ...] = ()  # when the tool cannot take the whole window

    def records(self, *conditions: str) -> str:
        """FROM and WHERE of a family query: its own conditions, the service, the window if needed."""
        service = [f"service_name = {sql_text(self.service)}"] if self.service else []
        parts = [*conditions, *service, *self.window_filters]
        return f"FROM records WHERE {' AND '.join(parts)}" if parts else "FROM records"

    @property
    def in_service(self) -> str:
        """" in `agent`" or ""."""
        return f" in {code(self.service)}" if self.service else ""

    @property
    def qualifier(self) -> str:
        """" in `agent` in the last hour (UTC)", " yesterday (2025-03-01 UTC)": the scope in a sentence."""
        return f"{self.in_service} {self.window.phrase}"

    @property
    def service_title(self) -> str:
        """", service agent" or ", all services": for chart titles."""
        return f", service {self.service}" if self.service else ", all services"


def services_sql(scope: Scope) -> str:
    return f"SELECT DISTINCT service_name {scope.records()} ORDER BY service_name LIMIT {SERVICES_LIMIT}"


async def resolve_service(
    mentions: tuple[ServiceMention, ...] | AllServices | None, scope: Scope, logfire: Logfire
) -> Scope | Draft:
    """The scope narrowed to the service the question names, or a Draft saying which services exist (an
    explicit name that matches none) or asking which one was meant (a name that fits several)."""
    if mentions is None or isinstance(mentions, AllServices):
        return scope
    table = await logfire.rows(services_sql(scope), scope.window)
    names = [str(name) for name in table.column("service_name") if name is not None] if table.rows else []
    for mention in mentions:
        found = match_service(mention.text, names)
        if len(found) == 1:
            return Scope(scope.window, found[0], scope.window_filters)
        if len(found) > 1:
            return _ambiguous(mention, found)
        if mention.explicit:
            return _unknown(mention, names, scope.window)
    return scope


def _unknown(mention: ServiceMention, names: list[str], window: TimeWindow) -> Draft:
    if not names:
        return Draft(f"No service sent any data {window.phrase}, so there is no “{escape(mention.text)}”.")
    listed = ", ".join(code(name) for name in names)
    return Draft(
        f"I found no service matching “{escape(mention.text)}” {window.phrase}. "
        f"Services with data in that window: {listed}. Ask again with one of these names."
    )


def _ambiguous(mention: ServiceMention, names: list[str]) -> Draft:
    listed = ", ".join(code(name) for name in names)
    return Draft(f"“{escape(mention.text)}” fits several services: {listed}. Which one did you mean?")
