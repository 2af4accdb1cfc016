"""The read-only gate: which of the server's tools the analysis engine may see and call.

Connecting Logfire must never be able to change anything on the Logfire side, whatever the model is asked or
tricked into doing, and annotations are hints the server may get wrong. So a tool passes only when every check
agrees:

1. an operator denylist by exact name blocks; an operator allowlist by exact name allows (both override 2-4);
2. its name has no write verb (`WRITE_VERBS`; the name is split on `_ - . /` and camelCase);
3. its annotations do not say `readOnlyHint: false` or `destructiveHint: true`;
4. in strict mode (`LOGFIRE_TOOLS_STRICT=true`) it must be annotated `readOnlyHint: true`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import mcp_types as types

# Words that mean a tool changes something. The seed's list (create, update, delete, send, refund) and more.
WRITE_VERBS: frozenset[str] = frozenset(
    """
create update delete send refund
add remove set unset manage write put post patch insert upsert drop
revoke archive unarchive rename reorder toggle assign unassign move upload import
exec execute run edit modify replace restore reset clear purge destroy truncate alter
enable disable mute unmute snooze invite grant deploy publish submit save store commit push merge apply
approve trigger cancel start stop pause resume kill duplicate clone copy fork attach detach unlink share
notify acknowledge ack close reopen
    """.split()  # noqa: SIM905 (a word list reads best as words)
)

# Exact names that contain a write verb but only read: `query_run` runs read-only SQL (Logfire
# refuses DDL and DML).
READ_ONLY_BY_NAME: frozenset[str] = frozenset({"query_run"})

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[_\-./\s]+")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str


@dataclass(frozen=True)
class ToolGate:
    write_verbs: frozenset[str] = WRITE_VERBS
    strict: bool = False
    allow: frozenset[str] = field(default_factory=frozenset)
    deny: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def configured(
        cls, *, strict: bool, allow: Iterable[str], deny: Iterable[str], extra_verbs: Iterable[str] = ()
    ) -> ToolGate:
        verbs = WRITE_VERBS | {verb.lower() for verb in extra_verbs}
        return cls(write_verbs=verbs, strict=strict, allow=frozenset(allow), deny=frozenset(deny))

    def judge(self, tool: types.Tool) -> Verdict:
        if tool.name in self.deny:
            return Verdict(False, "blocked: on the operator's denylist (LOGFIRE_TOOLS_DENY)")
        if tool.name in self.allow:
            return Verdict(True, "allowed: on the operator's allowlist (LOGFIRE_TOOLS_ALLOW)")
        if verb := self.write_verb_in(tool.name):
            return Verdict(False, f"blocked: its name contains the write verb '{verb}'")
        hints = tool.annotations
        if hints is not None and hints.read_only_hint is False:
            return Verdict(False, "blocked: annotated readOnlyHint: false")
        if hints is not None and hints.destructive_hint is True:
            return Verdict(False, "blocked: annotated destructiveHint: true")
        declared_read_only = hints is not None and hints.read_only_hint is True
        if self.strict and not declared_read_only:
            return Verdict(False, "blocked: strict mode requires readOnlyHint: true")
        if declared_read_only:
            return Verdict(True, "allowed: annotated read-only and its name has no write verb")
        return Verdict(
            True, "allowed: not annotated read-only, but its name has no write verb (strict mode off)"
        )

    def write_verb_in(self, name: str) -> str | None:
        if name in READ_ONLY_BY_NAME:
            return None
        return next((word for word in name_words(name) if word in self.write_verbs), None)


def name_words(name: str) -> list[str]:
    """`dashboard_addPanel-v2.run` → ['dashboard', 'add', 'panel', 'v2', 'run']."""
    spaced = _CAMEL_BOUNDARY.sub("_", name)
    return [word.lower() for word in _SEPARATORS.split(spaced) if word]
