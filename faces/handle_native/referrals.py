"""Where a prefix that this node does not serve itself is served, as a site to refer clients to (RFC 3652
RC_SERVICE_REFERRAL): another secondary node known through the top level's homing, whose site information this
node reads from it (``/.well-known/secnode/siteinfo``) and keeps for a while."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from registry.kernel.syntax import Identifier
from resolver.service import Resolver

SITE_PATH = "/.well-known/secnode/siteinfo"
KEEP_SECONDS = 300.0


class Referrals:
    def __init__(self, resolver: Resolver):
        self.resolver = resolver
        self._sites: dict[str, tuple[float, dict[str, Any] | None]] = {}

    async def home(self, ident: Identifier) -> tuple[str | None, dict[str, Any] | None]:
        """(the serving node's address, its site) for another node's identifier; (None, None) when unknown, and a
        site of None when that node did not tell its site."""
        home = await self.resolver.home_of(ident)
        if home is None:
            return None, None
        return home, await self._site_of(home)

    async def _site_of(self, home: str) -> dict[str, Any] | None:
        kept = self._sites.get(home)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        site: dict[str, Any] | None = None
        try:
            response = await self.resolver.fetch_remote(home.rstrip("/") + SITE_PATH, "")
            if response.status_code == 200:
                body = orjson.loads(response.content)
                site = body if isinstance(body, dict) and body.get("servers") else None
        except (httpx.HTTPError, orjson.JSONDecodeError):
            site = None
        self._sites[home] = (time.monotonic() + KEEP_SECONDS, site)
        return site
