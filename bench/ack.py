"""Acknowledgement latency of `/logfire <question>`: 50 concurrent signed requests from the Slack emulator to
the real bot (connected to the sandbox, every question then answered in the background), beside a bare Bolt
app that only acks, measured in the same run.

    .venv/bin/python -m bench.ack [--requests 50] [--rounds 3]

Latency is what Slack would measure: from sending the signed request to receiving the HTTP response.
Goal: the bot's p99 within 1.5x of the bare app's, and under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
from pathlib import Path

import httpx2
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import running
from bot.config import load_settings
from bot.handlers import blocks
from bot.oauth.crypto import generate_key
from bot.services import Services
from sandbox.logfire.browser import consent
from sandbox.logfire.server import SandboxLogfire
from sandbox.slack import SlackEmulator

QUESTIONS = [
    "top 10 errors in agent service",
    "slowest endpoints in the last hour",
    "trace count by status code today",
    "average token cost per request yesterday",
]


async def latencies(emu: SlackEmulator, requests: int) -> list[float]:
    deliveries = await asyncio.gather(
        *(emu.slash_command(QUESTIONS[index % len(QUESTIONS)], user="bob") for index in range(requests))
    )
    assert all(delivery.status == 200 for delivery in deliveries), [d.status for d in deliveries]
    return [delivery.elapsed * 1000 for delivery in deliveries]


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def bare_app(emu: SlackEmulator, requests: int, rounds: int) -> list[float]:
    app = AsyncApp(
        client=AsyncWebClient(token=emu.bot_token, base_url=emu.api_url), signing_secret=emu.signing_secret
    )

    @app.command("/logfire")
    async def acknowledge(ack) -> None:  # type: ignore[no-untyped-def]
        await ack()

    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    emu.app.request_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    samples: list[float] = []
    try:
        await latencies(emu, 5)  # warm-up
        for _ in range(rounds):
            samples += await latencies(emu, requests)
    finally:
        await runner.cleanup()
    return samples


async def the_bot(
    emu: SlackEmulator, sandbox: SandboxLogfire, folder: Path, requests: int, rounds: int
) -> list[float]:
    sock = socket.create_server(("127.0.0.1", 0))
    settings = load_settings(
        slack_bot_token=emu.bot_token,
        slack_signing_secret=emu.signing_secret,
        slack_api_url=emu.api_url,
        database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
        token_encryption_keys=generate_key(),
        public_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
        logfire_mcp_url=sandbox.mcp_url,
        logfire_region_urls={"us": sandbox.mcp_url},
    )
    services = await Services.start(settings)
    samples: list[float] = []
    try:
        async with running(services, sock) as bot:
            emu.app.request_url = f"{bot.url}/slack/events"
            await connect(emu, sandbox)
            await latencies(emu, 5)  # warm-up
            for _ in range(rounds):
                samples += await latencies(emu, requests)
            print(
                f"  (waiting for the bot to finish {len(bot.bot.jobs)} answers in the background)", flush=True
            )
    finally:
        await services.close()
    return samples


async def connect(emu: SlackEmulator, sandbox: SandboxLogfire) -> None:
    await emu.slash_command("connect", user="alice")
    prompt = await emu.wait_for(
        lambda: [m for m in emu.ephemerals(user="alice") if "Authorize" in str(m.blocks)]
    )
    for block in prompt[-1].blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == blocks.AUTHORIZE_ACTION:
                leaving = await consent(element["url"], issuer=sandbox.issuer)
                async with httpx2.AsyncClient(timeout=30) as browser:
                    assert (await browser.get(leaving)).status_code == 200
                return
    raise RuntimeError("no Authorize button")


async def main(requests: int, rounds: int) -> None:
    sandbox = SandboxLogfire(records=20_000, auto_approve=True)
    await asyncio.to_thread(sandbox.start)
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with SlackEmulator() as emu:
                bare = await bare_app(emu, requests, rounds)
            async with SlackEmulator() as emu:
                ours = await the_bot(emu, sandbox, Path(folder), requests, rounds)
    finally:
        await asyncio.to_thread(sandbox.stop)
    (bare_p50, bare_p99), (our_p50, our_p99) = summary(bare), summary(ours)
    print(f"ack latency, {rounds} rounds of {requests} concurrent /logfire <question> requests")
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
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.rounds))
