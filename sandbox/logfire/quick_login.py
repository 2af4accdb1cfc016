"""A minimal OAuth client of the sandbox, for benchmarks: discovery, dynamic registration, PKCE and
`resource`, with auto-approve standing in for the consent page."""

from __future__ import annotations

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

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
