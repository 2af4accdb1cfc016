"""The `logfire-bot` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="logfire-bot", description="Logfire for Slack")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("run", help="serve the Slack app (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)")

    demo = commands.add_parser("demo", help="run the whole product end to end on loopback")
    demo.add_argument("--out", default="demo-output", help="folder for charts and index.html")
    demo.add_argument("--question", action="append", default=[], help="ask this instead of the examples")
    demo.add_argument("--keep-running", action="store_true", help="leave everything up afterwards")

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
    if args.command == "sandbox":
        from sandbox.logfire.server import serve

        return serve(
            host=args.host,
            port=args.port,
            region=args.region,
            auto_approve=args.auto_approve,
            seed=args.seed,
            records=args.records,
        )
    if args.command == "demo":
        from sandbox.logfire.selfcheck import run_selfcheck

        return run_selfcheck()
    print(f"logfire-bot {args.command}: not built yet", file=sys.stderr)
    return 2
