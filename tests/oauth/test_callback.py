"""The callback refuses what it must: forged, expired, replayed and cross-workspace states, denials."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update

from bot.oauth.authorization import Requester, hash_state
from db.models import LogfireConnection, OAuthState, utcnow
from sandbox.logfire.server import SandboxLogfire
from tests.oauth_harness import OAuthHarness

ALICE = Requester("T1", "U1", "C1")
BOB = Requester("T2", "U2", "C2")


async def connection_of(oauth: OAuthHarness, team: str) -> LogfireConnection | None:
    async with oauth.database.sessions() as session:
        return await session.get(LogfireConnection, team)


async def test_a_forged_state_is_refused(oauth: OAuthHarness, sandbox: SandboxLogfire) -> None:
    _, params = await oauth.authorization_redirect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer)
    page = await oauth.callback({**params, "state": secrets.token_urlsafe(32)})
    assert page.status_code == 400
    assert "not one the bot issued" in page.text
    assert await connection_of(oauth, "T1") is None
    assert oauth.web.failed == []  # nobody to tell: the state names no workspace


async def test_an_expired_state_is_refused(oauth: OAuthHarness, sandbox: SandboxLogfire) -> None:
    _, params = await oauth.authorization_redirect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer)
    async with oauth.database.sessions() as session, session.begin():
        await session.execute(update(OAuthState).values(expires_at=utcnow()))
    page = await oauth.callback(params)
    assert page.status_code == 400
    assert "has expired" in page.text
    assert await connection_of(oauth, "T1") is None
    assert [requester for requester, _ in oauth.web.failed] == [ALICE]


async def test_a_replayed_callback_is_refused(oauth: OAuthHarness, sandbox: SandboxLogfire) -> None:
    _, params = await oauth.authorization_redirect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer)
    assert (await oauth.callback(params)).status_code == 200
    first = await connection_of(oauth, "T1")

    replay = await oauth.callback(params)

    assert replay.status_code == 400
    assert "was already used" in replay.text
    assert (await connection_of(oauth, "T1")).version == first.version


async def test_a_code_from_one_workspace_with_another_workspaces_state_is_refused(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    """Login CSRF: Bob's pending state with a code Alice's flow obtained fails PKCE and connects nobody."""
    _, alice = await oauth.authorization_redirect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer)
    _, bob = await oauth.authorization_redirect(BOB, sandbox.mcp_url, issuer=sandbox.issuer)

    page = await oauth.callback({**alice, "state": bob["state"]})

    assert page.status_code == 400
    assert "did not accept this authorization" in page.text
    assert await connection_of(oauth, "T1") is None
    assert await connection_of(oauth, "T2") is None
    async with oauth.database.sessions() as session:
        bobs = await session.get(OAuthState, hash_state(bob["state"]))
    assert bobs.consumed_at is not None  # burnt: Bob starts again


async def test_access_denied_is_explained(oauth: OAuthHarness, sandbox: SandboxLogfire) -> None:
    page = await oauth.connect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer, approve=False)
    assert page.status_code == 200
    assert "You declined access" in page.text
    assert await connection_of(oauth, "T1") is None
    [(requester, error)] = oauth.web.failed
    assert requester == ALICE and "declined" in str(error)


async def test_a_callback_without_a_code_is_explained(oauth: OAuthHarness, sandbox: SandboxLogfire) -> None:
    _, params = await oauth.authorization_redirect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer)
    page = await oauth.callback({"state": params["state"], "iss": params["iss"]})
    assert page.status_code == 400
    assert "sent no authorization code" in page.text
    assert await connection_of(oauth, "T1") is None


async def test_a_callback_from_another_issuer_is_refused(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    _, params = await oauth.authorization_redirect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer)
    page = await oauth.callback({**params, "iss": "https://attacker.example"})
    assert page.status_code == 400
    assert "different authorization server" in page.text
    assert await connection_of(oauth, "T1") is None


async def test_a_callback_without_state_is_refused(oauth: OAuthHarness) -> None:
    page = await oauth.callback({"code": "whatever"})
    assert page.status_code == 400
    assert "without an authorization state" in page.text


async def test_the_pending_row_keeps_no_state_and_no_clear_verifier(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    _, params = await oauth.authorization_redirect(ALICE, sandbox.mcp_url, issuer=sandbox.issuer)
    async with oauth.database.sessions() as session:
        [pending] = (await session.scalars(select(OAuthState))).all()
    verifier = oauth.box.unseal(pending, "code_verifier")
    assert 43 <= len(verifier) <= 128
    assert pending.state_hash == hash_state(params["state"])
    assert params["state"] not in repr(pending.__dict__)
    assert verifier not in repr(pending.__dict__)
