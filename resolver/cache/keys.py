"""Where the cache keys live (ADR 0002, ADR 0006).

Every script and the lookup's MGET touch keys of one hash slot, so the same layout serves a Redis Cluster:

- the coordination keys (leases, acknowledgements) and the invalidation channel share the slot of ``{secnode}``;
- a record key's slot has its own epoch, grace and WAL-watermark keys, named with a tag that hashes to that slot.

On a standalone Redis every slot maps to the one set of epoch, grace and watermark keys of ADR 0002, with the
names it lists, and the coordination keys keep their names: a standalone deployment sees no change.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from functools import cache

from redis.crc import key_slot

PREFIX = "secnode:"
SLOTS = 16384


@dataclass(frozen=True, slots=True)
class ShardKeys:
    """The keys that guard the records of one hash slot."""

    epoch: str
    young: str  # exists during the grace period after a new epoch: no fills
    wal: str  # the primary's WAL position after the latest acknowledged write touching this slot


@cache
def _slot_tags() -> tuple[str, ...]:
    """For every slot, a short string whose CRC16 falls in it (about 170,000 candidates; done once)."""
    tags: list[str | None] = [None] * SLOTS
    missing, candidate = SLOTS, 0
    while missing:
        text = format(candidate, "x")
        slot = binascii.crc_hqx(text.encode(), 0) % SLOTS
        if tags[slot] is None:
            tags[slot], missing = text, missing - 1
        candidate += 1
    return tuple(tag for tag in tags if tag is not None)  # every slot has one by now


class KeyLayout:
    def __init__(self, *, cluster: bool):
        self.cluster = cluster
        coordination = PREFIX + "{secnode}:" if cluster else PREFIX
        self.leases = coordination + "leases"
        self.channel = coordination + "inval"
        self._acks = coordination + "acks:"
        self._standalone_shard = ShardKeys(PREFIX + "epoch", PREFIX + "epoch:young", PREFIX + "wal")

    @staticmethod
    def record(key: str) -> str:
        return f"{PREFIX}rec:v1:{key}"

    def acks(self, message_id: str) -> str:
        return self._acks + message_id

    def shard(self, record: str) -> ShardKeys:
        """The guard keys in the slot of ``record`` (a record key)."""
        if not self.cluster:
            return self._standalone_shard
        tag = "{" + _slot_tags()[key_slot(record.encode())] + "}"
        return ShardKeys(f"{PREFIX}{tag}:epoch", f"{PREFIX}{tag}:epoch:young", f"{PREFIX}{tag}:wal")

    def fence(self, record: str) -> str:
        """A key in the slot of ``record`` that a replication fence may write (see RedisTier.replicate)."""
        return self.shard(record).epoch + ":fence" if self.cluster else PREFIX + "fence"
