"""Public resolution through the cache tiers: the hot path of the node."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import httpx
import orjson

from foundation.config import Settings
from foundation.errors import DomainError
from foundation.federation import PrefixLocator
from foundation.http.faces import HANDLE_CODES
from registry.kernel.syntax import Identifier, canonical, is_under, parse
from resolver.cache.coordinator import CacheCoordinator
from resolver.records import Query
from resolver.stats import ResolutionStats
from resolver.trace.federation import RemoteTrace

_NOT_FOUND_CODE = 100


def _error(handle: str, exc: DomainError) -> tuple[int, bytes]:
    code, status = HANDLE_CODES.get(exc.kind, (2, 400))
    return status, orjson.dumps({"responseCode": code, "handle": handle, "message": exc.message, "error": exc.name})


class Resolver:
    def __init__(self, settings: Settings, cache: CacheCoordinator, stats: ResolutionStats,
                 locator: PrefixLocator | None = None):
        self.settings = settings
        self.cache = cache
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

    async def resolve_foreign(self, handle: str, ident: Identifier,
                              raw_query: str) -> tuple[int, bytes, dict[str, str]]:
        """Another node's identifier: ask the top-level where its prefix lives, then fetch it there (or, with
        ``recurse=false``, answer a referral the client can follow)."""
        prefix = ident.suffix if canonical(ident.prefix) == "0.na" else ident.prefix
        home = await self.locator.locate(prefix) if self.locator is not None else None
        if home is None or self._http is None:  # the client is there whenever the locator is
            return 400, orjson.dumps({"responseCode": 301, "handle": handle, "error": "handle.not_responsible",
                                      "message": f"no node is known to serve {prefix}"}), {}
        target = f"{home.rstrip('/')}/api/handles/{handle}"
        params = [(k, v) for k, v in parse_qsl(raw_query, keep_blank_values=True) if k != "recurse"]
        if any(k == "recurse" and v.lower() == "false" for k, v in parse_qsl(raw_query)):
            location = target + (f"?{urlencode(params)}" if params else "")
            return 307, orjson.dumps({"responseCode": 301, "handle": handle, "message": "served by another node",
                                      "referral": {"url": location, "serviceUrl": home}}), {"location": location}
        try:
            response = await self._http.get(target, params=tuple(params))
        except httpx.HTTPError as exc:
            return 503, orjson.dumps({
                "responseCode": 2, "handle": handle, "error": "federation.unreachable",
                "message": f"the node serving {prefix} did not answer ({type(exc).__name__})"}), {}
        return response.status_code, response.content, {}

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def resolve_public(self, handle: str, query: Query | None,
                             raw_query: str = "") -> tuple[int, bytes, dict[str, str]]:
        """(HTTP status, body, extra headers) of ``GET /api/handles/{handle}`` for an anonymous client; another
        node's identifier is fetched from its home node (``raw_query`` is passed on)."""
        try:
            ident = parse(handle, mode=self.settings.identifier_mode, max_length=self.settings.identifier_max_length,
                          max_bytes_rfc=self.settings.identifier_max_bytes_rfc)
        except DomainError as exc:
            return (*_error(handle if len(handle) <= 256 else handle[:256] + "...", exc), {})
        if not self.serves(ident):
            return await self.resolve_foreign(handle, ident, raw_query)
        entry = await self.cache.lookup(ident.key)
        self.stats.count(canonical(ident.prefix))
        echo = orjson.dumps(handle)
        if not entry.found:
            return 404, b'{"responseCode":%d,"handle":%s,"message":"handle not found"}' % (_NOT_FOUND_CODE, echo), {}
        if query is None:
            return 200, b'{"responseCode":1,"handle":' + echo + b',"values":' + entry.body + b"}", {}
        values = query.select(orjson.loads(entry.body))
        if not values:
            return (200, b'{"responseCode":200,"handle":%s,"values":[],"message":"no value matches the query"}'
                    % echo, {})
        return 200, b'{"responseCode":1,"handle":' + echo + b',"values":' + orjson.dumps(values) + b"}", {}
