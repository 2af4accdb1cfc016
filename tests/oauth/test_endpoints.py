"""`/logfire connect [us|eu|https://…/mcp]`: which server, which region, and what is refused."""

from __future__ import annotations

import pytest

from bot.errors import ConnectFailed
from bot.oauth.endpoints import DEFAULT_REGION_URLS, Endpoint, other_region, resolve_endpoint

DEFAULT = DEFAULT_REGION_URLS["us"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, Endpoint("https://logfire-us.pydantic.dev/mcp", "us")),
        ("", Endpoint("https://logfire-us.pydantic.dev/mcp", "us")),
        ("EU", Endpoint("https://logfire-eu.pydantic.dev/mcp", "eu")),
        ("us", Endpoint("https://logfire-us.pydantic.dev/mcp", "us")),
        ("<https://logfire-eu.pydantic.dev/mcp>", Endpoint("https://logfire-eu.pydantic.dev/mcp", "eu")),
        ("https://logfire.internal.example/mcp/", Endpoint("https://logfire.internal.example/mcp", "custom")),
        ("http://127.0.0.1:8765/mcp", Endpoint("http://127.0.0.1:8765/mcp", "custom")),
        ("http://localhost:8765/mcp", Endpoint("http://localhost:8765/mcp", "custom")),
    ],
)
def test_choices(choice: str | None, expected: Endpoint) -> None:
    assert resolve_endpoint(choice, DEFAULT, DEFAULT_REGION_URLS) == expected


@pytest.mark.parametrize(
    ("choice", "problem"),
    [
        ("asia", "is not a URL"),
        ("http://logfire.example.com/mcp", "is not encrypted"),
        ("https://logfire.example.com/", "does not end in /mcp"),
        ("https://user:pw@logfire.example.com/mcp", "must not carry credentials"),
        ("https://logfire.example.com/mcp?x=1", "must not carry credentials, a query"),
        ("ftp://logfire.example.com/mcp", "is not a URL"),
    ],
)
def test_refused_choices_say_what_to_type(choice: str, problem: str) -> None:
    with pytest.raises(ConnectFailed, match=problem) as caught:
        resolve_endpoint(choice, DEFAULT, DEFAULT_REGION_URLS)
    assert "https://" in str(caught.value)


def test_other_region_only_between_the_hosted_two() -> None:
    assert other_region("us", DEFAULT_REGION_URLS) == "eu"
    assert other_region("eu", DEFAULT_REGION_URLS) == "us"
    assert other_region("custom", DEFAULT_REGION_URLS) is None
