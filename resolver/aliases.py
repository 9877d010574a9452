"""Which handle an alias names: the alias index read on the primary, so a mapping a write has just returned is seen
by every worker at once (ADR 0002's guarantee, without a cache tier of its own; see ADR 0016)."""

from __future__ import annotations

from sqlalchemy import select

from foundation.db import Database
from foundation.gs1.keys import GS1Key
from registry.kernel.aliases import Alias
from registry.kernel.models import AliasEntry, HandleRecord


async def handle_for(db: Database, alias: Alias) -> str | None:
    """The handle (as its record spells it) that ``alias`` names, or None."""
    found = await _holders(db, alias.scheme, [alias.key])
    return found.get(alias.key)


async def handle_for_gs1(db: Database, key: GS1Key) -> tuple[str, GS1Key] | None:
    """The handle a GS1 key names, falling back to less specific keys (serial → lot → the bare GTIN) as GS1's
    resolver standard asks; with the key that matched. None when no level is mapped."""
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
