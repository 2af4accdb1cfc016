"""Identifiers, secrets and message timestamps in Slack's formats, generated fresh for every run."""

from __future__ import annotations

import secrets
import string
import time

_ID_ALPHABET = string.ascii_uppercase + string.digits


def new_id(prefix: str, length: int = 10) -> str:
    """A Slack-style object id: `T…` team, `U…` user, `C…`/`G…`/`D…` conversation, `F…` file, `A…` app."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_secret(nbytes: int = 16) -> str:
    return secrets.token_hex(nbytes)


def new_digits(length: int = 12) -> str:
    return str(secrets.randbelow(9 * 10 ** (length - 1)) + 10 ** (length - 1))


def bot_token() -> str:
    return f"xoxb-{new_digits()}-{new_digits()}-{secrets.token_urlsafe(18)}"


def rotating_bot_token() -> str:
    return f"xoxe.xoxb-1-{secrets.token_urlsafe(36)}"


def refresh_token() -> str:
    return f"xoxe-1-{secrets.token_urlsafe(36)}"


def trigger_id() -> str:
    return f"{new_digits(10)}.{new_digits(12)}.{secrets.token_hex(16)}"


class TsClock:
    """Message timestamps ("1733241234.000100"): wall-clock microseconds, strictly increasing."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> str:
        self._last = max(time.time_ns() // 1000, self._last + 1)
        seconds, micros = divmod(self._last, 1_000_000)
        return f"{seconds}.{micros:06d}"
