"""The registry and resolver flows through a real PgBouncer in transaction pooling, with two server connections
shared by every client connection: with SECNODE_DATABASE_PGBOUNCER no prepared statement outlives its transaction."""

import asyncio

import httpx
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from faces.handle_rest.hot_path import ResolverFastPath
from node.app import create_app
from tests.conftest import ADMIN_URL, REDIS_URL, make_settings
from tests.factories import coil, onboard
from tests.postgres_servers import running_pgbouncer

URL = [{"index": 1, "type": "URL", "data": "https://example.com/bounced"}]


async def _database_reads(client: httpx.AsyncClient) -> float:
    metrics = (await client.get("/metrics")).text.splitlines()
    return float(
        next(line for line in metrics if line.startswith('secnode_resolve_source_total{source="database"}')).split()[-1]
    )


async def test_registry_and_resolver_through_pgbouncer(fresh_node, database_url):
    with running_pgbouncer(ADMIN_URL) as port:
        bounced = make_url(database_url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        app = create_app(make_settings(bounced, database_pgbouncer=True))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=ResolverFastPath(app)), base_url="http://bounced"
            ) as client:
                tenant = await onboard(client, "bouncer")
                items = [coil(tenant.prefix, n) for n in range(300)]
                created = await client.post("/identityv2/data/batchCreate", json=items, headers=tenant.headers)
                assert created.status_code == 200 and [r["code"] for r in created.json()["data"]] == [1] * 300

                redis = Redis.from_url(REDIS_URL)
                await redis.flushdb()  # every resolution below misses the caches and reads through PgBouncer
                await redis.aclose()
                app.state.resolver.cache.local.lapse()  # empties the in-process tier
                reads_before = await _database_reads(client)
                answers = await asyncio.gather(*(client.get(f"/api/handles/{item['handle']}") for item in items))
                assert [a.status_code for a in answers] == [200] * len(items)
                assert await _database_reads(client) - reads_before == len(items)

                handle = f"/api/handles/{tenant.prefix}/B1"
                for _ in range(3):
                    written = await client.put(f"{handle}?overwrite=true", json=URL, headers=tenant.handle_admin)
                    assert written.status_code in (200, 201), written.text
                assert (await client.get(handle)).json()["values"][0]["data"]["value"] == URL[0]["data"]
                event = {
                    "type": "ObjectEvent",
                    "eventTime": "2026-11-20T08:00:00Z",
                    "action": "ADD",
                    "epcList": [items[0]["handle"]],
                    "bizStep": "commissioning",
                }
                assert (await client.post("/epcis/events", json=event, headers=tenant.headers)).status_code == 201
                lifecycle = await client.get(f"/epcis/events?MATCH_anyEPC={items[0]['handle']}", headers=tenant.headers)
                assert len(lifecycle.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1
                assert (await client.delete(handle, headers=tenant.handle_admin)).status_code == 200
                assert (await client.get(handle)).status_code == 404
