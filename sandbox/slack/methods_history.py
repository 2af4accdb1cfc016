"""conversations.replies, with the limits Slack imposes on apps not in the Marketplace since 2025-05-29:
one request a minute per method and workspace, at most 15 messages a page
(https://docs.slack.dev/changelog/2025/05/29/rate-limit-changes-for-non-marketplace-apps)."""

from __future__ import annotations

import math
import time
from typing import Any

from sandbox.slack.api import Call, Method
from sandbox.slack.shapes import message_json
from sandbox.slack.wire import ApiError, required

NON_MARKETPLACE_LIMIT = 15
NON_MARKETPLACE_INTERVAL = 60.0


def _throttle(call: Call, method: str) -> None:
    if call.state.app.marketplace:
        return
    key = (call.ws.id, method)
    now = time.monotonic()
    last = call.state.history_calls.get(key)
    if last is not None and now - last < NON_MARKETPLACE_INTERVAL:
        wait = math.ceil(NON_MARKETPLACE_INTERVAL - (now - last))
        raise ApiError("ratelimited", status=429, headers={"Retry-After": str(wait)})
    call.state.history_calls[key] = now


def replies(call: Call) -> dict[str, Any]:
    channel = call.state.conversation(call.ws, call.arg("channel"))
    needed = "im:history" if channel.is_im else "groups:history" if channel.is_private else "channels:history"
    if needed not in call.ws.scopes:
        raise ApiError("missing_scope", needed=needed, provided=",".join(call.ws.scopes))
    if call.bot.id not in channel.members:
        raise ApiError("not_in_channel")
    required(call.params, "ts")
    _throttle(call, "conversations.replies")
    thread = call.state.thread(channel.id, str(call.arg("ts")))
    if not thread:
        raise ApiError("thread_not_found")
    cap = NON_MARKETPLACE_LIMIT if not call.state.app.marketplace else 1000
    limit = min(int(call.arg("limit") or cap), cap)
    page = thread[:limit]
    return {
        "messages": [message_json(call.state, m, call.base_url) for m in page],
        "has_more": len(thread) > limit,
        "response_metadata": {"next_cursor": ""},
    }


METHODS = {"conversations.replies": Method(replies)}
