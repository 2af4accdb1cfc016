"""HTTP client settings shared by every outgoing request (Logfire rejects default user agents)."""

from __future__ import annotations

from typing import Any

import httpx2

from bot import USER_AGENT

DEFAULT_TIMEOUT = httpx2.Timeout(30.0, read=300.0)
METADATA_TIMEOUT = httpx2.Timeout(10.0)


def new_http_client(**options: Any) -> httpx2.AsyncClient:
    """An `httpx2.AsyncClient` sending our User-Agent; keyword options override the defaults."""
    headers = {"User-Agent": USER_AGENT, **options.pop("headers", {})}
    options.setdefault("timeout", DEFAULT_TIMEOUT)
    return httpx2.AsyncClient(headers=headers, **options)
