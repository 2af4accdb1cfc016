"""`logfire-bot manifest`: app_manifest.yml with the request URLs pointing at the bot's public URL.

The file is printed as written (its comments say why each scope and event is there), with the placeholder
base URL replaced: `$URL/slack/events` for the command, events and interactivity, and
`$URL/slack/oauth_redirect` for the install flow.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import yaml

# In a source checkout the manifest sits at the repository root; a built wheel carries a copy in the package.
_PACKAGED = Path(__file__).resolve().parent / "app_manifest.yml"
_CHECKOUT = Path(__file__).resolve().parent.parent / "app_manifest.yml"
MANIFEST_PATH = _PACKAGED if _PACKAGED.exists() else _CHECKOUT
PLACEHOLDER_URL = "https://logfire-bot.example.com"


class ManifestError(Exception):
    """The public URL cannot go into the manifest; the message says what to use."""


def render_manifest(public_url: str | None = None, template: str | None = None) -> str:
    """The manifest with `public_url` as the base of every request URL (the placeholder when None)."""
    text = template if template is not None else MANIFEST_PATH.read_text(encoding="utf-8")
    return text if public_url is None else text.replace(PLACEHOLDER_URL, check_public_url(public_url))


def bot_scopes() -> list[str]:
    """The bot scopes the manifest grants (what a multi-workspace install asks for)."""
    manifest = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    return list(manifest["oauth_config"]["scopes"]["bot"])


def check_public_url(url: str) -> str:
    """An https:// base URL without query, fragment or credentials, without the trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestError(
            f"{url!r} is not an https:// URL: Slack only sends requests to https:// URLs "
            "(for local development, use a tunnel that gives one)"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ManifestError(f"{url!r} must not carry credentials, a query or a fragment")
    return url.strip().rstrip("/")
