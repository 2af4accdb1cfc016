"""Acknowledgement latency of `/logfire <question>`: 50 concurrent signed requests from the Slack emulator to
the real bot (connected to the sandbox, every question then answered in the background), beside a bare Bolt
app that only acks, measured in the same run.

    .venv/bin/python -m bench.ack [--requests 50] [--rounds 3] [--pause 1.0]

As in production, Slack, Logfire and the app are separate processes: the sandbox Logfire runs as
`logfire-bot sandbox`, the bot as `logfire-bot run` and the baseline as `bench.bare_bolt` (each started the
same way, from the same environment variables); this process runs the Slack emulator (the Web API the bot
calls, the connect flow) and a sender process of its own sends the signed requests and times them. Latency is
what Slack would measure: from sending a signed request to receiving the whole response. Goal: the bot's p99
within 1.5x of the bare app's, and under 100 ms.

Each round is one burst of `--requests` concurrent questions, and the rounds are `--pause` seconds apart
(default 1 s), so that each measures the burst the goal names while the earlier bursts' questions are still
being answered in the background. `--pause 0` sends the bursts back to back instead: a harsher load, where a
burst's acks compete with the Slack messages the bot posts for the burst before.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx2

from bot.config import Settings
from bot.handlers import blocks
from bot.oauth.crypto import generate_key
from sandbox.logfire.browser import consent
from sandbox.slack import SlackEmulator
from sandbox.slack.courier import FORM, USER_AGENT
from sandbox.slack.signing import signature_headers

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "top 10 errors in agent service",
    "slowest endpoints in the last hour",
    "trace count by status code today",
    "average token cost per request yesterday",
]
WARM_UP = 5
ACK_TIMEOUT = aiohttp.ClientTimeout(total=3)  # Slack's
START_SECONDS = 120.0
STOP_SECONDS = 60.0  # the bot drains its running answers (up to 30 s) before it exits


@dataclass(frozen=True)
class Child:
    """A server started by the bench in its own process."""

    process: asyncio.subprocess.Process
    url: str  # http://127.0.0.1:PORT
    log: Path


def timed_bursts(url: str, secret: str, bursts: list[list[bytes]], pause: float) -> list[list[float]]:
    """Runs in the sender process: each burst's requests sent at once, signed as Slack signs them, `pause`
    seconds after the burst before; each request's latency in ms, from sending to the whole response."""
    return asyncio.run(_timed_bursts(url, secret, bursts, pause))


async def _timed_bursts(url: str, secret: str, bursts: list[list[bytes]], pause: float) -> list[list[float]]:
    timed = []
    async with aiohttp.ClientSession() as session:
        for burst in bursts:
            if timed:
                await asyncio.sleep(pause)
            timed.append(await asyncio.gather(*(_timed(session, url, secret, body) for body in burst)))
    return timed


async def _timed(session: aiohttp.ClientSession, url: str, secret: str, body: bytes) -> float:
    headers = {"Content-Type": FORM, "User-Agent": USER_AGENT, **signature_headers(body, secret)}
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers, timeout=ACK_TIMEOUT) as response:
        await response.read()
    assert response.status == 200, response.status
    return (time.perf_counter() - started) * 1000


async def measure(
    emu: SlackEmulator, sender: Executor, app: Child, requests: int, rounds: int, pause: float
) -> list[float]:
    """A warm-up, then `rounds` bursts of `requests` concurrent questions; the latencies in ms."""
    bursts = [
        [
            emu.slash_command_request(QUESTIONS[index % len(QUESTIONS)], user="bob").body
            for index in range(size)
        ]
        for size in [WARM_UP] + [requests] * rounds
    ]
    url = f"{app.url}/slack/events"
    timed = await asyncio.get_running_loop().run_in_executor(
        sender, timed_bursts, url, emu.signing_secret, bursts, pause
    )
    return [latency for burst in timed[1:] for latency in burst]


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def clean_environment(**variables: str) -> dict[str, str]:
    """This environment without any setting the bot reads (no real Slack or Anthropic), plus `variables`."""
    ours = {name.upper() for name in Settings.model_fields}
    return {name: value for name, value in os.environ.items() if name not in ours} | variables


@asynccontextmanager
async def child(args: list[str], env: dict[str, str], port: int, log: Path) -> AsyncIterator[Child]:
    """Start `python args…` serving on `port`; wait until it answers HTTP; SIGTERM it at the end."""
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, cwd=ROOT, stdout=output, stderr=output
        )
    running = Child(process, f"http://127.0.0.1:{port}", log)
    try:
        await until_answering(running)
        yield running
    finally:
        await stop(process)


async def until_answering(app: Child) -> None:
    async with httpx2.AsyncClient(timeout=2) as client:
        for _ in range(int(START_SECONDS * 10)):
            if app.process.returncode is not None:
                raise RuntimeError(f"{app.log.name} exited: {app.log.read_text()[-2000:]}")
            try:
                await client.get(f"{app.url}/healthz")
                return
            except httpx2.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{app.log.name} did not start: {app.log.read_text()[-2000:]}")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()


def sandbox_logfire(folder: Path) -> AsyncIterator[Child]:
    port = free_port()
    args = ["-m", "bot", "sandbox", "--port", str(port), "--auto-approve", "--records", "20000"]
    return child(args, clean_environment(), port, folder / "sandbox.log")


def slack_app(emu: SlackEmulator, args: list[str], folder: Path, **variables: str) -> AsyncIterator[Child]:
    port = free_port()
    env = clean_environment(
        SLACK_BOT_TOKEN=emu.bot_token,
        SLACK_SIGNING_SECRET=emu.signing_secret,
        SLACK_API_URL=emu.api_url,
        PORT=str(port),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        **variables,
    )
    return child(args, env, port, folder / f"{args[-1]}.log")


def the_bot(emu: SlackEmulator, sandbox: Child, folder: Path) -> AsyncIterator[Child]:
    mcp_url = f"{sandbox.url}/mcp"
    return slack_app(
        emu,
        ["-m", "bot", "run"],
        folder,
        DATABASE_URL=f"sqlite+aiosqlite:///{folder}/bench.db",
        TOKEN_ENCRYPTION_KEYS=generate_key(),
        LOGFIRE_MCP_URL=mcp_url,
        LOGFIRE_REGION_URLS=f"us={mcp_url}",
    )


async def connect(emu: SlackEmulator, bot: Child, sandbox: Child) -> None:
    """`/logfire connect`, the Authorize button, the sandbox's consent, the bot's callback page."""
    emu.app.request_url = f"{bot.url}/slack/events"
    await emu.slash_command("connect", user="alice")
    prompt = await emu.wait_for(
        lambda: [m for m in emu.ephemerals(user="alice") if "Authorize" in str(m.blocks)], within=30
    )
    for block in prompt[-1].blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == blocks.AUTHORIZE_ACTION:
                leaving = await consent(element["url"], issuer=sandbox.url)
                async with httpx2.AsyncClient(timeout=30) as browser:
                    assert (await browser.get(leaving)).status_code == 200
                return
    raise RuntimeError("no Authorize button")


async def running_answers(bot: Child) -> int:
    async with httpx2.AsyncClient(timeout=10) as client:
        return (await client.get(f"{bot.url}/healthz")).json()["running_analyses"]


async def main(requests: int, rounds: int, pause: float) -> None:
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as name, ProcessPoolExecutor(1, mp_context=spawn) as sender:
        folder = Path(name)
        async with sandbox_logfire(folder) as sandbox, SlackEmulator() as emu:
            async with slack_app(emu, ["-m", "bench.bare_bolt"], folder) as bare_app:
                bare = await measure(emu, sender, bare_app, requests, rounds, pause)
            async with the_bot(emu, sandbox, folder) as bot:
                await connect(emu, bot, sandbox)
                ours = await measure(emu, sender, bot, requests, rounds, pause)
                print(f"  ({await running_answers(bot)} questions still being answered or queued at the end)")
    report(requests, rounds, pause, summary(bare), summary(ours))


def report(
    requests: int, rounds: int, pause: float, bare: tuple[float, float], ours: tuple[float, float]
) -> None:
    (bare_p50, bare_p99), (our_p50, our_p99) = bare, ours
    spacing = f"{pause:g} s apart" if pause else "back to back"
    print(f"ack latency, {rounds} rounds ({spacing}) of {requests} concurrent /logfire <question> requests")
    print(f"  bare Bolt app (baseline)  p50 {bare_p50:6.1f} ms   p99 {bare_p99:6.1f} ms")
    print(f"  Logfire for Slack         p50 {our_p50:6.1f} ms   p99 {our_p99:6.1f} ms")
    print(f"  ratio                     p50 {our_p50 / bare_p50:6.2f}x     p99 {our_p99 / bare_p99:6.2f}x")
    met = our_p99 <= 1.5 * bare_p99 and our_p99 < 100
    print(f"  goal: p99 within 1.5x of the bare app and under 100 ms: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between rounds (0: back to back)")
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.rounds, options.pause))
