"""The Handle face's answer to an anonymous ``GET /api/handles/{handle}``, as bytes: built once here for the raw
hot path, the framework route and the proxy. Another node's identifier is fetched from its home node, or referred
to it with ``recurse=false``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import orjson

from faces.handle_rest.render import error_answer
from foundation.errors import DomainError, NodeUnreachable
from registry.handles.errors import PrefixNotServed
from registry.kernel.errors import IdentifierNotFound
from registry.kernel.syntax import Identifier
from resolver.cache.entry import Entry
from resolver.records import Query
from resolver.service import Resolver

Answer = tuple[int, bytes, dict[str, str]]  # HTTP status, body, extra headers


def _shown(handle: str) -> str:
    return handle if len(handle) <= 256 else handle[:256] + "..."


async def public_answer(resolver: Resolver, handle: str, query: Query | None, raw_query: str = "") -> Answer:
    """``raw_query`` is passed on to another node's home."""
    return (await resolved_answer(resolver, handle, query, raw_query))[0]


async def resolved_answer(
    resolver: Resolver, handle: str, query: Query | None, raw_query: str = ""
) -> tuple[Answer, Identifier | None, Entry | None]:
    """The answer, with the identifier and the cache entry it was built from when it is a record of this node."""
    try:
        ident = resolver.parse(handle)
        if not resolver.serves(ident):
            return await foreign_answer(resolver, handle, ident, raw_query), None, None
        homed = await resolver.enterprise_node(ident)
        if homed is not None:
            return referral_answer(handle, homed[1]), None, None
        entry = await resolver.lookup(ident)
        if not entry.found:
            raise IdentifierNotFound("handle not found")
    except DomainError as exc:  # rendered here because this answer is bytes for the raw hot path, not a Response
        return (*error_answer(exc, _shown(handle)), {}), None, None
    echo = orjson.dumps(handle)
    if query is None:
        return (200, b'{"responseCode":1,"handle":' + echo + b',"values":' + entry.body + b"}", {}), ident, entry
    values = query.select(orjson.loads(entry.body))
    if not values:
        body = b'{"responseCode":200,"handle":%s,"values":[],"message":"no value matches the query"}' % echo
        return (200, body, {}), ident, entry
    return (200, b'{"responseCode":1,"handle":' + echo + b',"values":' + orjson.dumps(values) + b"}", {}), ident, entry


def referral_answer(handle: str, site: dict[str, Any]) -> Answer:
    """An identifier of a prefix homed at an enterprise node: a service referral to its site, as Handle.Net's REST
    API answers one (HTTP 300, responseCode 302, the HS_SITE value)."""
    value = {"index": 1, "type": "HS_SITE", "data": {"format": "site", "value": site}, "ttl": 86400}
    body = {"responseCode": 302, "handle": handle, "message": "served by an enterprise node", "values": [value]}
    return 300, orjson.dumps(body), {}


async def foreign_answer(resolver: Resolver, handle: str, ident: Identifier, raw_query: str) -> Answer:
    home = await resolver.home_of(ident)
    prefix = ident.suffix if ident.prefix.lower() == "0.na" else ident.prefix
    if home is None:
        raise PrefixNotServed(f"no node is known to serve {prefix}")
    target = f"{home.rstrip('/')}/api/handles/{handle}"
    params = [(k, v) for k, v in parse_qsl(raw_query, keep_blank_values=True) if k != "recurse"]
    if any(k == "recurse" and v.lower() == "false" for k, v in parse_qsl(raw_query)):
        location = target + (f"?{urlencode(params)}" if params else "")
        return (
            307,
            orjson.dumps(
                {
                    "responseCode": 301,
                    "handle": handle,
                    "message": "served by another node",
                    "referral": {"url": location, "serviceUrl": home},
                }
            ),
            {"location": location},
        )
    try:
        response = await resolver.fetch_remote(target, urlencode(params))
    except httpx.HTTPError as exc:
        raise NodeUnreachable(f"the node serving {prefix} did not answer ({type(exc).__name__})") from None
    return response.status_code, response.content, {}
