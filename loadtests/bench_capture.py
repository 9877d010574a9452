"""Benchmark: capture EPCIS events through ``POST /epcis/capture`` into PostgreSQL, against a COPY baseline.

    .venv/bin/python -m loadtests.bench_capture [--pairs 10000] [--batch 500] [--concurrency 2]

Creates its own database and Redis server as ``bench_batch_register`` does, registers two identifiers per pair
(a slab and the coil rolled from it; not timed), then captures two events per pair: the TransformationEvent
slab -> coil and an ObjectEvent observing the coil, in EPCIS documents of ``--batch`` events. The baseline, measured
in the same run on the same server, is asyncpg's COPY of the same rows (events, their items, both ends of each
trace edge, journal rows) into the same tables. Documents are encoded before the clock starts.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import orjson

from loadtests.bench_batch_register import _dsn, benchmark_node, post_all, setup_tenant

STEP = "https://ref.gs1.org/cbv/BizStep-"
START = datetime(2026, 11, 20, tzinfo=UTC)


def pair_events(prefix: str, serial: int) -> list[dict]:
    slab, coil = f"{prefix}/SLAB-{serial:08d}", f"{prefix}/COIL-{serial:08d}"
    moment = START + timedelta(seconds=serial)
    return [
        {
            "type": "TransformationEvent",
            "eventTime": moment.isoformat(),
            "eventTimeZoneOffset": "+00:00",
            "inputEPCList": [slab],
            "outputEPCList": [coil],
            "bizStep": STEP + "commissioning",
        },
        {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "eventTime": (moment + timedelta(hours=1)).isoformat(),
            "eventTimeZoneOffset": "+00:00",
            "epcList": [coil],
            "bizStep": STEP + "shipping",
        },
    ]


async def register(url: str, token: str, prefix: str, pairs: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    handles = [f"{prefix}/{kind}-{serial:08d}" for serial in range(pairs) for kind in ("SLAB", "COIL")]
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        for start in range(0, len(handles), 2000):
            items = [
                {"handle": h, "value": [{"index": 1, "type": "URL", "data": f"https://mill.example/{h}"}]}
                for h in handles[start : start + 2000]
            ]
            response = await http.post("/identityv2/data/batchCreate", json=items, headers=headers)
            response.raise_for_status()
            assert all(r["code"] == 1 for r in response.json()["data"]), response.text[:300]


async def copy_baseline(dsn: str, prefix: str, pairs: int, tag: str) -> float:
    """Seconds to COPY the rows of ``pairs`` pairs of events (removed after)."""
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        event_rows, ids = [], []
        for serial in range(pairs):
            for number, event in enumerate(pair_events(prefix, serial)):
                event_id = f"bench-{tag}-{serial}-{number}"
                ids.append((event_id, event))
                event_rows.append(
                    (
                        event_id,
                        event["type"],
                        event.get("action"),
                        datetime.fromisoformat(event["eventTime"]),
                        "+00:00",
                        now,
                        event["bizStep"],
                        "bench",
                        orjson.dumps({**event, "eventID": event_id}).decode(),
                    )
                )
        async with conn.transaction():
            await conn.copy_records_to_table(
                "events",
                records=event_rows,
                columns=[
                    "event_id",
                    "event_type",
                    "action",
                    "event_time",
                    "event_time_zone_offset",
                    "record_time",
                    "biz_step",
                    "captured_by",
                    "body",
                ],
            )
            seqs = dict(await conn.fetch("SELECT event_id, seq FROM events WHERE event_id LIKE $1", f"bench-{tag}-%"))
            items, links, journal = [], [], []
            for event_id, event in ids:
                seq, moment = seqs[event_id], datetime.fromisoformat(event["eventTime"])
                if event["type"] == "TransformationEvent":
                    (slab,), (coil,) = event["inputEPCList"], event["outputEPCList"]
                    keys = [(slab.lower(), "input"), (coil.lower(), "output")]
                    links += [
                        (coil.lower(), "up", slab.lower(), seq, "transformation"),
                        (slab.lower(), "down", coil.lower(), seq, "transformation"),
                    ]
                else:
                    keys = [(event["epcList"][0].lower(), "epc")]
                items += [(key, seq, role, moment) for key, role in keys]
                journal.append(
                    (
                        "event.captured",
                        event_id,
                        event_id,
                        0,
                        "bench",
                        orjson.dumps({"type": event["type"], "identifiers": [k for k, _ in keys]}).decode(),
                        now,
                    )
                )
            await conn.copy_records_to_table(
                "event_items", records=items, columns=["handle_key", "event_seq", "role", "event_time"]
            )
            await conn.copy_records_to_table(
                "trace_links", records=links, columns=["handle_key", "direction", "neighbor_key", "event_seq", "kind"]
            )
            await conn.copy_records_to_table(
                "journal",
                records=journal,
                columns=["kind", "subject", "subject_key", "version", "actor", "payload", "created_at"],
            )
        elapsed = time.perf_counter() - started
        async with conn.transaction():
            doomed = list(seqs.values())
            await conn.execute("DELETE FROM trace_links WHERE event_seq = ANY($1::bigint[])", doomed)
            await conn.execute("DELETE FROM event_items WHERE event_seq = ANY($1::bigint[])", doomed)
            await conn.execute("DELETE FROM events WHERE event_id LIKE $1", f"bench-{tag}-%")
            await conn.execute("DELETE FROM journal WHERE subject LIKE $1", f"bench-{tag}-%")
        return elapsed
    finally:
        await conn.close()


async def api_run(url: str, token: str, prefix: str, pairs: int, batch: int, concurrency: int) -> tuple[float, int]:
    events = [event for serial in range(pairs) for event in pair_events(prefix, serial)]
    documents = [
        orjson.dumps({"type": "EPCISDocument", "epcisBody": {"eventList": events[start : start + batch]}})
        for start in range(0, len(events), batch)
    ]
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    return await post_all(
        url, "/epcis/capture", documents, headers, concurrency, lambda response: len(response.json()["eventIDs"])
    )


async def run(pairs: int, batch: int, concurrency: int) -> dict:
    """Capture ``2 * pairs`` events through the API and COPY the same rows; returns the figures."""
    async with benchmark_node() as (node_url, url):
        prefix, token = await setup_tenant(node_url)
        await register(node_url, token, prefix, pairs)
        baselines = [await copy_baseline(_dsn(url), prefix, pairs, "a")]
        api_seconds, captured = await api_run(node_url, token, prefix, pairs, batch, concurrency)
        baselines.append(await copy_baseline(_dsn(url), prefix, pairs, "b"))
    events = 2 * pairs
    if captured != events:
        raise RuntimeError(f"only {captured} of {events} events were captured")
    baseline = statistics.median(baselines)
    return {
        "events": events,
        "batch": batch,
        "concurrency": concurrency,
        "api_seconds": api_seconds,
        "api_rate": events / api_seconds,
        "copy_runs": baselines,
        "copy_seconds": baseline,
        "copy_rate": events / baseline,
        "ratio": baseline / api_seconds,
    }


def print_result(r: dict) -> None:
    print(
        f"events:            {r['events']} (half transformations) in documents of {r['batch']}, "
        f"{r['concurrency']} in flight"
    )
    print(f"capture API:       {r['api_rate']:10.0f} events/s  ({r['api_seconds']:.2f} s)")
    print(
        f"COPY baseline:     {r['copy_rate']:10.0f} events/s  ({r['copy_seconds']:.2f} s; runs "
        f"{', '.join(f'{b:.2f}' for b in r['copy_runs'])} s)"
    )
    print(f"API / baseline:    {r['ratio']:10.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    try:
        print_result(asyncio.run(run(args.pairs, args.batch, args.concurrency)))
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
