"""Listing the identifiers under a prefix: its administrators only (the LIST_HANDLES bit of the prefix's HS_ADMIN
values), for every face that lists."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from registry.handles.errors import ListForbidden, ListUnauthenticated
from registry.kernel import records as repository
from registry.kernel import syntax
from registry.kernel.actor import Actor
from registry.kernel.permissions import Perm, is_admin
from registry.kernel.values import Value


def require_identity(actor: Actor) -> None:
    """Listing is for authenticated identities; checked before anything else of the request is."""
    if not actor.authenticated:
        raise ListUnauthenticated()


async def require_lister(session: AsyncSession, actor: Actor, prefix: str) -> str:
    """The canonical prefix, when ``actor`` may list it; refused otherwise."""
    require_identity(actor)
    syntax.check_prefix(prefix)
    na = await repository.get(session, syntax.canonical(syntax.na_handle(prefix)))
    admins = [v for v in (na.record_values if na and not na.deleted else []) if v["type"] == "HS_ADMIN"]

    async def load(key: str) -> list[Value] | None:
        record = await repository.get(session, key)
        return None if record is None or record.deleted else record.record_values

    if not await is_admin(actor, admins, [Perm.LIST_HANDLES], load):
        raise ListForbidden(prefix)
    return syntax.canonical(prefix)


async def list_handles(
    session: AsyncSession, actor: Actor, prefix: str, *, offset: int, limit: int
) -> tuple[int, list[str]]:
    """(total, one page of handles) under ``prefix``; refused unless ``actor`` may list it."""
    prefix_key = await require_lister(session, actor, prefix)
    return await repository.list_by_prefix(session, prefix_key, offset=offset, limit=limit)
