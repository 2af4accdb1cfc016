"""The Claude engine: Anthropic's Messages API planning and running the analysis over Logfire's read-only
tools. The only package of the bot that imports `anthropic`."""

from bot.analysis.claude.loop import Caps, ClaudeEngine
from bot.analysis.claude.pricing import PRICES, Price, UsageMeter, price_of
from bot.analysis.claude.reference import SchemaReferences
from bot.analysis.claude.results import compact_result, raw_result

__all__ = [
    "PRICES",
    "Caps",
    "ClaudeEngine",
    "Price",
    "SchemaReferences",
    "UsageMeter",
    "compact_result",
    "price_of",
    "raw_result",
]
