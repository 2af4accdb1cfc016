"""The sandbox's OAuth 2.1 authorization server, driven with authlib on httpx2 and an httpx2 browser."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import httpx2
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from sandbox.logfire.server import SandboxLogfire
from tests.sandbox.clients import (
    REDIRECT_URI,
    authorize,
    login,
    mcp_session,
    oauth_client,
    oauth_client_for,
    register,
)


async def _token_project(sandbox: SandboxLogfire, access_token: str) -> str:
    async with mcp_session(sandbox.mcp_url, access_token) as client:
        result = await client.call_tool("token_info", {})
    assert not result.is_error, result.content
    return result.structured_content["project_name"]


async def _mcp_status(sandbox: SandboxLogfire, access_token: str) -> int:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient() as http:
        response = await http.post(sandbox.mcp_url, json=initialize, headers=headers)
    return response.status_code


async def _raw_authorize(sandbox: SandboxLogfire, client_id: str, **params: str) -> dict[str, str]:
    """GET /authorize with exactly these parameters; the query of the redirect back to the client."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "s1",
        **params,
    }
    async with httpx2.AsyncClient() as browser:
        response = await browser.get(f"{sandbox.issuer}/authorize?{urlencode(query)}")
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI), location
    return {key: values[0] for key, values in parse_qs(urlparse(location).query).items()}


async def test_discovery_documents_are_strict(sandbox: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        unauthenticated = await http.post(sandbox.mcp_url, json={})
        prm_url = f"{sandbox.base_url}/.well-known/oauth-protected-resource/mcp"
        prm = (await http.get(prm_url)).json()
        metadata = (await http.get(f"{sandbox.issuer}/.well-known/oauth-authorization-server")).json()

    assert unauthenticated.status_code == 401
    assert f'resource_metadata="{prm_url}"' in unauthenticated.headers["www-authenticate"]
    assert prm["resource"] == sandbox.mcp_url
    assert prm["authorization_servers"] == [sandbox.issuer]
    assert prm["scopes_supported"] == ["project:read"]
    assert metadata["issuer"] == sandbox.issuer == sandbox.base_url
    assert not metadata["issuer"].endswith("/")
    assert metadata["authorization_endpoint"] == f"{sandbox.issuer}/authorize"
    assert metadata["token_endpoint"] == f"{sandbox.issuer}/token"
    assert metadata["registration_endpoint"] == f"{sandbox.issuer}/register"
    assert metadata["revocation_endpoint"] == f"{sandbox.issuer}/revoke"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert set(metadata["grant_types_supported"]) == {"authorization_code", "refresh_token"}


async def test_malformed_registration_gets_rfc7591_error(sandbox: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        no_redirects = await http.post(f"{sandbox.issuer}/register", json={"client_name": "x"})
        bad_scope = await http.post(
            f"{sandbox.issuer}/register", json={"redirect_uris": [REDIRECT_URI], "scope": "project:write"}
        )
        not_json = await http.post(f"{sandbox.issuer}/register", content=b"{", headers={"content-type": "x"})
    for response in (no_redirects, bad_scope, not_json):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_client_metadata"


async def test_approve_issues_tokens_bound_to_the_chosen_project(sandbox: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        client = await register(http, sandbox.issuer)
    async with oauth_client(client) as oauth:
        granted = await authorize(sandbox, oauth, project="staging")
        token = await oauth.fetch_token(
            f"{sandbox.issuer}/token",
            code=granted.code,
            code_verifier=granted.verifier,
            resource=sandbox.mcp_url,
        )

    assert granted.params["state"] == granted.state
    assert granted.params["iss"] == sandbox.issuer
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "project:read"
    assert token["refresh_token"] != token["access_token"]
    assert await _token_project(sandbox, token["access_token"]) == "staging"


async def test_consent_page_offers_the_users_projects(sandbox: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        client = await register(http, sandbox.issuer, client_name="Consent <check>")
    async with oauth_client(client) as oauth:
        url, _ = oauth.create_authorization_url(
            f"{sandbox.issuer}/authorize", code_verifier=generate_token(64), resource=sandbox.mcp_url
        )
    async with httpx2.AsyncClient(follow_redirects=True) as browser:
        page = await browser.get(url)
    assert page.status_code == 200
    assert "Consent &lt;check&gt;" in page.text
    assert "Logfire US" in page.text
    assert 'value="production"' in page.text and 'value="staging"' in page.text
    assert 'value="approve"' in page.text and 'value="deny"' in page.text


async def test_deny_redirects_with_access_denied(sandbox: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        client = await register(http, sandbox.issuer)
    async with oauth_client(client) as oauth:
        denied = await authorize(sandbox, oauth, approve=False)
    assert denied.params["error"] == "access_denied"
    assert denied.params["state"] == denied.state
    assert denied.params["iss"] == sandbox.issuer
    assert "code" not in denied.params


async def test_authorize_requires_pkce_and_a_known_resource(sandbox: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        client = await register(http, sandbox.issuer)
    challenge = create_s256_code_challenge(generate_token(64))
    no_pkce = await _raw_authorize(sandbox, client.client_id, resource=sandbox.mcp_url)
    plain = await _raw_authorize(
        sandbox,
        client.client_id,
        resource=sandbox.mcp_url,
        code_challenge="x" * 43,
        code_challenge_method="plain",
    )
    no_resource = await _raw_authorize(sandbox, client.client_id, code_challenge=challenge)
    other = "https://logfire-eu.pydantic.dev/mcp"
    foreign = await _raw_authorize(sandbox, client.client_id, code_challenge=challenge, resource=other)

    for refused in (no_pkce, plain, no_resource):
        assert refused["error"] == "invalid_request"
    assert foreign["error"] == "invalid_target"
    assert foreign["error_description"] == f"Unknown resource: {other}"
    for refused in (no_pkce, plain, no_resource, foreign):
        assert refused["state"] == "s1"
        assert refused["iss"] == sandbox.issuer


async def test_code_exchange_refusals(sandbox: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        client = await register(http, sandbox.issuer)
    token_url = f"{sandbox.issuer}/token"
    async with oauth_client(client) as oauth:
        granted = await authorize(sandbox, oauth)
        attempts = {
            "wrong verifier": {"code_verifier": generate_token(64), "resource": sandbox.mcp_url},
            "no resource": {"code_verifier": granted.verifier},
            "wrong resource": {"code_verifier": granted.verifier, "resource": f"{sandbox.base_url}/other"},
        }
        errors = {}
        for name, params in attempts.items():
            with pytest.raises(OAuthError) as refused:
                await oauth.fetch_token(token_url, code=granted.code, **params)
            errors[name] = refused.value.error
        with pytest.raises(OAuthError) as no_verifier:
            await oauth.fetch_token(token_url, code=granted.code, resource=sandbox.mcp_url)
        token = await oauth.fetch_token(
            token_url, code=granted.code, code_verifier=granted.verifier, resource=sandbox.mcp_url
        )
        with pytest.raises(OAuthError) as reused:
            await oauth.fetch_token(
                token_url, code=granted.code, code_verifier=granted.verifier, resource=sandbox.mcp_url
            )

    assert errors == {
        "wrong verifier": "invalid_grant",
        "no resource": "invalid_request",
        "wrong resource": "invalid_target",
    }
    assert no_verifier.value.error == "invalid_request"
    assert reused.value.error == "invalid_grant"
    assert await _mcp_status(sandbox, token["access_token"]) == 401  # a replayed code revokes what it granted


async def test_expired_code_is_refused(sandbox: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        client = await register(http, sandbox.issuer)
    async with oauth_client(client) as oauth:
        granted = await authorize(sandbox, oauth)
        assert sandbox.controls.expire_authorization_codes() >= 1
        with pytest.raises(OAuthError) as expired:
            await oauth.fetch_token(
                f"{sandbox.issuer}/token",
                code=granted.code,
                code_verifier=granted.verifier,
                resource=sandbox.mcp_url,
            )
    assert expired.value.error == "invalid_grant"


async def test_refresh_rotates_and_reuse_revokes_the_family(sandbox: SandboxLogfire) -> None:
    first = await login(sandbox)
    token_url = f"{sandbox.issuer}/token"
    async with oauth_client_for(first) as oauth:
        with pytest.raises(OAuthError) as no_resource:
            await oauth.refresh_token(token_url, refresh_token=first["refresh_token"])
        with pytest.raises(OAuthError) as wrong_resource:
            await oauth.refresh_token(
                token_url, refresh_token=first["refresh_token"], resource=f"{sandbox.mcp_url}/x"
            )
        refreshes_before = sandbox.controls.token_refreshes
        second = await oauth.refresh_token(
            token_url, refresh_token=first["refresh_token"], resource=sandbox.mcp_url
        )
        assert sandbox.controls.token_refreshes == refreshes_before + 1
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert await _mcp_status(sandbox, second["access_token"]) == 200

        with pytest.raises(OAuthError) as reused:
            await oauth.refresh_token(
                token_url, refresh_token=first["refresh_token"], resource=sandbox.mcp_url
            )
        with pytest.raises(OAuthError) as family_gone:
            await oauth.refresh_token(
                token_url, refresh_token=second["refresh_token"], resource=sandbox.mcp_url
            )

    assert no_resource.value.error == "invalid_request"
    assert wrong_resource.value.error == "invalid_target"
    assert reused.value.error == "invalid_grant"
    assert family_gone.value.error == "invalid_grant"
    assert await _mcp_status(sandbox, second["access_token"]) == 401


async def test_revocation_ends_access_and_refresh(sandbox: SandboxLogfire) -> None:
    token = await login(sandbox)
    assert await _mcp_status(sandbox, token["access_token"]) == 200
    async with oauth_client_for(token) as oauth:
        response = await oauth.revoke_token(
            f"{sandbox.issuer}/revoke", token=token["refresh_token"], token_type_hint="refresh_token"
        )
        assert response.status_code == 200
        with pytest.raises(OAuthError) as refused:
            await oauth.refresh_token(
                f"{sandbox.issuer}/token", refresh_token=token["refresh_token"], resource=sandbox.mcp_url
            )
    assert refused.value.error == "invalid_grant"
    assert await _mcp_status(sandbox, token["access_token"]) == 401


async def test_bad_tokens_get_401_with_www_authenticate(sandbox: SandboxLogfire) -> None:
    token = await login(sandbox)
    sandbox.controls.expire_access_tokens(token["access_token"])
    async with httpx2.AsyncClient() as http:
        for bearer in ("not-a-token", token["access_token"]):
            response = await http.post(
                sandbox.mcp_url, json={}, headers={"Authorization": f"Bearer {bearer}"}
            )
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
            assert "resource_metadata=" in response.headers["www-authenticate"]
