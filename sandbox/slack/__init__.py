"""A Slack Web API emulator on loopback, and Slack's side of the conversation with a bot (signed commands,
events and interactions). Used by the tests and the demo; never imported by bot/ or db/.

    async with SlackEmulator() as emu:
        client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
        app = AsyncApp(client=client, signing_secret=emu.signing_secret)   # served on 127.0.0.1:PORT
        emu.app.request_url = f"http://127.0.0.1:{PORT}/slack/events"
        ack = await emu.slash_command("top 10 errors", user="bob")       # signed, over real HTTP
        root = (await emu.wait_for(lambda: emu.messages("general")))[0]
        thread = await emu.wait_for_thread("general", root.ts)
        await emu.click(thread[1], "pin_chart", user="bob")
"""

from sandbox.slack.courier import Delivery
from sandbox.slack.driver import UserPost
from sandbox.slack.emulator import ApiCall, SlackEmulator
from sandbox.slack.model import (
    Channel,
    Message,
    SlackApp,
    SlackFile,
    StatusUpdate,
    User,
    UserGroup,
    Workspace,
)

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
    "UserGroup",
    "UserPost",
    "Workspace",
]
