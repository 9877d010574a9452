"""What the resolver needs from upward sync, without importing it: where does a foreign prefix live, and which key
does a node sign with? ``node.app`` wires the implementation (``sync.homing``) in when a top-level node is
configured. Also the signed node-to-node request both sides of a federated query use (ADR 0005)."""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict
from typing import Any, Protocol

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from foundation.crypto.signing import sign, verify
from foundation.errors import (
    BadNodeRequest,
    NodeBadSignature,
    NodeRequestReplayed,
    NodeRequestStale,
    NoNodeDirectory,
    UnknownNode,
)

log = logging.getLogger("secnode")
NODE_HEADER = "X-Secnode-Node"
MAX_SKEW_SECONDS = 300  # a signed request is accepted this long after (and before) it was issued


class PrefixLocator(Protocol):
    async def locate(self, prefix: str) -> str | None:
        """The service URL of the node serving ``prefix`` (longest registered match), or None."""
        ...

    async def node_key(self, node_prefix: str) -> Ed25519PublicKey | None:
        """The public key the top-level node holds for ``node_prefix``, or None when it knows no such node."""
        ...


def node_request(payload: dict[str, Any], node_prefix: str, key: Ed25519PrivateKey) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a request this node signs; the body carries who sent it, when, and a nonce."""
    body = orjson.dumps(
        {**payload, "fromNode": node_prefix, "issuedAt": int(time.time()), "nonce": secrets.token_urlsafe(16)}
    )
    return body, {**sign(body, key), NODE_HEADER: node_prefix, "Content-Type": "application/json"}


class NodeRequestVerifier:
    """Checks a signed node request: a node the top-level knows, its key, fresh, and not seen before — by this
    worker, and with Redis by any worker of the node (``SET NX`` of the nonce for as long as it could be replayed).
    Without Redis, or while it cannot be reached, each worker remembers alone."""

    def __init__(self, locator: PrefixLocator | None, *, redis: Any = None, remember: int = 100_000):
        self.locator = locator
        self.redis = redis
        self._seen: OrderedDict[str, float] = OrderedDict()  # nonce -> expiry, oldest first
        self._remember = remember

    async def verify(self, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        node_prefix = next((v for k, v in headers.items() if k.lower() == NODE_HEADER.lower()), "")
        if self.locator is None:
            raise NoNodeDirectory()
        key = await self.locator.node_key(node_prefix) if node_prefix else None
        if key is None:
            raise UnknownNode(node_prefix or "(none)")
        if not verify(body, headers, key):
            raise NodeBadSignature(node_prefix)
        try:
            payload = orjson.loads(body)
            issued, nonce, sender = int(payload["issuedAt"]), str(payload["nonce"]), payload["fromNode"]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise BadNodeRequest("a node request carries fromNode, issuedAt and nonce") from None
        now = time.time()
        if sender != node_prefix or abs(now - issued) > MAX_SKEW_SECONDS:
            raise NodeRequestStale()
        self._forget_expired(now)
        if nonce in self._seen or not await self._first_in_node(sender, nonce):
            raise NodeRequestReplayed()
        self._seen[nonce] = now + 2 * MAX_SKEW_SECONDS
        return payload

    async def _first_in_node(self, sender: str, nonce: str) -> bool:
        if self.redis is None:
            return True
        try:
            return bool(await self.redis.set(f"secnode:nonce:{sender}:{nonce}", 1, nx=True, ex=2 * MAX_SKEW_SECONDS))
        except Exception:  # noqa: BLE001 - Redis trouble of any kind: this worker's memory still holds
            log.warning("secnode.federation.nonce_unshared sender=%s", sender)
            return True

    def _forget_expired(self, now: float) -> None:
        while self._seen and (next(iter(self._seen.values())) < now or len(self._seen) > self._remember):
            self._seen.popitem(last=False)
