"""The resolution cache on real PostgreSQL and Redis: tiers, invalidation across processes, Redis failures."""

import asyncio
import shutil
import subprocess
import time
from contextlib import asynccontextmanager

import httpx
import pytest
from redis.asyncio import Redis

from faces.handle_rest.hot_path import ResolverFastPath
from node.app import create_app
from registry.kernel.syntax import canonical
from resolver.cache import metrics
from resolver.cache.redis_tier import record_key
from tests.conftest import ADMIN_PASSWORD, REDIS_URL, make_settings
from tests.factories import onboard
from tests.servers import free_port, running_node

URL = {"index": 1, "type": "URL", "data": "https://example.com/v1"}


@asynccontextmanager
async def node_client(db, settings):
    app = create_app(settings, db=db)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=ResolverFastPath(app)), base_url="http://t"
        ) as http:
            yield app, http


async def _wait_for_lease(app, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not app.state.resolver.cache.local.serving():
        assert time.monotonic() < deadline, "the in-process tier never got its lease"
        await asyncio.sleep(0.05)


async def test_tiers_answer_in_order_and_writes_invalidate(fresh_node, settings):
    async with node_client(fresh_node, settings) as (app, http):
        await _wait_for_lease(app)
        tenant = await onboard(http, "tiers")
        handle = f"{tenant.prefix}/cached"
        assert (await http.get(f"/api/handles/{handle}")).status_code == 404  # negative entry
        assert (await http.put(f"/api/handles/{handle}", json=[URL], headers=tenant.handle_admin)).status_code == 201
        assert (await http.get(f"/api/handles/{handle}")).json()["values"][0]["data"]["value"].endswith("v1")

        local_before = metrics.LOCAL_HIT.value()
        for _ in range(5):
            assert (await http.get(f"/api/handles/{handle}")).status_code == 200
        assert metrics.LOCAL_HIT.value() - local_before == 5

        # A new record stays in Redis only a minute (bulk registrations are rarely read at once); a change of a
        # record stays the full lifetime.
        redis = Redis.from_url(REDIS_URL)
        assert 0 < await redis.pttl(record_key(canonical(handle))) <= 60_000
        await http.put(
            f"/api/handles/{handle}", json=[URL | {"data": "https://example.com/v2"}], headers=tenant.handle_admin
        )
        assert await redis.pttl(record_key(canonical(handle))) > 3_600_000
        await redis.aclose()
        assert (await http.get(f"/api/handles/{handle}")).json()["values"][0]["data"]["value"].endswith("v2")
        await http.delete(f"/api/handles/{handle}", headers=tenant.handle_admin)
        assert (await http.get(f"/api/handles/{handle}")).status_code == 404


async def test_a_second_process_never_answers_with_the_old_record(fresh_node, database_url, tmp_path):
    env = {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": REDIS_URL,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    with running_node(env, tmp_path) as writer_url, running_node(env, tmp_path) as reader_url:
        async with (
            httpx.AsyncClient(base_url=writer_url, timeout=30) as writer,
            httpx.AsyncClient(base_url=reader_url, timeout=30) as reader,
        ):
            tenant = await onboard(writer, "twoprocs")
            handle = f"{tenant.prefix}/shared"
            await writer.put(f"/api/handles/{handle}", json=[URL], headers=tenant.handle_admin)
            time.sleep(2.5)  # both workers hold leases and have the record cached
            for _ in range(3):
                assert (await reader.get(f"/api/handles/{handle}")).status_code == 200
            stale = 0
            for n in range(40):
                value = f"https://example.com/n{n}"
                response = await writer.put(
                    f"/api/handles/{handle}", json=[URL | {"data": value}], headers=tenant.handle_admin
                )
                assert response.status_code == 200, response.text
                seen = (await reader.get(f"/api/handles/{handle}")).json()["values"][0]["data"]["value"]
                stale += seen != value
            assert stale == 0
            await writer.delete(f"/api/handles/{handle}", headers=tenant.handle_admin)
            assert (await reader.get(f"/api/handles/{handle}")).status_code == 404


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own on another loopback port, so stopping it touches nothing shared."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is required (scripts/test.sh installs it)")
    port = free_port()

    def start():
        return subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )

    state = {"process": start()}
    time.sleep(0.3)

    class Control:
        url = f"redis://127.0.0.1:{port}/0"

        def stop(self):
            state["process"].kill()
            state["process"].wait()

        def restart(self):
            state["process"] = start()
            time.sleep(0.3)

    yield Control()
    state["process"].kill()
    state["process"].wait()


async def test_redis_stopped_and_restarted(fresh_node, database_url, own_redis):
    settings = make_settings(database_url, redis_url=own_redis.url)
    async with node_client(fresh_node, settings) as (app, http):
        await _wait_for_lease(app)
        tenant = await onboard(http, "redisdown")
        handle = f"{tenant.prefix}/survivor"
        await http.put(f"/api/handles/{handle}", json=[URL], headers=tenant.handle_admin)
        assert (await http.get(f"/api/handles/{handle}")).status_code == 200

        own_redis.stop()
        fallback_before = metrics.FALLBACK._value.get()
        for _ in range(3):
            response = await http.get(f"/api/handles/{handle}")
            assert response.status_code == 200 and response.json()["values"][0]["data"]["value"].endswith("v1")
        assert (await http.get(f"/api/handles/{tenant.prefix}/never")).status_code == 404
        assert metrics.FALLBACK._value.get() > fallback_before
        refused = await http.put(
            f"/api/handles/{handle}", json=[URL | {"data": "https://example.com/lost"}], headers=tenant.handle_admin
        )
        assert refused.status_code == 503 and refused.json()["error"] == "cache.unavailable"
        await asyncio.sleep(2.2)  # the lease has lapsed: the in-process tier answers nothing
        assert not app.state.resolver.cache.local.serving()
        assert (await http.get(f"/api/handles/{handle}")).json()["values"][0]["data"]["value"].endswith("v1")

        own_redis.restart()
        await _wait_for_lease(app)
        # Reads alone start a new epoch, and once its grace period is over they fill the empty Redis again.
        redis = Redis.from_url(own_redis.url)
        deadline = time.monotonic() + 10
        while (cached := await redis.get(record_key(canonical(handle)))) is None:
            assert time.monotonic() < deadline, "reads never refilled the restarted Redis"
            app.state.resolver.cache.local.invalidate([canonical(handle)])  # so the read goes past the worker
            assert (await http.get(f"/api/handles/{handle}")).status_code == 200
            await asyncio.sleep(0.2)
        assert cached.startswith(b"1|V|")
        await redis.aclose()
        changed = await http.put(
            f"/api/handles/{handle}", json=[URL | {"data": "https://example.com/v3"}], headers=tenant.handle_admin
        )
        assert changed.status_code == 200, changed.text
        assert (await http.get(f"/api/handles/{handle}")).json()["values"][0]["data"]["value"].endswith("v3")


async def test_resolution_counts_reach_the_database(fresh_node, settings):
    from datetime import UTC, datetime

    from registry.statistics.repository import resolutions_on

    async with node_client(fresh_node, settings) as (app, http):
        tenant = await onboard(http, "counted")
        await http.put(f"/api/handles/{tenant.prefix}/c1", json=[URL], headers=tenant.handle_admin)
        for _ in range(7):
            await http.get(f"/api/handles/{tenant.prefix}/c1")
        await app.state.resolver.stats.flush()
    async with fresh_node.read_session() as session:
        counts = await resolutions_on(session, datetime.now(UTC).date())
    assert counts[tenant.prefix] == 7


async def test_installing_many_records_keeps_the_version_rule_of_one(fresh_node):
    """A batch's markers and versions go in a few scripts; each record still follows the rule of ADR 0002: an older
    version never replaces a newer one, and only a write's own marker gives way to the same version."""
    from resolver.cache.entry import PENDING, VALUES, Entry, decode
    from resolver.cache.redis_tier import _INSTALLS_PER_SCRIPT, RedisTier

    redis = Redis.from_url(REDIS_URL)
    tier = RedisTier(redis, ttl_ms=60_000, negative_ttl_ms=5_000)
    try:
        keys = [f"88.118.9/many-{n}" for n in range(_INSTALLS_PER_SCRIPT + 7)]  # more than one script's worth
        await tier.install_all((k, Entry(3, VALUES, b"[3]")) for k in keys[:3])
        await tier.install_all((k, Entry(3, PENDING)) for k in keys[3:6])
        await tier.install_all(((k, Entry(2 if n < 3 else 3, VALUES, b"[new]")) for n, k in enumerate(keys)))
        stored = [decode(raw) for raw in await redis.mget([record_key(k) for k in keys])]
        assert [e.body for e in stored[:3]] == [b"[3]"] * 3  # version 2 did not replace version 3
        assert all(e == Entry(3, VALUES, b"[new]") for e in stored[3:6])  # the marker gave way to its version
        assert all(e == Entry(3, VALUES, b"[new]") for e in stored[6:])  # absent: installed, past the first script
        assert 0 < await redis.pttl(record_key(keys[-1])) <= 60_000
    finally:
        await redis.aclose()


async def test_the_subscription_loop_stops_when_cancelled_while_closing(fresh_node):
    """Cancellation (the node stopping) reaches the listener even while it closes a broken subscription."""
    from resolver.cache.coordinator import CacheCoordinator

    redis = Redis.from_url(REDIS_URL)
    coordinator = CacheCoordinator(fresh_node, redis)
    closing = asyncio.Event()

    class BrokenSubscription:
        async def get_message(self, timeout):
            raise ConnectionError("the subscription ended")

        async def aclose(self):
            closing.set()
            await asyncio.sleep(30)

    subscribed = 0

    async def subscribe():
        nonlocal subscribed
        subscribed += 1
        if subscribed > 1:  # a listener that swallowed the cancellation comes back: keep it here
            await asyncio.Event().wait()
        return BrokenSubscription()

    coordinator.tier.subscribe = subscribe
    listener = asyncio.create_task(coordinator._listen())
    try:
        await asyncio.wait_for(closing.wait(), 5)
        listener.cancel()
        await asyncio.wait([listener], timeout=3)
        assert listener.done() and listener.cancelled()
    finally:
        listener.cancel()
        await redis.aclose()
