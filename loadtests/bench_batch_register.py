"""Benchmark: register identifiers through the batch API into PostgreSQL, against a COPY baseline.

    .venv/bin/python -m loadtests.bench_batch_register [--count 100000] [--batch 2000] [--concurrency 2] [--no-redis]

Creates its own database on the PostgreSQL server of ``SECNODE_BENCH_DATABASE_URL`` (an admin connection; default
the local server as in the test suite) and a Redis server of its own (unless ``--no-redis``), starts ``secnode
serve`` on them, and sends steel-coil batches through ``POST /identityv2/data/batchCreate``. The baseline,
measured in the same run on the same server, is asyncpg's ``copy_records_to_table`` of the same rows (the record
rows and their journal rows) into the same tables. Bodies are encoded before the clock starts; the server's JSON
parsing, validation and SQL are what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import orjson
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "SECNODE_BENCH_DATABASE_URL",
    os.environ.get("SECNODE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres"),
)
PASSWORD = "Bench-Secret-2026"


def coil_item(prefix: str, serial: int) -> dict:
    fields = [
        (2000, "coilNo", f"C{serial:09d}"),
        (2001, "heatNo", f"H{serial % 9973:06d}"),
        (2002, "grade", "Q235B"),
        (2003, "productStandard", "GB/T 700-2006"),
        (2004, "thickness", "2.5"),
        (2005, "width", "1250"),
        (2007, "netWeight", "21.4"),
        (2013, "yieldStrength", "245"),
        (2014, "tensileStrength", "410"),
        (2018, "productionDate", "2026-11-20"),
    ]
    return {
        "handle": f"{prefix}/COIL-{serial:09d}",
        "templateVersion": "steel-coil-1.0",
        "value": [{"index": i, "type": t, "data": {"format": "string", "value": v}} for i, t, v in fields],
    }


def stored_values(item: dict, stamp: str) -> list[dict]:
    """The values as the node stores them (with the template binding and timestamps)."""
    values = [
        {
            "index": 1001,
            "type": "TEMPLATE",
            "ttl": 86400,
            "timestamp": stamp,
            "data": {"format": "string", "value": '{"prefix":"88.118","version":"steel-coil-1.0"}'},
        }
    ]
    values += [{**v, "ttl": 86400, "timestamp": stamp} for v in item["value"]]
    return values


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def copy_baseline(dsn: str, prefix: str, count: int, tag: str) -> float:
    """Seconds to COPY ``count`` record rows and their journal rows into the node's tables (removed after)."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        handle_rows, journal_rows = [], []
        for serial in range(count):
            item = coil_item(prefix, serial)
            item["handle"] = item["handle"].replace("/COIL-", f"/COPY{tag}-")
            key = item["handle"].lower()
            handle_rows.append(
                (
                    key,
                    item["handle"],
                    prefix.lower(),
                    1,
                    False,
                    orjson.dumps(stored_values(item, stamp)).decode(),
                    "88.118@steel-coil-1.0",
                    now,
                    "bench",
                    now,
                    "bench",
                )
            )
            journal_rows.append(
                (
                    "handle.created",
                    item["handle"],
                    key,
                    1,
                    "bench",
                    orjson.dumps({"prefix": prefix, "template": "88.118@steel-coil-1.0"}).decode(),
                    now,
                )
            )
        async with conn.transaction():
            await conn.copy_records_to_table(
                "handles",
                records=handle_rows,
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
            await conn.copy_records_to_table(
                "journal",
                records=journal_rows,
                columns=["kind", "subject", "subject_key", "version", "actor", "payload", "created_at"],
            )
        elapsed = time.perf_counter() - started
        await conn.execute("DELETE FROM handles WHERE handle_key LIKE $1", f"{prefix.lower()}/copy{tag}-%")
        await conn.execute("DELETE FROM journal WHERE subject_key LIKE $1", f"{prefix.lower()}/copy{tag}-%")
        return elapsed
    finally:
        await conn.close()


async def post_all(
    url: str, path: str, bodies: list[bytes], headers: dict[str, str], concurrency: int, accepted
) -> tuple[float, int]:
    """POST every body to ``path``, ``concurrency`` at a time; returns the seconds taken and the sum of
    ``accepted(response)`` (what each answer says it stored)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    total = 0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal total
        while not queue.empty():
            response = await http.post(path, content=queue.get_nowait(), headers=headers)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"{path} refused: {response.status_code} {response.text[:300]}")
            total += accepted(response)

    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        return time.perf_counter() - started, total


async def api_run(url: str, token: str, prefix: str, count: int, batch: int, concurrency: int) -> tuple[float, int]:
    bodies = [
        orjson.dumps([coil_item(prefix, s) for s in range(start, min(start + batch, count))])
        for start in range(0, count, batch)
    ]
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    return await post_all(
        url,
        "/identityv2/data/batchCreate",
        bodies,
        headers,
        concurrency,
        lambda response: sum(1 for r in response.json()["data"] if r["code"] == 1),
    )


async def setup_tenant(url: str) -> tuple[str, str]:
    from tests.factories import application  # the same onboarding as the test suite

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        admin = {
            "Authorization": "Bearer "
            + (await http.post("/identity/token", json={"username": "admin", "password": PASSWORD})).json()["data"][
                "token"
            ]
        }
        form = application("bench" + uuid.uuid4().hex[:6])
        enterprise = (await http.post("/snms/api/v5/enterprises", json=form)).json()["data"]
        await http.post(f"/snms/api/v5/enterprises/{enterprise['id']}/audit", json={"approve": True}, headers=admin)
        user = {
            "Authorization": "Bearer "
            + (
                await http.post("/identity/token", json={"username": form["username"], "password": form["password"]})
            ).json()["data"]["token"]
        }
        prefix = (await http.post("/snms/api/v5/prefixes", json={}, headers=user)).json()["data"]["prefix"]
        await http.post(f"/snms/api/v5/prefixes/{prefix}/audit", json={"approve": True}, headers=admin)
        token = (
            await http.post("/identity/token", json={"username": form["username"], "password": form["password"]})
        ).json()["data"]["token"]
    return prefix, token


@contextlib.asynccontextmanager
async def benchmark_node(redis: bool = True) -> AsyncIterator[tuple[str, str]]:
    """A database and (unless ``redis`` is false) a Redis server of the benchmark's own, and ``secnode serve`` on
    them; yields (node URL, database URL) and removes all of it afterwards."""
    from loadtests.bench_resolve import start_redis  # bench_resolve imports this module
    from tests.servers import running_node

    name = f"secnode_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn(ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    redis_process = None
    try:
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            env = {
                "SECNODE_DATABASE_URL": url,
                "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
                "SECNODE_LOG_LEVEL": "WARNING",
            }
            if redis:  # writes then go through the cross-worker invalidation protocol, as in production
                redis_process, env["SECNODE_REDIS_URL"] = start_redis(tmp)
            with running_node(env, tmp) as node_url:
                yield node_url, url
    finally:
        if redis_process is not None:
            redis_process.kill()
            redis_process.wait()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def run(count: int, batch: int, concurrency: int, redis: bool = True) -> dict:
    """Register ``count`` coils through the batch API and COPY the same rows; returns the figures."""
    async with benchmark_node(redis) as (node_url, url):
        prefix, token = await setup_tenant(node_url)
        # baseline before and after the API run, so both see a table of about the same size on average
        baselines = [await copy_baseline(_dsn(url), prefix, count, "a")]
        api_seconds, succeeded = await api_run(node_url, token, prefix, count, batch, concurrency)
        baselines.append(await copy_baseline(_dsn(url), prefix, count, "b"))
    if succeeded != count:
        raise RuntimeError(f"only {succeeded} of {count} identifiers were registered")
    baseline = statistics.median(baselines)
    return {
        "count": count,
        "batch": batch,
        "concurrency": concurrency,
        "redis": redis,
        "api_seconds": api_seconds,
        "api_rate": count / api_seconds,
        "copy_runs": baselines,
        "copy_seconds": baseline,
        "copy_rate": count / baseline,
        "ratio": (count / api_seconds) / (count / baseline),
        "target": 0.25,
    }


def print_result(r: dict) -> None:
    print(
        f"identifiers:       {r['count']} in batches of {r['batch']}, {r['concurrency']} in flight, "
        f"{'with' if r['redis'] else 'without'} Redis"
    )
    print(f"batch API:         {r['api_rate']:10.0f} identifiers/s  ({r['api_seconds']:.2f} s)")
    print(
        f"COPY baseline:     {r['copy_rate']:10.0f} identifiers/s  ({r['copy_seconds']:.2f} s; runs "
        f"{', '.join(f'{b:.2f}' for b in r['copy_runs'])} s)"
    )
    print(f"API / baseline:    {r['ratio']:10.1%}   (target >= {r['target']:.0%})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--no-redis", dest="redis", action="store_false", help="the node without Redis (in-process cache only)"
    )
    args = parser.parse_args()
    try:
        print_result(asyncio.run(run(args.count, args.batch, args.concurrency, args.redis)))
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
