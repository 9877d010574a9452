"""Benchmark: resolution throughput and latency against two baselines measured in the same run.

    .venv/bin/python -m loadtests.bench_resolve [--records 1000000] [--seconds 10] [--connections 64] [--workers 2]
        [--rounds 3] [--server granian]

The defaults are the deployment shape (``secnode serve``: granian, 2 workers). Starts, on PostgreSQL
(``SECNODE_BENCH_DATABASE_URL``, an admin connection; a fresh database is created) and a Redis server of its own on
a free loopback port, the node with ``--records`` registered steel coils, and a baseline application with the same
server and settings (``--server`` granian or uvicorn, same worker count, no access log). Load comes from wrk
(Debian package ``wrk``) on the same machine, ``-t1 -c<connections>``, keys in a pseudo-random order without
repeats:

- const:  bare Starlette route returning a constant JSON body
- select: bare Starlette route doing one asyncpg primary-key SELECT
- cold:   node, keys never asked before (every request misses both cache tiers)
- warm:   node, keys of a warmed working set (answered by the in-process tier)

The four routes run ``--rounds`` times interleaved and each figure is the median (on a shared machine this evens
out other work); every round is printed too. Cold rounds never repeat a key: they draw from every record outside
the working set, one round going on where the last stopped (a warning says when there were too few records).
Targets (issue 19): warm >= 1.3x const with warm p99 <= const p99, cold >= 1.75x select with cold p99 <= 25 ms,
zero non-2xx responses.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import orjson
from sqlalchemy.engine import make_url

from loadtests.bench_batch_register import ADMIN_URL, PASSWORD, _dsn, coil_item, setup_tenant, stored_values
from tests.servers import free_port, running_node

# Keys in a pseudo-random order that repeats none before all were asked: key i is first + (start + i) * stride mod
# count, with stride coprime to count. Random draws would repeat keys, and a repeat is a cache hit, not a cold read.
WRK_SCRIPT = """
local prefix, first = os.getenv("BENCH_PATH"), tonumber(os.getenv("BENCH_FIRST"))
local count = tonumber(os.getenv("BENCH_COUNT"))
local stride, i = tonumber(os.getenv("BENCH_STRIDE")), tonumber(os.getenv("BENCH_START"))
request = function()
  local key = first + (i * stride) % count
  i = i + 1
  return wrk.format("GET", string.format("%s/COIL-%09d", prefix, key))
end
"""


def _stride(count: int) -> int:
    stride = max(1, int(count * 0.618))  # about the golden ratio: consecutive keys land far apart
    while math.gcd(stride, count) != 1:
        stride += 1
    return stride


def coil_record(prefix: str, serial: int, stamp: str) -> tuple[str, list[dict], str | None]:
    """A registered steel coil: its handle, its values as stored, its template."""
    item = coil_item(prefix, serial)
    return item["handle"], stored_values(item, stamp), "88.118@steel-coil-1.0"


async def load_records(
    dsn: str,
    prefix: str,
    count: int,
    record: Callable[[str, int, str], tuple[str, list[dict], str | None]] = coil_record,
) -> None:
    """COPY ``count`` records (``record(prefix, serial, stamp)``, default steel coils) into the node's table."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, count, 100_000):
            rows = []
            for serial in range(start, min(start + 100_000, count)):
                handle, values, template = record(prefix, serial, stamp)
                rows.append(
                    (
                        handle.lower(),
                        handle,
                        prefix.lower(),
                        1,
                        False,
                        orjson.dumps(values).decode(),
                        template,
                        now,
                        "bench",
                        now,
                        "bench",
                    )
                )
            await conn.copy_records_to_table(
                "handles",
                records=rows,
                columns=[
                    "handle_key",
                    "handle",
                    "prefix_key",
                    "version",
                    "deleted",
                    "values",
                    "template_key",
                    "created_at",
                    "created_by",
                    "updated_at",
                    "updated_by",
                ],
            )
        await conn.execute("ANALYZE handles")
    finally:
        await conn.close()


def wrk(
    url: str, path: str, first: int, count: int, seconds: int, connections: int, script: Path, start: int | None = None
) -> dict:
    """wrk over keys ``first`` .. ``first + count - 1``, from position ``start`` of their order (default random)."""
    start = random.randrange(count) if start is None else start
    env = {
        **os.environ,
        "BENCH_PATH": path,
        "BENCH_FIRST": str(first),
        "BENCH_COUNT": str(count),
        "BENCH_STRIDE": str(_stride(count)),
        "BENCH_START": str(start),
    }
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def millis(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": millis("50%"),
        "p99": millis("99%"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": errors.group(1) if errors else "",
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    }


def start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    """A Redis server of the benchmark's own on a free loopback port (nothing else's data is touched)."""
    port = free_port()
    process = subprocess.Popen(
        [
            shutil.which("redis-server"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0"


def start_baseline(dsn: str, workers: int, server: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if server == "granian":
        command = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "loadtests.baseline_app:app",
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "loadtests.baseline_app:app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    process = subprocess.Popen(
        command,
        env={**os.environ, "BASELINE_DSN": dsn},
        cwd=Path(__file__).resolve().parent.parent,
        stdout=open(tmp / "baseline.log", "w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/const/x", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return process, url


async def warm(url: str, prefix: str, first: int, count: int, workers: int) -> None:
    """Ask every key of the working set enough times that each worker's in-process tier holds it. wrk asks them,
    continuing the same key order run after run until every key was asked that often (Python clients are too slow
    on two shared cores)."""
    passes, asked = max(1, workers * 3), 0
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "keys.lua"
        script.write_text(WRK_SCRIPT)
        while asked < passes * count:
            result = wrk(url, f"/api/handles/{prefix}", first, count, 2, 16, script, start=asked)
            if result["non2xx"]:
                raise RuntimeError(f"warming answered {result['non2xx']} non-2xx responses")
            asked += result["requests"]


def _median(runs: list[dict]) -> dict:
    """Each figure's median over the rounds; non-2xx answers and socket errors add up."""
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50": statistics.median(r["p50"] for r in runs),
        "p99": statistics.median(r["p99"] for r in runs),
        "non2xx": sum(r["non2xx"] for r in runs),
        "errors": "; ".join(r["errors"] for r in runs if r["errors"]),
        "runs": runs,
    }


@dataclass
class Rig:
    """A node on a fresh database with a Redis of its own, and the baseline application beside it."""

    url: str  # the database (SQLAlchemy URL)
    node_url: str
    script: Path  # wrk's key script
    tmp: Path
    workers: int
    server: str
    baseline: subprocess.Popen | None = None

    def start_baseline(self) -> str:
        self.baseline, baseline_url = start_baseline(_dsn(self.url), self.workers, self.server, self.tmp)
        return baseline_url


@asynccontextmanager
async def rig(workers: int, server: str, node_env: dict[str, str] | None = None) -> AsyncIterator[Rig]:
    """Create the database, start Redis and the node (``workers`` × ``server``, with ``node_env`` added to its
    settings); stop and drop them afterwards."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is required: apt-get install wrk")
    name = f"secnode_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn(ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        script = tmp / "keys.lua"
        script.write_text(WRK_SCRIPT)
        redis_process, redis_url = start_redis(tmp)
        bench = None
        try:
            env = {
                "SECNODE_DATABASE_URL": url,
                "SECNODE_REDIS_URL": redis_url,
                "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
                "SECNODE_LOG_LEVEL": "WARNING",
                **(node_env or {}),
            }
            with running_node(env, tmp, extra_args=["--workers", str(workers), "--server", server]) as node_url:
                bench = Rig(url, node_url, script, tmp, workers, server)
                yield bench
        finally:
            if bench is not None and bench.baseline is not None:
                bench.baseline.terminate()
                bench.baseline.wait()
            redis_process.kill()
            redis_process.wait()
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def run(
    records: int, seconds: int, connections: int, workers: int, working_set: int, server: str, rounds: int = 1
) -> dict:
    """Load ``records`` identifiers, then drive the four routes with wrk, ``rounds`` times interleaved."""
    runs: dict[str, list[dict]] = {}
    async with rig(workers, server) as bench:
        node_url, script = bench.node_url, bench.script
        prefix, _ = await setup_tenant(node_url)
        started = time.perf_counter()
        await load_records(_dsn(bench.url), prefix, records)
        load_seconds = time.perf_counter() - started
        baseline_url = bench.start_baseline()
        await warm(node_url, prefix, 0, working_set, workers)
        cold_first = working_set  # every record outside the warm working set is a cold key
        asked = 0  # cold keys asked so far: each round goes on where the last one stopped
        for _ in range(rounds):
            for label, target, path, first, count in [
                ("const", baseline_url, "/const/" + prefix, 0, records),
                ("select", baseline_url, "/select/" + prefix, 0, records),
                ("cold", node_url, "/api/handles/" + prefix, cold_first, records - cold_first),
                ("warm", node_url, "/api/handles/" + prefix, 0, working_set),
            ]:
                result = wrk(
                    target, path, first, count, seconds, connections, script, start=asked if label == "cold" else None
                )
                if label == "cold":
                    asked += result["requests"] + connections  # and those still in flight at the end
                runs.setdefault(label, []).append(result)
    routes = {label: _median(r) for label, r in runs.items()}
    return {
        "records": records,
        "seconds": seconds,
        "connections": connections,
        "workers": workers,
        "working_set": working_set,
        "server": server,
        "rounds": rounds,
        "load_seconds": load_seconds,
        "cold_keys": records - working_set,
        "cold_asked": asked,
        "routes": routes,
        "ratios": {
            "warm/const": routes["warm"]["rps"] / routes["const"]["rps"],
            "cold/select": routes["cold"]["rps"] / routes["select"]["rps"],
        },
        "round_ratios": [
            {
                "warm/const": runs["warm"][n]["rps"] / runs["const"][n]["rps"],
                "cold/select": runs["cold"][n]["rps"] / runs["select"][n]["rps"],
            }
            for n in range(rounds)
        ],
        "targets": TARGETS,
    }


# Issue 19: warm p99 at most the constant route's p99 (same run), cold p99 at most 25 ms.
TARGETS = {"warm/const": 1.30, "cold/select": 1.75, "cold p99 ms": 25.0}


def print_result(r: dict) -> None:
    print(f"loaded {r['records']} identifiers in {r['load_seconds']:.0f} s")
    print(
        f"\n{r['records']} identifiers, wrk -t1 -c{r['connections']} -d{r['seconds']}s, {r['workers']} worker(s), "
        f"{r['server']}, median of {r['rounds']} interleaved round(s)\n"
    )
    print(f"{'route':8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}   rounds (req/s p50/p99)")
    for label, route in r["routes"].items():
        each = ", ".join(f"{run['rps']:.0f} {run['p50']:.2f}/{run['p99']:.2f}" for run in route["runs"])
        print(
            f"{label:8} {route['rps']:10.0f} {route['p50']:8.2f} {route['p99']:8.2f} {route['non2xx']:8d}   {each} "
            f"{route['errors']}"
        )
    routes, targets = r["routes"], r["targets"]
    print()
    for name, fast, base in [("warm / const", "warm", "const"), ("cold / select", "cold", "select")]:
        ratio = r["ratios"][f"{fast}/{base}"]
        each = ", ".join(f"{rr[f'{fast}/{base}']:.2f}x" for rr in r["round_ratios"])
        print(
            f"{name:14} {ratio:5.2f}x req/s (target >= {targets[f'{fast}/{base}']:.2f}x; rounds {each}); "
            f"p50 {routes[fast]['p50']:.2f} vs {routes[base]['p50']:.2f} ms, "
            f"p99 {routes[fast]['p99']:.2f} vs {routes[base]['p99']:.2f} ms"
        )
    print(f"warm p99:      {routes['warm']['p99']:.2f} ms  (target <= const p99, {routes['const']['p99']:.2f} ms)")
    print(f"cold p99:      {routes['cold']['p99']:.2f} ms  (target <= {targets['cold p99 ms']:.0f} ms)")
    print(f"non-2xx:       {sum(route['non2xx'] for route in routes.values())}  (target 0)")
    if r["cold_asked"] > r["cold_keys"]:
        print(
            f"warning: cold rounds asked {r['cold_asked']} keys of {r['cold_keys']}: the repeats were cache hits; "
            f"use more --records"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--working-set", type=int, default=20_000)
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="granian")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each figure is their median")
    args = parser.parse_args()
    try:
        print_result(
            asyncio.run(
                run(
                    args.records,
                    args.seconds,
                    args.connections,
                    args.workers,
                    args.working_set,
                    args.server,
                    args.rounds,
                )
            )
        )
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
