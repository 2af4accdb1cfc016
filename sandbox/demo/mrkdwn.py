"""Slack mrkdwn as HTML, for the demo's transcript page: mentions, links, code, emphasis, quotes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

ANGLE = re.compile(r"<([^<>]+)>")
FENCE = re.compile(r"```(.*?)```", re.S)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
EMPHASIS = [
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])"), "del"),
]
EMOJI = {
    ":warning:": "⚠️",
    ":hourglass_flowing_sand:": "⏳",
    ":white_check_mark:": "✅",
    ":lock:": "🔒",
    ":pushpin:": "📌",
    ":bar_chart:": "📊",
    ":x:": "❌",
    ":link:": "🔗",
    ":information_source:": "ℹ️",
}

UserName = Callable[[str], str]


def to_html(text: str, user_name: UserName) -> str:
    """Slack's wire text (with `&amp;`, `&lt;`, `&gt;` escaped) as safe HTML."""
    pieces: list[str] = []
    for index, part in enumerate(FENCE.split(text)):
        if index % 2:
            pieces.append(f"<pre>{_plain(part.strip(chr(10)))}</pre>")
        else:
            pieces.append(_paragraph(part, user_name))
    return "".join(pieces)


def _paragraph(text: str, user_name: UserName) -> str:
    lines = []
    for line in text.split("\n"):
        quoted = line.startswith("&gt;") or line.startswith(">")
        body = line.removeprefix("&gt;").removeprefix(">").lstrip() if quoted else line
        rendered = _inline(body, user_name)
        lines.append(f"<blockquote>{rendered}</blockquote>" if quoted else rendered)
    return "<br>".join(lines).replace("</blockquote><br>", "</blockquote>")


def _inline(text: str, user_name: UserName) -> str:
    """Code spans first (nothing inside them is formatted), then links and mentions, then emphasis."""
    out = []
    for index, part in enumerate(INLINE_CODE.split(text)):
        out.append(f"<code>{_plain(part)}</code>" if index % 2 else _formatted(part, user_name))
    return "".join(out)


def _formatted(text: str, user_name: UserName) -> str:
    out = []
    for index, part in enumerate(ANGLE.split(text)):
        out.append(_angle(part, user_name) if index % 2 else _emphasis(_plain(part)))
    return "".join(out)


def _angle(token: str, user_name: UserName) -> str:
    target, _, label = token.partition("|")
    if target.startswith("@"):
        return f'<span class="mention">@{_plain(user_name(target[1:]))}</span>'
    if target.startswith("#"):
        return f'<span class="mention">#{_plain(label or target[1:])}</span>'
    if target.startswith("!"):
        return f'<span class="mention">@{_plain(label or target[1:].split("^")[0])}</span>'
    if target.startswith(("http://", "https://")):
        href = html.escape(html.unescape(target), quote=True)
        return f'<a href="{href}">{_emphasis(_plain(label or target))}</a>'
    return _plain(f"<{token}>")


def _emphasis(escaped: str) -> str:
    for pattern, tag in EMPHASIS:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    for code, emoji in EMOJI.items():
        escaped = escaped.replace(code, emoji)
    return escaped


def _plain(text: str) -> str:
    """Slack-escaped text as HTML-escaped text."""
    return html.escape(html.unescape(text), quote=False)
