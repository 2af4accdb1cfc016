"""What the demo does in Slack, through signed requests from the emulator only: connect, ask, press buttons,
list the tools, show the status. Each step checks what a user would see and fails the demo otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import httpx2

from bot.handlers import blocks
from sandbox.demo.progress import Progress, StepFailed
from sandbox.demo.world import DemoWorld
from sandbox.logfire.browser import consent
from sandbox.slack import Message
from sandbox.slack.model import SlackFile

# The four questions of the product brief (seed/logfire-connector.md).
SEED_QUESTIONS = (
    "top 10 errors in agent service",
    "slowest API endpoints in the last hour",
    "trace count by status code today",
    "average token cost per request yesterday",
)
Way = Literal["/logfire", "@mention", "follow-up"]
# How each seed question is asked: one as a mention, the next as a follow-up in the mention's thread.
WAYS: tuple[Way, ...] = ("/logfire", "@mention", "follow-up", "/logfire")
CHANNEL = "general"
ASKER, ADMIN = "bob", "alice"
ANSWER_WITHIN = 150.0  # seconds; above Claude's default wall-time cap of 120 s


@dataclass
class AskedQuestion:
    text: str
    way: Way
    channel: str  # channel id
    thread_ts: str
    answer: Message
    charts: list[SlackFile]

    @property
    def analysis_id(self) -> str:
        element = _element(self.answer, blocks.SHOW_QUERY_ACTION)
        assert element is not None
        return str(element["value"])


@dataclass
class DemoRun:
    """What the demo saw: the questions with their answers, and the ephemeral replies it asked for."""

    questions: list[AskedQuestion] = field(default_factory=list)
    connected_notice: Message | None = None
    shown_query: Message | None = None
    pinned: Message | None = None
    tools: Message | None = None
    status: Message | None = None

    @property
    def threads(self) -> list[tuple[str, str]]:
        """(channel id, thread ts) of each thread, in the order they were started."""
        seen: list[tuple[str, str]] = []
        for asked in self.questions:
            if (asked.channel, asked.thread_ts) not in seen:
                seen.append((asked.channel, asked.thread_ts))
        return seen


async def play(world: DemoWorld, progress: Progress, questions: list[str] | None = None) -> DemoRun:
    """Run every step; raises `StepFailed` (or `TimeoutError`) at the first one that does not work."""
    run = DemoRun()
    with progress.step("/logfire connect → Authorize with Logfire → consent page → callback"):
        run.connected_notice = await connect(world)
    for index, text in enumerate(questions or SEED_QUESTIONS):
        way = WAYS[index] if index < len(WAYS) else "/logfire"
        with progress.step(f"{_how(way)} {text}"):
            run.questions.append(await ask(world, text, way, run.questions))
    if run.questions:
        first = run.questions[0]
        with progress.step(f"press Pin chart on the answer to “{first.text}”"):
            run.pinned = await pin_chart(world, first)
        shown = run.questions[1] if len(run.questions) > 1 else first
        with progress.step(f"press Show query on the answer to “{shown.text}”"):
            run.shown_query = await show_query(world, shown)
    with progress.step("/logfire tools"):
        run.tools = await command_reply(world, "tools", "blocked")
    with progress.step("/logfire status"):
        run.status = await command_reply(world, "status", "Logfire connection")
    return run


async def connect(world: DemoWorld) -> Message:
    """`/logfire connect`, follow the button through the consent form, land on the callback page."""
    leaving = await consent(await authorize_link(world), issuer=world.sandbox.issuer)
    async with httpx2.AsyncClient(timeout=30) as browser:
        page = await browser.get(leaving)
    if page.status_code != 200:
        raise StepFailed(f"the callback page answered {page.status_code}")
    emu = world.emu
    return await emu.wait_for(lambda: _saying(emu.ephemerals(user=ADMIN), "Logfire is connected"), 30)


async def authorize_link(world: DemoWorld) -> str:
    """`/logfire connect` and the URL of its **Authorize with Logfire** button."""
    emu = world.emu
    before = {m.ts for m in emu.ephemerals(user=ADMIN)}
    await _command(world, "connect", ADMIN)

    def prompt_with_button() -> Message | None:
        fresh = [m for m in emu.ephemerals(user=ADMIN) if m.ts not in before]
        return _last_with(fresh, blocks.AUTHORIZE_ACTION)

    prompt = await emu.wait_for(prompt_with_button, 30)
    element = _element(prompt, blocks.AUTHORIZE_ACTION)
    assert element is not None
    return str(element["url"])


async def ask(world: DemoWorld, text: str, way: Way, earlier: list[AskedQuestion]) -> AskedQuestion:
    emu = world.emu
    channel = emu.channel(CHANNEL).id
    mention = emu.bot_mention()
    if way == "/logfire":
        before = {m.ts for m in emu.messages(channel)}
        await _command(world, text, ASKER)
        root = await emu.wait_for(lambda: [m for m in emu.messages(channel) if m.ts not in before], 30)
        thread_ts, since = root[0].ts, root[0].ts
    elif way == "@mention":
        post = await emu.user_message(f"{mention} {text}", user=ASKER, channel=channel)
        thread_ts, since = post.message.ts, post.message.ts
    else:
        thread_ts = earlier[-1].thread_ts
        post = await emu.user_message(f"{mention} {text}", user=ASKER, channel=channel, thread_ts=thread_ts)
        since = post.message.ts
    answer, charts = await _answer(world, channel, thread_ts, since)
    return AskedQuestion(text, way, channel, thread_ts, answer, charts)


async def pin_chart(world: DemoWorld, asked: AskedQuestion) -> Message:
    emu = world.emu
    await _click(world, asked.answer, blocks.PIN_CHART_ACTION, ASKER)
    chart_ids = {chart.id for chart in asked.charts}

    def pinned() -> Message | None:
        return next((m for m in emu.pins(asked.channel) if {f.id for f in m.files} & chart_ids), None)

    return await emu.wait_for(pinned, 30)


async def show_query(world: DemoWorld, asked: AskedQuestion) -> Message:
    await _click(world, asked.answer, blocks.SHOW_QUERY_ACTION, ASKER)
    return await world.emu.wait_for(lambda: _saying(world.emu.ephemerals(user=ASKER), "SELECT"), 30)


async def command_reply(world: DemoWorld, subcommand: str, words: str) -> Message:
    """`/logfire <subcommand>` and the ephemeral reply that says `words`."""
    before = {m.ts for m in world.emu.ephemerals(user=ADMIN)}
    await _command(world, subcommand, ADMIN)

    def reply() -> Message | None:
        fresh = [m for m in world.emu.ephemerals(user=ADMIN) if m.ts not in before]
        return _saying(fresh, words)

    return await world.emu.wait_for(reply, 30)


async def _command(world: DemoWorld, text: str, user: str) -> None:
    delivery = await world.emu.slash_command(text, user=user, channel=CHANNEL)
    if delivery.status != 200:
        raise StepFailed(f"the bot answered HTTP {delivery.status} to /logfire {text}")


async def _click(world: DemoWorld, message: Message, action_id: str, user: str) -> None:
    delivery = await world.emu.click(message, action_id, user=user)
    if delivery.status != 200:
        raise StepFailed(f"the bot answered HTTP {delivery.status} to the button {action_id}")


async def _answer(
    world: DemoWorld, channel: str, thread_ts: str, since: str
) -> tuple[Message, list[SlackFile]]:
    """The bot's answer and chart posted in the thread after `since`; a failure reply fails the step."""
    emu = world.emu

    def answered() -> tuple[Message, list[SlackFile]] | None:
        replies = [m for m in emu.thread(channel, thread_ts) if float(m.ts) > float(since) and m.bot_id]
        answer = next((m for m in replies if _element(m, blocks.SHOW_QUERY_ACTION)), None)
        if answer is None:
            if failure := next((m for m in replies if _element(m, blocks.RETRY_ACTION)), None):
                raise StepFailed(f"the bot answered: {failure.text}")
            return None
        charts = [f for m in replies for f in m.files if f.data]
        pinnable = _element(answer, blocks.PIN_CHART_ACTION) is not None  # added once the upload is done
        return (answer, charts) if charts and pinnable else None

    return await emu.wait_for(answered, ANSWER_WITHIN)


def _how(way: Way) -> str:
    return {"/logfire": "/logfire", "@mention": "@Logfire", "follow-up": "in the thread: @Logfire"}[way]


def _element(message: Message, action_id: str) -> dict | None:
    for block in message.blocks:
        elements = block.get("elements", []) + ([block["accessory"]] if "accessory" in block else [])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def _last_with(messages: list[Message], action_id: str) -> Message | None:
    return next((m for m in reversed(messages) if _element(m, action_id)), None)


def _saying(messages: list[Message], words: str) -> Message | None:
    return next((m for m in reversed(messages) if words in m.text + str(m.blocks)), None)
