"""Benchmark of the sandbox Logfire: start-up with 100k records (cold and warm cache) and aggregate latency.

    .venv/bin/python bench/sandbox.py [--records 100000] [--runs 30]

Start-up is measured in fresh processes (imports included): cold = empty cache, so the OpenTelemetry
workloads run; warm = the Parquet cache that the cold run wrote. The query baseline is the aggregate run
directly on the SqlEngine in this process; other layers (MCP `query_run`) are reported as ratios to it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

# This script is bench/sandbox.py: keep its directory off sys.path so that `import sandbox` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

AGGREGATE_SQL = (
    "SELECT attributes->>'gen_ai.request.model' AS model, "
    "SUM((attributes->'operation.cost')::numeric) AS cost_usd, count(DISTINCT trace_id) AS requests "
    "FROM records WHERE attributes ? 'gen_ai.request.model' GROUP BY model ORDER BY cost_usd DESC"
)
_CHILD_FLAG = "--startup-child"


def startup_child(records: int) -> None:
    """Runs in a fresh process: generate (or load) the dataset and build the engine, print the timings."""
    started = time.perf_counter()
    from sandbox.logfire.dataset import generate
    from sandbox.logfire.sql_engine import SqlEngine

    imported = time.perf_counter()
    dataset = generate(records=records)
    generated = time.perf_counter()
    SqlEngine([dataset])
    ready = time.perf_counter()
    print(
        json.dumps(
            {
                "imports_s": imported - started,
                "dataset_s": generated - imported,
                "engine_s": ready - generated,
                "total_s": ready - started,
                "rows": dataset.records.num_rows,
            }
        )
    )


def measure_startup(records: int, cache_dir: Path) -> dict[str, float]:
    env = {**os.environ, "SANDBOX_CACHE_DIR": str(cache_dir)}
    completed = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, __file__, _CHILD_FLAG, str(records)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def bench_engine(engine: Any, project_id: str, sql: str, runs: int, **window: Any) -> dict[str, float]:
    """Median/min latency of `sql` run directly on the engine (after one warm-up run)."""
    engine.run(sql, project_id=project_id, **window)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        engine.run(sql, project_id=project_id, **window)
        timings.append(time.perf_counter() - started)
    return {"median_ms": statistics.median(timings) * 1000, "min_ms": min(timings) * 1000}


async def bench_mcp(sandbox: Any, sql: str, runs: int) -> dict[str, float]:
    """Median/min latency of `sql` through `query_run` over loopback HTTP: one MCP session, OAuth token from
    the sandbox's own flow, the whole dataset as the window, one warm-up call."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from sandbox.logfire.quick_login import connect

    start, end = sandbox.dataset().ground_truth.window("all")
    arguments = {"query": sql, "start_timestamp": start.isoformat(), "end_timestamp": end.isoformat()}
    headers = {"Authorization": f"Bearer {await connect(sandbox)}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http,
        Client(streamable_http_client(sandbox.mcp_url, http_client=http), mode="legacy") as client,
    ):
        timings = []
        for run in range(runs + 1):
            started = time.perf_counter()
            result = await client.call_tool("query_run", arguments)
            if run:
                timings.append(time.perf_counter() - started)
            if result.is_error:
                raise RuntimeError(f"query_run failed: {result.content}")
    return {"median_ms": statistics.median(timings) * 1000, "min_ms": min(timings) * 1000}


def report_mcp(records: int, runs: int, direct: dict[str, float]) -> None:
    """The MCP half: a running SandboxLogfire, the same aggregate on its engine and through `query_run`."""
    import asyncio

    from sandbox.logfire.server import SandboxLogfire

    with SandboxLogfire(records=records, auto_approve=True) as sandbox:
        start, end = sandbox.dataset().ground_truth.window("all")
        window = {"min_timestamp": start, "max_timestamp": end, "default_limit": 100}  # what query_run passes
        project_id = sandbox.dataset().project_id
        in_sandbox = bench_engine(sandbox.engine, project_id, AGGREGATE_SQL, runs, **window)
        over_mcp = asyncio.run(bench_mcp(sandbox, AGGREGATE_SQL, runs))
        round_trip = asyncio.run(bench_mcp(sandbox, "SELECT 1 AS one", runs))
        started_in = sandbox.startup_seconds or 0.0
    base = direct["median_ms"]
    for label, timing in (
        ("engine, in the sandbox", in_sandbox),
        ("MCP query_run over HTTP", over_mcp),
        ("MCP round trip, SELECT 1", round_trip),
    ):
        print(
            f"  {label:24s} {timing['median_ms']:7.1f} ms median (min {timing['min_ms']:.1f})  "
            f"{timing['median_ms'] / base:.2f}x"
        )
    overhead = over_mcp["median_ms"] / in_sandbox["median_ms"]
    print(f"  MCP / same engine        {overhead:7.2f}x   (goal: query_run under 100 ms)")
    print(f"SandboxLogfire start-up (2 projects, default cache, server ready): {started_in:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as cache:
        cold = measure_startup(args.records, Path(cache))
        warm = measure_startup(args.records, Path(cache))
    print(f"start-up, {cold['rows']} records (fresh process, imports included):")
    for label, run in (("cold (OTel generation)", cold), ("warm (Parquet cache)", warm)):
        print(
            f"  {label:24s} {run['total_s']:6.2f} s  (imports {run['imports_s']:.2f}, "
            f"dataset {run['dataset_s']:.2f}, engine {run['engine_s']:.2f})"
        )
    print(f"  cold / warm ratio        {cold['total_s'] / warm['total_s']:6.1f}x   (goal: both under 5 s)")

    from sandbox.logfire.dataset import generate
    from sandbox.logfire.sql_engine import SqlEngine

    dataset = generate(records=args.records)
    engine = SqlEngine([dataset])
    window = {"min_timestamp": dataset.generated_at - timedelta(days=4)}
    direct = bench_engine(engine, dataset.project_id, AGGREGATE_SQL, args.runs, **window)
    print(f"aggregate over all {dataset.records.num_rows} records ({args.runs} runs):")
    print(
        f"  engine, direct           {direct['median_ms']:7.1f} ms median (min {direct['min_ms']:.1f})  1.00x"
    )
    report_mcp(args.records, args.runs, direct)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == _CHILD_FLAG:
        startup_child(int(sys.argv[2]))
    else:
        raise SystemExit(main())
