"""A second bot process for the OAuth tests: uses a workspace's stored connection and prints what happened.

    python -m tests.oauth.worker calls  URL SCHEMA TEAM MCP_URL REDIRECT_URI N START_AT
    python -m tests.oauth.worker tools  URL SCHEMA TEAM MCP_URL REDIRECT_URI

`calls` sends N concurrent authenticated MCP requests at START_AT (epoch seconds) and prints their statuses;
`tools` lists the MCP tools through a session. TOKEN_ENCRYPTION_KEYS comes from the environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bot.http import new_http_client
from bot.oauth.crypto import SecretBox
from bot.oauth.vault import TokenVault
from db.engine import open_database

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "w", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def calls(vault: TokenVault, team: str, mcp_url: str, count: int, start_at: float) -> dict:
    async with httpx2.AsyncClient(auth=vault.auth(team), timeout=30) as http:
        await asyncio.sleep(max(0.0, start_at - time.time()))

        async def one() -> int:
            response = await http.post(mcp_url, json=INITIALIZE, headers=MCP_HEADERS)
            return response.status_code

        statuses = await asyncio.gather(*(one() for _ in range(count)))
    return {"statuses": list(statuses), "refreshes": vault.refreshes}


async def tools(vault: TokenVault, team: str, mcp_url: str) -> dict:
    async with (
        httpx2.AsyncClient(auth=vault.auth(team), timeout=30) as http,
        Client(streamable_http_client(mcp_url, http_client=http), mode="legacy") as client,
    ):
        listed = await client.list_tools()
    return {"tools": len(listed.tools), "refreshes": vault.refreshes}


async def main(argv: list[str]) -> dict:
    mode, url, schema, team, mcp_url, redirect_uri, *rest = argv
    connect_args = {"server_settings": {"search_path": schema}} if schema != "-" else None
    database = open_database(url, connect_args=connect_args)
    box = SecretBox.from_text(os.environ["TOKEN_ENCRYPTION_KEYS"])
    http = new_http_client()
    vault = TokenVault(database, box, http, redirect_uri, {"us": mcp_url})
    try:
        if mode == "calls":
            return await calls(vault, team, mcp_url, int(rest[0]), float(rest[1]))
        return await tools(vault, team, mcp_url)
    finally:
        await http.aclose()
        await database.dispose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))))
