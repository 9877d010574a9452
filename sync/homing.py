"""The top-level node as a directory: where a prefix lives (homing) and which key a node signs with, each cached by
TTL (negative answers briefly); while the top-level is down, what was known stays in use."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

NEGATIVE_TTL = 30.0
NODE_KEY_TTL = 300.0


class HomingLocator:
    def __init__(self, upstream_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        self.client = httpx.AsyncClient(base_url=upstream_url, timeout=5.0, transport=transport)
        self._cache: dict[str, tuple[Any, float]] = {}

    async def _cached(self, key: str, path: str, read: Callable[[dict], tuple[Any, float]]) -> Any:
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            response = await self.client.get(path)
        except httpx.HTTPError:
            return cached[0] if cached else None  # the top-level is down: keep using what we knew
        if response.status_code == 200:
            value, ttl = read(response.json())
            self._cache[key] = (value, time.monotonic() + ttl)
        else:
            self._cache[key] = (None, time.monotonic() + NEGATIVE_TTL)
        return self._cache[key][0]

    async def locate(self, prefix: str) -> str | None:
        return await self._cached(
            "home:" + prefix.lower(),
            f"/v1/homing/{prefix}",
            lambda answer: (answer["serviceUrl"], float(answer.get("ttl", 300))),
        )

    async def node_key(self, node_prefix: str) -> Ed25519PublicKey | None:
        def read(answer: dict) -> tuple[Ed25519PublicKey, float]:
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(answer["publicKey"])), NODE_KEY_TTL

        return await self._cached("key:" + node_prefix.lower(), f"/v1/nodes/{node_prefix}", read)

    async def aclose(self) -> None:
        await self.client.aclose()
