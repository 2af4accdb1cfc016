"""What the demo leaves behind: the threads as text in the terminal, the chart PNGs and `index.html`."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from sandbox.demo.page import PageRenderer, timeline
from sandbox.slack import SlackEmulator
from sandbox.slack.transcript import render


@dataclass(frozen=True)
class Report:
    index: Path
    charts: list[Path]


def terminal_transcript(emu: SlackEmulator, channel: str) -> str:
    """Every thread and ephemeral reply of `channel`, as readable text, separated by blank lines."""
    return "\n\n".join(render(emu.state, [entry.message, *entry.replies]) for entry in timeline(emu, channel))


async def write_report(emu: SlackEmulator, channel: str, out: Path, *, subtitle: str) -> Report:
    """Write every chart the bot uploaded in `channel` as a PNG, and `index.html` showing them inline.

    The page is built from the emulator's state on the event loop; the files are written in a thread."""
    files: dict[str, bytes] = {}
    chart_names: dict[str, str] = {}  # Slack file id → PNG name
    for entry in timeline(emu, channel):
        for file in (file for message in [entry.message, *entry.replies] for file in message.files):
            if file.data and file.data.startswith(b"\x89PNG") and file.id not in chart_names:
                name = f"chart-{len(chart_names) + 1}-{_slug(file.title or file.name)}.png"
                chart_names[file.id] = name
                files[name] = file.data
    pinned = {message.ts for message in emu.pins(channel)}
    page = PageRenderer(emu, chart_names, pinned).page(
        channel, title="Logfire for Slack: demo transcript", subtitle=subtitle
    )
    files["index.html"] = page.encode()
    return await asyncio.to_thread(_write, out, files)


def _write(out: Path, files: dict[str, bytes]) -> Report:
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("chart-*.png"):  # from an earlier run
        stale.unlink()
    for name, data in files.items():
        (out / name).write_bytes(data)
    return Report(out / "index.html", [out / name for name in files if name != "index.html"])


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50] or "chart"
