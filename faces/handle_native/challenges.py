"""Open challenges of the native face (RFC 3652 section 3.5): the request waiting for its answer, the nonce and the
digest, under the session id the challenge gave. Kept in Redis when the node has it, so that an answer reaching
another worker finds its challenge; taken out on first use, so an answer cannot be replayed.
"""

from __future__ import annotations

import secrets
import struct
import time
from dataclasses import dataclass

from redis.asyncio import Redis

TTL_SECONDS = 120
MAX_LOCAL = 10_000  # open challenges one worker keeps without Redis
_KEY = "secnode:native:challenge:%d"
_HEAD = struct.Struct(">BBIII")


@dataclass(frozen=True, slots=True)
class Challenge:
    major: int
    minor: int
    request_id: int
    nonce: bytes
    digest: bytes
    message: bytes  # the challenged request: header, body, credential

    def pack(self) -> bytes:
        head = _HEAD.pack(self.major, self.minor, self.request_id, len(self.nonce), len(self.digest))
        return head + self.nonce + self.digest + self.message

    @classmethod
    def unpack(cls, raw: bytes) -> Challenge:
        major, minor, request_id, nonce_len, digest_len = _HEAD.unpack_from(raw)
        at = _HEAD.size
        nonce, digest = raw[at : at + nonce_len], raw[at + nonce_len : at + nonce_len + digest_len]
        return cls(major, minor, request_id, nonce, digest, raw[at + nonce_len + digest_len :])


class Challenges:
    def __init__(self, redis: Redis | None):
        self.redis = redis
        self._local: dict[int, tuple[float, bytes]] = {}

    @staticmethod
    def new_session_id() -> int:
        return secrets.randbelow(2**31 - 2) + 1

    async def open(self, session_id: int, challenge: Challenge) -> None:
        if self.redis is not None:
            await self.redis.set(_KEY % session_id, challenge.pack(), ex=TTL_SECONDS)
            return
        now = time.monotonic()
        if len(self._local) >= MAX_LOCAL:
            self._local = {k: v for k, v in self._local.items() if v[0] > now}
            while len(self._local) >= MAX_LOCAL:
                self._local.pop(next(iter(self._local)))
        self._local[session_id] = (now + TTL_SECONDS, challenge.pack())

    async def take(self, session_id: int) -> Challenge | None:
        if self.redis is not None:
            raw = await self.redis.getdel(_KEY % session_id)
            return Challenge.unpack(raw) if isinstance(raw, bytes) and raw else None
        entry = self._local.pop(session_id, None)
        if entry is None or entry[0] < time.monotonic():
            return None
        return Challenge.unpack(entry[1])
