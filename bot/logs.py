"""One logging configuration for the whole app, with secrets redacted before anything is written.

Redaction has two layers: patterns for anything shaped like a token or a secret-bearing parameter, and the
exact values the bot has decrypted or received in this process (`remember_secret`), whatever their shape.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime

REDACTED = "[redacted]"

_PATTERNS = [
    # Slack tokens, Anthropic keys, JWTs
    re.compile(r"\bxox[abposre]-[0-9A-Za-z-]{8,}"),
    re.compile(r"\bxapp-[0-9A-Za-z-]{8,}"),
    re.compile(r"\bsk-ant-[0-9A-Za-z_-]{8,}"),
    re.compile(r"\beyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]*"),
    # Authorization headers
    re.compile(r"(?i)\b((?:bearer|basic)\s+)([0-9A-Za-z._~+/=-]{8,})"),
    # key=value and "key": "value" pairs whose key names a secret
    re.compile(
        r"(?i)([\"']?\b(?:access_token|refresh_token|id_token|client_secret|code_verifier|password|api_key|"
        r"secret|token)\b[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,}]{6,})"
    ),
    # OAuth codes and states in URLs
    re.compile(r"([?&](?:code|state)=)([^&\s\"']{6,})"),
]

_MAX_REMEMBERED = 10_000
_remembered: set[str] = set()
_remembered_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Redact this exact value from every log line from now on (tokens, verifiers, client secrets)."""
    if value and len(value) >= 8:
        with _remembered_lock:
            if len(_remembered) >= _MAX_REMEMBERED:
                _remembered.clear()
            _remembered.add(value)


def redact(text: str) -> str:
    """Remove everything that looks like, or is known to be, a secret."""
    with _remembered_lock:
        known = sorted(_remembered, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders the message (and any traceback) and replaces it with its redacted form."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str = "text", level: str = "INFO", stream=None) -> logging.Handler:
    """Install one handler on the root logger; returns it (tests attach their own stream)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, "_logfire_bot", False)]:
        root.removeHandler(existing)
    handler._logfire_bot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx2", "httpcore2", "aiosqlite", "asyncio", "matplotlib", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return handler
