"""The restore drill: point-in-time recovery of the node's PostgreSQL from a base backup and archived WAL, on a
cluster of the test's own on loopback. The node started on the restored database, with an empty Redis, resolves
exactly the records of the chosen moment: what was written before it with its value then, nothing written after
it, and records deleted after it still live with their old values (docs/backup-restore.md)."""

import asyncio
import contextlib
import shutil
from collections.abc import Iterable

import asyncpg
import httpx
import orjson
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.config import Settings
from foundation.db import Database
from foundation.migrate import upgrade
from node.app import create_app
from registry.bootstrap import ensure_node
from registry.kernel.syntax import canonical
from resolver.cache.entry import decode
from resolver.cache.keys import KeyLayout
from resolver.cache.redis_tier import record_key
from tests.conftest import ADMIN_PASSWORD, make_settings, redis_database
from tests.factories import basic
from tests.postgres_servers import archiving_server, restored_server

REDIS_DB = 11  # a Redis database no other test uses: the drill empties it twice

# Ledger of what the test wrote: handle -> (version, URL, or None once deleted).
Ledger = dict[str, tuple[int, str | None]]


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _empty_redis(url: str) -> None:
    redis = Redis.from_url(url)
    await redis.flushdb()
    await redis.aclose()


@contextlib.asynccontextmanager
async def _node(settings: Settings):
    """The node app in-process, behind the resolver's fast path as the server runs it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=ResolverFastPath(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
            yield client


class Writer:
    """Writes through the Handle REST API as the node administrator and keeps the ledger."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings, ledger: Ledger):
        self.client, self.ledger = client, ledger
        self.auth = basic(f"300:0.NA/{settings.node_prefix}", ADMIN_PASSWORD)

    async def put(self, handle: str, url: str) -> None:
        answer = await self.client.put(
            f"/api/handles/{handle}?overwrite=true", headers=self.auth, json=[{"index": 1, "type": "URL", "data": url}]
        )
        assert answer.status_code in (200, 201), answer.text
        version = self.ledger[handle][0] + 1 if handle in self.ledger else 1
        self.ledger[handle] = (version, url)

    async def delete(self, handle: str) -> None:
        answer = await self.client.delete(f"/api/handles/{handle}", headers=self.auth)
        assert answer.status_code == 200, answer.text
        self.ledger[handle] = (self.ledger[handle][0] + 1, None)


async def _moment(url: str) -> tuple[str, list, list]:
    """The recovery target and the handles and journal tables as of it, read in one snapshot."""
    connection = await asyncpg.connect(_dsn(url))
    try:
        async with connection.transaction(isolation="repeatable_read"):
            target = await connection.fetchval("SELECT now()::text")
            return target, *await _tables(connection)
    finally:
        await connection.close()


async def _tables(connection: asyncpg.Connection) -> tuple[list, list]:
    handles = await connection.fetch(
        'SELECT handle_key, handle, version, deleted, "values"::text, updated_at FROM handles ORDER BY handle_key'
    )
    journal = await connection.fetch("SELECT seq, kind, subject_key, version FROM journal ORDER BY seq")
    return [tuple(r) for r in handles], [tuple(r) for r in journal]


async def _archive_current_wal(url: str, timeout: float = 30.0) -> None:
    """Close the current WAL segment and wait until the archiver has copied it: everything written so far is
    then in the archive, whatever happens to the server."""
    connection = await asyncpg.connect(_dsn(url))
    try:
        segment = await connection.fetchval("SELECT pg_walfile_name(pg_switch_wal())")
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            archived, failed = await connection.fetchrow(
                "SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver"
            )
            assert failed == 0, "archive_command failed"
            if archived >= segment:  # same timeline: names order like positions
                return
            assert asyncio.get_running_loop().time() < deadline, f"{segment} was not archived"
            await asyncio.sleep(0.1)
    finally:
        await connection.close()


async def _resolves_as(client: httpx.AsyncClient, written: Iterable[str], expected: Ledger) -> None:
    """Every handle the test ever wrote resolves as ``expected`` has it: unknown and deleted ones are 404."""
    for handle in written:
        answer = await client.get(f"/api/handles/{handle}")
        url = expected.get(handle, (0, None))[1]
        if url is None:
            assert answer.status_code == 404, (handle, answer.text)
        else:
            assert answer.status_code == 200, (handle, answer.text)
            assert answer.json()["values"][0]["data"]["value"] == url, handle


async def _grace_period_over(redis_url: str, timeout: float = 10.0) -> None:
    redis = Redis.from_url(redis_url)
    deadline = asyncio.get_running_loop().time() + timeout
    shard = KeyLayout(cluster=False).shard(record_key("any"))
    try:
        assert await redis.exists(shard.epoch)
        while await redis.exists(shard.young):
            assert asyncio.get_running_loop().time() < deadline, "the new epoch's grace period did not end"
            await asyncio.sleep(0.1)
    finally:
        await redis.aclose()


async def _redis_tier_holds(redis_url: str, expected: Ledger, timeout: float = 5.0) -> None:
    """Redis holds every record of ``expected`` at its version (fills are sent off the response path)."""
    keys = {record_key(canonical(handle)): version for handle, (version, _) in expected.items()}
    redis = Redis.from_url(redis_url)
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while True:
            cached = dict(zip(keys, await redis.mget(list(keys)), strict=True))
            if all(raw is not None and decode(raw).version == keys[key] for key, raw in cached.items()):
                return
            assert asyncio.get_running_loop().time() < deadline, f"the Redis tier was not rebuilt: {cached}"
            await asyncio.sleep(0.1)
    finally:
        await redis.aclose()


async def test_point_in_time_restore_resolves_exactly_the_records_of_the_target_moment():
    redis_url = redis_database(REDIS_DB)
    ledger: Ledger = {}
    with archiving_server() as primary:
        upgrade(primary.url)
        await _empty_redis(redis_url)
        settings = make_settings(primary.url, redis_url=redis_url)
        bootstrap = Database(primary.url)
        async with bootstrap.unit_of_work() as session:
            await ensure_node(session, settings)
        await bootstrap.dispose()

        async with _node(settings) as client:
            writer = Writer(client, settings, ledger)
            for name in ("A1", "A2", "A3", "A4"):  # in the base backup
                await writer.put(f"88.118/DRILL-{name}", f"https://example.com/{name.lower()}/v1")
            # off the event loop: the app's lease heartbeats keep running meanwhile
            backup = await asyncio.to_thread(primary.base_backup)

            # after the backup, before the target: only the archived WAL holds these
            await writer.put("88.118/DRILL-A1", "https://example.com/a1/v2")
            await writer.delete("88.118/DRILL-A3")
            for name in ("B1", "B2", "B3"):
                await writer.put(f"88.118/DRILL-{name}", f"https://example.com/{name.lower()}/v1")

            await asyncio.sleep(0.05)  # commit timestamps and the target apart by more than clock granularity
            target, handles_then, journal_then = await _moment(primary.url)
            at_target = dict(ledger)
            await asyncio.sleep(0.05)

            # after the target: the restore must undo all of it
            await writer.put("88.118/DRILL-A2", "https://example.com/a2/v2")
            await writer.put("88.118/DRILL-B2", "https://example.com/b2/v2")
            await writer.delete("88.118/DRILL-A4")
            await writer.delete("88.118/DRILL-B3")
            for name in ("C1", "C2"):
                await writer.put(f"88.118/DRILL-{name}", f"https://example.com/{name.lower()}/v1")
            for handle in ledger:  # the caches now hold the versions the restore will lose
                await client.get(f"/api/handles/{handle}")
        await _archive_current_wal(primary.url)

        # The primary is lost: only the base backup and the archive remain.
        await asyncio.to_thread(primary.stop)
        shutil.rmtree(primary.data)

        with restored_server(backup, primary.archive, target) as (restored_url, log):
            assert "recovery stopping before commit" in log.read_text()  # stopped by the target, not end of WAL
            connection = await asyncpg.connect(_dsn(restored_url))
            try:
                handles_now, journal_now = await _tables(connection)
            finally:
                await connection.close()

            # the database is the one of the target moment, row for row
            assert handles_now == handles_then
            assert journal_now == journal_then
            rows = {
                key: (version, deleted, orjson.loads(values)) for key, _, version, deleted, values, _ in handles_now
            }
            for handle, (version, url) in at_target.items():
                row_version, deleted, values = rows[canonical(handle)]
                assert (row_version, deleted) == (version, url is None), handle
                assert [v["data"]["value"] for v in values if v["index"] == 1] == ([] if url is None else [url])
            assert canonical("88.118/DRILL-C1") not in rows and canonical("88.118/DRILL-C2") not in rows

            # Redis still holds what was written after the target, and a node answers from it without asking the
            # database: this is why a restore empties the node's Redis before the node serves
            restored_settings = make_settings(restored_url, redis_url=redis_url)
            async with _node(restored_settings) as client:
                answer = await client.get("/api/handles/88.118/DRILL-B2")
                assert answer.json()["values"][0]["data"]["value"] == "https://example.com/b2/v2"
            await _empty_redis(redis_url)

            async with _node(restored_settings) as client:
                await _resolves_as(client, ledger, at_target)  # every answer from the restored database

                # the restored database is a primary again: the node writes, versions continue
                writer = Writer(client, restored_settings, at_target)
                await writer.put("88.118/DRILL-A2", "https://example.com/a2/after-restore")
                connection = await asyncpg.connect(_dsn(restored_url))
                try:
                    version = await connection.fetchval(
                        "SELECT version FROM handles WHERE handle_key = $1", canonical("88.118/DRILL-A2")
                    )
                finally:
                    await connection.close()
                assert version == at_target["88.118/DRILL-A2"][0] == 2

            # That write started a new Redis epoch. After its grace period, a worker whose in-process tier is
            # empty (a new pod) fills the Redis tier from the restored database.
            await _grace_period_over(redis_url)
            async with _node(restored_settings) as client:
                await _resolves_as(client, ledger, at_target)
                await _redis_tier_holds(redis_url, at_target)
