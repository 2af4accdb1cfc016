"""Acting as Slack towards the bot: users run commands, post messages, click buttons, open App Home;
workspaces uninstall the app; Slack retries events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sandbox.slack import ids, payloads
from sandbox.slack.courier import FORM, JSON, Courier, Delivery
from sandbox.slack.model import Channel, Message, User, Workspace
from sandbox.slack.posting import thread_root
from sandbox.slack.responses import apply_response, new_response_url
from sandbox.slack.shapes import message_json
from sandbox.slack.signing import Signing
from sandbox.slack.state import ResponseTarget, SlackState
from sandbox.slack.wire import ApiError

SLACKBOT = "USLACKBOT"


@dataclass
class UserPost:
    """A message a user posted, and the event deliveries it caused (none if the bot was not told)."""

    message: Message
    deliveries: list[Delivery] = field(default_factory=list)


@dataclass(frozen=True)
class SlashCommand:
    """A slash command's request as Slack would send it (form-encoded), and where its responses go."""

    body: bytes
    target: ResponseTarget
    response_url: str
    trigger_id: str


class BotDriver:
    state: SlackState
    courier: Courier
    workspace: Workspace

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    # -- resolving names --------------------------------------------------------------------------

    def _ws(self, workspace: Workspace | None) -> Workspace:
        return workspace or self.workspace

    @staticmethod
    def _user(workspace: Workspace, user: User | str) -> User:
        return user if isinstance(user, User) else workspace.user(user)

    @staticmethod
    def _channel(workspace: Workspace, channel: Channel | str, user: User) -> Channel:
        if isinstance(channel, Channel):
            return channel
        return workspace.im(user.id) if channel == "dm" else workspace.channel(channel)

    def bot_mention(self, workspace: Workspace | None = None) -> str:
        """`<@U…>`, how a user's message mentions the bot."""
        return f"<@{self._ws(workspace).bot_user.id}>"

    # -- slash commands ---------------------------------------------------------------------------

    async def slash_command(
        self,
        text: str = "",
        *,
        user: User | str = "alice",
        channel: Channel | str = "general",
        command: str = "/logfire",
        workspace: Workspace | None = None,
        signing: Signing = "valid",
    ) -> Delivery:
        """Run `/command text`; the ack body is shown as Slack shows it (ephemeral, in_channel, error)."""
        request = self.slash_command_request(
            text, user=user, channel=channel, command=command, workspace=workspace
        )
        delivery = await self.courier.send(
            "command",
            request.body,
            FORM,
            signing=signing,
            response_url=request.response_url,
            trigger_id=request.trigger_id,
            command=command,
        )
        self._show_ack(delivery, request.target, command)
        return delivery

    def slash_command_request(
        self,
        text: str = "",
        *,
        user: User | str = "alice",
        channel: Channel | str = "general",
        command: str = "/logfire",
        workspace: Workspace | None = None,
    ) -> SlashCommand:
        """The form body Slack would send for `/command text` (its response URL live), without sending it:
        for a client that sends it, signed, from elsewhere (a benchmark's own process)."""
        ws = self._ws(workspace)
        author = self._user(ws, user)
        where = self._channel(ws, channel, author)
        target = ResponseTarget(ws.id, where.id, author.id)
        response_url = new_response_url(self.state, self.base_url, "commands", target)
        trigger_id = ids.trigger_id()
        form = payloads.slash_command_form(
            self.state.app,
            ws,
            author,
            where,
            command=command,
            text=text,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        return SlashCommand(urlencode(form).encode(), target, response_url, trigger_id)

    def _show_ack(self, delivery: Delivery, target: ResponseTarget, command: str) -> None:
        if delivery.status != 200:
            error = "operation_timeout" if delivery.timed_out else "dispatch_failed"
            self._slackbot_error(target, command, error)
        elif delivery.text.strip():
            body = delivery.json()
            try:
                apply_response(
                    self.state,
                    target,
                    body if isinstance(body, dict) else {"text": delivery.text},
                    source="command_ack",
                )
            except ApiError as e:
                delivery.meta["ack_error"] = e.error
                self._slackbot_error(target, command, e.error)

    def _slackbot_error(self, target: ResponseTarget, command: str, error: str) -> None:
        self.state.post(
            Message(
                target.channel,
                self.state.clock.next(),
                SLACKBOT,
                target.team_id,
                text=f'{command} failed with the error "{error}"',
                ephemeral_to=target.user,
                source="slackbot",
            )
        )

    # -- messages and events ----------------------------------------------------------------------

    async def user_message(
        self,
        text: str,
        *,
        user: User | str = "alice",
        channel: Channel | str = "general",
        thread_ts: str | None = None,
        workspace: Workspace | None = None,
        signing: Signing = "valid",
    ) -> UserPost:
        """A user posts `text` (channel "dm": their DM with the bot); the bot gets the events it subscribed
        to: `app_mention` when mentioned in a channel it is in, `message` (channel_type im) in DMs, and
        `message` in channels with message.channels/message.groups."""
        ws = self._ws(workspace)
        author = self._user(ws, user)
        where = self._channel(ws, channel, author)
        if author.id not in where.members:
            raise ValueError(f"{author.name} is not in {where.name or where.id}")
        try:
            root = thread_root(self.state, where, thread_ts)
        except ApiError as e:
            raise ValueError(f"no message {thread_ts} in {where.id}") from e
        message = self.state.post(
            Message(
                where.id,
                self.state.clock.next(),
                author.id,
                ws.id,
                text=text,
                blocks=payloads.rich_text(text),
                thread_ts=root,
                source="user",
            )
        )
        post = UserPost(message)
        for event in self._message_events(ws, where, message):
            post.deliveries.append(await self.send_event(event, workspace=ws, signing=signing))
        return post

    def _message_events(self, ws: Workspace, channel: Channel, message: Message) -> list[dict[str, Any]]:
        subscribed = self.state.app.bot_events
        if not ws.installed or ws.bot_user.id not in channel.members:
            return []
        parent = self.state.message(channel.id, message.thread_ts) if message.thread_ts else None
        kinds = []
        if channel.is_im:
            kinds += ["message"] if "message.im" in subscribed else []
        else:
            if self.bot_mention(ws) in message.text and "app_mention" in subscribed:
                kinds.append("app_mention")
            if ("message.groups" if channel.is_private else "message.channels") in subscribed:
                kinds.append("message")
        return [payloads.user_message_event(message, channel, kind=kind, parent=parent) for kind in kinds]

    async def send_event(
        self, event: dict[str, Any], *, workspace: Workspace | None = None, signing: Signing = "valid"
    ) -> Delivery:
        """Deliver any event in an `event_callback` envelope."""
        envelope = payloads.event_envelope(self.state.app, self._ws(workspace), event)
        return await self.courier.send(
            "event",
            json.dumps(envelope).encode(),
            JSON,
            signing=signing,
            event_id=envelope["event_id"],
            event_type=event["type"],
        )

    async def retry(
        self, delivery: Delivery, *, reason: str = "http_timeout", num: int | None = None
    ) -> Delivery:
        """Slack's retry of a delivery: same body, fresh signature, X-Slack-Retry-Num/-Reason headers."""
        return await self.courier.send(
            delivery.kind,
            delivery.body,
            delivery.content_type,
            retry=(num or delivery.retry_num + 1, reason),
            **delivery.meta,
        )

    async def verify_url(self) -> Delivery:
        """The `url_verification` handshake Slack runs when the request URL is configured."""
        body = {
            "token": self.state.app.verification_token,
            "challenge": ids.new_secret(),
            "type": "url_verification",
        }
        return await self.courier.send(
            "url_verification", json.dumps(body).encode(), JSON, challenge=body["challenge"]
        )

    async def send_raw(
        self, body: bytes, *, content_type: str = FORM, signing: Signing = "valid"
    ) -> Delivery:
        return await self.courier.send("raw", body, content_type, signing=signing)

    # -- interactions -----------------------------------------------------------------------------

    async def click(
        self, message: Message, action_id: str, *, user: User | str | None = None, signing: Signing = "valid"
    ) -> Delivery:
        """A user clicks the button `action_id` of a stored message (ephemeral ones: their recipient)."""
        current = (
            self.state.ephemeral(message.channel, message.ts)
            if message.ephemeral_to
            else self.state.message(message.channel, message.ts)
        )
        if current is None:
            raise ValueError(f"message {message.ts} in {message.channel} no longer exists")
        ws = self.state.workspaces[current.team]
        clicker = self._user(ws, user or current.ephemeral_to or "alice")
        if current.ephemeral_to and clicker.id != current.ephemeral_to:
            raise ValueError("only the recipient sees an ephemeral message")
        channel = self.state.find_channel(current.channel)
        assert channel is not None
        action = payloads.action_for(current.blocks, action_id)
        target = ResponseTarget(ws.id, channel.id, clicker.id, message=current)
        response_url = new_response_url(self.state, self.base_url, "actions", target)
        trigger_id = ids.trigger_id()
        shown = None if current.ephemeral_to else message_json(self.state, current, self.base_url)
        payload = payloads.block_actions(
            self.state.app,
            ws,
            clicker,
            channel,
            current,
            shown,
            action,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        return await self.courier.send(
            "interaction",
            urlencode({"payload": json.dumps(payload)}).encode(),
            FORM,
            signing=signing,
            response_url=response_url,
            trigger_id=trigger_id,
            action_id=action_id,
        )

    async def click_home(
        self,
        action_id: str,
        *,
        user: User | str = "alice",
        workspace: Workspace | None = None,
        signing: Signing = "valid",
    ) -> Delivery:
        """A user clicks `action_id` in their App Home tab."""
        ws = self._ws(workspace)
        clicker = self._user(ws, user)
        view = self.state.home_views.get((ws.id, clicker.id))
        if view is None:
            raise ValueError(f"no App Home view published for {clicker.name}")
        payload = payloads.home_block_actions(
            self.state.app,
            ws,
            clicker,
            view,
            payloads.action_for(view["blocks"], action_id),
            trigger_id=ids.trigger_id(),
        )
        return await self.courier.send(
            "interaction",
            urlencode({"payload": json.dumps(payload)}).encode(),
            FORM,
            signing=signing,
            action_id=action_id,
        )

    async def open_home(
        self,
        *,
        user: User | str = "alice",
        tab: str = "home",
        workspace: Workspace | None = None,
        signing: Signing = "valid",
    ) -> Delivery:
        """`app_home_opened` for the `home` (or `messages`) tab, with the Home view when one was published."""
        ws = self._ws(workspace)
        visitor = self._user(ws, user)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": visitor.id,
            "channel": ws.im(visitor.id).id,
            "tab": tab,
            "event_ts": self.state.clock.next(),
        }
        if tab == "home" and (view := self.state.home_views.get((ws.id, visitor.id))) is not None:
            event["view"] = view
        return await self.send_event(event, workspace=ws, signing=signing)

    # -- installation -----------------------------------------------------------------------------

    async def revoke_tokens(self, workspace: Workspace | None = None) -> Delivery:
        """Revoke the workspace's bot token and send `tokens_revoked`."""
        ws = self._ws(workspace)
        self.state.revoke(ws)
        event = {
            "type": "tokens_revoked",
            "tokens": {"oauth": [], "bot": [ws.bot_user.id]},
            "event_ts": self.state.clock.next(),
        }
        return await self.send_event(event, workspace=ws)

    async def uninstall(self, workspace: Workspace | None = None) -> list[Delivery]:
        """Uninstall the app: tokens revoked, then `tokens_revoked` and `app_uninstalled` are sent."""
        ws = self._ws(workspace)
        revoked = await self.revoke_tokens(ws)
        uninstalled = await self.send_event(
            {"type": "app_uninstalled", "event_ts": self.state.clock.next()}, workspace=ws
        )
        return [revoked, uninstalled]
