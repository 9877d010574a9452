"""Read replicas for real: a primary and a streaming replica of the test's own on loopback, the replica applying
changes two seconds late. After a write returns, no resolve, through either of two workers sharing Redis, answers
with the old record or serves a deleted one as live, although the replica still holds them: not from the caches,
and not when the caches lost the record (evicted) and it is read from the database."""

import asyncio
import contextlib

import asyncpg
import httpx
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.db import Database
from foundation.migrate import upgrade
from node.app import create_app
from registry.bootstrap import ensure_node
from registry.kernel.syntax import canonical
from resolver.cache import metrics
from resolver.cache.redis_tier import record_key
from tests.conftest import ADMIN_PASSWORD, make_settings, redis_database
from tests.factories import basic
from tests.postgres_servers import primary_with_replica

HANDLE = "88.118/REPLICA-1"


async def _evict(redis_url: str, workers: list) -> None:
    """Both cache tiers lose the record, as under memory pressure: the next resolve reads the database."""
    redis = Redis.from_url(redis_url)
    await redis.delete(record_key(canonical(HANDLE)))
    await redis.aclose()
    for app in workers:
        app.state.resolver.cache.local.invalidate([canonical(HANDLE)])


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _on_replica(replica_url: str) -> tuple[int, bool] | str | None:
    """(version, deleted) of the record as the replica has it now (None: no such record yet)."""
    connection = await asyncpg.connect(_dsn(replica_url))
    try:
        row = await connection.fetchrow("SELECT version, deleted FROM handles WHERE handle_key = $1", canonical(HANDLE))
    except asyncpg.UndefinedTableError:
        return "no schema yet"
    finally:
        await connection.close()
    return (row["version"], row["deleted"]) if row else None


async def _until_replicated(replica_url: str, expected: tuple[int, bool] | None, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while await _on_replica(replica_url) != expected:
        assert asyncio.get_running_loop().time() < deadline, "the replica did not catch up"
        await asyncio.sleep(0.2)


async def test_lagging_replica_never_answers_an_old_record():
    with primary_with_replica(apply_delay="2s") as (primary_url, replica_url):
        upgrade(primary_url)
        redis_url = redis_database(12)
        redis = Redis.from_url(redis_url)
        await redis.flushdb()
        await redis.aclose()
        settings = make_settings(primary_url, database_read_url=replica_url, redis_url=redis_url)
        bootstrap = Database(primary_url)
        async with bootstrap.unit_of_work() as session:
            await ensure_node(session, settings)
        await bootstrap.dispose()
        await _until_replicated(replica_url, None)  # the schema has arrived; the record does not exist yet
        admin = basic(f"300:0.NA/{settings.node_prefix}", ADMIN_PASSWORD)

        workers = [create_app(settings), create_app(settings)]  # two workers: own pools and in-process tiers
        async with contextlib.AsyncExitStack() as stack:
            clients = []
            for app in workers:
                await stack.enter_async_context(app.router.lifespan_context(app))
                clients.append(
                    await stack.enter_async_context(
                        httpx.AsyncClient(
                            transport=httpx.ASGITransport(app=ResolverFastPath(app)), base_url="http://worker"
                        )
                    )
                )
            writer, other = clients

            for version, url in enumerate(["https://example.com/v1", "https://example.com/v2"], start=1):
                for client in clients:  # both workers have read (and cached) the previous state
                    await client.get(f"/api/handles/{HANDLE}")
                written = await writer.put(
                    f"/api/handles/{HANDLE}?overwrite=true",
                    headers=admin,
                    json=[{"index": 1, "type": "URL", "data": url}],
                )
                assert written.status_code in (200, 201), written.text
                assert await _on_replica(replica_url) != (version, False)  # the replica is really behind
                for evicted in (False, True):
                    if evicted:
                        await _evict(redis_url, workers)
                    for client in (other, writer):
                        answer = await client.get(f"/api/handles/{HANDLE}")
                        assert answer.status_code == 200 and answer.json()["values"][0]["data"]["value"] == url
                await _until_replicated(replica_url, (version, False))  # the next change has an old record to hide

            deleted = await writer.delete(f"/api/handles/{HANDLE}", headers=admin)
            assert deleted.status_code == 200, deleted.text
            assert await _on_replica(replica_url) == (2, False)  # still live on the replica
            primary_reads = metrics.PRIMARY_READ._value.get()
            for evicted in (False, True):
                if evicted:
                    await _evict(redis_url, workers)
                for client in (other, writer):
                    assert (await client.get(f"/api/handles/{HANDLE}")).status_code == 404
            assert metrics.PRIMARY_READ._value.get() > primary_reads  # the replica was behind: the primary answered

            await _until_replicated(replica_url, (3, True))
            primary_reads = metrics.PRIMARY_READ._value.get()
            await _evict(redis_url, workers)
            for client in clients:
                assert (await client.get(f"/api/handles/{HANDLE}")).status_code == 404
            assert metrics.PRIMARY_READ._value.get() == primary_reads  # caught up: the replica answered
