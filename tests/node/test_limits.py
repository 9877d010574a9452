"""Budgets, attacked: a client address over its rate gets 429 with Retry-After on every face (health checks
excepted), counted across two workers through Redis; an identity over its daily requests gets IDIS 603; a prefix
over its daily registrations gets IDIS 604 and nothing of the refused request is written."""

import asyncio
import time
import uuid
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from redis.asyncio import Redis

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.http.budgets import SYNC_SECONDS, AddressRateLimit, Budget
from foundation.metrics import LIMIT_REFUSED
from node.app import create_app
from tests.conftest import REDIS_URL, make_settings
from tests.factories import admin_headers, coil, onboard

URL = [{"index": 1, "type": "URL", "data": "https://example.com/a"}]


@asynccontextmanager
async def workers(fresh_node, settings, count=1):
    """``count`` workers of one node (each its own application, budgets and caches), as the server runs them."""
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(count):
            app = create_app(settings, db=fresh_node)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=AddressRateLimit(ResolverFastPath(app), app))
            clients.append(await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://t")))
        yield clients


async def test_an_address_over_its_rate_is_refused_on_every_face(fresh_node, database_url):
    settings = make_settings(database_url, limit_requests_per_ip=6, limit_ip_window_seconds=3600)
    refused_before = LIMIT_REFUSED.labels("ip")._value.get()
    async with workers(fresh_node, settings, count=2) as (first, second):
        for _ in range(4):
            assert (await first.get("/api/handles/88.118/none")).status_code == 404
        await asyncio.sleep(SYNC_SECONDS * 3)  # the first worker has added its 4 to Redis
        assert (await second.get("/api/handles/88.118/none")).status_code == 404
        await asyncio.sleep(SYNC_SECONDS * 3)  # the second worker has read back the total: 5
        assert (await second.get("/api/handles/88.118/none")).status_code == 404  # the 6th
        refused = await second.get("/api/handles/88.118/none")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert refused.headers["x-request-id"]  # a refusal can be quoted too
        assert refused.json()["responseCode"] == 2 and refused.json()["error"] == "limit.rate"
        business = await second.post("/identity/token", json={"username": "a", "password": "b"})
        assert business.status_code == 429 and business.json()["status"] == -2
        assert (await second.get("/healthz")).status_code == 200  # probes are never refused
        assert (await second.get("/metrics")).status_code == 200
    assert LIMIT_REFUSED.labels("ip")._value.get() - refused_before == 2


async def test_an_identity_over_its_daily_requests_gets_603(fresh_node, database_url):
    settings = make_settings(database_url, limit_requests_per_identity_daily=3)
    async with workers(fresh_node, settings) as (http,):
        tenant = await onboard(http, "daily")  # as its business user; the Handle identity below is another
        for n in range(3):
            answer = await http.put(f"/api/handles/{tenant.prefix}/D-{n}", json=URL, headers=tenant.handle_admin)
            assert answer.status_code == 201, answer.text
        refused = await http.put(f"/api/handles/{tenant.prefix}/D-9", json=URL, headers=tenant.handle_admin)
        assert refused.status_code == 429 and refused.json()["responseCode"] == 603
        assert refused.json()["error"] == "limit.daily_requests" and "retry-after" in refused.headers
        assert (await http.get(f"/api/handles/{tenant.prefix}/D-9")).status_code == 404  # nothing written
        admin = await admin_headers(http)
        for _ in range(5):  # the node administrator is not counted
            assert (await http.get("/snms/api/v5/prefixes", headers=admin)).status_code == 200


async def test_a_prefix_over_its_daily_registrations_gets_604_and_nothing_is_written(fresh_node, database_url):
    settings = make_settings(database_url, limit_registrations_per_prefix_daily=5)
    async with workers(fresh_node, settings) as (http,):
        tenant = await onboard(http, "quota")

        def items(*serials):
            return [coil(tenant.prefix, serial) for serial in serials]

        first = await http.post("/identityv2/data/batchCreate", json=items(1, 2, 3, 4), headers=tenant.headers)
        assert first.status_code == 200 and all(r["code"] == 1 for r in first.json()["data"]), first.text
        refused = await http.post("/identityv2/data/batchCreate", json=items(5, 6), headers=tenant.headers)
        assert refused.status_code == 429, refused.text
        assert refused.json()["status"] == -2 and refused.json()["error"] == "limit.registrations"
        for item in items(5, 6):
            assert (await http.get(f"/api/handles/{item['handle']}")).status_code == 404

        assert (
            await http.put(f"/api/handles/{tenant.prefix}/Q-5", json=URL, headers=tenant.handle_admin)
        ).status_code == 201  # the fifth
        over = await http.put(f"/api/handles/{tenant.prefix}/Q-6", json=URL, headers=tenant.handle_admin)
        assert over.status_code == 429 and over.json()["responseCode"] == 604
        assert (await http.get(f"/api/handles/{tenant.prefix}/Q-6")).status_code == 404
        changed = await http.put(
            f"/api/handles/{tenant.prefix}/Q-5",
            json=URL + [{"index": 2, "type": "EMAIL", "data": "q@example.com"}],
            headers=tenant.handle_admin,
        )
        assert changed.status_code == 200  # changing an identifier is not a registration


async def test_units_on_their_way_to_redis_still_count():
    """A worker's charges stay counted while its synchronisation is in flight: a request charged meanwhile must not
    see the budget as if they had never been made (found by a registration quota overshot by one)."""
    budget, subject = Budget("test", limit=5, window=86400), f"prefix-{uuid.uuid4().hex}"
    redis = Redis.from_url(REDIS_URL)
    try:
        assert budget.charge(subject, 4) is None
        syncing = asyncio.create_task(budget.synchronise(redis))
        await asyncio.sleep(0)  # the synchronisation has taken the 4 units and waits for Redis
        assert not syncing.done()
        assert budget.charge(subject, 2) is not None
        await syncing
        assert budget.charge(subject, 2) is not None
        assert budget.charge(subject, 1) is None
        assert budget.charge(subject, 1) is not None
    finally:
        await redis.delete(budget.key(int(time.time() // 86400), subject))
        await redis.aclose()
