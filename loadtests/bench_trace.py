"""Benchmark: trace and lifecycle query latency over about 1,000,000 events, next to the single indexed look-ups
they are built from, measured in the same run.

    .venv/bin/python -m loadtests.bench_trace [--events 1000000] [--queries 200]

Starts the node (granian, PostgreSQL from ``SECNODE_BENCH_DATABASE_URL`` in a fresh database, its own Redis) and
bulk-loads (COPY) supply-chain families shaped like the demo data: divergent families (a heat split into coils,
parts, ... — downstream traces) and convergent ones (parts assembled into ever larger units — upstream traces), each
reaching 1,535 identifiers within ten levels through transformation events, plus one observation event per
identifier for the lifecycle query. Then, sequentially, through HTTP as the node administrator:

- downstream trace, depth 10, from the root of a divergent family (1,535 reachable identifiers)
- upstream trace, depth 10, from the root of a convergent family (1,535 reachable identifiers)
- lifecycle query of one identifier
- baselines, directly on PostgreSQL with asyncpg: one trace-link index look-up, one lifecycle index range scan

Target: a depth-10 trace over 1,000 reachable items under 50 ms p99.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import orjson
from sqlalchemy.engine import make_url

from loadtests.bench_batch_register import ADMIN_URL, PASSWORD, _dsn, setup_tenant
from loadtests.bench_resolve import start_redis
from tests.servers import running_node

LEVELS = 10  # fan-out 2 for nine levels, then 1: 1 + 2 + ... + 512 + 512 identifiers
NODES_PER_FAMILY = 1535
EVENTS_PER_FAMILY = 1023 + NODES_PER_FAMILY


def _family(prefix: str, family: int) -> list[list[str]]:
    levels = [[f"{prefix}/F{family:05d}-0-0"]]
    for level in range(1, LEVELS + 1):
        width = len(levels[-1]) * (2 if level < LEVELS else 1)
        levels.append([f"{prefix}/F{family:05d}-{level}-{i}" for i in range(width)])
    return levels


async def load(dsn: str, prefix: str, families: int) -> tuple[list[str], list[str], list[str]]:
    """COPY the families; returns (divergent roots, convergent roots, some identifiers)."""
    conn = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    seq = 0
    divergent, convergent, sample = [], [], []
    try:
        for start in range(0, families, 20):
            handles, events, items, links = [], [], [], []
            for family in range(start, min(start + 20, families)):
                levels = _family(prefix, family)
                (divergent if family % 2 == 0 else convergent).append(levels[0][0])
                sample.append(levels[5][0])
                values = orjson.dumps(
                    [
                        {
                            "index": 1,
                            "type": "URL",
                            "ttl": 86400,
                            "timestamp": "2026-01-01T00:00:00Z",
                            "data": {"format": "string", "value": "https://example.com"},
                        }
                    ]
                ).decode()
                for level in levels:
                    for handle in level:
                        handles.append(
                            (handle.lower(), handle, prefix.lower(), 1, False, values, None, now, "bench", now, "bench")
                        )
                for depth in range(1, LEVELS + 1):
                    parents, children = levels[depth - 1], levels[depth]
                    fan = len(children) // len(parents)
                    for index, parent in enumerate(parents):
                        kids = children[index * fan : (index + 1) * fan]
                        inputs, outputs = ([parent], kids) if family % 2 == 0 else (kids, [parent])
                        seq += 1
                        moment = base + timedelta(minutes=seq)
                        body = {
                            "type": "TransformationEvent",
                            "eventTime": moment.isoformat(),
                            "eventTimeZoneOffset": "+00:00",
                            "inputEPCList": inputs,
                            "outputEPCList": outputs,
                            "bizStep": "commissioning",
                            "eventID": f"urn:uuid:{uuid.uuid4()}",
                        }
                        events.append(
                            (
                                seq,
                                body["eventID"],
                                "TransformationEvent",
                                None,
                                moment,
                                "+00:00",
                                now,
                                "commissioning",
                                None,
                                None,
                                None,
                                None,
                                "bench",
                                orjson.dumps(body).decode(),
                            )
                        )
                        items += [(h.lower(), seq, "input", moment) for h in inputs]
                        items += [(h.lower(), seq, "output", moment) for h in outputs]
                        for up in inputs:
                            for down in outputs:
                                links.append((down.lower(), "up", up.lower(), seq, "transformation"))
                                links.append((up.lower(), "down", down.lower(), seq, "transformation"))
                for level in levels:
                    for handle in level:
                        seq += 1
                        moment = base + timedelta(minutes=seq)
                        body = {
                            "type": "ObjectEvent",
                            "eventTime": moment.isoformat(),
                            "eventTimeZoneOffset": "+00:00",
                            "action": "OBSERVE",
                            "epcList": [handle],
                            "bizStep": "inspecting",
                            "eventID": f"urn:uuid:{uuid.uuid4()}",
                        }
                        events.append(
                            (
                                seq,
                                body["eventID"],
                                "ObjectEvent",
                                "OBSERVE",
                                moment,
                                "+00:00",
                                now,
                                "inspecting",
                                None,
                                None,
                                None,
                                None,
                                "bench",
                                orjson.dumps(body).decode(),
                            )
                        )
                        items.append((handle.lower(), seq, "epc", moment))
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "handles",
                    records=handles,
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
                    "events",
                    records=events,
                    columns=[
                        "seq",
                        "event_id",
                        "event_type",
                        "action",
                        "event_time",
                        "event_time_zone_offset",
                        "record_time",
                        "biz_step",
                        "disposition",
                        "read_point",
                        "biz_location",
                        "enterprise_id",
                        "captured_by",
                        "body",
                    ],
                )
                await conn.copy_records_to_table(
                    "event_items", records=items, columns=["handle_key", "event_seq", "role", "event_time"]
                )
                await conn.copy_records_to_table(
                    "trace_links",
                    records=links,
                    columns=["handle_key", "direction", "neighbor_key", "event_seq", "kind"],
                )
        await conn.execute("SELECT setval(pg_get_serial_sequence('events', 'seq'), $1)", seq)
        await conn.execute("ANALYZE")
        try:  # write the load's dirty pages now: a checkpoint during the first queries measures the load, not them
            await conn.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            print("(no CHECKPOINT: the benchmark's user is not allowed to; the first queries may pay for the load)")
    finally:
        await conn.close()
    return divergent, convergent, sample


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000


async def _timed(call, count: int) -> list[float]:
    out = []
    for i in range(count):
        started = time.perf_counter()
        await call(i)
        out.append(time.perf_counter() - started)
    return out


async def run(total_events: int, queries: int) -> dict:
    """Load about ``total_events`` events, then time ``queries`` sequential queries of each kind."""
    families = max(2, total_events // EVENTS_PER_FAMILY)
    name = f"secnode_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn(ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    rows: dict[str, tuple[float, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            redis_process, redis_url = start_redis(tmp)
            env = {
                "SECNODE_DATABASE_URL": url,
                "SECNODE_REDIS_URL": redis_url,
                "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
                "SECNODE_LOG_LEVEL": "WARNING",
            }
            try:
                with running_node(env, tmp) as node_url:
                    prefix, _ = await setup_tenant(node_url)
                    started = time.perf_counter()
                    divergent, convergent, sample = await load(_dsn(url), prefix, families)
                    load_seconds = time.perf_counter() - started
                    async with httpx.AsyncClient(base_url=node_url, timeout=60) as http:
                        token = (
                            await http.post("/identity/token", json={"username": "admin", "password": PASSWORD})
                        ).json()
                        auth = {"Authorization": "Bearer " + token["data"]["token"]}

                        async def traced(direction: str, roots: list[str], i: int) -> None:
                            response = await http.get(
                                f"/trace/{direction}",
                                headers=auth,
                                params={"handle": roots[i % len(roots)], "depth": 10},
                            )
                            if len(response.json().get("nodes", [])) != NODES_PER_FAMILY:
                                raise RuntimeError(f"wrong trace: {response.text[:300]}")

                        async def lifecycle(i: int) -> None:
                            response = await http.get(
                                "/epcis/events", headers=auth, params={"MATCH_anyEPC": sample[i % len(sample)]}
                            )
                            if response.status_code != 200:
                                raise RuntimeError(f"lifecycle query failed: {response.text[:300]}")

                        await traced("downstream", divergent, 0)  # warm the connections
                        rows["downstream trace, depth 10"] = _stats(
                            await _timed(lambda i: traced("downstream", divergent, i), queries)
                        )
                        rows["upstream trace, depth 10"] = _stats(
                            await _timed(lambda i: traced("upstream", convergent, i), queries)
                        )
                        rows["lifecycle query"] = _stats(await _timed(lifecycle, queries))
                    conn = await asyncpg.connect(_dsn(url))
                    try:
                        keys = [s.lower() for s in sample]
                        rows["baseline: one trace-link look-up"] = _stats(
                            await _timed(
                                lambda i: conn.fetch(
                                    "SELECT neighbor_key, event_seq FROM trace_links WHERE handle_key = "
                                    "ANY($1) AND direction = 'down'",
                                    [keys[i % len(keys)]],
                                ),
                                queries,
                            )
                        )
                        rows["baseline: one lifecycle range scan"] = _stats(
                            await _timed(
                                lambda i: conn.fetch(
                                    "SELECT event_seq FROM event_items WHERE handle_key = $1 ORDER BY "
                                    "event_time, event_seq LIMIT 101",
                                    keys[i % len(keys)],
                                ),
                                queries,
                            )
                        )
                    finally:
                        await conn.close()
            finally:
                redis_process.kill()
                redis_process.wait()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return {
        "families": families,
        "events": families * EVENTS_PER_FAMILY,
        "identifiers": families * NODES_PER_FAMILY,
        "reachable": NODES_PER_FAMILY,
        "queries": queries,
        "load_seconds": load_seconds,
        "rows": {label: {"p50": p50, "p99": p99} for label, (p50, p99) in rows.items()},
        "worst_trace_p99": max(rows["downstream trace, depth 10"][1], rows["upstream trace, depth 10"][1]),
        "target_p99_ms": 50.0,
    }


def print_result(r: dict) -> None:
    print(
        f"loaded {r['families']} families: {r['events']} events, {r['identifiers']} identifiers in "
        f"{r['load_seconds']:.0f} s"
    )
    print(f"\n{r['queries']} sequential queries each, {r['reachable']} reachable identifiers per trace\n")
    print(f"{'query':40} {'p50 ms':>8} {'p99 ms':>8}")
    for label, row in r["rows"].items():
        print(f"{label:40} {row['p50']:8.2f} {row['p99']:8.2f}")
    print(f"\ndepth-10 trace p99: {r['worst_trace_p99']:.1f} ms (target < {r['target_p99_ms']:.0f} ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    try:
        print_result(asyncio.run(run(args.events, args.queries)))
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
