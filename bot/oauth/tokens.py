"""Talking to the authorization server's token and revocation endpoints with Authlib on httpx2."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from bot import USER_AGENT
from bot.http import METADATA_TIMEOUT
from bot.logs import remember_secret
from bot.oauth.discovery import ServerMetadata
from bot.oauth.registration import ClientCredentials
from db.models import utcnow


class TokenEndpointError(Exception):
    """The token endpoint refused (an OAuth error code) or answered something that is not a token."""

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description or ""
        super().__init__(f"{error}: {self.description}" if description else error)

    @property
    def is_unknown_resource(self) -> bool:
        return self.error == "invalid_target" or "unknown resource" in self.description.lower()


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: str | None

    def __repr__(self) -> str:
        return f"IssuedTokens(expires_at={self.expires_at!r}, scope={self.scope!r})"


def oauth_client(
    client: ClientCredentials, server: ServerMetadata, redirect_uri: str | None = None
) -> AsyncOAuth2Client:
    """An Authlib client for one operation; the caller closes it (`async with`)."""
    return AsyncOAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        token_endpoint_auth_method=client.auth_method,
        revocation_endpoint_auth_method=client.auth_method,
        redirect_uri=redirect_uri,
        scope=server.scope,
        code_challenge_method="S256",
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        timeout=METADATA_TIMEOUT,
    )


async def exchange_code(
    client: ClientCredentials, server: ServerMetadata, redirect_uri: str, code: str, verifier: str
) -> IssuedTokens:
    async with oauth_client(client, server, redirect_uri) as oc:
        return await _token_call(
            oc.fetch_token(
                server.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
                resource=server.resource,
                **_client_id_in_form(client),
            )
        )


async def refresh(
    client: ClientCredentials, server: ServerMetadata, refresh_token: str, resource: str
) -> IssuedTokens:
    async with oauth_client(client, server) as oc:
        issued = await _token_call(
            oc.refresh_token(
                server.token_endpoint,
                refresh_token=refresh_token,
                resource=resource,
                **_client_id_in_form(client),
            )
        )
    if issued.refresh_token is None:  # the server kept the refresh token (no rotation)
        issued = IssuedTokens(issued.access_token, refresh_token, issued.expires_at, issued.scope)
    return issued


async def revoke(client: ClientCredentials, server: ServerMetadata, token: str, hint: str) -> None:
    """RFC 7009 revocation; raises TokenEndpointError or httpx2.HTTPError when not confirmed."""
    assert server.revocation_endpoint
    async with oauth_client(client, server) as oc:
        response = await oc.revoke_token(
            server.revocation_endpoint, token=token, token_type_hint=hint, **_client_id_in_form(client)
        )
    if response.status_code != 200:
        raise TokenEndpointError(f"HTTP {response.status_code}", _error_text(response))


def _client_id_in_form(client: ClientCredentials) -> dict[str, str]:
    """Basic auth carries the id in a header, but some servers (the mcp SDK's) read it from the form too."""
    return {"client_id": client.client_id} if client.auth_method == "client_secret_basic" else {}


async def _token_call(call: Any) -> IssuedTokens:
    try:
        token = await call
    except OAuthError as error:
        raise TokenEndpointError(error.error or "error", error.description) from None
    except ValueError:
        raise TokenEndpointError("invalid_response", "the token endpoint did not answer with JSON") from None
    return _issued(dict(token))


def _issued(token: dict[str, Any]) -> IssuedTokens:
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise TokenEndpointError("invalid_response", "the token endpoint answered without an access_token")
    token_type = str(token.get("token_type", "bearer")).lower()
    if token_type != "bearer":  # noqa: S105 (a token type name, not a secret)
        raise TokenEndpointError("invalid_response", f"unsupported token type {token_type!r}")
    refresh_token = token.get("refresh_token") or None
    remember_secret(access)
    remember_secret(refresh_token)
    expires_in = token.get("expires_in")
    try:
        expires_at = utcnow() + timedelta(seconds=float(expires_in)) if expires_in is not None else None
    except (TypeError, ValueError):
        expires_at = None
    return IssuedTokens(access, refresh_token, expires_at, token.get("scope"))


def _error_text(response: httpx2.Response) -> str:
    try:
        body = response.json()
        return str(body.get("error_description") or body.get("error") or "")
    except ValueError:
        return response.text[:200]
