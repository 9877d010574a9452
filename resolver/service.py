"""Resolution through the cache tiers (the hot path of the node), and where other nodes' identifiers live. The
faces build their answers from it."""

from __future__ import annotations

import httpx

from foundation.config import Settings
from foundation.federation import PrefixLocator
from registry.kernel.syntax import Identifier, canonical, is_under, parse
from resolver.cache.coordinator import CacheCoordinator
from resolver.cache.entry import Entry
from resolver.homed import HomedPrefixes, Site
from resolver.scans import RememberedScans
from resolver.stats import ResolutionStats
from resolver.trace.federation import RemoteTrace


class Resolver:
    def __init__(
        self,
        settings: Settings,
        cache: CacheCoordinator,
        stats: ResolutionStats,
        locator: PrefixLocator | None = None,
        homed: HomedPrefixes | None = None,
    ):
        self.settings = settings
        self.homed = homed
        self.cache = cache
        self.scans = RememberedScans()  # GS1 Digital Link scans (resolver.aliases)
        self.stats = stats
        self.locator = locator
        self.node_key = canonical(settings.node_prefix)
        self._http: httpx.AsyncClient | None = None
        self.remote_trace: RemoteTrace | None = None
        if locator is not None:
            self._http = httpx.AsyncClient(timeout=5.0)
            self.remote_trace = RemoteTrace(settings, locator, self._http)

    def serves(self, ident: Identifier) -> bool:
        prefix = canonical(ident.suffix) if canonical(ident.prefix) == "0.na" else canonical(ident.prefix)
        return is_under(prefix, self.node_key)

    async def enterprise_node(self, ident: Identifier) -> tuple[str, Site] | None:
        """(homed prefix, site) of the enterprise node serving one of this node's identifiers; None when this node
        answers for it itself."""
        if self.homed is None or canonical(ident.prefix) == "0.na":  # NA handles stay answered here
            return None
        return await self.homed.covering(ident.prefix_key)

    async def home_of(self, ident: Identifier) -> str | None:
        """The address of the node serving another node's identifier, asked of the top-level (None: unknown)."""
        prefix = ident.suffix if canonical(ident.prefix) == "0.na" else ident.prefix
        return await self.locator.locate(prefix) if self.locator is not None else None

    async def fetch_remote(self, url: str, params: str) -> httpx.Response:
        """GET another node's answer, ``params`` an encoded query string (raises ``httpx.HTTPError`` when it does not
        answer)."""
        assert self._http is not None, "only a node with an upstream knows other nodes"
        return await self._http.get(url, params=params)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def parse(self, handle: str) -> Identifier:
        return parse(
            handle,
            mode=self.settings.identifier_mode,
            max_length=self.settings.identifier_max_length,
            max_bytes_rfc=self.settings.identifier_max_bytes_rfc,
        )

    def still_current(self, key: str, prefix_key: str, entry: Entry) -> bool:
        """The in-process tier still answers ``entry`` for ``key`` (same object: no invalidation, no newer version,
        the lease fresh): then it is counted as a resolution, as ``lookup`` counts it. For answers built once from
        an entry and kept as bytes (both Handle faces' hot paths). An identifier whose prefix was homed at an
        enterprise node since is no longer answered from bytes: it is referred there."""
        if self.homed is not None and self.homed.covering_known(prefix_key) is not None:
            return False
        if self.cache.local_hit(key) is not entry:
            return False
        self.stats.count(prefix_key)
        return True

    async def lookup(self, ident: Identifier) -> Entry:
        """The cached view of one of this node's identifiers (both tiers, then the database); counted for the
        statistics."""
        entry = await self.cache.lookup(ident.key)
        self.stats.count(canonical(ident.prefix))
        return entry
