"""Block Kit builders: pure functions from our data to Slack messages (`Message(text, blocks)`) and views.

No Slack API calls and no Bolt here. Every text we did not write is escaped; every message stays within
Slack's limits (3000 per section, 50 blocks and about 12k characters of block text per message, button
values ≤ 2000 and URLs ≤ 3000) and carries a fallback `text`.
"""

from bot.handlers.blocks.answer import (
    OPEN_IN_LOGFIRE_ACTION,
    PIN_CHART_ACTION,
    PIN_CHART_ACTION_PATTERN,
    SHOW_QUERY_ACTION,
    answer_messages,
    query_messages,
    question_message,
    working_message,
)
from bot.handlers.blocks.connection import (
    AUTHORIZE_ACTION,
    connect_prompt,
    connected_message,
    disconnect_message,
    status_message,
    tools_message,
)
from bot.handlers.blocks.errors import (
    RETRY_ACTION,
    admin_only_message,
    callback_refused_message,
    chart_not_ready_message,
    chart_pinned_message,
    connect_failed_message,
    error_message,
    insufficient_scope_message,
    internal_error_message,
    logfire_unavailable_message,
    missing_permission_message,
    model_overloaded_message,
    model_rate_limited_message,
    model_rejected_message,
    model_unavailable_message,
    not_connected_message,
    not_in_channel_message,
    query_not_found_message,
    region_mismatch_message,
    slack_error_message,
    tool_failed_message,
    tool_refused_message,
)
from bot.handlers.blocks.help import COMMAND, EXAMPLE_QUESTIONS, help_message
from bot.handlers.blocks.home import CONNECT_ACTION, CONNECT_ACTION_PATTERN, home_view
from bot.handlers.blocks.kit import Message, escape

# URL buttons still send `block_actions`: the app must ack these too.
URL_BUTTON_ACTIONS = (AUTHORIZE_ACTION, OPEN_IN_LOGFIRE_ACTION)

__all__ = [
    "AUTHORIZE_ACTION",
    "COMMAND",
    "CONNECT_ACTION",
    "CONNECT_ACTION_PATTERN",
    "EXAMPLE_QUESTIONS",
    "OPEN_IN_LOGFIRE_ACTION",
    "PIN_CHART_ACTION",
    "PIN_CHART_ACTION_PATTERN",
    "RETRY_ACTION",
    "SHOW_QUERY_ACTION",
    "URL_BUTTON_ACTIONS",
    "Message",
    "admin_only_message",
    "answer_messages",
    "callback_refused_message",
    "chart_not_ready_message",
    "chart_pinned_message",
    "connect_failed_message",
    "connect_prompt",
    "connected_message",
    "disconnect_message",
    "error_message",
    "escape",
    "help_message",
    "home_view",
    "insufficient_scope_message",
    "internal_error_message",
    "logfire_unavailable_message",
    "missing_permission_message",
    "model_overloaded_message",
    "model_rate_limited_message",
    "model_rejected_message",
    "model_unavailable_message",
    "not_connected_message",
    "not_in_channel_message",
    "query_messages",
    "query_not_found_message",
    "question_message",
    "region_mismatch_message",
    "slack_error_message",
    "status_message",
    "tool_failed_message",
    "tool_refused_message",
    "tools_message",
    "working_message",
]
