"""auth.test, conversations.info/open, chat.getPermalink, users.info, usergroups.* and views.publish."""

from __future__ import annotations

import time
from typing import Any

from sandbox.slack import ids
from sandbox.slack.api import Call, Method
from sandbox.slack.blocks import MAX_VIEW_BLOCKS, validate_blocks
from sandbox.slack.posting import with_ids
from sandbox.slack.shapes import channel_json, user_json
from sandbox.slack.wire import ApiError, flag, invalid_arguments, json_arg, required


def auth_test(call: Call) -> dict[str, Any]:
    ws = call.ws
    data = {
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.name,
        "user": call.bot.name,
        "team_id": ws.id,
        "user_id": call.bot.id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }
    if ws.enterprise_id:
        data["enterprise_id"] = ws.enterprise_id
    return data


def conversations_info(call: Call) -> dict[str, Any]:
    channel = call.state.conversation(call.ws, call.arg("channel"))
    needed = "im:read" if channel.is_im else "groups:read" if channel.is_private else "channels:read"
    if needed not in call.ws.scopes:
        raise ApiError("missing_scope", needed=needed, provided=",".join(call.ws.scopes))
    return {"channel": channel_json(channel, call.ws)}


def conversations_open(call: Call) -> dict[str, Any]:
    """The DM with one user (group DMs are not emulated)."""
    users = call.arg("users")
    user = str(users[0] if isinstance(users, list) else users or "")
    if "," in user or user not in call.ws.users:
        raise ApiError("user_not_found")
    return {"channel": {"id": call.ws.im(user).id}, "no_op": True, "already_open": True}


def get_permalink(call: Call) -> dict[str, Any]:
    channel = call.state.conversation(call.ws, call.arg("channel"))
    message = call.state.message(channel.id, str(call.arg("message_ts") or ""))
    if message is None:
        raise ApiError("message_not_found")
    link = f"https://{call.ws.domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def users_info(call: Call) -> dict[str, Any]:
    user = call.ws.users.get(str(call.arg("user") or ""))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user_json(user, include_locale=bool(flag(call.params.get("include_locale"))))}


def usergroups_list(call: Call) -> dict[str, Any]:
    include_users = bool(flag(call.params.get("include_users")))
    groups = []
    for group in call.ws.usergroups.values():
        data = {
            "id": group.id,
            "team_id": group.team_id,
            "is_usergroup": True,
            "name": group.name,
            "handle": group.handle,
            "description": "",
            "user_count": len(group.users),
        }
        groups.append(data | ({"users": sorted(group.users)} if include_users else {}))
    return {"usergroups": groups}


def usergroups_users(call: Call) -> dict[str, Any]:
    group = call.ws.usergroups.get(str(call.arg("usergroup") or ""))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": sorted(group.users)}


def views_publish(call: Call) -> dict[str, Any]:
    state, ws = call.state, call.ws
    required(call.params, "user_id", "view")
    user_id = str(call.params["user_id"])
    if user_id not in ws.users:
        raise ApiError("user_not_found")
    view = json_arg(call.params, "view")
    if not isinstance(view, dict) or view.get("type") != "home":
        raise invalid_arguments("must be home [json-pointer:/view/type]")
    errors = validate_blocks(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS, pointer="/view/blocks")
    if errors:
        raise invalid_arguments(*errors)
    current = state.home_views.get((ws.id, user_id))
    if call.arg("hash") and current and call.arg("hash") != current["hash"]:
        raise ApiError("hash_conflict")
    view_id = current["id"] if current else ids.new_id("V")
    published = {
        "id": view_id,
        "team_id": ws.id,
        "type": "home",
        "blocks": with_ids(view["blocks"]),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{ids.new_secret(4)}",
        "title": {"type": "plain_text", "text": "View Title", "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": None,
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": state.app.app_id,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": ws.id,
        "bot_id": ws.bot_id,
    }
    state.home_views[(ws.id, user_id)] = published
    state.touch()
    return {"view": published}


METHODS = {
    "auth.test": Method(auth_test),
    "conversations.info": Method(conversations_info),
    "conversations.open": Method(conversations_open, ("im:write",)),
    "chat.getPermalink": Method(get_permalink),
    "users.info": Method(users_info, ("users:read",)),
    "usergroups.list": Method(usergroups_list, ("usergroups:read",)),
    "usergroups.users.list": Method(usergroups_users, ("usergroups:read",)),
    "views.publish": Method(views_publish),
}
