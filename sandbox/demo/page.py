"""The demo's HTML transcript: the channel as Slack would show it, threads unfolded, charts inline."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.demo.mrkdwn import to_html
from sandbox.slack import Message, SlackEmulator


@dataclass
class Entry:
    message: Message
    replies: list[Message] = field(default_factory=list)


def timeline(emu: SlackEmulator, channel: str) -> list[Entry]:
    """Top-level messages and ephemerals in order, each root with its replies (ephemerals in threads too)."""
    ephemerals = emu.ephemerals(channel=channel)
    entries = [Entry(m) for m in emu.messages(channel)] + [
        Entry(m) for m in ephemerals if not m.thread_ts or m.thread_ts == m.ts
    ]
    entries.sort(key=lambda entry: float(entry.message.ts))
    for entry in entries:
        if entry.message.ephemeral_to:
            continue
        replies = emu.thread(channel, entry.message.ts)[1:]
        replies += [m for m in ephemerals if m.thread_ts == entry.message.ts and m.ts != m.thread_ts]
        entry.replies = sorted(replies, key=lambda message: float(message.ts))
    return entries


@dataclass
class PageRenderer:
    emu: SlackEmulator
    chart_files: dict[str, str]  # Slack file id → PNG file name next to index.html
    pinned: set[str]  # ts of pinned messages

    def page(self, channel: str, *, title: str, subtitle: str) -> str:
        name = self.emu.state.find_channel(channel)
        label = f"#{name.name}" if name and name.name else channel
        body = "\n".join(self.entry(entry) for entry in timeline(self.emu, channel))
        return PAGE.format(
            title=html.escape(title), subtitle=html.escape(subtitle), channel=html.escape(label), body=body
        )

    def entry(self, entry: Entry) -> str:
        replies = "".join(self.message(reply) for reply in entry.replies)
        thread = f'<div class="thread">{replies}</div>' if replies else ""
        return f'<section class="entry">{self.message(entry.message)}{thread}</section>'

    def message(self, message: Message) -> str:
        author = self.emu.state.find_user(message.user)
        name = author.real_name if author else message.user
        is_app = bool(message.bot_id) or bool(author and author.is_bot)
        tags = '<span class="tag">APP</span>' if is_app else ""
        notes = []
        if message.ephemeral_to:
            notes.append(
                f'<div class="note">Only visible to {html.escape(self.user_name(message.ephemeral_to))}</div>'
            )
        if message.ts in self.pinned:
            notes.append('<div class="note pinned">📌 Pinned to this channel</div>')
        content = (
            self.blocks(message.blocks)
            if message.blocks and message.source != "user"
            else self.text(message.text)
        )
        files = "".join(self.file(file.id, file.title or file.name) for file in message.files)
        kind = "message ephemeral" if message.ephemeral_to else "message"
        avatar = f'<span class="avatar">{html.escape(name[:1])}</span>'
        head = f'{avatar}<b>{html.escape(name)}</b>{tags}<span class="time">{_time(message.ts)}</span>'
        return (
            f'<div class="{kind}">{"".join(notes)}<div class="head">{head}</div>'
            f'<div class="body">{content}{files}</div></div>'
        )

    def blocks(self, blocks: list[dict[str, Any]]) -> str:
        return "".join(self.block(block) for block in blocks)

    def block(self, block: dict[str, Any]) -> str:
        kind = block.get("type")
        if kind == "header":
            return f"<h3>{html.escape(block['text']['text'])}</h3>"
        if kind == "divider":
            return "<hr>"
        if kind == "markdown":
            return f'<div class="section">{self.text(block.get("text", ""))}</div>'
        if kind == "context":
            parts = [self.text(e["text"]) for e in block.get("elements", []) if "text" in e]
            return f'<div class="context">{" ".join(parts)}</div>'
        if kind == "actions":
            return f'<div class="actions">{"".join(self.button(e) for e in block.get("elements", []))}</div>'
        if kind == "section":
            return self.section(block)
        if kind == "image":
            return f'<img class="chart" src="{html.escape(block.get("image_url", ""), quote=True)}" alt="">'
        return ""

    def section(self, block: dict[str, Any]) -> str:
        text = self.text(block["text"]["text"]) if isinstance(block.get("text"), dict) else ""
        fields = "".join(f"<div>{self.text(f.get('text', ''))}</div>" for f in block.get("fields", []))
        grid = f'<div class="fields">{fields}</div>' if fields else ""
        accessory = block.get("accessory")
        button = self.button(accessory) if isinstance(accessory, dict) else ""
        return f'<div class="section">{text}{grid}{button}</div>'

    def button(self, element: dict[str, Any]) -> str:
        if element.get("type") != "button":
            return ""
        label = html.escape(element.get("text", {}).get("text", ""))
        style = f" {element['style']}" if element.get("style") in ("primary", "danger") else ""
        if url := element.get("url"):
            return f'<a class="button{style}" href="{html.escape(url, quote=True)}">{label}</a>'
        return f'<span class="button{style}">{label}</span>'

    def file(self, file_id: str, title: str) -> str:
        name = self.chart_files.get(file_id)
        if name is None:
            return f'<div class="file">📎 {html.escape(title)}</div>'
        source, alt = html.escape(name, quote=True), html.escape(title, quote=True)
        return (
            f'<figure><img class="chart" src="{source}" alt="{alt}">'
            f"<figcaption>{html.escape(title)}</figcaption></figure>"
        )

    def text(self, text: str) -> str:
        return to_html(text, self.user_name)

    def user_name(self, user_id: str) -> str:
        user = self.emu.state.find_user(user_id)
        return user.real_name if user else user_id


def _time(ts: str) -> str:
    return datetime.fromtimestamp(float(ts), UTC).strftime("%H:%M:%S UTC")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 15px/1.46 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d1c1d;
  margin: 0; background: #f8f8f8; }}
header {{ background: #3f0e40; color: #fff; padding: 14px 24px; }}
header h1 {{ margin: 0; font-size: 18px; }} header p {{ margin: 4px 0 0; opacity: .85; font-size: 13px; }}
main {{ max-width: 860px; margin: 0 auto; padding: 12px 24px 48px; background: #fff; min-height: 100vh; }}
h2 {{ font-size: 17px; border-bottom: 1px solid #ddd; padding-bottom: 8px; }}
.entry {{ border-bottom: 1px solid #eee; padding: 10px 0; }}
.thread {{ margin: 6px 0 0 38px; border-left: 3px solid #e8e8e8; padding-left: 12px; }}
.message {{ padding: 6px 0; }} .ephemeral {{ background: #f4f8fd; border-radius: 6px; padding: 6px 8px; }}
.head {{ display: flex; align-items: center; gap: 8px; }}
.avatar {{ display: inline-flex; width: 28px; height: 28px; border-radius: 6px; background: #611f69;
  color: #fff; align-items: center; justify-content: center; font-weight: bold; }}
.tag {{ font-size: 10px; background: #e8e8e8; color: #555; padding: 1px 4px; border-radius: 3px; }}
.time {{ color: #888; font-size: 12px; }} .note {{ color: #666; font-size: 12px; margin-bottom: 2px; }}
.pinned {{ color: #b35c00; }}
.body {{ margin-left: 36px; }} .section {{ margin: 4px 0; }}
.fields {{ display: grid; grid-template-columns: 1fr 1fr; gap: 6px 24px; margin: 6px 0; }}
.context {{ color: #616061; font-size: 12.5px; margin: 4px 0; }}
.actions {{ margin: 8px 0 2px; display: flex; gap: 8px; flex-wrap: wrap; }}
.button {{ border: 1px solid #bbb; border-radius: 4px; padding: 3px 12px; font-size: 13px; font-weight: 600;
  color: #1d1c1d; text-decoration: none; background: #fff; }}
.button.primary {{ background: #007a5a; color: #fff; border-color: #007a5a; }}
.button.danger {{ color: #e01e5a; }}
code {{ background: #f3f3f3; border: 1px solid #e2e2e2; border-radius: 3px; padding: 0 3px; color: #c01343;
  font-size: 12.5px; }}
pre {{ background: #f8f8f8; border: 1px solid #e2e2e2; border-radius: 4px; padding: 8px;
  white-space: pre-wrap; font-size: 12.5px; }}
blockquote {{ margin: 2px 0; padding-left: 10px; border-left: 4px solid #ddd; }}
.mention {{ background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }}
figure {{ margin: 8px 0; }} img.chart {{ max-width: 100%; border: 1px solid #ddd; border-radius: 6px; }}
figcaption {{ color: #616061; font-size: 12px; }}
</style></head>
<body><header><h1>{title}</h1><p>{subtitle}</p></header>
<main><h2>{channel}</h2>
{body}
</main></body></html>
"""
