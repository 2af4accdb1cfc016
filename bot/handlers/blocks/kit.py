"""Block Kit primitives: escaping, Slack's limits, text objects, buttons, and packing blocks into messages.

Every mrkdwn text object is `verbatim`, so Slack does not turn bare URLs, channel names or `@here` into links
or mentions; text we did not write is escaped (`&`, `<`, `>`) so it cannot carry `<!channel>`, `<@U…>` or
`<https://…|…>`. Only the builders add mentions and dates, from validated ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

Block = dict[str, Any]

SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
FIELDS_PER_SECTION = 10
HEADER_TEXT_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
BUTTON_URL_LIMIT = 3000
CONTEXT_ELEMENTS_LIMIT = 10
ACTIONS_ELEMENTS_LIMIT = 25
MESSAGE_BLOCKS_LIMIT = 50
VIEW_BLOCKS_LIMIT = 100
# Slack refuses a message past about 13k characters of block text (`msg_blocks_too_long`); keep a margin.
MESSAGE_TEXT_BUDGET = 12000
# The fallback `text` gives `msg_too_long` past about 4,000 characters; it only feeds notifications anyway.
FALLBACK_TEXT_LIMIT = 1000

_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_SLACK_FILE_ID = re.compile(r"^F[A-Z0-9]{2,30}$")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_FENCE = "```"


class Message(NamedTuple):
    """What `chat.postMessage`, `chat.postEphemeral`, `chat.update` and `respond()` take."""

    text: str
    blocks: list[Block]


def escape(text: str) -> str:
    """Slack's three control characters, escaped: the text can no longer mention, link or format dates."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str) -> str:
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters with an ellipsis (for plain text)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clip_escaped(text: str, limit: int) -> str:
    """Already-escaped mrkdwn cut to `limit` characters, never in the middle of an `&amp;`-style entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return _PARTIAL_ENTITY.sub("", cut).rstrip() + "…"


def safe(text: str, limit: int) -> str:
    """Untrusted text as mrkdwn: escaped and cut to `limit` characters."""
    return clip_escaped(escape(text), limit)


def code(text: str, limit: int = 200) -> str:
    """Untrusted text in an inline code span (one line, no backticks to break out of it)."""
    return f"`{safe(one_line(text).replace('`', 'ʼ'), limit)}`"


def code_block(text: str, limit: int) -> str:
    """Untrusted text in a fenced code block of at most `limit` characters, saying when it was cut."""
    body = escape(text.strip("\n").replace(_FENCE, "ʼʼʼ")) or "(empty)"
    wrapper = 2 * len(_FENCE) + 2
    if len(body) + wrapper <= limit:
        return f"{_FENCE}\n{body}\n{_FENCE}"
    note = f"\n… cut here: {len(text):,} characters in all"
    kept = _PARTIAL_ENTITY.sub("", body[: limit - wrapper - len(note)])
    return f"{_FENCE}\n{kept}{note}\n{_FENCE}"


def mention(user_id: str | None) -> str:
    """`<@U…>` for a well-formed user id; anything else is shown as escaped text, never as a mention."""
    if user_id and _SLACK_USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(user_id or "someone")


def slack_date(moment: datetime) -> str:
    """A date Slack shows in the reader's own time zone (UTC in the fallback)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(one_line(text), limit) or "-", "emoji": True}


def section(text: str) -> Block:
    """A section of already-safe mrkdwn (at most 3000 characters)."""
    return {"type": "section", "text": mrkdwn(clip_escaped(text, SECTION_TEXT_LIMIT))}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_TEXT_LIMIT)}


def context(*texts: str) -> Block:
    """A context block of already-safe mrkdwn texts (at most 10)."""
    elements = [mrkdwn(clip_escaped(text, SECTION_TEXT_LIMIT)) for text in texts if text]
    return {"type": "context", "elements": elements[:CONTEXT_ELEMENTS_LIMIT]}


def divider() -> Block:
    return {"type": "divider"}


def field_sections(fields: Sequence[str]) -> list[Block]:
    """Already-safe mrkdwn fields, two columns on desktop, ten to a section."""
    items = [mrkdwn(clip_escaped(text, FIELD_TEXT_LIMIT)) for text in fields if text]
    return [
        {"type": "section", "fields": items[start : start + FIELDS_PER_SECTION]}
        for start in range(0, len(items), FIELDS_PER_SECTION)
    ]


def text_sections(lines: Iterable[str], *, limit: int = SECTION_TEXT_LIMIT) -> list[Block]:
    """Already-safe mrkdwn lines joined into as few sections as fit."""
    return [section(chunk) for chunk in join_lines(lines, limit)]


def join_lines(lines: Iterable[str], limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip_escaped(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    return [*chunks, current] if current else chunks


def button(
    text: str, action_id: str, *, value: str | None = None, url: str | None = None, style: str | None = None
) -> Block:
    """A button; `value` is a key (≤ 2000 characters), `url` an http(s) link (≤ 3000)."""
    element: Block = {"type": "button", "text": plain(text, BUTTON_TEXT_LIMIT), "action_id": action_id}
    if value is not None:
        if not value or len(value) > BUTTON_VALUE_LIMIT:
            raise ValueError(f"a button value must be 1-{BUTTON_VALUE_LIMIT} characters, a key not data")
        element["value"] = value
    if url is not None:
        if not is_button_url(url):
            raise ValueError(f"not an http(s) URL of at most {BUTTON_URL_LIMIT} characters")
        element["url"] = url
    if style is not None:
        element["style"] = style
    return element


def actions(*buttons: Block) -> Block:
    return {"type": "actions", "elements": list(buttons)[:ACTIONS_ELEMENTS_LIMIT]}


def is_button_url(url: str) -> bool:
    if len(url) > BUTTON_URL_LIMIT or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.hostname)


def is_file_id(file_id: str) -> bool:
    return bool(_SLACK_FILE_ID.match(file_id))


def text_length(blocks: Any) -> int:
    """Characters of block text as Slack counts them for `msg_blocks_too_long`: every `text` string."""
    if isinstance(blocks, dict):
        return sum(
            len(value) if key == "text" and isinstance(value, str) else text_length(value)
            for key, value in blocks.items()
        )
    if isinstance(blocks, list):
        return sum(text_length(item) for item in blocks)
    return 0


def pack(
    groups: Iterable[Sequence[Block]],
    *,
    max_blocks: int = MESSAGE_BLOCKS_LIMIT,
    budget: int = MESSAGE_TEXT_BUDGET,
) -> list[list[Block]]:
    """Blocks split into messages within Slack's per-message limits; each group stays in one message."""
    messages: list[list[Block]] = []
    current: list[Block] = []
    used = 0
    for group in groups:
        size = text_length(list(group))
        if current and (len(current) + len(group) > max_blocks or used + size > budget):
            messages.append(current)
            current, used = [], 0
        current.extend(group)
        used += size
    return [*messages, current] if current else messages


def split_mrkdwn(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Long mrkdwn in pieces of at most `limit` characters, cut at paragraphs, lines or words.

    A piece that ends inside a ``` block closes it and the next piece reopens it.
    """
    pieces: list[str] = []
    rest = text.strip()
    in_fence = False
    while rest:
        if in_fence and rest.startswith(_FENCE):  # the block closed right where the last piece ended
            rest, in_fence = rest.removeprefix(_FENCE).lstrip("\n"), False
            continue
        opening = f"{_FENCE}\n" if in_fence else ""
        if len(opening) + len(rest) <= limit:
            piece, rest = rest, ""
        else:
            cut = _cut_point(rest, limit - len(opening) - len(_FENCE) - 1)
            piece, rest = rest[:cut].rstrip(), rest[cut:]
            rest = rest.lstrip("\n") if rest.startswith("\n") else rest.lstrip(" ")
        ends_in_fence = in_fence != (piece.count(_FENCE) % 2 == 1)
        closing = f"\n{_FENCE}" if ends_in_fence and rest else ""
        if piece.strip():
            pieces.append(opening + piece + closing)
        in_fence = ends_in_fence
    return pieces


def _cut_point(text: str, room: int) -> int:
    window = text[:room]
    cut = room
    for separator, least in (("\n\n", room // 2), ("\n", room // 3), (" ", room // 3)):
        found = window.rfind(separator)
        if found >= least:
            cut = found
            break
    entity = _PARTIAL_ENTITY.search(text[:cut])
    if entity:
        cut = entity.start()
    while 0 < cut < len(text) and text[cut - 1] == "`" and text[cut] == "`":
        cut -= 1
    return max(cut, 1)
