"""A real slack_sdk AsyncWebClient against the emulator, method by method."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*p95* is 120 ms"}}


async def test_auth_test_describes_the_bot(emu: SlackEmulator, client: AsyncWebClient) -> None:
    response = await client.auth_test()
    ws = emu.workspace
    assert (response["team_id"], response["user_id"], response["bot_id"]) == (
        ws.id,
        ws.bot_user.id,
        ws.bot_id,
    )
    assert response["team"] == ws.name and response["is_enterprise_install"] is False


async def test_tokens_are_fresh_per_run_and_checked(emu: SlackEmulator) -> None:
    async with SlackEmulator() as other:
        assert other.bot_token != emu.bot_token and other.signing_secret != emu.signing_secret
    assert emu.bot_token.startswith("xoxb-")
    for token, error in ((None, "not_authed"), ("xoxb-not-a-token", "invalid_auth")):
        with pytest.raises(SlackApiError) as failed:
            await AsyncWebClient(token=token, base_url=emu.api_url).auth_test()
        assert failed.value.response["error"] == error


async def test_post_message_threads_and_records_unfurls(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general = emu.channel("general")
    root = await client.chat_postMessage(channel=general.id, text="<@U1> asked: errors?")
    reply = await client.chat_postMessage(
        channel=general.id,
        thread_ts=root["ts"],
        text="fallback",
        blocks=[SECTION],
        unfurl_links=False,
        unfurl_media=False,
    )
    nested = await client.chat_postMessage(channel=general.id, thread_ts=reply["ts"], text="under the reply")

    assert float(root["ts"]) < float(reply["ts"]) < float(nested["ts"])
    assert reply["message"]["thread_ts"] == root["ts"] and reply["message"]["bot_id"] == emu.workspace.bot_id
    assert nested["message"]["thread_ts"] == root["ts"], "a reply's ts resolves to the thread root"
    thread = emu.thread(general, root["ts"])
    assert [m.ts for m in thread] == [root["ts"], reply["ts"], nested["ts"]]
    assert thread[1].blocks[0]["text"] == SECTION["text"] and thread[1].blocks[0]["block_id"]
    assert [m.unfurls_off for m in thread] == [False, True, False]
    posted = emu.calls_to("chat.postMessage")
    assert len(posted) == 3 and all(c.ok and c.token == emu.bot_token for c in posted)
    assert posted[1].params["unfurl_links"] is False
    assert "under the reply" in emu.transcript(general, root["ts"])


async def test_post_to_a_user_id_opens_the_dm(emu: SlackEmulator, client: AsyncWebClient) -> None:
    bob = emu.user("bob")
    response = await client.chat_postMessage(channel=bob.id, text="hello")
    dm = emu.workspace.im(bob.id)
    assert response["channel"] == dm.id and emu.messages(dm)[0].text == "hello"
    info = await AsyncWebClient(token=emu.bot_token, base_url=emu.api_url).users_info(user=bob.id)
    assert info["user"]["tz"] == "America/New_York" and info["user"]["is_admin"] is False
    assert emu.user("alice").is_owner and emu.user("alice").is_admin


async def test_ephemeral_update_and_delete(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general, alice = emu.channel("general"), emu.user("alice")
    ephemeral = await client.chat_postEphemeral(channel=general.id, user=alice.id, text="only you")
    assert [m.ts for m in emu.ephemerals("alice")] == [ephemeral["message_ts"]]
    assert emu.ephemerals("bob") == [] and emu.messages(general) == []

    status = await client.chat_postMessage(channel=general.id, text="Working…")
    updated = await client.chat_update(channel=general.id, ts=status["ts"], text="Done", blocks=[SECTION])
    assert updated["message"]["edited"]["ts"] and emu.messages(general)[0].text == "Done"
    await client.chat_delete(channel=general.id, ts=status["ts"])
    assert emu.messages(general) == []
    with pytest.raises(SlackApiError) as gone:
        await client.chat_delete(channel=general.id, ts=status["ts"])
    assert gone.value.response["error"] == "message_not_found"


async def test_bot_cannot_edit_user_messages_or_whisper_to_outsiders(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    post = await emu.user_message("hi", channel="general")
    with pytest.raises(SlackApiError) as denied:
        await client.chat_update(channel=post.message.channel, ts=post.message.ts, text="mine now")
    assert denied.value.response["error"] == "cant_update_message"
    with pytest.raises(SlackApiError) as outsider:
        await client.chat_postEphemeral(channel=emu.channel("ops").id, user=emu.user("bob").id, text="x")
    assert outsider.value.response["error"] == "user_not_in_channel"


async def test_conversations_info_needs_its_read_scope(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general = emu.channel("general")
    with pytest.raises(SlackApiError) as missing:
        await client.conversations_info(channel=general.id)
    assert missing.value.response["error"] == "missing_scope"
    assert missing.value.response["needed"] == "channels:read"
    emu.workspace.scopes.append("channels:read")
    info = await client.conversations_info(channel=general.id)
    assert info["channel"]["name"] == "general" and info["channel"]["is_member"] is True
    emu.workspace.scopes.append("groups:read")
    private = await client.conversations_info(channel=emu.channel("ops").id)
    assert private["channel"]["is_private"] is True


async def test_views_publish_app_home(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice = emu.user("alice")
    view = {
        "type": "home",
        "blocks": [
            SECTION,
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Connect"},
                        "action_id": "connect",
                    }
                ],
            },
        ],
    }
    first = await client.views_publish(user_id=alice.id, view=view)
    second = await client.views_publish(user_id=alice.id, view=view, hash=first["view"]["hash"])
    assert second["view"]["id"] == first["view"]["id"] and emu.home_view("alice") == second["view"]
    with pytest.raises(SlackApiError) as stale:
        await client.views_publish(user_id=alice.id, view=view, hash=first["view"]["hash"])
    assert stale.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as bad:
        await client.views_publish(user_id=alice.id, view={"type": "home", "blocks": [SECTION] * 101})
    assert bad.value.response["error"] == "invalid_arguments"


async def test_status_is_cleared_by_the_next_reply(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general = emu.channel("general")
    root = await client.chat_postMessage(channel=general.id, text="question")
    await client.assistant_threads_setStatus(
        channel_id=general.id,
        thread_ts=root["ts"],
        status="is querying Logfire…",
        loading_messages=["Thinking"],
    )
    assert emu.status(general, root["ts"]) == "is querying Logfire…"
    await client.chat_postMessage(channel=general.id, thread_ts=root["ts"], text="answer")
    assert emu.status(general, root["ts"]) == ""
    assert [s.loading_messages for s in emu.status_history(general, root["ts"])] == [["Thinking"]]


async def test_chat_stream_builds_one_message(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general, alice = emu.channel("general"), emu.user("alice")
    root = await client.chat_postMessage(channel=general.id, text="question")
    stream = await client.chat_stream(
        channel=general.id,
        thread_ts=root["ts"],
        recipient_user_id=alice.id,
        recipient_team_id=emu.workspace.id,
        buffer_size=10,
    )
    for part in ("The error rate ", "rose to 4% ", "after the deploy."):
        await stream.append(markdown_text=part)
    await stream.stop(blocks=[SECTION])
    reply = emu.thread(general, root["ts"])[1]
    assert reply.text == "The error rate rose to 4% after the deploy." and not reply.streaming
    assert reply.blocks[0]["type"] == "section"
    assert [c.method for c in emu.calls if "Stream" in c.method] == [
        "chat.startStream",
        "chat.appendStream",
        "chat.appendStream",
        "chat.stopStream",
    ]
    with pytest.raises(SlackApiError) as done:
        await client.chat_appendStream(channel=general.id, ts=reply.ts, markdown_text="more")
    assert done.value.response["error"] == "message_not_in_streaming_state"
    with pytest.raises(SlackApiError) as no_recipient:
        await client.chat_startStream(channel=general.id, thread_ts=root["ts"], markdown_text="x")
    assert no_recipient.value.response["error"] == "invalid_arguments"


async def test_permalink_and_opening_a_dm(emu: SlackEmulator, client: AsyncWebClient) -> None:
    general = emu.channel("general")
    root = await client.chat_postMessage(channel=general.id, text="root")
    reply = await client.chat_postMessage(channel=general.id, thread_ts=root["ts"], text="reply")
    link = (await client.chat_getPermalink(channel=general.id, message_ts=reply["ts"]))["permalink"]
    assert link.endswith(
        f"/archives/{general.id}/p{reply['ts'].replace('.', '')}?thread_ts={root['ts']}&cid={general.id}"
    )
    with pytest.raises(SlackApiError) as missing:
        await client.conversations_open(users=emu.user("bob").id)
    assert missing.value.response["needed"] == "im:write"
    emu.workspace.scopes.append("im:write")
    opened = await client.conversations_open(users=emu.user("bob").id)
    assert opened["channel"]["id"] == emu.workspace.im("bob").id


async def test_replies_are_limited_for_non_marketplace_apps(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    general = emu.channel("general")
    root = await client.chat_postMessage(channel=general.id, text="root")
    for i in range(20):
        await client.chat_postMessage(channel=general.id, thread_ts=root["ts"], text=f"reply {i}")
    emu.workspace.scopes.append("channels:history")
    page = await client.conversations_replies(channel=general.id, ts=root["ts"], limit=100)
    assert len(page["messages"]) == 15 and page["has_more"] is True
    assert [m["ts"] for m in page["messages"]] == [m.ts for m in emu.thread(general, root["ts"])[:15]]
    with pytest.raises(SlackApiError) as throttled:
        await client.conversations_replies(channel=general.id, ts=root["ts"])
    assert throttled.value.response.status_code == 429
    assert 0 < int(throttled.value.response.headers["Retry-After"]) <= 60


async def test_usergroups(emu: SlackEmulator, client: AsyncWebClient) -> None:
    admins = emu.workspace.add_usergroup("logfire-admins", members=("bob",))
    with pytest.raises(SlackApiError) as missing:
        await client.usergroups_users_list(usergroup=admins.id)
    assert missing.value.response["needed"] == "usergroups:read"
    emu.workspace.scopes.append("usergroups:read")
    assert (await client.usergroups_users_list(usergroup=admins.id))["users"] == [emu.user("bob").id]
    groups = (await client.usergroups_list(include_users=True))["usergroups"]
    assert [(g["handle"], g["users"]) for g in groups] == [("logfire-admins", [emu.user("bob").id])]


async def test_unknown_method(emu: SlackEmulator, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("chat.teleport", params={"channel": "C1"})
    assert unknown.value.response["error"] == "unknown_method"
    assert emu.calls[-1].method == "chat.teleport"
