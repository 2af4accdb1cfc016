"""`/logfire` and `/logfire help`: the subcommands and example questions."""

from __future__ import annotations

from bot.handlers.blocks.kit import Block, Message, context, mention, section

COMMAND = "/logfire"
QUESTION = "&lt;question&gt;"  # "<question>" escaped: a bare `<` starts a Slack link even in code

# The product brief's examples (seed/logfire-connector.md), also what the demo asks.
EXAMPLE_QUESTIONS = (
    "Top 10 errors in the agent service",
    "Show me the slowest API endpoints in the last hour",
    "Trace count by status code today",
    "What was the average token cost per request yesterday?",
)


def help_message(bot_user_id: str | None = None) -> Message:
    return Message(
        text=f"Logfire for Slack: ask `{COMMAND} {QUESTION}`, or `{COMMAND} connect` first.",
        blocks=help_blocks(bot_user_id),
    )


def help_blocks(bot_user_id: str | None = None) -> list[Block]:
    """The help text (also shown on the App Home tab)."""
    bot = mention(bot_user_id) if bot_user_id else "the bot"
    commands = "\n".join(
        [
            "*Commands*",
            f"• `{COMMAND} {QUESTION}`: ask about traces, logs and metrics; the answer comes in a thread",
            f"• `{COMMAND} connect [us | eu | https://…/mcp]`: authorize read-only access to a project",
            f"• `{COMMAND} status`: the connection, its project and tools, the last question",
            f"• `{COMMAND} tools`: the read-only Logfire tools the bot uses, and the ones it blocks",
            f"• `{COMMAND} disconnect`: revoke the tokens and forget them",
            f"• `{COMMAND} help`: this message",
        ]
    )
    ask = (
        f"*Asking*\nMention {bot} in a channel or a thread, or send it a direct message. "
        "Follow-up questions in the same thread keep the earlier answers as context."
    )
    examples = f"*Try asking* (after `{COMMAND}`, or mentioning {bot})\n" + "\n".join(
        f"• “{question}”" for question in EXAMPLE_QUESTIONS
    )
    return [
        section(
            "*Logfire for Slack* answers questions about your OpenTelemetry data in Pydantic Logfire, "
            "using Logfire's read-only tools. It cannot change anything in Logfire."
        ),
        section(commands),
        section(ask),
        section(examples),
        context("Answers show the queries they ran (*Show query*) and a chart you can pin."),
    ]
