"""Background jobs wait for the requests being answered (acknowledgements first); shutdown drains them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
import pytest
from aiohttp import web

from bot.handlers.jobs import Jobs


@dataclass
class Served:
    jobs: Jobs
    events: list[str]
    url: str
    asked: asyncio.Event  # set once a request has started its job


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """A web app with the jobs' middleware: `POST /ask?name=N&hold=S` starts job N, then answers after S s."""
    jobs, events, asked = Jobs(), [], asyncio.Event()

    async def job(name: str) -> None:
        events.append(f"job {name}")

    async def ask(request: web.Request) -> web.Response:
        name = request.query["name"]
        jobs.start(job(name), name=name)
        asked.set()
        await asyncio.sleep(float(request.query["hold"]))
        events.append(f"response {name}")
        return web.Response()

    app = web.Application(middlewares=[jobs.count_requests])
    app.router.add_post("/ask", ask)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield Served(jobs, events, f"http://127.0.0.1:{runner.addresses[0][1]}", asked)
    finally:
        await runner.cleanup()


async def test_jobs_start_once_every_request_in_flight_is_answered(served: Served) -> None:
    jobs, events, url = served.jobs, served.events, served.url
    async with httpx2.AsyncClient() as client:
        await asyncio.gather(
            client.post(f"{url}/ask", params={"name": "a", "hold": "0"}),
            client.post(f"{url}/ask", params={"name": "b", "hold": "0.3"}),
        )
    await jobs.drain(5)
    assert events.index("response b") < events.index("job a")
    assert sorted(events) == ["job a", "job b", "response a", "response b"]


async def test_a_job_waiting_for_acks_is_cancelled_cleanly_at_shutdown(served: Served) -> None:
    jobs, events, url = served.jobs, served.events, served.url
    async with httpx2.AsyncClient() as client:
        request = asyncio.create_task(client.post(f"{url}/ask", params={"name": "a", "hold": "0.5"}))
        await served.asked.wait()  # its job is started, and waits for the response
        await jobs.drain(0)
        await request
    assert events == ["response a"] and len(jobs) == 0
