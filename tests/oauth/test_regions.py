"""Regions: tokens are region-specific; one region's resource asked of the other is a region mismatch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.errors import RegionMismatch
from bot.oauth.authorization import Requester
from bot.oauth.crypto import SecretBox
from db.engine import Database
from db.models import LogfireConnection
from sandbox.logfire.server import SandboxLogfire
from tests.oauth_harness import OAuthHarness, make_harness


async def harness_for(
    region_urls: dict[str, str], database: Database, box: SecretBox, parts
) -> AsyncIterator[OAuthHarness]:
    harness, runner = await make_harness(database, box, *parts, region_urls)
    try:
        yield harness
    finally:
        await runner.cleanup()
        await harness.http.aclose()


@pytest.mark.parametrize(
    ("connect_to", "suggested"),
    [("us", "eu"), ("eu", "us")],
)
async def test_the_other_regions_resource_is_a_region_mismatch(
    request: pytest.FixtureRequest,
    connect_to: str,
    suggested: str,
    sqlite_database: Database,
    secret_box: SecretBox,
    bot_web_parts,
) -> None:
    misrouted = request.getfixturevalue("us_behind_eu" if connect_to == "us" else "eu_behind_us")
    other = request.getfixturevalue(suggested)
    region_urls = {connect_to: misrouted.mcp_url, suggested: other.mcp_url}
    async for oauth in harness_for(region_urls, sqlite_database, secret_box, bot_web_parts):
        _, params = await oauth.authorization_redirect(
            Requester("T1", "U1", "C1"), misrouted.mcp_url, issuer=other.issuer
        )
        assert params["error"] == "invalid_target"
        assert params["error_description"] == f"Unknown resource: {misrouted.mcp_url}"

        page = await oauth.callback(params)
        expected = (
            "Region mismatch: your Logfire project lives in the other region; "
            f"connect with `/logfire connect {suggested}`."
        )
        assert page.status_code == 400
        assert f"connect with <code>/logfire connect {suggested}</code>" in page.text
        [(requester, error)] = oauth.web.failed
        assert requester == Requester("T1", "U1", "C1")
        assert isinstance(error, RegionMismatch) or isinstance(getattr(error, "cause", None), RegionMismatch)
        assert str(error) == expected
        async with sqlite_database.sessions() as session:
            assert await session.get(LogfireConnection, "T1") is None


async def test_a_token_of_one_region_is_refused_by_the_other(
    us: SandboxLogfire, eu: SandboxLogfire, sqlite_database: Database, secret_box: SecretBox, bot_web_parts
) -> None:
    """Connected to the US, then pointed at the EU server: the EU server refuses the US token."""
    region_urls = {"us": us.mcp_url, "eu": eu.mcp_url}
    async for oauth in harness_for(region_urls, sqlite_database, secret_box, bot_web_parts):
        page = await oauth.connect(Requester("T1", "U1"), us.mcp_url, issuer=us.issuer)
        assert page.status_code == 200
        async with sqlite_database.sessions() as session:
            row = await session.get(LogfireConnection, "T1")
        token = secret_box.unseal(row, "access_token")
        response = await oauth.http.post(eu.mcp_url, json={}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
