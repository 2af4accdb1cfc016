"""The read-only gate over the sandbox's real inventory: a table of every tool, its verdict and reason.

What counts as a write comes from the sandbox's own catalog (the tools that would change data, whatever
their annotations say), not from the gate's word list.
"""

from __future__ import annotations

import mcp_types as types
import pytest

from bot.mcp_client.catalog import ToolCatalog
from bot.mcp_client.gate import ToolGate, name_words
from db.models import utcnow
from sandbox.logfire import catalog as sandbox_catalog
from tests.mcp_client.conftest import Connected

SEED_VERBS = {"create", "update", "delete", "send", "refund"}


@pytest.fixture
async def inventory(connected: Connected) -> list[types.Tool]:
    tools, _ = await connected.pool._with_session("T1", lambda session: session.list_tools())
    return tools


async def test_every_tool_has_the_expected_verdict(inventory: list[types.Tool], capsys) -> None:
    judged = ToolCatalog.judged(inventory, None, ToolGate(), utcnow())
    rows = []
    for tool in judged.tools:
        writes = tool.name in sandbox_catalog.WRITE_TOOL_NAMES
        rows.append(
            f"{tool.name:32} {'allowed' if tool.verdict.allowed else 'BLOCKED':8} {tool.verdict.reason}"
        )
        assert tool.verdict.allowed is not writes, f"{tool.name}: {tool.verdict.reason}"
        if SEED_VERBS & set(name_words(tool.name)):
            assert not tool.verdict.allowed
    with capsys.disabled():
        print("\n" + "\n".join(rows))
    assert len(judged.blocked) == len(sandbox_catalog.WRITE_TOOL_NAMES) >= 20
    assert {tool.name for tool in judged.allowed} >= {"query_run", "token_info", "project_list"}


async def test_the_special_tools(inventory: list[types.Tool]) -> None:
    by_name = {tool.name: tool for tool in inventory}
    lying = by_name[sandbox_catalog.MISLABELED_WRITE]
    assert lying.annotations.read_only_hint is True  # it claims to be read-only...
    verdict = ToolGate().judge(lying)
    assert not verdict.allowed and "write verb" in verdict.reason  # ...and the name gives it away

    unannotated = by_name[sandbox_catalog.UNANNOTATED_READ]
    assert unannotated.annotations is None
    assert ToolGate().judge(unannotated).allowed
    strict = ToolGate(strict=True).judge(unannotated)
    assert not strict.allowed and "strict mode" in strict.reason

    poisoned = by_name[sandbox_catalog.POISONED_READ]
    assert "dashboard_delete" in poisoned.description  # passed to the model unchanged; the gate still holds
    assert ToolGate().judge(poisoned).allowed


async def test_strict_mode_allows_only_annotated_reads(inventory: list[types.Tool]) -> None:
    judged = ToolCatalog.judged(inventory, None, ToolGate(strict=True), utcnow())
    for tool in judged.allowed:
        assert tool.tool.annotations is not None and tool.tool.annotations.read_only_hint is True


async def test_operator_lists_override(inventory: list[types.Tool]) -> None:
    gate = ToolGate.configured(strict=False, allow=["issue_set_states"], deny=["query_run"])
    by_name = {tool.name: tool for tool in inventory}
    assert gate.judge(by_name["issue_set_states"]).reason.startswith("allowed: on the operator's allowlist")
    assert gate.judge(by_name["query_run"]).reason.startswith("blocked: on the operator's denylist")


@pytest.mark.parametrize(
    ("annotations", "allowed", "reason"),
    [
        (types.ToolAnnotations(read_only_hint=False), False, "readOnlyHint: false"),
        (types.ToolAnnotations(read_only_hint=True, destructive_hint=True), False, "destructiveHint: true"),
        (types.ToolAnnotations(read_only_hint=True), True, "annotated read-only"),
        (types.ToolAnnotations(title="no hints"), True, "not annotated read-only"),
        (None, True, "not annotated read-only"),
    ],
)
def test_annotations(annotations: types.ToolAnnotations | None, allowed: bool, reason: str) -> None:
    tool = types.Tool(name="span_summary", input_schema={"type": "object"}, annotations=annotations)
    verdict = ToolGate().judge(tool)
    assert verdict.allowed is allowed and reason in verdict.reason


@pytest.mark.parametrize(
    ("name", "verb"),
    [
        ("dashboard_addPanel", "add"),
        ("AlertDelete", "delete"),
        ("send-notification", "send"),
        ("billing.refund", "refund"),
        ("run_sql", "run"),
        ("query_run", None),
        ("variable_resolve", None),
        ("trace_get", None),
    ],
)
def test_names_are_split_before_matching(name: str, verb: str | None) -> None:
    assert ToolGate().write_verb_in(name) == verb


def test_extra_verbs_are_configurable() -> None:
    tool = types.Tool(name="report_regenerate", input_schema={"type": "object"})
    assert ToolGate().judge(tool).allowed
    assert (
        not ToolGate.configured(strict=False, allow=[], deny=[], extra_verbs=["Regenerate"])
        .judge(tool)
        .allowed
    )
