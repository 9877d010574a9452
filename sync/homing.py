"""Prefix homing through the top-level node, cached by the TTL it answers (negative answers briefly)."""

from __future__ import annotations

import time

import httpx

NEGATIVE_TTL = 30.0


class HomingLocator:
    def __init__(self, upstream_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        self.client = httpx.AsyncClient(base_url=upstream_url, timeout=5.0, transport=transport)
        self._cache: dict[str, tuple[str | None, float]] = {}

    async def locate(self, prefix: str) -> str | None:
        key = prefix.lower()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            response = await self.client.get(f"/v1/homing/{prefix}")
        except httpx.HTTPError:
            return cached[0] if cached else None  # the top-level is down: keep using what we knew
        if response.status_code == 200:
            answer = response.json()
            self._cache[key] = (answer["serviceUrl"], time.monotonic() + float(answer.get("ttl", 300)))
        else:
            self._cache[key] = (None, time.monotonic() + NEGATIVE_TTL)
        return self._cache[key][0]

    async def aclose(self) -> None:
        await self.client.aclose()
