"""Progress while an analysis runs: the assistant status line on the thread where Slack allows it, else a
status message updated in place and removed when the answer arrives."""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers import slack_io

log = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 1.0  # setStatus and chat.update are rate-limited: at most one change a second


class ThreadStatus:
    def __init__(self, client: AsyncWebClient, channel: str, thread_ts: str) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self._native: bool | None = None  # None until the first attempt
        self._message_ts: str | None = None
        self._last_change = 0.0
        self.shown: list[str] = []

    async def show(self, text: str, *, force: bool = False) -> None:
        """Show `text`; within a second of the last change it is skipped unless `force` (a change of phase,
        such as leaving the queue, that must not be lost)."""
        if not force and self.shown and time.monotonic() - self._last_change < MIN_INTERVAL_SECONDS:
            return
        self._last_change = time.monotonic()
        self.shown.append(text)
        if self._native is not False and await self._set_native(text):
            self._native = True
            return
        self._native = False
        await self._show_message(text)

    async def clear(self) -> None:
        if self._native:
            await self._set_native("")
        if self._message_ts is not None:
            await slack_io.delete(self.client, self.channel, self._message_ts)
            self._message_ts = None

    async def _set_native(self, text: str) -> bool:
        try:
            await self.client.assistant_threads_setStatus(
                channel_id=self.channel, thread_ts=self.thread_ts, status=text
            )
        except SlackApiError as error:
            log.info(
                "assistant status unavailable here (%s); using a status message", slack_io.error_code(error)
            )
            return False
        return True

    async def _show_message(self, text: str) -> None:
        line = f":hourglass_flowing_sand: {text}…"
        try:
            if self._message_ts is None:
                self._message_ts = await slack_io.post(
                    self.client, self.channel, line, thread_ts=self.thread_ts
                )
            else:
                await slack_io.update(self.client, self.channel, self._message_ts, line)
        except SlackApiError as error:  # progress is a courtesy: never fail the answer for it
            log.info("could not show progress: %s", slack_io.error_code(error))
