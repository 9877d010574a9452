"""The Redis tier and the coordination keys: every change of a cached entry goes through a script that compares
versions, so an older version never replaces a newer one (ADR 0002). Standalone Redis or Redis Cluster (ADR 0006):
each script touches keys of one hash slot (``resolver.cache.keys``)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from typing import Any, cast

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import RedisClusterException, RedisError

from resolver.cache.entry import Entry, encode
from resolver.cache.keys import KeyLayout, ShardKeys

record_key = KeyLayout.record


class NotReplicated(RedisError):
    """Fewer replicas than required confirmed a change: a failover now could lose it."""


_VERSION = (
    "local function version_of(raw) if not raw then return -1, '' end "
    "local v, k = string.match(raw, '^(%d+)|(%a)|') return tonumber(v), k end "
)

# KEYS: record, epoch, young. ARGV: epoch token, version, encoded entry, ttl ms.
_FILL = (
    _VERSION
    + """
if redis.call('GET', KEYS[2]) ~= ARGV[1] or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local v, k = version_of(redis.call('GET', KEYS[1]))
local fv = tonumber(ARGV[2])
if v > fv or (v == fv and k ~= 'P') then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
"""
)

# KEYS: epoch, young, records. ARGV: epoch token, ttl ms, ttl ms of an unknown handle (version 0), then the encoded
# entry of each record in turn. _FILL for many records read under the same epoch token (standalone Redis: one
# slot's guard keys for all); one argument per record keeps the client's packing cheap.
_FILL_MANY = (
    _VERSION
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
for i = 3, #KEYS do
  local entry = ARGV[i + 1]
  local v, k = version_of(redis.call('GET', KEYS[i]))
  local fv = version_of(entry)
  if v < fv or (v == fv and k == 'P') then
    redis.call('SET', KEYS[i], entry, 'PX', fv == 0 and ARGV[3] or ARGV[2])
  end
end
return 1
"""
)

# KEYS: record. ARGV: version, encoded entry, ttl ms. A write's own marker or its committed version.
_INSTALL = (
    _VERSION
    + """
local v, k = version_of(redis.call('GET', KEYS[1]))
local nv = tonumber(ARGV[1])
if v > nv or (v == nv and k ~= 'P') then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""
)

# KEYS: records. ARGV: version, encoded entry, ttl ms for each record in turn. _INSTALL for many records at once.
_INSTALL_MANY = (
    _VERSION
    + """
for i, key in ipairs(KEYS) do
  local v, k = version_of(redis.call('GET', key))
  local nv = tonumber(ARGV[3 * i - 2])
  if v < nv or (v == nv and k == 'P') then redis.call('SET', key, ARGV[3 * i - 1], 'PX', ARGV[3 * i]) end
end
return 1
"""
)
_INSTALLS_PER_SCRIPT = 500  # Redis runs a script alone: a few hundred keys keep each turn well under a millisecond

# KEYS: record. ARGV: encoded marker. Removes a rolled-back write's marker, and only that.
_UNMARK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: wal. ARGV: position. Lua numbers are doubles: WAL positions stay exact below 2**53 bytes of WAL (8 PiB).
_RAISE_WAL = """
if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""

# KEYS: epoch, young. ARGV: new token, grace ms. Returns the current epoch, creating one if Redis lost it.
_ENSURE_EPOCH = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return ARGV[1]
"""

_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

# KEYS: leases. ARGV: channel, message, PUBLISH or SPUBLISH (cluster: the channel is in the leases' slot).
# Publishes and returns the workers whose lease is live at that moment:
# only they can hold what the message invalidates (a worker that gets a lease later starts empty).
_PUBLISH = (
    _NOW
    + """
local live = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
redis.call(ARGV[3], ARGV[1], ARGV[2])
return live
"""
)

# KEYS: leases, acks. ARGV: the workers to wait for. Those still live that have not acknowledged.
_PENDING = (
    _NOW
    + """
local pending = {}
for _, worker in ipairs(ARGV) do
  local expiry = redis.call('ZSCORE', KEYS[1], worker)
  if expiry and tonumber(expiry) >= now and redis.call('SISMEMBER', KEYS[2], worker) == 0 then
    table.insert(pending, worker)
  end
end
return pending
"""
)

# KEYS: leases. ARGV: worker, lease ms. Renews in Redis time and drops leases long expired.
_RENEW = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
return now
"""


class RedisTier:
    def __init__(
        self,
        redis: Redis | RedisCluster,
        *,
        ttl_ms: int,
        negative_ttl_ms: int,
        marker_ttl_ms: int = 60_000,
        grace_ms: int = 2000,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 500,
    ):
        self.redis = redis
        self.cluster = isinstance(redis, RedisCluster)
        self.keys = KeyLayout(cluster=self.cluster)
        self.ttl_ms, self.negative_ttl_ms, self.marker_ttl_ms, self.grace_ms = (
            ttl_ms,
            negative_ttl_ms,
            marker_ttl_ms,
            grace_ms,
        )
        self.wait_replicas, self.wait_timeout_ms = wait_replicas, wait_timeout_ms
        self._node_clients: dict[str, Redis] = {}
        self._fill = redis.register_script(_FILL)
        self._fill_many = redis.register_script(_FILL_MANY)
        self._install = redis.register_script(_INSTALL)
        self._install_many = redis.register_script(_INSTALL_MANY)
        self._unmark = redis.register_script(_UNMARK)
        self._ensure_epoch = redis.register_script(_ENSURE_EPOCH)
        self._pending = redis.register_script(_PENDING)
        self._publish = redis.register_script(_PUBLISH)
        self._renew = redis.register_script(_RENEW)
        self._raise_wal = redis.register_script(_RAISE_WAL)

    def _ttl(self, entry: Entry) -> int:
        return self.negative_ttl_ms if entry.version == 0 else self.ttl_ms

    async def _pipelined(self, calls: Iterable[tuple[AsyncScript, list[str], list[Any]]]) -> list[Any]:
        """Run scripts in one pipeline. A cluster pipeline (one per node, redis-py routes) cannot use EVALSHA, so
        it sends the scripts' text: Redis caches them by digest all the same."""
        pipe = self.redis.pipeline(transaction=False)
        for script, keys, args in calls:
            if self.cluster:
                pipe.eval(cast(str, script.script), len(keys), *keys, *args)  # registered from our str constants
            else:
                # redis-py's AsyncScript.__call__ takes a Pipeline (it loads the script into it) but annotates
                # only clients
                await script(keys=keys, args=args, client=pipe)  # type: ignore[arg-type]
        return await pipe.execute()

    async def lookup(self, key: str) -> tuple[bytes | None, bytes | None, int | None]:
        """The entry, the epoch token and the WAL watermark of its slot, in one round trip."""
        shard = self._shard_of(key)
        values = await self.redis.mget(record_key(key), shard.epoch, shard.wal)
        raw, epoch, wal = cast(
            "list[bytes | None]", values
        )  # the client does not decode responses (a string: no cost per call)
        return raw, epoch, None if wal is None else int(wal)

    async def lookup_many(self, keys: list[str]) -> dict[str, tuple[bytes | None, bytes | None, int | None]]:
        """``lookup`` of many keys in one round trip. Each key's entry is read in one command with the epoch and
        WAL watermark of its slot, as ``lookup`` reads it: standalone, one MGET for all (one slot's guard keys);
        in a cluster, one MGET per key in a pipeline (redis-py sends each node its share at once)."""
        if not self.cluster:
            shard = self.keys.shard("")
            values = cast("list[bytes | None]", await self.redis.mget(*map(record_key, keys), shard.epoch, shard.wal))
            epoch, wal = values[-2], values[-1]
            watermark = None if wal is None else int(wal)
            return {key: (raw, epoch, watermark) for key, raw in zip(keys, values, strict=False)}
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            shard = self._shard_of(key)
            pipe.mget(record_key(key), shard.epoch, shard.wal)
        found: dict[str, tuple[bytes | None, bytes | None, int | None]] = {}
        for key, (raw, epoch, wal) in zip(keys, await pipe.execute(), strict=True):
            found[key] = (raw, epoch, None if wal is None else int(wal))
        return found

    async def raise_wal(self, position: int, keys: Iterable[str]) -> None:
        """Move the WAL watermark of the slots of ``keys`` up to ``position`` (never down)."""
        await self._pipelined((self._raise_wal, [wal], [position]) for wal in {self._shard_of(key).wal for key in keys})

    def _shard_of(self, key: str) -> ShardKeys:
        """The guard keys in the slot of ``key``'s record."""
        return self.keys.shard(record_key(key))

    def _fill_keys(self, key: str) -> list[str]:
        shard = self._shard_of(key)
        return [record_key(key), shard.epoch, shard.young]

    async def fill_all(self, fills: Iterable[tuple[str, Entry, bytes]]) -> None:
        """Fill records over older versions and their own versions' markers, each only under the epoch it was read
        in. On a standalone Redis one script per epoch token (and few hundred records): a batch of misses is one
        command, not one per record; each record follows the rule of ``_FILL`` all the same."""
        if not self.cluster:
            shard = self.keys.shard("")
            by_epoch: dict[bytes, list[tuple[str, Entry]]] = {}
            for key, entry, epoch in fills:
                by_epoch.setdefault(epoch, []).append((key, entry))
            for epoch, group in by_epoch.items():
                for start in range(0, len(group), _INSTALLS_PER_SCRIPT):
                    chunk = group[start : start + _INSTALLS_PER_SCRIPT]
                    await self._fill_many(
                        keys=[shard.epoch, shard.young, *(record_key(k) for k, _ in chunk)],
                        args=[epoch, self.ttl_ms, self.negative_ttl_ms, *(encode(entry) for _, entry in chunk)],
                    )
            return
        await self._pipelined(
            (self._fill, self._fill_keys(key), [epoch, entry.version, encode(entry), self._ttl(entry)])
            for key, entry, epoch in fills
        )

    async def epochs(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The epoch token of each slot of ``keys`` (by epoch key), creating the ones Redis lost."""
        shards = {shard.epoch: shard for shard in map(self._shard_of, keys)}
        tokens = await self._pipelined(
            (self._ensure_epoch, [shard.epoch, shard.young], [secrets.token_hex(8), self.grace_ms])
            for shard in shards.values()
        )
        return dict(zip(shards, tokens, strict=True))

    async def install_all(self, entries: Iterable[tuple[str, Entry]], *, marker: bool = False) -> None:
        installs = [
            (record_key(key), [entry.version, encode(entry), self._install_ttl(entry, marker)])
            for key, entry in entries
        ]
        if self.cluster:  # a script's keys must share a slot, and records' keys rarely do
            await self._pipelined((self._install, [key], args) for key, args in installs)
            return
        # one script per few hundred records: a batch's markers cost a handful of commands, not one per record
        chunks = [
            installs[start : start + _INSTALLS_PER_SCRIPT] for start in range(0, len(installs), _INSTALLS_PER_SCRIPT)
        ]
        await self._pipelined(
            (self._install_many, [key for key, _ in chunk], [a for _, args in chunk for a in args]) for chunk in chunks
        )

    def _install_ttl(self, entry: Entry, marker: bool) -> int:
        """A write's marker lives a minute at most (a crashed writer's marker must not outlive it for long)."""
        return min(self.marker_ttl_ms, self._ttl(entry)) if marker else self._ttl(entry)

    async def unmark_all(self, markers: Iterable[tuple[str, Entry]]) -> None:
        await self._pipelined((self._unmark, [record_key(key)], [encode(marker)]) for key, marker in markers)

    async def replicate(self, keys: Iterable[str]) -> None:
        """Return once ``wait_replicas`` replicas of every node holding ``keys`` (Redis keys) have every change
        made there so far, so a failover cannot lose them; raise NotReplicated otherwise. WAIT counts the writes of
        its own connection, so each node gets a fence: a write and WAIT on one connection. Replication is in
        order, so the fence's arrival covers every earlier change on that node."""
        if not self.wait_replicas:
            return
        fences: dict[str, tuple[ClusterNode | None, str]] = {}
        if self.cluster:
            await self.redis.initialize()
        for key in keys:
            node = self.redis.get_node_from_key(key) if isinstance(self.redis, RedisCluster) else None
            fences.setdefault(node.name if node else "", (node, self.keys.fence(key)))
        await asyncio.gather(*(self._fence(node, fence) for node, fence in fences.values()))

    async def _fence(self, node: ClusterNode | None, fence: str) -> None:
        client = self._node_client(node) if node is not None else self.redis
        try:
            pipe = client.pipeline(transaction=False)
            pipe.set(fence, 1, px=60_000)
            pipe.wait(self.wait_replicas, self.wait_timeout_ms)
            _, replicas = await pipe.execute()
        except (RedisError, OSError):
            stale = self._node_clients.pop(node.name, None) if node is not None else None
            if stale is not None:
                await stale.aclose()
            raise
        if replicas < self.wait_replicas:
            raise NotReplicated(
                f"{replicas} of {self.wait_replicas} replicas confirmed within {self.wait_timeout_ms} ms"
            )

    def _node_client(self, node: ClusterNode) -> Redis:
        """A plain client of one cluster node: commands on one connection (fences) and the subscription."""
        if node.name not in self._node_clients:
            options = self.redis.get_connection_kwargs()  # the cluster client's credentials and TLS settings
            same = {
                k: v
                for k, v in options.items()
                if k.startswith("ssl_") or k in ("username", "password", "credential_provider")
            }
            connection_class = cast("type[AbstractConnection]", options["connection_class"])
            pool = ConnectionPool(
                connection_class=connection_class,
                host=node.host,
                port=node.port,
                socket_timeout=1,
                socket_connect_timeout=1,
                **same,
            )
            self._node_clients[node.name] = Redis(connection_pool=pool)
        return self._node_clients[node.name]

    async def subscribe(self) -> PubSub:
        """A subscription to the invalidation channel. In a cluster it is a sharded channel, subscribed at the node
        that serves its slot, where every publication is made: messages arrive in the order they were published.
        The caller treats the end of the subscription (a failover, a slot move) as lost messages."""
        if isinstance(self.redis, RedisCluster):
            await self.redis.initialize()
            node = self.redis.get_node_from_key(self.keys.channel)
            if node is None:
                raise RedisClusterException(f"no node serves the slot of {self.keys.channel}")
            pubsub = self._node_client(node).pubsub()
            await pubsub.ssubscribe(self.keys.channel)
        else:
            pubsub = self.redis.pubsub()
            await pubsub.subscribe(self.keys.channel)
        return pubsub

    async def publish(self, message: bytes) -> list[bytes]:
        """Publish on the invalidation channel; returns the workers that must acknowledge."""
        workers: list[bytes] = await self._publish(
            keys=[self.keys.leases], args=[self.keys.channel, message, "SPUBLISH" if self.cluster else "PUBLISH"]
        )
        return workers

    async def heartbeat(self, message: bytes) -> None:
        if self.cluster:
            await self.redis.spublish(self.keys.channel, message)
        else:
            await self.redis.publish(self.keys.channel, message)

    async def pending(self, message_id: str, workers: list[bytes]) -> list[bytes]:
        if not workers:
            return []
        still: list[bytes] = await self._pending(keys=[self.keys.leases, self.keys.acks(message_id)], args=workers)
        return still

    async def renew(self, worker: str, lease_ms: int) -> None:
        await self._renew(keys=[self.keys.leases], args=[worker, lease_ms])
        await self.replicate([self.keys.leases])

    async def acknowledge(self, message_id: str, worker: str) -> None:
        acks = self.keys.acks(message_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.sadd(acks, worker)
        pipe.pexpire(acks, 30_000)
        await pipe.execute()

    async def leave(self, worker: str) -> None:
        await self.redis.zrem(self.keys.leases, worker)

    async def aclose(self) -> None:
        for client in self._node_clients.values():
            await client.aclose()
        self._node_clients.clear()
