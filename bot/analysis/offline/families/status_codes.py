"""Requests (traces) by HTTP status code: root spans (`parent_span_id IS NULL`) that carry a status code, so
each incoming request counts once however many spans its trace has."""

from __future__ import annotations

from collections import Counter

from bot.analysis.offline import formatting as fmt
from bot.analysis.offline.draft import Draft
from bot.analysis.offline.intent import Intent
from bot.analysis.offline.querying import Logfire
from bot.analysis.offline.scope import Scope
from bot.analysis.types import KeyNumber
from bot.charts import ChartSpec

CODES_LIMIT = 100


def sql(scope: Scope) -> str:
    source = scope.records("parent_span_id IS NULL", "http_response_status_code IS NOT NULL")
    return (
        f"SELECT http_response_status_code AS status_code, count(*) AS traces {source} "
        f"GROUP BY http_response_status_code ORDER BY traces DESC, status_code LIMIT {CODES_LIMIT}"
    )


async def answer(intent: Intent, scope: Scope, logfire: Logfire) -> Draft:
    table = await logfire.rows(sql(scope), scope.window)
    counts = {int(row["status_code"]): int(row["traces"]) for row in table.records()}
    if not counts:
        return Draft(f"No HTTP requests (root spans with a status code){scope.qualifier}.")
    total = sum(counts.values())
    classes = Counter[str]()
    for code, traces in counts.items():
        classes[f"{code // 100}xx"] += traces
    top_code, top_count = next(iter(counts.items()))
    mix = ", ".join(f"{fmt.share(n, total)} {name}" for name, n in sorted(classes.items()))
    answer = (
        f"{fmt.plural(total, 'request')} (traces){scope.qualifier}: {mix}. "
        f"Most common status: *{top_code}* ({fmt.count(top_count)})."
    )
    details = [
        f"*{code}*: {fmt.count(n)} ({fmt.share(n, total)})" for code, n in sorted(counts.items())
    ]
    key_numbers = [KeyNumber("Requests (traces)", fmt.count(total))]
    key_numbers += [
        KeyNumber(name, f"{fmt.count(n)} ({fmt.share(n, total)})") for name, n in sorted(classes.items())
    ]
    chart = ChartSpec(
        kind="bar",
        title=f"Traces by HTTP status code{scope.service_title}",
        time_range=scope.window.label,
        result_id=table.result_id,
        x="status_code",
        y=["traces"],
        unit="count",
        additive=True,
    )
    notes = ["Counted once per trace: root spans that have an HTTP status code."]
    return Draft(answer, details, key_numbers, chart, notes)
