"""Public resolution through the cache tiers: the hot path of the node."""

from __future__ import annotations

import orjson

from node.config import Settings
from node.errors import DomainError
from node.faces import HANDLE_CODES
from registry.handles.syntax import canonical, parse
from resolver.cache.coordinator import CacheCoordinator
from resolver.records import Query
from resolver.stats import ResolutionStats

_NOT_FOUND_CODE = 100


def _error(handle: str, exc: DomainError) -> tuple[int, bytes]:
    code, status = HANDLE_CODES.get(exc.kind, (2, 400))
    return status, orjson.dumps({"responseCode": code, "handle": handle, "message": exc.message, "error": exc.name})


class Resolver:
    def __init__(self, settings: Settings, cache: CacheCoordinator, stats: ResolutionStats):
        self.settings = settings
        self.cache = cache
        self.stats = stats

    async def resolve_public(self, handle: str, query: Query | None) -> tuple[int, bytes]:
        """(HTTP status, body) of ``GET /api/handles/{handle}`` for an anonymous client."""
        try:
            ident = parse(handle, mode=self.settings.identifier_mode, max_length=self.settings.identifier_max_length,
                          max_bytes_rfc=self.settings.identifier_max_bytes_rfc)
        except DomainError as exc:
            return _error(handle if len(handle) <= 256 else handle[:256] + "...", exc)
        entry = await self.cache.lookup(ident.key)
        self.stats.count(canonical(ident.prefix))
        echo = orjson.dumps(handle)
        if not entry.found:
            return 404, b'{"responseCode":%d,"handle":%s,"message":"handle not found"}' % (_NOT_FOUND_CODE, echo)
        if query is None:
            return 200, b'{"responseCode":1,"handle":' + echo + b',"values":' + entry.body + b"}"
        values = query.select(orjson.loads(entry.body))
        if not values:
            return 200, b'{"responseCode":200,"handle":%s,"values":[],"message":"no value matches the query"}' % echo
        return 200, b'{"responseCode":1,"handle":' + echo + b',"values":' + orjson.dumps(values) + b"}"
