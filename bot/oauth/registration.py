"""Our OAuth client at Logfire's authorization server: registered once per (issuer, redirect URI) with
RFC 7591 dynamic client registration and shared by every workspace, or pre-registered by the operator."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx2
from mcp.client.auth import OAuthRegistrationError
from mcp.client.auth.oauth2 import check_registration_usable
from mcp.client.auth.utils import create_client_registration_request, handle_registration_response
from mcp.shared.auth import OAuthClientMetadata, OAuthMetadata
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot import USER_AGENT, __version__
from bot.errors import ConnectFailed, LogfireUnavailable
from bot.oauth.crypto import SecretBox
from bot.oauth.discovery import ServerMetadata
from db.engine import Database
from db.models import OAuthClient, utcnow

log = logging.getLogger(__name__)

CLIENT_NAME = "Logfire for Slack"
SECRET_EXPIRY_MARGIN = timedelta(minutes=5)
_PREFERRED_AUTH_METHODS = ("client_secret_post", "client_secret_basic", "none")


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str | None
    auth_method: str  # how the token endpoint authenticates us

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, auth_method={self.auth_method!r})"


async def client_for(
    http: httpx2.AsyncClient,
    database: Database,
    box: SecretBox,
    server: ServerMetadata,
    redirect_uri: str,
    preregistered: ClientCredentials | None = None,
) -> ClientCredentials:
    """The operator's pre-registered client, else our stored registration, else a new registration."""
    if preregistered is not None:
        return preregistered
    stored = await _stored_client(database, box, server.issuer, redirect_uri)
    if stored is not None:
        return stored
    if not server.registration_endpoint:
        raise ConnectFailed(_no_registration_message(server))
    return await _register(http, database, box, server, redirect_uri)


async def _stored_client(
    database: Database, box: SecretBox, issuer: str, redirect_uri: str
) -> ClientCredentials | None:
    async with database.sessions() as session:
        row = await session.scalar(
            select(OAuthClient).where(OAuthClient.issuer == issuer, OAuthClient.redirect_uri == redirect_uri)
        )
        if row is None:
            return None
        if row.client_secret_expires_at and row.client_secret_expires_at < utcnow() + SECRET_EXPIRY_MARGIN:
            log.info("client secret at %s expired; registering again", issuer)
            await session.delete(row)
            await session.commit()
            return None
        method = row.registration.get("token_endpoint_auth_method") or "client_secret_basic"
        return ClientCredentials(row.client_id, box.unseal(row, "client_secret"), method)


async def _register(
    http: httpx2.AsyncClient, database: Database, box: SecretBox, server: ServerMetadata, redirect_uri: str
) -> ClientCredentials:
    request = create_client_registration_request(
        OAuthMetadata.model_validate(server.authorization_server),
        OAuthClientMetadata(
            redirect_uris=[redirect_uri],
            client_name=CLIENT_NAME,
            software_version=__version__,
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method=_auth_method(server),
            scope=server.scope,
            application_type="web",
        ),
        server.issuer,
    )
    request.headers["User-Agent"] = USER_AGENT  # a prebuilt request does not get the client's headers
    try:
        response = await http.send(request)
        registered = await handle_registration_response(response)
        check_registration_usable(registered)
    except httpx2.HTTPError as error:
        raise LogfireUnavailable(f"registration at {server.issuer} failed: {type(error).__name__}") from None
    except OAuthRegistrationError as error:
        raise ConnectFailed(f"Logfire refused to register this bot: {error}") from None
    log.info("registered client %s at %s", registered.client_id, server.issuer)
    row = OAuthClient(
        issuer=server.issuer,
        redirect_uri=redirect_uri,
        client_id=registered.client_id,
        client_secret_expires_at=_expiry(registered.client_secret_expires_at),
        registration=registered.model_dump(mode="json", exclude={"client_secret"}, exclude_none=True),
    )
    box.seal(row, "client_secret", registered.client_secret)
    try:
        async with database.sessions() as session, session.begin():
            session.add(row)
    except IntegrityError:  # another process registered at the same moment: use theirs
        stored = await _stored_client(database, box, server.issuer, redirect_uri)
        if stored is not None:
            return stored
        raise
    method = registered.token_endpoint_auth_method or "client_secret_basic"
    return ClientCredentials(registered.client_id, registered.client_secret, method)


def _auth_method(server: ServerMetadata) -> str:
    supported = server.authorization_server.get("token_endpoint_auth_methods_supported") or [
        "client_secret_basic"
    ]
    return next((method for method in _PREFERRED_AUTH_METHODS if method in supported), "client_secret_post")


def _expiry(seconds_since_epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds_since_epoch, UTC) if seconds_since_epoch else None


def _no_registration_message(server: ServerMetadata) -> str:
    if server.client_id_metadata_document_supported:
        how = "it expects clients identified by a client ID metadata document"
    else:
        how = "it offers no dynamic client registration"
    return (
        f"The Logfire authorization server {server.issuer} cannot register this bot ({how}). "
        "The bot's operator must register a client with Logfire (redirect URI "
        "$PUBLIC_URL/oauth/logfire/callback) and set LOGFIRE_OAUTH_CLIENT_ID and LOGFIRE_OAUTH_CLIENT_SECRET."
    )
