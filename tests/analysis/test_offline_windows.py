"""Time phrases turned into explicit UTC windows against a fixed `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.analysis.offline.windows import MAX_WINDOW, TimeWindow, parse_window, resolve

WEDNESDAY = datetime(2025, 3, 5, 14, 30, 12, 345678, tzinfo=UTC)
JUST_AFTER_MIDNIGHT_MONDAY = datetime(2025, 3, 3, 0, 0, 30, tzinfo=UTC)


def window(text: str, now: datetime) -> TimeWindow:
    phrase = parse_window(text.lower())
    assert phrase is not None, text
    return resolve(phrase, now)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "length", "label"),
    [
        ("errors in the last 15 minutes", timedelta(minutes=15), "last 15 minutes"),
        ("slowest endpoints in the last hour", timedelta(hours=1), "last 1 hour"),
        ("over the past hour", timedelta(hours=1), "last 1 hour"),
        ("last 60 minutes", timedelta(hours=1), "last 1 hour"),
        ("past 6 hours", timedelta(hours=6), "last 6 hours"),
        ("in the previous six hours", timedelta(hours=6), "last 6 hours"),
        ("last 24 hours", timedelta(hours=24), "last 24 hours"),
        ("over the last day", timedelta(hours=24), "last 24 hours"),
        ("past 24h", timedelta(hours=24), "last 24 hours"),
        ("last 7 days", timedelta(days=7), "last 7 days"),
        ("over the past week", timedelta(days=7), "last 7 days"),
        ("errors in 7d", timedelta(days=7), "last 7 days"),
        ("during the last couple of hours", timedelta(hours=2), "last 2 hours"),
        ("in the last half hour", timedelta(minutes=30), "last 30 minutes"),
        ("for 90 minutes", timedelta(minutes=90), "last 90 minutes"),
        ("what is failing right now", timedelta(minutes=15), "last 15 minutes"),
    ],
)
def test_rolling_windows_end_now(text: str, length: timedelta, label: str) -> None:
    found = window(text, WEDNESDAY)
    assert (found.start, found.end, found.label) == (WEDNESDAY - length, WEDNESDAY, label)
    assert found.full_label == f"{label} (UTC)" and found.note is None


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("status codes today", at(5), WEDNESDAY, "today"),
        ("today's errors", at(5), WEDNESDAY, "today"),
        ("since midnight", at(5), WEDNESDAY, "today"),
        ("cost yesterday", at(4), at(5), "yesterday"),
        ("yesterday's LLM spend", at(4), at(5), "yesterday"),
        ("the day before yesterday", at(3), at(4), "day before yesterday"),
        ("this week", at(3), WEDNESDAY, "this week"),  # ISO weeks start on Monday
        ("last week", datetime(2025, 2, 24, tzinfo=UTC), at(3), "last week"),
    ],
)
def test_calendar_windows_follow_utc_days_and_weeks(
    text: str, start: datetime, end: datetime, label: str
) -> None:
    found = window(text, WEDNESDAY)
    assert (found.start, found.end, found.label) == (start, end, label)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("today", at(3), JUST_AFTER_MIDNIGHT_MONDAY),
        ("yesterday", at(2), at(3)),
        ("this week", at(3), JUST_AFTER_MIDNIGHT_MONDAY),
        ("last week", datetime(2025, 2, 24, tzinfo=UTC), at(3)),
        ("last hour", at(2, 23, 0, 30), JUST_AFTER_MIDNIGHT_MONDAY),
        ("last 15 minutes", at(2, 23, 45, 30), JUST_AFTER_MIDNIGHT_MONDAY),
    ],
)
def test_just_after_midnight_on_a_monday(text: str, start: datetime, end: datetime) -> None:
    found = window(text, JUST_AFTER_MIDNIGHT_MONDAY)
    assert (found.start, found.end) == (start, end)


def test_today_at_exactly_midnight_is_not_empty() -> None:
    found = window("today", at(5))
    assert found.start == at(5) and found.end == at(5, 0, 0, 1)


def test_windows_longer_than_fourteen_days_are_cut_and_say_so() -> None:
    found = window("errors over the last 30 days", WEDNESDAY)
    assert found.length == MAX_WINDOW and found.end == WEDNESDAY
    assert found.label == "last 14 days" and found.note and "14 days" in found.note


@pytest.mark.parametrize(
    "text", ["Top 10 errors in the agent service", "slowest endpoints", "token cost per request per model"]
)
def test_no_time_phrase_means_no_window(text: str) -> None:
    assert parse_window(text.lower()) is None


def test_span_text_shows_the_exact_window() -> None:
    assert window("last hour", WEDNESDAY).span_text() == "2025-03-05 13:30–14:30 UTC"
    assert window("yesterday", WEDNESDAY).span_text() == "2025-03-04 00:00–24:00 UTC"
    assert window("last 24 hours", WEDNESDAY).span_text() == "2025-03-04 14:30 – 2025-03-05 14:30 UTC"
