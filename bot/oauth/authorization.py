"""Starting an authorization (`/logfire connect`) and finishing it on the callback, on any process.

The pending row keeps only a SHA-256 of the state and the sealed PKCE verifier; the callback takes the
workspace, user and channel from that row, never from the query string, and consumes it exactly once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import httpx2
from mcp.client.auth.utils import issuers_match
from sqlalchemy import delete, update

from bot.errors import ConnectFailed, LogfireBotError, LogfireUnavailable, RegionMismatch
from bot.logs import remember_secret
from bot.oauth.crypto import SecretBox
from bot.oauth.discovery import ServerMetadata, discover
from bot.oauth.endpoints import other_region, region_of
from bot.oauth.registration import ClientCredentials, client_for
from bot.oauth.tokens import IssuedTokens, TokenEndpointError, exchange_code, oauth_client
from db.engine import Database
from db.models import LogfireConnection, OAuthState, utcnow

log = logging.getLogger(__name__)

PENDING_LIFETIME = timedelta(minutes=10)
KEEP_OLD_STATES = timedelta(days=1)


@dataclass(frozen=True)
class Requester:
    """Who asked to connect, and where to tell them how it went."""

    team_id: str
    user_id: str
    channel_id: str | None = None
    enterprise_id: str | None = None


@dataclass(frozen=True)
class Connected:
    requester: Requester
    mcp_url: str
    region: str


class CallbackRefused(LogfireBotError):
    """The callback cannot complete; the message is shown on the page (and in Slack when we know who)."""

    kind = "callback_refused"

    def __init__(self, message: str, requester: Requester | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.requester = requester
        self.status = status


class CallbackFailed(LogfireBotError):
    """A typed error (region mismatch, Logfire down, …) that happened for a known requester."""

    def __init__(self, cause: LogfireBotError, requester: Requester) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.kind = cause.kind
        self.requester = requester


@dataclass
class OAuthFlow:
    database: Database
    box: SecretBox
    http: httpx2.AsyncClient
    redirect_uri: str
    region_urls: dict[str, str]
    preregistered: ClientCredentials | None = None

    async def start_authorization(self, requester: Requester, mcp_url: str) -> str:
        """The URL of Logfire's consent page for this requester (valid for 10 minutes, once)."""
        server = await discover(self.http, self.database, mcp_url)
        client = await self._client(server)
        state = secrets.token_urlsafe(32)  # 256 bits
        verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43-128
        remember_secret(state)
        remember_secret(verifier)
        pending = OAuthState(
            state_hash=hash_state(state),
            team_id=requester.team_id,
            enterprise_id=requester.enterprise_id,
            user_id=requester.user_id,
            channel_id=requester.channel_id,
            mcp_url=mcp_url,
            expires_at=utcnow() + PENDING_LIFETIME,
        )
        self.box.seal(pending, "code_verifier", verifier)
        async with self.database.sessions() as session, session.begin():
            await session.execute(
                delete(OAuthState).where(OAuthState.expires_at < utcnow() - KEEP_OLD_STATES)
            )
            session.add(pending)
        async with oauth_client(client, server, self.redirect_uri) as oc:
            url, _ = oc.create_authorization_url(
                server.authorization_endpoint, state=state, code_verifier=verifier, resource=server.resource
            )
        return url

    async def complete_authorization(self, params: Mapping[str, str]) -> Connected:
        """Validate the callback, exchange the code and store the tokens sealed."""
        pending = await self._consume(params.get("state"))
        requester = Requester(pending.team_id, pending.user_id, pending.channel_id, pending.enterprise_id)
        try:
            return await self._finish(pending, requester, params)
        except (ConnectFailed, LogfireUnavailable, RegionMismatch) as error:
            raise CallbackFailed(error, requester) from None

    async def _finish(
        self, pending: OAuthState, requester: Requester, params: Mapping[str, str]
    ) -> Connected:
        region = region_of(pending.mcp_url, self.region_urls)
        if error := params.get("error"):
            raise self._authorize_error(error, params.get("error_description", ""), region, requester)
        server = await discover(self.http, self.database, pending.mcp_url)
        _check_issuer(params.get("iss"), server, requester)
        code = params.get("code")
        if not code:
            raise CallbackRefused(
                "Logfire sent no authorization code. Run `/logfire connect` in Slack to try again.", requester
            )
        client = await self._client(server)
        verifier = self.box.unseal(pending, "code_verifier")
        assert verifier is not None
        try:
            issued = await exchange_code(client, server, self.redirect_uri, code, verifier)
        except TokenEndpointError as error:
            raise self._exchange_error(error, region, requester) from None
        except httpx2.HTTPError as error:
            raise LogfireUnavailable(f"the token endpoint failed: {type(error).__name__}") from None
        await self._store(requester, server, client, region, issued)
        log.info("team %s connected to Logfire at %s (%s)", requester.team_id, server.mcp_url, region)
        return Connected(requester, server.mcp_url, region)

    async def _consume(self, state: str | None) -> OAuthState:
        """Mark the pending row consumed, atomically, so a state works once on whichever process gets it."""
        if not state:
            raise CallbackRefused(
                "This page was opened without an authorization state. Start again in Slack."
            )
        state_hash = hash_state(state)
        async with self.database.sessions() as session, session.begin():
            claimed = await session.execute(
                update(OAuthState)
                .where(
                    OAuthState.state_hash == state_hash,
                    OAuthState.consumed_at.is_(None),
                    OAuthState.expires_at > utcnow(),
                )
                .values(consumed_at=utcnow())
            )
            pending = await session.get(OAuthState, state_hash)
        if pending is None:
            raise CallbackRefused("This authorization link is not one the bot issued. Start again in Slack.")
        if claimed.rowcount != 1:
            expired = pending.consumed_at is None
            what = "has expired (links last 10 minutes)" if expired else "was already used"
            requester = Requester(pending.team_id, pending.user_id, pending.channel_id, pending.enterprise_id)
            raise CallbackRefused(f"This authorization link {what}. Run `/logfire connect` again.", requester)
        return pending

    def _authorize_error(
        self, error: str, description: str, region: str, requester: Requester
    ) -> LogfireBotError:
        if error == "access_denied":
            return CallbackRefused(
                "You declined access, so nothing was connected. "
                "Run `/logfire connect` if you change your mind.",
                requester,
                status=200,
            )
        if error == "invalid_target" or "unknown resource" in description.lower():
            return CallbackFailed(RegionMismatch(other_region(region, self.region_urls)), requester)
        detail = f"{error}: {description}" if description else error
        return CallbackFailed(ConnectFailed(f"Logfire refused the authorization ({detail})."), requester)

    def _exchange_error(
        self, error: TokenEndpointError, region: str, requester: Requester
    ) -> LogfireBotError:
        if error.is_unknown_resource:
            return CallbackFailed(RegionMismatch(other_region(region, self.region_urls)), requester)
        if error.error == "invalid_grant":
            return CallbackRefused(
                "Logfire did not accept this authorization (it expired or was already used). "
                "Run `/logfire connect` again.",
                requester,
            )
        return CallbackFailed(ConnectFailed(f"Logfire did not issue tokens ({error})."), requester)

    async def _client(self, server: ServerMetadata) -> ClientCredentials:
        return await client_for(
            self.http, self.database, self.box, server, self.redirect_uri, self.preregistered
        )

    async def _store(
        self,
        requester: Requester,
        server: ServerMetadata,
        client: ClientCredentials,
        region: str,
        issued: IssuedTokens,
    ) -> None:
        async with self.database.sessions() as session, session.begin():
            row = await session.get(LogfireConnection, requester.team_id, with_for_update=True)
            if row is None:
                row = LogfireConnection(team_id=requester.team_id, version=0)
                session.add(row)
            row.enterprise_id = requester.enterprise_id
            row.mcp_url = server.mcp_url
            row.region = region
            row.resource = server.resource
            row.issuer = server.issuer
            row.client_id = client.client_id
            row.expires_at = issued.expires_at
            row.scope = issued.scope or server.scope
            row.project = None
            row.connected_by = requester.user_id
            row.connected_at = utcnow()
            row.version = (row.version or 0) + 1
            row.needs_reconnect_reason = None
            row.refresh_claimed_until = None
            self.box.seal(row, "access_token", issued.access_token)
            self.box.seal(row, "refresh_token", issued.refresh_token)


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _check_issuer(iss: str | None, server: ServerMetadata, requester: Requester) -> None:
    """RFC 9207: the response must come from the server we sent the user to (mix-up defence)."""
    if iss is not None and not issuers_match(iss, server.issuer):
        raise CallbackRefused(
            "This answer came from a different authorization server than the one the bot asked. "
            "Nothing was connected; run `/logfire connect` again.",
            requester,
        )
    if iss is None and server.iss_parameter_supported:
        raise CallbackRefused(
            "Logfire's answer is missing its issuer, so it cannot be trusted. Run `/logfire connect` again.",
            requester,
        )
