"""What our MCP client costs per `query_run`: a reused session, a fresh session per call, and the same SQL
run directly on the sandbox's engine (the baseline), all in one run.

    .venv/bin/python -m bench.mcp_overhead [--records 100000] [--runs 30]

The workspace connects through the bot's real OAuth flow (auto-approved consent) into a temporary SQLite
database; every call goes through the token vault, the read-only gate and the pool.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from bot.http import new_http_client
from bot.mcp_client.gate import ToolGate
from bot.mcp_client.pool import McpPool
from bot.oauth.authorization import OAuthFlow, Requester
from bot.oauth.crypto import SecretBox, generate_key
from bot.oauth.vault import TokenVault
from db.engine import Database, open_database
from db.migrate import upgrade
from sandbox.logfire.server import SandboxLogfire

SQL = (
    "SELECT service_name, count(*) AS n, avg(duration) AS mean_s FROM records "
    "GROUP BY service_name ORDER BY n DESC LIMIT 20"
)
REDIRECT_URI = "http://127.0.0.1:9/oauth/logfire/callback"  # never served: the flow is completed directly


async def connect(sandbox: SandboxLogfire, database: Database, box: SecretBox) -> TokenVault:
    regions = {"us": sandbox.mcp_url}
    http = new_http_client()
    flow = OAuthFlow(database, box, http, REDIRECT_URI, regions)
    url = await flow.start_authorization(Requester("TBENCH", "UBENCH"), sandbox.mcp_url)
    async with new_http_client(follow_redirects=False) as browser:
        location = (await browser.get(url)).headers["location"]
    params = {key: values[0] for key, values in parse_qs(urlparse(location).query).items()}
    await flow.complete_authorization(params)
    return TokenVault(database, box, http, REDIRECT_URI, regions)


async def median_ms(runs: int, call: Callable[[], Awaitable[object]]) -> float:
    await call()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def main(records: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        sandbox = SandboxLogfire(records=records, auto_approve=True)
        await asyncio.to_thread(sandbox.start)
        database = open_database(f"sqlite+aiosqlite:///{folder}/bench.db")
        await upgrade(database)
        vault = await connect(sandbox, database, SecretBox.from_text(generate_key()))
        end = sandbox.dataset().generated_at
        start = end - timedelta(hours=72)
        arguments = {"query": SQL, "start_timestamp": start.isoformat(), "end_timestamp": end.isoformat()}
        reused = McpPool(vault, ToolGate(), database)

        async def through_reused_session() -> None:
            assert not (await reused.call("TBENCH", "query_run", arguments)).is_error

        async def through_fresh_session() -> None:
            pool = McpPool(vault, ToolGate(), database)
            try:
                assert not (await pool.call("TBENCH", "query_run", arguments)).is_error
            finally:
                await pool.close()

        async def on_the_engine() -> None:
            project = sandbox.dataset().project_id
            await asyncio.to_thread(
                sandbox.engine.run,
                SQL,
                project_id=project,
                min_timestamp=start,
                max_timestamp=end,
                default_limit=100,
            )

        engine = await median_ms(runs, on_the_engine)
        reused_ms = await median_ms(runs, through_reused_session)
        fresh_ms = await median_ms(runs, through_fresh_session)
        await reused.close()
        await database.dispose()
        await asyncio.to_thread(sandbox.stop)

    print(f"query_run median over {runs} runs, {records} records (baseline: the engine directly)")
    print(f"  engine directly        {engine:8.1f} ms   1.00x")
    print(f"  reused MCP session     {reused_ms:8.1f} ms   {reused_ms / engine:5.2f}x")
    print(f"  fresh session per call {fresh_ms:8.1f} ms   {fresh_ms / engine:5.2f}x")
    print(f"  a fresh session costs {fresh_ms / reused_ms:.2f}x a reused one")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    asyncio.run(main(options.records, options.runs))
