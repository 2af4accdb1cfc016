"""Units of chart values: inferring them from column names, scaling them for display, formatting them.

Inference rules (used when the spec gives no `unit`, and for the extra columns of a `table` chart), on the
lower-cased column name split into words at non-alphanumerics:

- `usd`, `cost`, `price`, `spend` → `usd`
- a `ms`/`millis`/`milliseconds` word → `ms`
- `duration`, `latency`, `elapsed`, `seconds`, `p50`…`p999`, `percentile`, `median` → `s`
  (Logfire stores `duration` in seconds, so percentiles and averages of it are seconds too)
- `token`/`tokens` → `tokens`; `bytes`, `size` → `bytes`; `pct`, `percent` → `percent`
- `rate`, `ratio`, `fraction`, `share` → `ratio` when every value is within [-1, 1], else `percent`
- `n`, `count`, `cnt`, `num`, `total`, `requests`, `errors`, `exceptions`, `spans`, `traces`, `calls`,
  `hits`, `events`, `records`, `logs` → `count`

Additivity (can values of different categories be summed into "Other"?), when the spec says nothing:
a non-additive word wins (`avg`, `average`, `mean`, `median`, `pNN`, `percentile`, `quantile`, `rate`,
`ratio`, `pct`, `percent`, `fraction`, `share`, `max`, `min`, `first`, `last`, `latest`, `earliest`, `per`,
`std`, `stddev`); then an additive word (`sum`, `total` and the count words above); then the unit (`count`,
`tokens`, `usd`, `bytes` are additive). Anything else is treated as non-additive, because summing
non-additive values is wrong while not summing additive ones only loses the "Other" bar.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Literal

Unit = Literal["s", "ms", "count", "tokens", "usd", "percent", "ratio", "bytes"]

_PERCENTILE = re.compile(r"^p\d{2,3}$")
_USD = {"usd", "cost", "costs", "price", "spend"}
_MS = {"ms", "millis", "milliseconds"}
_SECONDS = {"duration", "latency", "elapsed", "seconds", "secs", "percentile", "median"}
_TOKENS = {"token", "tokens"}
_BYTES = {"bytes", "size"}
_PERCENT = {"pct", "percent", "percentage"}
_RATIO = {"rate", "ratio", "fraction", "share"}
_COUNT = {
    "n",
    "count",
    "cnt",
    "num",
    "total",
    "requests",
    "errors",
    "exceptions",
    "spans",
    "traces",
    "calls",
    "hits",
    "events",
    "records",
    "logs",
}
_NON_ADDITIVE = {
    "avg",
    "average",
    "mean",
    "median",
    "percentile",
    "quantile",
    "rate",
    "ratio",
    "pct",
    "percent",
    "percentage",
    "fraction",
    "share",
    "max",
    "min",
    "first",
    "last",
    "latest",
    "earliest",
    "per",
    "std",
    "stddev",
}
_ADDITIVE = {"sum", "total"} | _COUNT
_ADDITIVE_UNITS = {"count", "tokens", "usd", "bytes"}


def words(field: str) -> list[str]:
    """The lower-case words of a column name (`gen_ai.usage.input_tokens` → gen, ai, usage, input, tokens)."""
    return [w for w in re.split(r"[^a-z0-9]+", field.lower()) if w]


def infer_unit(field: str, values: Iterable[float] = ()) -> Unit | None:
    """The unit a column name implies, or None (see the module docstring for the rules)."""
    found = set(words(field))
    if found & _USD:
        return "usd"
    if found & _MS:
        return "ms"
    if found & _SECONDS or any(_PERCENTILE.match(w) for w in found):
        return "s"
    if found & _TOKENS:
        return "tokens"
    if found & _BYTES:
        return "bytes"
    if found & _PERCENT:
        return "percent"
    if found & _RATIO:
        return "ratio" if all(-1 <= v <= 1 for v in values) else "percent"
    if found & _COUNT:
        return "count"
    return None


def infer_additive(field: str, unit: Unit | None) -> bool:
    """Whether values of this column can be summed across categories (see the module docstring)."""
    found = set(words(field))
    if found & _NON_ADDITIVE or any(_PERCENTILE.match(w) for w in found):
        return False
    if found & _ADDITIVE:
        return True
    return unit in _ADDITIVE_UNITS


def display_scale(unit: Unit | None, magnitude: float) -> tuple[float, str]:
    """(factor, unit label) to show values of this unit whose largest absolute value is `magnitude`.

    Seconds below 1 are shown as ms (and below 1 ms as µs); ratios as percent; bytes in kB/MB/GB.
    """
    if unit == "s":
        if magnitude >= 1 or magnitude == 0:
            return 1.0, "s"
        return (1e3, "ms") if magnitude >= 1e-3 else (1e6, "µs")
    if unit == "ms":
        if magnitude >= 10_000:
            return 1e-3, "s"
        return (1.0, "ms") if magnitude >= 1 or magnitude == 0 else (1e3, "µs")
    if unit == "ratio":
        return 100.0, "%"
    if unit == "percent":
        return 1.0, "%"
    if unit == "bytes":
        for factor, label in ((1e-9, "GB"), (1e-6, "MB"), (1e-3, "kB")):
            if magnitude * factor >= 1:
                return factor, label
        return 1.0, "bytes"
    if unit == "usd":
        return 1.0, "USD"
    if unit == "tokens":
        return 1.0, "tokens"
    return 1.0, ""


def plain_number(value: float, digits: int = 3) -> str:
    """A number for people: integers with thousands separators, others with `digits` significant digits
    (at least the integer part). Small values keep their leading digits (0.000412, never 0.00).
    """
    if isinstance(value, int) or (value == int(value) and abs(value) < 1e15):
        return f"{int(value):,}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def with_unit(scaled: float, label: str, unit: Unit | None, digits: int = 3) -> str:
    """A value already multiplied by its display factor, with its unit label."""
    text = _usd(scaled, digits) if unit == "usd" else plain_number(scaled, digits)
    if label in ("", "USD", "tokens"):
        return text
    if label == "%":
        return f"{text}%"
    return f"{text} {label}"


def format_value(
    value: float, unit: Unit | None, scale: tuple[float, str] | None = None, digits: int = 3
) -> str:
    """One value with its unit; `scale` (from `display_scale`) keeps the labels of one chart consistent."""
    factor, label = scale or display_scale(unit, abs(value))
    return with_unit(value * factor, label, unit, digits)


def tick_text(value: float, unit: Unit | None) -> str:
    """An axis tick (already scaled): `$` for USD, `%` for percentages, thousands separators."""
    if value == int(value) and abs(value) < 1e15:
        text = f"{int(value):,}"
    else:
        text = f"{value:,.6f}".rstrip("0").rstrip(".")
    if unit == "usd":
        return f"-${text[1:]}" if text.startswith("-") else f"${text}"
    if unit in ("percent", "ratio"):
        return f"{text}%"
    return text


def _usd(value: float, digits: int) -> str:
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if magnitude >= 1 or magnitude == 0:
        return f"{sign}${magnitude:,.2f}"
    decimals = max(2, digits - 1 - math.floor(math.log10(magnitude)))
    text = f"{magnitude:.{decimals}f}".rstrip("0")
    return f"{sign}${text:0<4}"
