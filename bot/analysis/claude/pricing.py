"""What Claude costs: one price table per model, and the usage of one question summed over its calls.

Prices are USD per million tokens, from platform.claude.com (model pages, "Pricing" and the Sonnet 5.5
migration guide), checked 2026-12: cache writes cost 1.25x input for the 5-minute lifetime and 2x for one
hour; cache reads are priced per model (Sonnet 5.5: $0.10, half the Sonnet 5 rate).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from anthropic.types import Usage as SdkUsage

from bot.analysis.types import Usage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float


PRICES: dict[str, Price] = {
    "claude-sonnet-5-5": Price(2.0, 10.0, 2.5, 4.0, 0.10),
    "claude-sonnet-5": Price(2.0, 10.0, 2.5, 4.0, 0.20),
    "claude-sonnet-4-6": Price(3.0, 15.0, 3.75, 6.0, 0.30),
    "claude-sonnet-4-5": Price(3.0, 15.0, 3.75, 6.0, 0.30),
    "claude-sonnet-4": Price(3.0, 15.0, 3.75, 6.0, 0.30),
    "claude-opus-5-5": Price(4.0, 20.0, 5.0, 8.0, 0.20),
    "claude-opus-5": Price(5.0, 25.0, 6.25, 10.0, 0.50),
    "claude-opus-4-8": Price(5.0, 25.0, 6.25, 10.0, 0.50),
    "claude-opus-4-7": Price(5.0, 25.0, 6.25, 10.0, 0.50),
    "claude-opus-4-6": Price(5.0, 25.0, 6.25, 10.0, 0.50),
    "claude-opus-4-5": Price(5.0, 25.0, 6.25, 10.0, 0.50),
    "claude-haiku-4-5": Price(1.0, 5.0, 1.25, 2.0, 0.10),
}


def price_of(model: str) -> Price | None:
    """The price of a model id, dated ids included ("claude-sonnet-4-5-20250929" → Sonnet 4.5).

    The longest table key that is the whole id or ends where the id continues with "-" wins, so
    "claude-sonnet-5-5" never falls back to "claude-sonnet-5".
    """
    matches = [key for key in PRICES if model == key or model.startswith(key + "-")]
    return PRICES[max(matches, key=len)] if matches else None


@dataclass
class UsageMeter:
    """Token counts of every model call of one question, and their estimated cost."""

    model: str
    calls: int = 0
    uncached_input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0

    def add(self, usage: SdkUsage) -> None:
        self.calls += 1
        self.uncached_input += usage.input_tokens
        self.output += usage.output_tokens
        self.cache_read += usage.cache_read_input_tokens or 0
        written = usage.cache_creation_input_tokens or 0
        one_hour = usage.cache_creation.ephemeral_1h_input_tokens if usage.cache_creation else 0
        self.cache_write_1h += one_hour
        self.cache_write_5m += written - one_hour

    @property
    def input_total(self) -> int:
        """Every input token sent, whether read from the cache, written to it or neither."""
        return self.uncached_input + self.cache_read + self.cache_write_5m + self.cache_write_1h

    def cost_usd(self) -> float:
        price = price_of(self.model)
        if price is None:
            log.warning("no price for model %r in the price table: cost not estimated", self.model)
            return 0.0
        total = (
            self.uncached_input * price.input
            + self.output * price.output
            + self.cache_read * price.cache_read
            + self.cache_write_5m * price.cache_write_5m
            + self.cache_write_1h * price.cache_write_1h
        )
        return round(total / 1_000_000, 6)

    def usage(self) -> Usage:
        return Usage(
            model=self.model,
            model_calls=self.calls,
            input_tokens=self.input_total,
            output_tokens=self.output,
            cache_read_tokens=self.cache_read,
            cache_write_tokens=self.cache_write_5m + self.cache_write_1h,
            cost_usd=self.cost_usd(),
        )
