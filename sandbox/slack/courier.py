"""Sending signed requests to the bot's request URL over real HTTP, and what came back."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from sandbox.slack.model import SlackApp
from sandbox.slack.signing import Signing, signature_headers

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass
class Delivery:
    """One request to the bot: `status` is None when the bot did not answer within the ack timeout."""

    kind: str
    body: bytes
    content_type: str
    status: int | None
    text: str
    elapsed: float
    retry_num: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def timed_out(self) -> bool:
        return self.status is None

    @property
    def response_url(self) -> str | None:
        return self.meta.get("response_url")

    @property
    def event_id(self) -> str | None:
        return self.meta.get("event_id")

    @property
    def event_type(self) -> str | None:
        return self.meta.get("event_type")

    def json(self) -> Any:
        """The bot's response body parsed as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.text) if self.text.strip() else None
        except ValueError:
            return None


class Courier:
    def __init__(self, app: SlackApp, *, ack_timeout: float) -> None:
        self.app = app
        self.ack_timeout = ack_timeout
        self.deliveries: list[Delivery] = []
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        kind: str,
        body: bytes,
        content_type: str,
        *,
        signing: Signing = "valid",
        retry: tuple[int, str] | None = None,
        **meta: Any,
    ) -> Delivery:
        if self._session is None:
            raise RuntimeError("the emulator is not started")
        if not self.app.request_url:
            raise RuntimeError("set emu.app.request_url to the bot's /slack/events URL first")
        headers = {
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            **signature_headers(body, self.app.signing_secret, signing),
        }
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry[0]), "X-Slack-Retry-Reason": retry[1]}
        started = time.perf_counter()
        status: int | None = None
        text = ""
        try:
            timeout = aiohttp.ClientTimeout(total=self.ack_timeout)
            async with self._session.post(
                self.app.request_url, data=body, headers=headers, timeout=timeout
            ) as response:
                status, text = response.status, await response.text()
        except TimeoutError:
            pass
        delivery = Delivery(
            kind,
            body,
            content_type,
            status,
            text,
            time.perf_counter() - started,
            retry_num=retry[0] if retry else 0,
            meta=meta,
        )
        self.deliveries.append(delivery)
        return delivery
