"""Installing the app: the /oauth/v2/authorize page (approves at once) and oauth.v2.access (code and
refresh_token grants, token rotation)."""

from __future__ import annotations

import base64
import binascii
import html
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from yarl import URL

from sandbox.slack import ids
from sandbox.slack.api import Call, Method
from sandbox.slack.model import Workspace
from sandbox.slack.state import AuthCode, SlackState
from sandbox.slack.wire import ApiError


def authorize(state: SlackState, query: Mapping[str, str]) -> web.Response:
    """Slack's consent screen, approved by the user at once (or denied with `deny=1`).

    Besides Slack's own parameters (client_id, scope, user_scope, state, redirect_uri, team) the emulator
    takes `user`, the id of the installing user (default: the workspace's owner).
    """
    app = state.app
    if query.get("client_id") != app.client_id:
        return _error_page("invalid_client_id")
    redirect_uri = query.get("redirect_uri") or next(iter(app.redirect_urls), None)
    if not redirect_uri or (
        app.redirect_urls and not any(redirect_uri.startswith(u) for u in app.redirect_urls)
    ):
        return _error_page("bad_redirect_uri")
    scopes = [s for s in query.get("scope", "").split(",") if s]
    if not scopes:
        return _error_page("invalid_scope")
    workspace = state.workspaces.get(query.get("team") or next(iter(state.workspaces), ""))
    if workspace is None:
        return _error_page("invalid_team")
    user = query.get("user") or next((u.id for u in workspace.users.values() if u.is_owner), None)
    if user not in workspace.users:
        return _error_page("invalid_user")
    target = URL(redirect_uri)
    if query.get("deny"):
        raise web.HTTPFound(str(target.update_query(error="access_denied", state=query.get("state", ""))))
    code = ids.new_secret()
    state.oauth_codes[code] = AuthCode(workspace.id, user, scopes, query.get("redirect_uri"))
    raise web.HTTPFound(str(target.update_query(code=code, state=query.get("state", ""))))


def _error_page(error: str) -> web.Response:
    body = f"<!doctype html><title>Slack</title><h1>Installation failed</h1><p>{html.escape(error)}</p>"
    return web.Response(status=400, text=body, content_type="text/html")


def _client_credentials(call: Call) -> tuple[str, str]:
    header = call.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as e:
            raise ApiError("invalid_client_id") from e
        return client_id, secret
    return str(call.arg("client_id") or ""), str(call.arg("client_secret") or "")


def _token_response(state: SlackState, workspace: Workspace) -> dict[str, Any]:
    data: dict[str, Any] = {
        "access_token": workspace.bot_token,
        "token_type": "bot",
        "scope": ",".join(workspace.scopes),
        "bot_user_id": workspace.bot_user.id,
        "app_id": state.app.app_id,
        "team": {"name": workspace.name, "id": workspace.id},
        "enterprise": {"name": workspace.enterprise_name, "id": workspace.enterprise_id}
        if workspace.enterprise_id
        else None,
        "is_enterprise_install": False,
    }
    if state.app.token_rotation:
        data |= {"refresh_token": workspace.refresh_token, "expires_in": state.app.token_ttl}
    return data


def oauth_v2_access(call: Call) -> dict[str, Any]:
    state = call.state
    client_id, secret = _client_credentials(call)
    if client_id != state.app.client_id:
        raise ApiError("invalid_client_id")
    if secret != state.app.client_secret:
        raise ApiError("bad_client_secret")
    grant = call.arg("grant_type") or "authorization_code"
    if grant == "refresh_token":
        return _token_response(state, state.redeem_refresh_token(str(call.arg("refresh_token") or "")))
    if grant != "authorization_code":
        raise ApiError("invalid_grant_type")
    code = state.oauth_codes.pop(str(call.arg("code") or ""), None)
    if code is None or code.expires_at < time.time():
        raise ApiError("invalid_code")
    if code.redirect_uri and call.arg("redirect_uri") != code.redirect_uri:
        raise ApiError("bad_redirect_uri")
    workspace = state.workspaces[code.team_id]
    state.install(workspace, installer=code.user, scopes=code.scopes)
    return _token_response(state, workspace) | {"authed_user": {"id": code.user}}


METHODS = {"oauth.v2.access": Method(oauth_v2_access, authed=False)}
