"""One Web API call: its arguments and caller, and how a method declares its auth and scopes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.slack.model import User, Workspace
from sandbox.slack.state import SlackState
from sandbox.slack.wire import ApiError


@dataclass
class Call:
    state: SlackState
    params: dict[str, Any]
    token: str | None
    headers: Mapping[str, str]
    base_url: str
    workspace: Workspace | None = None

    @property
    def ws(self) -> Workspace:
        if self.workspace is None:
            raise ApiError("not_authed")
        return self.workspace

    @property
    def bot(self) -> User:
        return self.ws.bot_user

    def arg(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name, default)
        return default if value == "" else value


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Method:
    handler: Handler
    scopes: tuple[str, ...] = ()
    authed: bool = True

    def run(self, call: Call) -> dict[str, Any]:
        if self.authed:
            call.workspace = call.state.authenticate(call.token)
            if self.scopes and not set(self.scopes) & set(call.ws.scopes):
                raise ApiError("missing_scope", needed=self.scopes[0], provided=",".join(call.ws.scopes))
        return {"ok": True, **self.handler(call)}
