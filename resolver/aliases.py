"""Which handle an alias names.

The alias index is read on the primary, so a mapping a write has just returned is seen by every worker at once
(ADR 0002's guarantee). A GS1 scan whose key is mapped at the level asked for is remembered per worker (key →
handle) and then answered without the index: the record it names is read through the cache tiers, which carry the
guarantee, and the remembered mapping counts only while that record still holds the alias. A mapping that moved or
went shows there as soon as the record changes; a key never remembered (a miss, or a fallback to a less specific
key, which a new mapping of a more specific key could change) always asks the index (ADR 0016).
"""

from __future__ import annotations

from functools import lru_cache

import orjson
from sqlalchemy import select

from foundation.db import Database
from foundation.errors import DomainError
from foundation.gs1.keys import GS1Key
from registry.kernel.aliases import ALIAS_TYPE, Alias, parse_alias
from registry.kernel.models import AliasEntry, HandleRecord
from resolver.cache.entry import Entry
from resolver.service import Resolver


@lru_cache(maxsize=65536)
def _canonical_alias(text: str) -> str | None:
    try:
        return parse_alias(text).text
    except DomainError:
        return None


def holds(entry: Entry, alias_text: str) -> bool:
    """Whether a cached record (its public values) still holds the alias."""
    if not entry.found:
        return False
    for value in orjson.loads(entry.body):
        if value.get("type") == ALIAS_TYPE:
            data = value.get("data")
            text = data.get("value") if isinstance(data, dict) else data
            if isinstance(text, str) and _canonical_alias(text) == alias_text:
                return True
    return False


async def handle_for(db: Database, alias: Alias) -> str | None:
    """The handle (as its record spells it) that ``alias`` names, or None."""
    found = await _holders(db, alias.scheme, [alias.key])
    return found.get(alias.key)


async def resolve_gs1(db: Database, resolver: Resolver, key: GS1Key) -> tuple[str, GS1Key, Entry] | None:
    """The handle a GS1 key names, falling back to less specific keys (serial → lot → the bare GTIN) as GS1's
    resolver standard asks; with the key that matched and the record's cache entry. None when no level is mapped
    to a live record."""
    remembered = resolver.scans.get(key.canonical)
    if remembered is not None:
        entry = await resolver.lookup(resolver.parse(remembered))
        if holds(entry, f"gs1:{key.canonical}"):
            return remembered, key, entry
        resolver.scans.forget(key.canonical)
    levels = key.less_specific()
    found = await _holders(db, "gs1", [level.canonical for level in levels])
    for level in levels:
        if level.canonical in found:
            handle = found[level.canonical]
            entry = await resolver.lookup(resolver.parse(handle))
            if not entry.found:
                return None
            if level == key:
                resolver.scans.put(key.canonical, handle)
            return handle, level, entry
    return None


async def handle_for_gs1(db: Database, key: GS1Key) -> tuple[str, GS1Key] | None:
    """As ``resolve_gs1``, from the index alone (the alias look-up route)."""
    levels = key.less_specific()
    found = await _holders(db, "gs1", [level.canonical for level in levels])
    for level in levels:
        if level.canonical in found:
            return found[level.canonical], level
    return None


async def _holders(db: Database, scheme: str, keys: list[str]) -> dict[str, str]:
    query = (
        select(AliasEntry.value_key, HandleRecord.handle)
        .join(HandleRecord, HandleRecord.handle_key == AliasEntry.handle_key)
        .where(AliasEntry.scheme == scheme, AliasEntry.value_key.in_(keys), HandleRecord.deleted.is_(False))
    )
    async with db.primary_read_session() as session:
        return {row[0]: row[1] for row in await session.execute(query)}
