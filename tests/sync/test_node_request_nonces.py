"""A signed node request is accepted once per node, not once per worker: the workers share nonces through Redis.

The key directory here is a fixed key, not the top-level node: the real directory is exercised end to end by
test_federated_trace; the subject here is what two workers remember together.
"""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from redis.asyncio import Redis

from foundation.errors import Unauthenticated
from foundation.federation import NodeRequestVerifier, node_request
from tests.conftest import REDIS_URL


class FixedDirectory:
    def __init__(self, node_prefix: str, key: Ed25519PrivateKey):
        self.node_prefix, self.public_key = node_prefix, key.public_key()

    async def locate(self, prefix: str) -> str | None:
        return None

    async def node_key(self, node_prefix: str):
        return self.public_key if node_prefix == self.node_prefix else None


async def test_a_request_replayed_to_another_worker_is_refused():
    key = Ed25519PrivateKey.generate()
    sender = f"88.{uuid.uuid4().int % 10**6}"  # a sender of its own: no nonce of another run can collide
    redis = Redis.from_url(REDIS_URL)
    try:
        first_worker = NodeRequestVerifier(FixedDirectory(sender, key), redis=redis)
        second_worker = NodeRequestVerifier(FixedDirectory(sender, key), redis=redis)
        lonely_worker = NodeRequestVerifier(FixedDirectory(sender, key))  # no Redis: remembers alone
        body, headers = node_request({"direction": "up", "handles": []}, sender, key)
        assert (await first_worker.verify(body, headers))["fromNode"] == sender
        with pytest.raises(Unauthenticated) as replayed:
            await second_worker.verify(body, headers)
        assert replayed.value.name == "federation.replayed"
        assert (await lonely_worker.verify(body, headers))["fromNode"] == sender
        fresh_body, fresh_headers = node_request({"direction": "up", "handles": []}, sender, key)
        assert (await second_worker.verify(fresh_body, fresh_headers))["fromNode"] == sender
    finally:
        await redis.aclose()
