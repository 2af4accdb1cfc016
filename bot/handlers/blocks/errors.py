"""Failures as plain messages: what failed, what to do, and a **Retry** button where retrying can help.

One builder per error kind, taking plain strings; `error_message()` picks the builder for an exception.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.errors import LogfireBotError
from bot.handlers.blocks.connection import REGION_NAMES
from bot.handlers.blocks.help import COMMAND
from bot.handlers.blocks.kit import (
    FALLBACK_TEXT_LIMIT,
    Block,
    Message,
    actions,
    button,
    clip_escaped,
    code,
    context,
    one_line,
    safe,
    section,
)
from bot.oauth.endpoints import DEFAULT_REGION_URLS

RETRY_ACTION = "retry"  # value: the analysis id or question key given as `retry_key`


def not_connected_message(reason: str | None = None) -> Message:
    if reason:
        title = f"The Logfire connection needs to be renewed: {safe(reason, 500)}."
    else:
        title = "This workspace is not connected to Logfire."
    return _failure(
        title,
        f"Run `{COMMAND} connect` (or `{COMMAND} connect eu` for the EU region) and approve read access.",
    )


def region_mismatch_message(
    suggested_region: str | None, *, region_urls: Mapping[str, str] = DEFAULT_REGION_URLS
) -> Message:
    """The seed's troubleshooting row: the project lives in the other region than the endpoint."""
    target = (suggested_region or "").lower()
    others = [name for name in region_urls if name != target]
    if target in region_urls and len(others) == 1:
        current = others[0]
        cause = (
            f"Your Logfire project lives in the {_region(target)} region but this connection points at the "
            f"{_region(current)} endpoint ({code(region_urls[current], 300)})."
        )
        fix = f"Run `{COMMAND} connect {target}` to use {code(region_urls[target], 300)} as the endpoint URL."
    else:
        cause = "Your Logfire project lives in another region than the endpoint this connection points at."
        choices = " or ".join(f"`{COMMAND} connect {name}`" for name in region_urls)
        fix = f"Run {choices}, or `{COMMAND} connect https://…/mcp` with your project's endpoint URL."
    return _failure("Region mismatch", f"{cause}\n*Fix:* {fix}")


def connect_failed_message(detail: str) -> Message:
    return _failure(
        "Connecting to Logfire did not work.",
        f"{safe(detail, 1500)}\nCheck the region or MCP URL, then run `{COMMAND} connect` again.",
    )


def callback_refused_message(detail: str) -> Message:
    return _failure(
        "The Logfire authorization could not finish.",
        f"{safe(detail, 1500)}\nRun `{COMMAND} connect` to get a new link.",
    )


def insufficient_scope_message(needed: str | None = None) -> Message:
    scope = f" (it needs {code(needed, 100)})" if needed else ""
    return _failure(
        f"Logfire refused the request: the connection lacks a permission{scope}.",
        f"Run `{COMMAND} connect` and grant read access to the project.",
    )


def logfire_unavailable_message(detail: str, *, retry_key: str | None = None) -> Message:
    return _failure(
        "Logfire is not answering right now.",
        "Try again in a minute.",
        detail=detail,
        retry_key=retry_key,
    )


def tool_refused_message(tool: str, reason: str) -> Message:
    return _failure(
        f"The Logfire tool {code(tool, 80)} is not available to this bot.",
        f"The bot only calls read-only tools (`{COMMAND} tools` lists them). Try asking another way.",
        detail=reason,
    )


def tool_failed_message(tool: str, detail: str, *, retry_key: str | None = None) -> Message:
    return _failure(
        f"Logfire could not run {code(tool, 80)}.",
        "Try asking another way, or retry if it looks temporary.",
        detail=detail,
        retry_key=retry_key,
    )


def model_overloaded_message(*, retry_key: str | None = None) -> Message:
    return _failure(
        "Claude is overloaded right now (Anthropic answered “overloaded”).",
        "Nothing is wrong with your question or Logfire. Try again in a minute.",
        retry_key=retry_key,
    )


def model_rate_limited_message(retry_after: float | None = None, *, retry_key: str | None = None) -> Message:
    wait = f"in {retry_after:.0f} s" if retry_after else "in a minute"
    return _failure(
        "The bot reached its Anthropic rate limit.",
        f"Too many questions at once. Try again {wait}.",
        retry_key=retry_key,
    )


def model_unavailable_message(detail: str, *, retry_key: str | None = None) -> Message:
    """Claude's API failed or could not be reached after the retries."""
    return _failure(
        "Claude is not available right now.",
        "Nothing is wrong with your question or Logfire. Try again in a minute.",
        detail=detail,
        retry_key=retry_key,
    )


def model_rejected_message(detail: str) -> Message:
    """Anthropic refused the bot's own request (key, model, spend limit): retrying cannot help."""
    return _failure(
        "The Anthropic API refused the bot's request.",
        "An admin needs to check the bot's `ANTHROPIC_API_KEY` and `LOGFIRE_BOT_MODEL` settings.",
        detail=detail,
    )


def missing_permission_message(scope: str, action: str) -> Message:
    """A Slack `missing_scope`: e.g. `pins:write` to pin the chart."""
    return _failure(
        f"I could not {safe(action, 100)}: the app lacks the Slack permission {code(scope, 100)}.",
        "Ask a workspace admin to update the app with the current manifest (`logfire-bot manifest`) "
        "and reinstall it.",
    )


def not_in_channel_message(action: str, *, retry_key: str | None = None) -> Message:
    return _failure(
        f"I could not {safe(action, 100)}: I am not a member of this channel.",
        "Invite me with `/invite @Logfire` (or from the channel details), then try again.",
        retry_key=retry_key,
    )


def slack_error_message(
    error: str, action: str, *, needed: str | None = None, retry_key: str | None = None
) -> Message:
    """A Slack Web API error code (`SlackApiError.response["error"]`) as a plain message."""
    if error == "missing_scope":
        return missing_permission_message(needed or "(unknown)", action)
    if error in ("not_in_channel", "channel_not_found"):
        return not_in_channel_message(action, retry_key=retry_key)
    return _failure(
        f"I could not {safe(action, 100)}: Slack answered {code(error, 100)}.",
        "Try again in a moment.",
        retry_key=retry_key,
    )


def internal_error_message(reference: str | None = None, *, retry_key: str | None = None) -> Message:
    where = f" (reference {code(reference, 64)})" if reference else ""
    return _failure(
        "Something went wrong on the bot's side while answering.",
        f"It has been logged{where}. Try again, or ask another way.",
        retry_key=retry_key,
    )


def admin_only_message(action: str) -> Message:
    return _failure(
        f"Only workspace admins can {safe(action, 100)} here.",
        "Ask an admin of this workspace to do it.",
    )


def query_not_found_message() -> Message:
    return _failure(
        "The queries of that answer are no longer stored.", "Ask the question again to see its queries."
    )


def chart_pinned_message(already: bool = False) -> Message:
    text = "That chart is already pinned to this channel." if already else "Pinned the chart to this channel."
    return Message(text=text, blocks=[section(f":pushpin: {text}")])


def chart_not_ready_message() -> Message:
    return _failure("The chart is not shared in this channel yet.", "Try *Pin chart* again in a few seconds.")


def error_message(
    error: BaseException,
    *,
    retry_key: str | None = None,
    reference: str | None = None,
    region_urls: Mapping[str, str] = DEFAULT_REGION_URLS,
) -> Message:
    """The message for any exception: a `LogfireBotError` by its kind, anything else as an internal error."""
    if not isinstance(error, LogfireBotError):
        return internal_error_message(reference, retry_key=retry_key)
    cause = getattr(error, "cause", None)
    if isinstance(cause, LogfireBotError):
        return error_message(cause, retry_key=retry_key, reference=reference, region_urls=region_urls)
    kind = error.kind
    if kind == "not_connected":
        return not_connected_message(getattr(error, "reason", None))
    if kind == "region_mismatch":
        return region_mismatch_message(getattr(error, "suggested_region", None), region_urls=region_urls)
    if kind == "connect_failed":
        return connect_failed_message(str(error))
    if kind == "callback_refused":
        return callback_refused_message(str(error))
    if kind == "insufficient_scope":
        return insufficient_scope_message(getattr(error, "needed", None))
    if kind == "logfire_unavailable":
        return logfire_unavailable_message(getattr(error, "detail", str(error)), retry_key=retry_key)
    if kind == "tool_refused":
        return tool_refused_message(getattr(error, "name", "?"), getattr(error, "reason", str(error)))
    if kind == "tool_failed":
        return tool_failed_message(
            getattr(error, "name", "?"), getattr(error, "message", str(error)), retry_key=retry_key
        )
    if kind == "model_overloaded":
        return model_overloaded_message(retry_key=retry_key)
    if kind == "model_rate_limited":
        return model_rate_limited_message(getattr(error, "retry_after", None), retry_key=retry_key)
    if kind == "model_unavailable":
        return model_unavailable_message(getattr(error, "detail", str(error)), retry_key=retry_key)
    if kind == "model_rejected":
        return model_rejected_message(getattr(error, "detail", str(error)))
    return _failure(safe(str(error), 1500), "Try again, or ask another way.", retry_key=retry_key)


def retry_button(retry_key: str) -> Block:
    return button("Retry", RETRY_ACTION, value=retry_key)


def _failure(title: str, advice: str, *, detail: str | None = None, retry_key: str | None = None) -> Message:
    """`title` and `advice` are safe mrkdwn; `detail` is untrusted text (an exception's message)."""
    blocks: list[Block] = [section(f":warning: *{title}*\n{advice}")]
    if detail:
        blocks.append(context(f"Details: {safe(one_line(detail), 1500)}"))
    if retry_key:
        blocks.append(actions(retry_button(retry_key)))
    return Message(
        text=clip_escaped(f"{title} {advice}".replace("*", ""), FALLBACK_TEXT_LIMIT), blocks=blocks
    )


def _region(name: str) -> str:
    return REGION_NAMES.get(name, safe(name.upper(), 20))
