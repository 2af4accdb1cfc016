"""The token vault: a workspace's Logfire access token, refreshed before expiry and after a 401.

Refresh tokens rotate, and reusing a rotated one revokes the whole family, so exactly one refresh may run per
workspace across every bot process: an asyncio lock serializes callers within a process, and a claim on the
database row (an atomic UPDATE conditioned on the row's version and on no live claim) serializes processes.
Whoever loses waits for the row's version to move and uses the new token.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx2
from sqlalchemy import delete, update

from bot.errors import ConnectFailed, LogfireBotError, LogfireUnavailable, NotConnected, RegionMismatch
from bot.logs import remember_secret
from bot.oauth.crypto import SecretBox, place
from bot.oauth.discovery import ServerMetadata, discover
from bot.oauth.endpoints import other_region
from bot.oauth.registration import ClientCredentials, client_for
from bot.oauth.tokens import IssuedTokens, TokenEndpointError, refresh, revoke
from db.engine import Database
from db.models import LogfireConnection, utcnow

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(seconds=60)  # refresh when less than this is left
CLAIM_LIFETIME = timedelta(seconds=30)  # a crashed refresher blocks others at most this long
CLAIM_POLL_SECONDS = 0.05
_DEAD_GRANT_ERRORS = {"invalid_grant", "invalid_client", "unauthorized_client"}


@dataclass(frozen=True)
class DisconnectResult:
    revoked: bool
    detail: str | None = None  # why revocation was not confirmed


@dataclass
class TokenVault:
    database: Database
    box: SecretBox
    http: httpx2.AsyncClient
    redirect_uri: str
    region_urls: dict[str, str]
    preregistered: ClientCredentials | None = None
    refreshes: int = 0  # refreshes this process performed (for status and benchmarks)
    _locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))

    def auth(self, team_id: str) -> VaultBearer:
        """An httpx2 auth adding this workspace's bearer, with one refresh-and-retry on 401."""
        return VaultBearer(self, team_id)

    async def connection(self, team_id: str) -> LogfireConnection | None:
        async with self.database.sessions() as session:
            return await session.get(LogfireConnection, team_id)

    async def mcp_url(self, team_id: str) -> str:
        """Where this workspace's Logfire lives; NotConnected when it has no usable connection."""
        return (await self._usable_row(team_id)).mcp_url

    async def access_token(self, team_id: str, failed: str | None = None) -> str:
        """A usable access token. `failed` is one the server just refused: refresh unless already replaced."""
        async with self._locks[team_id]:
            deadline = asyncio.get_running_loop().time() + CLAIM_LIFETIME.total_seconds() + 5
            while asyncio.get_running_loop().time() < deadline:
                row = await self._usable_row(team_id)
                token = self.box.unseal(row, "access_token")
                assert token is not None
                remember_secret(token)
                if token != failed and not _expiring(row):
                    return token
                if await self._claim(row):
                    if refreshed := await self._refresh(row):
                        return refreshed
                    continue  # the row changed under us: read it again
                await asyncio.sleep(CLAIM_POLL_SECONDS)  # another process is refreshing
            raise LogfireUnavailable("another bot process is still refreshing this workspace's token")

    async def mark_needs_reconnect(self, team_id: str, reason: str) -> None:
        async with self.database.sessions() as session, session.begin():
            await session.execute(
                update(LogfireConnection)
                .where(LogfireConnection.team_id == team_id)
                .values(needs_reconnect_reason=reason, refresh_claimed_until=None)
            )
        log.warning("team %s must reconnect to Logfire: %s", team_id, reason)

    async def disconnect(self, team_id: str) -> DisconnectResult:
        """Revoke the tokens at Logfire when it offers revocation, then delete them here whatever happened."""
        row = await self.connection(team_id)
        if row is None:
            raise NotConnected()
        result = await self._revoke(row)
        async with self.database.sessions() as session, session.begin():
            await session.execute(delete(LogfireConnection).where(LogfireConnection.team_id == team_id))
        log.info("team %s disconnected from Logfire (revoked: %s)", team_id, result.revoked)
        return result

    async def _usable_row(self, team_id: str) -> LogfireConnection:
        row = await self.connection(team_id)
        if row is None or row.access_token is None:
            raise NotConnected()
        if row.needs_reconnect_reason:
            raise NotConnected(row.needs_reconnect_reason)
        return row

    async def _claim(self, row: LogfireConnection) -> bool:
        now = utcnow()
        async with self.database.sessions() as session, session.begin():
            result = await session.execute(
                update(LogfireConnection)
                .where(
                    LogfireConnection.team_id == row.team_id,
                    LogfireConnection.version == row.version,
                    (LogfireConnection.refresh_claimed_until.is_(None))
                    | (LogfireConnection.refresh_claimed_until < now),
                )
                .values(refresh_claimed_until=now + CLAIM_LIFETIME)
            )
        return result.rowcount == 1

    async def _refresh(self, row: LogfireConnection) -> str | None:
        """The new access token, or None when the row was replaced meanwhile (read it again)."""
        refresh_token = self.box.unseal(row, "refresh_token")
        if refresh_token is None:
            await self.mark_needs_reconnect(row.team_id, "Logfire issued no refresh token")
            raise NotConnected("Logfire issued no refresh token")
        try:
            server = await discover(self.http, self.database, row.mcp_url)
            client = await client_for(
                self.http, self.database, self.box, server, self.redirect_uri, self.preregistered
            )
            issued = await refresh(client, server, refresh_token, row.resource)
        except TokenEndpointError as error:
            return await self._refresh_refused(row, error)
        except (httpx2.HTTPError, LogfireUnavailable, ConnectFailed) as error:
            await self._release_claim(row)
            detail = getattr(error, "detail", None) or type(error).__name__
            raise LogfireUnavailable(f"token refresh failed: {detail}") from None
        self.refreshes += 1
        return await self._save_refreshed(row, issued)

    async def _refresh_refused(self, row: LogfireConnection, error: TokenEndpointError) -> None:
        if error.is_unknown_resource:
            await self.mark_needs_reconnect(
                row.team_id, "Logfire does not know this resource (region mismatch)"
            )
            raise RegionMismatch(other_region(row.region, self.region_urls))
        if error.error not in _DEAD_GRANT_ERRORS:
            await self._release_claim(row)
            raise LogfireUnavailable(f"token refresh refused: {error}")
        current = await self.connection(row.team_id)
        if current is not None and current.version != row.version:  # replaced meanwhile (a reconnect)
            return None
        reason = "Logfire revoked this connection's access" if error.error == "invalid_grant" else str(error)
        await self.mark_needs_reconnect(row.team_id, reason)
        raise NotConnected(reason)

    async def _save_refreshed(self, row: LogfireConnection, issued: IssuedTokens) -> str | None:
        values = {
            "access_token": self._sealed(row, "access_token", issued.access_token),
            "refresh_token": self._sealed(row, "refresh_token", issued.refresh_token),
            "expires_at": issued.expires_at,
            "version": row.version + 1,
            "refresh_claimed_until": None,
            "updated_at": utcnow(),
        }
        if issued.scope:
            values["scope"] = issued.scope
        async with self.database.sessions() as session, session.begin():
            result = await session.execute(
                update(LogfireConnection)
                .where(LogfireConnection.team_id == row.team_id, LogfireConnection.version == row.version)
                .values(**values)
            )
        if result.rowcount != 1:  # the workspace reconnected while we refreshed: theirs wins
            return None
        log.info("refreshed the Logfire token of team %s", row.team_id)
        return issued.access_token

    def _sealed(self, row: LogfireConnection, column: str, value: str | None) -> str | None:
        if value is None:
            return None
        return self.box.encrypt(value, place(LogfireConnection.__tablename__, column, row.secret_row_key()))

    async def _release_claim(self, row: LogfireConnection) -> None:
        async with self.database.sessions() as session, session.begin():
            await session.execute(
                update(LogfireConnection)
                .where(LogfireConnection.team_id == row.team_id, LogfireConnection.version == row.version)
                .values(refresh_claimed_until=None)
            )

    async def _revoke(self, row: LogfireConnection) -> DisconnectResult:
        try:
            server = await discover(self.http, self.database, row.mcp_url)
        except (LogfireUnavailable, ConnectFailed) as error:
            return DisconnectResult(False, str(error))
        if not server.revocation_endpoint:
            return DisconnectResult(False, "Logfire offers no revocation endpoint")
        try:
            client = await client_for(
                self.http, self.database, self.box, server, self.redirect_uri, self.preregistered
            )
            return await _revoke_both(client, server, self.box, row)
        except (TokenEndpointError, httpx2.HTTPError, ConnectFailed, LogfireUnavailable) as error:
            return DisconnectResult(False, f"revocation failed ({error or type(error).__name__})")


async def _revoke_both(
    client: ClientCredentials, server: ServerMetadata, box: SecretBox, row: LogfireConnection
) -> DisconnectResult:
    for column, hint in (("refresh_token", "refresh_token"), ("access_token", "access_token")):
        token = box.unseal(row, column)
        if token:
            await revoke(client, server, token, hint)
    return DisconnectResult(True)


def _expiring(row: LogfireConnection) -> bool:
    return row.expires_at is not None and row.expires_at - utcnow() < REFRESH_MARGIN


class VaultBearer(httpx2.Auth):
    """Adds the workspace's bearer token; on a 401, refreshes once and retries.

    It never raises into the HTTP client (the MCP transport would tear the whole session down): when no token
    can be had, the request goes out without one, the server answers 401, and `last_error` says why.
    """

    def __init__(self, vault: TokenVault, team_id: str) -> None:
        self.vault = vault
        self.team_id = team_id
        self.last_error: LogfireBotError | None = None

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        token = await self._token()
        if token is None:
            yield request
            return
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and (token := await self._token(failed=token)) is not None:
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    async def _token(self, failed: str | None = None) -> str | None:
        try:
            token = await self.vault.access_token(self.team_id, failed=failed)
        except LogfireBotError as error:
            self.last_error = error
            return None
        self.last_error = None
        return token
