"""Which Logfire MCP server a workspace connects to: `us`, `eu`, or a custom `https://…/mcp` URL."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.errors import ConnectFailed

DEFAULT_REGION_URLS = {
    "us": "https://logfire-us.pydantic.dev/mcp",
    "eu": "https://logfire-eu.pydantic.dev/mcp",
}
LOOPBACK_HOSTS = {"localhost"}


@dataclass(frozen=True)
class Endpoint:
    mcp_url: str
    region: str  # "us", "eu" or "custom"


def resolve_endpoint(choice: str | None, default_url: str, region_urls: dict[str, str]) -> Endpoint:
    """The endpoint `/logfire connect [choice]` means, or ConnectFailed saying what to type."""
    choice = (choice or "").strip().strip("<>")
    if not choice:
        return Endpoint(check_mcp_url(default_url), region_of(default_url, region_urls))
    if choice.lower() in region_urls:
        return Endpoint(region_urls[choice.lower()], choice.lower())
    return Endpoint(check_mcp_url(choice), region_of(choice, region_urls))


def check_mcp_url(url: str) -> str:
    """Accept https:// URLs ending in /mcp, and http:// only on this machine."""
    hint = "use `us`, `eu`, or your Logfire MCP URL such as `https://logfire-eu.pydantic.dev/mcp`"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConnectFailed(f"`{url}` is not a URL: {hint}.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConnectFailed(f"`{url}` is not encrypted: Logfire MCP URLs must start with https://.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConnectFailed(f"`{url}` must not carry credentials, a query or a fragment: {hint}.")
    if not parts.path.rstrip("/").endswith("/mcp"):
        raise ConnectFailed(f"`{url}` does not end in /mcp: {hint}.")
    return url.rstrip("/")


def region_of(url: str, region_urls: dict[str, str]) -> str:
    for region, region_url in region_urls.items():
        if region_url.rstrip("/") == url.rstrip("/"):
            return region
    return "custom"


def other_region(region: str, region_urls: dict[str, str]) -> str | None:
    """The region to suggest on a mismatch (only meaningful between the two hosted regions)."""
    others = [name for name in region_urls if name != region]
    return others[0] if region in region_urls and len(others) == 1 else None


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
