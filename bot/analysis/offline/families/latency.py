"""Slowest endpoints: HTTP spans (`kind = 'span'` with an `http_route`) per route, ranked by p95 (or the
statistic asked for: p50, p90, p99, average, maximum). Durations are seconds, as Logfire stores them;
percentiles are Logfire's `approx_percentile_cont` (a t-digest estimate, not an exact rank)."""

from __future__ import annotations

from bot.analysis.offline import formatting as fmt
from bot.analysis.offline.draft import Draft
from bot.analysis.offline.intent import DEFAULT_LIMIT, Intent, Statistic
from bot.analysis.offline.querying import Logfire
from bot.analysis.offline.scope import Scope
from bot.analysis.types import KeyNumber
from bot.charts import ChartSpec

SHOWN_IN_TEXT = 5
DEFAULT_STATISTIC: Statistic = "p95"
_EXPRESSIONS: dict[Statistic, str] = {
    "p50": "approx_percentile_cont(0.5) WITHIN GROUP (ORDER BY duration)",
    "p90": "approx_percentile_cont(0.9) WITHIN GROUP (ORDER BY duration)",
    "p95": "approx_percentile_cont(0.95) WITHIN GROUP (ORDER BY duration)",
    "p99": "approx_percentile_cont(0.99) WITHIN GROUP (ORDER BY duration)",
    "avg": "avg(duration)",
    "max": "max(duration)",
}
_NAMES: dict[Statistic, str] = {
    "p50": "median",
    "p90": "p90",
    "p95": "p95",
    "p99": "p99",
    "avg": "average",
    "max": "maximum",
}
_CONTEXT: tuple[Statistic, ...] = ("avg", "p95", "max")  # shown next to the ranked statistic


def column(statistic: Statistic) -> str:
    """The result column of a statistic: p95_duration, avg_duration, ..."""
    return f"{statistic}_duration"


def sql(scope: Scope, statistic: Statistic, limit: int) -> str:
    statistics = [statistic, *(s for s in _CONTEXT if s != statistic)]
    measures = ", ".join(f"{_EXPRESSIONS[s]} AS {column(s)}" for s in statistics)
    source = scope.records("kind = 'span'", "http_route IS NOT NULL")
    return (
        f"SELECT http_route AS route, count(*) AS requests, {measures} {source} "
        f"GROUP BY http_route ORDER BY {column(statistic)} DESC, route LIMIT {limit}"
    )


async def answer(intent: Intent, scope: Scope, logfire: Logfire) -> Draft:
    statistic = intent.statistic or DEFAULT_STATISTIC
    name = _NAMES[statistic]
    limit = intent.limit or DEFAULT_LIMIT
    table = await logfire.rows(sql(scope, statistic, limit), scope.window)
    rows = table.records()
    if not rows:
        return Draft(f"No HTTP requests with a route{scope.qualifier}.")
    ranked = column(statistic)
    top = rows[0]
    answer = (
        f"The slowest endpoint{scope.qualifier} was {fmt.code(top['route'])}: "
        f"{name} {fmt.seconds(top[ranked])} over {fmt.plural(int(top['requests']), 'request')}."
    )
    details = [
        f"{fmt.code(row['route'])}: {name} {fmt.seconds(row[ranked])}"
        + "".join(f", {_NAMES[s]} {fmt.seconds(row[column(s)])}" for s in _CONTEXT if s != statistic)
        + f" ({fmt.count(row['requests'])} requests)"
        for row in rows[:SHOWN_IN_TEXT]
    ]
    key_numbers = [
        KeyNumber("Slowest endpoint", str(top["route"])),
        KeyNumber(f"Its {name}", fmt.seconds(top[ranked])),
        KeyNumber("Its requests", fmt.count(top["requests"])),
        KeyNumber("Endpoints ranked", str(len(rows))),
    ]
    chart = ChartSpec(
        kind="hbar",
        title=f"{name} latency by route{scope.service_title}",
        time_range=scope.window.label,
        result_id=table.result_id,
        x="route",
        y=[ranked],
        unit="s",
        additive=False,
    )
    notes = []
    if statistic.startswith("p"):
        notes.append(f"{name} is Logfire's `approx_percentile_cont` of span durations, an estimate.")
    if len(rows) == limit:
        notes.append(f"The {limit} slowest endpoints are shown; there may be more.")
    return Draft(answer, details, key_numbers, chart, notes)
