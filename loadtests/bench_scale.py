"""Benchmark: does the cost stay flat as the node grows? Figures at each size, measured in one run.

    .venv/bin/python -m loadtests.bench_scale [--sizes 1000000,10000000] [--seconds 10] [--measure 100000] \
        | tee docs/benchmarks/scale.txt

(the benchmark report shows the saved output in its Scale section).

Creates its own database on the PostgreSQL server of ``SECNODE_BENCH_DATABASE_URL`` (as the other benchmarks), a
Redis server of its own, and ``secnode serve`` (granian, two workers; the baseline too; records live a minute in
the Redis tier, see ``CACHE_TTL_SECONDS``). It grows the registry to each size through the node's own bulk path
(``POST /identityv2/data/batchCreate``, 2000 steel coils a batch, four in flight) and measures at each size:

- registration: identifiers/s of the last ``--measure`` identifiers of the growth to that size;
- cold resolve: wrk on keys never asked before, spread over the first half of the registry (both cache tiers miss,
  see ``CACHE_TTL_SECONDS``; PostgreSQL's buffers and the OS cache warmed with pg_prewarm first), next to the
  same-run baseline ``select`` (a bare route doing one asyncpg primary-key SELECT on the same table);
- warm resolve: wrk on a warmed working set of 20,000 identifiers;
- storage: bytes per identifier of the identifier tables and the journal (table + indexes + TOAST).

Target: cold resolve and registration at the largest size within 80% of their figures at the smallest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime

import asyncpg
import httpx
import orjson

from loadtests.bench_batch_register import _dsn, coil_item, setup_tenant
from loadtests.bench_resolve import rig, warm, wrk

BATCH = 2000
IN_FLIGHT = 4
WORKERS = 2  # node and baseline alike
WORKING_SET = 20_000
# Writes install their records in both cache tiers; the cold keys must have left them. In Redis a record lives this
# long (new records a minute anyway: docs/capacity.md, "Redis memory"), and the first half of the registry was
# written minutes before it is read; the in-process tiers (200,000 records each) have had more written since.
CACHE_TTL_SECONDS = 60
STORAGE_TABLES = ("handles", "handle_history", "journal")
ANALYZE_EVERY = 1_000_000  # identifiers registered between two ANALYZE runs


async def grow(url: str, token: str, prefix: str, first: int, last: int) -> float:
    """Register coils ``first`` .. ``last - 1`` through the batch API; returns the seconds it took."""
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    starts = iter(range(first, last, BATCH))

    async def sender(http: httpx.AsyncClient) -> None:
        for start in starts:  # shared iterator: each batch goes to exactly one sender
            body = orjson.dumps([coil_item(prefix, s) for s in range(start, min(start + BATCH, last))])
            response = await http.post("/identityv2/data/batchCreate", content=body, headers=headers)
            response.raise_for_status()
            failed = [r for r in response.json()["data"] if r["code"] != 1]
            if failed:
                raise SystemExit(f"registration failed: {failed[:3]}")

    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        started = time.perf_counter()
        await asyncio.gather(*(sender(http) for _ in range(IN_FLIGHT)))
        return time.perf_counter() - started


async def analyze(dsn: str) -> None:
    """What autovacuum does as tables grow; servers without it (as the benchmark machine's) plan batch look-ups
    on the row counts of long ago: measured, the 2000-key existence check of a batch took 5 s near 10M."""
    conn = await asyncpg.connect(dsn)
    try:
        for table in STORAGE_TABLES:
            await conn.execute(f"ANALYZE {table}")
    finally:
        await conn.close()


async def settle_and_measure_storage(dsn: str, count: int) -> dict[str, float]:
    """VACUUM ANALYZE, warm the identifier table and its index into memory, and return bytes per identifier."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE handles")
        await conn.execute("VACUUM ANALYZE journal")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        relations = await conn.fetch(
            "SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'handles'::regclass "
            "UNION ALL SELECT x.indexrelid::regclass::text FROM pg_inherits i JOIN pg_index x "
            "ON x.indrelid = i.inhrelid WHERE i.inhparent = 'handles'::regclass"
        )
        relations = [r[0] for r in relations] or ["handles", "pk_handles"]
        for relation in relations:
            await conn.execute("SELECT pg_prewarm($1::regclass, 'read')", relation)
        sizes = {}
        for table in STORAGE_TABLES:
            sizes[table] = await conn.fetchval(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c WHERE c.oid = $1::regclass "
                "OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass)",
                table,
            )
        return {table: size / count for table, size in sizes.items()}
    finally:
        await conn.close()


async def main(sizes: list[int], seconds: int, connections: int, measure: int) -> None:
    rows: list[dict] = []
    async with rig(WORKERS, "granian", {"SECNODE_CACHE_TTL_SECONDS": str(CACHE_TTL_SECONDS)}) as bench:
        prefix, token = await setup_tenant(bench.node_url)
        baseline_url = bench.start_baseline()
        dsn, node_url, script = _dsn(bench.url), bench.node_url, bench.script
        loaded = 0
        for size in sizes:
            started = time.perf_counter()
            for first in range(loaded, size - measure, ANALYZE_EVERY):
                await grow(node_url, token, prefix, first, min(first + ANALYZE_EVERY, size - measure))
                await analyze(dsn)
            register_seconds = await grow(node_url, token, prefix, size - measure, size)
            loaded = size
            print(f"{size:>11,} identifiers registered ({time.perf_counter() - started:.0f} s)", flush=True)
            storage = await settle_and_measure_storage(dsn, size)
            row = {"size": size, "register": measure / register_seconds, "storage": storage}
            cold_keys = size // 2 - WORKING_SET
            row["select"] = wrk(baseline_url, "/select/" + prefix, WORKING_SET, cold_keys, seconds, connections, script)
            row["cold"] = wrk(node_url, "/api/handles/" + prefix, WORKING_SET, cold_keys, seconds, connections, script)
            await warm(node_url, prefix, 0, WORKING_SET, WORKERS)
            row["warm"] = wrk(node_url, "/api/handles/" + prefix, 0, WORKING_SET, seconds, connections, script)
            rows.append(row)
            print_row(row, connections, seconds)
    print_summary(rows)


def print_row(row: dict, connections: int, seconds: int) -> None:
    print(f"  wrk -t1 -c{connections} -d{seconds}s       req/s   p50 ms   p99 ms  non-2xx")
    for label in ("select", "cold", "warm"):
        r = row[label]
        print(f"  {label:22} {r['rps']:10.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['non2xx']:8d} {r['errors']}")
    storage = ", ".join(f"{table} {per:,.0f} B" for table, per in row["storage"].items())
    print(f"  registration {row['register']:,.0f} identifiers/s; per identifier: {storage}", flush=True)


def print_summary(rows: list[dict]) -> None:
    first, last = rows[0], rows[-1]
    print(
        f"\n{'size':>12} {'register/s':>11} {'cold req/s':>11} {'select req/s':>13} {'cold/select':>12} "
        f"{'warm req/s':>11} {'cold p99':>9} {'bytes/id':>9}"
    )
    for row in rows:
        print(
            f"{row['size']:>12,} {row['register']:>11,.0f} {row['cold']['rps']:>11,.0f} "
            f"{row['select']['rps']:>13,.0f} {row['cold']['rps'] / row['select']['rps']:>12.1%} "
            f"{row['warm']['rps']:>11,.0f} {row['cold']['p99']:>8.2f}ms {sum(row['storage'].values()):>9,.0f}"
        )
    if len(rows) > 1:
        cold, register = (last["cold"]["rps"] / first["cold"]["rps"], last["register"] / first["register"])
        print(f"\ncold resolve at {last['size']:,} / at {first['size']:,}: {cold:.1%}   (target >= 80%)")
        print(f"registration at {last['size']:,} / at {first['size']:,}: {register:.1%}   (target >= 80%)")
    print(f"non-2xx: {sum(r[label]['non2xx'] for r in rows for label in ('select', 'cold', 'warm'))}  (target 0)")
    print(
        f"# finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000000,10000000", type=lambda text: sorted(int(part) for part in text.split(","))
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--measure", type=int, default=100_000, help="identifiers timed for registration")
    args = parser.parse_args()
    print(
        f"$ .venv/bin/python -m loadtests.bench_scale {' '.join(sys.argv[1:])}\n"
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    asyncio.run(main(args.sizes, args.seconds, args.connections, args.measure))
