"""Signing requests to the bot the way Slack does (v0 HMAC-SHA256 over "v0:{timestamp}:{body}").

https://docs.slack.dev/authentication/verifying-requests-from-slack/ — computed here with hmac directly so
that a bot accepting these requests proves it verifies Slack's scheme, not the emulator's own code.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Literal

Signing = Literal["valid", "wrong", "missing", "stale"]
STALE_AGE = 301  # one second past the five minutes Slack's verifiers accept


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signature_headers(body: bytes, secret: str, signing: Signing = "valid") -> dict[str, str]:
    """`valid`, `wrong` (another secret), `missing` (no headers) or `stale` (valid but 301 s old)."""
    if signing == "missing":
        return {}
    timestamp = str(int(time.time()) - (STALE_AGE if signing == "stale" else 0))
    key = secret if signing != "wrong" else "not-" + secret
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature(key, timestamp, body)}
