"""Cache coordination: the read path through the tiers, and the write protocol that keeps the node's consistency
guarantee across workers and replicas (ADR 0002)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from foundation.db import Database, RecordChange
from registry.journal import repository as journal
from registry.kernel import records
from resolver.cache import metrics
from resolver.cache.entry import NOT_FOUND, PENDING, Entry, decode, from_record
from resolver.cache.local import LocalTier
from resolver.cache.redis_tier import RedisTier, record_key
from resolver.errors import CacheUnavailable, CacheUnconfirmed

log = logging.getLogger("secnode.cache")

LEASE_SECONDS = 2.0
LEASE_MARGIN = 0.25
HEARTBEAT_SECONDS = 0.5
REDIS_READ_TIMEOUT = 0.25  # a slow Redis is treated as a miss, not waited for
JOURNAL_TAIL_SECONDS = 0.25
MISS_BATCH_MAX = 128  # in-process misses read together at most; a batch also goes at the next turn of the loop
# redis-py's cluster client (8.1) can also fail with AttributeError (asyncio) or RuntimeError (uvloop) when a node's
# connection is torn down under a pipeline in flight (a failover): Redis trouble too, never a reason to answer 500.
_REDIS_TROUBLE = (RedisError, RedisClusterException, OSError, asyncio.TimeoutError, AttributeError, RuntimeError)


class CacheCoordinator:
    """One per worker process. Implements the database's commit hooks for the write side."""

    def __init__(
        self,
        db: Database,
        redis: Redis | RedisCluster | None,
        *,
        capacity: int = 200_000,
        ttl_seconds: int = 86400,
        negative_ttl_seconds: int = 5,
        serve_locally: bool = True,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 500,
    ):
        self.db = db
        self.redis = redis
        self.tier = (
            RedisTier(
                redis,
                ttl_ms=ttl_seconds * 1000,
                negative_ttl_ms=negative_ttl_seconds * 1000,
                wait_replicas=wait_replicas,
                wait_timeout_ms=wait_timeout_ms,
            )
            if redis is not None
            else None
        )
        self.local = LocalTier(capacity, always_valid=redis is None)
        self.serve_locally = serve_locally
        self.worker_id = secrets.token_hex(6)
        self._tasks: list[asyncio.Task[None]] = []
        self._heartbeats: dict[str, float] = {}
        self._epochs: dict[int, dict[str, bytes]] = {}
        self._fills: list[tuple[str, Entry, bytes]] = []
        self._epochless: set[str] = set()  # keys whose slot had no epoch at lookup: one to create
        self._filler: asyncio.Task[None] | None = None
        self._misses: dict[str, tuple[int, list[asyncio.Future[Entry]]]] = {}  # key -> generation, its readers
        self._flush_handle: asyncio.Handle | None = None
        self._batches: set[asyncio.Task[None]] = set()

    @property
    def _redis_tier(self) -> RedisTier:
        """The Redis tier, for the paths that run only with Redis (fills, broadcasts, the subscription)."""
        assert self.tier is not None
        return self.tier

    # ---- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.db.dialect == "postgresql":
            await self.db.driver_pool()  # open the read connections now, not under the first burst
        if self.redis is None:
            self._tasks.append(asyncio.create_task(self._tail_journal()))
        elif self.serve_locally:
            self._tasks += [asyncio.create_task(self._listen()), asyncio.create_task(self._heartbeat())]

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._batches, *([self._filler] if self._filler else [])]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        if self.tier is not None:
            if self.serve_locally:
                try:
                    await self.tier.leave(self.worker_id)
                except _REDIS_TROUBLE:
                    pass
            await self.tier.aclose()

    # ---- read path -----------------------------------------------------------------------------------------

    def local_hit(self, key: str) -> Entry | None:
        """The in-process tier's entry, if it may answer it now (counted as a hit)."""
        entry = self.local.get(key) if self.serve_locally else None
        if entry is not None:
            metrics.LOCAL_HIT.inc()
        return entry

    async def lookup(self, key: str) -> Entry:
        """The current public entry of a record: in-process tier, then Redis, then the database. Misses of the
        in-process tier wait for the next turn of the event loop and are read together (ADR 0010)."""
        if self.serve_locally:
            entry = self.local.get(key)
            if entry is not None:
                metrics.LOCAL_HIT.inc()
                return entry
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Entry] = loop.create_future()
        waiting = self._misses.get(key)
        if waiting is None:
            # The generation before anything is read: a later waiter of the same key saw a generation at least as
            # new, so filling under the first one's is the stricter test.
            self._misses[key] = (self.local.generation, [future])
        else:
            waiting[1].append(future)
        if len(self._misses) >= MISS_BATCH_MAX:
            self._flush_misses()
        elif self._flush_handle is None:
            self._flush_handle = loop.call_soon(self._flush_misses)
        return await future

    def _flush_misses(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        batch, self._misses = self._misses, {}
        if batch:
            task = asyncio.create_task(self._read_misses(batch))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _read_misses(self, batch: dict[str, tuple[int, list[asyncio.Future[Entry]]]]) -> None:
        """One Redis check for every key of the batch, one database statement for those Redis could not answer;
        each key then follows exactly the single-key rules of ADR 0002 (fills under its epoch and generation,
        nothing cached below a write's marker). A failure of the Redis check is a miss for every key; a database
        failure fails every key that needed the database, with that error."""
        metrics.MISS_BATCH.observe(len(batch))
        keys = list(batch)
        looked: dict[str, tuple[bytes | None, bytes | None, int | None]] = {}
        redis_ok = False
        try:
            if self.tier is not None:
                try:
                    looked = await asyncio.wait_for(self.tier.lookup_many(keys), REDIS_READ_TIMEOUT)
                    redis_ok = True
                except _REDIS_TROUBLE:
                    metrics.FALLBACK.inc(len(keys))
            unread: dict[str, tuple[int, int | None, bytes | None]] = {}  # key -> marker's version, watermark, epoch
            for key in keys:
                raw, epoch, wal = looked.get(key, (None, None, None))
                pending_version = -1
                if raw is not None:
                    try:
                        entry = decode(raw)
                    except Exception as exc:  # noqa: BLE001 - a damaged entry fails its own readers, not the batch
                        _fail(batch[key][1], exc)
                        continue
                    if entry.servable:
                        metrics.REDIS_HIT.inc()
                        if self.serve_locally:
                            self.local.fill(key, entry, batch[key][0])
                        _answer(batch[key][1], entry)
                        continue
                    pending_version = entry.version
                unread[key] = (pending_version, wal, epoch)
            if not unread:
                return
            metrics.DATABASE_READ.inc(len(unread))
            try:
                found = await self._read_rows({key: (v, wal) for key, (v, wal, _) in unread.items()})
            except Exception as exc:  # noqa: BLE001 - every reader of the batch gets the database's error
                for key in unread:
                    _fail(batch[key][1], exc)
                return
            for key, (pending_version, _, epoch) in unread.items():
                try:
                    entry = from_record(*found[key]) if key in found else NOT_FOUND
                except Exception as exc:  # noqa: BLE001 - a record that will not render fails its own readers only
                    _fail(batch[key][1], exc)
                    continue
                if entry.version >= pending_version:  # below: a write in progress, answer what is committed only
                    if redis_ok and epoch is not None:
                        # Off the response's path, batched: the script still refuses it if anything newer arrived.
                        self._queue_fill(key, entry, epoch)
                    elif redis_ok:
                        self._queue_epoch(key)  # Redis lost this slot's epoch (a restart): start a new one
                    if self.serve_locally:
                        self.local.fill(key, entry, batch[key][0])
                _answer(batch[key][1], entry)
        except BaseException as exc:  # cancelled (shutdown) or a defect: nobody may wait for ever
            for _, futures in batch.values():
                _fail(futures, exc)
            if not isinstance(exc, Exception):
                raise
            log.error("secnode.cache.miss_batch_failed keys=%d error=%r", len(batch), exc)

    def _queue_fill(self, key: str, entry: Entry, epoch: bytes) -> None:
        if len(self._fills) < 10_000:  # beyond that, Redis is not keeping up: skipping a fill is only a miss
            self._fills.append((key, entry, epoch))
        self._start_filler()

    def _queue_epoch(self, key: str) -> None:
        if len(self._epochless) < 1000:
            self._epochless.add(key)
        self._start_filler()

    def _start_filler(self) -> None:
        if self._filler is None or self._filler.done():
            self._filler = asyncio.create_task(self._drain_fills())

    async def _drain_fills(self) -> None:
        """Send queued fills (and epochs to create) in pipelines, one round trip for everything queued meanwhile."""
        while self._fills or self._epochless:
            batch, self._fills = self._fills[:500], self._fills[500:]
            epochless, self._epochless = self._epochless, set()
            try:
                if epochless:
                    await self._redis_tier.epochs(epochless)
                if batch:
                    await self._redis_tier.fill_all(batch)
            except _REDIS_TROUBLE:
                metrics.FALLBACK.inc()

    async def read_database(self, key: str, newer_than: int = -1, wal: int | None = None) -> Entry:
        """One record from the database (see ``read_database_many``)."""
        return (await self.read_database_many({key: (newer_than, wal)}))[key]

    async def read_database_many(self, wanted: dict[str, tuple[int, int | None]]) -> dict[str, Entry]:
        """Records from the database, ``wanted`` mapping each key to (the version of a write in progress seen in
        Redis or -1, the WAL watermark of its slot). A replica answers for a key only when it has replayed every
        acknowledged write (the WAL watermark; unknown, e.g. after a Redis restart, means no) and is not behind a
        write in progress; otherwise the primary does, for all such keys in one statement."""
        found = await self._read_rows(wanted)
        return {key: from_record(*found[key]) if key in found else NOT_FOUND for key in wanted}

    async def _read_rows(self, wanted: dict[str, tuple[int, int | None]]) -> dict[str, records.Current]:
        keys = list(wanted)
        if self.db.read_url is None or self.db.dialect != "postgresql":
            found = await records.read_current_many(self.db, keys)
        else:
            found, replayed = await records.read_many_on_replica(self.db, keys)
            behind = [
                key
                for key, (newer_than, wal) in wanted.items()
                if wal is None or replayed < wal or (found[key][0] if key in found else 0) < newer_than
            ]
            if behind:
                metrics.PRIMARY_READ.inc(len(behind))
                again = await records.read_current_many(self.db, behind, primary=True)
                for key in behind:
                    found.pop(key, None)
                found.update(again)
        return found

    # ---- write path (commit hooks) -------------------------------------------------------------------------

    async def before_commit(self, changes: list[RecordChange]) -> None:
        if self.tier is None:
            return
        keys = [c.key for c in changes]
        try:
            self._epochs[id(changes)] = await self.tier.epochs(keys)
            await self.tier.install_all(((c.key, Entry(c.version, PENDING)) for c in changes), marker=True)
            await self.tier.replicate(self._record_keys(keys))  # a failover keeps the markers
            await self._broadcast(keys)
        except _REDIS_TROUBLE as exc:
            self._epochs.pop(id(changes), None)
            metrics.WRITE_REFUSED.inc()
            log.warning("secnode.cache.write_refused error=%r", exc)
            raise CacheUnavailable(type(exc).__name__) from None

    async def after_commit(self, changes: list[RecordChange]) -> None:
        # A new record (version 1) is not installed: registered in bulk, it is rarely read soon, and rendering and
        # installing every new record cost a quarter of a batch's time. In Redis it keeps its marker (until its
        # first read fills it, or a minute), which refuses older fills; the broadcast before commit dropped it from
        # every worker's tier, this one's too. Without Redis there was no broadcast: it is dropped here.
        entries = [(c.key, from_record(c.version, c.deleted, c.values)) for c in changes if c.version != 1]
        for key, entry in entries:
            self.local.install(key, entry)
        if self.tier is None:
            if fresh := [c.key for c in changes if c.version == 1]:
                self.local.invalidate(fresh)
            return
        epoch_before = self._epochs.pop(id(changes), None)
        keys = [c.key for c in changes]
        try:
            await self.tier.install_all(entries)
            if self.db.read_url is not None and self.db.dialect == "postgresql":
                await self.tier.raise_wal(await records.primary_wal_position(self.db), keys)
            await self.tier.replicate(self._record_keys(keys))  # a failover keeps what the client is told
            if await self.tier.epochs(keys) != epoch_before:
                # Redis restarted during the write: another worker may have filled the old version meanwhile
                await self._broadcast(keys)
        except _REDIS_TROUBLE:
            versions = ", ".join(f"{c.key} v{c.version}" for c in changes[:3])
            raise CacheUnconfirmed(versions, truncated=len(changes) > 3) from None

    async def after_rollback(self, changes: list[RecordChange]) -> None:
        self._epochs.pop(id(changes), None)
        if self.tier is None:
            return
        try:
            await self.tier.unmark_all((c.key, Entry(c.version, PENDING)) for c in changes)
        except _REDIS_TROUBLE:
            pass  # the markers expire by themselves; meanwhile they only cost misses

    @staticmethod
    def _record_keys(keys: list[str]) -> list[str]:
        return [record_key(key) for key in keys]

    async def _broadcast(self, keys: list[str]) -> None:
        """Tell every worker to drop ``keys``; return once every worker with a live lease has done so."""
        message_id = secrets.token_hex(8)
        started = time.monotonic()
        workers = await self._redis_tier.publish(b"I " + message_id.encode() + b"\n" + "\n".join(keys).encode())
        delay = 0.0002
        while workers := await self._redis_tier.pending(message_id, workers):
            if time.monotonic() - started > LEASE_SECONDS + 1.0:
                raise TimeoutError("workers neither acknowledged nor let their lease lapse")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.01)
        metrics.WRITE_WAIT.observe(time.monotonic() - started)

    # ---- worker side: invalidations and the lease ----------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            pubsub = None
            try:
                pubsub = await self._redis_tier.subscribe()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message["type"] in ("subscribe", "ssubscribe"):
                        continue
                    if message["type"] not in ("message", "smessage"):
                        raise ConnectionError(f"the subscription ended ({message['type']})")  # e.g. a slot moved
                    await self._handle(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Any failure may have lost a message: empty the tier and come back under a new identity, so
                # writers stop waiting for the old one as soon as its lease lapses.
                log.warning("secnode.cache.subscription_lost error=%s", type(exc).__name__)
                self.local.lapse()
                self.worker_id = secrets.token_hex(6)
                await asyncio.sleep(0.2)
            finally:
                try:
                    if pubsub is not None:
                        await asyncio.wait_for(pubsub.aclose(), 1.0)
                except Exception:  # noqa: BLE001 - a subscription that will not close is dropped; a cancellation goes on
                    pass

    async def _handle(self, data: bytes) -> None:
        if data.startswith(b"I "):
            header, _, body = data.partition(b"\n")
            self.local.invalidate(body.decode().split("\n") if body else [])
            await self._redis_tier.acknowledge(header[2:].decode(), self.worker_id)
        elif data.startswith(b"H "):
            _, worker, nonce = data.decode().split(" ")
            sent_at = self._heartbeats.pop(nonce, None) if worker == self.worker_id else None
            if sent_at is not None:
                # Our own heartbeat came back through the channel: every earlier invalidation was handled.
                try:
                    await self._redis_tier.renew(self.worker_id, int(LEASE_SECONDS * 1000))
                except _REDIS_TROUBLE:
                    return  # not renewed (or not replicated): the lease runs out unless a later heartbeat renews it
                self.local.extend(sent_at + LEASE_SECONDS - LEASE_MARGIN)
                metrics.LEASE_RENEWED.inc()

    async def _heartbeat(self) -> None:
        while True:
            nonce = secrets.token_hex(4)
            self._heartbeats = {n: t for n, t in self._heartbeats.items() if time.monotonic() - t < LEASE_SECONDS}
            self._heartbeats[nonce] = time.monotonic()
            try:
                await self._redis_tier.heartbeat(f"H {self.worker_id} {nonce}".encode())
            except _REDIS_TROUBLE:
                pass
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _tail_journal(self) -> None:
        """Without Redis: writes of other processes (the CLI) reach this worker's tier through the journal."""
        async with self.db.read_session() as session:
            cursor = await journal.last_seq(session)
        while True:
            await asyncio.sleep(JOURNAL_TAIL_SECONDS)
            try:
                async with self.db.read_session() as session:
                    rows = await journal.after(session, cursor)
            except Exception as exc:
                log.warning("secnode.cache.journal_tail_failed error=%s", type(exc).__name__)
                continue
            if rows:
                cursor = rows[-1].seq
                self.local.invalidate([r.subject_key for r in rows if r.kind.startswith("handle.")])


def _answer(futures: list[asyncio.Future[Entry]], entry: Entry) -> None:
    for future in futures:
        if not future.done():  # its reader may have gone (a closed connection)
            future.set_result(entry)


def _fail(futures: list[asyncio.Future[Entry]], exc: BaseException) -> None:
    for future in futures:
        if future.done():
            continue
        if isinstance(exc, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(exc)
