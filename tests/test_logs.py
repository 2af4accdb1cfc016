"""Logging: one configuration, secrets redacted before anything is written."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import configure_logging, remember_secret

# Fake credentials in the shapes of Slack's and Anthropic's, assembled at run time so that no token-shaped
# string sits in the repository for secret scanners to flag.
FAKE_SLACK_TOKEN = "-".join(("xoxb", "1234567890", "abcdefghij"))
FAKE_ANTHROPIC_KEY = "-".join(("sk", "ant", "api03", "abcdefghijklmn"))


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    handler = configure_logging("text", "DEBUG", stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


@pytest.mark.parametrize(
    "line",
    [
        "calling with Authorization: Bearer abcdefghijklmnop1234",
        "token response {'access_token': 'opaque123456789', 'token_type': 'Bearer'}",
        'body {"refresh_token": "rt_0123456789abcdef"}',
        "GET /oauth/logfire/callback?code=authcode12345&state=statevalue999",
        f"slack says {FAKE_SLACK_TOKEN}",
        f"anthropic key {FAKE_ANTHROPIC_KEY}",
        "client_secret=verysecretvalue",
        "code_verifier=verifier1234567890",
    ],
)
def test_secret_shapes_are_redacted(captured: io.StringIO, line: str) -> None:
    logging.getLogger("bot.test").info(line)
    written = captured.getvalue()
    assert "[redacted]" in written
    for secret in (
        "abcdefghijklmnop1234",
        "opaque123456789",
        "rt_0123456789abcdef",
        "authcode12345",
        "statevalue999",
        FAKE_SLACK_TOKEN.rsplit("-", 1)[0],
        FAKE_ANTHROPIC_KEY.rsplit("-", 1)[0],
        "verysecretvalue",
        "verifier1234567890",
    ):
        assert secret not in written


def test_remembered_values_are_redacted_in_messages_args_and_tracebacks(captured: io.StringIO) -> None:
    remember_secret("plain-looking-value-42")
    logger = logging.getLogger("bot.test")
    logger.warning("value %s in args", "plain-looking-value-42")
    try:
        raise RuntimeError("failed with plain-looking-value-42")
    except RuntimeError:
        logger.exception("refresh failed")
    written = captured.getvalue()
    assert "plain-looking-value-42" not in written
    assert "value [redacted] in args" in written
    assert "RuntimeError: failed with [redacted]" in written  # the traceback is kept, redacted


def test_ordinary_text_is_left_alone(captured: io.StringIO) -> None:
    logging.getLogger("bot.test").info("error code=invalid_grant for team T123 after 3 tries")
    assert "error code=invalid_grant for team T123 after 3 tries" in captured.getvalue()


def test_json_format() -> None:
    stream = io.StringIO()
    handler = configure_logging("json", "INFO", stream=stream)
    try:
        logging.getLogger("bot.test").info("hello %s", "Bearer abcdefghijklmnop")
    finally:
        logging.getLogger().removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "info"
    assert entry["logger"] == "bot.test"
    assert entry["message"] == "hello Bearer [redacted]"
