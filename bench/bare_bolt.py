"""The baseline of bench/ack.py: a bare Bolt app on aiohttp that acks `/logfire` and does nothing else.

    SLACK_BOT_TOKEN=… SLACK_SIGNING_SECRET=… SLACK_API_URL=… PORT=… python -m bench.bare_bolt

Served the way `logfire-bot run` serves the bot (Bolt's aiohttp app, an `AppRunner` and a `TCPSite`), from the
same environment variables, so the two differ only in what they do with a request.
"""

from __future__ import annotations

import asyncio
import os
import signal

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def bare_app() -> AsyncApp:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @app.command("/logfire")
    async def acknowledge(ack) -> None:  # type: ignore[no-untyped-def]
        await ack()

    return app


async def serve() -> None:
    """Serve on $PORT until SIGTERM or SIGINT."""
    runner = web.AppRunner(bare_app().web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, port=int(os.environ["PORT"])).start()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve())
