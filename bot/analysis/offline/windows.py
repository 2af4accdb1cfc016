"""Time phrases ("last 6 hours", "yesterday", "this week") and the explicit UTC windows they stand for.

A phrase is parsed once from the question (`parse_window`) and turned into [start, end) against the
workspace's `now` (`resolve`), so a follow-up such as "and yesterday?" keeps working later in a thread.
Calendar words follow UTC days and ISO weeks (Monday first). Logfire queries at most 14 days at once:
longer windows are cut to the last 14 days, and the label says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

MAX_WINDOW = timedelta(days=14)
NOW_WINDOW = timedelta(minutes=15)  # what "right now" covers

Calendar = Literal["today", "yesterday", "day_before_yesterday", "this_week", "last_week"]

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "forty-five": 45, "sixty": 60, "ninety": 90, "couple": 2, "few": 3,
}  # fmt: skip
_UNITS = {
    "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "wk": "weeks", "wks": "weeks", "week": "weeks", "weeks": "weeks",
    "month": "days30", "months": "days30",
}  # fmt: skip
_NUMBER = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")(?:\s+of)?\s*"
_UNIT = r"(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b"
_ROLLING = re.compile(r"\b(?:last|past|previous|prior|recent|trailing)\s+(?:" + _NUMBER + r")?" + _UNIT)
_BARE = re.compile(r"\b(?:in|over|for|during|within)\s+(?:the\s+)?" + _NUMBER + _UNIT)
_COMPACT = re.compile(r"\b(\d+)(m|h|d|w)\b")
_HALF_HOUR = re.compile(r"\b(?:last|past|previous)\s+half(?:\s+an)?\s+hour\b|\bhalf an hour\b")
_CALENDAR: list[tuple[re.Pattern[str], Calendar]] = [
    (re.compile(r"\bday before yesterday\b"), "day_before_yesterday"),
    (re.compile(r"\byesterday(?:'s)?\b"), "yesterday"),
    (re.compile(r"\btoday(?:'s)?\b|\bsince midnight\b"), "today"),
    (re.compile(r"\bthis week(?:'s)?\b|\bso far this week\b|\bweek to date\b"), "this_week"),
    (re.compile(r"\blast week(?:'s)?\b|\bprevious week\b|\bprior week\b"), "last_week"),
]
_NOW = re.compile(r"\bright now\b|\bat the moment\b|\bcurrently\b|\bjust now\b")


@dataclass(frozen=True)
class WindowPhrase:
    """A time phrase as the question said it: a rolling length back from now, or a calendar word."""

    rolling: timedelta | None = None
    calendar: Calendar | None = None


@dataclass(frozen=True)
class TimeWindow:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    label: str  # "last 1 hour", "yesterday" (without "UTC")
    phrase: str  # for sentences: "in the last hour", "yesterday"
    note: str | None = None  # said in the answer, e.g. when the window was cut to 14 days

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def full_label(self) -> str:
        return f"{self.label} (UTC)"

    def span_text(self) -> str:
        """The exact window for people: "2025-03-01 09:00–10:00 UTC" or, across days,
        "2025-03-01 09:00 – 2025-03-02 09:00 UTC"."""
        start, end = self.start, self.end
        if start.date() == end.date() or end == _midnight(start) + timedelta(days=1):
            end_text = "24:00" if end.date() != start.date() else f"{end:%H:%M}"
            return f"{start:%Y-%m-%d %H:%M}–{end_text} UTC"
        return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def parse_window(text: str) -> WindowPhrase | None:
    """The time phrase in a question (lower-cased), or None when it names no window."""
    for pattern, calendar in _CALENDAR:
        if pattern.search(text):
            return WindowPhrase(calendar=calendar)
    if _HALF_HOUR.search(text):
        return WindowPhrase(rolling=timedelta(minutes=30))
    for pattern in (_ROLLING, _BARE):
        match = pattern.search(text)
        if match:
            return WindowPhrase(rolling=_length(match.group(1), match.group(2)))
    match = _COMPACT.search(text)
    if match:
        return WindowPhrase(rolling=_length(match.group(1), match.group(2)))
    if _NOW.search(text):
        return WindowPhrase(rolling=NOW_WINDOW)
    return None


def resolve(phrase: WindowPhrase, now: datetime) -> TimeWindow:
    """The explicit [start, end) window of a phrase at `now` (UTC)."""
    if phrase.calendar is not None:
        return _calendar(phrase.calendar, now)
    assert phrase.rolling is not None
    length, note = phrase.rolling, None
    if length > MAX_WINDOW:
        length, note = MAX_WINDOW, "Logfire queries at most 14 days at once, so this covers the last 14 days."
    text = describe_length(length)
    sentence = "in the last " + text.removeprefix("1 ")
    return TimeWindow(now - length, now, f"last {text}", f"{sentence} (UTC)", note)


def describe_length(length: timedelta) -> str:
    """"15 minutes", "1 hour", "24 hours", "7 days"."""
    minutes = round(length.total_seconds() / 60)
    if minutes < 1:
        return _plural(round(length.total_seconds()), "second")
    if minutes % (60 * 24) == 0 and minutes >= 2 * 60 * 24:
        return _plural(minutes // (60 * 24), "day")
    if minutes % 60 == 0:
        return _plural(minutes // 60, "hour")
    return _plural(minutes, "minute")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _length(amount: str | None, unit: str) -> timedelta:
    number = 1.0 if amount is None else float(_NUMBER_WORDS.get(amount, amount))
    name = _UNITS[unit]
    if name == "days30":
        return timedelta(days=30 * number)
    return timedelta(**{name: number})


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _calendar(calendar: Calendar, now: datetime) -> TimeWindow:
    midnight = _midnight(now)
    monday = midnight - timedelta(days=now.weekday())
    day = timedelta(days=1)
    if calendar == "today":
        return TimeWindow(midnight, _after(midnight, now), "today", "today (UTC)")
    if calendar == "yesterday":
        return TimeWindow(midnight - day, midnight, "yesterday", f"yesterday ({midnight - day:%Y-%m-%d} UTC)")
    if calendar == "day_before_yesterday":
        start = midnight - 2 * day
        return TimeWindow(start, midnight - day, "day before yesterday", f"on {start:%Y-%m-%d} (UTC)")
    if calendar == "this_week":
        return TimeWindow(monday, _after(monday, now), "this week", "this week (since Monday, UTC)")
    start = monday - 7 * day
    return TimeWindow(start, monday, "last week", f"last week (from {start:%Y-%m-%d}, UTC)")


def _after(start: datetime, now: datetime) -> datetime:
    """`now` as the end of a window that starts at `start`; one second later when they coincide (exactly
    midnight), since Logfire refuses an empty window."""
    return now if now > start else start + timedelta(seconds=1)
