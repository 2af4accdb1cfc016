"""Turning (spec, result table) into the data to draw, or a ChartSpecError that says what to fix.

Rules, per kind:

- every named column must exist; y columns must be numeric (numeric strings count) and share one unit:
  the spec's `unit`, else the one their names imply (see `units.py`);
- bar/hbar/pie: x is a category column whose values are unique (or unique per `series` value). Bars are
  sorted by value, largest first; at most 12 bars (7 pie slices). When there are more, additive values
  keep the top 11 and sum the rest into "Other (k more)"; non-additive ones (averages, percentiles, rates)
  keep the top 12 and say "top 12 of N". A `bar` whose labels would not fit side by side (longest label
  × number of bars > 80 characters) is drawn as `hbar`;
  a `bar` over a time column is drawn in time order, stacked when its series are additive.
- line/area: x is a time column (ISO 8601, naive means UTC) or a numeric one; rows are sorted by x;
  at least 2 points; an area with several series stacks them, so they must be additive.
- pie: one additive y, no negative values, no `series`.
- table: the columns x then y, in the result's row order, at most 15 rows.
- big_number: exactly one y and a result of exactly one row.
- a `series` column pivots long-format rows (time, service, n) into one series per value; at most 7
  series, the rest summed into "Other" (additive) or left out with a note.

Additivity comes from `spec.additive` when given, else from the column names and unit (`units.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.charts.columns import as_number, as_timestamp, column_kind, label
from bot.charts.data import ChartData, Series, TableData, XKind
from bot.charts.spec import ChartSpec, ChartSpecError
from bot.charts.units import Unit, display_scale, format_value, infer_additive, infer_unit
from bot.tables import ResultTable

MAX_BARS = 12
MAX_PIE_SLICES = 7
MAX_SERIES = 7
MAX_TABLE_ROWS = 15
MAX_TIME_BARS = 120
MAX_POINTS = 5000
LABEL_BUDGET = 80  # characters of category labels that fit side by side under vertical bars
MAX_CELL = 60

_UNIT_GROUPS: dict[Unit, str] = {"s": "time", "ms": "time", "percent": "fraction", "ratio": "fraction"}

Values = list[int | float | None]


def prepare_chart(spec: ChartSpec, table: ResultTable) -> ChartData:
    """The data to draw for `spec` from the rows of `table`, or ChartSpecError."""
    if not table.rows:
        raise ChartSpecError(
            f"Result {_rid(spec)} has no rows, so there is nothing to chart: say so in the answer instead."
        )
    for role, name in _named_columns(spec):
        if name not in table.columns:
            raise ChartSpecError(
                f"{role}='{name}' is not a column of result {_rid(spec)}. "
                f"Its columns: {_list(table.columns)}."
            )
    if spec.kind == "table":
        return _table(spec, table)
    ys = {name: _numeric(spec, table, name) for name in spec.y}
    unit = _shared_unit(spec, ys)
    additive = spec.additive if spec.additive is not None else all(infer_additive(y, unit) for y in spec.y)
    if spec.kind == "big_number":
        return _big_number(spec, table, ys, unit)
    if spec.x is None:
        raise ChartSpecError(
            f"{spec.kind} needs x: the column for the categories or the time axis. "
            f"Columns of result {_rid(spec)}: {_list(table.columns)}."
        )
    if spec.series is not None and len(spec.y) > 1:
        raise ChartSpecError(
            "series splits a single y column into one series per value: give one y column with series, "
            "or several y columns without series."
        )
    x_kind = column_kind(table.column(spec.x))
    if spec.kind in ("line", "area") or (spec.kind == "bar" and x_kind == "time"):
        return _ordered(spec, table, ys, unit, additive, x_kind)
    if x_kind == "time":
        raise ChartSpecError(
            f"{spec.kind} is for categories, but x='{spec.x}' holds timestamps: use kind=line, area or bar."
        )
    return _categorical(spec, table, ys, unit, additive)


def time_label(time_range: str) -> str:
    """The time window as shown in titles: always says UTC."""
    return time_range if "utc" in time_range.lower() else f"{time_range} (UTC)"


def _rid(spec: ChartSpec) -> str:
    return f"'{spec.result_id}'"


def _list(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "(none)"


def _named_columns(spec: ChartSpec) -> list[tuple[str, str]]:
    named = [("x", spec.x), *(("y", y) for y in spec.y), ("series", spec.series)]
    return [(role, name) for role, name in named if name is not None]


def _columns_of_kind(table: ResultTable, *kinds: str) -> list[str]:
    return [c for c in table.columns if column_kind(table.column(c)) in kinds]


def _numeric(spec: ChartSpec, table: ResultTable, name: str) -> Values:
    raw = table.column(name)
    values = [as_number(v) for v in raw]
    bad = next((v for v, n in zip(raw, values, strict=True) if v is not None and n is None), None)
    if bad is not None or all(v is None for v in values):
        numeric = _columns_of_kind(table, "number")
        found = f"values like {bad!r}" if bad is not None else "only nulls"
        raise ChartSpecError(
            f"y='{name}' is not numeric ({found}). Numeric columns of result {_rid(spec)}: {_list(numeric)}."
        )
    return values


def _shared_unit(spec: ChartSpec, ys: dict[str, Values]) -> Unit | None:
    """The unit of all y columns: the spec's, else the one their names imply.

    Names that imply different kinds of unit (p95 and n) are refused even with an explicit unit;
    a name that implies none goes with the others.
    """
    units = {name: infer_unit(name, [v for v in values if v is not None]) for name, values in ys.items()}
    kinds = {_UNIT_GROUPS.get(unit, unit) for unit in units.values() if unit is not None}
    if len(kinds) > 1 or (spec.unit is None and len(set(units.values()) - {None}) > 1):
        mixed = ", ".join(f"{name}: {unit or 'plain number'}" for name, unit in units.items())
        raise ChartSpecError(
            f"The y columns mix units ({mixed}); one chart has one y axis. Chart them separately, "
            "or use kind=table to show them side by side."
        )
    if spec.unit is not None:
        return spec.unit
    return next((unit for unit in units.values() if unit is not None), None)


def column_unit(name: str, values: Values, unit: Unit | None) -> Unit | None:
    """The unit of one table column: `unit` (the spec's) unless the name implies a different kind of unit
    (a table of p95 and n with unit=s shows n as a count)."""
    inferred = infer_unit(name, [v for v in values if v is not None])
    if unit is None:
        return inferred
    if inferred is None or _UNIT_GROUPS.get(inferred, inferred) == _UNIT_GROUPS.get(unit, unit):
        return unit
    return inferred


def _big_number(spec: ChartSpec, table: ResultTable, ys: dict[str, Values], unit: Unit | None) -> ChartData:
    if len(spec.y) != 1:
        raise ChartSpecError(f"big_number shows one value: give exactly one y column (got {_list(spec.y)}).")
    if len(table.rows) != 1:
        text = _columns_of_kind(table, "text")
        raise ChartSpecError(
            f"big_number needs exactly one value, but result {_rid(spec)} has {len(table.rows)} rows. "
            f"Use kind=bar or hbar with x set to a category column ({_list(text)}), "
            "or query a single aggregated row."
        )
    ((name, values),) = ys.items()
    return ChartData(
        kind="big_number",
        title=spec.title,
        time_label=time_label(spec.time_range),
        x_kind="none",
        x_label="",
        y_label=name,
        unit=unit,
        series=[Series(name, values)],
    )


def _categorical(
    spec: ChartSpec, table: ResultTable, ys: dict[str, Values], unit: Unit | None, additive: bool
) -> ChartData:
    assert spec.x is not None
    if spec.kind == "pie":
        _check_pie(spec, ys, additive)
    labels = [label(v) for v in table.column(spec.x)]
    categories, series = _pivot(spec, table, labels, ys, additive)
    rank = _ranker(additive)
    order = sorted(range(len(categories)), key=lambda i: rank([s.values[i] for s in series]), reverse=True)
    categories = [categories[i] for i in order]
    series = [Series(s.name, [s.values[i] for i in order]) for s in series]
    if spec.kind == "pie":
        keep = [i for i, v in enumerate(series[0].values) if v]
        categories, series = (
            [categories[i] for i in keep],
            [Series(series[0].name, [series[0].values[i] for i in keep])],
        )
    notes: list[str] = []
    series, other_series = _cap_series(spec, series, additive, notes)
    limit = MAX_PIE_SLICES if spec.kind == "pie" else MAX_BARS
    categories, series, other_category = _cap_categories(spec, categories, series, additive, limit, notes)
    kind = spec.kind
    if kind == "bar" and max(len(c) for c in categories) * len(categories) > LABEL_BUDGET:
        kind = "hbar"
    return ChartData(
        kind=kind,
        title=spec.title,
        time_label=time_label(spec.time_range),
        x_kind="category",
        x_label=spec.x,
        y_label=", ".join(spec.y),
        unit=unit,
        x=list(categories),
        series=series,
        notes=notes,
        other_category=other_category,
        other_series=other_series,
    )


def _check_pie(spec: ChartSpec, ys: dict[str, Values], additive: bool) -> None:
    if len(spec.y) != 1 or spec.series is not None:
        raise ChartSpecError("pie shows one additive y column as parts of a whole: give one y and no series.")
    name = spec.y[0]
    if not additive:
        raise ChartSpecError(
            f"pie shows parts of a whole, but '{name}' does not add up across categories (averages, "
            "percentiles, rates and maxima don't): use kind=hbar. If the values do add up, set additive=true."
        )
    negative = [v for v in ys[name] if v is not None and v < 0]
    if negative:
        raise ChartSpecError(
            f"pie needs values >= 0, but '{name}' has {len(negative)} negative (e.g. {negative[0]}): "
            "use kind=bar."
        )
    if not any(ys[name]):
        raise ChartSpecError(f"pie needs some value above 0, but every '{name}' is 0 or null.")


def _pivot(
    spec: ChartSpec, table: ResultTable, keys: list[Any], ys: dict[str, Values], additive: bool
) -> tuple[list[Any], list[Series]]:
    """Distinct x keys (first-seen order) and one aligned series per y column or per `series` value."""
    assert spec.x is not None
    if spec.series is None:
        seen: dict[Any, int] = {}
        for key in keys:
            seen[key] = seen.get(key, 0) + 1
        repeated = next((k for k, count in seen.items() if count > 1), None)
        if repeated is not None:
            text = [c for c in _columns_of_kind(table, "text") if c != spec.x]
            raise ChartSpecError(
                f"x='{spec.x}' has the value {_shown(spec, table, repeated)} in {seen[repeated]} rows, "
                "so the rows are not one per x. Add series=<column> to split them "
                f"(text columns: {_list(text)}), or aggregate per x in the query."
            )
        return keys, [Series(name, values) for name, values in ys.items()]
    values = ys[spec.y[0]]
    names = [label(v) for v in table.column(spec.series)]
    cells: dict[tuple[Any, str], int | float | None] = {}
    for key, name, value in zip(keys, names, values, strict=True):
        if (key, name) in cells:
            raise ChartSpecError(
                f"Several rows have x={_shown(spec, table, key)} and {spec.series}='{name}': aggregate them "
                f"in the query (GROUP BY {spec.x}, {spec.series})."
            )
        cells[(key, name)] = value
    distinct_keys = list(dict.fromkeys(keys))
    distinct_names = list(dict.fromkeys(names))
    fill = 0 if additive else None
    series = [
        Series(name, [cells.get((key, name), fill) for key in distinct_keys]) for name in distinct_names
    ]
    return distinct_keys, series


def _shown(spec: ChartSpec, table: ResultTable, key: Any) -> str:
    if isinstance(key, float) and spec.x is not None and column_kind(table.column(spec.x)) == "time":
        return f"'{datetime.fromtimestamp(key, UTC).isoformat()}'"
    return repr(key)


def _ranker(additive: bool) -> Callable[[Values], float]:
    def rank(values: Values) -> float:
        present = [v for v in values if v is not None]
        if not present:
            return -math.inf
        return float(_exact_sum(present)) if additive else float(max(present))

    return rank


def _exact_sum(values: Sequence[int | float | None]) -> int | float:
    present = [v for v in values if v is not None]
    if all(isinstance(v, int) for v in present):
        return sum(present)
    return math.fsum(present)


def _cap_series(
    spec: ChartSpec, series: list[Series], additive: bool, notes: list[str]
) -> tuple[list[Series], bool]:
    if spec.series is None or len(series) <= MAX_SERIES:
        return series, False
    rank = _ranker(additive)
    ranked = sorted(series, key=lambda s: rank(s.values), reverse=True)
    if not additive:
        notes.append(f"top {MAX_SERIES} of {len(series)} {spec.series}")
        return ranked[:MAX_SERIES], False
    kept, rest = ranked[: MAX_SERIES - 1], ranked[MAX_SERIES - 1 :]
    other = Series(
        f"Other ({len(rest)} more)",
        [_sum_or_none([s.values[i] for s in rest]) for i in range(len(series[0].values))],
    )
    notes.append(f"Other = {len(rest)} more {spec.series} summed")
    return [*kept, other], True


def _cap_categories(
    spec: ChartSpec, categories: list[Any], series: list[Series], additive: bool, limit: int, notes: list[str]
) -> tuple[list[Any], list[Series], bool]:
    if len(categories) <= limit:
        return categories, series, False
    if not additive:
        notes.append(f"top {limit} of {len(categories)} {spec.x} by {spec.y[0]}")
        return categories[:limit], [Series(s.name, s.values[:limit]) for s in series], False
    rest = len(categories) - (limit - 1)
    notes.append(f"Other = {rest} more {spec.x} summed")
    capped = [Series(s.name, [*s.values[: limit - 1], _sum_or_none(s.values[limit - 1 :])]) for s in series]
    return [*categories[: limit - 1], f"Other ({rest} more)"], capped, True


def _sum_or_none(values: Values) -> int | float | None:
    return None if all(v is None for v in values) else _exact_sum(values)


def _ordered(
    spec: ChartSpec, table: ResultTable, ys: dict[str, Values], unit: Unit | None, additive: bool, x_kind: str
) -> ChartData:
    assert spec.x is not None
    if x_kind not in ("time", "number"):
        times = _columns_of_kind(table, "time")
        raise ChartSpecError(
            f"{spec.kind} needs x over time or an ordered numeric column, but x='{spec.x}' holds text "
            f"(e.g. {next(v for v in table.column(spec.x) if v is not None)!r}). Use kind=bar or hbar for "
            f"categories, or x set to a time column ({_list(times)})."
        )
    parse = as_timestamp if x_kind == "time" else as_number
    keys = [parse(v) for v in table.column(spec.x)]
    present = [i for i, key in enumerate(keys) if key is not None]
    notes = [f"{len(keys) - len(present)} rows without {spec.x} left out"] if len(present) < len(keys) else []
    kept = ResultTable(
        columns=table.columns, rows=[table.rows[i] for i in present], result_id=table.result_id
    )
    kept_ys = {name: [values[i] for i in present] for name, values in ys.items()}
    xs, series = _pivot(spec, kept, [keys[i] for i in present], kept_ys, additive)
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    xs = [xs[i] for i in order]
    series = [Series(s.name, [s.values[i] for i in order]) for s in series]
    _check_points(spec, len(xs))
    series, other_series = _cap_series(spec, series, additive, notes)
    stacked = additive and len(series) > 1
    if spec.kind == "area" and len(series) > 1 and not additive:
        raise ChartSpecError(
            "area stacks its series, which needs values that add up (counts, sums, costs), and "
            f"y={_list(spec.y)} is treated as not additive (averages, percentiles, rates, maxima). "
            "Use kind=line, or set additive=true if the values do add up."
        )
    kind_of_x: XKind = "time" if x_kind == "time" else "number"
    return ChartData(
        kind=spec.kind,
        title=spec.title,
        time_label=time_label(spec.time_range),
        x_kind=kind_of_x,
        x_label="time (UTC)" if x_kind == "time" else spec.x,
        y_label=", ".join(spec.y),
        unit=unit,
        x=list(xs),
        series=series,
        notes=notes,
        other_series=other_series,
        stacked=stacked,
    )


def _check_points(spec: ChartSpec, count: int) -> None:
    if spec.kind in ("line", "area") and count < 2:
        raise ChartSpecError(
            f"A {spec.kind} needs at least 2 points, but x='{spec.x}' has {count}: "
            "use kind=big_number or bar."
        )
    if spec.kind == "bar" and count > MAX_TIME_BARS:
        raise ChartSpecError(f"{count} time buckets are too many bars (max {MAX_TIME_BARS}): use kind=line.")
    if count > MAX_POINTS:
        raise ChartSpecError(f"{count} points are too many (max {MAX_POINTS}): use larger time buckets.")


def _table(spec: ChartSpec, table: ResultTable) -> ChartData:
    names = list(dict.fromkeys([*([spec.x] if spec.x else []), *spec.y]))
    shown = table.rows[:MAX_TABLE_ROWS]
    header, columns, numeric = [], [], []
    for name in names:
        raw = [row[table.columns.index(name)] for row in shown]
        kind = column_kind(table.column(name))
        header.append(name)
        numeric.append(kind == "number")
        columns.append(_cells(name, raw, kind, spec.unit if name in spec.y else None))
    notes = [f"first {len(shown)} of {len(table.rows)} rows"] if len(table.rows) > len(shown) else []
    return ChartData(
        kind="table",
        title=spec.title,
        time_label=time_label(spec.time_range),
        x_kind="none",
        x_label="",
        y_label="",
        unit=None,
        notes=notes,
        table=TableData(
            header=header, rows=[list(row) for row in zip(*columns, strict=True)], numeric=numeric
        ),
    )


def _cells(name: str, raw: list[Any], kind: str, unit: Unit | None) -> list[str]:
    if kind == "number":
        values = [as_number(v) for v in raw]
        col_unit = column_unit(name, values, unit)
        scale = display_scale(col_unit, max((abs(v) for v in values if v is not None), default=0))
        return ["" if v is None else format_value(v, col_unit, scale) for v in values]
    if kind == "time":
        stamps = [as_timestamp(v) for v in raw]
        return [
            "" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S") for t in stamps
        ]
    return [_truncate(label(v)) if v is not None else "" for v in raw]


def _truncate(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
