"""The cache and the budgets on a real Redis Cluster (three masters, one replica each, on loopback ports of the
test's own): every script and lookup stays within one hash slot, and the consistency guarantee holds through a
master failover — after a write returns, no worker answers with the old record — while reads never fail and writes
are refused only for a bounded time."""

import asyncio
import subprocess
import time

import httpx
import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from foundation.http.budgets import Budget
from registry.kernel.syntax import canonical
from resolver.cache.keys import KeyLayout
from resolver.cache.redis_tier import record_key
from tests.conftest import ADMIN_PASSWORD
from tests.factories import onboard
from tests.redis_servers import redis_cluster
from tests.resolver.test_consistency_under_load import _read
from tests.servers import running_node

HANDLES = 6


def test_each_record_slot_has_its_own_guard_keys():
    layout = KeyLayout(cluster=True)
    slots = set()
    for n in range(2000):
        record = record_key(f"88.118.1042/coil-{n}")
        shard = layout.shard(record)
        slot = key_slot(record.encode())
        assert {key_slot(k.encode()) for k in (shard.epoch, shard.young, shard.wal, layout.fence(record))} == {slot}
        slots.add(slot)
    assert len(slots) > 1500  # spread over the cluster, not piled on one slot
    assert key_slot(layout.leases.encode()) == key_slot(layout.channel.encode()) == key_slot(layout.acks("x").encode())
    standalone = KeyLayout(cluster=False)
    assert standalone.shard(record_key("a")).epoch == "secnode:epoch" and standalone.leases == "secnode:leases"


def _workers(port: int) -> list[int]:
    master = subprocess.run(["pgrep", "-f", f"node.cli serve --port {port}"], capture_output=True, text=True)
    children = subprocess.run(["pgrep", "-P", master.stdout.split()[0]], capture_output=True, text=True)
    return [int(pid) for pid in children.stdout.split()]


@pytest.mark.timeout(300)
async def test_failover_keeps_the_guarantee(fresh_node, database_url, tmp_path):
    with redis_cluster() as cluster:
        env = {
            "SECNODE_DATABASE_URL": database_url,
            "SECNODE_REDIS_URL": cluster.url,
            "SECNODE_REDIS_CLUSTER": "true",
            "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
        with running_node(env, tmp_path, extra_args=["--workers", "2"]) as url:
            assert len(_workers(int(url.rsplit(":", 1)[1]))) == 2
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                tenant = await onboard(http, "cluster")
                handles = [f"{tenant.prefix}/c{i}" for i in range(HANDLES)]
                for handle in handles:
                    response = await http.put(
                        f"/api/handles/{handle}",
                        headers=tenant.handle_admin,
                        json=[{"index": 1, "type": "URL", "data": "https://example.com/s"}],
                    )
                    assert response.status_code == 201, response.text
                    assert (await http.get(f"/api/handles/{handle}")).status_code == 200
            await asyncio.sleep(2.5)  # both workers hold leases

            redis = RedisCluster.from_url(cluster.url)
            layout = KeyLayout(cluster=True)
            record = record_key(canonical(handles[0]))
            assert await redis.get(record) is not None, "the record should be cached in the cluster"
            assert await redis.exists(layout.shard(record).epoch)
            await redis.aclose()

            # The victim serves the coordination slot (leases, invalidations); the records spread over all masters.
            victim = cluster.master_of_slot(key_slot(layout.leases.encode()))
            on_victim = [
                h for h in handles if cluster.master_of_slot(key_slot(record_key(canonical(h)).encode())) == victim
            ]
            refused: list[tuple[float, float]] = []  # when each refused write was sent and answered
            stop = asyncio.Event()

            async def write(handle: str, value: str) -> bool:
                started = time.monotonic()
                async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                    response = await http.put(
                        f"/api/handles/{handle}",
                        headers=tenant.handle_admin,
                        json=[{"index": 1, "type": "URL", "data": value}],
                    )
                assert response.status_code in (200, 503), response.text
                if response.status_code == 503:
                    refused.append((started, time.monotonic()))
                return response.status_code == 200

            checks = {"checked": 0, "stale": 0}
            finished: list[float] = []  # when each write-then-read check finished

            async def hammer(handle: str) -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    value = f"https://example.com/{n}"
                    if not await write(handle, value):
                        await asyncio.sleep(0.05)
                        continue
                    seen = await _read(url, handle)  # asserts 200: reads never fail
                    checks["checked"] += 1
                    checks["stale"] += seen != value
                    finished.append(time.monotonic())

            async def chaos() -> tuple[float, float]:
                await asyncio.sleep(1.5)
                killed_at = time.monotonic()
                cluster.kill(victim)
                while True:  # the replica takes over the victim's slots
                    await asyncio.sleep(0.2)
                    try:
                        if cluster.master_of_slot(key_slot(layout.leases.encode())) != victim:
                            break
                    except LookupError:
                        pass
                    assert time.monotonic() - killed_at < 30, "no failover"
                cluster.start(victim)  # the old master comes back as the new master's replica
                cluster.wait_healthy()
                healed_at = time.monotonic()
                await asyncio.sleep(4.0)
                stop.set()
                return killed_at, healed_at

            *_, (killed_at, healed_at) = await asyncio.gather(*(hammer(h) for h in handles), chaos())
            assert cluster.role(victim) == "slave"

            before, after = sum(t < killed_at for t in finished), sum(t > healed_at for t in finished)
            print(
                f"redis cluster failover: {checks['checked']} write-then-read checks ({before} before the failure, "
                f"{after} after the cluster healed in {healed_at - killed_at:.1f} s), {checks['stale']} stale, "
                f"{len(refused)} writes refused, {len(on_victim)} of {HANDLES} records on the failed master"
            )
            assert checks["stale"] == 0
            assert before >= HANDLES and after >= HANDLES * 5, "too few writes succeeded to judge"
            blip = [
                (sent - healed_at, answered - killed_at)
                for sent, answered in refused
                if answered < killed_at or sent > healed_at
            ]  # not in flight during the failover
            assert not blip, f"writes were refused outside the failover: {blip}"

            # After the failover: every worker serves the latest write again, from the caches.
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                for handle in handles:
                    assert await write(handle, "https://example.com/after")
                    for _ in range(4):
                        assert (await http.get(f"/api/handles/{handle}")).json()["values"][0]["data"][
                            "value"
                        ] == "https://example.com/after"


async def test_budgets_are_shared_through_the_cluster():
    """The budgets' counters (foundation.http.budgets) on a cluster: what one worker charged, another one refuses."""
    with redis_cluster() as cluster:
        redis = RedisCluster.from_url(cluster.url)
        first, second = Budget("ip", 5, 3600), Budget("ip", 5, 3600)  # two workers' views of one budget
        try:
            for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):  # keys in different slots
                assert all(first.charge(address) is None for _ in range(4))
            await first.synchronise(redis)
            for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
                assert second.charge(address) is None  # the 5th: its view was empty, so it counts on
            await second.synchronise(redis)  # and learns the totals
            for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
                assert second.charge(address) is not None
        finally:
            await redis.aclose()
