"""Ready answers: the framed answer to a public resolution, kept per worker beside the in-process cache entry it was
built from, and sent straight from the socket callback (no task, no decoding) while the in-process tier still holds
that very entry (``Resolver.still_current``, as the REST hot path asks). Invalidation, a lapsed lease or an expiry
replace or drop the entry there, and with it every answer built from it: the guarantee of ADR 0002 is the tier's,
unchanged. A prefix homed at an enterprise node since stops its ready answers too.

Two requests get the same answer when they differ only in what the answer copies (session and request ids) or
ignores (site serial, recursion count, expiration): the key is the rest of the datagram.
"""

from __future__ import annotations

from foundation.handle_protocol import ENVELOPE_SIZE, HEADER_SIZE
from foundation.metrics import NATIVE_READY
from resolver.cache.entry import Entry
from resolver.service import Resolver

CAPACITY = 50_000
FLUSH_EVERY = 64  # ready answers counted in the process before they reach the shared counter (a lock each time)
_IDS = slice(4, 12)  # session id and request id, copied from the request into the answer


def _key(data: bytes) -> bytes:
    # versions and envelope flags, message length, opcode, response code, op flags, body length, body, credential
    return data[0:4] + data[16 : ENVELOPE_SIZE + 12] + data[ENVELOPE_SIZE + 20 :]


class ReadyAnswers:
    def __init__(self, resolver: Resolver, capacity: int = CAPACITY):
        self.resolver = resolver
        self.capacity = capacity
        self._answers: dict[bytes, tuple[str, Entry, str, bytes, bytes]] = {}
        self.unflushed = 0

    def answer(self, data: bytes) -> bytes | None:
        """The ready answer to this request (one datagram, or one TCP message with its envelope), or None."""
        if len(data) < ENVELOPE_SIZE + HEADER_SIZE:
            return None
        key = _key(data)
        ready = self._answers.get(key)
        if ready is None:
            return None
        record_key, entry, prefix_key, head, tail = ready
        if not self.resolver.still_current(record_key, prefix_key, entry):
            del self._answers[key]  # the record changed, the tier stopped answering or the prefix moved
            return None
        self.unflushed += 1
        if self.unflushed >= FLUSH_EVERY:
            self.flush()
        return head + data[_IDS] + tail

    def flush(self) -> None:
        """Hand the ready answers counted so far to /metrics (at most FLUSH_EVERY - 1 wait for the next one)."""
        NATIVE_READY.inc(self.unflushed)
        self.unflushed = 0

    def keep(self, data: bytes, record_key: str, entry: Entry, prefix_key: str, answer: bytes) -> None:
        if len(self._answers) >= self.capacity:
            del self._answers[next(iter(self._answers))]  # the oldest
        self._answers[_key(data)] = (record_key, entry, prefix_key, answer[:4], answer[12:])
