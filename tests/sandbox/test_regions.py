"""Regions: tokens and resources of one region are refused by the other (Logfire US and EU are separate)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx2
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError

from sandbox.logfire.server import SandboxLogfire
from tests.sandbox.clients import authorize, login, mcp_session, oauth_client, register


@pytest.fixture(scope="module")
def eu() -> Iterator[SandboxLogfire]:
    with SandboxLogfire(
        region="eu", records=2_000, seed=11, auto_approve=True, access_token_ttl=120
    ) as running:
        yield running


@pytest.fixture(scope="module")
def misrouted(sandbox: SandboxLogfire) -> Iterator[SandboxLogfire]:
    """An EU sandbox whose protected-resource metadata names the US authorization server."""
    with SandboxLogfire(
        region="eu", records=1_000, seed=12, authorization_server_url=sandbox.issuer
    ) as running:
        yield running


async def test_regions_have_their_own_names(sandbox: SandboxLogfire, eu: SandboxLogfire) -> None:
    assert (sandbox.region, eu.region) == ("us", "eu")
    assert eu.issuer != sandbox.issuer and eu.mcp_url == f"{eu.issuer}/mcp"
    assert eu.directory.default_project.id != sandbox.directory.default_project.id
    assert eu.controls.issue_read_token().startswith("pylf_v1_eu_")
    token = (await login(eu))["access_token"]
    async with mcp_session(eu.mcp_url, token) as client:
        link = (await client.call_tool("project_logfire_link", {"trace_id": "1" * 32})).structured_content[
            "result"
        ]
        info = (await client.call_tool("token_info", {})).structured_content
    async with httpx2.AsyncClient() as browser:
        page = await browser.get(link)
    assert link.startswith(eu.base_url)
    assert "Logfire EU" in page.text
    assert info["project_id"] == eu.directory.default_project.id


async def test_auto_approve_skips_consent_and_ttl_is_configurable(eu: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        client = await register(http, eu.issuer)
    async with oauth_client(client) as oauth:
        url, state = oauth.create_authorization_url(
            f"{eu.issuer}/authorize", code_verifier=generate_token(64), resource=eu.mcp_url
        )
        async with httpx2.AsyncClient() as browser:
            response = await browser.get(url)
        params = parse_qs(urlparse(response.headers["location"]).query)
    assert response.status_code == 302
    assert params["state"] == [state] and params["iss"] == [eu.issuer] and params["code"]
    assert (await login(eu))["expires_in"] == 120


async def test_a_token_of_one_region_is_refused_by_the_other(
    sandbox: SandboxLogfire, eu: SandboxLogfire
) -> None:
    us_token = (await login(sandbox))["access_token"]
    eu_token = (await login(eu))["access_token"]
    async with httpx2.AsyncClient() as http:
        for mcp_url, token in ((eu.mcp_url, us_token), (sandbox.mcp_url, eu_token)):
            response = await http.post(mcp_url, json={}, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401
            assert 'error="invalid_token"' in response.headers["www-authenticate"]
        us_read_token = sandbox.controls.issue_read_token()
        refused = await http.get(
            f"{eu.query_api_base}/v1/read-token-info", headers={"Authorization": us_read_token}
        )
    assert refused.status_code == 401


async def test_asking_one_region_for_the_others_resource(sandbox: SandboxLogfire, eu: SandboxLogfire) -> None:
    async with httpx2.AsyncClient() as http:
        client = await register(http, eu.issuer)
    async with oauth_client(client) as oauth:
        refused = await authorize(eu, oauth, resource=sandbox.mcp_url)
        granted = await authorize(eu, oauth)
        with pytest.raises(OAuthError) as at_token:
            await oauth.fetch_token(
                f"{eu.issuer}/token",
                code=granted.code,
                code_verifier=granted.verifier,
                resource=sandbox.mcp_url,
            )
    assert refused.params["error"] == "invalid_target"
    assert refused.params["error_description"] == f"Unknown resource: {sandbox.mcp_url}"
    assert at_token.value.error == "invalid_target"
    assert at_token.value.description == f"Unknown resource: {sandbox.mcp_url}"


async def test_protected_resource_metadata_can_name_another_region(
    sandbox: SandboxLogfire, misrouted: SandboxLogfire
) -> None:
    async with httpx2.AsyncClient() as http:
        prm = (await http.get(f"{misrouted.base_url}/.well-known/oauth-protected-resource/mcp")).json()
        client = await register(http, prm["authorization_servers"][0])
    assert prm["resource"] == misrouted.mcp_url
    assert prm["authorization_servers"] == [sandbox.issuer]
    async with oauth_client(client) as oauth:
        refused = await authorize(sandbox, oauth, resource=prm["resource"])
    assert refused.params["error"] == "invalid_target"
    assert refused.params["error_description"] == f"Unknown resource: {misrouted.mcp_url}"
