"""`logfire-bot demo`: the whole product end to end on loopback, as a Slack user would see it.

The sandbox Logfire, the Slack emulator and the bot's real app start on ephemeral ports; the demo then
connects through the real OAuth flow and asks the brief's questions with signed Slack requests only
(`script.py`), prints the threads and writes the charts and `index.html` (`report.py`).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack, suppress
from pathlib import Path

from sandbox.demo.progress import Progress, StepFailed
from sandbox.demo.report import terminal_transcript, write_report
from sandbox.demo.script import CHANNEL, SEED_QUESTIONS, DemoRun, authorize_link, play
from sandbox.demo.world import DEMO_RECORDS, DemoWorld, demo_world, started_sandbox

log = logging.getLogger(__name__)

__all__ = [
    "SEED_QUESTIONS",
    "DemoRun",
    "DemoWorld",
    "Progress",
    "demo_world",
    "play",
    "run_demo",
    "started_sandbox",
]


async def run_demo(
    out: Path, questions: list[str] | None = None, *, keep_running: bool = False, records: int = DEMO_RECORDS
) -> int:
    """0 when every step worked; 1 otherwise (the transcript of what happened is written either way)."""
    progress = Progress()
    progress.say("Logfire for Slack demo: a sandbox Logfire, a Slack emulator and the bot, all on 127.0.0.1")
    async with AsyncExitStack() as stack:
        with progress.step(f"start the sandbox Logfire ({records:,} OpenTelemetry records, consent page on)"):
            sandbox = await stack.enter_async_context(started_sandbox(records))
        with progress.step(
            "start the Slack emulator and the bot (HTTP mode, fresh SQLite, new encryption key)"
        ):
            world = await stack.enter_async_context(demo_world(sandbox))
        progress.say(f"  answering with {engine_description(world)}")
        succeeded = await _played(world, progress, questions)
        channel = world.emu.channel(CHANNEL).id
        progress.say("\n--- #general, as Slack shows it " + "-" * 60)
        progress.say(terminal_transcript(world.emu, channel))
        report = await write_report(world.emu, channel, out, subtitle=_subtitle(world))
        progress.say("-" * 92)
        progress.say(f"charts: {', '.join(str(chart) for chart in report.charts) or 'none'}")
        progress.say(f"transcript: {report.index.as_uri()}")
        progress.say(
            f"{'all steps succeeded' if succeeded else 'the demo FAILED'} "
            f"({len(progress.steps)} steps, {progress.total_seconds:.1f} s)"
        )
        if keep_running:
            await _stay_up(world, report.index)
    return 0 if succeeded else 1


def engine_description(world: DemoWorld) -> str:
    if world.mode == "claude":
        return f"Claude ({world.services.settings.logfire_bot_model}), because ANTHROPIC_API_KEY is set"
    return "the offline planner (no ANTHROPIC_API_KEY): fixed SQL plans for common questions, no AI model"


async def _played(world: DemoWorld, progress: Progress, questions: list[str] | None) -> DemoRun | None:
    try:
        return await play(world, progress, questions)
    except (StepFailed, TimeoutError):
        return None  # the step's line says why
    except Exception:  # a bug, in the bot or the demo: the step's line says what, the log says where
        log.exception("the demo stopped on an unexpected error")
        return None


async def _stay_up(world: DemoWorld, index: Path) -> None:
    """Leave everything running, with the URLs a person needs, until Ctrl-C."""
    authorize = await authorize_link(world)
    print("\nEverything stays up until Ctrl-C:")
    print(f"  transcript page           {index.as_uri()}")
    print(f"  sandbox consent page      {authorize}")
    print(f"  sandbox Logfire           {world.sandbox.base_url} (MCP: {world.sandbox.mcp_url})")
    print(f"  Slack emulator Web API    {world.emu.api_url}")
    print(f"  the bot                   {world.bot.url} (Slack requests: {world.bot.url}/slack/events)")
    with suppress(asyncio.CancelledError):  # Ctrl-C
        await asyncio.Event().wait()


def _subtitle(world: DemoWorld) -> str:
    engine = "Claude" if world.mode == "claude" else "offline planner"
    return f"Slack emulator · sandbox Logfire ({world.sandbox.region_label}) · answered by the {engine}"
