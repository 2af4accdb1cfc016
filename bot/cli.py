"""The `logfire-bot` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from bot.config import ConfigError, Settings, load_settings
from bot.errors import LogfireBotError
from bot.logs import configure_logging
from bot.oauth.crypto import KeyFormatError, SecretBoxError, generate_key
from db.engine import DatabaseError, open_database

# Errors whose message tells the operator what to do: printed as one line, no traceback.
OPERATOR_ERRORS = (ConfigError, DatabaseError, SecretBoxError, KeyFormatError, LogfireBotError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="logfire-bot", description="Logfire for Slack")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("run", help="serve the Slack app (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)")

    demo = commands.add_parser("demo", help="run the whole product end to end on loopback")
    demo.add_argument("--out", default="demo-output", help="folder for charts and index.html")
    demo.add_argument("--question", action="append", default=[], help="ask this instead of the examples")
    demo.add_argument("--keep-running", action="store_true", help="leave everything up afterwards")
    demo.add_argument("--records", type=int, default=100_000, help="size of the sandbox's dataset")

    sandbox = commands.add_parser("sandbox", help="run the local Logfire stand-in")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--region", choices=["us", "eu"], default="us")
    sandbox.add_argument("--auto-approve", action="store_true", help="skip the consent page")
    sandbox.add_argument("--seed", type=int, default=7)
    sandbox.add_argument("--records", type=int, default=100_000)

    ask = commands.add_parser("ask", help="answer one question from the terminal")
    ask.add_argument("--team", default="T-LOCAL", help="workspace whose Logfire connection to use")
    ask.add_argument("--sandbox", action="store_true", help="ask a local sandbox instead of a connection")
    ask.add_argument("--out", default=".", help="folder for the chart PNG")
    ask.add_argument("question")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations")

    keys = commands.add_parser("keys", help="encryption keys for stored secrets")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    key_commands.add_parser("generate", help="print a new key")
    key_commands.add_parser("rotate", help="re-encrypt every stored secret with the first key")

    manifest = commands.add_parser("manifest", help="print app_manifest.yml with the URLs filled in")
    manifest.add_argument("--url", help="PUBLIC_URL of the bot, e.g. https://bot.example.com")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = _command_of(args)
    try:
        return command(args)
    except OPERATOR_ERRORS as error:
        print(f"logfire-bot: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _command_of(args: argparse.Namespace) -> Callable[[argparse.Namespace], int]:
    if args.command == "db":
        return {"upgrade": db_upgrade}[args.db_command]
    if args.command == "keys":
        return {"generate": keys_generate, "rotate": keys_rotate}[args.keys_command]
    commands = {"run": run, "ask": ask, "sandbox": sandbox, "demo": demo, "manifest": manifest}
    return commands[args.command]


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    return settings


def run(_args: argparse.Namespace) -> int:
    from bot.app import serve

    asyncio.run(serve(_settings()))
    return 0


def ask(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.ask import ask as answer

    _settings()
    asyncio.run(answer(args.question, args.team, Path(args.out), args.sandbox))
    return 0


def sandbox(args: argparse.Namespace) -> int:
    from sandbox.logfire.server import serve

    return serve(
        host=args.host,
        port=args.port,
        region=args.region,
        auto_approve=args.auto_approve,
        seed=args.seed,
        records=args.records,
    )


def demo(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from sandbox.demo import run_demo

    load_settings()  # a malformed variable in the environment stops the demo with its one-line message
    configure_logging("text", os.environ.get("LOG_LEVEL", "WARNING"))  # the step lines stay readable
    try:
        return asyncio.run(
            run_demo(
                Path(args.out), args.question or None, keep_running=args.keep_running, records=args.records
            )
        )
    except KeyboardInterrupt:
        return 130


def manifest(args: argparse.Namespace) -> int:
    from bot.manifest import PLACEHOLDER_URL, ManifestError, render_manifest

    url = args.url
    if url is None and "public_url" in (settings := load_settings()).model_fields_set:
        url = settings.public_url
    try:
        text = render_manifest(url)
    except ManifestError as error:
        print(f"logfire-bot manifest: error: {error}", file=sys.stderr)
        return 2
    if url is None:
        print(
            f"logfire-bot manifest: no --url or PUBLIC_URL: the URLs say {PLACEHOLDER_URL}", file=sys.stderr
        )
    sys.stdout.write(text)
    return 0


def db_upgrade(_args: argparse.Namespace) -> int:
    from db.migrate import upgrade

    settings = _settings()

    async def run() -> tuple[str | None, str]:
        database = open_database(settings.database_url)
        try:
            return await upgrade(database)
        finally:
            await database.dispose()

    before, after = asyncio.run(run())
    if before == after:
        print(f"database already at migration {after}")
    else:
        print(f"database migrated from {before or 'empty'} to {after}")
    return 0


def keys_generate(_args: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def keys_rotate(_args: argparse.Namespace) -> int:
    from bot.oauth.key_rotation import rotate_keys
    from bot.slack_installations import rotate_slack_tokens
    from db.migrate import upgrade

    settings = _settings()
    box = settings.secret_box

    async def run():
        database = open_database(settings.database_url)
        try:
            await upgrade(database)
            return await rotate_keys(database, box, also=rotate_slack_tokens)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    print(
        f"re-encrypted {report.rewritten} secret(s) with key {box.current_key_id}; "
        f"{report.already_current} already used it"
    )
    for column, count in sorted(report.by_column.items()):
        print(f"  {column}: {count}")
    return 0
