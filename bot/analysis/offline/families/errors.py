"""Top N errors or exceptions [in a service], grouped by exception type and message.

Counted once per failed operation. In Logfire an exception recorded on a span shows twice in `records`: on
the span's own row (`is_exception`, `exception_type` from its first exception event) and as a row of kind
`span_event` (the event itself). Counting both would double every exception, so `span_event` rows are left
out: the count is of spans and logs. "Errors" are rows with an exception or at level error and above (the
"top errors in a service" query of the Logfire reference); "exceptions" are rows with an exception only.
"""

from __future__ import annotations

from bot.analysis.offline import formatting as fmt
from bot.analysis.offline.draft import Draft
from bot.analysis.offline.intent import DEFAULT_LIMIT, Intent
from bot.analysis.offline.querying import Logfire
from bot.analysis.offline.scope import Scope
from bot.analysis.types import KeyNumber
from bot.charts import ChartSpec

NO_EXCEPTION = "error-level records without an exception"
SHOWN_IN_TEXT = 5
NOT_SPAN_EVENT = "kind <> 'span_event'"

COUNTING_NOTE = (
    "Each failed span or log counts once (an exception's `span_event` row is not counted again)."
)


def sql(scope: Scope, *, exceptions_only: bool, limit: int) -> str:
    kind = "is_exception" if exceptions_only else "(is_exception OR level >= 'error')"
    label = (
        f"CASE WHEN exception_type IS NULL THEN '{NO_EXCEPTION}' "
        "WHEN coalesce(exception_message, '') = '' THEN regexp_replace(exception_type, '^.*\\.', '') "
        "ELSE regexp_replace(exception_type, '^.*\\.', '') || ': ' || exception_message END"
    )
    return (
        f"SELECT {label} AS error, exception_type, exception_message, count(*) AS occurrences, "
        "max(start_timestamp) AS last_seen "
        f"{scope.records(NOT_SPAN_EVENT, kind)} "
        "GROUP BY exception_type, exception_message "
        "ORDER BY occurrences DESC, exception_type ASC NULLS LAST, exception_message ASC NULLS LAST "
        f"LIMIT {limit}"
    )


async def answer(intent: Intent, scope: Scope, logfire: Logfire) -> Draft:
    exceptions_only = intent.focus == "exceptions"
    noun = "exception" if exceptions_only else "error"
    limit = intent.limit or DEFAULT_LIMIT
    table = await logfire.rows(sql(scope, exceptions_only=exceptions_only, limit=limit), scope.window)
    rows = table.records()
    if not rows:
        return Draft(f"No {noun}s{scope.qualifier}.", notes=[COUNTING_NOTE])
    top = rows[0]
    shown = sum(int(row["occurrences"]) for row in rows)
    answer = (
        f"The most common {noun}{scope.qualifier} was {_name(top)}: "
        f"{fmt.plural(int(top['occurrences']), 'time')}, last at {fmt.clock(top['last_seen'])}."
    )
    details = [
        f"{fmt.count(row['occurrences'])} × {_name(row)} (last {fmt.clock(row['last_seen'])})"
        for row in rows[:SHOWN_IN_TEXT]
    ]
    if len(rows) > SHOWN_IN_TEXT:
        details.append(f"… {len(rows) - SHOWN_IN_TEXT} more in the chart")
    key_numbers = [
        KeyNumber(f"Most common {noun}", fmt.one_line(str(top["exception_type"] or NO_EXCEPTION), 60)),
        KeyNumber("Its occurrences", fmt.count(top["occurrences"])),
        KeyNumber(f"Top {len(rows)} {noun} groups, occurrences", fmt.count(shown)),
    ]
    title = f"Top {len(rows)} {noun}s{scope.service_title}"
    chart = ChartSpec(
        kind="hbar",
        title=title,
        time_range=scope.window.label,
        result_id=table.result_id,
        x="error",
        y=["occurrences"],
        unit="count",
        additive=True,
    )
    notes = [COUNTING_NOTE]
    if len(rows) == limit:
        notes.append(f"Only the top {limit} groups were asked for; there may be more.")
    return Draft(answer, details, key_numbers, chart, notes)


def _name(row: dict[str, object]) -> str:
    kind = row.get("exception_type")
    if kind is None:
        return f"*{NO_EXCEPTION}*"
    message = str(row.get("exception_message") or "")
    text = fmt.code(kind)
    return f"{text}: {fmt.escape(fmt.one_line(message, 90))}" if message else text
