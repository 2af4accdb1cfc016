"""A Slack Web API emulator on loopback, and Slack's side of the conversation with a bot (signed commands,
events and interactions). Used by the tests and the demo; never imported by bot/ or db/."""

from sandbox.slack.courier import Delivery
from sandbox.slack.driver import UserPost
from sandbox.slack.emulator import ApiCall, SlackEmulator
from sandbox.slack.model import Channel, Message, SlackApp, SlackFile, StatusUpdate, User, Workspace

__all__ = [
    "ApiCall",
    "Channel",
    "Delivery",
    "Message",
    "SlackApp",
    "SlackEmulator",
    "SlackFile",
    "StatusUpdate",
    "User",
    "UserPost",
    "Workspace",
]
