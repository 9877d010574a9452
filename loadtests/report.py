"""Benchmark report: resolution, registration, capture, trace and native protocol benchmarks in one run, as
Markdown and a plot.

    .venv/bin/python -m loadtests.report --output docs/benchmarks/

Runs ``bench_resolve``, ``bench_batch_register``, ``bench_capture``, ``bench_trace`` and ``bench_native`` one after
the other on PostgreSQL (``SECNODE_BENCH_DATABASE_URL``, an admin connection; each benchmark creates and drops its
own database) with a Redis server of each benchmark's own, then writes ``REPORT.md`` and ``benchmarks.png`` into
``--output``, with the scale benchmark's saved output (``scale.txt`` there, see ``bench_scale``) as its last section.
Every figure stands next to its baseline measured in the same run, because absolute figures drift on a shared
machine. The defaults finish in about twelve minutes on two cores; every size is a parameter.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import asyncpg

from loadtests import bench_batch_register, bench_capture, bench_native, bench_resolve, bench_trace
from loadtests.bench_batch_register import ADMIN_URL, _dsn
from loadtests.report_markdown import render
from loadtests.report_plot import plot

ROOT = Path(__file__).resolve().parent.parent


def _output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        kib = int(
            next(
                line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
            ).split()[1]
        )
        return f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        return "unknown"


def _code_version() -> str:
    commit = _output(["git", "rev-parse", "--short", "HEAD"])
    if not commit or "fatal" in commit:
        return "unknown (not a git work tree)"
    changed = [
        line
        for command in (["git", "diff", "--name-only", "HEAD"], ["git", "ls-files", "--others", "--exclude-standard"])
        for line in _output(command).splitlines()
        if line
    ]
    if not changed:
        return f"commit {commit}"
    listed = ", ".join(f"`{name}`" for name in changed) if len(changed) <= 8 else f"{len(changed)} files"
    return f"commit {commit} with local changes (changed or new) in {listed}"


async def machine_facts() -> dict[str, str]:
    conn = await asyncpg.connect(_dsn(ADMIN_URL))
    try:
        postgres = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    redis = _output(["redis-server", "--version"]).split()
    version = next((part[2:] for part in redis if part.startswith("v=")), "unknown")
    return {
        "CPU": f"{os.cpu_count()} logical CPU(s), {_cpu_model()}",
        "memory": _memory_gib(),
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "PostgreSQL": postgres,
        "Redis": f"{version} (redis-server, one per benchmark)",
        "granian": metadata.version("granian"),
        "uvicorn": metadata.version("uvicorn"),
        "wrk": (_output(["wrk", "-v"]).splitlines() or ["unknown"])[0].split(" [")[0],
        "code": _code_version(),
    }


async def collect(args: argparse.Namespace) -> dict:
    """Run the benchmarks in turn; each returns its figures with its same-run baselines."""
    results: dict = {"started": datetime.now(UTC), "load_start": os.getloadavg()}
    results["machine"] = await machine_facts()
    timings = {}
    for name, call in [
        (
            "resolve",
            lambda: bench_resolve.run(
                args.records, args.seconds, args.connections, args.workers, args.working_set, args.server, args.rounds
            ),
        ),
        ("register", lambda: bench_batch_register.run(args.count, args.batch, args.concurrency)),
        ("capture", lambda: bench_capture.run(args.pairs, args.capture_batch, args.concurrency)),
        ("trace", lambda: bench_trace.run(args.events, args.queries)),
        (
            "native",
            lambda: bench_native.run(args.native_records, args.native_seconds, args.native_rounds, workers=2),
        ),
    ]:
        print(f"running the {name} benchmark ...", flush=True)
        # What the benchmarks before left in this process stays out of the collector's way: a full collection over
        # it would pause this benchmark's client, and the pause would count as the node's latency.
        gc.collect()
        gc.freeze()
        started = time.perf_counter()
        results[name] = await call()
        timings[name] = time.perf_counter() - started
    results.update(timings=timings, load_end=os.getloadavg(), finished=datetime.now(UTC))
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks")
    resolve = p.add_argument_group("resolution (bench_resolve)")
    resolve.add_argument(
        "--records", type=int, default=400_000, help="registered identifiers; those outside the working set are cold"
    )
    resolve.add_argument("--working-set", type=int, default=20_000, help="keys of the warm working set")
    resolve.add_argument("--seconds", type=int, default=10, help="wrk duration of each route and round")
    resolve.add_argument("--rounds", type=int, default=3, help="interleaved rounds; figures are their median")
    resolve.add_argument("--connections", type=int, default=64)
    resolve.add_argument("--workers", type=int, default=2, help="as `secnode serve` runs by default")
    resolve.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    register = p.add_argument_group("registration (bench_batch_register)")
    register.add_argument("--count", type=int, default=100_000, help="identifiers registered")
    register.add_argument("--batch", type=int, default=2000)
    register.add_argument("--concurrency", type=int, default=2, help="batches in flight")
    capture = p.add_argument_group("capture (bench_capture)")
    capture.add_argument("--pairs", type=int, default=10_000, help="slab/coil pairs: two events each")
    capture.add_argument("--capture-batch", type=int, default=500, help="events per EPCIS document")
    trace = p.add_argument_group("traceability (bench_trace)")
    trace.add_argument("--events", type=int, default=1_000_000, help="events bulk-loaded (about)")
    trace.add_argument("--queries", type=int, default=200, help="sequential queries of each kind")
    native = p.add_argument_group("native protocol (bench_native, two workers)")
    native.add_argument("--native-records", type=int, default=1000, help="identifiers resolved over UDP and TCP")
    native.add_argument("--native-seconds", type=float, default=10, help="duration of each run and round")
    native.add_argument("--native-rounds", type=int, default=3, help="interleaved rounds; figures are their median")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    command = " ".join(
        [".venv/bin/python -m loadtests.report", *map(shlex.quote, sys.argv[1:] if argv is None else argv)]
    )
    try:
        results = asyncio.run(collect(args))
    except RuntimeError as exc:
        raise SystemExit(f"benchmark failed: {exc}") from None
    args.output.mkdir(parents=True, exist_ok=True)
    plot(results, args.output / "benchmarks.png")
    scale = args.output / "scale.txt"
    (args.output / "REPORT.md").write_text(
        render(results, vars(args), command, "benchmarks.png", scale.read_text() if scale.exists() else None)
    )
    print(f"wrote {args.output / 'REPORT.md'} and {args.output / 'benchmarks.png'}")


if __name__ == "__main__":
    main()
