"""Numbers and text for people, in Slack mrkdwn: counts with separators, durations with units, costs that
keep their significant digits ($0.00042, not $0.00), and telemetry text escaped so it cannot format or
mention anything."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.charts.columns import as_number, as_timestamp

COST_DIGITS = 4  # significant digits of costs under $1


def count(value: Any) -> str:
    number = as_number(value)
    return "0" if number is None else f"{round(number):,}"


def seconds(value: Any) -> str:
    """A duration stored in seconds: "850 µs", "38.6 ms", "2.99 s", "1.5 min"."""
    number = as_number(value)
    if number is None:
        return "n/a"
    if number < 0.001:
        return f"{number * 1e6:.3g} µs"
    if number < 1:
        return f"{number * 1000:.3g} ms"
    if number < 60:
        return f"{number:.3g} s"
    return f"{number / 60:.3g} min"


def usd(value: Any) -> str:
    """"$1,234.57" from $1 up; below, four significant digits without exponent: "$0.01799", "$0.00042"."""
    number = as_number(value)
    if number is None:
        return "n/a"
    if number == 0:
        return "$0"
    if abs(number) >= 1:
        return f"${number:,.2f}"
    places = COST_DIGITS - 1 - math.floor(math.log10(abs(number)))
    text = f"{Decimal(repr(number)):.{places}f}".rstrip("0")
    if len(text.split(".")[1]) < 2:
        text = f"{number:.2f}"
    return f"${text}"


def percent(value: Any) -> str:
    """A value already in percent: "12.3%", "0.42%", "0%"."""
    number = as_number(value)
    if number is None:
        return "n/a"
    if number == 0:
        return "0%"
    if abs(number) >= 10:
        return f"{number:.1f}%"
    return f"{number:.2g}%" if abs(number) < 1 else f"{number:.1f}%"


def share(part: float, whole: float) -> str:
    return percent(100 * part / whole) if whole else "n/a"


def clock(value: Any) -> str:
    """A timestamp as "2025-03-01 09:05 UTC"."""
    stamp = as_timestamp(value)
    if stamp is None:
        return str(value)
    return f"{datetime.fromtimestamp(stamp, UTC):%Y-%m-%d %H:%M} UTC"


def escape(text: str) -> str:
    """Telemetry text made inert in mrkdwn: no links, mentions or formatting from `<`, `>`, `&`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: Any) -> str:
    """Inline code, for names such as routes and services."""
    return "`" + escape(one_line(str(text), 80).replace("`", "'")) + "`"


def one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(number: int, word: str, words: str | None = None) -> str:
    return f"{number:,} {word if number == 1 else (words or word + 's')}"

