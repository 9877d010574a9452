"""``/metrics`` of a node with two workers counts every request once, whichever worker takes the scrape: both
workers answer resolutions, and each of many scrapes (on connections of their own, so both workers answer some)
shows the same totals."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN_PASSWORD, REDIS_URL
from tests.servers import running_node

RESOLUTIONS = 240
SCRAPES = 24


def _samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def test_every_worker_counts_into_one_total(fresh_node, database_url, tmp_path):
    metrics_dir = tmp_path / "metrics"
    env = {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": REDIS_URL,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SECNODE_METRICS_DIR": str(metrics_dir),
    }
    with running_node(env, tmp_path, extra_args=["--workers", "2"]) as url:

        async def resolve(number: int) -> None:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:  # a connection of its own
                response = await http.get(f"/api/handles/88.118/absent-{number}")
                assert response.status_code == 404

        for start in range(0, RESOLUTIONS, 40):
            await asyncio.gather(*(resolve(n) for n in range(start, start + 40)))

        await asyncio.sleep(1.5)  # each worker hands its tallies over once a second (foundation/tally.py)

        # Both workers answered some: each keeps its samples in files named after its process.
        workers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
        assert len(workers) >= 2, sorted(metrics_dir.iterdir())

        not_found = (
            "secnode_http_requests_total",
            frozenset({("face", "handle"), ("method", "GET"), ("status", "404")}),
        )
        latency = ("secnode_http_request_seconds_count", frozenset({("face", "handle"), ("operation", "resolve")}))
        for _ in range(SCRAPES):
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                samples = _samples((await http.get("/metrics")).text)
            assert samples[not_found] == RESOLUTIONS
            assert samples[latency] == RESOLUTIONS
