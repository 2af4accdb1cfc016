"""A workspace's tool inventory as the gate judged it, fingerprinted so changes between sessions show."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import mcp_types as types

from bot.mcp_client.gate import ToolGate, Verdict


@dataclass(frozen=True)
class GatedTool:
    tool: types.Tool
    verdict: Verdict
    fingerprint: str

    @property
    def name(self) -> str:
        return self.tool.name


@dataclass(frozen=True)
class ToolChanges:
    """How the inventory differs from the one seen before (by tool name)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def describe(self) -> str:
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (("added", self.added), ("removed", self.removed), ("changed", self.changed))
            if names
        ]
        return "; ".join(parts) or "no change"


@dataclass(frozen=True)
class ToolCatalog:
    tools: tuple[GatedTool, ...]
    instructions: str | None
    fingerprint: str
    fetched_at: datetime

    @classmethod
    def judged(
        cls, tools: list[types.Tool], instructions: str | None, gate: ToolGate, fetched_at: datetime
    ) -> ToolCatalog:
        gated = tuple(GatedTool(tool, gate.judge(tool), tool_fingerprint(tool)) for tool in tools)
        return cls(gated, instructions, list_fingerprint(gated), fetched_at)

    @property
    def allowed(self) -> list[GatedTool]:
        return [tool for tool in self.tools if tool.verdict.allowed]

    @property
    def blocked(self) -> list[GatedTool]:
        return [tool for tool in self.tools if not tool.verdict.allowed]

    def get(self, name: str) -> GatedTool | None:
        return next((tool for tool in self.tools if tool.name == name), None)

    def fingerprints(self) -> dict[str, str]:
        return {tool.name: tool.fingerprint for tool in self.tools}

    def changes_since(self, previous: dict[str, str]) -> ToolChanges:
        current = self.fingerprints()
        return ToolChanges(
            added=sorted(set(current) - set(previous)),
            removed=sorted(set(previous) - set(current)),
            changed=sorted(name for name in current.keys() & previous if current[name] != previous[name]),
        )


def tool_fingerprint(tool: types.Tool) -> str:
    """A hash of everything the model sees of a tool: name, description, schemas, annotations."""
    document: dict[str, Any] = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def list_fingerprint(tools: tuple[GatedTool, ...]) -> str:
    joined = "\n".join(sorted(f"{tool.name}:{tool.fingerprint}" for tool in tools))
    return hashlib.sha256(joined.encode()).hexdigest()
