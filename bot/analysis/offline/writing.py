"""Writing a draft out as the engine's answer: the answer first, details, how it was counted, the exact
window, and the offline-mode label that every offline answer carries."""

from __future__ import annotations

from bot.analysis.engine import EngineAnswer
from bot.analysis.offline.draft import Draft
from bot.analysis.offline.windows import TimeWindow

OFFLINE_LABEL = "_Offline mode: answered by the built-in query planner, without an AI model._"


def write_answer(draft: Draft, window: TimeWindow | None, *, window_defaulted: bool = False) -> EngineAnswer:
    lines = [draft.answer, *(f"• {detail}" for detail in draft.details)]
    notes = list(draft.notes)
    if window is not None:
        if window_defaulted:
            notes.insert(0, f"The question names no time window, so this covers the {window.label}.")
        if window.note:
            notes.insert(0, window.note)
        notes.append(f"Window: {window.full_label}, {window.span_text()}.")
    if notes:
        lines.append(" ".join(notes))
    lines.append(OFFLINE_LABEL)
    return EngineAnswer(
        summary="\n".join(lines),
        key_numbers=list(draft.key_numbers),
        window_label=window.full_label if window is not None else None,
    )
