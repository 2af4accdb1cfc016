"""Errors a Slack user can meet, each with a plain message saying what failed and what to do.

Raised by the OAuth, MCP and analysis layers; the Slack handlers turn them into messages. Messages never
contain secrets.
"""

from __future__ import annotations


class LogfireBotError(Exception):
    """Base class: `str(error)` is the user-facing message."""

    kind = "error"


class NotConnected(LogfireBotError):
    """The workspace has no usable Logfire connection; someone must run `/logfire connect`."""

    kind = "not_connected"

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason
        text = "This workspace is not connected to Logfire."
        if reason:
            text = f"The Logfire connection needs to be renewed: {reason}."
        super().__init__(f"{text} Run `/logfire connect` to authorize again.")


class RegionMismatch(LogfireBotError):
    """Logfire answered that our resource belongs to the other region (tokens are region-specific)."""

    kind = "region_mismatch"

    def __init__(self, suggested_region: str | None) -> None:
        self.suggested_region = suggested_region
        if suggested_region:
            fix = f"connect with `/logfire connect {suggested_region}`"
        else:
            fix = "check the MCP URL and connect with `/logfire connect us`, `eu` or your own `https://…/mcp`"
        super().__init__(f"Region mismatch: your Logfire project lives in the other region; {fix}.")


class ConnectFailed(LogfireBotError):
    """Connecting could not start or finish (discovery, registration, code exchange)."""

    kind = "connect_failed"


class InsufficientScope(LogfireBotError):
    kind = "insufficient_scope"

    def __init__(self, needed: str | None = None) -> None:
        self.needed = needed
        scope = f" (it needs `{needed}`)" if needed else ""
        super().__init__(
            f"Logfire refused the request: the connection lacks a permission{scope}. "
            "Run `/logfire connect` and grant read access to the project."
        )


class LogfireUnavailable(LogfireBotError):
    """Logfire could not be reached, answered with a server error, or was too slow."""

    kind = "logfire_unavailable"

    def __init__(self, detail: str, waited_seconds: float | None = None) -> None:
        self.detail = detail
        waited = f" after waiting {waited_seconds:.3g} s" if waited_seconds is not None else ""
        super().__init__(f"Logfire is not answering right now ({detail}){waited}. Try again in a minute.")


class ToolRefused(LogfireBotError):
    """A tool the read-only gate does not allow (or the server does not offer) was asked for."""

    kind = "tool_refused"

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"The Logfire tool `{name}` is not available to this bot ({reason}).")


class ToolFailed(LogfireBotError):
    """Logfire ran the tool but it failed, e.g. a query error; the message is Logfire's own."""

    kind = "tool_failed"

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        super().__init__(f"Logfire could not run `{name}`: {message}")


class ModelUnavailable(LogfireBotError):
    """Claude's API did not answer after the retries (failing, unreachable, too slow)."""

    kind = "model_unavailable"

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        self.detail = detail
        self.retry_after = retry_after
        wait = "in a minute"
        if retry_after is not None and retry_after > 0:
            wait = f"in about {max(1, round(retry_after))} s"
        super().__init__(f"Claude is not available right now ({detail}). Try again {wait}.")


class ModelOverloaded(ModelUnavailable):
    """Anthropic answered 529 overloaded (for everyone), still after the retries."""

    kind = "model_overloaded"

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("the Anthropic API is overloaded", retry_after)


class ModelRateLimited(ModelUnavailable):
    """Anthropic answered 429 for the bot's organization, still after the retries."""

    kind = "model_rate_limited"

    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("the bot reached its Anthropic rate limit", retry_after)


class ModelRejected(LogfireBotError):
    """The Anthropic API refused the bot's request (API key, permission, model name, spend limit)."""

    kind = "model_rejected"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(
            f"The Anthropic API refused the request ({detail}). An admin needs to check ANTHROPIC_API_KEY "
            "and LOGFIRE_BOT_MODEL."
        )
