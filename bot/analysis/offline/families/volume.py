"""Volume over time per service: records (spans, logs, span events; pending spans are never in `records`),
or traces (root spans) when the question asks about requests or traces, per time bucket and service."""

from __future__ import annotations

from collections import Counter

from bot.analysis.offline import formatting as fmt
from bot.analysis.offline.buckets import Bucket, bucket_count, bucket_for
from bot.analysis.offline.draft import Draft
from bot.analysis.offline.intent import Intent
from bot.analysis.offline.querying import Logfire
from bot.analysis.offline.scope import Scope
from bot.analysis.types import KeyNumber
from bot.charts import ChartSpec

ROOT_SPANS = ("parent_span_id IS NULL", "kind = 'span'")
SERVICES_PER_BUCKET = 20  # row budget per bucket, so LIMIT stays bounded
SHOWN_IN_TEXT = 6


def sql(scope: Scope, bucket: Bucket, measure: str) -> str:
    conditions = ROOT_SPANS if measure == "traces" else ()
    limit = bucket_count(scope.window.length, bucket) * SERVICES_PER_BUCKET
    return (
        f"SELECT time_bucket('{bucket.interval}', start_timestamp) AS bucket, service_name, "
        f"count(*) AS {measure} "
        f"{scope.records(*conditions)} "
        f"GROUP BY bucket, service_name ORDER BY bucket, service_name LIMIT {limit}"
    )


async def answer(intent: Intent, scope: Scope, logfire: Logfire) -> Draft:
    measure = "traces" if intent.focus == "traces" else "records"
    bucket = bucket_for(scope.window.length)
    table = await logfire.rows(sql(scope, bucket, measure), scope.window)
    rows = table.records()
    if not rows:
        return Draft(f"No {measure}{scope.qualifier}.")
    per_service = Counter[str]()
    per_bucket = Counter[str]()
    for row in rows:
        per_service[str(row["service_name"])] += int(row[measure])
        per_bucket[str(row["bucket"])] += int(row[measure])
    total = sum(per_service.values())
    busiest, busiest_count = max(sorted(per_bucket.items()), key=lambda item: item[1])  # earliest of ties
    ranked = per_service.most_common()
    split = ", ".join(f"{fmt.code(name)} {fmt.count(n)} ({fmt.share(n, total)})" for name, n in ranked[:3])
    answer = (
        f"{fmt.plural(total, measure[:-1])}{scope.qualifier}"
        + (f": {split}." if not scope.service else ".")
        + f" Busiest {bucket.per.removeprefix('per ')}: from {fmt.clock(busiest)}"
        + f" ({fmt.count(busiest_count)})."
    )
    details = [f"{fmt.code(name)}: {fmt.count(n)}" for name, n in ranked[:SHOWN_IN_TEXT]]
    key_numbers = [KeyNumber(f"{measure.capitalize()}", fmt.count(total))]
    key_numbers += [KeyNumber(name, fmt.count(n)) for name, n in ranked[:SHOWN_IN_TEXT]]
    several = len(per_service) > 1
    chart = ChartSpec(
        kind="line" if len(per_bucket) > 1 else "bar",
        title=f"{measure.capitalize()} {bucket.per}" + (" by service" if several else scope.service_title),
        time_range=scope.window.label,
        result_id=table.result_id,
        x="bucket",
        y=[measure],
        series="service_name" if several else None,
        unit="count",
        additive=True,
    )
    notes = [f"Buckets are {bucket.interval} wide; the first and last may be partial."]
    if measure == "traces":
        notes.insert(0, "Traces are counted by their root span.")
    if len(rows) == bucket_count(scope.window.length, bucket) * SERVICES_PER_BUCKET:
        notes.append("The result reached its row limit, so some services may be missing.")
    return Draft(answer, details if several else [], key_numbers, chart, notes)
