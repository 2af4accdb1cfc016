"""One terminal line per demo step, with its duration; a failed step stops the demo."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO


class StepFailed(Exception):
    """A demo step did not do what the product promises; the message says what was seen instead."""


@dataclass
class StepTiming:
    title: str
    seconds: float
    ok: bool


@dataclass
class Progress:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    steps: list[StepTiming] = field(default_factory=list)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        """Print `title …`, run the block, finish the line with its duration (or why it failed)."""
        self.out.write(f"  {title} … ")
        self.out.flush()
        started = time.perf_counter()
        try:
            yield
        except BaseException as error:
            seconds = time.perf_counter() - started
            self.steps.append(StepTiming(title, seconds, ok=False))
            self.out.write(f"FAILED after {seconds:.1f} s: {_reason(error)}\n")
            self.out.flush()
            raise
        seconds = time.perf_counter() - started
        self.steps.append(StepTiming(title, seconds, ok=True))
        self.out.write(f"done in {seconds:.1f} s\n")
        self.out.flush()

    def say(self, line: str = "") -> None:
        self.out.write(line + "\n")
        self.out.flush()

    @property
    def total_seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__
