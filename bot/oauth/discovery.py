"""OAuth discovery of an MCP server: RFC 9728 protected-resource metadata, then RFC 8414 (or OpenID)
authorization-server metadata, cached in the database per MCP URL.

Built on the mcp SDK's discovery helpers (URL candidates, WWW-Authenticate parsing, issuer comparison).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx2
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    extract_resource_metadata_from_www_auth,
    issuers_match,
)
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from mcp.shared.auth_utils import check_resource_allowed, resource_url_from_server_url
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from bot.errors import ConnectFailed, LogfireUnavailable
from bot.http import METADATA_TIMEOUT
from db.engine import Database
from db.models import DiscoveredServer, utcnow

log = logging.getLogger(__name__)

DISCOVERY_LIFETIME = timedelta(hours=1)
REQUESTED_SCOPE = "project:read"  # read-only, whatever else the server offers
_PROBE = {"jsonrpc": "2.0", "id": 0, "method": "ping"}


@dataclass(frozen=True)
class ServerMetadata:
    """What the bot needs to know about one MCP server's authorization."""

    mcp_url: str
    resource: str
    issuer: str
    protected_resource: dict[str, Any]
    authorization_server: dict[str, Any]
    scope: str = REQUESTED_SCOPE

    @property
    def authorization_endpoint(self) -> str:
        return self.authorization_server["authorization_endpoint"]

    @property
    def token_endpoint(self) -> str:
        return self.authorization_server["token_endpoint"]

    @property
    def registration_endpoint(self) -> str | None:
        return self.authorization_server.get("registration_endpoint")

    @property
    def revocation_endpoint(self) -> str | None:
        return self.authorization_server.get("revocation_endpoint")

    @property
    def iss_parameter_supported(self) -> bool:
        return bool(self.authorization_server.get("authorization_response_iss_parameter_supported"))

    @property
    def client_id_metadata_document_supported(self) -> bool:
        return bool(self.authorization_server.get("client_id_metadata_document_supported"))


@dataclass
class _Attempts:
    """What each candidate URL answered, for an error message that helps an operator."""

    notes: list[str] = field(default_factory=list)

    def add(self, url: str, what: str) -> None:
        self.notes.append(f"{url}: {what}")

    def __str__(self) -> str:
        return "; ".join(self.notes) or "nothing tried"


async def discover(http: httpx2.AsyncClient, database: Database, mcp_url: str) -> ServerMetadata:
    """The server's metadata, from the cache while fresh, else fetched and cached."""
    async with database.sessions() as session:
        cached = await session.get(DiscoveredServer, mcp_url)
    if cached is not None and cached.expires_at > utcnow():
        return _from_row(cached)
    metadata = await fetch_metadata(http, mcp_url)
    await _store(database, metadata)
    return metadata


async def forget(database: Database, mcp_url: str) -> None:
    """Drop the cached metadata (after the server's answers stopped matching it)."""
    async with database.sessions() as session, session.begin():
        cached = await session.get(DiscoveredServer, mcp_url)
        if cached is not None:
            await session.delete(cached)


async def fetch_metadata(http: httpx2.AsyncClient, mcp_url: str) -> ServerMetadata:
    hint_url = await _resource_metadata_hint(http, mcp_url)
    protected = await _protected_resource_metadata(http, hint_url, mcp_url)
    if protected is None:  # pre-RFC 9728 servers: the authorization server lives at the MCP origin
        resource = resource_url_from_server_url(mcp_url)
        expected_issuer = None
        protected_document: dict[str, Any] = {}
    else:
        protected_document, model = protected
        resource = protected_document.get("resource") or resource_url_from_server_url(mcp_url)
        if not check_resource_allowed(resource_url_from_server_url(mcp_url), resource):
            raise ConnectFailed(
                f"The server at {mcp_url} describes itself as another resource ({resource}); "
                "check the MCP URL."
            )
        servers = [str(server) for server in model.authorization_servers]
        expected_issuer = protected_document["authorization_servers"][0] if servers else None
    authorization_server = await _authorization_server_metadata(http, expected_issuer, mcp_url)
    issuer = authorization_server["issuer"]
    if expected_issuer is not None and not issuers_match(issuer, expected_issuer):
        raise ConnectFailed(
            f"Logfire's authorization server says it is {issuer}, but {mcp_url} names {expected_issuer}; "
            "the server is misconfigured, so the bot will not send credentials to it."
        )
    if "S256" not in authorization_server.get("code_challenge_methods_supported", []):
        raise ConnectFailed(
            f"The authorization server {issuer} does not support PKCE with S256, which OAuth 2.1 requires."
        )
    return ServerMetadata(mcp_url, resource, issuer, protected_document, authorization_server)


async def _resource_metadata_hint(http: httpx2.AsyncClient, mcp_url: str) -> str | None:
    """An unauthenticated request: the 401's WWW-Authenticate may point at the resource metadata."""
    try:
        response = await http.post(
            mcp_url,
            json=_PROBE,
            headers={"Accept": "application/json, text/event-stream"},
            timeout=METADATA_TIMEOUT,
        )
    except httpx2.HTTPError as error:
        raise LogfireUnavailable(f"cannot reach {mcp_url}: {type(error).__name__}") from None
    if response.status_code >= 500:
        raise LogfireUnavailable(f"{mcp_url} answered HTTP {response.status_code}")
    if response.status_code not in (401, 403):
        log.info("unauthenticated probe of %s answered HTTP %s", mcp_url, response.status_code)
        return None
    return extract_resource_metadata_from_www_auth(response)


async def _protected_resource_metadata(
    http: httpx2.AsyncClient, hint_url: str | None, mcp_url: str
) -> tuple[dict[str, Any], ProtectedResourceMetadata] | None:
    attempts = _Attempts()
    for url in build_protected_resource_metadata_discovery_urls(hint_url, mcp_url):
        document = await _get_json(http, url, attempts)
        if document is None:
            continue
        try:
            return document, ProtectedResourceMetadata.model_validate(document)
        except ValidationError as error:
            attempts.add(url, f"not protected-resource metadata ({_first_error(error)})")
    log.info("no protected-resource metadata for %s (%s)", mcp_url, attempts)
    return None


async def _authorization_server_metadata(
    http: httpx2.AsyncClient, issuer: str | None, mcp_url: str
) -> dict[str, Any]:
    attempts = _Attempts()
    for url in build_oauth_authorization_server_metadata_discovery_urls(issuer, mcp_url):
        document = await _get_json(http, url, attempts)
        if document is None:
            continue
        try:
            OAuthMetadata.model_validate(document)
        except ValidationError as error:
            attempts.add(url, f"not authorization-server metadata ({_first_error(error)})")
            continue
        return document
    raise ConnectFailed(
        f"No OAuth metadata found for {mcp_url} ({attempts}). Check the MCP URL; the server must publish "
        "RFC 8414 authorization-server metadata."
    )


async def _get_json(http: httpx2.AsyncClient, url: str, attempts: _Attempts) -> dict[str, Any] | None:
    try:
        response = await http.get(url, headers={"Accept": "application/json"}, timeout=METADATA_TIMEOUT)
    except httpx2.HTTPError as error:
        raise LogfireUnavailable(f"cannot reach {url}: {type(error).__name__}") from None
    if response.status_code >= 500:
        raise LogfireUnavailable(f"{url} answered HTTP {response.status_code}")
    if response.status_code != 200:
        attempts.add(url, f"HTTP {response.status_code}")
        return None
    try:
        document = json.loads(response.content)
    except ValueError:
        attempts.add(url, "not JSON")
        return None
    if not isinstance(document, dict):
        attempts.add(url, "not a JSON object")
        return None
    return document


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"{'.'.join(str(part) for part in first['loc']) or 'document'}: {first['msg']}"


def _from_row(row: DiscoveredServer) -> ServerMetadata:
    return ServerMetadata(
        row.mcp_url,
        row.resource,
        row.issuer,
        row.protected_resource_metadata,
        row.authorization_server_metadata,
        row.scope or REQUESTED_SCOPE,
    )


async def _store(database: Database, metadata: ServerMetadata) -> None:
    try:
        await _upsert(database, metadata)
    except IntegrityError:  # another process cached the same server a moment ago
        log.debug("discovery of %s was cached concurrently", metadata.mcp_url)


async def _upsert(database: Database, metadata: ServerMetadata) -> None:
    async with database.sessions() as session, session.begin():
        row = await session.get(DiscoveredServer, metadata.mcp_url)
        row = row or DiscoveredServer(mcp_url=metadata.mcp_url)
        row.resource = metadata.resource
        row.issuer = metadata.issuer
        row.protected_resource_metadata = metadata.protected_resource
        row.authorization_server_metadata = metadata.authorization_server
        row.scope = metadata.scope
        row.fetched_at = utcnow()
        row.expires_at = row.fetched_at + DISCOVERY_LIFETIME
        session.add(row)
