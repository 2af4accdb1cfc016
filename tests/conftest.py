"""Fixtures shared by the whole suite: databases (SQLite and PostgreSQL) and encryption keys."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.oauth.crypto import SecretBox, generate_key
from db.engine import Database, open_database
from db.migrate import upgrade
from sandbox.logfire.server import SandboxLogfire
from tests.oauth_harness import bot_web_parts, oauth, sqlite_database  # noqa: F401 (fixtures)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_unavailable(reason: str) -> None:
    """In CI a PostgreSQL test must fail when PostgreSQL is missing; locally it is skipped."""
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


async def _reachable(url: str) -> str | None:
    engine = create_async_engine(url)
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None
    except Exception as error:  # any failure means "not usable here"
        return f"{type(error).__name__}: {error}".splitlines()[0]
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[tuple[str, str]]:
    """A fresh, empty PostgreSQL schema on TEST_DATABASE_URL: yields (url, schema); dropped afterwards."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        _postgres_unavailable("TEST_DATABASE_URL is not set")
    problem = await _reachable(url)
    if problem:
        _postgres_unavailable(f"{url}: {problem}")
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_async_engine(url)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def open_in_schema(url: str, schema: str) -> Database:
    """A Database whose connections use `schema` (the tests' isolation unit on PostgreSQL)."""
    return open_database(url, connect_args={"server_settings": {"search_path": schema}})


@asynccontextmanager
async def database_for(backend: str, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database on `backend` ("sqlite" or "postgres"), disposed (and dropped) afterwards."""
    if backend == "sqlite":
        database = open_database(f"sqlite+aiosqlite:///{tmp_path}/bot.db")
        try:
            yield database
        finally:
            await database.dispose()
        return
    async with postgres_schema() as (url, schema):
        database = open_in_schema(url, schema)
        try:
            yield database
        finally:
            await database.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
async def empty_database(request, tmp_path) -> AsyncIterator[Database]:
    """An empty database, once on SQLite and once on PostgreSQL."""
    async with database_for(request.param, tmp_path) as database:
        yield database


@pytest.fixture(params=BACKENDS)
async def database(request, tmp_path) -> AsyncIterator[Database]:
    """A migrated database, once on SQLite and once on PostgreSQL."""
    async with database_for(request.param, tmp_path) as database:
        await upgrade(database)
        yield database


@pytest.fixture
def encryption_key() -> str:
    return generate_key()


@pytest.fixture
def secret_box(encryption_key: str) -> SecretBox:
    return SecretBox.from_text(encryption_key)


SANDBOX_RECORDS = 20_000


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxLogfire]:
    """One running sandbox Logfire (US region, 20k records) for the whole session."""
    with SandboxLogfire(region="us", records=SANDBOX_RECORDS, seed=7) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_controls(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults and counters never leak from one test to the next (only where a test uses the sandbox).

    And no test may have made the sandbox run a write tool, except the sandbox's own tests of its writes:
    across the whole suite, the bot never modifies anything on the Logfire side.
    """
    yield
    if "sandbox" in request.fixturenames:
        controls = request.getfixturevalue("sandbox").controls
        writes = [call.name for call in controls.write_calls]
        controls.reset()
        if not request.node.get_closest_marker("sandbox_writes"):
            assert writes == [], f"write tools were called: {writes}"


# Extra sandboxes for region tests: a second region, and servers whose metadata sends clients to the other
# region's authorization server (how a region mismatch shows up).
SMALL_SANDBOX = 2_000  # records of the extra region sandboxes


@pytest.fixture(scope="session")
def eu() -> Iterator[SandboxLogfire]:
    with SandboxLogfire(region="eu", records=SMALL_SANDBOX, seed=11) as running:
        yield running


@pytest.fixture(scope="session")
def us() -> Iterator[SandboxLogfire]:
    with SandboxLogfire(region="us", records=SMALL_SANDBOX, seed=12) as running:
        yield running


@pytest.fixture(scope="session")
def us_behind_eu(eu: SandboxLogfire) -> Iterator[SandboxLogfire]:
    """A US MCP server whose metadata sends clients to the EU authorization server."""
    with SandboxLogfire(
        region="us", records=SMALL_SANDBOX, seed=13, authorization_server_url=eu.issuer
    ) as running:
        yield running


@pytest.fixture(scope="session")
def eu_behind_us(us: SandboxLogfire) -> Iterator[SandboxLogfire]:
    with SandboxLogfire(
        region="eu", records=SMALL_SANDBOX, seed=14, authorization_server_url=us.issuer
    ) as running:
        yield running
