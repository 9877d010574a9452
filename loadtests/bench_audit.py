"""Benchmark: how many audited write requests a node can take, against plain transactions of the same size.

    .venv/bin/python -m loadtests.bench_audit [--appends 4000] [--concurrency 16] [--algorithm sha256|sm3]

Every write request appends one entry to the audit chain in a small transaction of its own, under one advisory lock
for the whole node (ADR 0007). This measures that ceiling directly on PostgreSQL: ``concurrency`` tasks (as many
concurrent requests, over as many connections) append entries as fast as they can. The baseline, in the same run
on the same server, is the same tasks committing one-row inserts of the same size into a table of their own without
the lock: what the database gives when nothing is serialised. Two audited phases: a transaction per entry (how
the CLI appends), and the middleware's group appender (whoever arrives while a group is written goes in the next).
It creates (and drops) a database of its own on the
server of ``SECNODE_BENCH_DATABASE_URL`` (default: the local server, as in the test suite).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from foundation.db import Database
from foundation.migrate import upgrade
from registry.audit import chain
from registry.audit.middleware import GroupAppender

ADMIN_URL = os.environ.get(
    "SECNODE_BENCH_DATABASE_URL",
    os.environ.get("SECNODE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres"),
)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _run(tasks: int, per_task: int, one) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def worker(n: int) -> None:
        for i in range(per_task):
            started = time.perf_counter()
            await one(n, i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(tasks)))
    return time.perf_counter() - started, sorted(latencies)


def _p(latencies: list[float], q: float) -> float:
    return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000


async def main(appends: int, concurrency: int, algorithm: str) -> None:
    name = f"secnode_bench_audit_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn(ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        db = Database(url, pool_size=concurrency)
        per_task = max(1, appends // concurrency)
        async with db.unit_of_work() as session:
            await session.execute(
                text(
                    "CREATE TABLE bench_plain (seq bigserial PRIMARY KEY, at timestamptz, "
                    "actor text, action text, source text, result int, prev_hash text, "
                    "hash text)"
                )
            )

        async def plain(n: int, i: int) -> None:
            async with db.unit_of_work() as session:
                await session.execute(
                    text(
                        "INSERT INTO bench_plain (at, actor, action, source, result, prev_hash, hash) VALUES (now(), "
                        ":actor, :action, '127.0.0.1', 201, :h, :h)"
                    ),
                    {"actor": f"300:88.118.{n}/admin", "action": f"PUT /api/handles/88.118.{n}/X{i}", "h": "0" * 64},
                )

        async def one_by_one(n: int, i: int) -> None:
            async with db.unit_of_work() as session:
                await chain.append(
                    session,
                    actor=f"300:88.118.{n}/admin",
                    action=f"PUT /api/handles/88.118.{n}/X{i}",
                    source="127.0.0.1",
                    result=201,
                    algorithm=algorithm,
                )

        appender = GroupAppender(db, algorithm)

        async def grouped(n: int, i: int) -> None:
            await appender.append(
                {
                    "actor": f"300:88.118.{n}/admin",
                    "action": f"PUT /api/handles/88.118.{n}/X{i}",
                    "source": "127.0.0.1",
                    "result": 201,
                }
            )

        for phase in (plain, one_by_one, grouped):  # warm the pool and the caches
            await _run(concurrency, max(1, per_task // 10), phase)
        plain_seconds, plain_lat = await _run(concurrency, per_task, plain)
        single_seconds, single_lat = await _run(concurrency, per_task, one_by_one)
        audit_seconds, audit_lat = await _run(concurrency, per_task, grouped)
        async with db.read_session() as session:
            report = await chain.verify(session)
        await db.dispose()
        total = per_task * concurrency
        print(f"audit appends: {total} by {concurrency} concurrent writers, {algorithm}")
        print(
            f"  plain one-row transactions (baseline): {total / plain_seconds:8.0f}/s  "
            f"p50 {_p(plain_lat, 0.5):.2f} ms  p99 {_p(plain_lat, 0.99):.2f} ms"
        )
        print(
            f"  audited, a transaction per entry:      {total / single_seconds:8.0f}/s  "
            f"p50 {_p(single_lat, 0.5):.2f} ms  p99 {_p(single_lat, 0.99):.2f} ms"
        )
        print(
            f"  audited, grouped (as the node does):   {total / audit_seconds:8.0f}/s  "
            f"p50 {_p(audit_lat, 0.5):.2f} ms  p99 {_p(audit_lat, 0.99):.2f} ms"
        )
        print(
            f"  grouped / baseline: {plain_seconds / audit_seconds:.1%}, grouped / per entry: "
            f"{single_seconds / audit_seconds:.1f}x; chain of {report.entries} entries "
            f"verifies: {not report.problems}"
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appends", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--algorithm", choices=["sha256", "sm3"], default="sha256")
    args = parser.parse_args()
    asyncio.run(main(args.appends, args.concurrency, args.algorithm))
