"""`logfire-bot ask`: answer one question from the terminal, as the Slack app would, and write the chart PNG.

With `--sandbox`, a local Logfire is started and connected through the real OAuth flow first (into a
throwaway database), so the command works on a fresh machine with no account.
"""

from __future__ import annotations

import asyncio
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

from bot.analysis.types import AnalysisResult, Question
from bot.config import Settings, load_settings
from bot.oauth.authorization import Requester
from bot.oauth.crypto import generate_key
from bot.services import Services


async def ask(question: str, team_id: str, out: Path, use_sandbox: bool) -> AnalysisResult:
    async with AsyncExitStack() as stack:
        settings = load_settings()
        if use_sandbox:
            settings = await stack.enter_async_context(_sandbox_settings())
        services = await Services.start(settings)
        stack.push_async_callback(services.close)
        if use_sandbox:
            await _connect_to_sandbox(services, team_id)
        result = await services.analyst.answer(Question(team_id, "terminal", "terminal", question))
    _print(result, _write_charts(result, out))
    return result


def _sandbox_settings():  # type: ignore[no-untyped-def]
    from contextlib import asynccontextmanager

    from sandbox.logfire.server import SandboxLogfire

    @asynccontextmanager
    async def running():  # type: ignore[no-untyped-def]
        sandbox = SandboxLogfire(auto_approve=True)
        print("Starting the sandbox Logfire…", flush=True)
        await asyncio.to_thread(sandbox.start)
        try:
            with tempfile.TemporaryDirectory() as folder:
                yield load_settings(
                    database_url=f"sqlite+aiosqlite:///{folder}/ask.db",
                    token_encryption_keys=generate_key(),
                    logfire_mcp_url=sandbox.mcp_url,
                    logfire_region_urls={"us": sandbox.mcp_url},
                )
        finally:
            await asyncio.to_thread(sandbox.stop)

    return running()


async def _connect_to_sandbox(services: Services, team_id: str) -> None:
    from sandbox.logfire.browser import consent, query_of

    settings: Settings = services.settings
    url = await services.flow.start_authorization(Requester(team_id, "terminal"), settings.logfire_mcp_url)
    issuer = settings.logfire_mcp_url.removesuffix("/mcp")
    await services.flow.complete_authorization(query_of(await consent(url, issuer=issuer)))


def _write_charts(result: AnalysisResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for chart in result.charts:
        path = out / chart.filename
        path.write_bytes(chart.png)
        paths.append(path)
    return paths


def _print(result: AnalysisResult, charts: list[Path]) -> None:
    print()
    print(result.summary)
    for number in result.key_numbers:
        print(f"  {number.label}: {number.value}")
    for query in result.queries:
        if query.sql:
            print(f"\nquery ({query.rows} rows, {query.seconds * 1000:.0f} ms):\n  {query.sql}")
    for path in charts:
        print(f"\nchart: {path}")
    usage = result.usage
    calls = f"{usage.model_calls} model calls · ${usage.cost_usd:.4f}"
    print(f"\n{result.mode} mode · {result.seconds:.1f} s · {calls}")
