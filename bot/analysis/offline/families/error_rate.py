"""Error rate over time: the share of traces (root spans: requests, jobs, agent runs) that ended at level
error or above, per time bucket. 4xx answers are logged at warn level by web frameworks, so they are not
errors here; 5xx answers and failed jobs are."""

from __future__ import annotations

from bot.analysis.offline import formatting as fmt
from bot.analysis.offline.buckets import Bucket, bucket_count, bucket_for
from bot.analysis.offline.draft import Draft
from bot.analysis.offline.intent import Intent
from bot.analysis.offline.querying import Logfire
from bot.analysis.offline.scope import Scope
from bot.analysis.types import KeyNumber
from bot.charts import ChartSpec

ROOT_SPANS = ("parent_span_id IS NULL", "kind = 'span'")
IS_ERROR = "level >= 'error'"


def sql(scope: Scope, bucket: Bucket) -> str:
    errors = f"count(CASE WHEN {IS_ERROR} THEN 1 END)"
    return (
        f"SELECT time_bucket('{bucket.interval}', start_timestamp) AS bucket, count(*) AS traces, "
        f"{errors} AS errors, 100.0 * {errors} / count(*) AS error_rate_pct "
        f"{scope.records(*ROOT_SPANS)} "
        f"GROUP BY bucket ORDER BY bucket LIMIT {bucket_count(scope.window.length, bucket)}"
    )


async def answer(intent: Intent, scope: Scope, logfire: Logfire) -> Draft:
    bucket = bucket_for(scope.window.length)
    table = await logfire.rows(sql(scope, bucket), scope.window)
    rows = table.records()
    if not rows:
        return Draft(f"No traces{scope.qualifier}, so no error rate.")
    traces = sum(int(row["traces"]) for row in rows)
    errors = sum(int(row["errors"]) for row in rows)
    peak = max(rows, key=lambda row: float(row["error_rate_pct"]))  # the earliest of equal ones
    answer = (
        f"Error rate{scope.qualifier}: *{fmt.share(errors, traces)}* of traces "
        f"({fmt.count(errors)} of {fmt.count(traces)}) ended in an error."
    )
    if errors:
        answer += (
            f" Highest: {fmt.percent(peak['error_rate_pct'])} in the bucket starting "
            f"{fmt.clock(peak['bucket'])} ({fmt.count(peak['errors'])} of {fmt.count(peak['traces'])})."
        )
    key_numbers = [
        KeyNumber("Error rate", fmt.share(errors, traces)),
        KeyNumber("Traces with errors", fmt.count(errors)),
        KeyNumber("Traces", fmt.count(traces)),
        KeyNumber(f"Highest rate ({bucket.per.removeprefix('per ')})", fmt.percent(peak["error_rate_pct"])),
    ]
    chart = ChartSpec(
        kind="line" if len(rows) > 1 else "bar",
        title=f"Error rate {bucket.per}{scope.service_title}",
        time_range=scope.window.label,
        result_id=table.result_id,
        x="bucket",
        y=["error_rate_pct"],
        unit="percent",
        additive=False,
    )
    notes = [
        f"Traces are root spans; an error is level error or above. Buckets are {bucket.interval} wide; "
        "the first and last may be partial."
    ]
    return Draft(answer, [], key_numbers, chart, notes)
