"""The sandbox self-check (`logfire-bot demo` until the real demo exists).

Starts a sandbox with auto-approve, connects the way a client does (discovery, dynamic registration, PKCE,
`resource`), and answers the brief's four example questions by running their SQL through `query_run`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sandbox.logfire.examples import EXAMPLES
from sandbox.logfire.server import SandboxLogfire

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never served: the code is read from the redirect


async def connect(sandbox: SandboxLogfire) -> str:
    """An access token for the sandbox's MCP server, from its discovery documents (needs auto-approve)."""
    async with httpx2.AsyncClient(timeout=30) as http:
        prm = (await http.get(f"{sandbox.base_url}/.well-known/oauth-protected-resource/mcp")).json()
        issuer = prm["authorization_servers"][0]
        metadata = (await http.get(f"{issuer}/.well-known/oauth-authorization-server")).json()
        registration = await http.post(
            metadata["registration_endpoint"],
            json={
                "redirect_uris": [REDIRECT_URI],
                "client_name": "sandbox self-check",
                "scope": "project:read",
            },
        )
        client = registration.raise_for_status().json()
    async with AsyncOAuth2Client(
        client["client_id"],
        client["client_secret"],
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name, not a secret)
        redirect_uri=REDIRECT_URI,
        scope="project:read",
        code_challenge_method="S256",
    ) as oauth:
        verifier = generate_token(64)
        url, _ = oauth.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, resource=prm["resource"]
        )
        async with httpx2.AsyncClient() as browser:  # auto-approve: /authorize redirects straight back
            redirect = await browser.get(url)
        token = await oauth.fetch_token(
            metadata["token_endpoint"],
            authorization_response=redirect.headers["location"],
            code_verifier=verifier,
            resource=prm["resource"],
        )
    return token["access_token"]


async def answer_examples(
    sandbox: SandboxLogfire, access_token: str
) -> list[tuple[str, list[dict[str, Any]]]]:
    truth = sandbox.dataset().ground_truth
    answers = []
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http,
        Client(streamable_http_client(sandbox.mcp_url, http_client=http), mode="legacy") as client,
    ):
        for example in EXAMPLES:
            start, end = truth.window(example.window)
            result = await client.call_tool(
                "query_run",
                {
                    "query": example.sql,
                    "start_timestamp": start.isoformat(),
                    "end_timestamp": end.isoformat(),
                },
            )
            if result.is_error:
                raise RuntimeError(f"{example.question}: {result.content}")
            answers.append((example.question, result.structured_content["result"]))
    return answers


async def _selfcheck(records: int) -> int:
    print("Sandbox self-check (not the demo): the local Logfire answers the brief's four example questions.")
    async with SandboxLogfire(auto_approve=True, records=records) as sandbox:
        print(f"Started {sandbox.region_label} at {sandbox.mcp_url} in {sandbox.startup_seconds:.1f} s")
        answers = await answer_examples(sandbox, await connect(sandbox))
    failed = False
    for question, rows in answers:
        print(f"\n{question} ({len(rows)} rows)")
        for row in rows:
            print("  " + json.dumps(row, default=str))
        failed = failed or not rows
    print("\nSelf-check " + ("FAILED: a question got no rows" if failed else "passed"))
    return 1 if failed else 0


def run_selfcheck(records: int = 100_000) -> int:
    return asyncio.run(_selfcheck(records))
