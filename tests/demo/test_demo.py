"""The demo end to end: `logfire-bot demo` as a command, and the same steps in-process with every answer
checked against the sandbox's ground truth over the window the bot actually queried."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.logs import configure_logging
from db.models import OAuthClient
from sandbox.demo import SEED_QUESTIONS, Progress, demo_world, play
from sandbox.demo.progress import StepFailed
from sandbox.demo.report import Report, terminal_transcript, write_report
from sandbox.demo.script import AskedQuestion, DemoRun
from sandbox.demo.world import DemoWorld
from sandbox.logfire.catalog import MISLABELED_WRITE, WRITE_TOOL_NAMES
from sandbox.logfire.ground_truth import GroundTruth
from sandbox.logfire.server import SandboxLogfire
from tests.conftest import SANDBOX_RECORDS
from tests.demo.chromium import chromium_path, headless_page

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_command_runs_every_step_and_writes_the_transcript(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SANDBOX_CACHE_DIR": str(ROOT / "var/sandbox-cache"),
    }
    finished = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", str(out), "--records", str(SANDBOX_RECORDS)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    printed = finished.stdout
    assert "offline planner" in printed and "all steps succeeded" in printed
    for question in SEED_QUESTIONS:
        assert re.search(rf"{re.escape(question)} … done in \d+\.\d s", printed), question
    assert printed.count("[buttons: Show query | Pin chart]") == 4
    charts = sorted(out.glob("chart-*.png"))
    assert len(charts) == 4 and all(chart.read_bytes().startswith(b"\x89PNG") for chart in charts)
    page = (out / "index.html").read_text()
    assert all(f'src="{chart.name}"' in page for chart in charts)


@dataclass
class InProcessDemo:
    """The demo's steps run in this process, and what was checked or captured while it was up."""

    run: DemoRun
    report: Report
    transcript: str
    secrets: list[str]
    stored: bytes  # the bot's SQLite files
    logs: str
    slack_calls: str  # every Web API call's arguments and answer, as the emulator recorded them


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo(
    sandbox: SandboxLogfire, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[InProcessDemo]:
    """The same world and steps as `logfire-bot demo`, the answers checked against the ground truth over the
    windows the bot queried while the bot's database is still there to read them from."""
    stream = io.StringIO()
    handler = configure_logging("text", "DEBUG", stream=stream)
    out = tmp_path_factory.mktemp("demo-output")
    try:
        async with demo_world(sandbox) as world:
            general = world.emu.channel("general").id
            run = await play(world, Progress(io.StringIO()))
            report = await write_report(world.emu, general, out, subtitle="test")
            top_errors, slowest, status_codes, llm_cost = run.questions
            truth = sandbox.dataset().ground_truth
            await _check_top_errors(world, top_errors, _without_span_events(sandbox))
            await _check_slowest(world, slowest, truth)
            await _check_status_codes(world, status_codes, truth)
            await _check_llm_cost(world, llm_cost, truth)
            secrets = await _secrets(world)
            await world.services.database.dispose()  # so that the files hold everything written
            stored = b"".join(path.read_bytes() for path in world.database_file.parent.glob("demo.db*"))
            transcript = terminal_transcript(world.emu, general)
            slack_calls = "\n".join(
                f"{call.method} {call.params} {call.response}" for call in world.emu.calls
            )
    finally:
        logging.getLogger().removeHandler(handler)
    yield InProcessDemo(run, report, transcript, secrets, stored, stream.getvalue(), slack_calls)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_demo_answers_agree_with_the_ground_truth(
    demo: InProcessDemo, sandbox: SandboxLogfire
) -> None:
    run = demo.run  # the numbers were checked by the fixture, while the bot was up
    assert [asked.way for asked in run.questions] == ["/logfire", "@mention", "follow-up", "/logfire"]
    assert run.questions[2].thread_ts == run.questions[1].thread_ts  # the follow-up stayed in its thread
    assert all(asked.charts and asked.charts[0].data.startswith(b"\x89PNG") for asked in run.questions)
    assert len(demo.report.charts) == 4
    _check_buttons_and_commands(run)
    assert sandbox.controls.write_calls == []


@pytest.mark.asyncio(loop_scope="module")
async def test_no_token_in_clear_anywhere(demo: InProcessDemo) -> None:
    assert len(demo.secrets) == 4 and all(len(secret) >= 20 for secret in demo.secrets)
    outputs = {
        "database": demo.stored.decode("latin-1"),
        "logs": demo.logs,
        "transcript": demo.transcript,
        "index.html": demo.report.index.read_text(),
        "Slack messages": demo.slack_calls,
    }
    assert "database migrated" in demo.logs and "chat.postMessage" in demo.slack_calls  # both captured
    for where, text in outputs.items():
        for secret in demo.secrets:
            assert secret not in text, f"a secret is in clear in the {where}"


async def _secrets(world: DemoWorld) -> list[str]:
    """The Logfire tokens and client secret the bot holds, and its Slack token."""
    services, team = world.services, world.emu.workspace.id
    connection = await services.vault.connection(team)
    async with services.database.sessions() as session:
        client = (await session.scalars(select(OAuthClient))).one()
    return [
        services.box.unseal(connection, "access_token"),
        services.box.unseal(connection, "refresh_token"),
        services.box.unseal(client, "client_secret"),
        world.emu.bot_token,
    ]


async def _window(world: DemoWorld, asked: AskedQuestion, index: int = -1) -> tuple[datetime, datetime]:
    queries = await world.services.analyst.queries(asked.analysis_id)
    start, end = queries[index].window
    assert start and end, "every query carries an explicit window"
    return datetime.fromisoformat(start), datetime.fromisoformat(end)


def _shown(asked: AskedQuestion) -> str:
    """The answer as the user reads it: its blocks' text (fields included)."""
    return str(asked.answer.blocks)


async def _check_top_errors(world: DemoWorld, asked: AskedQuestion, truth: GroundTruth) -> None:
    start, end = await _window(world, asked)
    expected = truth.top_errors(start, end, "agent")[:10]
    shown = _shown(asked)
    for error in expected[:5]:
        assert f"{error.count} × " in shown
        assert (error.exception_type or "error-level records without an exception") in shown
    total = sum(error.count for error in expected)
    assert f"*Top {len(expected)} error groups, occurrences*\\n{total:,}" in shown


async def _check_slowest(world: DemoWorld, asked: AskedQuestion, truth: GroundTruth) -> None:
    start, end = await _window(world, asked)
    durations = truth.route_durations(start, end)
    rows = re.findall(
        r"• `([^`]+)`: p95 [^,]+, average [^,]+, maximum ([\d.]+) (ms|s) \((\d+) requests?\)", _shown(asked)
    )
    assert rows, _shown(asked)
    for route, maximum, unit, requests in rows:
        assert int(requests) == len(durations[route])
        seconds = float(maximum) / (1000 if unit == "ms" else 1)
        assert seconds == pytest.approx(float(durations[route].max()), rel=5e-3)


async def _check_status_codes(world: DemoWorld, asked: AskedQuestion, truth: GroundTruth) -> None:
    start, end = await _window(world, asked)
    shown = {
        int(code): int(count.replace(",", ""))
        for code, count in re.findall(r"• \*(\d{3})\*: ([\d,]+)", _shown(asked))
    }
    assert shown == truth.status_code_counts(start, end)


async def _check_llm_cost(world: DemoWorld, asked: AskedQuestion, truth: GroundTruth) -> None:
    start, end = await _window(world, asked)
    usage = truth.llm_usage(start, end)
    shown = _shown(asked)
    average = re.search(r"was \*\$([\d.]+)\*", shown)
    assert average and float(average.group(1)) == pytest.approx(usage.total.avg_cost_per_request, rel=1e-3)
    assert f"in {usage.total.requests:,} requests" in shown
    for model, expected in usage.by_model.items():
        assert f"`{model}`" in shown
        assert f"{expected.input_tokens:,} in / {expected.output_tokens:,} out tokens" in shown


def _check_buttons_and_commands(run: DemoRun) -> None:
    assert run.connected_notice is not None and "acme/production" in str(run.connected_notice.blocks)
    pinned = run.pinned
    assert pinned is not None and {f.id for f in pinned.files} & {c.id for c in run.questions[0].charts}
    assert run.shown_query is not None and "SELECT" in str(run.shown_query.blocks)
    assert "http_route" in str(run.shown_query.blocks)  # the query of the slowest-endpoints answer
    assert run.tools is not None
    listed = str(run.tools.blocks)
    assert f"*{len(WRITE_TOOL_NAMES)} tools blocked*" in listed and MISLABELED_WRITE in listed
    assert run.status is not None and "Logfire connection" in str(run.status.blocks)


def _without_span_events(sandbox: SandboxLogfire) -> GroundTruth:
    """Ground truth over spans and logs: an exception counts on its span, not again as its event."""
    dataset = sandbox.dataset()
    records = dataset.records.filter(pc.not_equal(dataset.records["kind"], "span_event"))
    return GroundTruth(records, dataset.generated_at)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_transcript_page_shows_the_questions_and_charts_in_a_browser(demo: InProcessDemo) -> None:
    executable = chromium_path()
    if executable is None:
        message = "Debian's chromium is not installed (make test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    async with headless_page(executable) as page:
        await page.open(demo.report.index.as_uri())
        images = await page.evaluate(
            "[...document.images].map(i => ({src: i.getAttribute('src'), complete: i.complete,"
            " width: i.naturalWidth, height: i.naturalHeight}))"
        )
        visible_text = await page.evaluate("document.body.innerText")
    assert {image["src"] for image in images} == {chart.name for chart in demo.report.charts}
    assert all(image["complete"] and image["width"] > 0 and image["height"] > 0 for image in images), images
    for question in SEED_QUESTIONS:
        assert question in visible_text


async def test_a_step_that_does_not_work_fails_the_demo_with_what_the_bot_said(
    sandbox: SandboxLogfire,
) -> None:
    sandbox.controls.inject("http_500", tool="query_run", times=20)
    printed = io.StringIO()
    async with demo_world(sandbox) as world:
        with pytest.raises(StepFailed, match=r"the bot answered: .*Logfire"):
            await play(world, Progress(printed), ["top 10 errors in agent service"])
    assert "/logfire top 10 errors in agent service … FAILED after" in printed.getvalue()
