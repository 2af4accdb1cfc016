"""A burst of questions: at most LOGFIRE_BOT_MAX_CONCURRENT_ANALYSES answered at once, the others say in their
thread that they are queued, and every one is answered."""

from __future__ import annotations

from pathlib import Path

from bot.handlers import blocks
from sandbox.logfire.server import SandboxLogfire
from tests.slack_app.conftest import find_element, slack_app_on
from tests.slack_app.test_failures import ask
from tests.slack_app.test_questions import answer_of, answered_thread


async def test_with_one_slot_a_second_question_is_queued_then_answered(
    sandbox: SandboxLogfire, tmp_path: Path, encryption_key: str
) -> None:
    async with slack_app_on(sandbox, tmp_path, encryption_key, logfire_bot_max_concurrent_analyses=1) as app:
        assert (await app.connect()).status_code == 200
        await app.services.pool.catalog(app.emu.workspace.id)  # session open before the slow query
        sandbox.controls.inject("latency", tool="query_run", seconds=2.0, times=1)

        first = await ask(app, "slowest endpoints in the last hour")
        second = await ask(app, "trace count by status code today")
        await app.emu.wait_for(lambda: app.emu.status("general", second) == "Queued behind 1 question")

        first_thread = await answered_thread(app, "general", first)
        second_thread = await answered_thread(app, "general", second)

    history = app.emu.status_history("general", second)
    assert [update.status for update in history][:2] == ["Queued behind 1 question", "Planning the analysis"]
    assert not any("Queued" in update.status for update in app.emu.status_history("general", first))
    started = history[1]
    assert started.at >= float(answer_of(first_thread).ts)  # its turn came once the first was answered
    for thread in (first_thread, second_thread):
        assert len([m for m in thread if find_element(m, blocks.SHOW_QUERY_ACTION)]) == 1
        assert len([m for m in thread if m.files]) == 1
    assert app.emu.status("general", second) == ""


async def test_shutdown_drains_queued_questions_too(
    sandbox: SandboxLogfire, tmp_path: Path, encryption_key: str
) -> None:
    async with slack_app_on(sandbox, tmp_path, encryption_key, logfire_bot_max_concurrent_analyses=1) as app:
        assert (await app.connect()).status_code == 200
        await app.services.pool.catalog(app.emu.workspace.id)
        sandbox.controls.inject("latency", tool="query_run", seconds=1.0, times=1)
        roots = [await ask(app, question) for question in ("top 10 errors in agent service", "p95 latency")]
        await app.emu.wait_for(lambda: app.emu.status("general", roots[1]).startswith("Queued"))

    for root in roots:  # both answered before the bot stopped
        assert find_element(answer_of(app.emu.thread("general", root)), blocks.SHOW_QUERY_ACTION)
