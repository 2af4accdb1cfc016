"""The model's text tidied for Slack mrkdwn: Markdown habits converted, URLs kept only to Logfire, within
Slack's length limit (a section block holds 3,000 characters).

The Slack layer escapes Slack's control characters (`&`, `<`, `>`) of every answer, so no mention,
`<!channel>` or `<url|label>` link can come out of it; left to do here: the bare URLs Slack links by itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

SECTION_MAX = 3_000
ELLIPSIS = "…"

_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_URL = re.compile(r"https?://[^\s<>`|)]+")
_CODE = re.compile(r"(`[^`\n]*`)")


def slack_mrkdwn(text: str, link_host: str | None = None, limit: int = SECTION_MAX) -> str:
    """Markdown-ish model text as Slack mrkdwn, at most `limit` characters.

    URLs stay clickable only to `link_host` (the workspace's Logfire): any other URL is shown as code, which
    Slack neither links nor unfurls, so a URL that telemetry talked the model into writing leaks nothing.
    """
    text = text.replace("\r\n", "\n").strip()
    text = _HEADING.sub(lambda match: f"*{match.group(1)}*", text)
    text = _BOLD.sub(lambda match: f"*{match.group(1) or match.group(2)}*", text)
    text = _BULLET.sub(lambda match: f"{match.group(1)}• ", text)
    text = _MARKDOWN_LINK.sub(lambda match: f"{match.group(1)} ({match.group(2)})", text)
    text = _outside_code(text, lambda part: _URL.sub(lambda found: _url(found.group(0), link_host), part))
    return shorten(text, limit)


def plain(text: str, limit: int) -> str:
    """One line (labels and values of key numbers)."""
    return shorten(" ".join(text.split()), limit)


def shorten(text: str, limit: int) -> str:
    """Cut at the last line (or word) break that fits, with an ellipsis."""
    if len(text) <= limit:
        return text
    room = text[: limit - len(ELLIPSIS)]
    cut = room.rfind("\n")
    if cut < limit // 2:
        cut = room.rfind(" ")
    return (room[:cut] if cut > 0 else room).rstrip() + ELLIPSIS


def _url(url: str, link_host: str | None) -> str:
    parts = urlsplit(url)
    allowed = link_host is not None and parts.scheme == "https" and parts.hostname == link_host
    return url if allowed else f"`{url}`"


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    pieces = _CODE.split(text)
    return "".join(piece if index % 2 else change(piece) for index, piece in enumerate(pieces))
