"""A deterministic chart for a result when the model asked for none.

- one row and one measure (numeric, not a code) → big_number (one row of several measures → None);
- the first column holds timestamps (or no category column has unique values) → line of the first
  measure over time, split by the one text column when time values repeat;
- otherwise the first category column with unique values (text, or numeric codes such as
  `http_response_status_code`) → bar of the first measure, hbar when the labels would not fit side by side;
- anything else → None. The spec is validated against the table before it is returned.
"""

from __future__ import annotations

import re

from bot.charts.columns import column_kind
from bot.charts.spec import TIME_RANGE_MAX, TITLE_MAX, ChartKind, ChartSpec, ChartSpecError
from bot.charts.units import words
from bot.charts.validate import LABEL_BUDGET, MAX_BARS, prepare_chart
from bot.tables import ResultTable

_CODE = re.compile(r"^(status|code|level|port|id|pid|version|year)$")


def fallback_spec(table: ResultTable, title: str, time_range: str) -> ChartSpec | None:
    """The chart to draw for `table` when none was asked for, or None when it is not chartable."""
    if not table.rows or not table.columns:
        return None
    kinds = {name: column_kind(table.column(name)) for name in table.columns}
    codes = [n for n in table.columns if kinds[n] == "number" and any(_CODE.match(w) for w in words(n))]
    measures = [n for n in table.columns if kinds[n] == "number" and n not in codes]
    if not measures:
        return None
    if len(table.rows) == 1:
        if len(measures) > 1:
            return None
        return _checked(table, kind="big_number", title=title, time_range=time_range, y=[measures[0]])
    texts = [n for n in table.columns if kinds[n] == "text"]
    times = [n for n in table.columns if kinds[n] == "time"]
    categories = [n for n in [*texts, *codes] if len(set(map(str, table.column(n)))) == len(table.rows)]
    if times and (kinds[table.columns[0]] == "time" or not categories):
        x = times[0]
        repeats = len(set(table.column(x))) < len(table.rows)
        series = texts[0] if repeats and len(texts) == 1 else None
        return _checked(
            table, kind="line", title=title, time_range=time_range, x=x, y=[measures[0]], series=series
        )
    if not categories:
        return None
    x = categories[0]
    labels = [str(v) for v in table.column(x)]
    kind: ChartKind = "hbar" if max(map(len, labels)) * min(len(labels), MAX_BARS) > LABEL_BUDGET else "bar"
    return _checked(table, kind=kind, title=title, time_range=time_range, x=x, y=[measures[0]])


def _checked(table: ResultTable, *, title: str, time_range: str, **fields: object) -> ChartSpec | None:
    spec = ChartSpec.model_validate(
        {
            "result_id": table.result_id or "result",
            "title": _fit(title, TITLE_MAX) or "Result",
            "time_range": _fit(time_range, TIME_RANGE_MAX) or "time range not given",
            **fields,
        }
    )
    try:
        prepare_chart(spec, table)
    except ChartSpecError:
        return None
    return spec


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
