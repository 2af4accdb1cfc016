"""The MCP pool against the sandbox: refusals, session reuse and rebuild, faults, isolation, fingerprints."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.errors import InsufficientScope, LogfireUnavailable, NotConnected, ToolRefused
from bot.mcp_client.project import identify_project
from db.models import LogfireConnection
from sandbox.logfire.server import SandboxLogfire
from tests.mcp_client.conftest import Connected, connect_team, make_pool
from tests.oauth.test_refresh import set_local_expiry
from tests.oauth_harness import OAuthHarness

COUNT_SQL = "SELECT count(*) AS n FROM records"


async def test_a_blocked_or_unknown_tool_is_refused_and_never_reaches_logfire(
    connected: Connected, sandbox: SandboxLogfire
) -> None:
    for name, reason in [
        ("dashboard_delete", "write verb 'delete'"),
        ("dashboard_update_settings", "write verb 'update'"),  # annotated read-only, falsely
        ("no_such_tool", "does not offer a tool of that name"),
    ]:
        with pytest.raises(ToolRefused) as caught:
            await connected.pool.call("T1", name, {"dashboard_id": "d1"})
        assert reason in str(caught.value)
        assert sandbox.controls.tool_calls[name] == 0
    assert sandbox.controls.write_calls == []


async def test_twenty_questions_share_one_session(connected: Connected, sandbox: SandboxLogfire) -> None:
    before = sandbox.controls.initializations
    outcomes = [await connected.pool.call("T1", "query_run", {"query": COUNT_SQL}) for _ in range(10)]
    outcomes += await asyncio.gather(
        *(connected.pool.call("T1", "query_run", {"query": COUNT_SQL}) for _ in range(10))
    )
    assert all(not outcome.is_error and outcome.table.rows for outcome in outcomes)
    assert sandbox.controls.initializations - before == 1
    assert connected.pool.sessions_opened == 1
    assert sandbox.controls.tool_calls["query_run"] == 20


async def test_a_dropped_session_is_rebuilt_once(connected: Connected, sandbox: SandboxLogfire) -> None:
    await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    sandbox.controls.inject("drop_session", times=1)
    outcome = await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    assert not outcome.is_error
    assert connected.pool.sessions_opened == 2
    assert sandbox.controls.faults_fired["drop_session"] == 1


async def test_a_session_dropped_twice_is_a_clear_error(
    connected: Connected, sandbox: SandboxLogfire
) -> None:
    await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    sandbox.controls.inject("drop_session", times=2)
    with pytest.raises(LogfireUnavailable, match="broke twice"):
        await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})


async def test_an_idle_session_closes(oauth: OAuthHarness, sandbox: SandboxLogfire) -> None:
    await connect_team(oauth, sandbox, "T1")
    pool = make_pool(oauth, idle_seconds=0.3)
    try:
        await pool.call("T1", "query_run", {"query": COUNT_SQL})
        session = pool._sessions["T1"]
        assert session.alive
        await asyncio.sleep(0.8)
        assert not session.alive
        await pool.call("T1", "query_run", {"query": COUNT_SQL})
        assert pool.sessions_opened == 2
    finally:
        await pool.close()


async def test_latency_past_the_timeout(connected: Connected, sandbox: SandboxLogfire) -> None:
    await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    sandbox.controls.inject("latency", tool="query_run", seconds=3.0, times=1)
    started = time.perf_counter()
    with pytest.raises(LogfireUnavailable) as caught:
        await connected.pool.call("T1", "query_run", {"query": COUNT_SQL}, read_timeout_seconds=0.5)
    assert time.perf_counter() - started < 2.5
    assert "did not answer in time" in str(caught.value) and "after waiting 0.5 s" in str(caught.value)
    outcome = await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})  # the session survives
    assert not outcome.is_error


async def test_http_500(connected: Connected, sandbox: SandboxLogfire) -> None:
    await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    sandbox.controls.inject("http_500", tool="query_run", times=1)
    with pytest.raises(LogfireUnavailable, match="HTTP 500"):
        await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    assert not (await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})).is_error


async def test_is_error_results_carry_the_message(connected: Connected, sandbox: SandboxLogfire) -> None:
    sandbox.controls.inject("is_error", tool="query_run", message="Query engine overloaded", times=1)
    outcome = await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    assert outcome.is_error and "Query engine overloaded" in outcome.text
    bad_sql = await connected.pool.call("T1", "query_run", {"query": "SELEC nonsense"})
    assert bad_sql.is_error and bad_sql.table is None and bad_sql.text


async def test_a_fifteen_day_window_is_an_error_for_the_model(connected: Connected) -> None:
    outcome = await connected.pool.call(
        "T1",
        "query_run",
        {
            "query": COUNT_SQL,
            "start_timestamp": "2026-11-01T00:00:00Z",
            "end_timestamp": "2026-11-16T00:00:00Z",
        },
    )
    assert outcome.is_error and "14" in outcome.text


async def test_cancelling_a_call_leaves_the_session_usable(
    connected: Connected, sandbox: SandboxLogfire
) -> None:
    await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    sandbox.controls.inject("latency", tool="query_run", seconds=2.0, times=1)
    task = asyncio.create_task(connected.pool.call("T1", "query_run", {"query": COUNT_SQL}))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not (await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})).is_error
    assert connected.pool.sessions_opened == 1


async def test_a_revoked_connection_is_not_connected(connected: Connected, sandbox: SandboxLogfire) -> None:
    await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    row = await connected.oauth.vault.connection("T1")
    sandbox.controls.revoke(connected.oauth.box.unseal(row, "refresh_token"))  # revokes the access token too
    await set_local_expiry(connected.oauth.database, "T1", timedelta(minutes=30))  # we believe it is fine
    with pytest.raises(NotConnected, match="revoked"):
        await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
    with pytest.raises(NotConnected):  # marked: the next question fails fast
        await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})


async def test_two_workspaces_never_see_each_others_rows(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    await connect_team(oauth, sandbox, "TA", project="production")
    await connect_team(oauth, sandbox, "TB", project="staging")
    pool = make_pool(oauth)
    sql = "SELECT project_id, count(*) AS n FROM records GROUP BY project_id LIMIT 10"
    window = {"start_timestamp": _iso(sandbox, hours=72), "end_timestamp": _iso(sandbox, hours=-1)}
    try:
        a, b = await asyncio.gather(
            pool.call("TA", "query_run", {"query": sql, **window}),
            pool.call("TB", "query_run", {"query": sql, **window}),
        )
    finally:
        await pool.close()
    production, staging = sandbox.dataset("production"), sandbox.dataset("staging")
    assert a.table.records() == [{"project_id": production.project_id, "n": _records(production)}]
    assert b.table.records() == [{"project_id": staging.project_id, "n": _records(staging)}]


def _records(dataset) -> int:  # type: ignore[no-untyped-def]
    kinds = dataset.records.column("kind").to_pylist()
    return sum(1 for kind in kinds if kind != "pending_span")


def _iso(sandbox: SandboxLogfire, *, hours: float) -> str:
    moment = sandbox.dataset("production").generated_at - timedelta(hours=hours)
    return moment.isoformat().replace("+00:00", "Z")


async def test_a_changed_tool_list_is_logged_and_kept(
    connected: Connected, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = await connected.pool.catalog("T1")
    fingerprints = catalog.fingerprints()
    altered = {**fingerprints, "alert_status": "0" * 64}
    del altered["query_run"]
    altered["retired_tool"] = "1" * 64
    async with connected.oauth.database.sessions() as session, session.begin():
        await session.execute(
            update(LogfireConnection)
            .where(LogfireConnection.team_id == "T1")
            .values(tools_fingerprint="old", tools_summary={"tools": altered, "last_change": None})
        )
    with caplog.at_level(logging.WARNING, logger="bot.mcp_client.pool"):
        await connected.pool.catalog("T1", refresh=True)
    assert "added: query_run; removed: retired_tool; changed: alert_status" in caplog.text
    row = await connected.oauth.vault.connection("T1")
    assert row.tools_fingerprint == catalog.fingerprint
    assert (
        row.tools_summary["last_change"]["what"]
        == "added: query_run; removed: retired_tool; changed: alert_status"
    )


async def test_the_project_is_identified_after_connecting(
    oauth: OAuthHarness, sandbox: SandboxLogfire
) -> None:
    await connect_team(oauth, sandbox, "TS", project="staging")
    pool = make_pool(oauth)
    try:
        project = await identify_project(pool, "TS")
    finally:
        await pool.close()
    staging = sandbox.directory.project("staging")
    assert project == f"{staging.organization.name}/{staging.name}"
    assert (await oauth.vault.connection("TS")).project == project


async def test_a_token_without_the_scope_is_insufficient_scope(
    connected: Connected, sandbox: SandboxLogfire
) -> None:
    row = await connected.oauth.vault.connection("T1")
    assert sandbox.controls.restrict_scopes(
        connected.oauth.box.unseal(row, "access_token"), ["project:write"]
    )
    with pytest.raises(InsufficientScope, match="needs `project:read`"):
        await connected.pool.call("T1", "query_run", {"query": COUNT_SQL})
