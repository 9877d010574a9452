"""The Redis tier and the coordination keys: every change of a cached entry goes through a script that compares
versions, so an older version never replaces a newer one (ADR 0002)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from redis.asyncio import Redis

from resolver.cache.entry import Entry, encode

PREFIX = "secnode:"
EPOCH = PREFIX + "epoch"
YOUNG = PREFIX + "epoch:young"  # exists during the grace period after a new epoch: no fills
WAL = PREFIX + "wal"  # the primary's WAL position after the latest acknowledged write (replica freshness)
LEASES = PREFIX + "leases"
CHANNEL = PREFIX + "inval"


def record_key(key: str) -> str:
    return f"{PREFIX}rec:v1:{key}"


def acks_key(message_id: str) -> str:
    return f"{PREFIX}acks:{message_id}"


_VERSION = "local function version_of(raw) if not raw then return -1, '' end " \
           "local v, k = string.match(raw, '^(%d+)|(%a)|') return tonumber(v), k end "

# KEYS: record, epoch, young. ARGV: epoch token, version, encoded entry, ttl ms.
_FILL = _VERSION + """
if redis.call('GET', KEYS[2]) ~= ARGV[1] or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local v, k = version_of(redis.call('GET', KEYS[1]))
local fv = tonumber(ARGV[2])
if v > fv or (v == fv and k ~= 'P') then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
"""

# KEYS: record. ARGV: version, encoded entry, ttl ms. A write's own marker or its committed version.
_INSTALL = _VERSION + """
local v, k = version_of(redis.call('GET', KEYS[1]))
local nv = tonumber(ARGV[1])
if v > nv or (v == nv and k ~= 'P') then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""

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

# KEYS: leases. ARGV: channel, message. Publishes and returns the workers whose lease is live at that moment:
# only they can hold what the message invalidates (a worker that gets a lease later starts empty).
_PUBLISH = _NOW + """
local live = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
redis.call('PUBLISH', ARGV[1], ARGV[2])
return live
"""

# KEYS: leases, acks. ARGV: the workers to wait for. Those still live that have not acknowledged.
_PENDING = _NOW + """
local pending = {}
for _, worker in ipairs(ARGV) do
  local expiry = redis.call('ZSCORE', KEYS[1], worker)
  if expiry and tonumber(expiry) >= now and redis.call('SISMEMBER', KEYS[2], worker) == 0 then
    table.insert(pending, worker)
  end
end
return pending
"""

# KEYS: leases. ARGV: worker, lease ms. Renews in Redis time and drops leases long expired.
_RENEW = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
return now
"""


class RedisTier:
    def __init__(self, redis: Redis, *, ttl_ms: int, negative_ttl_ms: int, marker_ttl_ms: int = 60_000,
                 grace_ms: int = 2000):
        self.redis = redis
        self.ttl_ms, self.negative_ttl_ms, self.marker_ttl_ms, self.grace_ms = (ttl_ms, negative_ttl_ms,
                                                                                 marker_ttl_ms, grace_ms)
        self._fill = redis.register_script(_FILL)
        self._install = redis.register_script(_INSTALL)
        self._unmark = redis.register_script(_UNMARK)
        self._ensure_epoch = redis.register_script(_ENSURE_EPOCH)
        self._pending = redis.register_script(_PENDING)
        self._publish = redis.register_script(_PUBLISH)
        self._renew = redis.register_script(_RENEW)
        self._raise_wal = redis.register_script(_RAISE_WAL)

    def _ttl(self, entry: Entry) -> int:
        return self.negative_ttl_ms if entry.version == 0 else self.ttl_ms

    async def lookup(self, key: str) -> tuple[bytes | None, bytes | None, int | None]:
        """The entry, the epoch token and the WAL watermark, in one round trip."""
        raw, epoch, wal = await self.redis.mget(record_key(key), EPOCH, WAL)
        return raw, epoch, None if wal is None else int(wal)

    async def raise_wal(self, position: int) -> None:
        """Move the WAL watermark up to ``position`` (never down)."""
        await self._raise_wal(keys=[WAL], args=[position])

    async def fill(self, key: str, entry: Entry, epoch: bytes) -> bool:
        return bool(await self._fill(keys=[record_key(key), EPOCH, YOUNG],
                                     args=[epoch, entry.version, encode(entry), self._ttl(entry)]))

    async def fill_all(self, fills: Iterable[tuple[str, Entry, bytes]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key, entry, epoch in fills:
            await self._fill(keys=[record_key(key), EPOCH, YOUNG], args=[epoch, entry.version, encode(entry),
                                                                        self._ttl(entry)], client=pipe)
        await pipe.execute()

    async def epoch(self) -> bytes:
        return await self._ensure_epoch(keys=[EPOCH, YOUNG], args=[secrets.token_hex(8), self.grace_ms])

    async def install_all(self, entries: Iterable[tuple[str, Entry]], *, marker: bool = False) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key, entry in entries:
            ttl = self.marker_ttl_ms if marker else self._ttl(entry)
            await self._install(keys=[record_key(key)], args=[entry.version, encode(entry), ttl], client=pipe)
        await pipe.execute()

    async def unmark_all(self, markers: Iterable[tuple[str, Entry]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key, marker in markers:
            await self._unmark(keys=[record_key(key)], args=[encode(marker)], client=pipe)
        await pipe.execute()

    async def publish(self, message: bytes) -> list[bytes]:
        """Publish on the invalidation channel; returns the workers that must acknowledge."""
        return await self._publish(keys=[LEASES], args=[CHANNEL, message])

    async def pending(self, message_id: str, workers: list[bytes]) -> list[bytes]:
        if not workers:
            return []
        return await self._pending(keys=[LEASES, acks_key(message_id)], args=workers)

    async def renew(self, worker: str, lease_ms: int) -> None:
        await self._renew(keys=[LEASES], args=[worker, lease_ms])

    async def acknowledge(self, message_id: str, worker: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.sadd(acks_key(message_id), worker)
        pipe.pexpire(acks_key(message_id), 30_000)
        await pipe.execute()

    async def leave(self, worker: str) -> None:
        await self.redis.zrem(LEASES, worker)
