"""``GET /{primary key AI}/{key}[/{qualifier AI}/{value}…]``: a GS1 Digital Link resolved as GS1's resolver standard
says. ``307`` to the default link, or to the link of ``linkType`` (the best for ``Accept-Language`` and
``context``); ``linkType=linkset`` (or ``all``), or ``Accept: application/linkset+json``, answers the RFC 9264
linkset. Every answer carries the links in its ``Link`` header. The query string, less ``linkType``, goes on to
the target. ``GET /.well-known/gs1resolver`` describes the resolver."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.dependencies import NodeDatabase, NodeResolver, NodeSettings
from faces.gs1_resolver.render import GS1_RESOLVER, PRIMARY_KEYS
from foundation.db import Database
from foundation.gs1.digital_link import (
    DigitalLink,
    digital_link_uri,
    is_compressed_segment,
    parse_compressed,
    parse_digital_link,
)
from foundation.gs1.errors import BadDigitalLink, GS1Invalid
from foundation.gs1.links import GS1_LINK_TYPES, GS1_VOCABULARY, Link
from foundation.http.responses import JSONBody
from resolver import gs1
from resolver.service import Resolver

router = APIRouter(tags=["GS1 Digital Link resolver"], route_class=GS1_RESOLVER.route_class)

LINKSET_JSON = "application/linkset+json"
MAX_QUERY_CHARS = 2048  # data attributes and an application's parameters; a longer query is refused, not cut
MAX_LINK_HEADER_LINKS = 64


def _languages(header: str) -> list[str]:
    """Accept-Language tags, most wanted first (RFC 9110 §12.5.4)."""
    weighted = []
    for n, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, n, tag.lower()))
    return [tag for _, _, tag in sorted(weighted)]


def _header_link(href: str, rel: str, link: Link | None = None, media_type: str | None = None) -> str:
    parts = [f'<{href}>; rel="{rel}"']
    if link is not None:
        if link.hreflang:
            parts.append(f'hreflang="{link.hreflang[0]}"')
        if link.title:
            parts.append("title*=UTF-8''" + quote(link.title, safe=""))  # RFC 8187: any language, any script
        media_type = media_type or link.media_type
    if media_type:
        parts.append(f'type="{media_type}"')
    return "; ".join(parts)


def _link_header(anchor: str, resolution: gs1.Resolution) -> str:
    items = [_header_link(f"{anchor}?linkType=linkset", "linkset", media_type=LINKSET_JSON)]
    items.append(_header_link(resolution.default.href, GS1_VOCABULARY + "defaultLink", resolution.default))
    items += [_header_link(link.href, link.link_type, link) for link in resolution.links[:MAX_LINK_HEADER_LINKS]]
    return ", ".join(items)


def linkset(anchor: str, resolution: gs1.Resolution) -> dict[str, Any]:
    """RFC 9264 §4.2: one context object, the anchor and one member per relation type."""
    context: dict[str, Any] = {"anchor": anchor}
    context[GS1_VOCABULARY + "defaultLink"] = [resolution.default.target()]
    for link in resolution.links:
        context.setdefault(link.link_type, []).append(link.target())
    return {"linkset": [context]}


def _passed_on(query: str) -> str:
    """The query string without ``linkType``, as it came (data attributes, an application's parameters)."""
    return "&".join(p for p in query.split("&") if p and not p.startswith("linkType=") and p != "linkType")


def _target(href: str, query: str) -> str:
    if not query:
        return href
    return f"{href}{'&' if '?' in href else '?'}{query}"


async def resolve(request: Request, key: str, db: NodeDatabase, resolver: NodeResolver) -> Response:
    """``key``: the rest of the path after the primary key's AI (read from the raw path, undecoded)."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("latin-1").partition("?")[0]
    query = _query_string(request)
    link = parse_digital_link(f"https://resolver.invalid{path}" + (f"?{query}" if query else ""))
    return await answer(request, link, db, resolver)


def _query_string(request: Request) -> str:
    query: str = request.scope.get("query_string", b"").decode("latin-1")
    if len(query) > MAX_QUERY_CHARS:
        raise BadDigitalLink(f"the query string is longer than {MAX_QUERY_CHARS} characters")
    return query


def compressed_link(request: Request, segment: str) -> DigitalLink | None:
    """The compressed Digital Link a single path segment packs, or None when it packs none (the Handle proxy,
    which owns single segments, then answers as before)."""
    if not is_compressed_segment(segment):
        return None
    query = _query_string(request)
    try:
        return parse_compressed(f"https://resolver.invalid/{segment}" + (f"?{query}" if query else ""))
    except GS1Invalid:
        return None


async def answer(request: Request, link: DigitalLink, db: Database, resolver: Resolver) -> Response:
    """The resolver's answer to a parsed Digital Link: a redirect, or the linkset."""
    query = _query_string(request)
    base = str(request.base_url).rstrip("/")
    anchor = digital_link_uri(link.key, base)
    resolution = await gs1.resolve_key(db, resolver, link.key, base)
    headers = {"Link": _link_header(anchor, resolution), "Vary": "Accept, Accept-Language"}
    link_type = link.parameter("linkType")
    accept = request.headers.get("accept", "")
    if link_type in ("linkset", "all") or (link_type is None and LINKSET_JSON in accept):
        return JSONBody(linkset(anchor, resolution), media_type=LINKSET_JSON, headers=headers)
    chosen = resolution.default
    if link_type is not None:
        languages = _languages(request.headers.get("accept-language", ""))
        context = link.parameter("context")
        chosen = gs1.choose(resolution.links, gs1.expand(link_type), languages, context) or resolution.default
    return Response(status_code=307, headers={**headers, "Location": _target(chosen.href, _passed_on(query))})


for _ai in PRIMARY_KEYS:
    router.add_api_route(f"/{_ai}/{{key:path}}", resolve, methods=["HEAD"], include_in_schema=False)
    router.add_api_route(
        f"/{_ai}/{{key:path}}",
        resolve,
        methods=["GET"],
        summary=f"Resolve a GS1 Digital Link of the key ({_ai})",
        include_in_schema=_ai in ("01", "00"),
        name=f"gs1_resolve_{_ai}",
        response_class=Response,
        responses={
            200: {
                "description": "the RFC 9264 linkset (linkType=linkset or Accept: application/linkset+json)",
                "content": {LINKSET_JSON: {"schema": {"type": "object", "required": ["linkset"]}}},
            },
            307: {"description": "to the default link, or to the link of linkType"},
        },
    )


@router.get("/.well-known/gs1resolver", summary="What this GS1 resolver supports (GS1-Conformant Resolver standard)")
async def description(request: Request, settings: NodeSettings) -> Response:
    base = str(request.base_url).rstrip("/")
    return JSONBody(
        {
            "name": f"secnode {settings.node_prefix} GS1 Digital Link resolver",
            "resolverRoot": base,
            "supportedPrimaryKeys": list(PRIMARY_KEYS),
            "linkTypeDefaultCanBeLinkset": False,
            "supportedLinkType": [
                {"namespace": GS1_VOCABULARY, "prefix": "gs1:", "profile": "https://gs1.org/voc/?show=linktypes"},
                {"namespace": gs1.NODE_VOCABULARY, "prefix": "secnode:"},
            ],
            "linkTypes": sorted(f"gs1:{t}" for t in GS1_LINK_TYPES) + [f"secnode:{t}" for t in gs1.NODE_LINK_TYPES],
            "compression": True,
            "contact": f"{base}/",
        }
    )
