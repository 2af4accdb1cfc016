"""What Slack sends to an app: slash-command forms, Events API envelopes and events, block_actions payloads.

Shapes follow https://docs.slack.dev/interactivity/implementing-slash-commands,
https://docs.slack.dev/apis/events-api/ and .../reference/interaction-payloads/block_actions-payload.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import Any

from sandbox.slack import ids
from sandbox.slack.model import Channel, Message, SlackApp, User, Workspace

_MENTION = re.compile(r"(<@[UW][A-Z0-9]+>)")


def slash_command_form(
    app: SlackApp,
    workspace: Workspace,
    user: User,
    channel: Channel,
    *,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    form = {
        "token": app.verification_token,
        "team_id": workspace.id,
        "team_domain": workspace.domain,
        "channel_id": channel.id,
        "channel_name": _channel_name(channel),
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": app.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    if workspace.enterprise_id:
        form |= {"enterprise_id": workspace.enterprise_id, "enterprise_name": workspace.enterprise_name or ""}
    return form


def _channel_name(channel: Channel) -> str:
    return "directmessage" if channel.is_im else channel.name


def event_envelope(app: SlackApp, workspace: Workspace, event: dict[str, Any]) -> dict[str, Any]:
    envelope = {
        "token": app.verification_token,
        "team_id": workspace.id,
        "context_team_id": workspace.id,
        "context_enterprise_id": workspace.enterprise_id,
        "api_app_id": app.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": ids.new_id("Ev"),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": workspace.enterprise_id,
                "team_id": workspace.id,
                "user_id": workspace.bot_user.id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }
    if workspace.enterprise_id:
        envelope["enterprise_id"] = workspace.enterprise_id
    return envelope


def rich_text(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack's clients attach to what a user types; mentions become user elements."""
    elements = [
        {"type": "user", "user_id": part[2:-1]}
        if _MENTION.fullmatch(part)
        else {"type": "text", "text": part}
        for part in _MENTION.split(text)
        if part
    ]
    return [
        {
            "type": "rich_text",
            "block_id": secrets.token_urlsafe(4),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def user_message_event(
    message: Message, channel: Channel, *, kind: str, parent: Message | None
) -> dict[str, Any]:
    """A `message` or `app_mention` event for something a user posted."""
    event: dict[str, Any] = {
        "type": kind,
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
        "channel": message.channel,
        "event_ts": message.ts,
        "client_msg_id": str(uuid.uuid4()),
        "team": message.team,
        "blocks": message.blocks,
    }
    if kind == "message":
        event["channel_type"] = channel.channel_type
    if message.thread_ts:
        event["thread_ts"] = message.thread_ts
        if kind == "message" and parent is not None:
            event["parent_user_id"] = parent.user
    return event


def block_actions(
    app: SlackApp,
    workspace: Workspace,
    user: User,
    channel: Channel,
    message: Message,
    message_json: dict[str, Any] | None,
    action: dict[str, Any],
    *,
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """A click on a message's button. Ephemeral messages come without `message`, as on Slack."""
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": channel.id,
        "is_ephemeral": message.ephemeral_to is not None,
    }
    if message.thread_ts:
        container["thread_ts"] = message.thread_ts
    payload = _interaction(app, workspace, user, action, trigger_id) | {
        "container": container,
        "channel": {"id": channel.id, "name": _channel_name(channel)},
        "response_url": response_url,
    }
    if message_json is not None:
        payload["message"] = message_json
    return payload


def home_block_actions(
    app: SlackApp,
    workspace: Workspace,
    user: User,
    view: dict[str, Any],
    action: dict[str, Any],
    *,
    trigger_id: str,
) -> dict[str, Any]:
    """A click in the App Home tab: the view instead of a message, and no response_url."""
    return _interaction(app, workspace, user, action, trigger_id) | {
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
    }


def _interaction(
    app: SlackApp, workspace: Workspace, user: User, action: dict[str, Any], trigger_id: str
) -> dict[str, Any]:
    team: dict[str, Any] = {"id": workspace.id, "domain": workspace.domain}
    enterprise = None
    if workspace.enterprise_id:
        team |= {"enterprise_id": workspace.enterprise_id, "enterprise_name": workspace.enterprise_name}
        enterprise = {"id": workspace.enterprise_id, "name": workspace.enterprise_name}
    return {
        "type": "block_actions",
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": workspace.id},
        "api_app_id": app.app_id,
        "token": app.verification_token,
        "trigger_id": trigger_id,
        "team": team,
        "enterprise": enterprise,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [action],
    }


def action_for(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    """The `actions[0]` entry for clicking the element `action_id` (buttons, also URL buttons)."""
    for block in blocks:
        candidates = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory")]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                action = {
                    "action_id": action_id,
                    "block_id": block["block_id"],
                    "type": element["type"],
                    "action_ts": f"{time.time():.6f}",
                }
                return action | {k: element[k] for k in ("text", "value", "url", "style") if k in element}
    available = [e.get("action_id") for b in blocks for e in b.get("elements", []) if isinstance(e, dict)]
    raise ValueError(f"no element with action_id {action_id!r}; the blocks have {available}")
