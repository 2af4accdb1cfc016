"""The Anthropic client (the SDK retries 408/409/429/5xx/529 and connection errors with exponential backoff,
honouring `retry-after`) and what its errors mean for a Slack user once the retries are spent.
"""

from __future__ import annotations

import logging

import anthropic
import httpx2

from bot.config import Settings
from bot.errors import LogfireBotError, ModelOverloaded, ModelRateLimited, ModelRejected, ModelUnavailable

log = logging.getLogger(__name__)


def new_client(settings: Settings) -> anthropic.AsyncAnthropic:
    """AsyncAnthropic (httpx2 underneath) from ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL and the retry setting."""
    if settings.anthropic_api_key is None:
        raise ValueError("ANTHROPIC_API_KEY is not set: the offline planner answers instead")
    return anthropic.AsyncAnthropic(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url,
        max_retries=settings.logfire_bot_model_retries,
        timeout=httpx2.Timeout(settings.logfire_bot_max_seconds, connect=5.0),
    )


def model_error(error: anthropic.AnthropicError) -> LogfireBotError:
    """The user-facing error for an API failure that the SDK's retries did not cure."""
    if isinstance(error, anthropic.APIStatusError):
        log.warning(
            "Anthropic API answered %s (%s, request %s)", error.status_code, error.type, error.request_id
        )
        retry_after = _retry_after(error)
        if error.error_code == "enforced_spend_limit_reached":
            return ModelRejected("the organization's spend limit is reached")
        if isinstance(error, anthropic.RateLimitError):
            return ModelRateLimited(retry_after)
        if error.status_code == 529 or error.type == "overloaded_error":
            return ModelOverloaded(retry_after)
        if error.status_code >= 500 or error.status_code in (408, 409):
            return ModelUnavailable(f"the Anthropic API failed with HTTP {error.status_code}", retry_after)
        if isinstance(error, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
            return ModelRejected(f"HTTP {error.status_code}: the API key was refused")
        message = (error.api_message or error.type or "no message")[:300]
        return ModelRejected(f"HTTP {error.status_code}: {message}")
    if isinstance(error, anthropic.APITimeoutError):
        return ModelUnavailable("the Anthropic API did not answer in time")
    if isinstance(error, anthropic.APIConnectionError):
        return ModelUnavailable("the Anthropic API could not be reached")
    log.warning("Anthropic SDK error: %s", type(error).__name__)
    return ModelUnavailable(type(error).__name__)


def _retry_after(error: anthropic.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
