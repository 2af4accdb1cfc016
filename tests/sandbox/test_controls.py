"""Test controls: token expiry and revocation, fault injection, counters, and their loopback-only HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from sandbox.logfire.server import SandboxLogfire
from tests.sandbox.clients import login, mcp_session, oauth_client_for


async def _status(sandbox: SandboxLogfire, access_token: str) -> int:
    async with httpx2.AsyncClient() as http:
        response = await http.post(
            sandbox.mcp_url, json={}, headers={"Authorization": f"Bearer {access_token}"}
        )
    return response.status_code


async def test_expiring_one_token_forces_401_and_refresh_recovers(sandbox: SandboxLogfire) -> None:
    token, other = await login(sandbox), await login(sandbox)
    assert sandbox.controls.expire_access_tokens(token["access_token"]) == 1
    assert await _status(sandbox, token["access_token"]) == 401
    assert await _status(sandbox, other["access_token"]) != 401
    async with oauth_client_for(token) as oauth:
        fresh = await oauth.refresh_token(
            f"{sandbox.issuer}/token", refresh_token=token["refresh_token"], resource=sandbox.mcp_url
        )
    assert sandbox.controls.token_refreshes == 1
    async with mcp_session(sandbox.mcp_url, fresh["access_token"]) as client:
        assert not (await client.call_tool("token_info", {})).is_error


async def test_expiring_all_tokens_and_revoking(sandbox: SandboxLogfire) -> None:
    first, second = await login(sandbox), await login(sandbox)
    assert sandbox.controls.revoke(first["refresh_token"]) is True
    assert sandbox.controls.revoke("unknown") is False
    assert await _status(sandbox, first["access_token"]) == 401
    assert sandbox.controls.expire_access_tokens() >= 1
    assert await _status(sandbox, second["access_token"]) == 401


async def test_latency_on_one_tool(sandbox: SandboxLogfire) -> None:
    token = (await login(sandbox))["access_token"]
    sandbox.controls.inject("latency", tool="token_info", seconds=0.6, times=1)
    async with mcp_session(sandbox.mcp_url, token) as client:
        timings = []
        for name in ("token_info", "token_info", "project_list"):
            started = time.perf_counter()
            await client.call_tool(name, {})
            timings.append(time.perf_counter() - started)
    delayed, *undelayed = timings
    assert delayed >= 0.6
    assert all(delayed - timing >= 0.5 for timing in undelayed)
    assert sandbox.controls.faults_fired["latency"] == 1


async def test_http_500_on_one_tool(sandbox: SandboxLogfire) -> None:
    token = (await login(sandbox))["access_token"]
    sandbox.controls.inject("http_500", tool="project_list", times=1)
    async with mcp_session(sandbox.mcp_url, token) as client:
        assert not (await client.call_tool("token_info", {})).is_error
        with pytest.raises(MCPError):
            await client.call_tool("project_list", {})
        assert not (await client.call_tool("project_list", {})).is_error
    assert sandbox.controls.faults_fired["http_500"] == 1


async def test_dropped_session_gives_session_not_found(sandbox: SandboxLogfire) -> None:
    token = (await login(sandbox))["access_token"]
    sandbox.controls.inject("drop_session", tool="query_run")
    async with mcp_session(sandbox.mcp_url, token) as client:
        assert not (await client.call_tool("token_info", {})).is_error
        with pytest.raises(MCPError) as dropped:
            await client.call_tool("query_run", {"query": "SELECT 1 AS one"})
        with pytest.raises(MCPError) as still_gone:
            await client.call_tool("token_info", {})
    async with mcp_session(sandbox.mcp_url, token) as client:
        assert not (await client.call_tool("query_run", {"query": "SELECT 1 AS one"})).is_error
    assert dropped.value.error.code == still_gone.value.error.code == -32600
    assert sandbox.controls.initializations == 2


async def test_stateless_clients_count_and_keep_their_connection(sandbox: SandboxLogfire) -> None:
    token = (await login(sandbox))["access_token"]
    sandbox.controls.inject("drop_session")  # stateless requests carry no session to drop
    async with mcp_session(sandbox.mcp_url, token, mode="auto") as client:
        first = await client.call_tool("token_info", {})
        second = await client.call_tool("project_list", {})
    assert not first.is_error and not second.is_error
    assert sandbox.controls.initializations == 1
    assert sandbox.controls.tool_calls == {"token_info": 1, "project_list": 1}
    assert sandbox.controls.faults_fired["drop_session"] == 0


async def test_is_error_on_every_tool(sandbox: SandboxLogfire) -> None:
    token = (await login(sandbox))["access_token"]
    sandbox.controls.inject("is_error", message="Logfire is having a bad day", times=2)
    async with mcp_session(sandbox.mcp_url, token) as client:
        first = await client.call_tool("token_info", {})
        second = await client.call_tool("dashboard_list", {})
        third = await client.call_tool("dashboard_list", {})
    assert first.is_error and second.is_error and not third.is_error
    assert first.content[0].text == "Logfire is having a bad day"


@pytest.mark.sandbox_writes
async def test_counters_and_reset(sandbox: SandboxLogfire) -> None:
    token = (await login(sandbox))["access_token"]
    async with mcp_session(sandbox.mcp_url, token) as client:
        await client.call_tool("token_info", {})
        await client.call_tool("alert_delete", {"alert_id": "alert-5xx"})
        await client.call_tool("alert_delete", {"alert_id": "alert-llm-cost"})
    controls = sandbox.controls
    assert controls.initializations == 1
    assert controls.tool_calls == {"token_info": 1, "alert_delete": 2}
    assert [call.arguments for call in controls.write_calls] == [
        {"alert_id": "alert-5xx"},
        {"alert_id": "alert-llm-cost"},
    ]
    controls.reset()
    assert (controls.initializations, controls.calls, controls.token_refreshes) == (0, [], 0)


async def test_query_api_throttle(sandbox: SandboxLogfire) -> None:
    read_token = sandbox.controls.issue_read_token("production")
    sandbox.controls.throttle_query_api(retry_after=7, times=1)
    body = {"sql": "SELECT 1 AS one", "min_timestamp": "2020-01-01T00:00:00+00:00"}
    async with httpx2.AsyncClient(
        base_url=sandbox.query_api_base, headers={"Authorization": read_token}
    ) as http:
        throttled = await http.post("/v2/query", json=body)
        answered = await http.post("/v2/query", json=body)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "7"
    assert answered.status_code == 200
    assert answered.json()["data"] == [{"one": 1}]


@pytest.mark.sandbox_writes
async def test_http_controls(sandbox: SandboxLogfire) -> None:
    token = (await login(sandbox))["access_token"]
    async with httpx2.AsyncClient(base_url=f"{sandbox.base_url}/_sandbox") as http:
        fault = await http.post("/faults", json={"kind": "is_error", "tool": "token_info", "times": 1})
        bad_fault = await http.post("/faults", json={"kind": "meteor"})
        async with mcp_session(sandbox.mcp_url, token) as client:
            failed = await client.call_tool("token_info", {})
            await client.call_tool("dashboard_delete", {"dashboard_id": "x"})
        state = (await http.get("/state")).json()
        read_token = (await http.post("/read-tokens", json={"project": "staging"})).json()["token"]
        expired = (await http.post("/tokens/expire", json={"token": token})).json()
        await http.post("/reset")
        after_reset = (await http.get("/state")).json()
    async with httpx2.AsyncClient(base_url=sandbox.query_api_base) as http:
        info = (
            await http.get("/v1/read-token-info", headers={"Authorization": f"Bearer {read_token}"})
        ).json()

    assert fault.status_code == 200 and fault.json()["kind"] == "is_error"
    assert bad_fault.status_code == 400
    assert failed.is_error
    assert state["tool_calls"] == {"token_info": 1, "dashboard_delete": 1}
    assert [call["name"] for call in state["write_calls"]] == ["dashboard_delete"]
    assert state["faults_fired"] == {"is_error": 1}
    assert expired == {"expired": 1}
    assert await _status(sandbox, token) == 401
    assert after_reset["calls"] == [] and after_reset["initializations"] == 0
    assert info["project_name"] == "staging"


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def wildcard_sandbox() -> Iterator[SandboxLogfire]:
    with SandboxLogfire(host="0.0.0.0", records=1_000, seed=3) as running:  # noqa: S104
        yield running


async def test_controls_answer_loopback_only(wildcard_sandbox: SandboxLogfire) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback interface to call from")
    async with httpx2.AsyncClient() as http:
        local = await http.get(f"http://127.0.0.1:{wildcard_sandbox.port}/_sandbox/state")
        remote = await http.get(f"http://{address}:{wildcard_sandbox.port}/_sandbox/state")
        remote_metadata = await http.get(
            f"http://{address}:{wildcard_sandbox.port}/.well-known/oauth-authorization-server"
        )
    assert local.status_code == 200
    assert remote.status_code == 403
    assert remote_metadata.status_code == 200
    assert wildcard_sandbox.issuer == f"http://127.0.0.1:{wildcard_sandbox.port}"
