"""app_manifest.yml and `logfire-bot manifest`: valid against Slack's public manifest schema, the URLs filled
in, and each bot scope needed by an event or a Web API method the bot calls (as the Slack emulator, which
mirrors Slack's method table, requires them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.manifest import PLACEHOLDER_URL, ManifestError, render_manifest
from sandbox.slack.emulator import METHODS

SCHEMA = Path(__file__).parent / "data" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"
SHARED_SCHEMA = Path(__file__).parents[2] / "shared" / "data" / "slack-manifest-schema" / SCHEMA.name
BASE = "https://bot.acme.dev/logfire"

# The Web API methods the bot calls, by feature (DESIGN.md "Slack behaviour", issue 7).
BOT_METHODS = {
    "chat.postMessage": "answers, question roots, status messages",
    "chat.postEphemeral": "connect prompt, status, tools, Show query, errors",
    "chat.update": "the status message updated in place",
    "chat.delete": "the status message removed",
    "assistant.threads.setStatus": "progress in threads",
    "files.getUploadURLExternal": "chart upload",
    "files.completeUploadExternal": "chart upload",
    "files.info": "Pin chart: the chart's message ts",
    "pins.add": "Pin chart",
    "users.info": "LOGFIRE_ADMIN_ONLY admin check, time zone",
    "usergroups.users.list": "LOGFIRE_ADMIN_ONLY user group check",
    "views.publish": "App Home",
}
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history"}
SCOPELESS_EVENTS = {"app_home_opened", "app_uninstalled", "tokens_revoked"}


def validation_errors(manifest: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [f"{'/'.join(map(str, error.path))}: {error.message}" for error in validator.iter_errors(manifest)]


def test_the_filled_manifest_is_valid_and_points_at_the_bot() -> None:
    text = render_manifest(BASE + "/")
    manifest = yaml.safe_load(text)
    assert validation_errors(manifest) == []
    assert PLACEHOLDER_URL not in text
    [command] = manifest["features"]["slash_commands"]
    settings = manifest["settings"]
    assert command["command"] == "/logfire"
    assert command["url"] == settings["event_subscriptions"]["request_url"] == f"{BASE}/slack/events"
    assert settings["interactivity"] == {"is_enabled": True, "request_url": f"{BASE}/slack/events"}
    assert manifest["oauth_config"]["redirect_urls"] == [f"{BASE}/slack/oauth_redirect"]
    assert settings["socket_mode_enabled"] is False
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]


def test_the_template_itself_is_valid() -> None:
    assert validation_errors(yaml.safe_load(render_manifest())) == []


def test_a_broken_manifest_is_caught_by_the_schema() -> None:
    manifest = yaml.safe_load(render_manifest(BASE))
    manifest["features"]["slash_commands"][0]["command"] = "logfire"
    manifest["settings"]["interactivity"]["request_url"] = "ftp://bot"
    assert len(validation_errors(manifest)) == 2


def test_every_scope_serves_an_event_or_a_method_and_every_need_is_granted() -> None:
    manifest = yaml.safe_load(render_manifest())
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert len(scopes) == len(set(scopes)) and len(events) == len(set(events))

    needs = {"commands"} if manifest["features"]["slash_commands"] else set()
    for event in events:
        assert event in EVENT_SCOPES or event in SCOPELESS_EVENTS, f"{event} is not a feature"
        needs |= {EVENT_SCOPES[event]} if event in EVENT_SCOPES else set()
    for method in BOT_METHODS:
        accepted = set(METHODS[method].scopes)
        assert not accepted or accepted & set(scopes), f"{method} needs one of {accepted}"
        needs |= accepted & set(scopes)
    assert set(scopes) == needs, f"granted but unused: {set(scopes) - needs}"
    assert "channels:history" not in scopes and "message.channels" not in events


def logfire_bot_manifest(*args: str, public_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PUBLIC_URL"}
    if public_url:
        env["PUBLIC_URL"] = public_url
    return subprocess.run(
        [sys.executable, "-m", "bot", "manifest", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_the_command_prints_the_manifest_with_the_url() -> None:
    done = logfire_bot_manifest("--url", BASE, public_url="https://elsewhere.acme.dev")
    assert done.returncode == 0, done.stderr
    assert done.stdout == render_manifest(BASE)
    assert "- pins:write # pins.add: the Pin chart button" in done.stdout, "the scope comments are kept"


def test_the_command_falls_back_to_public_url_then_to_the_placeholder() -> None:
    from_env = logfire_bot_manifest(public_url=BASE)
    assert from_env.returncode == 0 and from_env.stdout == render_manifest(BASE)
    plain = logfire_bot_manifest()
    assert plain.returncode == 0 and plain.stdout == render_manifest() and PLACEHOLDER_URL in plain.stderr
    refused = logfire_bot_manifest("--url", "http://bot.acme.dev")
    assert refused.returncode == 2 and "https://" in refused.stderr and not refused.stdout


@pytest.mark.parametrize(
    "url",
    ["http://bot.acme.dev", "bot.acme.dev", "https://user:pw@bot.acme.dev", "https://bot.acme.dev/?x=1"],
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(ManifestError):
        render_manifest(url)


def test_the_schema_copy_matches_the_shared_one() -> None:
    if not SHARED_SCHEMA.exists():
        pytest.skip("../shared is not next to this checkout")
    assert SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()
