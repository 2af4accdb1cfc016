"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol: open a page, evaluate
JavaScript in it. Enough for the browser test of the demo's transcript; no browser-automation library."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--allow-file-access-from-files",
    "--remote-debugging-port=0",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (events in between are skipped)."""
        command_id = next(self._ids)
        await self._socket.send_json({"id": command_id, "method": method, "params": params})
        async for message in self._socket:
            reply = json.loads(message.data)
            if reply.get("id") == command_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
        raise RuntimeError("Chromium closed the DevTools connection")

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of `expression` (awaited when it is a promise)."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def open(self, url: str) -> None:
        """Navigate, then wait for the page's load event (images included)."""
        await self.send("Page.enable")
        await self.send("Page.navigate", url=url)
        await self.evaluate(
            "document.readyState === 'complete' ? true"
            " : new Promise(done => addEventListener('load', () => done(true)))"
        )


@asynccontextmanager
async def headless_page(executable: str) -> AsyncIterator[Page]:
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        process = await asyncio.create_subprocess_exec(
            executable,
            *FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its helper processes go with it
        )
        try:
            port = await _debugging_port(Path(profile) / "DevToolsActivePort")
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                    targets = await response.json()
                page_target = next(target for target in targets if target["type"] == "page")
                async with http.ws_connect(page_target["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                    yield Page(socket)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            await process.wait()


async def _debugging_port(announced: Path, within: float = 30.0) -> int:
    """Chromium writes the port it picked (and the browser target path) to DevToolsActivePort."""
    async with asyncio.timeout(within):
        while True:
            if announced.exists() and (text := announced.read_text().split()):
                return int(text[0])
            await asyncio.sleep(0.05)
