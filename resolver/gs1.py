"""GS1 Digital Link resolution: from a GS1 key to the handle it is mapped to (with the standard's fallback from
serial to lot to GTIN), and from the record's public values to its links.

The links of a key are the record's ``GS1_LINK`` values, then the node's own: the record page, the lifecycle and
trace views, and its EPCIS events (``gs1:epcis``, ``gs1:traceability`` unless the enterprise gave its own). The
default link is the enterprise's ``default`` one, else its first ``gs1:pip``, else the record's first ``URL`` value,
else the record page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from foundation.db import Database
from foundation.errors import DomainError
from foundation.gs1.keys import GS1Key
from foundation.gs1.links import GS1_VOCABULARY, LINK_TYPE, Link, parse_link
from resolver import aliases
from resolver.errors import AliasNotFound
from resolver.service import Resolver

NODE_VOCABULARY = "urn:secnode:linktype:"  # the node's own link types, written secnode:record etc.
NODE_LINK_TYPES = ("record", "lifecycle", "trace")
PIP = GS1_VOCABULARY + "pip"


@dataclass(frozen=True)
class Resolution:
    handle: str
    matched: GS1Key  # the key, or the less specific key that is mapped
    links: tuple[Link, ...]
    default: Link


def expand(link_type: str) -> str:
    """A requested ``linkType``: ``gs1:pip`` → the GS1 vocabulary URI, ``secnode:trace`` → the node's own."""
    if link_type.startswith("secnode:"):
        return NODE_VOCABULARY + link_type.removeprefix("secnode:")
    if link_type.startswith("gs1:"):
        return GS1_VOCABULARY + link_type.removeprefix("gs1:")
    return link_type


def _node_links(base: str, handle: str, have: set[str]) -> list[Link]:
    h = quote(handle, safe="/")
    own = [
        Link(NODE_VOCABULARY + "record", f"{base}/?handle={h}", title="Identifier record", media_type="text/html"),
        Link(NODE_VOCABULARY + "lifecycle", f"{base}/?handle={h}&view=lifecycle", title="Lifecycle"),
        Link(NODE_VOCABULARY + "trace", f"{base}/?handle={h}&view=trace", title="Trace"),
    ]
    if GS1_VOCABULARY + "epcis" not in have:
        own.append(Link(GS1_VOCABULARY + "epcis", f"{base}/epcis/events?MATCH_anyEPC={h}", title="EPCIS events"))
    if GS1_VOCABULARY + "traceability" not in have:
        own.append(Link(GS1_VOCABULARY + "traceability", f"{base}/?handle={h}&view=trace", title="Traceability"))
    return own


def links_of(values: list[dict[str, Any]], handle: str, base: str) -> tuple[list[Link], Link]:
    """The record's links and the node's, and the default one, from its public values."""
    links: list[Link] = []
    url: str | None = None
    for value in values:
        data = value.get("data")
        text = data.get("value") if isinstance(data, dict) else data
        if value.get("type") == LINK_TYPE:
            try:
                links.append(parse_link(text))
            except DomainError:
                continue  # written before a rule changed: left out, not an error of the scan
        elif value.get("type") == "URL" and url is None and isinstance(text, str):
            url = text
    node = _node_links(base, handle, {link.link_type for link in links})
    default = (
        next((link for link in links if link.default), None)
        or next((link for link in links if link.link_type == PIP), None)
        or (Link(GS1_VOCABULARY + "defaultLink", url) if url else None)
        or node[0]
    )
    return links + node, default


async def resolve_key(db: Database, resolver: Resolver, key: GS1Key, base: str) -> Resolution:
    """The handle a GS1 key names and its links; AliasNotFound when no level of the key is mapped (or the record
    is gone)."""
    found = await aliases.resolve_gs1(db, resolver, key)
    if found is None:
        raise AliasNotFound(key.canonical)
    handle, matched, entry = found
    links, default = links_of(orjson.loads(entry.body), handle, base)
    return Resolution(handle, matched, tuple(links), default)


def choose(links: tuple[Link, ...], link_type: str, languages: list[str], context: str | None) -> Link | None:
    """The link of ``link_type`` that fits best: the context asked for, then the first language of
    ``Accept-Language`` a link has (by primary tag too), then the first link of that type."""
    candidates = [link for link in links if link.link_type == link_type]
    if context is not None:
        candidates = [link for link in candidates if link.context == context] or candidates
    for language in languages:
        for link in candidates:
            tags = [t.lower() for t in link.hreflang]
            if language in tags or language.split("-")[0] in (t.split("-")[0] for t in tags):
                return link
    return candidates[0] if candidates else None
