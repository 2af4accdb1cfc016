"""Clients of the sandbox for tests: OAuth (DCR, a browser through the consent form, authlib) and MCP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

REDIRECT_URI = "http://127.0.0.1:9/oauth/callback"  # never served: the browser stops at this redirect
SCOPE = "project:read"


@dataclass
class Registered:
    client_id: str
    client_secret: str


@dataclass
class Authorization:
    """What the browser brought back to the redirect URI, plus the request's own PKCE verifier and state."""

    params: dict[str, str]
    verifier: str
    state: str

    @property
    def code(self) -> str:
        return self.params["code"]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self.projects: list[str] = []
        self.buttons: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.action = attr.get("action")
        elif tag == "input" and attr.get("type") == "hidden":
            self.hidden[attr["name"]] = attr.get("value", "")
        elif tag == "input" and attr.get("type") == "radio" and attr.get("name") == "project":
            self.projects.append(attr.get("value", ""))
        elif tag == "button":
            self.buttons.append(attr.get("value", ""))


def parse_consent_form(page: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(page)
    return parser


async def register(http: httpx2.AsyncClient, issuer: str, **metadata: Any) -> Registered:
    body = {
        "redirect_uris": [REDIRECT_URI],
        "client_name": "Logfire for Slack (tests)",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_post",
        "scope": SCOPE,
        "application_type": "web",
        **metadata,
    }
    response = await http.post(f"{issuer}/register", json=body)
    assert response.status_code == 201, response.text
    info = response.json()
    return Registered(info["client_id"], info["client_secret"])


def oauth_client(client: Registered) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client.client_id,
        client.client_secret,
        token_endpoint_auth_method="client_secret_post",
        revocation_endpoint_auth_method="client_secret_post",  # authlib's default is Basic
        redirect_uri=REDIRECT_URI,
        scope=SCOPE,
        code_challenge_method="S256",
    )


def oauth_client_for(token: dict[str, Any]) -> AsyncOAuth2Client:
    """The authlib client of the registration a `login()` result came from."""
    return oauth_client(Registered(token["client_id"], token["client_secret"]))


async def browse(
    browser: httpx2.AsyncClient, url: str, *, issuer: str, approve: bool = True, project: str | None = None
) -> httpx2.Response:
    """Follow redirects inside the issuer, submitting the consent form; returns the redirect leaving it."""
    response = await browser.get(url)
    for _ in range(5):
        location = response.headers.get("location")
        if response.status_code == 200 and "<form" in response.text:
            form = parse_consent_form(response.text)
            data = {**form.hidden, "action": "approve" if approve else "deny"}
            if project is not None:
                data["project"] = project
            response = await browser.post(urljoin(str(response.url), form.action or ""), data=data)
        elif location and location.startswith(issuer):
            response = await browser.get(location)
        else:
            return response
    raise AssertionError("too many redirects inside the authorization server")


async def authorize(
    sandbox: Any,
    oauth: AsyncOAuth2Client,
    *,
    approve: bool = True,
    project: str | None = None,
    resource: str | None = None,
    **extra: str,
) -> Authorization:
    verifier = generate_token(64)
    url, state = oauth.create_authorization_url(
        f"{sandbox.issuer}/authorize", code_verifier=verifier, resource=resource or sandbox.mcp_url, **extra
    )
    async with httpx2.AsyncClient(follow_redirects=False) as browser:
        response = await browse(browser, url, issuer=sandbox.issuer, approve=approve, project=project)
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI), location
    params = {key: values[0] for key, values in parse_qs(urlparse(location).query).items()}
    return Authorization(params=params, verifier=verifier, state=state)


async def login(sandbox: Any, *, project: str | None = None) -> dict[str, Any]:
    """Register, approve and exchange the code: a fresh token response for the sandbox's MCP resource."""
    async with httpx2.AsyncClient() as http:
        client = await register(http, sandbox.issuer)
    async with oauth_client(client) as oauth:
        granted = await authorize(sandbox, oauth, project=project)
        token = await oauth.fetch_token(
            f"{sandbox.issuer}/token",
            code=granted.code,
            code_verifier=granted.verifier,
            resource=sandbox.mcp_url,
        )
    return {**token, "client_id": client.client_id, "client_secret": client.client_secret}


@asynccontextmanager
async def mcp_session(mcp_url: str, access_token: str, *, mode: str = "legacy") -> AsyncIterator[Client]:
    """A connected mcp 2.x `Client` over streamable HTTP with this bearer token ("legacy": initialize)."""
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120)) as http,
        Client(streamable_http_client(mcp_url, http_client=http), mode=mode) as client,
    ):
        yield client
