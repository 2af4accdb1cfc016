"""Time buckets for over-time answers: the smallest round width that keeps a window to about three dozen
points, as a `time_bucket` interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

MAX_BUCKETS = 36


@dataclass(frozen=True)
class Bucket:
    width: timedelta
    interval: str  # for time_bucket: "5 minutes", "1 hour"
    per: str  # for people: "per 5 minutes", "per hour"


_BUCKETS = [
    Bucket(timedelta(minutes=1), "1 minute", "per minute"),
    Bucket(timedelta(minutes=5), "5 minutes", "per 5 minutes"),
    Bucket(timedelta(minutes=10), "10 minutes", "per 10 minutes"),
    Bucket(timedelta(minutes=15), "15 minutes", "per 15 minutes"),
    Bucket(timedelta(minutes=30), "30 minutes", "per 30 minutes"),
    Bucket(timedelta(hours=1), "1 hour", "per hour"),
    Bucket(timedelta(hours=3), "3 hours", "per 3 hours"),
    Bucket(timedelta(hours=6), "6 hours", "per 6 hours"),
    Bucket(timedelta(hours=12), "12 hours", "per 12 hours"),
    Bucket(timedelta(days=1), "1 day", "per day"),
]


def bucket_for(length: timedelta) -> Bucket:
    return next((b for b in _BUCKETS if length / b.width <= MAX_BUCKETS), _BUCKETS[-1])


def bucket_count(length: timedelta, bucket: Bucket) -> int:
    """How many buckets a window of `length` can touch (a partial one at each end included)."""
    return int(length / bucket.width) + 2
