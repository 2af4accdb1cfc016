"""The offline planner: a deterministic engine for the common question families (no AI model)."""

from bot.analysis.offline.planner import OfflinePlanner

__all__ = ["OfflinePlanner"]
