"""Reading the JSON values of a result column: numbers, ISO 8601 timestamps, category labels."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

ColumnKind = Literal["time", "number", "text", "empty"]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def as_number(value: Any) -> int | float | None:
    """The number in a JSON value (numeric strings too, as decimals may arrive), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        if not number.is_finite():
            return None
        return int(number) if number == number.to_integral_value() and "." not in value else float(number)
    return None


def as_timestamp(value: Any) -> float | None:
    """POSIX seconds of an ISO 8601 date or timestamp string (naive means UTC), else None."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def label(value: Any) -> str:
    """A category label for any JSON value."""
    if value is None:
        return "(null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def column_kind(values: list[Any]) -> ColumnKind:
    """`time` if every non-null value is an ISO 8601 string, `number` if every one is numeric, else `text`."""
    present = [v for v in values if v is not None]
    if not present:
        return "empty"
    if all(as_timestamp(v) is not None for v in present):
        return "time"
    if all(as_number(v) is not None for v in present):
        return "number"
    return "text"
