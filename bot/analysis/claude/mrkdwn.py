"""The model's text made safe Slack mrkdwn: Markdown habits converted, Slack's control characters escaped (so
no `<!channel>` or user mention can come out of telemetry), links kept only to Logfire, and Slack's length
limit (a section block holds 3,000 characters).
"""

from __future__ import annotations

import html
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
_PROTECTED = re.compile(r"(`[^`\n]*`|<https?://[^>\s|]+\|[^>\n]*>)")


def slack_mrkdwn(text: str, link_host: str | None = None, limit: int = SECTION_MAX) -> str:
    """Markdown-ish model text as Slack mrkdwn, at most `limit` characters.

    Links survive only to `link_host` (the workspace's Logfire): any other URL is shown as code, which Slack
    neither links nor unfurls, so a URL that telemetry talked the model into writing leaks nothing.
    """
    text = text.replace("\r\n", "\n").strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _HEADING.sub(lambda match: f"*{match.group(1)}*", text)
    text = _BOLD.sub(lambda match: f"*{match.group(1) or match.group(2)}*", text)
    text = _BULLET.sub(lambda match: f"{match.group(1)}• ", text)
    text = _MARKDOWN_LINK.sub(lambda match: _link(match.group(2), match.group(1), link_host), text)
    text = _outside_protected(text, lambda part: _URL.sub(lambda m: _bare_url(m.group(0), link_host), part))
    return shorten(text, limit)


def plain(text: str, limit: int) -> str:
    """One line of escaped text (labels and values of key numbers)."""
    line = " ".join(text.split())
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return shorten(line, limit)


def shorten(text: str, limit: int) -> str:
    """Cut at the last line (or word) break that fits, with an ellipsis."""
    if len(text) <= limit:
        return text
    room = text[: limit - len(ELLIPSIS)]
    cut = room.rfind("\n")
    if cut < limit // 2:
        cut = room.rfind(" ")
    return (room[:cut] if cut > 0 else room).rstrip() + ELLIPSIS


def _allowed(url: str, link_host: str | None) -> bool:
    parts = urlsplit(html.unescape(url))
    return link_host is not None and parts.scheme == "https" and parts.hostname == link_host


def _link(url: str, label: str, link_host: str | None) -> str:
    if _allowed(url, link_host):
        return f"<{html.unescape(url)}|{label}>"
    return f"{label} (`{_host(url)}`)" if _host(url) else label


def _bare_url(url: str, link_host: str | None) -> str:
    return html.unescape(url) if _allowed(url, link_host) else f"`{url}`"


def _host(url: str) -> str:
    return urlsplit(html.unescape(url)).hostname or ""


def _outside_protected(text: str, change: Callable[[str], str]) -> str:
    """Apply `change` to the text outside code spans and the links built above."""
    pieces = _PROTECTED.split(text)
    return "".join(piece if index % 2 else change(piece) for index, piece in enumerate(pieces))
