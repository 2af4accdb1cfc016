"""A browser for the sandbox's authorization pages: it follows an authorize URL through the consent form
(Approve or Deny, optionally choosing a project) and stops at the redirect that leaves the sandbox.

Used by the demo and `logfire-bot ask --sandbox`; the tests drive the same pages.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2

MAX_STEPS = 6


class _ConsentForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.action = attr.get("action")
        elif tag == "input" and attr.get("type") == "hidden":
            self.hidden[attr["name"]] = attr.get("value", "")


async def consent(url: str, *, issuer: str, approve: bool = True, project: str | None = None) -> str:
    """Follow `url` inside the issuer, submitting the consent form; return the URL the browser leaves for."""
    async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as browser:
        response = await browser.get(url)
        for _ in range(MAX_STEPS):
            location = response.headers.get("location")
            if response.status_code == 200 and "<form" in response.text:
                form = _ConsentForm()
                form.feed(response.text)
                data = {**form.hidden, "action": "approve" if approve else "deny"}
                if project is not None:
                    data["project"] = project
                response = await browser.post(urljoin(str(response.url), form.action or ""), data=data)
            elif location and location.startswith(issuer):
                response = await browser.get(location)
            elif location:
                return location
            else:
                status = response.status_code
                raise RuntimeError(f"the authorization server answered HTTP {status} without a redirect")
    raise RuntimeError("too many redirects inside the authorization server")


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}
