"""Cold reads batched per worker (ADR 0010): misses of the in-process tier waiting on the same turn of the event
loop share one Redis check and one database statement, and each key still follows the rules of ADR 0002."""

import asyncio
import time
from datetime import UTC, datetime

import orjson
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from foundation.db import Database
from registry.kernel import records
from resolver.cache import metrics
from resolver.cache.coordinator import CacheCoordinator
from resolver.cache.entry import NOT_FOUND, PENDING, UNKNOWN, VALUES, Entry, encode
from resolver.cache.redis_tier import RedisTier, record_key
from tests.conftest import REDIS_URL, migrated_database

PREFIX = "88.118.77"


def _values(n: int) -> list[dict]:
    return [
        {
            "index": 1,
            "type": "URL",
            "ttl": 86400,
            "timestamp": "2026-11-27T00:00:00Z",
            "data": {"format": "string", "value": f"https://example.com/{n}"},
        }
    ]


async def _insert(db: Database, count: int, *, version: int = 1) -> list[str]:
    """``count`` records written straight to the table (no cache involved); returns their keys."""
    now = datetime.now(UTC)
    keys = [f"{PREFIX}/batch-{n}" for n in range(count)]
    async with db.unit_of_work() as session:
        for n, key in enumerate(keys):
            await session.execute(
                text(
                    'INSERT INTO handles (handle_key, handle, prefix_key, version, deleted, "values", created_at, '
                    "created_by, updated_at, updated_by) VALUES (:k, :k, :p, :v, false, :vals, :t, 'test', :t, 'test')"
                ),
                {"k": key, "p": PREFIX, "v": version, "vals": orjson.dumps(_values(n)).decode(), "t": now},
            )
    return keys


class Counting:
    """Counts the batched reads of Redis and of the database."""

    def __init__(self, monkeypatch, coordinator: CacheCoordinator):
        self.database: list[list[str]] = []
        self.redis: list[list[str]] = []
        read_many = records.read_current_many

        async def counted_read(db, keys, *, primary=False):
            self.database.append(list(keys))
            return await read_many(db, keys, primary=primary)

        monkeypatch.setattr(records, "read_current_many", counted_read)
        if coordinator.tier is not None:
            lookup_many = coordinator.tier.lookup_many

            async def counted_lookup(keys):
                self.redis.append(list(keys))
                return await lookup_many(keys)

            monkeypatch.setattr(coordinator.tier, "lookup_many", counted_lookup)


@pytest.fixture
async def coordinator(fresh_node):
    redis = Redis.from_url(REDIS_URL)
    coordinator = CacheCoordinator(fresh_node, redis)
    coordinator.local.extend(time.monotonic() + 3600)  # the lease, without a listener (no writes in these tests)
    await coordinator.tier.epochs(["any"])  # Redis has an epoch, past its grace period: fills are accepted
    await redis.delete(coordinator.tier.keys.shard("").young)
    yield coordinator
    await coordinator.stop()


async def test_concurrent_misses_share_one_redis_check_and_one_statement(coordinator, monkeypatch):
    keys = await _insert(coordinator.db, 40)
    absent = [f"{PREFIX}/absent-{n}" for n in range(10)]
    counting = Counting(monkeypatch, coordinator)
    asked = [*keys, *absent, keys[0], absent[0]]  # the same key twice: read once, answered twice
    entries = await asyncio.gather(*(coordinator.lookup(key) for key in asked))
    assert counting.redis == [list(dict.fromkeys(asked))]
    assert counting.database == [list(dict.fromkeys(asked))]
    for key, entry in zip(asked, entries, strict=True):
        if key.startswith(f"{PREFIX}/absent"):
            assert entry == NOT_FOUND
        else:
            n = int(key.rsplit("-", 1)[1])
            assert entry.kind == VALUES and orjson.loads(entry.body)[0]["data"]["value"] == f"https://example.com/{n}"

    # The fills went to both tiers: the next reads are in-process hits, the negative entries too.
    await _drained(coordinator)
    local_before = metrics.LOCAL_HIT.value()
    await asyncio.gather(*(coordinator.lookup(key) for key in asked))
    assert metrics.LOCAL_HIT.value() - local_before == len(asked)
    stored = await coordinator.redis.mget([record_key(k) for k in (keys[0], absent[0])])
    assert stored[0].startswith(b"1|V|") and stored[1] == encode(NOT_FOUND)

    # Another worker (empty in-process tier) gets them from Redis in one check and no statement.
    other = CacheCoordinator(coordinator.db, coordinator.redis)
    other.local.extend(time.monotonic() + 3600)
    counting_other = Counting(monkeypatch, other)
    redis_before = metrics.REDIS_HIT.value()
    assert await asyncio.gather(*(other.lookup(key) for key in asked)) == entries
    assert metrics.REDIS_HIT.value() - redis_before == len(set(asked))
    assert len(counting_other.redis) == 1 and counting_other.database == []


async def _drained(coordinator: CacheCoordinator) -> None:
    for _ in range(100):
        if coordinator._filler is None or coordinator._filler.done():
            return
        await asyncio.sleep(0.01)


async def test_a_lone_miss_goes_at_the_next_turn_of_the_loop(coordinator, monkeypatch):
    (key,) = await _insert(coordinator.db, 1)
    counting = Counting(monkeypatch, coordinator)
    reading = asyncio.ensure_future(coordinator.lookup(key))
    await asyncio.sleep(0)  # the lookup queues its key
    await asyncio.sleep(0)  # the next turn: the batch is on its way
    assert coordinator._misses == {} and len(coordinator._batches) == 1
    assert (await reading).found
    assert counting.database == [[key]]


async def test_a_full_batch_goes_without_waiting_for_the_turn(coordinator, monkeypatch):
    from resolver.cache.coordinator import MISS_BATCH_MAX

    counting = Counting(monkeypatch, coordinator)
    asked = [f"{PREFIX}/absent-{n}" for n in range(MISS_BATCH_MAX + 5)]
    assert all(e == NOT_FOUND for e in await asyncio.gather(*(coordinator.lookup(key) for key in asked)))
    assert [len(keys) for keys in counting.database] == [MISS_BATCH_MAX, 5]


async def test_a_damaged_entry_fails_its_own_readers_only(coordinator):
    keys = await _insert(coordinator.db, 3)
    await coordinator.redis.set(record_key(keys[1]), b"garbage")
    results = await asyncio.gather(*(coordinator.lookup(key) for key in keys), return_exceptions=True)
    assert results[0].found and results[2].found
    assert isinstance(results[1], ValueError)


async def test_a_database_failure_fails_every_member_that_needed_it(coordinator, monkeypatch):
    keys = await _insert(coordinator.db, 3)
    tier: RedisTier = coordinator.tier
    await tier.install_all([(keys[0], Entry(1, VALUES, b"[]"))])  # a Redis hit: needs no database

    class DatabaseDown(OSError):
        pass

    failure = DatabaseDown("connection refused")

    async def failing(db, keys, *, primary=False):
        raise failure

    monkeypatch.setattr(records, "read_current_many", failing)
    results = await asyncio.gather(*(coordinator.lookup(key) for key in keys), return_exceptions=True)
    assert results[0] == Entry(1, VALUES, b"[]")
    assert results[1] is failure and results[2] is failure


async def test_below_a_write_in_progress_nothing_is_cached(coordinator):
    keys = await _insert(coordinator.db, 2)
    tier: RedisTier = coordinator.tier
    await tier.install_all([(keys[0], Entry(2, PENDING))], marker=True)  # a write of version 2 is under way
    first, second = await asyncio.gather(*(coordinator.lookup(key) for key in keys))
    assert first.version == 1 and first.found  # what is committed is answered …
    await _drained(coordinator)
    assert coordinator.local.get(keys[0]) is None  # … and cached nowhere
    assert await coordinator.redis.get(record_key(keys[0])) == encode(Entry(2, PENDING))
    assert coordinator.local.get(keys[1]) == second  # its batch neighbour was cached as usual


async def test_an_invalidation_during_the_batch_keeps_the_fill_out(coordinator, monkeypatch):
    (key,) = await _insert(coordinator.db, 1)
    read_many = records.read_current_many

    async def invalidated_meanwhile(db, keys, *, primary=False):
        found = await read_many(db, keys, primary=primary)
        coordinator.local.invalidate(list(keys))  # a write's broadcast arrives while the statement runs
        return found

    monkeypatch.setattr(records, "read_current_many", invalidated_meanwhile)
    assert (await coordinator.lookup(key)).found
    assert coordinator.local.get(key) is None


async def test_redis_trouble_is_a_miss_for_the_whole_batch(coordinator, monkeypatch):
    keys = await _insert(coordinator.db, 2)

    async def down(keys):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(coordinator.tier, "lookup_many", down)
    fallback_before = metrics.FALLBACK._value.get()
    assert all(e.found for e in await asyncio.gather(*(coordinator.lookup(key) for key in keys)))
    assert metrics.FALLBACK._value.get() - fallback_before == 2


async def test_sqlite_reads_a_batch_with_one_statement(tmp_path, monkeypatch):
    async with migrated_database("sqlite", tmp_path) as url:
        db = Database(url)
        try:
            keys = await _insert(db, 5)
            coordinator = CacheCoordinator(db, None)
            counting = Counting(monkeypatch, coordinator)
            entries = await asyncio.gather(*(coordinator.lookup(k) for k in [*keys, f"{PREFIX}/absent"]))
            assert [e.found for e in entries] == [True] * 5 + [False]
            assert entries[-1].kind == UNKNOWN
            assert counting.database == [[*keys, f"{PREFIX}/absent"]]
            await coordinator.stop()
        finally:
            await db.dispose()


async def test_filling_many_records_keeps_the_rules_of_one(coordinator):
    """One script fills a batch; each record still follows ``_FILL``: only under the current epoch, outside the
    grace period, never over a newer version, over a marker only with the marker's own version."""
    tier: RedisTier = coordinator.tier
    keys = [f"{PREFIX}/fill-{n}" for n in range(5)]
    epoch = (await tier.epochs(keys))[tier.keys.shard("").epoch]
    await tier.install_all([(keys[0], Entry(3, VALUES, b"[3]")), (keys[1], Entry(2, PENDING))], marker=True)
    await tier.install_all([(keys[2], Entry(2, PENDING))], marker=True)
    fills = [(keys[0], Entry(2, VALUES, b"[2]")), (keys[1], Entry(2, VALUES, b"[2]"))]
    fills += [(keys[2], Entry(1, VALUES, b"[1]")), (keys[3], NOT_FOUND), (keys[4], Entry(1, VALUES, b"[1]"))]
    await tier.fill_all([(key, entry, b"not-the-epoch") for key, entry in fills])  # another epoch: nothing
    assert await coordinator.redis.get(record_key(keys[3])) is None
    await tier.fill_all([(key, entry, epoch) for key, entry in fills])
    stored = await coordinator.redis.mget([record_key(k) for k in keys])
    assert stored == [b"3|V|[3]", b"2|V|[2]", b"2|P|", encode(NOT_FOUND), b"1|V|[1]"]
    assert 0 < await coordinator.redis.pttl(record_key(keys[3])) <= 5_000  # the negative entry's short life
    await coordinator.redis.set(tier.keys.shard("").young, 1)  # a new epoch's grace period: no fills
    await tier.fill_all([(f"{PREFIX}/fill-late", Entry(1, VALUES, b"[1]"), epoch)])
    assert await coordinator.redis.get(record_key(f"{PREFIX}/fill-late")) is None


async def test_ready_answers_follow_the_in_process_tier(fresh_node, settings):
    """The hot path's ready bytes are sent only while the in-process tier holds the entry they came from: a write
    (its invalidation and install) and a lapsed lease end them at once; each spelling echoes itself."""
    from tests.factories import onboard
    from tests.resolver.test_cache import URL, _wait_for_lease, node_client

    async with node_client(fresh_node, settings) as (app, http):
        await _wait_for_lease(app)
        tenant = await onboard(http, "ready")
        handle = f"{tenant.prefix}/Ready"
        assert (await http.put(f"/api/handles/{handle}", json=[URL], headers=tenant.handle_admin)).status_code == 201
        first = await http.get(f"/api/handles/{handle}")
        local_before = metrics.LOCAL_HIT.value()
        again = await http.get(f"/api/handles/{handle}")
        assert metrics.LOCAL_HIT.value() - local_before == 1
        assert again.content == first.content and again.headers["content-length"] == str(len(first.content))
        assert (await http.head(f"/api/handles/{handle}")).content == b""
        assert (await http.get(f"/api/handles/{handle.lower()}")).json()["handle"] == handle.lower()

        new = URL | {"data": "https://example.com/v2"}
        assert (await http.put(f"/api/handles/{handle}", json=[new], headers=tenant.handle_admin)).status_code == 200
        for _ in range(2):  # the first rebuilds the ready answer, the second is sent from it
            answer = (await http.get(f"/api/handles/{handle}")).json()
            assert answer["handle"] == handle and answer["values"][0]["data"]["value"].endswith("v2")

        app.state.resolver.cache.local.lapse()  # no lease: the tier answers nothing, nor do ready answers
        local_before = metrics.LOCAL_HIT.value()
        assert (await http.get(f"/api/handles/{handle}")).json()["values"][0]["data"]["value"].endswith("v2")
        assert metrics.LOCAL_HIT.value() == local_before

        await http.delete(f"/api/handles/{handle}", headers=tenant.handle_admin)
        assert (await http.get(f"/api/handles/{handle}")).status_code == 404
