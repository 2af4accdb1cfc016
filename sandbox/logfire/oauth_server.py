"""The sandbox's OAuth 2.1 authorization server, built on the mcp SDK's routes.

The SDK's `create_auth_routes` serves RFC 8414 metadata, /authorize (PKCE S256), /token, RFC 7591 /register
and RFC 7009 /revoke over the provider below. On top of it this module adds what Logfire's server does and the
SDK leaves to the provider: a consent page with a project choice, the RFC 8707 `resource` required and checked
on authorize, token and refresh, refresh-token rotation with reuse detection, and `iss` on every authorization
response (RFC 9207).
"""

from __future__ import annotations

import html
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.handlers.token import TokenErrorResponse, TokenHandler
from mcp.server.auth.middleware.client_auth import ClientAuthenticator
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.routes import build_metadata, cors_middleware, create_auth_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, RequestBodyLimitMiddleware
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.logfire.projects import Directory, Project

SCOPE = "project:read"
CODE_TTL_SECONDS = 300
CONSENT_TTL_SECONDS = 600
REFRESH_TTL_SECONDS = 30 * 24 * 3600

_URL = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))


class SandboxCode(AuthorizationCode):
    project_id: str
    family_id: str


class SandboxAccessToken(AccessToken):
    project_id: str
    family_id: str


class SandboxRefreshToken(RefreshToken):
    project_id: str
    family_id: str


@dataclass
class _PendingConsent:
    client: OAuthClientInformationFull
    params: AuthorizationParams
    expires_at: float


@dataclass
class _Store:
    clients: dict[str, OAuthClientInformationFull] = field(default_factory=dict)
    consents: dict[str, _PendingConsent] = field(default_factory=dict)
    codes: dict[str, SandboxCode] = field(default_factory=dict)
    used_codes: dict[str, str] = field(default_factory=dict)  # code -> family
    access: dict[str, SandboxAccessToken] = field(default_factory=dict)
    refresh: dict[str, SandboxRefreshToken] = field(default_factory=dict)
    rotated: dict[str, str] = field(default_factory=dict)  # rotated refresh token -> family
    revoked_families: set[str] = field(default_factory=set)


class SandboxOAuthProvider:
    """The sandbox's `OAuthAuthorizationServerProvider`: in memory, thread-safe (the controls call it too)."""

    def __init__(
        self,
        *,
        issuer: str,
        resource: str,
        directory: Directory,
        region_label: str,
        auto_approve: bool = False,
        access_token_ttl: int = 3600,
    ) -> None:
        self.issuer = issuer
        self.resource = resource
        self.directory = directory
        self.region_label = region_label
        self.auto_approve = auto_approve
        self.access_token_ttl = access_token_ttl
        self.consent_url = f"{issuer}/consent"
        self.refresh_count = 0
        self._store = _Store()
        self._lock = threading.Lock()

    # --- clients -------------------------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        with self._lock:
            return self._store.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        with self._lock:
            self._store.clients[client_info.client_id] = client_info

    # --- authorization -------------------------------------------------------------------------------------

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        self.check_resource(params.resource, AuthorizeError)
        if self.auto_approve:
            return self._approve(client, params, self.directory.default_project)
        consent_id = secrets.token_urlsafe(24)
        with self._lock:
            self._store.consents[consent_id] = _PendingConsent(
                client, params, time.time() + CONSENT_TTL_SECONDS
            )
        return f"{self.consent_url}?{urlencode({'request': consent_id})}"

    def check_resource(self, resource: str | None, error: type[AuthorizeError] | type[TokenError]) -> None:
        """RFC 8707: the resource is required and must be this region's MCP URL (as Logfire answers)."""
        if not resource:
            raise error("invalid_request", "The resource parameter is required")
        if resource != self.resource:
            raise error("invalid_target", f"Unknown resource: {resource}")

    def pending_consent(self, consent_id: str) -> _PendingConsent | None:
        with self._lock:
            pending = self._store.consents.get(consent_id)
        return pending if pending and pending.expires_at > time.time() else None

    def decide(self, consent_id: str, *, approve: bool, project_name: str | None) -> str | None:
        """Finish a consent (single use); the redirect for the client, or None if unknown or expired."""
        with self._lock:
            pending = self._store.consents.pop(consent_id, None)
        if pending is None or pending.expires_at < time.time():
            return None
        redirect_uri = str(pending.params.redirect_uri)
        if not approve:
            return construct_redirect_uri(
                redirect_uri,
                error="access_denied",
                error_description="The user denied the request",
                state=pending.params.state,
                iss=self.issuer,
            )
        project = (
            self.directory.project(project_name or "") if project_name else self.directory.default_project
        )
        if project is None or project not in self.directory.user.projects:
            return None
        return self._approve(pending.client, pending.params, project)

    def _approve(
        self, client: OAuthClientInformationFull, params: AuthorizationParams, project: Project
    ) -> str:
        code = SandboxCode(
            code=secrets.token_urlsafe(32),
            scopes=params.scopes or [SCOPE],
            expires_at=time.time() + CODE_TTL_SECONDS,
            client_id=client.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
            subject=self.directory.user.id,
            project_id=project.id,
            family_id=str(uuid.uuid4()),
        )
        with self._lock:
            self._store.codes[code.code] = code
        return construct_redirect_uri(
            str(params.redirect_uri), code=code.code, state=params.state, iss=self.issuer
        )

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> SandboxCode | None:
        with self._lock:
            family = self._store.used_codes.get(authorization_code)
            if family is not None:  # RFC 6749 §4.1.2: a replayed code revokes what it granted
                self._revoke_family(family)
                return None
            return self._store.codes.get(authorization_code)

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: SandboxCode
    ) -> OAuthToken:
        with self._lock:
            if self._store.codes.pop(authorization_code.code, None) is None:
                raise TokenError("invalid_grant", "authorization code does not exist")
            self._store.used_codes[authorization_code.code] = authorization_code.family_id
            return self._issue(authorization_code, authorization_code.scopes)

    # --- tokens --------------------------------------------------------------------------------------------

    def _issue(self, grant: SandboxCode | SandboxRefreshToken, scopes: list[str]) -> OAuthToken:
        now = int(time.time())
        common: dict[str, Any] = {
            "client_id": grant.client_id,
            "scopes": scopes,
            "resource": grant.resource,
            "subject": grant.subject,
            "project_id": grant.project_id,
            "family_id": grant.family_id,
        }
        access = SandboxAccessToken(
            token=secrets.token_urlsafe(32),
            expires_at=now + self.access_token_ttl,
            claims={"iss": self.issuer},
            **common,
        )
        refresh = SandboxRefreshToken(
            token=secrets.token_urlsafe(48), expires_at=now + REFRESH_TTL_SECONDS, **common
        )
        self._store.access[access.token] = access
        self._store.refresh[refresh.token] = refresh
        return OAuthToken(
            access_token=access.token,
            expires_in=self.access_token_ttl,
            scope=" ".join(scopes),
            refresh_token=refresh.token,
        )

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> SandboxRefreshToken | None:
        with self._lock:
            family = self._store.rotated.get(refresh_token)
            if family is not None:  # reuse of a rotated refresh token: revoke the whole family
                self._revoke_family(family)
                return None
            return self._store.refresh.get(refresh_token)

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: SandboxRefreshToken, scopes: list[str]
    ) -> OAuthToken:
        with self._lock:
            if self._store.refresh.pop(refresh_token.token, None) is None:
                raise TokenError("invalid_grant", "refresh token does not exist")
            self._store.rotated[refresh_token.token] = refresh_token.family_id
            self.refresh_count += 1
            return self._issue(refresh_token, scopes)

    async def load_access_token(self, token: str) -> SandboxAccessToken | None:
        with self._lock:
            access = self._store.access.get(token)
        if access is None or (access.expires_at is not None and access.expires_at <= time.time()):
            return None
        return access

    async def revoke_token(self, token: SandboxAccessToken | SandboxRefreshToken) -> None:
        with self._lock:
            self._revoke_family(token.family_id)

    # --- test hooks (called by the controls) ---------------------------------------------------------------

    def revoke(self, token: str) -> bool:
        """Revoke the family of an access or refresh token; False if the token is unknown."""
        with self._lock:
            grant = self._store.access.get(token) or self._store.refresh.get(token)
            if grant is None:
                return False
            self._revoke_family(grant.family_id)
            return True

    def expire_access_tokens(self, token: str | None = None) -> int:
        """Make one access token (or all) expired now; the number expired."""
        past = int(time.time()) - 1
        with self._lock:
            targets = [t for t in self._store.access.values() if token is None or t.token == token]
            for access in targets:
                self._store.access[access.token] = access.model_copy(update={"expires_at": past})
            return len(targets)

    def restrict_scopes(self, token: str, scopes: list[str]) -> bool:
        """Narrow what an access token grants (as if the user had granted less); False if unknown."""
        with self._lock:
            access = self._store.access.get(token)
            if access is None:
                return False
            self._store.access[token] = access.model_copy(update={"scopes": scopes})
            return True

    def expire_authorization_codes(self) -> int:
        with self._lock:
            for code in list(self._store.codes.values()):
                self._store.codes[code.code] = code.model_copy(update={"expires_at": time.time() - 1})
            return len(self._store.codes)

    def access_token_info(self, token: str) -> SandboxAccessToken | None:
        with self._lock:
            return self._store.access.get(token)

    def _revoke_family(self, family_id: str) -> None:
        self._store.revoked_families.add(family_id)
        for table in (self._store.access, self._store.refresh):
            for key in [key for key, grant in table.items() if grant.family_id == family_id]:
                del table[key]


@dataclass
class _IssuerStampedAuthorization(AuthorizationHandler):
    """Adds `iss` (RFC 9207) to the SDK's error redirects, as the success and deny redirects carry it."""

    issuer: str = ""
    consent_url: str = ""

    async def handle(self, request: Request) -> Response:
        response = await super().handle(request)
        location = response.headers.get("location")
        if (
            location
            and not location.startswith(self.consent_url)
            and "iss" not in parse_qs(urlparse(location).query)
        ):
            response.headers["location"] = construct_redirect_uri(location, iss=self.issuer)
        return response


@dataclass
class _ResourceBoundTokens(TokenHandler):
    """Requires the RFC 8707 `resource` on code exchange and refresh, as Logfire does."""

    oauth: SandboxOAuthProvider | None = None

    async def handle(self, request: Request) -> Response:
        assert self.oauth is not None
        form = await request.form()
        if form.get("grant_type") in ("authorization_code", "refresh_token"):
            resource = form.get("resource")
            try:
                self.oauth.check_resource(resource if isinstance(resource, str) else None, TokenError)
            except TokenError as error:
                return self.response(
                    TokenErrorResponse(error=error.error, error_description=error.error_description)
                )
        return await super().handle(request)


def auth_routes(provider: SandboxOAuthProvider) -> list[Route]:
    """The SDK's authorization-server routes with the sandbox's three refinements, plus the consent page."""
    issuer = _URL.validate_python(provider.issuer)
    registration = ClientRegistrationOptions(enabled=True, valid_scopes=[SCOPE], default_scopes=[SCOPE])
    revocation = RevocationOptions(enabled=True)
    metadata = build_metadata(issuer, None, registration, revocation)
    metadata.authorization_response_iss_parameter_supported = True
    replacements = {
        "/.well-known/oauth-authorization-server": Route(
            "/.well-known/oauth-authorization-server",
            endpoint=cors_middleware(MetadataHandler(metadata).handle, ["GET", "OPTIONS"]),
            methods=["GET", "OPTIONS"],
        ),
        "/authorize": Route(
            "/authorize",
            endpoint=_IssuerStampedAuthorization(provider, provider.issuer, provider.consent_url).handle,
            methods=["GET", "POST"],
        ),
        "/token": Route(
            "/token",
            endpoint=RequestBodyLimitMiddleware(
                cors_middleware(
                    _ResourceBoundTokens(provider, ClientAuthenticator(provider), oauth=provider).handle,
                    ["POST", "OPTIONS"],
                ),
                DEFAULT_MAX_REQUEST_BODY_SIZE,
            ),
            methods=["POST", "OPTIONS"],
        ),
    }
    routes = create_auth_routes(provider, issuer, None, registration, revocation)
    routes = [replacements.get(route.path, route) for route in routes]
    return [*routes, *consent_routes(provider)]


def consent_routes(provider: SandboxOAuthProvider) -> list[Route]:
    async def show(request: Request) -> Response:
        consent_id = request.query_params.get("request", "")
        pending = provider.pending_consent(consent_id)
        if pending is None:
            return HTMLResponse(
                _page("Authorization request expired", "<p>Start again from the app.</p>"), 400
            )
        return HTMLResponse(_consent_page(provider, consent_id, pending))

    async def decide(request: Request) -> Response:
        form = await request.form()
        project = form.get("project")
        redirect = provider.decide(
            str(form.get("request", "")),
            approve=form.get("action") == "approve",
            project_name=project if isinstance(project, str) else None,
        )
        if redirect is None:
            return HTMLResponse(
                _page("Authorization request expired", "<p>Start again from the app.</p>"), 400
            )
        return RedirectResponse(redirect, status_code=302, headers={"Cache-Control": "no-store"})

    return [Route("/consent", show, methods=["GET"]), Route("/consent", decide, methods=["POST"])]


def _consent_page(provider: SandboxOAuthProvider, consent_id: str, pending: _PendingConsent) -> str:
    user = provider.directory.user
    client_name = pending.client.client_name or pending.client.client_id
    options = "".join(_project_option(project, checked=i == 0) for i, project in enumerate(user.projects))
    scopes = html.escape(", ".join(pending.params.scopes or [SCOPE]))
    organization = html.escape(provider.directory.organization.name)
    body = f"""
<p>Signed in to <strong>{html.escape(provider.region_label)}</strong> as {html.escape(user.email)}.</p>
<p><strong>{html.escape(client_name)}</strong> asks for <code>{scopes}</code> access to one project
of <strong>{organization}</strong>.</p>
<form method="post" action="/consent">
  <input type="hidden" name="request" value="{html.escape(consent_id)}">
  <fieldset><legend>Project</legend>{options}</fieldset>
  <button type="submit" name="action" value="approve">Approve</button>
  <button type="submit" name="action" value="deny">Deny</button>
</form>"""
    return _page(f"Authorize {client_name}", body)


def _project_option(project: Project, *, checked: bool) -> str:
    mark = " checked" if checked else ""
    value, label = html.escape(project.name), html.escape(project.slug)
    return f'<label><input type="radio" name="project" value="{value}"{mark}> {label}</label><br>'


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
