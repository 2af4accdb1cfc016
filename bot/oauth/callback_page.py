"""`GET /oauth/logfire/callback`: where Logfire sends the browser back, and the small page it shows."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.errors import LogfireBotError
from bot.oauth.authorization import CallbackFailed, CallbackRefused, Connected, OAuthFlow, Requester

log = logging.getLogger(__name__)

CALLBACK_PATH = "/oauth/logfire/callback"

# Told about every outcome that has a known requester, so Slack can say the same thing in the right place.
OnConnected = Callable[[Connected], Awaitable[str | None]]
OnFailed = Callable[[Requester, LogfireBotError], Awaitable[None]]

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the URL carries the code and state
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


def callback_handler(flow: OAuthFlow, on_connected: OnConnected, on_failed: OnFailed) -> Callable:
    """The aiohttp handler; `on_connected` may return an extra line for the page (e.g. the project)."""

    async def handle(request: web.Request) -> web.Response:
        try:
            connected = await flow.complete_authorization(request.query)
        except (CallbackRefused, CallbackFailed) as error:
            team = error.requester.team_id if error.requester else "unknown"
            log.warning("Logfire authorization callback for team %s refused: %s", team, error)
            if error.requester is not None:
                await _tell(on_failed, error.requester, error)
            status = error.status if isinstance(error, CallbackRefused) else 400
            return page("Not connected", str(error), status=status)
        except LogfireBotError as error:
            log.warning("Logfire authorization callback failed: %s", error)
            return page("Not connected", str(error), status=502)
        detail = await on_connected(connected)
        return page("Connected to Logfire", _connected_text(connected, detail))

    return handle


async def _tell(on_failed: OnFailed, requester: Requester, error: LogfireBotError) -> None:
    try:
        await on_failed(requester, error)
    except Exception:  # the page must still answer; the failure to notify is logged
        log.exception("could not tell team %s about a failed connection", requester.team_id)


def _connected_text(connected: Connected, detail: str | None) -> str:
    region = {"us": "US", "eu": "EU"}.get(connected.region, connected.mcp_url)
    text = f"This Slack workspace is now connected to Logfire ({region})."
    if detail:
        text += f" {detail}"
    return text + " You can close this tab and ask questions in Slack with `/logfire`."


def page(title: str, message: str, status: int = 200) -> web.Response:
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{html.escape(title)} · Logfire for Slack</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}}
body{{color:#1d1c1d}}h1{{font-size:1.5rem}}
code{{background:#f4f4f4;padding:0 .25rem;border-radius:3px}}</style></head>
<body><h1>{html.escape(title)}</h1><p>{_with_code(message)}</p></body></html>
"""
    return web.Response(text=body, status=status, content_type="text/html", headers=_HEADERS)


def _with_code(message: str) -> str:
    """Escape, then show `backticked` parts as code."""
    parts = html.escape(message).split("`")
    return "".join(f"<code>{part}</code>" if index % 2 else part for index, part in enumerate(parts))
