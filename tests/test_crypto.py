"""The secret box: AES-256-GCM, bound to its place, rotatable."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.oauth.crypto import KeyFormatError, SecretBox, SecretBoxError, generate_key, parse_keys, place
from bot.oauth.key_rotation import rotate_keys
from db.models import LogfireConnection, OAuthClient, OAuthState, secret_columns


def connection_row(team_id: str) -> LogfireConnection:
    return LogfireConnection(
        team_id=team_id,
        mcp_url="https://logfire-us.pydantic.dev/mcp",
        region="us",
        resource="https://logfire-us.pydantic.dev/mcp",
        issuer="https://logfire-us.pydantic.dev",
        client_id="client-1",
        connected_by="U1",
    )


def test_round_trip_and_fresh_nonce(secret_box: SecretBox) -> None:
    where = place("logfire_connections", "access_token", "T1")
    first = secret_box.encrypt("token-value-1", where)
    second = secret_box.encrypt("token-value-1", where)
    assert first != second  # a random nonce per value
    assert "token-value-1" not in first
    assert first.startswith(f"lfb1:{secret_box.current_key_id}:")
    assert secret_box.decrypt(first, where) == "token-value-1"


def test_value_moved_to_another_row_or_column_does_not_decrypt(secret_box: SecretBox) -> None:
    row_a, row_b = connection_row("TA"), connection_row("TB")
    secret_box.seal(row_a, "access_token", "access-of-A")
    secret_box.seal(row_a, "refresh_token", "refresh-of-A")
    assert secret_box.unseal(row_a, "access_token") == "access-of-A"

    row_b.access_token = row_a.access_token  # copied into another workspace's row
    with pytest.raises(SecretBoxError, match="altered or copied"):
        secret_box.unseal(row_b, "access_token")

    row_a.refresh_token = row_a.access_token  # copied into another column of the same row
    with pytest.raises(SecretBoxError, match="altered or copied"):
        secret_box.unseal(row_a, "refresh_token")


def test_tampering_is_detected(secret_box: SecretBox) -> None:
    where = place("oauth_clients", "client_secret", "issuer uri")
    stored = secret_box.encrypt("client-secret", where)
    prefix, key_id, body = stored.split(":")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[-1] ^= 0x01
    forged = f"{prefix}:{key_id}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(SecretBoxError, match=key_id):
        secret_box.decrypt(forged, where)


def test_unknown_key_is_named_in_the_error() -> None:
    old, new = generate_key(), generate_key()
    where = place("t", "c", "r")
    stored = SecretBox.from_text(old).encrypt("v", where)
    old_id = parse_keys(old)[0].key_id
    with pytest.raises(SecretBoxError, match=f"key {old_id}"):
        SecretBox.from_text(new).decrypt(stored, where)


def test_plaintext_in_a_secret_column_is_refused(secret_box: SecretBox) -> None:
    row = connection_row("T1")
    row.access_token = "stored-in-clear"
    with pytest.raises(SecretBoxError, match="not in the secret box format"):
        secret_box.unseal(row, "access_token")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "no key given"), ("abc", "key 1 of 1"), (f"{generate_key()},nope", "key 2 of 2")],
)
def test_malformed_keys_are_reported_by_position(text: str, problem: str) -> None:
    with pytest.raises(KeyFormatError, match=problem):
        parse_keys(text)


def test_every_secret_column_is_registered() -> None:
    assert {(model.__tablename__, column) for model, column in secret_columns()} == {
        ("logfire_connections", "access_token"),
        ("logfire_connections", "refresh_token"),
        ("oauth_clients", "client_secret"),
        ("oauth_states", "code_verifier"),
    }


async def store_one_of_each(database, box: SecretBox, prefix: str) -> dict[tuple[str, str], str]:
    """Store a connection, a client and a pending state; return the plaintexts by (table, column)."""
    connection = connection_row("T1")
    client = OAuthClient(
        issuer="https://as.example", redirect_uri="https://bot/cb", client_id="c", registration={}
    )
    state = OAuthState(
        state_hash="a" * 64, team_id="T1", user_id="U1", mcp_url="https://x/mcp", expires_at=datetime.now(UTC)
    )
    plaintexts = {
        ("logfire_connections", "access_token"): f"{prefix}-access-token-value",
        ("logfire_connections", "refresh_token"): f"{prefix}-refresh-token-value",
        ("oauth_clients", "client_secret"): f"{prefix}-client-secret-value",
        ("oauth_states", "code_verifier"): f"{prefix}-code-verifier-value",
    }
    for row in (connection, client, state):
        for (table, column), value in plaintexts.items():
            if table == row.__tablename__:
                box.seal(row, column, value)
    async with database.sessions() as session, session.begin():
        session.add_all([connection, client, state])
    return plaintexts


async def read_back(database, box: SecretBox) -> dict[tuple[str, str], str]:
    values = {}
    async with database.sessions() as session:
        for model, column in secret_columns():
            for row in (await session.scalars(select(model))).all():
                values[(model.__tablename__, column)] = box.unseal(row, column)
    return values


async def test_rotation_rewrites_every_secret(database) -> None:
    old_key, new_key = generate_key(), generate_key()
    old_box = SecretBox.from_text(old_key)
    plaintexts = await store_one_of_each(database, old_box, "rot")

    both = SecretBox.from_text(f"{new_key},{old_key}")
    assert await read_back(database, both) == plaintexts  # old ciphertexts decrypt before rotation

    report = await rotate_keys(database, both)
    assert report.rewritten == len(plaintexts)
    assert sum(report.by_column.values()) == len(plaintexts)

    only_new = SecretBox.from_text(new_key)
    assert await read_back(database, only_new) == plaintexts
    again = await rotate_keys(database, both)
    assert (again.rewritten, again.already_current) == (0, len(plaintexts))


async def test_rotation_with_a_missing_key_changes_nothing(database) -> None:
    old_key = generate_key()
    old_box = SecretBox.from_text(old_key)
    await store_one_of_each(database, old_box, "keep")
    before = await read_back(database, old_box)

    unrelated = SecretBox.from_text(generate_key())
    with pytest.raises(SecretBoxError, match=old_box.current_key_id):
        await rotate_keys(database, unrelated)
    assert await read_back(database, old_box) == before
