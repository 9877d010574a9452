"""The alias index: one row per ``ALIAS`` value of every live record (``handle_aliases``), keyed by the alias's
scheme and canonical key, so that a key names one handle at a time and is looked up in one index probe.

``records.insert_new`` and ``records.update_many`` (every write of a record goes through them) keep the rows exact in
the writer's transaction, as they keep the value index. The write checks (``registry.handles.checks``) refuse a key
another handle holds before anything is written; the primary key refuses it when two writers race, and that refusal
is the same 409 (``value.alias_taken``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.errors import DomainError
from registry.kernel.aliases import aliases_of
from registry.kernel.errors import AliasTaken
from registry.kernel.models import AliasEntry
from registry.kernel.values import Value

_TABLE = AliasEntry.__table__


def entries(handle_key: str, prefix_key: str, values: Sequence[Value]) -> list[dict[str, Any]]:
    """The index rows of one live record (values were validated on write; one that no longer parses is left out
    rather than failing a record written before a rule changed)."""
    try:
        parsed = aliases_of(list(values))
    except DomainError:
        return []
    return [
        {"scheme": a.scheme, "value_key": a.key, "handle_key": handle_key, "value_index": i, "prefix_key": prefix_key}
        for i, a in parsed
    ]


async def write(session: AsyncSession, replaced: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Drop the rows of the records ``replaced`` and add ``rows``, in a savepoint of the session's transaction: a key
    another transaction took in the meantime is AliasTaken, and the transaction stays usable for the error."""
    if replaced:
        await session.execute(delete(_TABLE).where(_TABLE.c.handle_key.in_(list(replaced))))
    if not rows:
        return  # most writes: no savepoint, one indexed delete
    try:
        async with session.begin_nested():
            await session.execute(insert(_TABLE), rows)
    except IntegrityError:
        raise AliasTaken("an alias of this write was just mapped to another handle by a concurrent write") from None


async def holders(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(scheme, canonical key) -> the handle key that holds it, for the keys held."""
    if not keys:
        return {}
    query = select(_TABLE.c.scheme, _TABLE.c.value_key, _TABLE.c.handle_key).where(
        tuple_(_TABLE.c.scheme, _TABLE.c.value_key).in_(list(keys))
    )
    return {(scheme, key): handle for scheme, key, handle in (await session.execute(query)).all()}


async def handle_of(session: AsyncSession, scheme: str, key: str) -> str | None:
    """The handle key an alias names, or None."""
    query = select(_TABLE.c.handle_key).where(_TABLE.c.scheme == scheme, _TABLE.c.value_key == key)
    found: str | None = (await session.execute(query)).scalar_one_or_none()
    return found
