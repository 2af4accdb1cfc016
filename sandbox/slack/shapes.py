"""The JSON shapes Slack returns for messages, files, conversations, users and views."""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from sandbox.slack.model import Channel, Message, SlackFile, User, Workspace
from sandbox.slack.state import SlackState


def bot_profile(state: SlackState, workspace: Workspace) -> dict[str, Any]:
    return {
        "id": workspace.bot_id,
        "app_id": state.app.app_id,
        "name": state.app.name,
        "deleted": False,
        "team_id": workspace.id,
        "icons": {},
        "updated": int(time.time()),
    }


def message_json(state: SlackState, message: Message, base_url: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "message",
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
        "team": message.team,
    }
    workspace = state.workspaces[message.team]
    if message.bot_id:
        data |= {
            "bot_id": message.bot_id,
            "app_id": message.app_id,
            "bot_profile": bot_profile(state, workspace),
        }
    if message.blocks:
        data["blocks"] = message.blocks
    if message.files:
        data |= {"files": [file_json(state, f, base_url) for f in message.files], "upload": True}
    if message.edited_ts:
        data["edited"] = {"user": message.user, "ts": message.edited_ts}
    if message.metadata:
        data["metadata"] = message.metadata
    if message.thread_ts:
        data |= {"thread_ts": message.thread_ts} | _thread_fields(state, message)
    return data


def _thread_fields(state: SlackState, message: Message) -> dict[str, Any]:
    if message.is_reply:
        root = state.messages.get(message.channel, {}).get(message.thread_ts or "")
        return {"parent_user_id": root.user} if root else {}
    replies = state.replies(message.channel, message.ts)
    users = list(dict.fromkeys(r.user for r in replies))
    return {
        "reply_count": len(replies),
        "reply_users": users,
        "reply_users_count": len(users),
        "latest_reply": replies[-1].ts if replies else message.ts,
        "is_locked": False,
        "subscribed": False,
    }


def file_json(state: SlackState, file: SlackFile, base_url: str) -> dict[str, Any]:
    """A file object; `shares` and the channel lists fill in only once Slack has processed the share."""
    workspace = state.workspaces[file.team_id]
    url = f"{base_url}files-pri/{file.team_id}-{file.id}/{file.name}"
    data: dict[str, Any] = {
        "id": file.id,
        "created": file.created,
        "timestamp": file.created,
        "name": file.name,
        "title": file.title or file.name,
        "mimetype": mimetypes.guess_type(file.name)[0] or "application/octet-stream",
        "filetype": file.filetype,
        "pretty_type": file.filetype.upper(),
        "user": file.user,
        "user_team": file.team_id,
        "editable": False,
        "size": file.length,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": False,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": url,
        "url_private_download": f"{url}?download=1",
        "permalink": f"https://{workspace.domain}.slack.com/files/{file.user}/{file.id}/{file.name}",
        "has_rich_preview": False,
        "file_access": "visible",
    }
    if file.alt_txt:
        data["alt_txt"] = file.alt_txt
    return data | _shares(state, file)


def _shares(state: SlackState, file: SlackFile) -> dict[str, Any]:
    shares: dict[str, dict[str, list[dict[str, Any]]]] = {}
    lists: dict[str, list[str]] = {"channels": [], "groups": [], "ims": []}
    for share in file.shares_ready(time.time()):
        channel = state.find_channel(share.channel)
        if channel is None:
            continue
        visibility = "private" if channel.is_private or channel.is_im else "public"
        entry: dict[str, Any] = {
            "reply_users": [],
            "reply_users_count": 0,
            "reply_count": 0,
            "ts": share.ts,
            "channel_name": channel.name,
            "team_id": channel.team_id,
            "share_user_id": file.user,
            "source": "UNKNOWN",
        }
        if share.thread_ts:
            entry["thread_ts"] = share.thread_ts
        shares.setdefault(visibility, {}).setdefault(channel.id, []).append(entry)
        kind = "ims" if channel.is_im else "groups" if channel.is_private else "channels"
        lists[kind].append(channel.id)
    return {"shares": shares, **lists}


def channel_json(channel: Channel, workspace: Workspace) -> dict[str, Any]:
    if channel.is_im:
        return {
            "id": channel.id,
            "created": channel.created,
            "is_archived": False,
            "is_im": True,
            "is_org_shared": False,
            "context_team_id": workspace.id,
            "updated": channel.created * 1000,
            "user": channel.im_user,
            "is_user_deleted": False,
            "priority": 0,
        }
    empty_text = {"value": "", "creator": "", "last_set": 0}
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "created": channel.created,
        "is_archived": False,
        "is_general": channel.name == "general",
        "unlinked": 0,
        "name_normalized": channel.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_ext_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": workspace.id,
        "updated": channel.created * 1000,
        "parent_conversation": None,
        "creator": workspace.installer or "",
        "shared_team_ids": [workspace.id],
        "is_member": workspace.bot_user.id in channel.members,
        "topic": empty_text,
        "purpose": empty_text,
        "previous_names": [],
    }


def user_json(user: User, *, include_locale: bool = False) -> dict[str, Any]:
    profile = {
        "real_name": user.real_name,
        "display_name": user.name,
        "real_name_normalized": user.real_name,
        "display_name_normalized": user.name,
        "team": user.team_id,
        "avatar_hash": "",
        "image_48": "",
        "image_72": "",
    }
    if user.email:
        profile["email"] = user.email
    if user.is_bot:
        profile |= {"bot_id": user.bot_id, "always_active": True}
    data = {
        "id": user.id,
        "team_id": user.team_id,
        "name": user.name,
        "deleted": False,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": user.tz,
        "tz_offset": user.tz_offset,
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": user.is_owner,
        "is_primary_owner": user.is_owner,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": int(time.time()),
    }
    if include_locale:
        data["locale"] = "en-US"
    return data
