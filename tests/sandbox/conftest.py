"""Shared fixtures: one running sandbox (US region, 20k records) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.logfire.server import SandboxLogfire

TEST_RECORDS = 20_000


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxLogfire]:
    with SandboxLogfire(region="us", records=TEST_RECORDS, seed=7) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_controls(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults and counters never leak from one test to the next (only where a test uses the sandbox)."""
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").controls.reset()
